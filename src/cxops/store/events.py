"""The append-only event log.

Only inserts: there is no update or delete here, and the database refuses both (triggers on SQLite
and PostgreSQL). Each event carries a unique ``idempotency_key``; writing an event whose key exists
does nothing, so a job rerun after a crash never records an event twice.

Known kinds (free text, so later issues can add theirs): ``transition`` (a lifecycle state change),
``action_requested``, ``action_applied``, ``action_rejected``, ``action_cancelled``,
``manager_assigned``, ``manager_unassigned``, ``note``, ``benefit_started``, ``benefit_ended``,
``revision`` (restated values behind a past decision).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxops.errors import InputError
from cxops.store import bulk
from cxops.store.models import Event
from cxops.store.types import utcnow

EVENTS = Event.__table__
#: Columns an event frame may have (``id`` is assigned by the store).
EVENT_COLUMNS = [c for c in EVENTS.c.keys() if c != "id"]


def append_events(session: Session, events: pd.DataFrame, **fixed: Any) -> int:
    """Append events in bulk; events whose ``idempotency_key`` is already logged are skipped.

    Parameters
    ----------
    session : Session
    events : pandas.DataFrame
        Columns from :data:`EVENT_COLUMNS`; ``kind``, ``idempotency_key`` required; ``actor``
        defaults to ``"system"`` and ``occurred_at`` to now (UTC) when absent.
    **fixed
        Values for every row (e.g. ``run_id=7, program="customer-excellence"``).

    Returns
    -------
    int
        Events written (duplicates excluded).

    Raises
    ------
    InputError
        A missing ``kind`` or ``idempotency_key``, a key repeated within ``events``, an unknown column.
    """
    if events.empty:
        return 0
    for required in ("kind", "idempotency_key"):
        if required not in events.columns and required not in fixed:
            raise InputError(f"events need a {required!r} column")
    keys = events["idempotency_key"]
    if keys.isna().any():
        raise InputError("every event needs an idempotency_key")
    dup = keys[keys.duplicated()]
    if len(dup):
        raise InputError(f"idempotency_key {dup.iloc[0]!r} appears twice in one batch of events")
    defaults = {}
    if "actor" not in events.columns and "actor" not in fixed:
        defaults["actor"] = "system"
    if "occurred_at" not in events.columns and "occurred_at" not in fixed:
        defaults["occurred_at"] = utcnow()
    return bulk.write(session, EVENTS, events, fixed={**defaults, **fixed}, conflict=["idempotency_key"])


def record_event(
    session: Session, *, kind: str, idempotency_key: str, actor: str = "system", **fields: Any
) -> bool:
    """Append one event (e.g. an operator action); returns False when its key was already logged."""
    row = {"kind": kind, "idempotency_key": idempotency_key, "actor": actor, **fields}
    row.setdefault("occurred_at", utcnow())
    return append_events(session, pd.DataFrame([row])) == 1


def load_events(
    session: Session,
    *,
    program: str | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    kinds: list[str] | None = None,
    run_id: int | None = None,
    since: datetime | None = None,
    on_or_after: date | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> pd.DataFrame:
    """Events matching every filter given, in log order (``id``) or newest first."""
    t = EVENTS
    stmt = select(t)
    stmt = bulk.where_equal(
        stmt, t, program=program, seller_id=seller_id, marketplace_id=marketplace_id, run_id=run_id
    )
    if kinds:
        stmt = stmt.where(t.c.kind.in_(kinds))
    if since is not None:
        stmt = stmt.where(t.c.occurred_at >= since)
    if on_or_after is not None:
        stmt = stmt.where(t.c.event_date >= on_or_after)
    stmt = stmt.order_by(t.c.id.desc() if newest_first else t.c.id)
    if limit:
        stmt = stmt.limit(limit)
    return bulk.frame(session, stmt)
