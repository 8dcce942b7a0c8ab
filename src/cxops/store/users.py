"""Web users, their seller bindings, login sessions, API tokens and login attempts (rows only).

Hashing, lockout rules and who may do what are the service's (:mod:`cxops.service.auth`,
:mod:`cxops.service.accounts`); this module stores and reads. Every function works in the caller's
unit of work. Tokens and session ids arrive here already hashed (SHA-256 hex).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, NotFoundError
from cxops.store.models import ApiToken, ApiTokenSeller, LoginAttempt, User, UserSeller, WebSession

Grants = Iterable[tuple[str, str]]


# -- users -----------------------------------------------------------------------------------------


def add_user(
    session: Session,
    login: str,
    *,
    role: str,
    password_hash: str,
    name: str | None,
    language: str | None,
    sellers: Grants,
    at: datetime,
) -> User:
    """Insert a user and its seller bindings ``(seller_id, marketplace_id or '*')``.

    Raises
    ------
    ConflictError
        The login is taken.
    """
    if get_user(session, login) is not None:
        raise ConflictError(f"user {login!r} exists already", hint="change it with: cxops users reset")
    user = User(
        login=login,
        name=name,
        role=role,
        password_hash=password_hash,
        language=language,
        created_at=at,
        password_changed_at=at,
    )
    session.add(user)
    session.flush()
    session.add_all(
        UserSeller(user_id=user.id, seller_id=s, marketplace_id=m) for s, m in sorted(set(sellers))
    )
    session.flush()
    return user


def get_user(session: Session, login: str) -> User | None:
    """The user with this (lower-case) login, or ``None``."""
    return session.scalars(select(User).where(User.login == login)).first()


def require_user(session: Session, login: str) -> User:
    """The user with this login; :class:`NotFoundError` if there is none."""
    user = get_user(session, login)
    if user is None:
        raise NotFoundError(f"no user {login!r}", hint="see: cxops users list")
    return user


def user_grants(session: Session, user_id: int) -> list[tuple[str, str]]:
    """The user's seller bindings, sorted."""
    t = UserSeller
    rows = session.execute(
        select(t.seller_id, t.marketplace_id)
        .where(t.user_id == user_id)
        .order_by(t.seller_id, t.marketplace_id)
    )
    return [(s, m) for s, m in rows]


def remove_user(session: Session, user: User) -> None:
    """Delete the user; its bindings and sessions go with it (foreign keys cascade)."""
    session.execute(delete(UserSeller).where(UserSeller.user_id == user.id))
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.delete(user)
    session.flush()


def set_password_hash(session: Session, user: User, password_hash: str, *, at: datetime | None) -> None:
    """Store a new hash; ``at`` (when the password itself changed) is ``None`` for a rehash."""
    user.password_hash = password_hash
    if at is not None:
        user.password_changed_at = at
    session.flush()


def list_users(session: Session) -> list[tuple[User, list[tuple[str, str]]]]:
    """Every user with its bindings, by login."""
    users = session.scalars(select(User).order_by(User.login)).all()
    grants: dict[int, list[tuple[str, str]]] = {}
    rows = session.execute(
        select(UserSeller.user_id, UserSeller.seller_id, UserSeller.marketplace_id).order_by(
            UserSeller.user_id, UserSeller.seller_id, UserSeller.marketplace_id
        )
    )
    for uid, s, m in rows:
        grants.setdefault(uid, []).append((s, m))
    return [(u, grants.get(u.id, [])) for u in users]


# -- sessions --------------------------------------------------------------------------------------


def add_session(
    session: Session,
    *,
    session_id: str,
    user_id: int,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
    ip: str | None,
    user_agent: str | None,
) -> WebSession:
    """Insert a login session (``session_id`` is the SHA-256 of the cookie's token)."""
    row = WebSession(
        id=session_id,
        user_id=user_id,
        csrf_token=csrf_token,
        created_at=at,
        last_seen_at=at,
        expires_at=expires_at,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return row


def get_session(session: Session, session_id: str) -> tuple[WebSession, User] | None:
    """The session and its user, whatever their state (the caller checks expiry and revocation)."""
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == session_id)
    ).first()
    return (row[0], row[1]) if row else None


