"""The ship-by deadline every metric reads: corrected, else the source's, else derived.

``orders.latest_ship_at`` as the metrics see it (:func:`effective_orders`) is, per seller order,

1. the ``new_latest_ship_at`` of its latest ship-by correction (``ship_by_corrections``, by
   ``corrected_at``; a marketplace or operator correction overrides everything), else
2. the deadline the source gave (``orders.latest_ship_at``), else
3. the deadline cxops derived from the handling time and the calendar (``ship_by_derived``).

The late shipment rate is anchored on this deadline, so a correction moves the order to the window of
its new ship-by date and restates every window containing the old or the new one (10, 30 days …):
metrics are recomputed, never appended. Without those tables the orders table is read unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

KEY = ["seller_id", "order_id"]


def effective_orders(tables: dict[str, ir.Table]) -> ir.Table:
    """``tables["orders"]`` with ``latest_ship_at`` replaced by the deadline in force (same columns).

    Parameters
    ----------
    tables : dict
        Canonical table name -> Ibis table (``orders`` required; ``ship_by_corrections`` and
        ``ship_by_derived`` optional).
    """
    o = tables["orders"]
    cols = o.columns
    extra = []
    if "ship_by_derived" in tables:
        d = tables["ship_by_derived"]
        d = d.select(*KEY, _derived=d.latest_ship_at)
        o = o.left_join(d, KEY).select(o, "_derived")
        extra.append(o._derived)
    if "ship_by_corrections" in tables:
        c = tables["ship_by_corrections"]
        c = c.group_by(KEY).aggregate(_corrected=c.new_latest_ship_at.argmax(c.corrected_at))
        o = o.left_join(c, KEY).select(o, "_corrected")
    if o.columns == cols:
        return o
    typ = tables["orders"].latest_ship_at.type()
    parts = []
    if "_corrected" in o.columns:
        parts.append(o._corrected.cast(typ))
    parts.append(o.latest_ship_at)
    if "_derived" in o.columns:
        parts.append(o._derived.cast(typ))
    return o.mutate(latest_ship_at=ibis.coalesce(*parts)).select(*cols)


def has_deadline_tables(tables: dict[str, ir.Table]) -> bool:
    """Whether derived deadlines or corrections change the orders' ship-by."""
    return "ship_by_derived" in tables or "ship_by_corrections" in tables


def provide_ship_by(provided: dict[str, set[str]], sources):
    """Mark ``orders.latest_ship_at`` provided where derived deadlines exist (every seller's view).

    A source without ship-by dates makes the late shipment rate "not measured"; a derived deadline
    measures it. Returns ``(provided, sources)``, copies where changed.
    """
    if "orders" in provided:
        provided = {**provided, "orders": set(provided["orders"]) | {"latest_ship_at"}}
    if sources is not None:
        profiles = {}
        for i, p in sources.profiles.items():
            if p.provided is not None and "orders" in p.provided:
                p = replace(p, provided={**p.provided, "orders": p.provided["orders"] | {"latest_ship_at"}})
            profiles[i] = p
        sources = replace(sources, profiles=profiles, _flags={})
    return provided, sources


def orders_in_force(wh) -> ir.Table:
    """The warehouse's ``orders`` with the ship-by deadline in force (see :func:`effective_orders`).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
        Must hold ``orders``.
    """
    names = ("orders", "ship_by_derived", "ship_by_corrections")
    return effective_orders({t: wh.table(t) for t in names if wh.has_table(t)})


#: How an order fares under one shipped event (:func:`shipped_differences`).
RESULTS = ("late", "on time", "left out")


def shipped_differences(inp, first_day, last_day, basis: str, against: str, execute) -> pd.DataFrame:
    """Every MFN order due in ``[first_day, last_day]`` whose late-shipment result differs between two
    shipped events (``MetricOptions.shipped_event``), so a seller can reconcile them with their records.

    Facts that arrive later (a buyer's delivery confirmation) are read as known on ``last_day``.

    Parameters
    ----------
    inp : cxops.metrics.records.Inputs
    first_day, last_day : datetime.date
        Marketplace-local ship-by days, inclusive.
    basis, against : {"confirmation", "first_scan", "any"}
    execute : callable
        Runs an Ibis expression, returning pandas (the warehouse's ``execute``).

    Returns
    -------
    pandas.DataFrame
        ``seller_id, marketplace_id, order_id, ship_by_date, basis_result, against_result,
        latest_ship_at, basis_at, against_at``; a result is ``late``, ``on time`` or ``left out`` (not
        in the population: cancelled, or its lateness unknown under that event); ``latest_ship_at`` is
        the deadline in force and ``basis_at`` / ``against_at`` the instant each event puts on the order
        (:func:`cxops.metrics.records.shipped_at`; null when it has none), UTC. Sorted by seller, day and
        order.
    """
    from cxops.metrics.records import late_shipments, shipped_at, utc_window

    frames = []
    keys = ["seller_id", "marketplace_id", "order_id", "day"]
    due = inp.tables["orders"].select(*KEY, "latest_ship_at")
    for event in (basis, against):
        opts = inp.options.model_copy(update={"shipped_event": event, "shipped_event_by_marketplace": {}})
        window = utc_window(first_day, last_day)  # as known on the last day
        e_inp = replace(inp, options=opts, window=window, seen_through=last_day)
        t = late_shipments(e_inp)
        t = t.filter((t.day >= first_day) & (t.day <= last_day))
        at = shipped_at(e_inp, event, t)
        t = t.left_join(at, KEY).select(t, "shipped_at")
        t = t.left_join(due, KEY).select(t, "latest_ship_at")
        frames.append(execute(t.select(*keys, "f_late", "shipped_at", "latest_ship_at")))
    cols = ["seller_id", "marketplace_id", "order_id", "ship_by_date", "basis_result", "against_result"]
    cols += ["latest_ship_at", "basis_at", "against_at"]
    if not any(len(f) for f in frames):  # nothing due in the window (pandas cannot join two empty
        return pd.DataFrame(columns=cols)  # Arrow-backed key columns)
    m = frames[0].merge(frames[1], on=keys, how="outer", suffixes=("_a", "_b"))
    for side, col in (("a", "basis_result"), ("b", "against_result")):
        f = m[f"f_late_{side}"]
        m[col] = np.where(f.isna(), "left out", np.where(f.fillna(0) > 0, "late", "on time"))
    m["latest_ship_at"] = m["latest_ship_at_a"].fillna(m["latest_ship_at_b"])
    m = m.rename(columns={"day": "ship_by_date", "shipped_at_a": "basis_at", "shipped_at_b": "against_at"})
    out = m[m["basis_result"] != m["against_result"]]
    return out.sort_values(["seller_id", "ship_by_date", "order_id"])[cols].reset_index(drop=True)
