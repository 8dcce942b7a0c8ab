"""Import a directory of canonical tables (``<table>.csv`` or ``<table>.parquet``), in the engine.

Every file is scanned by DuckDB (CSV as text, Parquet with its types), checked with the contract's
rules compiled to SQL (:mod:`cxops.canonical.rules`) and staged; duplicate keys are resolved in one
aggregation; the staged tables then replace the stored rows by key, all in one transaction
(:mod:`cxops.ingest.job`). A schema error (a missing required column, a nested or binary column, an
unreadable file) stops the import before anything is written. Memory is bounded by DuckDB's limit
(:data:`cxops.ingest.staging.MEMORY_ENV`), whatever the size of the files.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES, builtin_marketplaces
from cxops.canonical.rules import RuleContext, compile_checks, ident, literal
from cxops.canonical.schema import COMPLETE_RATINGS, DEADLINE_TABLES, TABLES
from cxops.canonical.validate import QUARANTINE_COLUMNS, SchemaError, duplicate_reason, iana_zones
from cxops.ingest.files import SUFFIXES, IngestError, find_table_file
from cxops.ingest.job import CHILDREN, ImportJob
from cxops.ingest.report import REPORT_ROWS, WARNING_PREFIX, ImportReport
from cxops.ingest.scan import Scan, check_types, read_error, scan_file
from cxops.warehouse import Warehouse

BUILTIN_FILE = "(built-in)"
ORPHAN = "seller order (seller_id, order_id) is not in orders (loaded anyway)"
_MP_TABLES = ("sellers", "orders", "violations", "buyer_messages")


def find_canonical_files(directory: str | Path) -> dict[str, Path]:
    """Canonical table files in ``directory``, by table name, in load order.

    Raises
    ------
    IngestError
        If the directory does not exist, a table has both a CSV and a Parquet file, a table's file is
        a symbolic link that loops or leads nowhere, or a required table (``orders``, ``sellers``) is
        absent (a directory holding only deadline tables — calendars, handling times, ship-by
        corrections — needs neither: it applies to the orders already stored).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise IngestError(f"{directory}: not a directory")
    found = {}
    for name, schema in TABLES.items():
        if schema.derived:
            continue  # written by cxops (derived deadlines), never imported
        for suffix in SUFFIXES:
            p = directory / f"{name}{suffix}"
            if p.is_symlink() and not p.exists():
                raise IngestError(f"{p}: {_broken_link(p)}; nothing was imported")
        path = find_table_file(directory, name)
        if path is not None:
            found[name] = path
    missing = [n for n, s in TABLES.items() if s.required_table and n not in found]
    if found and set(found) <= set(DEADLINE_TABLES):
        missing = []  # calendars, handling times or corrections alone apply to the stored orders
    if missing:
        raise IngestError(
            f"{directory}: required table(s) missing: "
            + ", ".join(f"{m}.csv or {m}.parquet" for m in missing)
        )
    return found


def _broken_link(p: Path) -> str:
    try:
        p.resolve(strict=True)
    except RuntimeError:
        return "a symbolic link that loops"
    except OSError:
        pass
    try:
        os.stat(p)
    except OSError as e:
        if e.errno == 40:  # ELOOP
            return "a symbolic link that loops"
    return f"a symbolic link to {os.readlink(p)}, which does not exist"


def import_canonical(
    wh: Warehouse,
    directory: str | Path,
    quarantine_dir: str | Path | None = None,
    memory: str | None = None,
    progress=None,
) -> ImportReport:
    """Import canonical tables from ``directory`` into ``wh``, all or nothing.

    Parameters
    ----------
    wh : Warehouse
    directory : str or pathlib.Path
        Holds one ``<table>.csv`` or ``<table>.parquet`` per canonical table (see
        :mod:`cxops.canonical.schema`); ``orders`` and ``sellers`` are required, the others
        optional. A header-only file means "present, no rows". Unknown files are ignored (noted).
    quarantine_dir : str or pathlib.Path, optional
        Where to write ``<table>.csv`` with the rejected and flagged rows (see
        :mod:`cxops.ingest.quarantine`), before the commit. Nothing is written when ``None``.
    memory : str, optional
        DuckDB memory limit of the import (default env ``CXOPS_IMPORT_MEMORY_LIMIT``, else 2 GB).
    progress : callable, optional
        Called as ``progress(stage, done, total)`` after each file read, table checked, merged and
        compared (a progress bar).

    Returns
    -------
    ImportReport
        One entry per file (plus ``(built-in)`` marketplaces added for the marketplace ids used), the
        changed rows and days per table, the provided columns.

    Raises
    ------
    IngestError
        Missing directory or required table, both CSV and Parquet for a table, an unreadable file,
        a broken CSV record (field count, encoding, quote), a nested or binary contract column.
    cxops.canonical.validate.SchemaError
        A file lacks a required column (message names the file and column); nothing is written.
    cxops.errors.OutputError
        The quarantine folder cannot be written; nothing is written.
    cxops.errors.ConflictError
        Another import committed meanwhile; nothing is written.

    Notes
    -----
    * Rows with an unknown ``marketplace_id`` (neither in a ``marketplaces`` file, nor already in the
      warehouse, nor built in) are quarantined. Built-in marketplaces used by the data are added
      unless the warehouse or the file already has them.
    * Child rows whose ``(seller_id, order_id)`` is not in ``orders`` (this import plus the
      warehouse) are loaded and flagged as warnings.
    * Provided columns are the file's columns that belong to the contract, recorded for this source
      (``canonical:<absolute directory>``), which covers the sellers of its ``sellers``, ``orders``,
      ``violations`` and ``buyer_messages`` rows.
    """
    start = time.perf_counter()
    directory = Path(directory)
    files = find_canonical_files(directory)
    report = ImportReport(source="canonical")
    _note_ignored_files(report, directory, files)
    size = sum(p.stat().st_size for p in files.values())
    with ImportJob(
        wh,
        report,
        f"canonical:{directory.resolve()}",
        quarantine_dir,
        memory=memory,
        progress=progress,
        input_bytes=size,
    ) as job:
        scans = _scan_all(job, files, report)
        _stage(job, scans, files)
        job.commit()
    report.seconds = time.perf_counter() - start
    return report


