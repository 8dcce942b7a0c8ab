"""Data fingerprint: what the stored canonical tables hold, in a few numbers and one digest.

A stored evaluation run is reused only while the data it was computed from is unchanged. The
fingerprint of a warehouse is, per canonical table present (and the provenance tables): its row
count and the first and last instant of each timestamp column, plus the version of the data:

- **with an import log** (``_cxops_imports``, written by every ``cxops import`` in the transaction
  that writes the data): the log itself — each import's id, source, kind, commit time and rows. Any
  import changes it, even one that rewrites rows with other values; cheap at any size (the log is
  small; counts and instants are read with the freshness check).
- **without one** (tables written by other means: attached lakes, tests): two order-independent
  digests of every table's rows (the sum modulo 2³¹−1 and the bitwise XOR of a 64-bit hash of each
  row's values): any insert, delete or changed value changes it; one scan of every column (about 6 M
  rows/s on 2 cores).

Changes made to the tables by hand (SQL bypassing ``cxops import``) in a warehouse with an import log
are seen only through row counts and first/last instants.

The same scan gives, per marketplace for the tables that have one, the first and last instants that
:func:`cxops.metrics.freshness.data_freshness` needs (:meth:`TableScan.extremes`), so the freshness
check and the fingerprint read each table once together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from cxops.canonical.schema import TABLES

#: Non-canonical tables whose content changes what metrics mean (which columns a source provides, which
#: sellers it covers).
PROVENANCE_TABLES: tuple[str, ...] = ("_cxops_columns", "_cxops_coverage")
#: The import log: one row per committed import (see :mod:`cxops.ingest.staging`).
IMPORT_LOG = "_cxops_imports"
_MOD = 2_147_483_647


@dataclass(frozen=True)
class Fingerprint:
    """The fingerprint of a warehouse's data.

    Attributes
    ----------
    digest : str
        SHA-256 (hex) of ``tables`` in canonical JSON: equal digests, equal data.
    tables : dict
        Table -> ``{"rows": int, "hash": str (without an import log), "<column>": [first, last], …}``
        (instants ISO), and ``"imports"`` -> the import log's rows when there is one.
    """

    digest: str
    tables: dict


@dataclass(frozen=True)
class TableScan:
    """Per table (and marketplace, where the table has one): rows, row-hash digests when computed, and
    the first and last value of every timestamp column (columns ``rows, [h_sum, h_xor,] lo_<c>,
    hi_<c>`` and ``marketplace_id`` when grouped); ``imports``: the import log (None without one)."""

    frames: dict[str, pd.DataFrame]
    imports: pd.DataFrame | None = None

    def extremes(self) -> dict[str, pd.DataFrame]:
        """Table -> ``marketplace_id`` (when the table has one), ``rows``, and ``lo_<c>`` / ``hi_<c>``."""
        return {
            name: df.drop(columns=["h_sum", "h_xor"], errors="ignore") for name, df in self.frames.items()
        }

    def fingerprint(self) -> Fingerprint:
        out: dict[str, object] = {}
        for name, df in self.frames.items():
            stamps = [c[3:] for c in df.columns if c.startswith("lo_") and c != "lo__none"]
            entry: dict = {"rows": int(df["rows"].sum())}
            if "h_sum" in df.columns:
                h_sum = int(df["h_sum"].fillna(0).astype("int64").sum())
                h_xor = 0
                for v in df["h_xor"].dropna().astype("int64").tolist():
                    h_xor ^= int(v)
                entry["hash"] = f"{h_sum}:{h_xor}"
            for c in stamps:
                entry[c] = [_iso(df[f"lo_{c}"].min()), _iso(df[f"hi_{c}"].max())]
            out[name] = entry
        if self.imports is not None:
            log = self.imports.sort_values(list(self.imports.columns)).astype(str)
            out["imports"] = log.to_dict("records")
        text = json.dumps(out, sort_keys=True, separators=(",", ":"), default=str)
        return Fingerprint(hashlib.sha256(text.encode()).hexdigest(), out)


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def scan_tables(wh) -> TableScan:
    """The aggregates of :class:`TableScan`, read from the warehouse.

    With an import log: one query for every table together (its rows, and the first and last event
    instant of :data:`cxops.metrics.freshness.EVENT_INSTANTS`, per marketplace where it has one).
    Without: one query per table, hashing every row, with the extremes of every timestamp column.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    """
    present = set(wh.con.list_tables())
    if IMPORT_LOG in present:
        log = wh.con.table(IMPORT_LOG)
        cols = [c for c in ("import_id", "source", "kind", "committed_at", "rows_loaded") if c in log.columns]
        return TableScan(_event_extremes(wh, present), wh.execute(log.select(*cols)))
    frames: dict[str, pd.DataFrame] = {}
    for name in [*TABLES, *PROVENANCE_TABLES]:
        if name not in present:
            continue
        t = wh.con.table(name)
        row_hash = ibis.struct({c: t[c] for c in t.columns}).hash()
        aggs = {"rows": t.count(), "h_sum": (row_hash % _MOD).sum(), "h_xor": _bit_xor(wh, row_hash)}
        for c, typ in t.schema().items():
            if typ.is_timestamp():
                aggs[f"lo_{c}"] = t[c].min()
                aggs[f"hi_{c}"] = t[c].max()
        grouped = "marketplace_id" in t.columns and name != "marketplaces"
        expr = t.group_by("marketplace_id").aggregate(**aggs) if grouped else t.aggregate(**aggs)
        df = wh.execute(expr)
        frames[name] = df.sort_values("marketplace_id").reset_index(drop=True) if grouped else df
    return TableScan(frames)


@ibis.udf.agg.builtin(name="bit_xor")
def _spark_bit_xor(x: dt.int64) -> dt.int64:  # Spark SQL's bit_xor aggregate (Ibis compiles none)
    ...


def _bit_xor(wh, row_hash):
    """The XOR of the row hashes: Ibis's ``bit_xor`` where it compiles; on Spark (whose ``hash`` is a
    32-bit integer) the engine's own ``bit_xor`` aggregate."""
    if wh.engine == "pyspark":
        return _spark_bit_xor(row_hash.cast("int64"))
    return row_hash.bit_xor()


