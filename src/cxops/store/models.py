"""Tables of the operations store (SQLAlchemy 2 declarative, typed ``Mapped[]``).

The store keeps what a running program must remember between days, apart from the analytics
warehouse: runs, memberships, the append-only event log, the benefits ledger, account managers and
their assignments, operator actions and notes, and the job lock; and for the web (migration 0002) its
users, their seller bindings, login sessions, API tokens and login attempts. Later migrations add the
outbox, cases and documents (issue 11).

Conventions
-----------
- A seller in a program is keyed by ``(program, seller_id, marketplace_id)``; ``program`` is the
  policy name (e.g. ``customer-excellence``).
- Instants are UTC-aware (:class:`~cxops.store.types.UTCDateTime`); calendar days are ``Date``
  (marketplace-local, like the warehouse's ``*_date``).
- Rates are fractions (0.0045, not 0.45 %), as in the warehouse and the policy.
- ``state`` columns hold lifecycle state names (:class:`cxops.lifecycle.LifecycleState` values); the
  column is free text so a state added to the lifecycle needs no migration, and the service layer
  validates what it writes (:func:`cxops.service.states.check_states`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cxops.store.types import BigId, Json, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "succeeded", "failed")
#: Roles of web users and API tokens (issue 12): everything, read only, one's own sellers.
ROLES = ("operator-admin", "operator-viewer", "seller")
LOGIN_OUTCOMES = ("ok", "failed", "refused", "reset")
#: ``marketplace_id`` of a seller binding that covers every marketplace of the seller.
ALL_MARKETPLACES = "*"
#: Memberships sort by ``since`` with a missing day last (the same expression in the index and queries).
SINCE_SORT_KEY = "'9999-12-31'"
#: The lifecycle's operator actions (``cxops.lifecycle.table.ACTIONS``; the store does not import the
#: lifecycle, a test keeps the two equal) and the store-only ``assign_manager``.
ACTION_KINDS = (
    "exempt",
    "suspend",
    "reinstate",
    "accept_plan",
    "reject_plan",
    "lift_block",
    "assign_manager",
)
ACTION_STATUSES = ("pending", "applied", "rejected", "cancelled")

S = String(64)  # ids: sellers, marketplaces, programs, rules, metrics
ST = String(32)  # state names


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Run(Base):
    """One run of the daily job (or a rebuild) for a program as of a date.

    ``policy_hash`` is the SHA-256 of the policy's TOML text; ``timings`` maps a stage to seconds;
    ``counts`` maps what was written (sellers, transitions, events, benefits…) to numbers.
    """

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        Index(None, "program", "as_of"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    as_of: Mapped[date] = mapped_column(Date)
    policy_name: Mapped[str] = mapped_column(S)
    policy_version: Mapped[str] = mapped_column(S)
    policy_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebuild_from: Mapped[date | None] = mapped_column(Date)
    timings: Mapped[dict[str, Any] | None] = mapped_column(Json)
    counts: Mapped[dict[str, Any] | None] = mapped_column(Json)
    owner: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)


class AccountManager(Base):
    """An account manager: who looks after enrolled sellers.

    ``languages`` (e.g. ``["en", "zh"]``) and ``categories`` (primary categories the manager knows,
    matched case-insensitively) are JSON lists; ``capacity`` is the most sellers they can hold.
    """

    __tablename__ = "account_managers"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    id: Mapped[str] = mapped_column(S, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    languages: Mapped[list[str]] = mapped_column(Json, default=list)
    categories: Mapped[list[str]] = mapped_column(Json, default=list)
    capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Membership(Base):
    """Current state of a seller in a program (one row per program × seller × marketplace).

    Attributes
    ----------
    state, since
        Lifecycle state and the day it began.
    consecutive_breaches : int
        The largest consecutive-breach count over the removal rules (for lists and sorting);
        ``breach_counts`` has the count per rule id.
    recovery_streak : int
        Consecutive days with the admission bars met (removed / recovering sellers).
    repeat_count : int
        How many times the seller was removed or suspended (repeats lead to a permanent block).
    immunity_until, exemption_until : date or None
        Last day of an immunity period (after reinstatement) or of an operator's exemption.
    account_manager_id : str or None
        The current manager (history in ``manager_assignments``).
    primary_category : str or None
        The seller's primary category, copied from the warehouse by the daily job (for assignment
        and filtering).
    reason_key, reason_params
        Why the seller is in this state (a :class:`cxops.lifecycle.Reason`).
    state_data : dict or None
        Lifecycle fields without a column of their own.
    last_evaluated, last_run_id
        The last evaluation date applied and the run that wrote the row.
    """

    __tablename__ = "memberships"
    # Each index serves the daily job and the operator console's lists as keyset scans (migration
    # 0002 widened the first two and added the sort by ``since`` within a state), and a seller's own
    # pages (0006: a seller's memberships in every program; 0007: the seller-id search); every index
    # costs the daily job's bulk writes, so the set is kept small (bench/web_console.py --write-cost).
    __table_args__ = (
        Index("ix_memberships_seller", "seller_id", "marketplace_id"),
        # PostgreSQL only (0007): the console's seller-id search, LIKE 'prefix%', which an index in the
        # database's collation cannot serve unless it is C; SQLite serves it as a range of the key
        Index(
            "ix_memberships_seller_prefix",
            "program",
            "seller_id",
            postgresql_ops={"seller_id": "varchar_pattern_ops"},
        ).ddl_if(dialect="postgresql"),
        Index("ix_memberships_state_seller", "program", "state", "seller_id", "marketplace_id"),
        Index(
            "ix_memberships_manager_seller", "account_manager_id", "program", "seller_id", "marketplace_id"
        ),
        Index(
            "ix_memberships_state_since",
            "program",
            "state",
            func.coalesce(literal_column("since"), literal_column(SINCE_SORT_KEY)),
            "seller_id",
            "marketplace_id",
        ),
    )

    program: Mapped[str] = mapped_column(S, primary_key=True)
    seller_id: Mapped[str] = mapped_column(S, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(S, primary_key=True)
    state: Mapped[str] = mapped_column(ST)
    since: Mapped[date | None] = mapped_column(Date)
    consecutive_breaches: Mapped[int] = mapped_column(Integer, server_default="0")
    breach_counts: Mapped[dict[str, int] | None] = mapped_column(Json)
    recovery_streak: Mapped[int] = mapped_column(Integer, server_default="0")
    repeat_count: Mapped[int] = mapped_column(Integer, server_default="0")
    immunity_until: Mapped[date | None] = mapped_column(Date)
    exemption_until: Mapped[date | None] = mapped_column(Date)
    account_manager_id: Mapped[str | None] = mapped_column(ForeignKey("account_managers.id"))
    primary_category: Mapped[str | None] = mapped_column(String(200))
    reason_key: Mapped[str | None] = mapped_column(S)
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(Json)
    state_data: Mapped[dict[str, Any] | None] = mapped_column(Json)
    last_evaluated: Mapped[date | None] = mapped_column(Date)
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Action(Base):
    """An operator action on a seller, pending until the daily job applies (or rejects) it.

    ``kind`` is one of :data:`ACTION_KINDS`; ``until`` is the last day of an exemption or suspension;
    ``manager_id`` the manager of an ``assign_manager``. ``outcome`` says why an action was rejected
    when the job applied it (e.g. the seller had been removed since).
    """

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint(_in("kind", ACTION_KINDS), name="kind"),
        CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        Index(None, "status", "requested_at"),
        Index(None, "program", "seller_id", "marketplace_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), server_default="pending")
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[date | None] = mapped_column(Date)
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("account_managers.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class Event(Base):
    """The append-only event log: every transition, action, assignment, note and revision.

    Rows are only ever inserted (the repository has no update or delete, and database triggers
    refuse both). ``idempotency_key`` is unique, so a rerun after a crash never records an event
    twice. ``value``, ``numerator`` and ``denominator`` are the tested quantity and its counts (rates
    as fractions); ``event_date`` is the day the event takes effect (an evaluation date), ``as_of``
    the day its metrics were judged as of, ``occurred_at`` the instant it was recorded.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "program", "seller_id", "marketplace_id", "id"),
        Index(None, "occurred_at"),
        Index(None, "run_id"),
        Index(None, "kind"),
        Index("ix_events_kind_id", "kind", "id"),  # the audit log of logins, newest first (0002)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str | None] = mapped_column(S)
    seller_id: Mapped[str | None] = mapped_column(S)
    marketplace_id: Mapped[str | None] = mapped_column(S)
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(ST)
    to_state: Mapped[str | None] = mapped_column(ST)
    rule_id: Mapped[str | None] = mapped_column(S)
    metric: Mapped[str | None] = mapped_column(S)
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(4))
    window_days: Mapped[int | None] = mapped_column(Integer)
    event_date: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[date | None] = mapped_column(Date)
    policy_version: Mapped[str | None] = mapped_column(S)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_key: Mapped[str | None] = mapped_column(S)
    reason_params: Mapped[dict[str, Any] | None] = mapped_column(Json)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)


