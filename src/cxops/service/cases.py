"""Cases: eligibility inquiries, buyer disputes with a 24-hour clock, reinstatement appeals.

Every case has an owner (the seller's account manager when it is opened, else unassigned), a status
history, entries (answers, responses, action plans, decisions) and appears in the event log; every
change is one transaction, and the seller is told through :func:`notify_case`.

Statuses (:data:`TRANSITIONS`, the one declaration of which status may follow which):

=========  ================================================================================
kind       statuses
=========  ================================================================================
inquiry    open → answered (at once, from the latest evaluation) → closed
dispute    open → responded | escalated (first response overdue) → responded → closed
appeal     open (action plan submitted) → accepted (reinstatement recorded) | rejected → closed
=========  ================================================================================

**Eligibility inquiry** ("Performance Advisor Request", ``program.md``): the answer is produced when
the case is opened, from the seller's standing (:func:`latest_standing`): every eligibility and
admission criterion with its value, bar, gap or "not enough data", the state, the next evaluation day
and the projected status; stored as JSON on the case.

**Buyer dispute**: opened by hand (:func:`open_dispute`) or from a file (:func:`import_disputes`);
a first response is due ``CaseRules.dispute_first_response_hours`` (24) **clock hours** after it was
opened — UTC arithmetic, so a daylight-saving change in the marketplace does not move it. An open
dispute whose deadline passes is escalated by :func:`sweep` (idempotent). :func:`dispute_sla` reports
per seller the share answered in time and the median time to first response, in one SQL statement.

**Reinstatement appeal**: a removed, suspended or recovering seller submits an action plan
(:func:`open_appeal`); an operator accepts it (:func:`accept_appeal` records the ``accept_plan`` action:
the next daily run reinstates the seller under the policy's immunity) or rejects it with a reason
(:func:`reject_appeal` records ``reject_plan``: the lifecycle logs the rejection, the state stays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.policy.model import Policy
from cxops.service import documents as docs
from cxops.service.actions import ACTION_RULES, ActionResult, request_action
from cxops.store import cases as repo
from cxops.store.db import Store
from cxops.store.events import record_event
from cxops.store.memberships import get_membership
from cxops.store.models import AccountManager, User
from cxops.store.types import utcnow

DEFAULT_PROGRAM = "customer-excellence"


class CaseRules(BaseModel):
    """Case rules of a program (the policy should carry them; see the report to the lead).

    Attributes
    ----------
    dispute_first_response_hours : int
        Clock hours from a dispute's opening to its first-response deadline (``program.md``: 24).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dispute_first_response_hours: int = Field(24, ge=1)


DEFAULT_RULES = CaseRules()

#: Which status may follow which, per kind (closed is final).
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "inquiry": {"open": frozenset({"answered", "closed"}), "answered": frozenset({"closed"})},
    "dispute": {
        "open": frozenset({"responded", "escalated", "closed"}),
        "escalated": frozenset({"responded", "closed"}),
        "responded": frozenset({"closed"}),
    },
    "appeal": {
        "open": frozenset({"accepted", "rejected", "closed"}),
        "accepted": frozenset({"closed"}),
        "rejected": frozenset({"closed"}),
    },
}
#: States from which a seller can appeal: those an action plan can be accepted from (the lifecycle's table).
APPEALABLE = ACTION_RULES["accept_plan"].allowed


# -- notifications ---------------------------------------------------------------------------------


def notify_case(
    session: Session,
    *,
    program: str | None,
    seller_id: str,
    marketplace_id: str,
    kind: Literal["case.updated", "document.reminder"],
    context: dict[str, Any],
    idempotency_key: str,
) -> bool:
    """Queue a message to the seller in the caller's transaction; returns False if it was queued before.

    Records a store event of kind ``kind`` (``details`` = ``context``; the audit log and the web read
    it) and, the first time, puts the message in the notifications outbox
    (:func:`cxops.notify.outbox.enqueue`, one message per contact of the seller): a ``case_update`` for
    ``case.updated``, a ``document_reminder`` for ``document.reminder``.
    """
    recorded = record_event(
        session,
        kind=kind,
        idempotency_key=f"notify:{idempotency_key}",
        actor="system",
        program=program,
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        details=context,
    )
    if recorded:
        from cxops.notify.outbox import enqueue

        enqueue(
            session,
            [(f"notify:{idempotency_key}", _message(program, seller_id, marketplace_id, kind, context))],
        )
    return recorded


#: Case kinds of the store → the message vocabulary's (``mail.case_kind.*``).
_CASE_KIND = {"inquiry": "eligibility_inquiry", "dispute": "dispute", "appeal": "appeal"}


def _message(program, seller_id: str, marketplace_id: str, kind: str, context: dict[str, Any]):
    """The typed message context (:mod:`cxops.notify.messages`) of a case or document notification."""
    from cxops.notify.messages import CaseUpdate, DocumentItem, DocumentReminder

    who = {"seller_id": seller_id, "marketplace_id": marketplace_id, "program": program}
    if kind == "case.updated":
        due = context.get("due_at")
        return CaseUpdate(
            **who,
            case_id=str(context["case_id"]),
            case_kind=_CASE_KIND.get(str(context.get("case_kind")), str(context.get("case_kind"))),
            status=str(context.get("status") or "open"),
            note=context.get("reason") if isinstance(context.get("reason"), str) else None,
            due_at=pd.Timestamp(due).to_pydatetime() if due else None,
        )
    items = context.get("items") or [
        {"requirement": context.get("requirement"), "status": "rejected", "reason": context.get("reason")}
    ]
    return DocumentReminder(
        **who,
        documents=tuple(
            DocumentItem(
                document=str(i["requirement"]),
                status=str(i.get("status") or "missing"),
                reason=i.get("reason"),
                expires_on=_day(i.get("expires_on")),
            )
            for i in items
        ),
    )


def _notify(session: Session, c: repo.Case, what: str, key: str, **context: Any) -> None:
    notify_case(
        session,
        program=c.program,
        seller_id=c.seller_id,
        marketplace_id=c.marketplace_id,
        kind="case.updated",
        context={"event": what, "case_id": c.id, "case_kind": c.kind, "status": c.status,
                 "order_id": c.order_id, **context},
        idempotency_key=key,
    )  # fmt: skip


# -- standing (the inquiry's answer) -----------------------------------------------------------------

