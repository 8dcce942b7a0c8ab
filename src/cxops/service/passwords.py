"""Password hashing with argon2id (``argon2-cffi``) and the rules a new password must meet.

Hashes are PHC strings (``$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>``) with the parameters
inside, so a hash made with older parameters still verifies; :func:`needs_rehash` tells the login
to store a new hash with the current ones (OWASP Password Storage Cheat Sheet; RFC 9106 §4, the
"second recommended option": argon2id, 64 MiB, 3 passes, 4 lanes — argon2-cffi's default).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cxops.errors import InputError

#: The hasher used for new passwords (argon2-cffi's defaults: RFC 9106 low-memory profile).
DEFAULT_HASHER = PasswordHasher()
#: Shortest password accepted (NIST SP 800-63B asks for at least 8; cxops asks for 12).
MIN_LENGTH = 12
MAX_LENGTH = 1024


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The argon2id hash (PHC string) of ``password`` with a fresh random salt."""
    return hasher.hash(password)


def verify_password(password_hash: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Whether ``password`` matches ``password_hash`` (any argon2 parameters); ``False`` for a
    malformed hash, never an exception."""
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Whether the hash was made with other parameters than ``hasher``'s (rehash at the next login)."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password(password: str, login: str) -> None:
    """Refuse a password that is too short, too long, or the login itself.

    Raises
    ------
    InputError
        With the rule that is not met (the password is never repeated in the message).
    """
    if len(password) < MIN_LENGTH:
        raise InputError(f"the password is too short: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InputError(f"the password is too long: at most {MAX_LENGTH} characters")
    if password.strip().lower() == login.strip().lower():
        raise InputError("the password must not be the login")


#: A hash of a random password, verified against when the login name is unknown, so an unknown
#: name takes as long to refuse as a wrong password (no user enumeration by timing).
_DUMMY: dict[str, str] = {}


def dummy_verify(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Spend the time of one verification (for unknown logins)."""
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _DUMMY:
        import secrets

        _DUMMY[key] = hasher.hash(secrets.token_urlsafe(16))
    verify_password(_DUMMY[key], password, hasher)
