"""Who is asking: logins with lockout, server-side sessions, API tokens, and what a principal may see.

Roles (:data:`ROLES`): ``operator-admin`` does everything, ``operator-viewer`` reads everything,
``seller`` reads the sellers it is bound to (``(seller_id, marketplace_id)``, or ``'*'`` for every
marketplace of the seller). A :class:`Principal` is a logged-in user (a session) or an API token.

Lockout (:class:`AuthPolicy`): a login name with ``max_failures`` failed attempts within ``window``
is locked for ``lockout``; attempts while locked are refused without looking at the password and
do not extend the lock; a successful login or a password reset clears the count. The name need not
exist: an unknown name locks like a real one, and is refused with the same message and after the
same argon2 work, so neither the message nor the timing tells whether a user exists. An address
with ``ip_max_failures`` failed or refused attempts within ``window`` is refused until the oldest
of them leaves the window. Every login, failure, lockout and logout is written to the event log
(kinds in :data:`AUTH_EVENT_KINDS`).

Sessions: the browser holds a random token (256 bits); the store holds its SHA-256, the user, a
CSRF synchroniser token, and the times; a session ends after ``session_idle`` without use, at
``session_max`` after login, at logout, or when the password is reset or the user removed.
API tokens are ``cxops_<43 characters>``; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from cxops.errors import AuthenticationError, RateLimitedError
from cxops.service import passwords
from cxops.store import events as event_log
from cxops.store import users as repo
from cxops.store.db import Store
from cxops.store.models import ALL_MARKETPLACES, ROLES
from cxops.store.types import utcnow

ADMIN, VIEWER, SELLER = ROLES
OPERATORS = frozenset({ADMIN, VIEWER})
TOKEN_PREFIX = "cxops_"
#: Event kinds of the authentication audit trail.
AUTH_EVENT_KINDS = (
    "login",
    "login_failed",
    "login_locked",
    "login_refused",
    "logout",
    "user_added",
    "user_removed",
    "password_reset",
    "token_created",
    "token_revoked",
)
#: How often (at most) the last use of a session or token is written.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class AuthPolicy:
    """Limits of logins and sessions (defaults: OWASP Authentication Cheat Sheet ranges)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    ip_max_failures: int = 20
    session_idle: timedelta = timedelta(hours=2)
    session_max: timedelta = timedelta(hours=12)
    hasher: PasswordHasher = field(default=passwords.DEFAULT_HASHER)


@dataclass(frozen=True)
class Principal:
    """Who makes a request.

    Attributes
    ----------
    kind : {"session", "token"}
    id : int
        The user's id (session) or the token's id.
    login : str
        The user's login, or ``token:<name>`` for a token (the actor in the event log).
    role : str
        One of :data:`ROLES`.
    grants : frozenset of (seller_id, marketplace_id)
        Sellers a ``seller`` principal may see (``'*'``: every marketplace); empty for operators.
    name, language : str or None
        Display name and preferred language of a user.
    session_id, csrf_token : str or None
        The session (hashed id) and its CSRF token, for a session.
    """

    kind: str
    id: int
    login: str
    role: str
    grants: frozenset[tuple[str, str]] = frozenset()
    name: str | None = None
    language: str | None = None
    session_id: str | None = None
    csrf_token: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATORS

    @property
    def can_act(self) -> bool:
        """Whether the principal may change program state (operator actions, notes)."""
        return self.role == ADMIN

    @property
    def actor(self) -> str:
        return self.login

    def sees(self, seller_id: str, marketplace_id: str | None = None) -> bool:
        """Whether the principal may see the seller (on ``marketplace_id``, or on some marketplace)."""
        if self.is_operator:
            return True
        for s, m in self.grants:
            if s == seller_id and (marketplace_id is None or m in (ALL_MARKETPLACES, marketplace_id)):
                return True
        return False

    @property
    def seller_ids(self) -> list[str]:
        """The sellers a seller principal is bound to, sorted."""
        return sorted({s for s, _ in self.grants})


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the cookie token (give it to the browser, never store it) and the principal."""

    token: str
    principal: Principal
    expires_at: datetime
    rehashed: bool


def digest(token: str) -> str:
    """SHA-256 (hex) of a session or API token: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_login(login: str) -> str:
    """Logins compare case-insensitively and without surrounding blanks."""
    return (login or "").strip().lower()


def audit(session: Session, kind: str, actor: str, *, reason: str | None = None, **details) -> None:
    """Append an authentication event to the event log."""
    event_log.record_event(
        session,
        kind=kind,
        idempotency_key=f"{kind}:{uuid.uuid4().hex}",
        actor=actor,
        reason=reason,
        details={k: v for k, v in details.items() if v is not None} or None,
    )


def _locked_until(session: Session, name: str, now: datetime) -> datetime | None:
    clear = repo.last_clear(session, name)
    until = repo.lock_of(session, name, clear)
    return until if until is not None and until > now else None