_CRITERION_FIELDS = ("section", "criterion_id", "label", "metric", "window_days", "channel", "test",
                     "operator", "threshold", "min_denominator", "value", "numerator", "denominator",
                     "status", "result", "gap")  # fmt: skip


@dataclass(frozen=True)
class Standing:
    """Where a seller stands in a program: what an eligibility inquiry answers.

    Attributes
    ----------
    criteria : list of dict
        Every eligibility and admission criterion on the metrics as of ``as_of`` (the values the next
        evaluation would judge): ``section, criterion_id, label, metric, window_days, channel, test,
        operator, threshold`` (the bar; rates as fractions), ``min_denominator, value, numerator,
        denominator, status, result`` (``pass``, ``fail``, ``insufficient_data`` — "not enough
        data" —, ``not_measured``) and ``gap`` (the signed change of the tested count that flips the
        result, see :mod:`cxops.policy.gap`; null where none).
    state, since, reason
        The seller's state at the last evaluation, since when, and why.
    last_evaluation, next_evaluation : date or None
    projected_state, projected_reason
        The state the next evaluation would give on the metrics as of ``as_of``.
    """

    policy: str
    policy_version: str
    seller_id: str
    marketplace_id: str
    as_of: date
    state: str
    since: date | None
    reason: str | None
    last_evaluation: date | None
    next_evaluation: date | None
    projected_state: str | None
    projected_reason: str | None
    criteria: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The standing as JSON-able data (dates ISO, missing numbers as null)."""
        out = {k: _plain(v) for k, v in self.__dict__.items() if k != "criteria"}
        out["criteria"] = [{k: _plain(v) for k, v in c.items()} for c in self.criteria]
        return out


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and np.isnan(v) else v
    if isinstance(v, datetime | pd.Timestamp):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def _day(v: Any) -> date | None:
    if v is None or (not isinstance(v, str | date) and pd.isna(v)):
        return None
    return pd.Timestamp(v).date()


def standing_from_frames(
    policy: Policy,
    seller_id: str,
    marketplace_id: str,
    as_of: date,
    criteria: pd.DataFrame,
    final: pd.DataFrame,
    projected: pd.DataFrame,
    last_evaluation: date | None,
    next_evaluation: date | None,
) -> Standing:
    """A :class:`Standing` from an evaluation's frames (criterion results of the seller's metrics as of
    ``as_of``; the replay's final states; the projection) — whatever evaluation produced them."""

    def mine(f: pd.DataFrame) -> pd.DataFrame:
        if f.empty:
            return f
        return f[(f["seller_id"] == seller_id) & (f["marketplace_id"] == marketplace_id)]

    crit = mine(criteria)
    crit = crit[crit["section"].isin(["eligibility", "admission"])]
    fin, proj = mine(final), mine(projected)
    state = fin.iloc[0] if len(fin) else None
    p = proj.iloc[0] if len(proj) else None
    return Standing(
        policy=policy.name,
        policy_version=policy.version,
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        as_of=as_of,
        state=str(state["state"]) if state is not None else "not_eligible",
        since=_day(state["since"]) if state is not None else None,
        reason=(str(state["reason"]) if state is not None and isinstance(state["reason"], str) else None),
        last_evaluation=last_evaluation,
        next_evaluation=next_evaluation,
        projected_state=str(p["projected_state"]) if p is not None else None,
        projected_reason=(str(p["reason"]) if p is not None and isinstance(p["reason"], str) else None),
        criteria=[{k: r.get(k) for k in _CRITERION_FIELDS} for r in crit.to_dict("records")],
    )


def latest_standing(wh, policy: Policy, seller_id: str, marketplace_id: str, as_of: date) -> Standing:
    """The seller's standing as of ``as_of``, from an evaluation of this seller alone.

    Reads a stored run of the warehouse's current data when one answers, else evaluates this seller
    alone without storing anything (:func:`cxops.service.evaluation.run_evaluation`); the criteria are
    the policy applied to the seller's metrics as of ``as_of`` (what the projection judges).

    Raises
    ------
    NotFoundError
        No data for the seller up to ``as_of`` (an unknown seller), or none on that marketplace.
    """
    from cxops.policy.evaluate import evaluate_policy
    from cxops.service.evaluation import run_evaluation

    try:
        run = run_evaluation(wh, policy, as_of, [seller_id], persist=False)
    except NotFoundError:
        raise NotFoundError(
            f"unknown seller: no data for seller {seller_id} up to {as_of}",
            hint="check the seller id and --as-of (the seller must have orders by then)",
        ) from None
    try:
        mine = run.frame("metrics", [seller_id], lambda t: t.as_of == as_of)
        here = mine[mine["marketplace_id"] == marketplace_id]
        if here.empty:
            if mine.empty:
                raise NotFoundError(
                    f"unknown seller: no data for seller {seller_id} up to {as_of}",
                    hint="check the seller id and --as-of (the seller must have orders by then)",
                )
            where = ", ".join(sorted(set(mine["marketplace_id"])))
            raise NotFoundError(
                f"seller {seller_id} has no data on marketplace {marketplace_id} up to {as_of} "
                f"(it has: {where})"
            )
        criteria = evaluate_policy(policy, here)
        return standing_from_frames(
            policy,
            seller_id,
            marketplace_id,
            as_of,
            criteria,
            run.frame("final", [seller_id]),
            run.frame("projected", [seller_id]),
            max(run.evaluation_dates) if run.evaluation_dates else None,
            run.next_evaluation,
        )
    finally:
        run.discard()