def _scan_all(job: ImportJob, files: dict[str, Path], report: ImportReport) -> dict[str, Scan]:
    """Scan every file and check its columns before anything is staged."""
    scans = {}
    for i, (name, path) in enumerate(files.items()):
        job.step("reading files", i, len(files))
        schema = TABLES[name]
        scan = scan_file(job.stg.con, path)
        dropped = check_types(scan, schema.column_names)
        missing = [c for c in schema.required_columns if c not in scan.names]
        if missing:
            raise SchemaError(
                f"{path}: table {name} is missing required column(s) {', '.join(missing)} "
                f"(found: {', '.join(scan.names)})"
            )
        extra = [c for c in scan.names if c not in schema.column_names] + dropped
        if extra:
            report.note(f"{path.name}: columns not in the contract are ignored: {', '.join(extra)}")
        scans[name] = scan
    job.step("reading files", len(files), len(files))
    return scans


def _stage(job: ImportJob, scans: dict[str, Scan], files: dict[str, Path]) -> None:
    stg = job.stg
    zones = iana_zones()
    known = set(BUILTIN_MARKETPLACES) | job.stored_marketplaces()
    given: set[str] = set()
    checked: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for i, (name, scan) in enumerate(scans.items()):
        job.step("checking rows", i, len(scans))
        schema = TABLES[name]
        ctx = RuleContext(job.imported_at, tuple(sorted(known)), zones, tuple(BUILTIN_MARKETPLACES))
        q = compile_checks(schema, scan.relation, scan.columns, ctx)
        table = stg.name(f"checked_{name}")
        try:
            stg.sql(f"CREATE TABLE {table} AS {q.sql}")
        except duckdb.Error as e:
            raise read_error(scan, e) from None
        _resolve_duplicates(stg, table, schema.key)
        if name == "marketplaces":
            given = {
                r[0] for r in stg.sql(f"SELECT marketplace_id FROM {table} WHERE _reason IS NULL").fetchall()
            }
            known |= given
        checked[name] = (table, q.warnings)
    job.step("checking rows", len(scans), len(scans))
    _builtin_marketplaces(job, checked, given)
    for name, (table, _) in checked.items():
        schema = TABLES[name]
        view = stg.name(f"loaded_{name}")
        cols = ", ".join(ident(c) for c in schema.column_names)
        stg.sql(f"CREATE VIEW {view} AS SELECT {cols} FROM {table} WHERE _reason IS NULL")
        checked[name] = (table, checked[name][1], view)
    for name, (table, _, view) in checked.items():
        job.part(name, view, _entry(job, name, str(files[name]), table))
    if "orders" in job.parts:
        job.merge("orders")
    for name, (table, warns, _) in checked.items():
        _accounting(job, name, str(files[name]), table, warns)
    for name, scan in scans.items():
        provided = [c for c in TABLES[name].column_names if c in scan.names]
        if name == "feedback" and "rating" in provided:
            provided.append(COMPLETE_RATINGS)  # a canonical feedback file holds ratings of every star
        job.provide(name, provided)


def _resolve_duplicates(stg, table: str, key: tuple[str, ...]) -> None:
    """Quarantine later rows repeating a key among the rows still valid (one aggregation)."""
    keys = ", ".join(ident(k) for k in key)
    dups = stg.name("dups")
    stg.sql(
        f"CREATE TABLE {dups} AS SELECT {keys}, min(_row) AS _first FROM {table} WHERE _reason IS NULL "
        f"GROUP BY {keys} HAVING count(*) > 1"
    )
    if not stg.scalar(f"SELECT count(*) FROM {dups}"):
        return
    on = " AND ".join(f"c.{ident(k)} = d.{ident(k)}" for k in key)
    record = "to_json(struct_pack(" + ", ".join(f"{ident(k)} := c.{ident(k)}" for k in key) + "))"
    stg.sql(
        f"UPDATE {table} AS c SET _reason = {duplicate_reason(key, 'c', 'd._first')}, "
        f"_column = {literal(','.join(key))}, _record = CAST({record} AS VARCHAR) FROM {dups} AS d "
        f"WHERE {on} AND c._row > d._first AND c._reason IS NULL"
    )


