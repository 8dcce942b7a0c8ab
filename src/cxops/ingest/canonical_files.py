"""Import a directory of canonical tables (``<table>.csv`` or ``<table>.parquet``).

Every file is read and validated before anything is written, so a schema error (a missing required
column) leaves the warehouse untouched. Tables are then upserted parents first (the order of
:data:`cxops.canonical.schema.TABLES`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES, builtin_marketplaces
from cxops.canonical.schema import COMPLETE_RATINGS, TABLES
from cxops.canonical.validate import ValidationResult, validate
from cxops.ingest.files import SUFFIXES, IngestError, find_table_file, first_row_number, read_raw
from cxops.ingest.report import ImportReport, quarantine_rows, records_json
from cxops.warehouse import Warehouse

#: Child tables checked against ``orders`` (loaded anyway; orphans are warnings).
_CHILDREN = ("order_items", "shipments", "cancellations", "feedback", "claims", "returns", "buyer_messages")
BUILTIN_FILE = "(built-in)"


def find_canonical_files(directory: str | Path) -> dict[str, Path]:
    """Canonical table files in ``directory``, by table name, in load order.

    Raises
    ------
    IngestError
        If the directory does not exist, a table has both a CSV and a Parquet file, or a required
        table (``orders``, ``sellers``) is absent.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise IngestError(f"{directory}: not a directory")
    found = {}
    for name in TABLES:
        path = find_table_file(directory, name)
        if path is not None:
            found[name] = path
    missing = [n for n, s in TABLES.items() if s.required_table and n not in found]
    if missing:
        raise IngestError(
            f"{directory}: required table(s) missing: "
            + ", ".join(f"{m}.csv or {m}.parquet" for m in missing)
        )
    return found


def import_canonical(
    wh: Warehouse, directory: str | Path, quarantine_dir: str | Path | None = None
) -> ImportReport:
    """Import canonical tables from ``directory`` into ``wh``.

    Parameters
    ----------
    wh : Warehouse
    directory : str or pathlib.Path
        Holds one ``<table>.csv`` or ``<table>.parquet`` per canonical table (see
        :mod:`cxops.canonical.schema`); ``orders`` and ``sellers`` are required, the others
        optional. A header-only file means "present, no rows". Unknown files are ignored (noted).
    quarantine_dir : str or pathlib.Path, optional
        Where to write ``<table>.csv`` with the rejected and flagged rows (see
        :meth:`ImportReport.write_quarantine`). Nothing is written when ``None``.

    Returns
    -------
    ImportReport
        One entry per file (plus ``(built-in)`` marketplaces added for the marketplace ids used).

    Raises
    ------
    IngestError
        Missing directory or required table, both CSV and Parquet for a table, unreadable file.
    cxops.canonical.validate.SchemaError
        A file lacks a required column (message names the file and column); nothing is written.

    Notes
    -----
    * Rows with an unknown ``marketplace_id`` (neither in a ``marketplaces`` file, nor already in the
      warehouse, nor built in) are quarantined. Built-in marketplaces used by the data are upserted
      unless the warehouse or the file already has them.
    * Child rows whose ``(seller_id, order_id)`` is not in ``orders`` (this import plus the
      warehouse) are loaded and flagged as warnings.
    * Provided columns (``wh.record_provided``) are the file's columns that belong to the contract.
    """
    start = time.perf_counter()
    directory = Path(directory)
    files = find_canonical_files(directory)
    report = ImportReport(source="canonical")
    _note_ignored_files(report, directory, files)

    results: dict[str, ValidationResult] = {}
    rows: dict[str, np.ndarray] = {}  # source row number of each loaded row
    present: dict[str, list[str]] = {}
    raws: dict[str, pd.DataFrame] = {}
    for name, path in files.items():
        schema = TABLES[name]
        raw = read_raw(path)
        first = first_row_number(path)
        res = validate(raw, schema, file=str(path), first_row_number=first)
        all_rows = np.arange(len(raw)) + first
        rows[name] = np.setdiff1d(all_rows, res.quarantined["row"].to_numpy(dtype=int))
        results[name], raws[name] = res, raw
        present[name] = [c for c in schema.column_names if c in raw.columns]
        extra = [c for c in raw.columns if c not in schema.column_names]
        if extra:
            report.note(f"{path.name}: columns not in the contract are ignored: {', '.join(extra)}")

    builtin = _check_marketplaces(wh, files, results, rows, raws)
    warnings = _check_orphans(wh, files, results, rows)

    if builtin is not None and len(builtin):
        stats = wh.upsert(TABLES["marketplaces"], builtin)
        wh.record_provided("marketplaces", list(builtin.columns), source="builtin")
        report.add(
            BUILTIN_FILE,
            "marketplaces",
            len(builtin),
            len(builtin),
            inserted=stats.inserted,
            replaced=stats.replaced,
        )
        report.note(f"built-in marketplaces added: {', '.join(builtin['marketplace_id'])}")
    for name, res in results.items():
        path = files[name]
        stats = wh.upsert(TABLES[name], res.loaded)
        provided = list(present[name])
        if name == "feedback" and "rating" in provided:
            provided.append(COMPLETE_RATINGS)  # a canonical feedback file holds ratings of every star
        wh.record_provided(name, provided, source=f"canonical:{path}")
        orphans = warnings.get(name, res.warnings.iloc[:0])
        if len(orphans):
            report.note(
                f"{path.name}: {len(orphans):,} rows reference seller orders not in orders "
                "(loaded, no order invented)"
            )
        w = pd.concat([res.warnings, orphans], ignore_index=True)
        report.add(
            str(path),
            name,
            res.rows_read,
            res.rows_loaded,
            res.quarantined,
            w,
            inserted=stats.inserted,
            replaced=stats.replaced,
        )
    if quarantine_dir is not None:
        report.write_quarantine(quarantine_dir)
    report.seconds = time.perf_counter() - start
    return report


