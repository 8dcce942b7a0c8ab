"""The write phase of an Amazon import: stage every mapped (file, table) in the import's job.

* **Merge.** A source sets only the columns it *writes* (:attr:`Mapped.writes`); for an existing key
  the warehouse keeps its values of the other columns (:meth:`cxops.ingest.job.ImportJob.merge`). So
  the all-orders flat file imported after the Orders API does not erase the ship-by deadline the API
  gave, and re-importing replaces, never duplicates.
* **Versions.** When several files of one report type hold the same order, the version with the
  latest ``last-updated-date`` (Orders API ``LastUpdateDate``) wins, whatever the file names
  (:func:`supersede`); at equal times the later file in import order.
* **Changes.** The rows whose stored values change and the local days they fall on are found by the
  job (:mod:`cxops.ingest.changes`); everything is written in the job's one commit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import builtin_marketplaces
from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.mapped import GRP, Mapped
from cxops.ingest.amazon.outcome import AmazonImportReport
from cxops.ingest.job import ImportJob
from cxops.ingest.report import quarantine_rows

ORDER = (
    "orders",
    "order_items",
    "shipments",
    "cancellations",
    "feedback",
    "returns",
    "reported_metrics",
    "report_snapshots",
)
CHILDREN = ("order_items", "shipments", "cancellations", "feedback", "returns")
GIVEN = "(given: --seller, --marketplace)"
ORPHAN = "seller order (seller_id, order_id) is not in orders (loaded anyway)"
#: Tables whose rows belong to one order's version (see :func:`supersede`).
VERSIONED = ("orders", "order_items", "cancellations")


def provenance_label(seller_id: str) -> str:
    """The provenance source of every Amazon report of one seller: ``amazon:<seller_id>``.

    The seller's Amazon reports are merged by key into one record per key, so they are one source
    whose columns are the union of its reports' (the flat file's orders plus the Orders API's
    deadlines), covering that seller in the marketplaces its reports name. Labelling each file
    separately would make a column one report type lacks (the flat file has no ship-by date) unknown
    for the rows another report type fills. Other sellers and other importers are other sources, so
    they never change whether this seller's metrics are measured.
    """
    return f"amazon:{seller_id}"


def _family(m: Mapped) -> str:
    return m.source.split(":")[1] if m.source.count(":") >= 2 else m.source


def supersede(mapped: list[Mapped], report: AmazonImportReport) -> None:
    """Keep, per order, only the rows of the file holding its latest version (per report type).

    ``Mapped.version`` (order_id -> last-updated instant) of each file's ``orders`` decides; an
    order's items and cancellation go with its winning file. Superseded rows stay counted as loaded
    (they were read and valid) and are not written.
    """
    by_family: dict[str, list[Mapped]] = {}
    for m in mapped:
        if m.table in VERSIONED:
            by_family.setdefault(_family(m), []).append(m)
    for fam, ms in by_family.items():
        files = list(dict.fromkeys(m.file for m in ms))
        if len(files) < 2:
            continue
        rank = {f: i for i, f in enumerate(files)}
        parts = [
            pd.DataFrame({"order_id": ver.index, "v": ver.to_numpy(), "rank": rank[m.file], "file": m.file})
            for m in ms
            if m.table == "orders" and m.version is not None
            for ver in [_loaded_versions(m)]
            if len(ver)
        ]
        if not parts:
            continue
        v = pd.concat(parts, ignore_index=True)
        v["v"] = pd.to_datetime(v["v"])
        v = v.sort_values(["order_id", "v", "rank"], na_position="first", kind="stable")
        several = v["order_id"].duplicated(keep=False)
        if not several.any():
            continue
        winner = v.drop_duplicates("order_id", keep="last").set_index("order_id")["file"]
        dropped = 0
        for m in ms:
            if not len(m.loaded):
                continue
            w = m.loaded["order_id"].map(winner)
            lose = (w.notna() & (w != m.file)).to_numpy()
            if lose.any():
                if m.table == "orders":
                    dropped += int(lose.sum())
                m.loaded = m.loaded[~lose].reset_index(drop=True)
        n = int(v.loc[several, "order_id"].nunique())
        report.note(
            f"{n:,} orders are in several {fam} files: each order's latest version (last-updated date) "
            f"is kept, whatever the file names ({dropped:,} older versions not written)"
        )


def _loaded_versions(m: Mapped) -> pd.Series:
    """``order_id`` -> last-updated instant of the loaded orders of ``m`` (one per order)."""
    v = pd.to_datetime(m.version)
    v = v[v.index.isin(set(m.loaded["order_id"]))]
    return v.groupby(level=0).max()


def stage_all(job: ImportJob, mapped: list[Mapped], ctx: Context, report: AmazonImportReport) -> None:
    """Stage every mapped (file, table) in dependency order and fill ``report``'s entries.

    Marketplaces used that the warehouse lacks are added from the built-ins; the seller gets one
    ``sellers`` row per marketplace used (only ``seller_id`` and ``marketplace_id`` are set, other
    stored values are kept).
    """
    used = {ctx.marketplace_id}
    for m in mapped:
        if "marketplace_id" in m.loaded.columns:
            used |= set(m.loaded["marketplace_id"].dropna())
    _marketplaces(job, sorted(used))
    _sellers(job, ctx, sorted(used))
    staged: list[tuple[Mapped, object]] = []
    for table in ORDER:
        for m in (x for x in mapped if x.table == table):
            w = m.warnings if len(m.warnings) else None
            n_w = int(w["row"].nunique()) if w is not None else 0
            entry = job.entry(
                m.file, table, m.rows_read, m.rows_loaded, len(m.quarantined), n_w, m.quarantined, w
            )
            job.frame_part(table, m.loaded, entry, writes=m.writes, defaults=m.defaults)
            job.provide(table, m.provided)
            job.quarantine_frame(table, m.quarantined)
            staged.append((m, entry))
    if "orders" in job.parts:
        job.merge("orders")
    for m, entry in staged:
        if m.table in CHILDREN and len(m.loaded):
            orphans = _orphans(job, m)
            if len(orphans):
                w = pd.concat(
                    [x for x in (entry.warnings, orphans) if x is not None and len(x)], ignore_index=True
                )
                entry.warnings = w
                entry.n_warned = int(w["row"].nunique())
        job.quarantine_frame(m.table, entry.warnings, warning=True)
    if "orders" in job.parts:
        _deadline_note(job, ctx, report)


def _deadline_note(job: ImportJob, ctx: Context, report: AmazonImportReport) -> None:
    """Say how many of the seller's seller-fulfilled orders will have no ship-by deadline."""
    stg = job.stg
    seller = ctx.seller_id.replace("'", "''")
    cols = "order_id, fulfillment_channel, latest_ship_at"
    rels = [f"SELECT {cols} FROM {job.finals['orders']} WHERE seller_id = '{seller}'"]
    stored = stg.stored("orders")
    if stored is not None:
        rels.append(
            f"SELECT {cols} FROM {stored} AS s WHERE seller_id = '{seller}' "
            f"AND NOT EXISTS (SELECT 1 FROM {job.finals['orders']} AS n WHERE n.seller_id = s.seller_id "
            "AND n.order_id = s.order_id)"
        )
    total, missing = stg.sql(
        f"SELECT count(*), count(*) FILTER (WHERE latest_ship_at IS NULL) FROM ({' UNION ALL '.join(rels)}) "
        "WHERE fulfillment_channel = 'MFN'"
    ).fetchone()
    if missing:
        report.note(
            f"{missing:,} of {total:,} seller-fulfilled orders of {ctx.seller_id} have no ship-by deadline "
            "(no Orders API page has them): late shipment and on-time delivery leave them out; import "
            "getOrders pages that cover them"
        )