# -- reading cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """A case with its history, entries and files.

    ``time_left`` is, for a dispute awaiting its first response, the time until ``due_at`` at ``now``
    (negative: overdue); ``None`` otherwise.
    """

    id: int
    kind: str
    status: str
    program: str
    seller_id: str
    marketplace_id: str
    order_id: str | None
    owner: str | None
    subject: str
    source: str
    opened_at: datetime
    opened_by: str
    due_at: datetime | None
    first_response_at: datetime | None
    escalated_at: datetime | None
    closed_at: datetime | None
    answer: dict[str, Any] | None
    details: dict[str, Any]
    action_id: int | None
    now: datetime
    history: pd.DataFrame = field(repr=False)
    entries: pd.DataFrame = field(repr=False)
    files: pd.DataFrame = field(repr=False)

    @property
    def time_left(self) -> timedelta | None:
        left = dispute_seconds_left(self.kind, self.status, self.first_response_at, self.due_at, self.now)
        return None if left is None else timedelta(seconds=left)

    @property
    def answered_in_time(self) -> bool | None:
        """For a dispute: first response at or before the deadline (None while none and time left)."""
        if self.kind != "dispute":
            return None
        if self.first_response_at is not None:
            return self.first_response_at <= self.due_at
        return False if self.now >= self.due_at else None

    def to_json(self) -> dict[str, Any]:
        """The case as JSON-able data (history, entries, files as lists of records)."""
        plain = {
            k: _plain(v) for k, v in self.__dict__.items() if k not in ("history", "entries", "files", "now")
        }
        for name in ("history", "entries", "files"):
            frame = getattr(self, name)
            plain[name] = [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
        return plain


def _view(session: Session, c: repo.Case, now: datetime) -> CaseView:
    return CaseView(
        id=c.id, kind=c.kind, status=c.status, program=c.program, seller_id=c.seller_id,
        marketplace_id=c.marketplace_id, order_id=c.order_id, owner=c.owner, subject=c.subject,
        source=c.source,
        opened_at=c.opened_at, opened_by=c.opened_by, due_at=c.due_at, first_response_at=c.first_response_at,
        escalated_at=c.escalated_at, closed_at=c.closed_at, answer=c.answer, details=c.details or {},
        action_id=c.action_id, now=now, history=repo.case_history(session, c.id),
        entries=repo.case_entries(session, c.id), files=repo.case_files(session, c.id),
    )  # fmt: skip


def get_case(store: Store, case_id: int, *, now: datetime | None = None) -> CaseView:
    """One case with its history, entries and files.

    Raises
    ------
    NotFoundError
        No such case.
    """
    with store.unit_of_work(write=False) as session:
        return _view(session, repo.get_case(session, case_id), now or utcnow())


def list_cases(
    store: Store,
    *,
    kind: str | None = None,
    statuses: Sequence[str] | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    owner: str | None = None,
    order_id: str | None = None,
    limit: int | None = 200,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Cases matching every filter, newest first, with ``seconds_left`` for disputes awaiting a first
    response (negative when overdue; null otherwise).

    Raises
    ------
    InputError
        An unknown kind or status.
    """
    if kind is not None and kind not in repo.CASE_KINDS:
        raise InputError(f"unknown case kind {kind!r}; known: {', '.join(repo.CASE_KINDS)}")
    bad = sorted(set(statuses or ()) - set(repo.CASE_STATUSES))
    if bad:
        raise InputError(f"unknown case status {bad[0]!r}; known: {', '.join(repo.CASE_STATUSES)}")
    now = now or utcnow()
    with store.unit_of_work(write=False) as session:
        df = repo.list_cases(session, kind=kind, statuses=statuses, seller_id=seller_id,
                             marketplace_id=marketplace_id, owner=owner, order_id=order_id,
                             limit=limit)  # fmt: skip
    # dispute_seconds_left over the whole frame at once (tested equal to it row by row: seller_cases)
    waiting = (df["kind"] == "dispute") & df["first_response_at"].isna() & (df["status"] != "closed")
    left = (pd.to_datetime(df["due_at"], utc=True) - pd.Timestamp(now)).dt.total_seconds()
    df["seconds_left"] = left.where(waiting)
    return df


def dispute_seconds_left(
    kind: str, status: str, first_response_at: datetime | None, due_at: datetime | None, now: datetime
) -> float | None:
    """Seconds left on a dispute's 24-hour clock to its first response (negative: overdue); None for
    another kind of case, a dispute answered or closed, or one without a deadline (instants UTC)."""
    if kind != "dispute" or first_response_at is not None or status == "closed" or due_at is None:
        return None
    return (due_at - now).total_seconds()


