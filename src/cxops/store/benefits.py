"""The benefits ledger: which member held which benefit (and tier) from when to when.

:func:`sync_benefits` takes the benefits members hold as of a day (the lifecycle's
``compute_benefits`` output) and records the differences with the open ledger entries: a new
benefit opens an entry, a benefit no longer held (or held at another tier or value) closes the open
entry on that day and, if changed, opens a new one. Entries are closed, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, InputError
from cxops.store import bulk
from cxops.store.models import Benefit

BENEFITS = Benefit.__table__
KEY = ["seller_id", "marketplace_id", "benefit"]


@dataclass
class BenefitChanges:
    """What :func:`sync_benefits` wrote: entries opened and closed (frames of ledger columns)."""

    opened: pd.DataFrame
    closed: pd.DataFrame


def load_benefits(
    session: Session, program: str, *, on: date | None = None, open_only: bool = False
) -> pd.DataFrame:
    """Ledger entries of ``program``: all, those still open, or those in effect on day ``on``."""
    t = BENEFITS
    stmt = select(t).where(t.c.program == program)
    if open_only:
        stmt = stmt.where(t.c.effective_to.is_(None))
    if on is not None:
        stmt = stmt.where(t.c.effective_from <= on, (t.c.effective_to.is_(None)) | (t.c.effective_to > on))
    return bulk.frame(session, stmt.order_by(t.c.seller_id, t.c.marketplace_id, t.c.benefit, t.c.id))


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    both_missing = a.isna().to_numpy() & b.isna().to_numpy()
    return both_missing | (a.astype(object) == b.astype(object)).to_numpy()


def sync_benefits(
    session: Session,
    program: str,
    held: pd.DataFrame,
    on: date,
    *,
    run_id: int | None = None,
    scope: pd.DataFrame | None = None,
) -> BenefitChanges:
    """Bring the open ledger entries in line with the benefits held as of ``on``.

    Parameters
    ----------
    held : pandas.DataFrame
        ``seller_id``, ``marketplace_id``, ``benefit`` and optionally ``tier`` (text) and ``value``
        (a number; fractions for rates): every benefit held as of ``on``, one row per key.
    on : datetime.date
        First day of new entries and the (exclusive) end of closed ones.
    scope : pandas.DataFrame, optional
        ``seller_id``, ``marketplace_id`` pairs ``held`` is complete for; entries of other sellers are
        left open. Default: the whole program.

    Raises
    ------
    InputError
        Missing columns or a key twice in ``held``.
    ConflictError
        If an open entry starts after ``on`` (the ledger cannot go backwards).
    """
    for c in KEY:
        if c not in held.columns:
            raise InputError(f"benefits need a {c} column")
    if held.duplicated(KEY).any():
        raise InputError("a benefit is listed twice for the same seller and marketplace")
    held = held.assign(
        tier=held["tier"] if "tier" in held else None, value=held["value"] if "value" in held else np.nan
    )[KEY + ["tier", "value"]]
    current = load_benefits(session, program, open_only=True)
    if len(current) and (pd.to_datetime(current["effective_from"]).dt.date > on).any():
        raise ConflictError(
            f"benefits of {program} already recorded after {on}: the ledger cannot go backwards"
        )
    if scope is not None and len(current):
        current = current.merge(scope[["seller_id", "marketplace_id"]].drop_duplicates(), how="inner")
    both = current.merge(held, on=KEY, how="outer", suffixes=("_old", ""), indicator=True)
    changed = (both["_merge"] == "both") & ~(
        _same(both["tier_old"], both["tier"]) & _same(both["value_old"], both["value"])
    )
    close_ids = both.loc[(both["_merge"] == "left_only") | changed, "id"].astype("int64").tolist()
    opened = both.loc[(both["_merge"] == "right_only") | changed, KEY + ["tier", "value"]].reset_index(
        drop=True
    )
    for chunk in (close_ids[i : i + 10_000] for i in range(0, len(close_ids), 10_000)):
        session.execute(
            update(BENEFITS).where(BENEFITS.c.id.in_(chunk)).values(effective_to=on, closed_run_id=run_id)
        )
    bulk.write(session, BENEFITS, opened, fixed={"program": program, "effective_from": on, "run_id": run_id})
    closed = current[current["id"].isin(close_ids)] if len(current) else current
    return BenefitChanges(opened=opened.assign(effective_from=on), closed=closed.assign(effective_to=on))