def touch_session(session: Session, session_id: str, at: datetime) -> None:
    """Record use of a session (its idle timeout restarts)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=at))


def revoke_sessions(
    session: Session, at: datetime, *, session_id: str | None = None, user_id: int | None = None
) -> int:
    """Revoke one session or every open session of a user; returns how many."""
    stmt = update(WebSession).where(WebSession.revoked_at.is_(None)).values(revoked_at=at)
    if session_id is not None:
        stmt = stmt.where(WebSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(WebSession.user_id == user_id)
    return session.execute(stmt).rowcount


def prune_sessions(session: Session, before: datetime) -> int:
    """Delete sessions that expired before ``before``."""
    return session.execute(delete(WebSession).where(WebSession.expires_at < before)).rowcount


# -- API tokens ------------------------------------------------------------------------------------


def add_token(
    session: Session,
    *,
    token_hash: str,
    prefix: str,
    name: str,
    role: str,
    sellers: Grants,
    created_by: str,
    at: datetime,
    expires_at: datetime | None,
) -> ApiToken:
    """Insert an API token (hashed) and its seller bindings."""
    token = ApiToken(
        token_hash=token_hash,
        prefix=prefix,
        name=name,
        role=role,
        created_by=created_by,
        created_at=at,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    session.add_all(
        ApiTokenSeller(token_id=token.id, seller_id=s, marketplace_id=m) for s, m in sorted(set(sellers))
    )
    session.flush()
    return token


def get_token(session: Session, token_hash: str) -> ApiToken | None:
    """The token with this hash, or ``None``."""
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def find_tokens(session: Session, ref: str) -> list[ApiToken]:
    """Tokens whose id is ``ref`` or whose prefix starts with ``ref``."""
    stmt = select(ApiToken)
    if ref.isdigit():
        stmt = stmt.where(ApiToken.id == int(ref))
    else:
        stmt = stmt.where(ApiToken.prefix.startswith(ref, autoescape=True))
    return list(session.scalars(stmt.order_by(ApiToken.id)))


def token_grants(session: Session, token_id: int) -> list[tuple[str, str]]:
    """The token's seller bindings, sorted."""
    t = ApiTokenSeller
    rows = session.execute(
        select(t.seller_id, t.marketplace_id)
        .where(t.token_id == token_id)
        .order_by(t.seller_id, t.marketplace_id)
    )
    return [(s, m) for s, m in rows]


def touch_token(session: Session, token_id: int, at: datetime) -> None:
    """Record use of a token."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


def list_tokens(session: Session) -> list[tuple[ApiToken, list[tuple[str, str]]]]:
    """Every token (revoked ones too) with its bindings, by id."""
    tokens = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [(t, token_grants(session, t.id)) for t in tokens]


# -- login attempts --------------------------------------------------------------------------------


def add_attempt(
    session: Session, login: str, ip: str, at: datetime, outcome: str, locked_until: datetime | None = None
) -> None:
    """Record one login attempt (see :class:`~cxops.store.models.LoginAttempt` for ``outcome``)."""
    session.add(LoginAttempt(login=login, ip=ip, at=at, outcome=outcome, locked_until=locked_until))
    session.flush()


def last_clear(session: Session, login: str) -> datetime | None:
    """The last successful login or password reset of ``login``."""
    a = LoginAttempt
    return session.scalar(select(func.max(a.at)).where(a.login == login, a.outcome.in_(("ok", "reset"))))


def lock_of(session: Session, login: str, after: datetime | None) -> datetime | None:
    """The end of the newest lockout of ``login`` recorded after ``after`` (``None``: never)."""
    a = LoginAttempt
    stmt = select(func.max(a.locked_until)).where(a.login == login, a.locked_until.is_not(None))
    if after is not None:
        stmt = stmt.where(a.at > after)
    return session.scalar(stmt)


def failures(
    session: Session,
    since: datetime,
    *,
    login: str | None = None,
    ip: str | None = None,
    refused: bool = False,
) -> list[datetime]:
    """Times of failed attempts (and refused ones with ``refused``) after ``since``, oldest first."""
    a = LoginAttempt
    outcomes = ("failed", "refused") if refused else ("failed",)
    stmt = select(a.at).where(a.at > since, a.outcome.in_(outcomes))
    if login is not None:
        stmt = stmt.where(a.login == login)
    if ip is not None:
        stmt = stmt.where(a.ip == ip)
    return list(session.scalars(stmt.order_by(a.at)))


def prune_attempts(session: Session, before: datetime) -> int:
    """Delete attempts older than ``before``."""
    return session.execute(delete(LoginAttempt).where(LoginAttempt.at < before)).rowcount
