"""Web users and API tokens: add, remove, reset, list; create, revoke, list (``cxops users|tokens``).

Every change is written to the event log with the actor (kinds ``user_added``, ``user_removed``,
``password_reset``, ``token_created``, ``token_revoked``). A ``seller`` user or token needs at least
one seller binding (``SELLER`` or ``SELLER:MARKETPLACE``, see :func:`parse_grant`); operators have
none (they see every seller).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.report.i18n import SUPPORTED_LANGS, normalize_lang
from cxops.service import passwords
from cxops.service.auth import ROLES, SELLER, TOKEN_PREFIX, AuthPolicy, audit, digest, normalise_login
from cxops.store import users as repo
from cxops.store.db import Store
from cxops.store.models import ALL_MARKETPLACES
from cxops.store.types import utcnow


@dataclass(frozen=True)
class UserInfo:
    """A user as listed (never the hash). ``locked_until`` is set while failed logins lock it."""

    id: int
    login: str
    name: str | None
    role: str
    language: str | None
    grants: tuple[tuple[str, str], ...]
    created_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (never the token or its hash)."""

    id: int
    prefix: str
    name: str
    role: str
    grants: tuple[tuple[str, str], ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


def parse_grant(text: str) -> tuple[str, str]:
    """``SELLER`` (every marketplace) or ``SELLER:MARKETPLACE`` → ``(seller_id, marketplace_id or '*')``.

    Raises
    ------
    InputError
        An empty seller or marketplace.
    """
    seller, sep, market = (text or "").strip().rpartition(":")
    if not sep:
        seller, market = market, ALL_MARKETPLACES
    seller, market = seller.strip(), market.strip()
    if not seller or not market:
        raise InputError(
            f"{text!r} is not a seller binding: give SELLER or SELLER:MARKETPLACE (e.g. S123:US)"
        )
    return seller, market


def _check_role(role: str, grants: list[tuple[str, str]]) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == SELLER and not grants:
        raise InputError("a seller user or token needs at least one --seller SELLER[:MARKETPLACE]")
    if role != SELLER and grants:
        raise InputError(f"--seller applies to the seller role; {role} sees every seller")


def _check_login(login: str) -> str:
    name = normalise_login(login)
    if not name or len(name) > 200 or any(c.isspace() for c in name) or name.startswith("token:"):
        raise InputError(f"{login!r} is not a login: one word, at most 200 characters")
    return name


def _info(user, grants, locked_until=None) -> UserInfo:
    return UserInfo(
        user.id,
        user.login,
        user.name,
        user.role,
        user.language,
        tuple(grants),
        user.created_at,
        user.password_changed_at,
        user.last_login_at,
        locked_until,
    )


def add_user(
    store: Store,
    login: str,
    password: str,
    *,
    role: str,
    actor: str,
    sellers: list[tuple[str, str]] | tuple = (),
    name: str | None = None,
    language: str | None = None,
    policy: AuthPolicy | None = None,
) -> UserInfo:
    """Add a user with an argon2id-hashed password.

    Raises
    ------
    InputError
        A bad login, role, binding, language or password (:func:`cxops.service.passwords.check_password`).
    ConflictError
        The login is taken.
    """
    policy = policy or AuthPolicy()
    name_ = _check_login(login)
    grants = sorted(set(sellers))
    _check_role(role, grants)
    if language is not None:
        try:
            language = normalize_lang(language)
        except ValueError:
            raise InputError(f"unknown language {language!r}; known: {', '.join(SUPPORTED_LANGS)}") from None
    passwords.check_password(password, name_)
    hashed = passwords.hash_password(password, policy.hasher)
    with store.unit_of_work() as session:
        user = repo.add_user(
            session,
            name_,
            role=role,
            password_hash=hashed,
            name=name,
            language=language,
            sellers=grants,
            at=utcnow(),
        )
        audit(
            session,
            "user_added",
            actor,
            user=name_,
            role=role,
            sellers=[f"{s}:{m}" for s, m in grants] or None,
        )
        return _info(user, grants)


def remove_user(store: Store, login: str, *, actor: str) -> None:
    """Remove a user (its sessions end at once). Raises :class:`NotFoundError` for an unknown login."""
    with store.unit_of_work() as session:
        user = repo.require_user(session, normalise_login(login))
        repo.remove_user(session, user)
        audit(session, "user_removed", actor, user=user.login)


def reset_password(
    store: Store, login: str, password: str, *, actor: str, policy: AuthPolicy | None = None
) -> UserInfo:
    """Set a new password, end the user's sessions and clear a lockout.

    Raises
    ------
    NotFoundError
        Unknown login.
    InputError
        The password breaks a rule.
    """
    policy = policy or AuthPolicy()
    name_ = normalise_login(login)
    passwords.check_password(password, name_)
    hashed = passwords.hash_password(password, policy.hasher)
    with store.unit_of_work() as session:
        user = repo.require_user(session, name_)
        now = utcnow()
        repo.set_password_hash(session, user, hashed, at=now)
        ended = repo.revoke_sessions(session, now, user_id=user.id)
        repo.add_attempt(session, user.login, "admin", now, "reset")
        audit(session, "password_reset", actor, user=user.login, sessions_ended=ended)
        return _info(user, repo.user_grants(session, user.id))


def list_users(store: Store, *, policy: AuthPolicy | None = None) -> list[UserInfo]:
    """Every user by login, with ``locked_until`` for those locked now."""
    policy = policy or AuthPolicy()
    now = utcnow()
    with store.unit_of_work(write=False) as session:
        out = []
        for user, grants in repo.list_users(session):
            until = repo.lock_of(session, user.login, repo.last_clear(session, user.login))
            out.append(_info(user, grants, until if until is not None and until > now else None))
        return out


def _token_info(t, grants) -> TokenInfo:
    return TokenInfo(
        t.id,
        t.prefix,
        t.name,
        t.role,
        tuple(grants),
        t.created_by,
        t.created_at,
        t.expires_at,
        t.last_used_at,
        t.revoked_at,
    )


def create_token(
    store: Store,
    name: str,
    *,
    role: str,
    actor: str,
    sellers: list[tuple[str, str]] | tuple = (),
    expires_days: int | None = None,
) -> tuple[TokenInfo, str]:
    """Create an API token; returns its description and the token itself (shown once, never stored).

    Raises
    ------
    InputError
        An empty name, a bad role or binding, a non-positive lifetime.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InputError("give the token a name (what uses it), at most 200 characters")
    grants = sorted(set(sellers))
    _check_role(role, grants)
    if expires_days is not None and expires_days < 1:
        raise InputError(f"--expires-days must be at least 1, not {expires_days}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=expires_days) if expires_days else None
    with store.unit_of_work() as session:
        t = repo.add_token(
            session,
            token_hash=digest(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            name=name,
            role=role,
            sellers=grants,
            created_by=actor,
            at=now,
            expires_at=expires,
        )
        audit(session, "token_created", actor, token_id=t.id, token=name, role=role)
        return _token_info(t, grants), secret


def revoke_token(store: Store, ref: str, *, actor: str) -> TokenInfo:
    """Revoke a token given its id or the start of its prefix (it stops working at once).

    Raises
    ------
    NotFoundError
        No token matches.
    ConflictError
        Several tokens match the prefix, or the token is revoked already.
    """
    with store.unit_of_work() as session:
        found = repo.find_tokens(session, (ref or "").strip())
        if not found:
            raise NotFoundError(f"no API token {ref!r}", hint="see: cxops tokens list")
        if len(found) > 1:
            raise ConflictError(
                f"{len(found)} tokens start with {ref!r}", hint="give the token's id (cxops tokens list)"
            )
        t = found[0]
        if t.revoked_at is not None:
            raise ConflictError(
                f"token {t.id} ({t.name}) was revoked already on {t.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        t.revoked_at, t.revoked_by = utcnow(), actor
        session.flush()
        audit(session, "token_revoked", actor, token_id=t.id, token=t.name)
        return _token_info(t, repo.token_grants(session, t.id))


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token (revoked and expired ones too), by id."""
    with store.unit_of_work(write=False) as session:
        return [_token_info(t, g) for t, g in repo.list_tokens(session)]