def _note_ignored_files(report: ImportReport, directory: Path, files: dict[str, Path]) -> None:
    used = {p.name for p in files.values()}
    ignored = sorted(
        p.name
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and p.name not in used
    )
    if ignored:
        report.note(f"files that are not canonical tables were ignored: {', '.join(ignored)}")


def _drop_rows(res: ValidationResult, rows: np.ndarray, bad: np.ndarray, q: pd.DataFrame) -> np.ndarray:
    """Move loaded rows ``bad`` (boolean mask over ``res.loaded``) to quarantine ``q``."""
    res.loaded = res.loaded.loc[~bad].reset_index(drop=True)
    res.quarantined = pd.concat([res.quarantined, q], ignore_index=True).sort_values("row", kind="stable")
    res.quarantined = res.quarantined.reset_index(drop=True)
    return rows[~bad]


def _check_marketplaces(wh, files, results, rows, raws) -> pd.DataFrame | None:
    """Quarantine rows with unknown marketplaces; return the built-in rows to add."""
    given: set[str] = set()
    if "marketplaces" in results:
        given = set(results["marketplaces"].loaded["marketplace_id"])
    if wh.has_table("marketplaces"):
        t = wh.table("marketplaces")
        given |= set(wh.execute(t.select("marketplace_id"))["marketplace_id"])
    used: set[str] = set()
    for name, res in results.items():
        if name == "marketplaces" or "marketplace_id" not in res.loaded.columns:
            continue
        mp = res.loaded["marketplace_id"]
        bad = (mp.notna() & ~mp.isin(given | set(BUILTIN_MARKETPLACES))).to_numpy(dtype=bool)
        if bad.any():
            path = files[name]
            first = first_row_number(path)
            bad_rows = rows[name][bad]
            reasons = [
                f"unknown marketplace {v!r}: add it to marketplaces.csv "
                f"(built in: {', '.join(BUILTIN_MARKETPLACES)})"
                for v in mp[bad]
            ]
            q = quarantine_rows(
                name,
                str(path),
                bad_rows,
                "marketplace_id",
                reasons,
                records_json(raws[name], bad_rows - first),
            )
            rows[name] = _drop_rows(res, rows[name], bad, q)
        used |= set(res.loaded["marketplace_id"].dropna())
    need = sorted(used - given)
    if not need:
        return None
    b = builtin_marketplaces()
    return b[b["marketplace_id"].isin(need)].reset_index(drop=True)


def _check_orphans(wh, files, results, rows) -> dict[str, pd.DataFrame]:
    """Warnings for child rows whose seller order is not in ``orders``."""
    keys = [results["orders"].loaded[["seller_id", "order_id"]]]
    if wh.has_table("orders"):
        keys.append(wh.execute(wh.table("orders").select("seller_id", "order_id")))
    known = pd.concat(keys, ignore_index=True).drop_duplicates()
    known["_known"] = True
    out = {}
    for name in _CHILDREN:
        if name not in results or not len(results[name].loaded):
            continue
        if "order_id" not in results[name].loaded.columns:  # optional there (buyer_messages)
            continue
        child = results[name].loaded[["seller_id", "order_id"]]
        m = child.merge(known, on=["seller_id", "order_id"], how="left")
        orphan = (m["_known"].isna() & child["order_id"].notna()).to_numpy(dtype=bool)
        if orphan.any():
            out[name] = quarantine_rows(
                name,
                str(files[name]),
                rows[name][orphan],
                "order_id",
                "seller order (seller_id, order_id) is not in orders (loaded anyway)",
            )
    return out
