"""Operator actions waiting for the daily job.

An action (exempt, suspend, reinstate, assign a manager) is validated and recorded when an operator
asks for it (:mod:`cxops.service.actions`), and takes effect at the next daily run. The job reads
:func:`pending_actions`, applies each through the lifecycle, and marks it :func:`mark_applied` or
:func:`mark_rejected` (with the reason, e.g. the seller was removed since) in the run's transaction.
Manager assignments need no lifecycle: :func:`apply_manager_actions` applies them in bulk.
Every status change is logged as an event (``action_applied`` / ``action_rejected`` /
``action_cancelled``) with the action's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, NotFoundError
from cxops.store import bulk
from cxops.store.events import append_events, record_event
from cxops.store.managers import assign
from cxops.store.memberships import MEMBERSHIPS
from cxops.store.models import Action
from cxops.store.types import utcnow

ACTIONS = Action.__table__


def create_action(
    session: Session,
    *,
    program: str,
    seller_id: str,
    marketplace_id: str,
    kind: str,
    actor: str,
    reason: str,
    until: date | None = None,
    manager_id: str | None = None,
    idempotency_key: str | None = None,
    requested_at: datetime | None = None,
) -> Action:
    """Record a pending action and its ``action_requested`` event; returns the action with its id."""
    action = Action(
        program=program,
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        kind=kind,
        status="pending",
        actor=actor,
        reason=reason,
        until=until,
        manager_id=manager_id,
        requested_at=requested_at or utcnow(),
        idempotency_key=idempotency_key,
    )
    session.add(action)
    session.flush()
    details = {k: v for k, v in (("until", until and until.isoformat()), ("manager_id", manager_id)) if v}
    record_event(
        session,
        kind="action_requested",
        idempotency_key=f"action:{action.id}:requested",
        actor=actor,
        program=program,
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        reason=reason,
        details={"action": kind, **details},
        occurred_at=action.requested_at,
        action_id=action.id,
    )
    return action


def find_action(session: Session, idempotency_key: str) -> Action | None:
    """The action recorded under a client's idempotency key, if any."""
    return session.scalars(select(Action).where(Action.idempotency_key == idempotency_key)).first()


def pending_actions(
    session: Session,
    upto: datetime | None = None,
    *,
    program: str | None = None,
    kinds: Iterable[str] | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
) -> pd.DataFrame:
    """Pending actions requested up to ``upto`` (UTC instant; default: all), oldest first.

    Returns
    -------
    pandas.DataFrame
        The columns of ``actions`` (``id``, ``program``, ``seller_id``, ``marketplace_id``,
        ``kind``, ``actor``, ``reason``, ``until``, ``manager_id``, ``requested_at``, …), ordered
        by ``id`` — the order to apply them in.
    """
    t = ACTIONS
    stmt = select(t).where(t.c.status == "pending")
    if upto is not None:
        stmt = stmt.where(t.c.requested_at <= upto)
    stmt = bulk.where_equal(stmt, t, program=program, seller_id=seller_id, marketplace_id=marketplace_id)
    if kinds is not None:
        stmt = stmt.where(t.c.kind.in_(list(kinds)))
    return bulk.frame(session, stmt.order_by(t.c.id))


def _settle(
    session: Session,
    ids: Sequence[int],
    status: str,
    *,
    run_id: int | None,
    outcome: str | None,
    actor: str,
    at: datetime | None,
) -> int:
    ids = [int(i) for i in ids]
    if not ids:
        return 0
    at = at or utcnow()
    rows = bulk.frame(session, select(ACTIONS).where(ACTIONS.c.id.in_(ids)))
    if len(rows) != len(set(ids)):
        missing = sorted(set(ids) - set(rows["id"].astype(int)))
        raise NotFoundError(f"action(s) {', '.join(map(str, missing))} not found")
    settled = rows[rows["status"] != "pending"]
    if len(settled):
        r = settled.iloc[0]
        raise ConflictError(f"action {r.id} is {r.status} already, not pending")
    for chunk in (ids[i : i + 10_000] for i in range(0, len(ids), 10_000)):
        session.execute(
            update(ACTIONS)
            .where(ACTIONS.c.id.in_(chunk), ACTIONS.c.status == "pending")
            .values(status=status, applied_at=at, run_id=run_id, outcome=outcome)
        )
    events = pd.DataFrame(
        {
            "program": rows["program"],
            "seller_id": rows["seller_id"],
            "marketplace_id": rows["marketplace_id"],
            "action_id": rows["id"].astype("int64"),
            "idempotency_key": "action:" + rows["id"].astype(str) + ":" + status,
            "details": [{"action": k} for k in rows["kind"]],
        }
    )
    append_events(
        session, events, kind=f"action_{status}", actor=actor, reason=outcome, occurred_at=at, run_id=run_id
    )
    return len(ids)


def mark_applied(
    session: Session, action_ids: Sequence[int], *, run_id: int | None = None, at: datetime | None = None
) -> int:
    """Mark pending actions applied (by the run ``run_id``); logs ``action_applied`` events.

    Raises
    ------
    NotFoundError, ConflictError
        An unknown id, or an action no longer pending.
    """
    return _settle(session, action_ids, "applied", run_id=run_id, outcome=None, actor="system", at=at)


def mark_rejected(
    session: Session,
    action_ids: Sequence[int],
    outcome: str,
    *,
    run_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Mark pending actions rejected with the reason (``outcome``); logs ``action_rejected`` events."""
    return _settle(session, action_ids, "rejected", run_id=run_id, outcome=outcome, actor="system", at=at)


def cancel_action(session: Session, action_id: int, *, actor: str, reason: str) -> None:
    """Withdraw a pending action (an operator changed their mind); logs ``action_cancelled``."""
    _settle(session, [action_id], "cancelled", run_id=None, outcome=reason, actor=actor, at=None)


def apply_manager_actions(
    session: Session, program: str, *, upto: datetime | None = None, run_id: int | None = None
) -> int:
    """Apply the pending ``assign_manager`` actions of ``program`` in bulk; returns how many.

    When a seller has several pending assignments, the newest wins and the older ones are applied
    as superseded. Assignments whose seller has no membership any more are rejected.
    """
    todo = pending_actions(session, upto, program=program, kinds=["assign_manager"])
    if todo.empty:
        return 0
    last = todo.drop_duplicates(["seller_id", "marketplace_id"], keep="last")
    m = MEMBERSHIPS
    members = bulk.frame(
        session,
        bulk.for_sellers(
            select(m.c.seller_id, m.c.marketplace_id).where(m.c.program == program), m, last.seller_id
        ),
    ).assign(_member=True)
    last = last.merge(members, on=["seller_id", "marketplace_id"], how="left")
    gone = last[last["_member"].isna()]
    ok = last[last["_member"].notna()]
    if len(gone):
        mark_rejected(session, gone["id"].tolist(), "the seller has no membership any more", run_id=run_id)
    assign(
        session,
        program,
        ok[["seller_id", "marketplace_id", "manager_id", "actor", "reason"]].assign(action_id=ok["id"]),
        run_id=run_id,
    )
    superseded = todo[~todo["id"].isin(last["id"])]
    mark_applied(session, ok["id"].tolist() + superseded["id"].tolist(), run_id=run_id)
    return len(ok) + len(superseded)
