"""Which marketplace-local days an import restated, per table.

Later data restates earlier days (a shipment confirmed a week late changes past late-shipment
windows; a late claim changes an old order-defect window). For every changed row (new and old values)
the *anchor days* of the metrics that read it are collected, in the marketplace's local calendar:

==================  ========================================================================
orders              purchase, ship-by and promised-delivery days
order_items         the order's purchase day
shipments           confirmation day; the order's ship-by and promised-delivery days
cancellations       the order's purchase and ship-by days
feedback            submission day; the order's purchase day
returns             request day
reported_metrics    ``window_to``
==================  ========================================================================

The order's values are the warehouse's after the import. Recomputing metrics for windows that
contain these days is enough to take the import into account.
"""

from __future__ import annotations

import pandas as pd

from cxops.canonical.schema import TABLES
from cxops.ingest.amazon.outcome import TableChanges
from cxops.ingest.amazon.store import existing
from cxops.warehouse import Warehouse

#: table -> (own timestamp columns, the order's timestamp columns)
ANCHORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (("purchased_at", "latest_ship_at", "latest_delivery_at"), ()),
    "order_items": ((), ("purchased_at",)),
    "shipments": (("confirmed_at",), ("latest_ship_at", "latest_delivery_at")),
    "cancellations": ((), ("purchased_at", "latest_ship_at")),
    "feedback": (("submitted_at",), ("purchased_at",)),
    "returns": (("requested_at",), ()),
}


def local_days(ts: pd.Series, mp: pd.Series, zones: dict[str, str]) -> pd.Series:
    """Local calendar days (``datetime64`` midnight) of UTC instants ``ts`` in marketplaces ``mp``."""
    ts = pd.to_datetime(pd.Series(ts).astype("datetime64[us]"))
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[us]")
    for m in pd.Series(mp).dropna().unique():
        sel = (pd.Series(mp).to_numpy() == m) & ts.notna().to_numpy()
        if m in zones and sel.any():
            loc = ts[sel].dt.tz_localize("UTC").dt.tz_convert(zones[m]).dt.tz_localize(None)
            out[sel] = loc.dt.normalize().astype("datetime64[us]")
    return out


def table_changes(
    wh: Warehouse, table: str, changed: pd.DataFrame, zones: dict[str, str], default_mp: str
) -> TableChanges:
    """The :class:`TableChanges` of ``table`` from its changed rows (new and old values).

    Parameters
    ----------
    changed : pandas.DataFrame
        Contract columns plus ``_new`` (True for new values), as returned by
        :func:`cxops.ingest.amazon.store.merge_upsert` (several files concatenated).
    default_mp : str
        Marketplace of rows whose order is unknown (the imported marketplace).
    """
    schema = TABLES[table]
    key = list(schema.key)
    plain = changed.astype(object).where(changed.notna(), None)
    n = len(plain.loc[plain["_new"].astype(bool), key].astype(str).drop_duplicates()) if len(plain) else 0
    if table == "reported_metrics":
        days = pd.to_datetime(plain["window_to"]).dropna()
        return TableChanges(table, n, sorted({d.date() for d in days}))
    if table not in ANCHORS or not len(plain):
        return TableChanges(table, n, [])
    own, of_order = ANCHORS[table]
    if table == "orders":
        mp = plain["marketplace_id"]
        frame = plain
    else:
        okeys = plain[["seller_id", "order_id"]].drop_duplicates()
        orders = existing(wh, TABLES["orders"], okeys)
        frame = plain.merge(
            orders[["seller_id", "order_id", "marketplace_id", *of_order]].rename(
                columns={c: f"order_{c}" for c in of_order}
            ),
            on=["seller_id", "order_id"],
            how="left",
        )
        mp = frame["marketplace_id"].where(frame["marketplace_id"].notna(), default_mp)
    cols = [*own, *(f"order_{c}" for c in of_order)]
    parts = [local_days(pd.to_datetime(frame[c]), mp, zones) for c in cols if c in frame.columns]
    days = pd.concat(parts, ignore_index=True).dropna() if parts else pd.Series(dtype="datetime64[us]")
    return TableChanges(table, n, sorted({d.date() for d in days}))