def _retry(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


def login(
    store: Store,
    login_name: str,
    password: str,
    *,
    ip: str,
    user_agent: str | None = None,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> LoginResult:
    """Check a login and password and open a session.

    Parameters
    ----------
    ip : str
        The client's address (for the per-address limit and the log).
    now : datetime, optional
        The current instant (UTC-aware); tests pass a clock.

    Returns
    -------
    LoginResult

    Raises
    ------
    AuthenticationError
        Wrong login or password (one message for both).
    RateLimitedError
        The login name is locked, or the address is over its limit (``retry_after`` seconds).
    """
    policy = policy or AuthPolicy()
    now = now or utcnow()
    name = normalise_login(login_name)[:200]
    ip = (ip or "unknown")[:64]
    refused: RateLimitedError | None = None
    with store.unit_of_work() as session:
        repo.prune_attempts(session, now - timedelta(days=1))
        ip_failures = repo.failures(session, now - policy.window, ip=ip, refused=True)
        locked = _locked_until(session, name, now)
        if len(ip_failures) >= policy.ip_max_failures:
            until = ip_failures[-policy.ip_max_failures] + policy.window
            refused = RateLimitedError(
                "too many failed logins from this address; try again later", retry_after=_retry(until, now)
            )
        elif locked is not None:
            refused = RateLimitedError(
                "too many failed logins for this name; try again later", retry_after=_retry(locked, now)
            )
        if refused is not None:
            repo.add_attempt(session, name, ip, now, "refused")
            audit(session, "login_refused", name, reason=str(refused), ip=ip)
    if refused is not None:
        raise refused

    with store.unit_of_work() as session:
        user = repo.get_user(session, name)
        if user is None:
            passwords.dummy_verify(password, policy.hasher)
            ok = False
        else:
            ok = passwords.verify_password(user.password_hash, password, policy.hasher)
        if not ok:
            clear = repo.last_clear(session, name)
            old_lock = repo.lock_of(session, name, clear)
            since = max(t for t in (now - policy.window, clear, old_lock) if t is not None)
            count = len(repo.failures(session, since, login=name)) + 1
            lock = now + policy.lockout if count >= policy.max_failures else None
            repo.add_attempt(session, name, ip, now, "failed", locked_until=lock)
            audit(session, "login_failed", name, ip=ip, failures=count)
            if lock is not None:
                audit(
                    session,
                    "login_locked",
                    name,
                    reason=f"{count} failed logins",
                    ip=ip,
                    until=lock.isoformat(),
                )
    if not ok:
        raise AuthenticationError("wrong login or password")

    with store.unit_of_work() as session:
        user = repo.get_user(session, name)
        rehashed = passwords.needs_rehash(user.password_hash, policy.hasher)
        if rehashed:
            repo.set_password_hash(session, user, passwords.hash_password(password, policy.hasher), at=None)
        repo.add_attempt(session, name, ip, now, "ok")
        repo.prune_sessions(session, now - timedelta(days=1))
        token = secrets.token_urlsafe(32)
        expires = now + policy.session_max
        row = repo.add_session(
            session,
            session_id=digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            at=now,
            expires_at=expires,
            ip=ip,
            user_agent=user_agent,
        )
        user.last_login_at = now
        audit(session, "login", user.login, ip=ip, rehashed=rehashed or None)
        principal = _user_principal(session, user, row.id, row.csrf_token)
    return LoginResult(token, principal, expires, rehashed)


def _user_principal(session: Session, user, session_id: str, csrf: str) -> Principal:
    return Principal(
        kind="session",
        id=user.id,
        login=user.login,
        role=user.role,
        grants=frozenset(repo.user_grants(session, user.id)),
        name=user.name,
        language=user.language,
        session_id=session_id,
        csrf_token=csrf,
    )


def session_principal(
    store: Store, token: str, *, policy: AuthPolicy | None = None, now: datetime | None = None
) -> Principal | None:
    """The principal of a session cookie's token, or ``None`` (unknown, expired, idle, revoked)."""
    if not token or len(token) > 200:
        return None
    policy = policy or AuthPolicy()
    now = now or utcnow()
    sid = digest(token)
    with store.unit_of_work(write=False) as session:
        found = repo.get_session(session, sid)
        if found is None:
            return None
        row, user = found
        if (
            row.revoked_at is not None
            or row.expires_at <= now
            or row.last_seen_at + policy.session_idle <= now
        ):
            return None
        principal = _user_principal(session, user, sid, row.csrf_token)
        stale = now - row.last_seen_at >= TOUCH_EVERY
    if stale:
        with store.unit_of_work() as session:
            repo.touch_session(session, sid, now)
    return principal


def token_principal(store: Store, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal of an API token, or ``None`` (unknown, revoked, expired)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    with store.unit_of_work(write=False) as session:
        t = repo.get_token(session, digest(token))
        if t is None or t.revoked_at is not None or (t.expires_at is not None and t.expires_at <= now):
            return None
        principal = Principal(
            kind="token",
            id=t.id,
            login=f"token:{t.name}",
            role=t.role,
            grants=frozenset(repo.token_grants(session, t.id)),
        )
        stale = t.last_used_at is None or now - t.last_used_at >= TOUCH_EVERY
    if stale:
        with store.unit_of_work() as session:
            repo.touch_token(session, principal.id, now)
    return principal


def logout(store: Store, principal: Principal, *, ip: str | None = None) -> None:
    """End the principal's session and log it (a token principal has no session: nothing happens)."""
    if principal.session_id is None:
        return
    with store.unit_of_work() as session:
        if repo.revoke_sessions(session, utcnow(), session_id=principal.session_id):
            audit(session, "logout", principal.login, ip=ip)