def _orphans(job: ImportJob, m: Mapped) -> pd.DataFrame:
    keys = m.loaded[["seller_id", "order_id", GRP]].astype({GRP: "int64"})
    rel = job.stg.put(keys, f"keys_{m.table}")
    got = job.stg.sql(job.orphans(rel, f"r.{GRP}")).fetchall()
    if not got:
        return pd.DataFrame()
    grp = np.array([g[0] for g in got], dtype=np.int64)
    rows = np.unique(m.first_row.reindex(grp).dropna().to_numpy(dtype=np.int64))
    return quarantine_rows(m.table, m.file, rows, "order_id", ORPHAN)


def _marketplaces(job: ImportJob, used: list[str]) -> None:
    have = job.stored_marketplaces()
    b = builtin_marketplaces()
    b = b[b["marketplace_id"].isin([u for u in used if u not in have])].reset_index(drop=True)
    if len(b):
        entry = job.entry("(built-in)", "marketplaces", len(b), len(b), 0)
        job.frame_part("marketplaces", b, entry)
        job.builtin_provided.setdefault("marketplaces", set()).update(b.columns)


def _sellers(job: ImportJob, ctx: Context, used: list[str]) -> None:
    rows = pd.DataFrame({"seller_id": ctx.seller_id, "marketplace_id": used})
    entry = job.entry(GIVEN, "sellers", len(rows), len(rows), 0)
    job.frame_part("sellers", rows, entry, writes=["seller_id", "marketplace_id"])
    job.provide("sellers", ["seller_id", "marketplace_id"])
