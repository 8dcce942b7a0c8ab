"""Memberships: the current state of every seller in a program, loaded and written in bulk.

The daily job loads a program's memberships at once (:func:`load_memberships`, one row per seller ×
marketplace), advances them in array operations, and writes back the changed rows
(:func:`upsert_memberships`) with their events and benefits in one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxops.errors import InputError
from cxops.store import bulk
from cxops.store.models import Membership
from cxops.store.types import utcnow

MEMBERSHIPS = Membership.__table__
KEY = ["program", "seller_id", "marketplace_id"]
#: Columns of a membership frame.
MEMBERSHIP_COLUMNS = list(MEMBERSHIPS.c.keys())


def load_memberships(
    session: Session,
    program: str,
    *,
    marketplaces: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
    sellers: Iterable[str] | None = None,
) -> pd.DataFrame:
    """All memberships of ``program`` (optionally only some marketplaces, states or sellers).

    Returns
    -------
    pandas.DataFrame
        One row per (seller_id, marketplace_id), columns :data:`MEMBERSHIP_COLUMNS`, sorted by key;
        dates as ``datetime.date`` objects, JSON columns as dicts.
    """
    t = MEMBERSHIPS
    stmt = select(t).where(t.c.program == program)
    if marketplaces is not None:
        stmt = stmt.where(t.c.marketplace_id.in_(list(marketplaces)))
    if states is not None:
        stmt = stmt.where(t.c.state.in_(list(states)))
    if sellers is not None:
        stmt = stmt.where(t.c.seller_id.in_(list(sellers)))
    return bulk.frame(session, stmt.order_by(t.c.seller_id, t.c.marketplace_id))


def get_membership(
    session: Session, program: str, seller_id: str, marketplace_id: str, *, for_update: bool = False
) -> Membership | None:
    """One membership (``for_update`` locks the row on PostgreSQL until the transaction ends)."""
    stmt = select(Membership).where(
        Membership.program == program,
        Membership.seller_id == seller_id,
        Membership.marketplace_id == marketplace_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def memberships_of(session: Session, program: str, seller_id: str) -> list[Membership]:
    """A seller's memberships in one program, one per marketplace (one query)."""
    stmt = select(Membership).where(Membership.program == program, Membership.seller_id == seller_id)
    return list(session.scalars(stmt))


def upsert_memberships(
    session: Session,
    program: str,
    memberships: pd.DataFrame,
    *,
    run_id: int | None = None,
    allowed_states: Iterable[str] | None = None,
) -> int:
    """Insert or overwrite memberships in bulk (one statement set, no ORM object per seller).

    Parameters
    ----------
    program : str
    memberships : pandas.DataFrame
        ``seller_id``, ``marketplace_id``, ``state`` and any other membership columns; columns
        absent from the frame keep their stored values on an update (and defaults on an insert).
    run_id : int, optional
        Written to ``last_run_id``.
    allowed_states : iterable of str, optional
        Refuse rows whose ``state`` is not one of these (the service passes the lifecycle states).

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    InputError
        Missing key or state columns, a key twice, a state not allowed.
    """
    if memberships.empty:
        return 0
    df = memberships
    if "program" in df.columns:
        if (df["program"] != program).any():
            raise InputError(f"memberships of another program than {program!r} in one write")
        df = df.drop(columns="program")
    for col in ("seller_id", "marketplace_id", "state"):
        if col not in df.columns or df[col].isna().any():
            raise InputError(f"memberships need a {col} on every row")
    dup = df.duplicated(["seller_id", "marketplace_id"])
    if dup.any():
        row = df[dup].iloc[0]
        raise InputError(f"membership {row.seller_id}/{row.marketplace_id} appears twice")
    if allowed_states is not None:
        allowed = set(allowed_states)
        bad = sorted(set(df["state"].unique()) - allowed)
        if bad:
            raise InputError(
                f"unknown lifecycle state(s) {', '.join(map(repr, bad))}; known: {', '.join(sorted(allowed))}"
            )
    if "consecutive_breaches" not in df.columns and "breach_counts" in df.columns:
        df = df.assign(consecutive_breaches=[max(c.values(), default=0) if isinstance(c, dict) else 0
                                             for c in df["breach_counts"]])  # fmt: skip
    fixed = {"program": program, "updated_at": utcnow()}
    if run_id is not None:
        fixed["last_run_id"] = run_id
    names = bulk.columns_of(MEMBERSHIPS, df, fixed)
    if bulk.count(session, MEMBERSHIPS, MEMBERSHIPS.c.program == program) == 0:  # a new program: no upsert
        return bulk.write(session, MEMBERSHIPS, df, fixed=fixed)
    update = [c for c in names if c not in KEY]
    return bulk.write(session, MEMBERSHIPS, df, fixed=fixed, conflict=KEY, update=update)