def seller_cases(store: Store, seller_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """One seller's cases on every marketplace as plain rows, newest first, with ``seconds_left``
    (:func:`dispute_seconds_left`): :func:`list_cases` for a seller's page, without a DataFrame (the two
    are tested equal)."""
    now = now or utcnow()
    with store.unit_of_work(write=False) as session:
        rows = repo.seller_cases(session, seller_id)
    for r in rows:
        r["seconds_left"] = dispute_seconds_left(
            r["kind"], r["status"], r["first_response_at"], r["due_at"], now
        )
    return rows


# -- shared checks -------------------------------------------------------------------------------------


def _who(actor: str | None) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise InputError("give the actor (--actor NAME): every case change is recorded with who made it")
    return actor[:200]


def _text(text: str | None, what: str, option: str = "--reason") -> str:
    text = (text or "").strip()
    if not text:
        raise InputError(f"give {what} ({option} TEXT)")
    return text


def _instant(at: datetime | None, now: datetime, what: str) -> datetime:
    if at is None:
        return now
    if at.tzinfo is None:
        raise InputError(
            f"{what} {at:%Y-%m-%d %H:%M} has no time zone: give it in UTC (…Z) or with an offset"
        )
    at = at.astimezone(UTC)
    if at > now + timedelta(minutes=5):
        raise InputError(f"{what} {at:%Y-%m-%d %H:%M} UTC is in the future (now is {now:%Y-%m-%d %H:%M} UTC)")
    return at


def _move(session: Session, c: repo.Case, to: str, *, actor: str, at: datetime, reason: str | None) -> None:
    allowed = TRANSITIONS[c.kind].get(c.status, frozenset())
    if to not in allowed:
        if c.status == "closed":
            raise ConflictError(
                f"case {c.id} is closed (since {c.closed_at:%Y-%m-%d %H:%M} UTC): it takes no more changes",
                hint="open a new case if the matter is not settled",
            )
        nexts = ", ".join(sorted(allowed)) or "nothing"
        raise ConflictError(f"case {c.id} ({c.kind}) is {c.status}: it can become {nexts}, not {to}")
    repo.set_status(session, c, to, actor=actor, at=at, reason=reason)


def _an(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _default_owner(session: Session, program: str, seller_id: str, marketplace_id: str) -> str | None:
    m = get_membership(session, program, seller_id, marketplace_id)
    return m.account_manager_id if m is not None else None


# -- inquiries -----------------------------------------------------------------------------------------


def open_inquiry(
    store: Store,
    wh,
    policy: Policy,
    seller_id: str,
    marketplace_id: str,
    *,
    as_of: date,
    actor: str,
    question: str | None = None,
    by: Literal["seller", "operator"] = "seller",
    program: str | None = None,
    standing: Callable[..., Standing] = latest_standing,
) -> CaseView:
    """Open an eligibility inquiry and answer it at once from the seller's standing (sent to the seller).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
        Read only.
    as_of : datetime.date
        The day the standing is judged as of (the latest day of complete data).
    by : {"seller", "operator"}
        Who asks: the seller, or an operator on the seller's behalf.
    standing : callable
        ``(wh, policy, seller_id, marketplace_id, as_of) -> Standing`` (default :func:`latest_standing`).

    Raises
    ------
    InputError
        No actor; ``by`` unknown.
    NotFoundError
        No data for the seller (on that marketplace) up to ``as_of``.
    """
    actor = _who(actor)
    if by not in ("seller", "operator"):
        raise InputError(f"by must be seller or operator, not {by!r}")
    program = program or policy.name
    answer = standing(
        wh, policy, seller_id, marketplace_id, as_of
    )  # may take seconds: outside the transaction
    data = answer.to_json()
    now = utcnow()
    with store.unit_of_work() as session:
        c = repo.add_case(
            session, kind="inquiry", program=program, seller_id=seller_id, marketplace_id=marketplace_id,
            status="open", owner=_default_owner(session, program, seller_id, marketplace_id),
            subject=(question or "").strip() or "Why am I not in the program? (Performance Advisor Request)",
            source=by, opened_at=now, opened_by=actor, answer=data,
            details={"as_of": as_of.isoformat(), "policy": policy.name, "policy_version": policy.version},
        )  # fmt: skip
        summary = (f"{answer.state} as of {as_of}; next evaluation {answer.next_evaluation or '—'}: "
                   f"projected {answer.projected_state or '—'}")  # fmt: skip
        repo.add_entry(session, c, kind="answer", role="system", author="system", text=summary, at=now)
        _move(session, c, "answered", actor="system", at=now, reason="answered from the latest evaluation")
        _notify(session, c, "inquiry_answered", f"case:{c.id}:answered", answer=data)
        return _view(session, c, now)


# -- disputes ------------------------------------------------------------------------------------------


def _orders(wh, order_ids: Sequence[str]) -> pd.DataFrame:
    """``seller_id, order_id, marketplace_id`` of the orders with these ids (any seller)."""
    if not wh.has_table("orders"):
        raise NotFoundError(f"the warehouse {wh.url} has no orders: import data first")
    o = wh.table("orders")
    ids = sorted({str(i) for i in order_ids})
    return wh.execute(o.filter(o.order_id.isin(ids)).select("seller_id", "order_id", "marketplace_id"))


def _order_of(wh, seller_id: str, order_id: str) -> str:
    """The marketplace of the seller's order ``order_id``.

    Raises
    ------
    NotFoundError
        No order has this id.
    InputError
        The order belongs to another seller (who is not named).
    """
    rows = _orders(wh, [order_id])
    mine = rows[rows["seller_id"] == seller_id]
    if mine.empty:
        if rows.empty:
            raise NotFoundError(f"order {order_id} does not exist in the warehouse {wh.url}")
        raise InputError(
            f"order {order_id} is not an order of seller {seller_id}: it belongs to another seller"
        )
    return str(mine.iloc[0]["marketplace_id"])


def _zone(wh, marketplace_id: str) -> str:
    from cxops.canonical.marketplaces import timezone_of

    zones = None
    if wh.has_table("marketplaces"):
        m = wh.execute(wh.table("marketplaces").select("marketplace_id", "timezone"))
        zones = dict(zip(m["marketplace_id"], m["timezone"], strict=True))
    try:
        return timezone_of(marketplace_id, zones)
    except KeyError as e:
        raise InputError(str(e).strip("'\"")) from None


def dispute_key(seller_id: str, order_id: str, dispute_id: str | None, opened_at: datetime) -> str:
    """The idempotency key of a dispute: its id when the source gives one, else when it was opened."""
    return f"dispute:{seller_id}:{order_id}:{dispute_id or opened_at.astimezone(UTC).isoformat()}"


def open_dispute(
    store: Store,
    wh,
    seller_id: str,
    order_id: str,
    *,
    reason: str,
    actor: str,
    buyer_message: str | None = None,
    opened_at: datetime | None = None,
    dispute_id: str | None = None,
    program: str = DEFAULT_PROGRAM,
    rules: CaseRules = DEFAULT_RULES,
    now: datetime | None = None,
) -> CaseView:
    """Open a buyer dispute for one of the seller's orders; its first response is due in 24 clock hours.

    Parameters
    ----------
    opened_at : datetime, optional
        When the buyer opened it: UTC-aware, or naive wall-clock time of the order's marketplace
        (converted with the importers' DST rule, :mod:`cxops.ingest.wallclock`). Default: now.
    dispute_id : str, optional
        The marketplace's id of the dispute (claim id), if any.

    Raises
    ------
    InputError
        No reason or actor; ``opened_at`` in the future; the order belongs to another seller.
    NotFoundError
        The order does not exist.
    ConflictError
        The same dispute (same order and dispute id) is open already.
    """
    reason = _text(reason, "the buyer's reason for the dispute")
    actor = _who(actor)
    now = now or utcnow()
    marketplace_id = _order_of(wh, seller_id, order_id)
    if opened_at is not None and opened_at.tzinfo is None:
        opened_at = _localize([opened_at], _zone(wh, marketplace_id))[0]
    opened = _instant(opened_at, now, "opened at")
    with store.unit_of_work() as session:
        same = repo.list_cases(session, kind="dispute", seller_id=seller_id, order_id=order_id,
                               statuses=["open", "escalated", "responded"])  # fmt: skip
        same = same[[(d or {}).get("dispute_id") == dispute_id for d in same["details"]]]
        if len(same):
            raise ConflictError(
                f"order {order_id} has an open dispute already: case {int(same.iloc[0]['id'])}",
                hint=f"respond to it: cxops case respond {int(same.iloc[0]['id'])} --text …",
            )
        c = repo.add_case(
            session, kind="dispute", program=program, seller_id=seller_id, marketplace_id=marketplace_id,
            order_id=order_id, status="open",
            owner=_default_owner(session, program, seller_id, marketplace_id),
            subject=reason, source="operator", opened_at=opened, opened_by=actor,
            due_at=opened + timedelta(hours=rules.dispute_first_response_hours),
            details={"buyer_message": (buyer_message or "").strip() or None, "dispute_id": dispute_id},
            idempotency_key=dispute_key(seller_id, order_id, dispute_id, opened),
        )  # fmt: skip
        _notify(session, c, "dispute_opened", f"case:{c.id}:opened", due_at=c.due_at.isoformat())
        return _view(session, c, now)


def _localize(values: Sequence[datetime], tz: str) -> list[datetime]:
    from cxops.ingest.wallclock import local_to_utc

    utc, _ = local_to_utc(pd.Series(pd.to_datetime(list(values))), tz)
    return [t.to_pydatetime().replace(tzinfo=UTC) for t in utc]


#: Columns of a disputes file; the first four are required.
DISPUTE_COLUMNS = (
    "order_id",
    "seller_id",
    "opened_at",
    "reason",
    "buyer_message",
    "marketplace_id",
    "dispute_id",
)


@dataclass(frozen=True)
class DisputeImport:
    """The outcome of :func:`import_disputes`: rows ``read`` = ``opened`` + ``duplicates`` +
    ``quarantined``; ``problems`` (``line, column, value, problem``) lists the rows refused;
    ``cases`` the ids opened; ``quarantine`` the file the refused rows were written to."""

    path: Path
    read: int
    opened: int
    duplicates: int
    quarantined: int
    cases: list[int]
    problems: pd.DataFrame
    quarantine: Path | None = None


def _read_disputes(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"disputes file {path} not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text: save the disputes file as UTF-8 CSV") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path} is not a readable CSV file: {e}") from None
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    missing = [c for c in DISPUTE_COLUMNS[:4] if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint=f"a disputes file has the columns {', '.join(DISPUTE_COLUMNS[:4])} and optionally "
            f"{', '.join(DISPUTE_COLUMNS[4:])}",
        )
    for c in DISPUTE_COLUMNS[4:]:
        if c not in df.columns:
            df[c] = ""
    df = df[list(DISPUTE_COLUMNS)].apply(lambda s: s.str.strip())
    df.insert(0, "line", np.arange(2, len(df) + 2))  # the header is line 1
    return df


def _check_disputes(wh, df: pd.DataFrame, now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate every row at once; returns (good rows with ``marketplace``, ``opened``; problems)."""
    problems: list[pd.DataFrame] = []

    def flag(mask: pd.Series, column: str, message: str | pd.Series) -> None:
        if mask.any():
            bad = df.loc[mask, ["line", column]].rename(columns={column: "value"})
            bad.insert(1, "column", column)
            bad["problem"] = message[mask] if isinstance(message, pd.Series) else message
            problems.append(bad)

    for col in DISPUTE_COLUMNS[:4]:
        flag(df[col] == "", col, "is empty")
    owners = _orders(wh, df.loc[df["order_id"] != "", "order_id"].tolist())
    known = df.merge(owners, on="order_id", how="left", suffixes=("", "_wh"), indicator=False)
    exists = df["order_id"].isin(owners["order_id"])
    pair = pd.MultiIndex.from_frame(df[["seller_id", "order_id"]])
    of_seller = pair.isin(pd.MultiIndex.from_frame(owners[["seller_id", "order_id"]]))
    flag((df["order_id"] != "") & ~exists, "order_id", "no order with this id in the warehouse")
    flag((df["order_id"] != "") & (df["seller_id"] != "") & exists & ~of_seller, "order_id",
         "the order belongs to another seller, not to this seller_id")  # fmt: skip
    mine = df[["seller_id", "order_id"]].merge(owners, on=["seller_id", "order_id"], how="left")
    df = df.assign(marketplace=mine["marketplace_id"].to_numpy())
    wrong_mp = (
        (df["marketplace_id"] != "") & df["marketplace"].notna() & (df["marketplace_id"] != df["marketplace"])
    )
    flag(
        wrong_mp, "marketplace_id", "the order is on marketplace " + df["marketplace"].fillna("").astype(str)
    )
    del known
    # opened_at: with an offset (or Z) it is an instant; without, wall-clock time of the order's marketplace
    text = df["opened_at"]
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    opened = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us, UTC]")
    aware = pd.to_datetime(text.where(has_offset), errors="coerce", utc=True, format="ISO8601")
    opened[has_offset] = aware[has_offset]
    naive = pd.to_datetime(text.where(~has_offset & (text != "")), errors="coerce", format="ISO8601")
    for mp, idx in (
        df[~has_offset & naive.notna() & df["marketplace"].notna()].groupby("marketplace").groups.items()
    ):
        local = _localize(naive[idx].tolist(), _zone(wh, mp))  # one conversion per marketplace
        opened[idx] = pd.to_datetime(local, utc=True)
    unparsed = (text != "") & ((has_offset & aware.isna()) | (~has_offset & naive.isna()))
    flag(
        unparsed,
        "opened_at",
        "not a date and time (e.g. 2026-11-03T14:20:00Z, or local time 2026-11-03 14:20)",
    )
    flag(opened > pd.Timestamp(now + timedelta(minutes=5)), "opened_at", "is in the future")
    df = df.assign(opened=opened)
    dup = df.duplicated(["seller_id", "order_id", "dispute_id", "opened_at"], keep="first") & (
        df["order_id"] != ""
    )
    flag(dup, "order_id", "the same dispute appears on an earlier line")
    bad = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(
        columns=["line", "column", "value", "problem"])  # fmt: skip
    bad = bad.sort_values(["line", "column"], kind="stable", ignore_index=True)
    good = df[~df["line"].isin(bad["line"])]
    return good, bad


def import_disputes(
    store: Store,
    wh,
    path: str | Path,
    *,
    actor: str,
    program: str = DEFAULT_PROGRAM,
    skip_bad: bool = False,
    quarantine: str | Path | None = None,
    rules: CaseRules = DEFAULT_RULES,
    now: datetime | None = None,
) -> DisputeImport:
    """Open a dispute per row of a CSV file (``order_id, seller_id, opened_at, reason`` and optionally
    ``buyer_message, marketplace_id, dispute_id``), all in one transaction.

    Every row is checked first (blank required values, unparseable or future ``opened_at``, an order
    that does not exist or belongs to another seller, a marketplace that is not the order's, a row
    repeated). With any problem nothing is opened and :class:`InputError` lists them (file, line,
    column), unless ``skip_bad``: then the valid rows are opened and the others written to
    ``quarantine`` (a CSV with the problem of each). A dispute imported before (same seller, order,
    dispute id or opening instant) is counted as a duplicate and not opened again, so importing the
    same file twice opens nothing the second time.

    Raises
    ------
    InputError
        The file cannot be read, lacks a required column, or has bad rows (without ``skip_bad``).
    """
    actor = _who(actor)
    path = Path(path)
    now = now or utcnow()
    df = _read_disputes(path)
    good, bad = _check_disputes(wh, df, now)
    if len(bad) and not skip_bad:
        shown = "\n".join(
            f"  {path}:{r.line}: {r.column} {r.value!r}: {r.problem}" for r in bad.head(10).itertuples()
        )
        more = f"\n  … and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise InputError(
            f"{path}: {bad['line'].nunique()} of {len(df)} rows cannot be imported; nothing was opened:"
            f"\n{shown}{more}",
            hint="fix the rows, or pass --skip-bad (and --quarantine FILE) to open the valid rows and "
            "set the others aside",
        )
    qpath = None
    if len(bad):
        qpath = Path(quarantine) if quarantine else path.with_name(path.stem + ".quarantine.csv")
        rows = df.merge(
            bad.groupby("line")
            .agg(problem=("problem", "; ".join), column=("column", ",".join))
            .reset_index(),
            on="line",
        )
        _write_csv(rows, qpath)
    due = pd.Timedelta(hours=rules.dispute_first_response_hours)
    with store.unit_of_work() as session:
        keys = [dispute_key(s, o, d or None, t.to_pydatetime())
                for s, o, d, t in zip(good["seller_id"], good["order_id"], good["dispute_id"], good["opened"],
                                      strict=True)]  # fmt: skip
        owners = _owners(session, program, good)
        frame = pd.DataFrame(
            {
                "kind": "dispute",
                "program": program,
                "seller_id": good["seller_id"].to_numpy(),
                "marketplace_id": good["marketplace"].to_numpy(),
                "order_id": good["order_id"].to_numpy(),
                "status": "open",
                "owner": owners,
                "subject": good["reason"].to_numpy(),
                "source": "import",
                "opened_at": good["opened"].to_numpy(),
                "opened_by": actor,
                "due_at": (good["opened"] + due).to_numpy(),
                "details": [
                    {
                        "buyer_message": m or None,
                        "dispute_id": d or None,
                        "file": path.name,
                        "line": int(line),
                    }
                    for m, d, line in zip(
                        good["buyer_message"], good["dispute_id"], good["line"], strict=True
                    )
                ],
                "idempotency_key": keys,
            }
        )
        opened = repo.add_cases(session, frame, now=now)
        for c in opened.itertuples():  # one message per dispute opened
            notify_case(session, program=program, seller_id=c.seller_id, marketplace_id=c.marketplace_id,
                        kind="case.updated", idempotency_key=f"case:{c.id}:opened",
                        context={"event": "dispute_opened", "case_id": int(c.id), "case_kind": "dispute",
                                 "status": "open", "order_id": c.order_id,
                                 "due_at": pd.Timestamp(c.due_at).isoformat()})  # fmt: skip
    return DisputeImport(path, len(df), len(opened), len(good) - len(opened), int(bad["line"].nunique()),
                         [int(i) for i in opened["id"]], bad, qpath)  # fmt: skip


def _owners(session: Session, program: str, rows: pd.DataFrame) -> list[str | None]:
    """The account manager of each row's seller (``seller_id``, ``marketplace``), in one query."""
    from cxops.store.memberships import load_memberships

    if rows.empty:
        return []
    m = load_memberships(session, program, sellers=sorted(set(rows["seller_id"])))
    m = m[["seller_id", "marketplace_id", "account_manager_id"]].rename(
        columns={"marketplace_id": "marketplace"}
    )
    got = rows[["seller_id", "marketplace"]].merge(m, on=["seller_id", "marketplace"], how="left")
    return [None if pd.isna(v) else v for v in got["account_manager_id"]]


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    import os
    import uuid

    from cxops.errors import OutputError

    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None


def respond(
    store: Store,
    case_id: int,
    text: str,
    *,
    actor: str,
    role: Literal["seller", "operator"] = "seller",
    at: datetime | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
    files: docs.FileStore | None = None,
    settings: docs.DocumentSettings | None = None,
) -> CaseView:
    """Respond on a case (the first response of a dispute stops its clock); the seller is told.

    Parameters
    ----------
    at : datetime, optional
        When the response was given (UTC-aware; default now): a response recorded after the fact.
    attachments : list of (file name, bytes)
        Evidence files (PDF, PNG or JPEG by content, within the size limit); need ``files``.

    Raises
    ------
    InputError
        Empty text or actor; ``at`` without time zone, in the future or before the case opened; an
        attachment of the wrong type or too large.
    NotFoundError
        No such case.
    ConflictError
        The case is closed.
    """
    text = _text(text, "the response", "--text")
    actor = _who(actor)
    now = utcnow()
    at = _instant(at, now, "the response time")
    stored = _store_files(attachments, files, settings)
    with store.unit_of_work() as session:
        c = repo.get_case(session, case_id, for_update=True)
        if c.status == "closed":
            _move(session, c, "responded", actor=actor, at=at, reason=None)  # raises: closed
        if at < c.opened_at:
            raise InputError(f"the response time {at:%Y-%m-%d %H:%M} UTC is before the case was opened")
        repo.add_entry(session, c, kind="response", role=role, author=actor, text=text, at=at, files=stored)
        if c.kind == "dispute" and c.first_response_at is None:
            c.first_response_at = at
            _move(session, c, "responded", actor=actor, at=at, reason="first response")
        _notify(session, c, "response", f"case:{c.id}:response:{at.isoformat()}:{actor}", text=text)
        return _view(session, c, now)


def _store_files(
    attachments: Sequence[tuple[str, bytes]],
    files: docs.FileStore | None,
    settings: docs.DocumentSettings | None,
) -> list[dict[str, Any]]:
    """Check every attachment (size, type from the content), then store them; their rows' data."""
    if not attachments:
        return []
    if files is None:
        raise InputError("attachments need a documents location (CXOPS_DOCUMENTS_URL)")
    settings = settings or docs.DocumentSettings()
    checked = []
    for name, data in attachments:
        name = Path(name).name or "attachment"
        docs.check_size(data, settings.max_bytes, name)
        checked.append((name, data, docs.sniff(data, name)))
    out = []
    for name, data, kind in checked:  # every file checked before the first is stored
        out.append({"sha256": files.put(data), "filename": name[:300], "size": len(data),
                    "content_type": kind.content_type})  # fmt: skip
    return out


def assign(store: Store, case_id: int, owner: str | None, *, actor: str, reason: str) -> CaseView:
    """Give a case to ``owner`` (an active account manager's id or an operator's login; ``None``:
    unassign).

    Raises
    ------
    InputError
        No reason or actor.
    NotFoundError
        No such case; ``owner`` is neither an account manager nor an operator.
    ConflictError
        The case is closed, the manager inactive, or ``owner`` is the owner already.
    """
    reason = _text(reason, "a reason")
    actor = _who(actor)
    owner = (owner or "").strip() or None
    with store.unit_of_work() as session:
        c = repo.get_case(session, case_id, for_update=True)
        if c.status == "closed":
            raise ConflictError(f"case {case_id} is closed: it cannot be reassigned")
        if owner is not None:
            manager = session.get(AccountManager, owner)
            user = session.scalars(select(User).where(User.login == owner.lower())).first()
            if manager is None and (user is None or not user.role.startswith("operator")):
                raise NotFoundError(
                    f"unknown owner {owner!r}: not an account manager id nor an operator's login",
                    hint="see cxops managers list and cxops users list",
                )
            if manager is not None and not manager.active and user is None:
                raise ConflictError(f"account manager {owner} is inactive")
            owner = manager.id if manager is not None else user.login
        if owner == c.owner:
            raise ConflictError(
                f"case {case_id} is {'unassigned' if owner is None else 'owned by ' + owner} already"
            )
        repo.set_owner(session, c, owner, actor=actor, reason=reason)
        return _view(session, c, utcnow())


def escalate(store: Store, case_id: int, *, actor: str, reason: str) -> CaseView:
    """Escalate an open dispute by hand (the sweep escalates overdue ones by itself).

    Raises
    ------
    ConflictError
        The case is not an open dispute.
    """
    reason = _text(reason, "a reason")
    actor = _who(actor)
    now = utcnow()
    with store.unit_of_work() as session:
        c = repo.get_case(session, case_id, for_update=True)
        _move(session, c, "escalated", actor=actor, at=now, reason=reason)
        _notify(session, c, "escalated", f"case:{c.id}:escalated", reason=reason)
        return _view(session, c, now)


@dataclass(frozen=True)
class Sweep:
    """What :func:`sweep` did: the disputes escalated now (``id, program, seller_id, marketplace_id,
    order_id, owner, due_at``)."""

    now: datetime
    escalated: pd.DataFrame


def sweep(store: Store, *, now: datetime | None = None) -> Sweep:
    """Escalate every open dispute whose first response is overdue at ``now`` (one transaction).

    Idempotent: a dispute is escalated once, so running it again (the daily job, ``cxops case
    sweep`` from cron, a rerun after a crash) escalates only disputes that became overdue since.
    """
    now = now or utcnow()
    if now.tzinfo is None:
        raise InputError("the sweep's time needs a time zone (UTC)")
    with store.unit_of_work() as session:
        done = repo.escalate_overdue(session, now)
        for c in done.itertuples():  # one message per dispute escalated
            notify_case(session, program=c.program, seller_id=c.seller_id, marketplace_id=c.marketplace_id,
                        kind="case.updated", idempotency_key=f"case:{c.id}:escalated",
                        context={"event": "escalated", "case_id": int(c.id), "case_kind": "dispute",
                                 "status": "escalated", "order_id": c.order_id,
                                 "due_at": pd.Timestamp(c.due_at).isoformat()})  # fmt: skip
    return Sweep(now, done)


def dispute_sla(
    store: Store,
    *,
    opened_from: datetime | None = None,
    opened_before: datetime | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """First-response SLA of disputes per seller (see :func:`cxops.store.cases.dispute_sla`), plus
    ``median_response_hours`` (clock hours)."""
    with store.unit_of_work(write=False) as session:
        df = repo.dispute_sla(session, now=now or utcnow(), opened_from=opened_from,
                              opened_before=opened_before,
                              seller_id=seller_id, marketplace_id=marketplace_id)  # fmt: skip
    df["median_response_hours"] = df["median_response_seconds"] / 3600.0
    return df


def evidence_bundle(
    store: Store,
    wh,
    policy: Policy,
    case_id: int,
    out: str | Path,
    *,
    files: docs.FileStore | None = None,
    rules: CaseRules = DEFAULT_RULES,
    lang: str = "en",
):
    """Export the evidence bundle of a dispute as a zip with a manifest
    (:func:`cxops.service.evidence.write_bundle`).

    Raises
    ------
    NotFoundError
        No such case, or an attached file is missing.
    ConflictError
        The case is not a dispute.
    InputError, OutputError
        See :func:`cxops.service.evidence.write_bundle`.
    """
    from cxops.service.evidence import write_bundle

    view = get_case(store, case_id)
    if view.kind != "dispute":
        raise ConflictError(f"case {case_id} is {_an(view.kind)}: an evidence bundle is for a dispute")
    attachments = []
    if len(view.files):
        if files is None:
            raise InputError("the case has attached files: the documents location is needed")
        attachments = [(f"{r.entry_id}-{r.filename}", files.get(r.sha256)) for r in view.files.itertuples()]
    return write_bundle(wh, policy, view.to_json(), out, attachments=attachments,
                        first_response_hours=rules.dispute_first_response_hours, lang=lang)  # fmt: skip


# -- appeals -------------------------------------------------------------------------------------------


def open_appeal(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    plan: str,
    *,
    actor: str,
    by: Literal["seller", "operator"] = "seller",
    attachments: Sequence[tuple[str, bytes]] = (),
    files: docs.FileStore | None = None,
    settings: docs.DocumentSettings | None = None,
    program: str = DEFAULT_PROGRAM,
) -> CaseView:
    """A removed or suspended seller appeals with an action plan (text and optional documents).

    Raises
    ------
    InputError
        An empty plan or actor; an attachment of the wrong type or too large.
    NotFoundError
        The seller has no membership in the program on that marketplace.
    ConflictError
        The seller is not in a state a reinstatement is possible from, or has an appeal open.
    """
    plan = _text(plan, "the action plan", "--plan")
    actor = _who(actor)
    with store.unit_of_work(write=False) as session:
        _appealable(session, program, seller_id, marketplace_id)
    stored = _store_files(attachments, files, settings)
    now = utcnow()
    with store.unit_of_work() as session:
        m = _appealable(session, program, seller_id, marketplace_id)
        c = repo.add_case(
            session, kind="appeal", program=program, seller_id=seller_id, marketplace_id=marketplace_id,
            status="open", owner=m.account_manager_id, subject=plan.splitlines()[0][:200], source=by,
            opened_at=now, opened_by=actor,
            details={"state": m.state, "since": m.since and m.since.isoformat()},
        )  # fmt: skip
        repo.add_entry(session, c, kind="action_plan", role=by, author=actor, text=plan, at=now, files=stored)
        _notify(session, c, "appeal_received", f"case:{c.id}:opened")
        return _view(session, c, now)


def _appealable(session: Session, program: str, seller_id: str, marketplace_id: str):
    m = get_membership(session, program, seller_id, marketplace_id)
    if m is None:
        raise NotFoundError(
            f"unknown seller: {seller_id} has no membership in {program} on marketplace {marketplace_id}"
        )
    if m.state not in APPEALABLE:
        raise ConflictError(
            f"seller {seller_id} on {marketplace_id} is {m.state}: an appeal is for a seller who is "
            + ", ".join(sorted(APPEALABLE))
        )
    open_ = repo.list_cases(session, kind="appeal", seller_id=seller_id, marketplace_id=marketplace_id,
                            statuses=["open"])  # fmt: skip
    if len(open_):
        raise ConflictError(
            f"seller {seller_id} on {marketplace_id} has an open appeal: case {int(open_.iloc[0]['id'])}"
        )
    return m


class _Joined:
    """A store whose unit of work is a savepoint of an open session: a service function that opens its
    own transaction (:func:`cxops.service.actions.request_action`) then joins the caller's, so the
    action and the case change commit together or not at all."""

    def __init__(self, session: Session):
        self._session = session

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        with self._session.begin_nested():
            yield self._session


def accept_appeal(store: Store, case_id: int, *, actor: str, reason: str) -> tuple[CaseView, ActionResult]:
    """Accept an appeal: record the pending ``accept_plan`` action (the next daily run reinstates the
    seller under the policy's immunity) and the decision, in one transaction.

    Raises
    ------
    InputError
        No reason or actor.
    NotFoundError
        No such case (or the seller's membership is gone).
    ConflictError
        The case is not an open appeal; the seller's state no longer allows it (e.g. reinstated by
        hand meanwhile), or a decision on a plan is pending already.
    """
    return _decide(store, case_id, "accept_plan", actor=actor, reason=reason)


def reject_appeal(store: Store, case_id: int, *, actor: str, reason: str) -> CaseView:
    """Reject an appeal with the reason (the seller is told): records the pending ``reject_plan`` action
    (the lifecycle logs the rejection; the state stays) and the decision, in one transaction.

    Raises
    ------
    InputError
        No reason (the seller is told why) or actor.
    ConflictError
        The case is not an open appeal, or the seller's state no longer allows a decision on a plan.
    """
    reason = _text(reason, "the reason for rejecting (the seller is told)")
    return _decide(store, case_id, "reject_plan", actor=actor, reason=reason)[0]


def _decide(
    store: Store, case_id: int, kind: str, *, actor: str, reason: str
) -> tuple[CaseView, ActionResult]:
    reason = _text(reason, "a reason")
    actor = _who(actor)
    now = utcnow()
    verdict = "accepted" if kind == "accept_plan" else "rejected"
    with store.unit_of_work() as session:
        c = _open_appeal_case(session, case_id, verdict)
        action = request_action(
            _Joined(session), kind, c.seller_id, c.marketplace_id,
            reason=f"appeal {c.id} {verdict}: {reason}", actor=actor, program=c.program,
            idempotency_key=f"appeal:{c.id}:{kind}",
        )  # fmt: skip
        c.action_id = action.action_id
        repo.add_entry(session, c, kind="decision", role="operator", author=actor, text=reason, at=now)
        _move(session, c, verdict, actor=actor, at=now, reason=reason)
        _notify(session, c, f"appeal_{verdict}", f"case:{c.id}:{verdict}", reason=reason,
                action_id=action.action_id)  # fmt: skip
        return _view(session, c, now), action


def _open_appeal_case(session: Session, case_id: int, verdict: str) -> repo.Case:
    c = repo.get_case(session, case_id, for_update=True)
    if c.kind != "appeal":
        raise ConflictError(f"case {case_id} is {_an(c.kind)}, not an appeal")
    if c.status != "open":
        _move(session, c, verdict, actor="", at=utcnow(), reason=None)  # raises with the reason
    return c


def close(store: Store, case_id: int, *, actor: str, reason: str) -> CaseView:
    """Close a case (final); the seller is told.

    Raises
    ------
    ConflictError
        The case is closed already.
    """
    reason = _text(reason, "a reason")
    actor = _who(actor)
    now = utcnow()
    with store.unit_of_work() as session:
        c = repo.get_case(session, case_id, for_update=True)
        _move(session, c, "closed", actor=actor, at=now, reason=reason)
        _notify(session, c, "closed", f"case:{c.id}:closed", reason=reason)
        return _view(session, c, now)


__all__ = [
    "APPEALABLE",
    "DEFAULT_RULES",
    "DISPUTE_COLUMNS",
    "TRANSITIONS",
    "CaseRules",
    "CaseView",
    "DisputeImport",
    "Standing",
    "Sweep",
    "accept_appeal",
    "assign",
    "close",
    "dispute_key",
    "dispute_sla",
    "escalate",
    "evidence_bundle",
    "get_case",
    "import_disputes",
    "latest_standing",
    "list_cases",
    "notify_case",
    "open_appeal",
    "open_dispute",
    "open_inquiry",
    "reject_appeal",
    "respond",
    "standing_from_frames",
    "sweep",
]
