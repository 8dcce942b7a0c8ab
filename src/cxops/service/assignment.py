"""Automatic account-manager assignment: new members to managers, balanced by load, by category first.

The rule (:func:`plan_assignments`), deterministic and computed in array operations:

1. Sellers are taken in (seller_id, marketplace_id) order; managers in id order.
2. **Category first.** For each primary category (in name order), the sellers of that category go
   to the active managers whose ``categories`` include it (case-insensitive, exact name), as long as
   they have free capacity.
3. **Then everyone else** — sellers without a category, without a matching manager, or left over
   when the matching managers are full — goes to any active manager with free capacity.
4. **Balanced by load.** Within each step, each seller in turn goes to the manager with the lowest
   utilisation (load / capacity) at that moment; ties go to the lower load, then the lower id. A
   manager never goes past ``capacity``; sellers left when every manager is full stay unassigned.

Step 4 is computed without a loop over sellers: the k-th seller a manager with load L and capacity
C could take would raise it from utilisation (L + k) / C, so taking sellers one by one to the least
utilised manager is the same as sorting all those "slots" by (utilisation, load, manager) and
handing them out in order. Only the slots that can be reached are generated: a binary search finds
the utilisation level the n sellers fill up to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxops.service.states import member_states
from cxops.store import managers as manager_repo
from cxops.store.bulk import frame
from cxops.store.db import Store
from cxops.store.memberships import MEMBERSHIPS

PLAN_COLUMNS = ["seller_id", "marketplace_id", "manager_id", "category_match"]


def fill_slots(n: int, load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Managers (as indices) for ``n`` sellers taken one by one, each to the least-utilised manager.

    Parameters
    ----------
    n : int
        Sellers to place.
    load, capacity : numpy.ndarray of int
        Current sellers and capacity per manager (in tie-break order: a lower index wins a tie).

    Returns
    -------
    numpy.ndarray of int
        ``min(n, free capacity)`` manager indices, in the order the sellers take them.
    """
    load = np.asarray(load, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.int64)
    free = np.clip(cap - load, 0, None)
    take = int(min(n, free.sum()))
    if take == 0:
        return np.zeros(0, dtype=np.int64)
    capf = np.where(cap > 0, cap, 1).astype(float)

    def reached(t: float) -> np.ndarray:  # slots with utilisation before taking them <= t
        return np.clip(np.floor(t * capf - load) + 1, 0, free).astype(np.int64)

    lo, hi = 0.0, 1.0  # every slot's utilisation is below 1
    for _ in range(64):
        mid = (lo + hi) / 2
        if reached(mid).sum() >= take:
            hi = mid
        else:
            lo = mid
    per = np.minimum(reached(hi) + 1, free)  # one more each: a margin for rounding at the level
    manager = np.repeat(np.arange(len(cap)), per)
    k = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    slot_load = load[manager] + k
    utilisation = slot_load / capf[manager]
    order = np.lexsort((manager, slot_load, utilisation))[:take]
    return manager[order]


def plan_assignments(sellers: pd.DataFrame, managers: pd.DataFrame) -> pd.DataFrame:
    """Assign sellers to managers (the rule in the module docstring).

    Parameters
    ----------
    sellers : pandas.DataFrame
        ``seller_id``, ``marketplace_id`` and optionally ``primary_category`` (text or missing).
    managers : pandas.DataFrame
        ``id``, ``capacity``, ``load`` (current sellers), ``categories`` (list of str) and optionally
        ``active`` (inactive managers get nobody).

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS`, one row per seller in (seller_id, marketplace_id) order;
        ``manager_id`` is missing (None) for sellers left unassigned because every manager is full;
        ``category_match`` tells whether the manager was chosen for the seller's category.
    """
    s = sellers.sort_values(["seller_id", "marketplace_id"], kind="stable").reset_index(drop=True)
    out = s[["seller_id", "marketplace_id"]].copy()
    out["manager_id"] = None
    out["category_match"] = False
    mg = managers
    if "active" in mg:
        mg = mg[mg["active"].astype(bool)]
    mg = mg.sort_values("id", kind="stable").reset_index(drop=True)
    if s.empty or mg.empty:
        return out
    ids = mg["id"].to_numpy()
    load = mg["load"].to_numpy(dtype=np.int64).copy()
    cap = mg["capacity"].to_numpy(dtype=np.int64)
    category = (
        s["primary_category"].astype("string").str.strip().str.casefold()
        if "primary_category" in s
        else pd.Series(pd.NA, index=s.index, dtype="string")
    )
    knows = {}
    for i, cats in enumerate(mg["categories"]):
        for c in cats or ():
            knows.setdefault(str(c).strip().casefold(), []).append(i)
    placed = np.full(len(s), -1, dtype=np.int64)
    for cat in sorted(c for c in category.dropna().unique() if c in knows):
        rows = np.flatnonzero((category == cat).fillna(False).to_numpy())
        who = np.asarray(knows[cat])
        got = fill_slots(len(rows), load[who], cap[who])
        chosen = who[got]
        placed[rows[: len(chosen)]] = chosen
        np.add.at(load, chosen, 1)
    matched = placed >= 0
    rest = np.flatnonzero(~matched)
    got = fill_slots(len(rest), load, cap)
    placed[rest[: len(got)]] = got
    has = placed >= 0
    out.loc[has, "manager_id"] = ids[placed[has]]
    out["category_match"] = matched
    return out


