"""Cases (eligibility inquiries, buyer disputes, reinstatement appeals) and their records.

Tables (migration 0004):

- ``cases``: one row per case — its kind, the seller (and order of a dispute), status, owner,
  first-response deadline (``due_at``) and the answer of an inquiry (JSON);
- ``case_status_changes``: every status a case took, with who and why (the status history);
- ``case_entries``: what was said on a case — a seller's response, an action plan, an operator's
  note or decision, an inquiry's answer;
- ``case_files``: files attached to an entry (content-addressed: the SHA-256 of the bytes names
  the stored file, see :mod:`cxops.service.documents`).

Every change is logged in the event log as well (kinds ``case_opened``, ``case_status``,
``case_assigned``, ``case_entry``), so a case appears in a seller's audit trail. The service layer
(:mod:`cxops.service.cases`) validates; this module writes and reads, in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxops.errors import NotFoundError
from cxops.store import bulk
from cxops.store.events import append_events, record_event
from cxops.store.models import Base, S, _in
from cxops.store.types import BigId, Json, UTCDateTime, utcnow

CASE_KINDS = ("inquiry", "dispute", "appeal")
CASE_STATUSES = ("open", "answered", "responded", "escalated", "accepted", "rejected", "closed")
CASE_SOURCES = ("seller", "operator", "import")
ENTRY_KINDS = ("answer", "response", "action_plan", "note", "decision")
ENTRY_ROLES = ("seller", "operator", "system")


class Case(Base):
    """A case about a seller in a program (and, for a dispute, one of its orders).

    Attributes
    ----------
    kind : {"inquiry", "dispute", "appeal"}
    status : str
        One of :data:`CASE_STATUSES`; which follow which is declared in :mod:`cxops.service.cases`.
    owner : str or None
        Who handles it: an account manager id or an operator's login; ``None``: unassigned.
    subject : str
        The question of an inquiry, the buyer's reason of a dispute, the summary of an appeal.
    source : {"seller", "operator", "import"}
        Who opened it: the seller, an operator (possibly on the seller's behalf), a file import.
    due_at : datetime or None
        UTC instant by which a first response is due (disputes: opened + 24 clock hours).
    first_response_at : datetime or None
        UTC instant of the first response (a dispute's SLA is ``first_response_at <= due_at``).
    answer : dict or None
        An inquiry's answer (criteria with value, bar and gap, next evaluation, projected status).
    details : dict or None
        What else the case came with (buyer message, dispute id, imported file and line, action id).
    idempotency_key : str or None
        Unique: re-importing the same dispute (or repeating a request) opens no second case.
    """

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("kind", CASE_KINDS), name="kind"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        CheckConstraint(_in("source", CASE_SOURCES), name="source"),
        Index(None, "seller_id", "marketplace_id", "opened_at"),
        Index("ix_cases_kind_status_due", "kind", "status", "due_at"),  # the sweep and SLA queues
        Index(None, "owner", "status"),
        Index(None, "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    order_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[dict[str, Any] | None] = mapped_column(Json)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class CaseStatusChange(Base):
    """One status a case took (``from_status`` is null for the opening)."""

    __tablename__ = "case_status_changes"
    __table_args__ = (Index(None, "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class CaseEntry(Base):
    """Something said on a case: a response, an action plan, a note, a decision, an answer."""

    __tablename__ = "case_entries"
    __table_args__ = (
        CheckConstraint(_in("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint(_in("role", ENTRY_ROLES), name="role"),
        Index(None, "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseFile(Base):
    """A file attached to a case entry; the bytes are stored under their SHA-256 (hex)."""

    __tablename__ = "case_files"
    __table_args__ = (Index(None, "case_id"), Index(None, "sha256"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("case_entries.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


CASES = Case.__table__
CHANGES = CaseStatusChange.__table__
ENTRIES = CaseEntry.__table__
FILES = CaseFile.__table__


# -- writing -------------------------------------------------------------------------------------


def _log(session: Session, case: Case, kind: str, key: str, actor: str, at: datetime, reason=None, **details):
    record_event(
        session,
        kind=kind,
        idempotency_key=key,
        actor=actor,
        program=case.program,
        seller_id=case.seller_id,
        marketplace_id=case.marketplace_id,
        reason=reason,
        occurred_at=at,
        details={"case_id": case.id, "case_kind": case.kind,
                 **({"order_id": case.order_id} if case.order_id else {}), **details},
    )  # fmt: skip


def add_case(session: Session, **fields: Any) -> Case:
    """Insert a case with its opening status change and a ``case_opened`` event.

    ``fields`` are :class:`Case` columns; ``status``, ``opened_at``, ``opened_by`` are required.
    """
    fields.setdefault("updated_at", fields["opened_at"])
    c = Case(**fields)
    session.add(c)
    session.flush()
    change = CaseStatusChange(case_id=c.id, from_status=None, to_status=c.status, at=c.opened_at,
                              actor=c.opened_by, reason=None)  # fmt: skip
    session.add(change)
    session.flush()
    _log(session, c, "case_opened", f"case:{c.id}:opened", c.opened_by, c.opened_at, c.subject,
         status=c.status, owner=c.owner, source=c.source)  # fmt: skip
    return c


def add_cases(session: Session, cases: pd.DataFrame, *, now: datetime) -> pd.DataFrame:
    """Insert many cases at once (a file of disputes), with their opening status changes and events.

    Cases whose ``idempotency_key`` exists already are skipped (a file imported twice opens nothing
    the second time).

    Parameters
    ----------
    cases : pandas.DataFrame
        :class:`Case` columns (``status``, ``opened_at``, ``opened_by``, ``idempotency_key`` required).

    Returns
    -------
    pandas.DataFrame
        The cases inserted: ``id, program, seller_id, marketplace_id, order_id, due_at`` in input order.
    """
    cols = ["id", "program", "seller_id", "marketplace_id", "order_id", "due_at"]
    if cases.empty:
        return pd.DataFrame(columns=cols)
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    stmt = (
        insert(CASES)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(CASES.c.id, CASES.c.idempotency_key)
    )
    records = [
        {k: (None if not isinstance(v, dict | list) and pd.isna(v) else v) for k, v in r.items()}
        for r in cases.assign(updated_at=now).to_dict("records")
    ]
    got = dict((key, i) for i, key in session.execute(stmt, records).all())
    done = cases[cases["idempotency_key"].isin(got)].copy()
    if done.empty:
        return pd.DataFrame(columns=cols)
    done["id"] = done["idempotency_key"].map(got).astype("int64")
    changes = pd.DataFrame(
        {
            "case_id": done["id"],
            "to_status": done["status"],
            "at": done["opened_at"],
            "actor": done["opened_by"],
        }
    )
    bulk.write(session, CHANGES, changes)
    events = pd.DataFrame(
        {
            "program": done["program"],
            "seller_id": done["seller_id"],
            "marketplace_id": done["marketplace_id"],
            "actor": done["opened_by"],
            "reason": done["subject"],
            "occurred_at": done["opened_at"],
            "idempotency_key": "case:" + done["id"].astype(str) + ":opened",
            "details": [
                {"case_id": int(i), "case_kind": k, "order_id": o, "status": st, "owner": ow, "source": src}
                for i, k, o, st, ow, src in zip(done["id"], done["kind"], done["order_id"], done["status"],
                                               done["owner"], done["source"], strict=True)
            ],
        }
    )  # fmt: skip
    append_events(session, events, kind="case_opened")
    return done[cols].reset_index(drop=True)


def find_case(session: Session, idempotency_key: str) -> Case | None:
    """The case opened under ``idempotency_key``, if any."""
    return session.scalars(select(Case).where(Case.idempotency_key == idempotency_key)).first()


def get_case(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    """One case (``for_update`` locks the row on PostgreSQL until the transaction ends).

    Raises
    ------
    NotFoundError
        No case has this id.
    """
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    c = session.scalars(stmt).first()
    if c is None:
        raise NotFoundError(f"case {case_id} not found", hint="list cases with: cxops case list")
    return c


def set_status(
    session: Session,
    case: Case,
    to: str,
    *,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
) -> CaseStatusChange:
    """Move ``case`` to status ``to`` (the caller has checked the move is allowed); logs ``case_status``."""
    at = at or utcnow()
    change = CaseStatusChange(case_id=case.id, from_status=case.status, to_status=to, at=at, actor=actor,
                              reason=reason)  # fmt: skip
    session.add(change)
    case.status = to
    case.updated_at = at
    if to == "escalated" and case.escalated_at is None:
        case.escalated_at = at
    if to == "closed":
        case.closed_at = at
    session.flush()
    _log(session, case, "case_status", f"case:{case.id}:status:{change.id}", actor, at, reason,
         from_status=change.from_status, to_status=to)  # fmt: skip
    return change


def set_owner(session: Session, case: Case, owner: str | None, *, actor: str, reason: str) -> None:
    """Give ``case`` to ``owner`` (``None``: unassigned); logs ``case_assigned``."""
    at = utcnow()
    before = case.owner
    case.owner = owner
    case.updated_at = at
    session.flush()
    _log(session, case, "case_assigned", f"case:{case.id}:owner:{uuid.uuid4().hex}", actor, at, reason,
         owner=owner, previous_owner=before)  # fmt: skip


def add_entry(
    session: Session,
    case: Case,
    *,
    kind: str,
    role: str,
    author: str,
    text: str,
    at: datetime | None = None,
    files: Sequence[dict[str, Any]] = (),
) -> CaseEntry:
    """Add an entry (and its files: dicts with ``sha256, filename, size, content_type``); logs
    ``case_entry``."""
    at = at or utcnow()
    entry = CaseEntry(case_id=case.id, kind=kind, role=role, author=author, text=text, created_at=at)
    session.add(entry)
    session.flush()
    for f in files:
        session.add(CaseFile(case_id=case.id, entry_id=entry.id, created_at=at, **f))
    case.updated_at = at
    session.flush()
    _log(session, case, "case_entry", f"case:{case.id}:entry:{entry.id}", author, at, None,
         entry_id=entry.id, entry_kind=kind, role=role, files=[f["sha256"] for f in files])  # fmt: skip
    return entry


def escalate_overdue(session: Session, now: datetime, *, actor: str = "system") -> pd.DataFrame:
    """Escalate every open dispute whose first response is overdue at ``now``, in set operations.

    Idempotent: a dispute is escalated once (the update only takes cases still ``open``; a second
    sweep, or a concurrent one, finds none of them).

    Returns
    -------
    pandas.DataFrame
        The cases escalated now: ``id, program, seller_id, marketplace_id, order_id, owner, due_at``.
    """
    c = CASES
    due = (
        (c.c.kind == "dispute")
        & (c.c.status == "open")
        & c.c.first_response_at.is_(None)
        & (c.c.due_at <= now)
    )
    stmt = (
        update(c)
        .where(due)
        .values(status="escalated", escalated_at=now, updated_at=now)
        .returning(c.c.id, c.c.program, c.c.seller_id, c.c.marketplace_id, c.c.order_id, c.c.owner,
                   c.c.due_at)
    )  # fmt: skip
    rows = session.execute(stmt).all()
    cols = ["id", "program", "seller_id", "marketplace_id", "order_id", "owner", "due_at"]
    done = pd.DataFrame([tuple(r) for r in rows], columns=cols).sort_values("id", ignore_index=True)
    if done.empty:
        return done
    reason = "no first response within the deadline"
    changes = pd.DataFrame({"case_id": done["id"], "from_status": "open", "to_status": "escalated"})
    bulk.write(session, CHANGES, changes, fixed={"at": now, "actor": actor, "reason": reason})
    events = pd.DataFrame(
        {
            "program": done["program"],
            "seller_id": done["seller_id"],
            "marketplace_id": done["marketplace_id"],
            "idempotency_key": "case:" + done["id"].astype(str) + ":escalated",
            "details": [
                {"case_id": int(i), "case_kind": "dispute", "order_id": o, "from_status": "open",
                 "to_status": "escalated", "due_at": d.isoformat()}
                for i, o, d in zip(done["id"], done["order_id"], done["due_at"], strict=True)
            ],
        }
    )  # fmt: skip
    append_events(session, events, kind="case_status", actor=actor, reason=reason, occurred_at=now)
    return done


# -- reading -------------------------------------------------------------------------------------


def case_history(session: Session, case_id: int) -> pd.DataFrame:
    """The status history of a case, oldest first."""
    return bulk.frame(session, select(CHANGES).where(CHANGES.c.case_id == case_id).order_by(CHANGES.c.id))


def case_entries(session: Session, case_id: int) -> pd.DataFrame:
    """The entries of a case, oldest first."""
    return bulk.frame(session, select(ENTRIES).where(ENTRIES.c.case_id == case_id).order_by(ENTRIES.c.id))


def case_files(session: Session, case_id: int) -> pd.DataFrame:
    """The files attached to a case, oldest first."""
    return bulk.frame(session, select(FILES).where(FILES.c.case_id == case_id).order_by(FILES.c.id))


def _cases(*, statuses: Sequence[str] | None = None, limit: int | None = None, **equal: str | None):
    """Cases with every column but the answer, ``equal`` filters (:func:`bulk.where_equal`), newest
    first."""
    c = CASES
    stmt = bulk.where_equal(select(*[col for col in c.c if col.key not in ("answer",)]), c, **equal)
    if statuses:
        stmt = stmt.where(c.c.status.in_(list(statuses)))
    stmt = stmt.order_by(c.c.id.desc())
    return stmt.limit(limit) if limit else stmt


def list_cases(
    session: Session,
    *,
    kind: str | None = None,
    statuses: Sequence[str] | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    owner: str | None = None,
    order_id: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Cases matching every filter given, newest first (without their answers)."""
    return bulk.frame(
        session,
        _cases(statuses=statuses, limit=limit, kind=kind, seller_id=seller_id,
               marketplace_id=marketplace_id, owner=owner, order_id=order_id),
    )  # fmt: skip


def seller_cases(session: Session, seller_id: str) -> list[dict]:
    """One seller's cases on every marketplace as plain rows (:func:`cxops.store.bulk.records`), newest
    first, without their answers: :func:`list_cases` for a seller's page."""
    return bulk.records(session, _cases(seller_id=seller_id))


def _seconds_between(session: Session, start, end):
    """SQL: whole seconds from ``start`` to ``end`` (UTC instants) on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
    return cast(func.floor(func.extract("epoch", end - start)), BigInteger)


def dispute_sla(
    session: Session,
    *,
    now: datetime,
    opened_from: datetime | None = None,
    opened_before: datetime | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
) -> pd.DataFrame:
    """The first-response SLA of disputes per seller and marketplace, computed in one SQL statement.

    A dispute is **answered in time** when its first response came at or before ``due_at``; **late**
    when it came after, or when there is none and ``due_at`` has passed at ``now``; **pending** when
    there is none yet and time is left (it counts in neither share). Time to first response is in
    whole seconds (clock time, UTC); its median is over the answered disputes (the mean of the two
    middle values for an even count).

    Returns
    -------
    pandas.DataFrame
        One row per (seller_id, marketplace_id) with disputes opened in ``[opened_from,
        opened_before)``: ``disputes, answered, answered_in_time, late, pending, unanswered_overdue,
        share_in_time`` (fraction of in-time among in-time + late; null when both are 0),
        ``median_response_seconds`` (null without answered disputes); sorted by seller, marketplace.
    """
    c = CASES
    secs = _seconds_between(session, c.c.opened_at, c.c.first_response_at)
    answered = c.c.first_response_at.is_not(None)
    in_time = and_(answered, c.c.first_response_at <= c.c.due_at)
    late = or_(and_(answered, c.c.first_response_at > c.c.due_at), and_(~answered, c.c.due_at <= now))
    where = [c.c.kind == "dispute"]
    if opened_from is not None:
        where.append(c.c.opened_at >= opened_from)
    if opened_before is not None:
        where.append(c.c.opened_at < opened_before)
    if seller_id is not None:
        where.append(c.c.seller_id == seller_id)
    if marketplace_id is not None:
        where.append(c.c.marketplace_id == marketplace_id)
    keys = [c.c.seller_id, c.c.marketplace_id]

    def flag(cond):
        return func.sum(case((cond, 1), else_=0))

    d = (
        select(
            *keys,
            func.count().label("disputes"),
            flag(answered).label("answered"),
            flag(in_time).label("answered_in_time"),
            flag(late).label("late"),
            flag(and_(~answered, c.c.due_at > now)).label("pending"),
            flag(and_(~answered, c.c.due_at <= now)).label("unanswered_overdue"),
        )
        .where(*where)
        .group_by(*keys)
        .subquery("d")
    )
    ranked = (
        select(
            *keys,
            secs.label("secs"),
            func.row_number().over(partition_by=keys, order_by=secs).label("rn"),
            func.count().over(partition_by=keys).label("n"),
        )
        .where(*where, answered)
        .subquery("r")
    )
    median = (
        select(ranked.c.seller_id, ranked.c.marketplace_id, func.avg(ranked.c.secs * 1.0).label("median"))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.seller_id, ranked.c.marketplace_id)
        .subquery("m")
    )
    judged = d.c.answered_in_time + d.c.late
    stmt = (
        select(
            d,
            case((judged > 0, d.c.answered_in_time * 1.0 / judged), else_=None).label("share_in_time"),
            median.c.median.label("median_response_seconds"),
        )
        .select_from(
            d.outerjoin(
                median,
                and_(median.c.seller_id == d.c.seller_id, median.c.marketplace_id == d.c.marketplace_id),
            )
        )
        .order_by(d.c.seller_id, d.c.marketplace_id)
    )
    rows = session.execute(stmt).all()
    cols = ["seller_id", "marketplace_id", "disputes", "answered", "answered_in_time", "late", "pending",
            "unanswered_overdue", "share_in_time", "median_response_seconds"]  # fmt: skip
    out = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    for col in cols[2:8]:
        out[col] = out[col].astype("int64")
    for col in cols[8:]:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out


def referenced_hashes(session: Session) -> set[str]:
    """SHA-256 of every stored file a case refers to."""
    return set(session.scalars(select(FILES.c.sha256).distinct()))