class Benefit(Base):
    """The benefits ledger: a benefit held by a member from ``effective_from`` until the day before
    ``effective_to`` (``None``: still held). ``tier`` is the benefit's detail (e.g. ``"7.5%"``) and
    ``value`` its number (e.g. 0.075, a fraction)."""

    __tablename__ = "benefits"
    __table_args__ = (
        Index(None, "program", "seller_id", "marketplace_id", "benefit", "effective_from"),
        Index(
            "uq_benefits_open",
            "program",
            "seller_id",
            "marketplace_id",
            "benefit",
            unique=True,
            sqlite_where=text("effective_to IS NULL"),
            postgresql_where=text("effective_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    benefit: Mapped[str] = mapped_column(S)
    tier: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    closed_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))


class ManagerAssignment(Base):
    """History of account-manager assignments; the open one (``ended_at`` null) is current."""

    __tablename__ = "manager_assignments"
    __table_args__ = (
        Index(None, "manager_id", "ended_at"),
        Index(
            "uq_manager_assignments_open",
            "program",
            "seller_id",
            "marketplace_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    manager_id: Mapped[str] = mapped_column(ForeignKey("account_managers.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))


class Note(Base):
    """An operator's note on a seller (never edited: a correction is a new note)."""

    __tablename__ = "notes"
    __table_args__ = (Index(None, "program", "seller_id", "marketplace_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobLock(Base):
    """A lease on a named job (e.g. ``daily:customer-excellence``), held in the store.

    ``owner`` identifies the holder (``host:pid:token``); the lease is valid until ``expires_at`` and
    is extended by heartbeats.
    """

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- the web (issue 12, migration 0002) ------------------------------------------------------------


class User(Base):
    """A person who logs into the web: an operator or a seller.

    ``login`` is stored lower-case and unique. ``password_hash`` is an argon2id hash in PHC format
    (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``); the store never sees a password.
    Lockout is derived from ``login_attempts`` (:mod:`cxops.service.auth`), so an unknown login name
    locks exactly like a real one.
    A ``seller`` sees the sellers bound in ``user_sellers``; operators see every seller.
    """

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSeller(Base):
    """A seller a ``seller`` user may see: on one marketplace, or on all (``marketplace_id = '*'``)."""

    __tablename__ = "user_sellers"
    __table_args__ = (Index(None, "seller_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(S, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(S, primary_key=True)


class WebSession(Base):
    """A login session. ``id`` is the SHA-256 (hex) of the random token in the browser's cookie, so
    the store never holds a usable token; ``csrf_token`` is the session's synchroniser token.
    A session ends at ``expires_at`` (absolute), after ``idle`` minutes without use (checked against
    ``last_seen_at``), or when revoked (logout, password reset, user removed)."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "user_id"), Index(None, "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    """A token for machines (``Authorization: Bearer …``), with a role and, for ``seller``, sellers.

    Only ``token_hash`` (SHA-256 hex of the token) is stored; ``prefix`` (the first characters) lets
    people tell tokens apart in lists. Revoked tokens are kept (``revoked_at``) for the record.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class ApiTokenSeller(Base):
    """A seller a ``seller`` token may see (``marketplace_id = '*'``: every marketplace)."""

    __tablename__ = "api_token_sellers"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    seller_id: Mapped[str] = mapped_column(S, primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(S, primary_key=True)


class LoginAttempt(Base):
    """Every login attempt, for the per-login lockout and the per-address rate limit (kept one day).

    ``login`` is the name typed (lower-case), whether or not such a user exists, so a locked name
    looks the same as a locked user. ``outcome`` is one of :data:`LOGIN_OUTCOMES`: ``ok``,
    ``failed`` (wrong password or unknown name), ``refused`` (not checked: locked or rate-limited),
    ``reset`` (an administrator reset the password, which clears a lockout). The failure that
    locks a login carries ``locked_until``."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        CheckConstraint(_in("outcome", LOGIN_OUTCOMES), name="outcome"),
        Index(None, "login", "at"),
        Index(None, "ip", "at"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(8))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