def _event_extremes(wh, present: set[str]) -> dict[str, pd.DataFrame]:
    """Rows and first/last event instant of every canonical table, in one query (a union of small
    aggregates)."""
    from cxops.metrics.freshness import EVENT_INSTANTS

    parts = []
    for name in TABLES:
        if name not in present:
            continue
        t = wh.con.table(name)
        column = EVENT_INSTANTS.get(name)
        grouped = "marketplace_id" in t.columns and name != "marketplaces"
        if column in t.columns:
            aggs = {
                "rows": t.count(),
                "lo": t[column].min().cast("timestamp"),
                "hi": t[column].max().cast("timestamp"),
            }
        else:
            aggs = {"rows": t.count(), "lo": ibis.null("timestamp"), "hi": ibis.null("timestamp")}
        if grouped:
            agg = t.group_by("marketplace_id").aggregate(**aggs)
        else:
            agg = t.aggregate(**aggs).mutate(marketplace_id=ibis.null("string"))
        parts.append(
            agg.select(
                table=ibis.literal(name),
                grouped=ibis.literal(grouped),
                marketplace_id=agg.marketplace_id.cast("string"),
                rows=agg.rows.cast("int64"),
                lo=agg.lo,
                hi=agg.hi,
            )
        )
    if not parts:
        return {}
    df = wh.execute(ibis.union(*parts))
    frames = {}
    for name, g in df.groupby("table", sort=False):
        column = EVENT_INSTANTS.get(name, "_none")
        g = g.rename(columns={"lo": f"lo_{column}", "hi": f"hi_{column}"})
        if not g["grouped"].iloc[0]:
            g = g.drop(columns=["marketplace_id"])
        else:
            g = g.sort_values("marketplace_id")
        frames[name] = g.drop(columns=["table", "grouped"]).reset_index(drop=True)
    return frames


def data_fingerprint(wh) -> Fingerprint:
    """The :class:`Fingerprint` of the canonical tables (and provenance) stored in ``wh``."""
    return scan_tables(wh).fingerprint()