def _builtin_marketplaces(job: ImportJob, checked, given: set[str]) -> None:
    """Add the built-in marketplaces the loaded rows use that neither the file nor the warehouse has."""
    stg = job.stg
    used: set[str] = set()
    for name in _MP_TABLES:
        if name in checked:
            table = checked[name][0]
            used |= {
                r[0]
                for r in stg.sql(
                    f"SELECT DISTINCT marketplace_id FROM {table} WHERE _reason IS NULL "
                    "AND marketplace_id IS NOT NULL"
                ).fetchall()
            }
    need = sorted(used - given - job.stored_marketplaces())
    if not need:
        return
    b = builtin_marketplaces()
    b = b[b["marketplace_id"].isin(need)].reset_index(drop=True)
    e = job.entry(BUILTIN_FILE, "marketplaces", len(b), len(b), 0)
    job.frame_part("marketplaces", b, e)
    job.builtin_provided.setdefault("marketplaces", set()).update(b.columns)
    job.report.note(f"built-in marketplaces added: {', '.join(b['marketplace_id'])}")


def _entry(job: ImportJob, name: str, file: str, table: str):
    stg = job.stg
    read, loaded = stg.sql(
        f"SELECT count(*), count(*) FILTER (WHERE _reason IS NULL) FROM {table}"
    ).fetchone()
    return job.entry(file, name, int(read), int(loaded), int(read) - int(loaded))


def _accounting(job: ImportJob, name: str, file: str, table: str, warns: list[tuple[str, str]]) -> None:
    """Quarantine and warning rows of one file: to the quarantine file (all) and the report (a sample)."""
    stg = job.stg
    f = literal(file)
    t = literal(name)
    rejected = stg.name(f"rejected_{name}")
    stg.sql(
        f'CREATE VIEW {rejected} AS SELECT {t} AS "table", {f} AS file, _row AS "row", _column AS "column", '
        f"_reason AS reason, _record AS record FROM {table} WHERE _reason IS NOT NULL"
    )
    job.quarantine_rows(name, rejected)
    flagged = [
        f"SELECT _row, {literal(col)} AS col, {literal(why)} AS why FROM {table} "
        f"WHERE _reason IS NULL AND _w{i}"
        for i, (col, why) in enumerate(warns)
    ]
    orphans = None
    if name in CHILDREN:
        loaded = f"(SELECT _row, seller_id, order_id FROM {table} WHERE _reason IS NULL)"
        orphans = stg.name(f"orphans_{name}")
        stg.sql(f"CREATE TABLE {orphans} AS {job.orphans(loaded, 'r._row')}")
        flagged.append(f"SELECT _row, 'order_id' AS col, {literal(ORPHAN)} AS why FROM {orphans}")
        n_orphans = int(stg.scalar(f"SELECT count(*) FROM {orphans}"))
        if n_orphans:
            job.report.note(
                f"{Path(file).name}: {n_orphans:,} rows reference seller orders not in orders "
                "(loaded, no order invented)"
            )
    entry = next(e for e in job.entries if e.file == file and e.table == name)
    if flagged:
        warned = stg.name(f"warned_{name}")
        stg.sql(
            f'CREATE VIEW {warned} AS SELECT {t} AS "table", {f} AS file, _row AS "row", col AS "column", '
            f"{literal(WARNING_PREFIX)} || why AS reason, CAST(NULL AS VARCHAR) AS record "
            f"FROM ({' UNION ALL '.join(flagged)})"
        )
        job.quarantine_rows(name, warned)
        entry.n_warned = int(stg.scalar(f'SELECT count(DISTINCT "row") FROM {warned}'))
        if entry.n_warned:
            w = stg.df(f'SELECT * FROM {warned} ORDER BY "row" LIMIT {REPORT_ROWS}')
            w["reason"] = w["reason"].str.removeprefix(WARNING_PREFIX)
            entry.warnings = w[QUARANTINE_COLUMNS]
    if entry.n_quarantined:
        entry.quarantined = stg.df(f'SELECT * FROM {rejected} ORDER BY "row" LIMIT {REPORT_ROWS}')[
            QUARANTINE_COLUMNS
        ]


def _note_ignored_files(report: ImportReport, directory: Path, files: dict[str, Path]) -> None:
    used = {p.name for p in files.values()}
    ignored = sorted(
        p.name
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and p.name not in used
    )
    if ignored:
        report.note(f"files that are not canonical tables were ignored: {', '.join(ignored)}")
