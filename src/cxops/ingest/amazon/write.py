"""The write phase of an Amazon import: tables in dependency order, accounting, orphans, changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import builtin_marketplaces
from cxops.canonical.schema import TABLES
from cxops.ingest.amazon.changes import table_changes
from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.mapped import GRP, Mapped
from cxops.ingest.amazon.outcome import AmazonImportReport
from cxops.ingest.amazon.store import existing, merge_upsert
from cxops.ingest.report import quarantine_rows
from cxops.warehouse import Warehouse

ORDER = ("orders", "order_items", "shipments", "cancellations", "feedback", "returns", "reported_metrics")
CHILDREN = ("order_items", "shipments", "cancellations", "feedback", "returns")
GIVEN = "(given: --seller, --marketplace)"
ORPHAN = "seller order (seller_id, order_id) is not in orders (loaded anyway)"


def provenance_label(seller_id: str) -> str:
    """The provenance source of every Amazon report of one seller: ``amazon:<seller_id>``.

    The warehouse counts a column as provided only when *every* source of a table provides it. The
    seller's Amazon reports are merged by key into one record per key (:mod:`.store`), so they are one
    source whose columns are the union of its reports' (the flat file's orders plus the Orders API's
    deadlines). Labelling each file separately would make a column one report type lacks (the flat
    file has no ship-by date) unknown for the rows another report type fills. Other sellers and other
    importers remain separate sources.
    """
    return f"amazon:{seller_id}"


def write_all(wh: Warehouse, mapped: list[Mapped], ctx: Context, report: AmazonImportReport) -> None:
    """Write every mapped (file, table) in dependency order and fill ``report``.

    Marketplaces used that the warehouse lacks are added from the built-ins; the seller gets one
    ``sellers`` row per marketplace used (only ``seller_id`` and ``marketplace_id`` are set, other
    stored values are kept). Nothing is written when no file held data.
    """
    if not mapped:
        return
    used = {ctx.marketplace_id}
    for m in mapped:
        if "marketplace_id" in m.loaded.columns:
            used |= set(m.loaded["marketplace_id"].dropna())
    _marketplaces(wh, sorted(used), report)
    _sellers(wh, ctx, sorted(used), report)
    changed: dict[str, list[pd.DataFrame]] = {}
    for table in ORDER:
        for m in (x for x in mapped if x.table == table):
            warnings = [m.warnings]
            if table in CHILDREN and len(m.loaded):
                warnings.append(_orphans(wh, m))
            stats, ch = merge_upsert(wh, m)
            wh.record_provided(table, m.provided, source=provenance_label(ctx.seller_id))
            w = (
                pd.concat([x for x in warnings if len(x)], ignore_index=True)
                if any(len(x) for x in warnings)
                else None
            )
            report.add(
                m.file, table, m.rows_read, m.rows_loaded, m.quarantined, w, stats.inserted, stats.replaced
            )
            changed.setdefault(table, []).append(ch)
    if "orders" in changed:
        _deadline_note(wh, ctx, report)
    for table, parts in changed.items():
        tc = table_changes(wh, table, pd.concat(parts, ignore_index=True), ctx.zones, ctx.marketplace_id)
        report.changes[table] = tc


def _deadline_note(wh: Warehouse, ctx: Context, report: AmazonImportReport) -> None:
    """Say how many of the seller's seller-fulfilled orders have no ship-by deadline."""
    t = wh.table("orders")
    mfn = t.filter((t.seller_id == ctx.seller_id) & (t.fulfillment_channel == "MFN"))
    n = wh.execute(mfn.aggregate(total=mfn.count(), missing=mfn.latest_ship_at.isnull().sum()))
    total, missing = int(n["total"][0]), int(n["missing"].fillna(0)[0])
    if missing:
        report.note(
            f"{missing:,} of {total:,} seller-fulfilled orders of {ctx.seller_id} have no ship-by deadline "
            "(no Orders API page has them): late shipment and on-time delivery leave them out; import "
            "getOrders pages that cover them"
        )


def _orphans(wh: Warehouse, m: Mapped) -> pd.DataFrame:
    keys = m.loaded[["seller_id", "order_id", GRP]]
    known = existing(wh, TABLES["orders"], keys[["seller_id", "order_id"]])[["seller_id", "order_id"]]
    hit = keys.merge(known.assign(_k=True), on=["seller_id", "order_id"], how="left")["_k"].isna().to_numpy()
    if not hit.any():
        return pd.DataFrame()
    grp = keys[GRP].to_numpy()[hit]
    rows = np.unique(m.first_row.reindex(grp).dropna().to_numpy(dtype=np.int64))
    return quarantine_rows(m.table, m.file, rows, "order_id", ORPHAN)


def _marketplaces(wh: Warehouse, used: list[str], report: AmazonImportReport) -> None:
    have: set[str] = set()
    if wh.has_table("marketplaces"):
        have = set(wh.execute(wh.table("marketplaces").select("marketplace_id"))["marketplace_id"])
    b = builtin_marketplaces()
    b = b[b["marketplace_id"].isin([u for u in used if u not in have])].reset_index(drop=True)
    if len(b):
        stats = wh.upsert(TABLES["marketplaces"], b)
        wh.record_provided("marketplaces", list(b.columns), source="builtin")
        report.add(
            "(built-in)", "marketplaces", len(b), len(b), inserted=stats.inserted, replaced=stats.replaced
        )


def _sellers(wh: Warehouse, ctx: Context, used: list[str], report: AmazonImportReport) -> None:
    rows = pd.DataFrame({"seller_id": ctx.seller_id, "marketplace_id": used, GRP: np.arange(len(used))})
    m = Mapped(
        table="sellers",
        file=GIVEN,
        loaded=rows,
        quarantined=pd.DataFrame(),
        warnings=pd.DataFrame(),
        rows_read=len(rows),
        rows_loaded=len(rows),
        provided=["seller_id", "marketplace_id"],
        source=GIVEN,
        writes=["seller_id", "marketplace_id"],
    )
    stats, _ = merge_upsert(wh, m)
    wh.record_provided("sellers", m.provided, source=provenance_label(ctx.seller_id))
    report.add(GIVEN, "sellers", len(rows), len(rows), inserted=stats.inserted, replaced=stats.replaced)
