"""The operator console's program-wide views: case and document queues from the store, the at-risk list
and the month-by-month figures from the newest stored evaluation run, and the runs.

Every list is keyset-paged by an indexed key (no ``OFFSET``): cases by their deadline
(``ix_cases_kind_status_due``), documents by submission (``ix_documents_status_submitted``), the at-risk
list by seller in the warehouse engine. The figures are grouped in the engine from the run's
``statuses`` (one row per seller and evaluation) and ``transitions`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, func, literal, select

from cxops.policy.model import Policy
from cxops.service.cases import dispute_seconds_left
from cxops.store import Store
from cxops.store.listing import Slice, page
from cxops.store.types import utcnow

#: Case statuses still waiting for someone (the queue).
OPEN_CASES = ("open", "answered", "responded", "escalated")
#: Projected or current states that put a seller on the at-risk list.
AT_RISK_STATES = ("at_risk", "removed", "suspended")
#: Sort key for a case without a deadline (after every real one).
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


# -- queues ----------------------------------------------------------------------------------------------


def case_queue(
    store: Store,
    *,
    kind: str | None = None,
    statuses: tuple[str, ...] = OPEN_CASES,
    owner: str | None = None,
    after: tuple | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> Slice:
    """Cases waiting for someone, the nearest deadline first (a dispute's 24-hour clock; cases without
    a deadline after them, oldest first), with ``seconds_left`` for a dispute awaiting its first
    response (negative: overdue). Keyset: ``(deadline, id)``."""
    from cxops.store.cases import Case

    c = Case.__table__
    due = func.coalesce(c.c.due_at, literal(NO_DEADLINE, DateTime(timezone=True))).label("deadline")
    stmt = select(*[col for col in c.c if col.key not in ("answer", "details")], due)
    stmt = stmt.where(c.c.status.in_(list(statuses)))
    if kind:
        stmt = stmt.where(c.c.kind == kind)
    if owner:
        stmt = stmt.where(c.c.owner == owner)
    with store.unit_of_work(write=False) as session:
        s = page(session, stmt, [due, c.c.id], _after(after), limit)
    now = now or utcnow()
    for r in s.rows:
        due = None if r["due_at"] is None else _aware(r["due_at"])
        r["seconds_left"] = dispute_seconds_left(r["kind"], r["status"], r["first_response_at"], due, now)
        r.pop("deadline", None)
    return s


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _after(after: tuple | None) -> tuple | None:
    if after is None:
        return None
    first = after[0]
    if isinstance(first, str):
        first = _aware(datetime.fromisoformat(first))
    return (first, int(after[1]))


def document_queue(store: Store, *, after: tuple | None = None, limit: int = 50) -> Slice:
    """Documents submitted and waiting for review, oldest first. Keyset: ``(submitted_at, id)``."""
    from cxops.store.documents import Document

    d = Document.__table__
    stmt = select(*[col for col in d.c]).where(d.c.status == "submitted")
    with store.unit_of_work(write=False) as session:
        return page(session, stmt, [d.c.submitted_at, d.c.id], _after(after), limit)


# -- from the newest stored run ----------------------------------------------------------------------------


def _run(wh, policy: Policy):
    from cxops.runs.result import Evaluation
    from cxops.service.scorecard import current_run

    run = current_run(wh, policy) if wh is not None else None
    return None if run is None else Evaluation(wh, policy, run, reused=True)


def at_risk(
    wh,
    policy: Policy,
    *,
    marketplace_id: str | None = None,
    which: str = "all",
    after: tuple | None = None,
    limit: int = 50,
) -> Slice:
    """Sellers at risk in the newest stored run: at risk now, or whose projected status at the next
    evaluation (on the metrics as of the run's last day) is at risk, removed or suspended.

    Parameters
    ----------
    which : {"all", "now", "projected"}
        ``now``: at risk at the last evaluation; ``projected``: the projection says at risk or worse
        while the seller is not there yet.
    after : (seller_id, marketplace_id), optional
        Keyset of the previous page.

    Returns
    -------
    Slice
        Rows ``seller_id, marketplace_id, state, projected_state, evaluation_date`` (the next
        evaluation), ``reason``; empty when no run is stored.
    """
    ev = _run(wh, policy)
    if ev is None:
        return Slice([], None)
    t = ev.table("projected")
    now = t.state == "at_risk"
    soon = t.projected_state.isin(list(AT_RISK_STATES)) & (t.projected_state != t.state)
    cond = {"now": now, "projected": soon}.get(which, now | soon)
    t = t.filter(cond)
    if marketplace_id:
        t = t.filter(t.marketplace_id == marketplace_id)
    if after is not None:
        s, m = after
        t = t.filter((t.seller_id > s) | ((t.seller_id == s) & (t.marketplace_id > m)))
    t = t.order_by(["seller_id", "marketplace_id"]).limit(limit + 1)
    cols = ["seller_id", "marketplace_id", "state", "projected_state", "evaluation_date", "reason"]
    df = ev.read(t.select(*cols))
    rows = [{k: (None if _null(v) else v) for k, v in r.items()} for r in df.to_dict("records")]
    more = len(rows) > limit
    rows = rows[:limit]
    return Slice(rows, (rows[-1]["seller_id"], rows[-1]["marketplace_id"]) if more else None)


#: Columns of :func:`recent_alerts`'s rows.
ALERT_ROW = ("alert_date", "seller_id", "marketplace_id", "kind", "metric", "value", "threshold", "order_id",
             "projected_date", "orders_needed")  # fmt: skip


def recent_alerts(
    store: Store, program: str, *, marketplace_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The daily job's newest alerts of ``program`` (:func:`cxops.store.load_alerts`), at most ``limit``:
    rows of :data:`ALERT_ROW` (``value``/``threshold`` as fractions for rates; nulls as ``None``)."""
    from cxops.store import load_alerts

    with store.unit_of_work(write=False) as session:
        df = load_alerts(session, program=program, marketplace_id=marketplace_id, limit=limit)
    return [
        {k: (None if _null(v) else v) for k, v in row.items()}
        for row in df[list(ALERT_ROW)].to_dict("records")
    ]


def _null(v: Any) -> bool:
    return v is None or (not isinstance(v, str | list | dict) and pd.isna(v))


@dataclass(frozen=True)
class Figures:
    """Month-by-month program figures of the newest stored run.

    ``states``: rows ``month`` (the evaluation day), ``state``, ``sellers``; ``flows``: rows ``month``
    (first day of the month of the transitions), ``from_state``, ``to_state``, ``sellers``. ``run_as_of``
    is ``None`` when no run is stored.
    """

    run_as_of: date | None
    states: list[dict[str, Any]]
    flows: list[dict[str, Any]]


def figures(wh, policy: Policy, months: int = 12) -> Figures:
    """Sellers per state at each of the last ``months`` evaluations and the flows between states per
    month (grouped in the engine)."""
    ev = _run(wh, policy)
    if ev is None:
        return Figures(None, [], [])
    dates = ev.evaluation_dates[-months:]
    if not dates:
        return Figures(ev.run.until, [], [])
    s = ev.table("statuses")
    s = s.filter(s.evaluation_date.isin(dates))
    per_state = s.group_by(["evaluation_date", "state"]).aggregate(sellers=s.count())
    st = ev.read(per_state.order_by(["evaluation_date", "state"]))
    t = ev.table("transitions")
    day_col = "date" if "date" in t.columns else "evaluation_date"
    t = t.filter(t[day_col] >= dates[0].replace(day=1))
    month = t[day_col].truncate("M").name("month")
    flows = t.group_by([month, t.from_state, t.to_state]).aggregate(sellers=t.count())
    fl = ev.read(flows.order_by(["month", "from_state", "to_state"]))
    states = [
        {"month": r["evaluation_date"], "state": r["state"], "sellers": int(r["sellers"])}
        for r in st.to_dict("records")
    ]
    flow_rows = [
        {
            "month": pd.Timestamp(r["month"]).date(),
            "from_state": r["from_state"],
            "to_state": r["to_state"],
            "sellers": int(r["sellers"]),
        }
        for r in fl.to_dict("records")
    ]
    return Figures(ev.run.until, states, flow_rows)


def evaluation_runs(wh) -> list[dict[str, Any]]:
    """The evaluation runs stored in the warehouse, newest first: run id, policy and version, as-of day,
    evaluations, sellers, seconds, when stored, notes."""
    from cxops.runs.store import list_runs

    if wh is None:
        return []
    out = []
    for r in list_runs(wh):
        out.append(
            {
                "run_id": r.run_id,
                "policy_name": r.policy_name,
                "policy_version": r.policy_version,
                "as_of": r.as_of,
                "until": r.until,
                "last_evaluation": r.last_evaluation,
                "evaluations": len(r.evaluation_dates),
                "scope": None if r.scope is None else len(r.scope),
                "sellers": r.sellers,
                "seconds": r.timings.get("total"),
                "created_at": r.created_at.replace(tzinfo=UTC),
                "notes": list(r.notes),
            }
        )
    return out
