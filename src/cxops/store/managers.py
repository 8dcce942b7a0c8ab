"""Account managers, their load, and the history of who looks after which seller."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.store import bulk
from cxops.store.events import append_events
from cxops.store.memberships import MEMBERSHIPS
from cxops.store.models import AccountManager, ManagerAssignment
from cxops.store.types import utcnow

ASSIGNMENTS = ManagerAssignment.__table__
MANAGERS = AccountManager.__table__


def add_manager(
    session: Session,
    manager_id: str,
    name: str,
    *,
    capacity: int,
    email: str | None = None,
    languages: Iterable[str] = (),
    categories: Iterable[str] = (),
) -> AccountManager:
    """Add an account manager.

    Raises
    ------
    InputError
        An empty id or name, or a capacity below 1.
    ConflictError
        If the id is taken.
    """
    if not manager_id.strip() or not name.strip():
        raise InputError("an account manager needs an id and a name")
    if capacity < 1:
        raise InputError(f"capacity must be at least 1 seller, not {capacity}")
    if session.get(AccountManager, manager_id) is not None:
        raise ConflictError(f"account manager {manager_id!r} exists already")
    m = AccountManager(
        id=manager_id,
        name=name,
        email=email,
        languages=sorted({x.strip() for x in languages if x.strip()}),
        categories=sorted({x.strip() for x in categories if x.strip()}),
        capacity=capacity,
        active=True,
        created_at=utcnow(),
    )
    session.add(m)
    session.flush()
    return m


def get_manager(session: Session, manager_id: str) -> AccountManager:
    """One account manager; raises :class:`NotFoundError` for an unknown id."""
    m = session.get(AccountManager, manager_id)
    if m is None:
        known = session.scalars(select(AccountManager.id).order_by(AccountManager.id).limit(20)).all()
        raise NotFoundError(
            f"unknown account manager {manager_id!r}",
            hint=f"known: {', '.join(known)}" if known else "add one with: cxops managers add",
        )
    return m


def list_managers(session: Session, *, active_only: bool = False) -> pd.DataFrame:
    """Managers with their current ``load`` (open assignments, all programs) and ``free`` capacity."""
    load = (
        select(ASSIGNMENTS.c.manager_id, func.count().label("load"))
        .where(ASSIGNMENTS.c.ended_at.is_(None))
        .group_by(ASSIGNMENTS.c.manager_id)
        .subquery()
    )
    stmt = select(MANAGERS, func.coalesce(load.c.load, 0).label("load")).outerjoin(
        load, load.c.manager_id == MANAGERS.c.id
    )
    if active_only:
        stmt = stmt.where(MANAGERS.c.active.is_(True))
    df = bulk.frame(session, stmt.order_by(MANAGERS.c.id))
    df["load"] = df["load"].astype("int64")
    df["free"] = (df["capacity"].astype("int64") - df["load"]).clip(lower=0)
    return df


def open_assignments(session: Session, program: str, sellers: Iterable[str] | None = None) -> pd.DataFrame:
    """Current assignments of ``program`` (one per seller × marketplace that has a manager), all or
    at least those of ``sellers``."""
    t = ASSIGNMENTS
    stmt = select(t).where(t.c.program == program, t.c.ended_at.is_(None))
    if sellers is not None:
        stmt = bulk.for_sellers(stmt, t, sellers)
    return bulk.frame(session, stmt.order_by(t.c.seller_id, t.c.marketplace_id))


def assignment_history(session: Session, program: str, seller_id: str, marketplace_id: str) -> pd.DataFrame:
    """Every assignment of one seller, oldest first."""
    t = ASSIGNMENTS
    stmt = select(t).where(
        t.c.program == program, t.c.seller_id == seller_id, t.c.marketplace_id == marketplace_id
    )
    return bulk.frame(session, stmt.order_by(t.c.assigned_at, t.c.id))


def assign(
    session: Session,
    program: str,
    assignments: pd.DataFrame,
    *,
    actor: str = "system",
    reason: str | None = None,
    key_prefix: str = "assign",
    at: datetime | None = None,
    run_id: int | None = None,
) -> int:
    """Give sellers a (new) account manager, in bulk: closes their open assignment, opens the new one,
    sets ``memberships.account_manager_id`` and logs a ``manager_assigned`` event per seller.

    Parameters
    ----------
    assignments : pandas.DataFrame
        ``seller_id``, ``marketplace_id``, ``manager_id``, one row per seller; optional ``actor``,
        ``reason`` and ``action_id`` columns override the arguments per row.
    actor, reason : str
        Who assigned and why (``"system"`` / ``"automatic: …"`` for the daily job).
    key_prefix : str
        Prefix of the events' idempotency keys (e.g. ``run:12``); rows with an ``action_id`` use
        ``action:<id>`` instead. The key ends with seller, marketplace and manager, so the same
        assignment is never logged twice.
    at : datetime, optional
        When (default now, UTC).

    Returns
    -------
    int
        Sellers whose manager changed (rows already with that manager are skipped).

    Raises
    ------
    NotFoundError
        An unknown manager, or a seller without a membership in ``program``.
    InputError
        A seller listed twice.
    """
    if assignments.empty:
        return 0
    at = at or utcnow()
    df = assignments.reset_index(drop=True)
    if df.duplicated(["seller_id", "marketplace_id"]).any():
        raise InputError("a seller is assigned twice in one batch")
    known = set(session.scalars(select(AccountManager.id)).all())
    unknown = sorted(set(df["manager_id"]) - known)
    if unknown:
        raise NotFoundError(f"unknown account manager(s): {', '.join(unknown)}")
    m = MEMBERSHIPS
    members = bulk.frame(
        session,
        bulk.for_sellers(
            select(m.c.seller_id, m.c.marketplace_id, m.c.account_manager_id.label("previous")).where(
                m.c.program == program
            ),
            m,
            df["seller_id"],
        ),
    )
    df = df.merge(members, on=["seller_id", "marketplace_id"], how="left", indicator=True)
    missing = df[df["_merge"] == "left_only"]
    if len(missing):
        r = missing.iloc[0]
        raise NotFoundError(
            f"seller {r.seller_id} has no membership in {program} on marketplace {r.marketplace_id}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    previous = df["previous"].astype(object).where(df["previous"].notna(), None)
    df = df[previous != df["manager_id"]].drop(columns="_merge").reset_index(drop=True)
    if df.empty:
        return 0
    if "actor" not in df:
        df["actor"] = actor
    if "reason" not in df:
        df["reason"] = reason
    current = open_assignments(session, program, df["seller_id"])
    closing = current.merge(df[["seller_id", "marketplace_id"]], on=["seller_id", "marketplace_id"])["id"]
    ids = closing.astype("int64").tolist()
    for chunk in (ids[i : i + 10_000] for i in range(0, len(ids), 10_000)):
        session.execute(update(ASSIGNMENTS).where(ASSIGNMENTS.c.id.in_(chunk)).values(ended_at=at))
    cols = ["seller_id", "marketplace_id", "manager_id", "actor", "reason"]
    cols += ["action_id"] if "action_id" in df else []
    bulk.write(
        session, ASSIGNMENTS, df[cols], fixed={"program": program, "assigned_at": at, "run_id": run_id}
    )
    bulk.update_by_key(
        session,
        MEMBERSHIPS,
        df[["seller_id", "marketplace_id", "manager_id"]]
        .rename(columns={"manager_id": "account_manager_id"})
        .assign(program=program),
        ["program", "seller_id", "marketplace_id"],
    )
    prefix = pd.Series(key_prefix, index=df.index)
    if "action_id" in df:
        has = df["action_id"].notna()
        prefix[has] = "action:" + df.loc[has, "action_id"].astype("int64").astype(str)
    events = (
        df[cols]
        .assign(
            idempotency_key=prefix
            + ":manager:"
            + df["seller_id"]
            + ":"
            + df["marketplace_id"]
            + ":"
            + df["manager_id"],
            details=[
                {"manager_id": new, "previous_manager_id": None if pd.isna(old) else old}
                for new, old in zip(df["manager_id"], df["previous"], strict=True)
            ],
        )
        .drop(columns="manager_id")
    )
    append_events(session, events, program=program, kind="manager_assigned", occurred_at=at, run_id=run_id)
    return len(df)