@dataclass(frozen=True)
class AssignmentResult:
    """What :func:`auto_assign` did: sellers assigned (by category match or by load only), sellers
    left without a manager because every manager was full, and the managers' loads afterwards."""

    assigned: int
    by_category: int
    unassigned: int
    managers: pd.DataFrame = field(repr=False)
    plan: pd.DataFrame = field(repr=False)


def auto_assign(
    store: Store,
    program: str,
    *,
    categories: pd.DataFrame | None = None,
    run_id: int | None = None,
    session=None,
) -> AssignmentResult:
    """Give every member of ``program`` without an account manager one, in bulk (one transaction).

    Parameters
    ----------
    store : Store
    program : str
    categories : pandas.DataFrame, optional
        ``seller_id``, ``marketplace_id``, ``primary_category`` (e.g. the warehouse's ``sellers``);
        default: the ``primary_category`` stored on the memberships.
    run_id : int, optional
        The daily run doing it (recorded on the assignments and events).
    session : sqlalchemy.orm.Session, optional
        Work inside this unit of work (the daily job's) instead of a new one.

    Returns
    -------
    AssignmentResult
    """
    if session is None:
        with store.unit_of_work() as own:
            return auto_assign(store, program, categories=categories, run_id=run_id, session=own)
    m = MEMBERSHIPS
    todo = frame(
        session,
        m.select()
        .with_only_columns(m.c.seller_id, m.c.marketplace_id, m.c.primary_category)
        .where(m.c.program == program, m.c.account_manager_id.is_(None), m.c.state.in_(member_states())),
    )
    if categories is not None and len(todo):
        cats = categories[["seller_id", "marketplace_id", "primary_category"]].drop_duplicates(
            ["seller_id", "marketplace_id"]
        )
        todo = todo.drop(columns="primary_category").merge(
            cats, on=["seller_id", "marketplace_id"], how="left"
        )
    managers = manager_repo.list_managers(session)
    plan = plan_assignments(todo, managers)
    chosen = plan[plan["manager_id"].notna()]
    if len(chosen):
        reasons = np.where(
            chosen["category_match"],
            "automatic: category match, balanced by load",
            "automatic: balanced by load",
        )
        manager_repo.assign(
            session,
            program,
            chosen[["seller_id", "marketplace_id", "manager_id"]].assign(reason=reasons),
            actor="system",
            key_prefix=f"run:{run_id}" if run_id is not None else f"auto:{pd.Timestamp.now('UTC').value}",
            run_id=run_id,
        )
    return AssignmentResult(
        assigned=len(chosen),
        by_category=int(chosen["category_match"].sum()),
        unassigned=len(plan) - len(chosen),
        managers=manager_repo.list_managers(session),
        plan=plan,
    )


def warehouse_categories(url: str) -> pd.DataFrame | None:
    """``seller_id``, ``marketplace_id``, ``primary_category`` from the warehouse's ``sellers`` table
    (``None`` when it has none).

    Raises
    ------
    NotFoundError
        If the warehouse is a file that does not exist.
    """
    from pathlib import Path

    from cxops.errors import NotFoundError
    from cxops.warehouse import connect

    local = url.removeprefix("duckdb://")
    if "://" not in local and not url.startswith("pyspark:") and local not in ("memory", ":memory:"):
        if not Path(local).exists():
            raise NotFoundError(f"warehouse {local} not found")
    wh = connect(url)
    try:
        if not wh.has_table("sellers"):
            return None
        t = wh.table("sellers")
        return wh.execute(t.select("seller_id", "marketplace_id", "primary_category"))
    finally:
        wh.close()
