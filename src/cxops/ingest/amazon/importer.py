"""``import_amazon``: Amazon Seller Central / SP-API report files → canonical tables.

Two phases: every file is read, decoded, recognised, mapped and validated first (a file that cannot be
imported as a whole — malformed JSON, an unrecognised header, a failed report — stops the import
before anything is written; a report of a type cxops does not read, found in a folder, is skipped with
a note); then the tables are staged in dependency order, merged by key with what the warehouse holds,
and committed in one transaction (:mod:`.write`, :mod:`cxops.ingest.job`); the days each table's
changes fall on are reported.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from cxops.canonical.marketplaces import AMAZON_MARKETPLACE_IDS, BUILTIN_MARKETPLACES
from cxops.ingest.amazon import detect
from cxops.ingest.amazon.account_health import read_account_health
from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.fba_shipments import read_fba_shipments
from cxops.ingest.amazon.feedback import read_feedback
from cxops.ingest.amazon.orders_api import read_orders_api
from cxops.ingest.amazon.orders_flat import read_all_orders
from cxops.ingest.amazon.outcome import AmazonImportReport, FileOutcome
from cxops.ingest.amazon.reading import read_report
from cxops.ingest.amazon.returns import read_returns
from cxops.ingest.amazon.snapshots import snapshot_mapped, snapshot_rows
from cxops.ingest.amazon.write import provenance_label, stage_all, supersede
from cxops.ingest.files import IngestError
from cxops.ingest.job import ImportJob
from cxops.warehouse import Warehouse

READERS = {
    detect.ALL_ORDERS: read_all_orders,
    detect.ORDERS_API: read_orders_api,
    detect.FBA_SHIPMENTS: read_fba_shipments,
    detect.RETURNS: read_returns,
    detect.FEEDBACK: read_feedback,
    detect.ACCOUNT_HEALTH: read_account_health,
}
#: The deadline inputs (:mod:`cxops.canonical.deadline_inputs`) the reports cxops reads can hold: the
#: ship-by and deliver-by deadlines of Orders API pages (``LatestShipDate``, ``LatestDeliveryDate``) and
#: the tracking ids of FBA shipments. No report read here holds a seller-fulfilled ship confirmation,
#: carrier scan or delivery, calendars, handling-time settings, ship-by corrections, delivery attempts or
#: buyer delivery confirmations.
DEADLINE_INPUTS = ("ship_by", "promised_delivery", "tracking")
#: File suffixes picked up from a directory (Amazon documents are often ``.txt`` or have none).
SUFFIXES = {".txt", ".tsv", ".csv", ".tab", ".json", ".gz", ""}


def marketplace_zones(wh: Warehouse) -> dict[str, str]:
    """marketplace_id → time zone: the built-ins, overridden/extended by the warehouse's table."""
    zones = {mp: v[0] for mp, v in BUILTIN_MARKETPLACES.items()}
    if wh.has_table("marketplaces"):
        t = wh.execute(wh.table("marketplaces").select("marketplace_id", "timezone"))
        zones.update(dict(zip(t["marketplace_id"], t["timezone"], strict=True)))
    return zones


def resolve_marketplace(marketplace_id: str, zones: dict[str, str]) -> str:
    """Our marketplace id from ours or Amazon's (``ATVPDKIKX0DER`` → ``US``).

    Raises
    ------
    IngestError
        If the marketplace has no time zone (neither built in nor in the warehouse).
    """
    mp = (marketplace_id or "").strip()
    mp = AMAZON_MARKETPLACE_IDS.get(mp, mp)
    if mp not in zones:
        mp_up = mp.upper()
        if mp_up in zones:
            return mp_up
        raise IngestError(
            f"unknown marketplace {marketplace_id!r}: add it with its time zone to a marketplaces table "
            f"(cxops import canonical) first; known: {', '.join(sorted(zones))}"
        )
    return mp


def expand_paths(
    paths: str | Path | Iterable[str | Path], report: AmazonImportReport, from_folders: set | None = None
) -> list[Path]:
    """Files to import: given files as they are; directories searched recursively (sorted) for report
    files (:data:`SUFFIXES`; hidden files skipped, others noted; links to folders not followed, noted).

    Parameters
    ----------
    from_folders : set, optional
        Filled with the files found in folders (a report type cxops does not read is skipped there).

    Raises
    ------
    IngestError
        A path that does not exist, a link that loops or leads nowhere, or no file at all.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_symlink() and not p.exists():
            raise IngestError(f"{p}: {_broken_link(p)}; nothing was imported")
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            entries = sorted(
                x for x in p.rglob("*") if not any(s.startswith(".") for s in x.relative_to(p).parts)
            )
            broken = [x for x in entries if x.is_symlink() and not x.exists()]
            if broken:
                raise IngestError(f"{broken[0]}: {_broken_link(broken[0])}; nothing was imported")
            linked = [x for x in entries if x.is_symlink() and x.is_dir()]
            if linked:
                names = ", ".join(str(x.relative_to(p)) for x in linked[:10])
                report.note(f"{p}: links to folders are not followed: {names}")
            found = [x for x in entries if x.is_file()]
            skipped = [x for x in found if x.suffix.lower() not in SUFFIXES]
            picked = [x for x in found if x.suffix.lower() in SUFFIXES]
            out += picked
            if from_folders is not None:
                from_folders.update(picked)
            if skipped:
                report.note(
                    f"{p}: files skipped (not report files): {', '.join(x.name for x in skipped[:10])}"
                )
        else:
            raise IngestError(f"{p}: no such file or directory")
    if not out:
        raise IngestError("no report files to import")
    return out


def _broken_link(p: Path) -> str:
    import os

    try:
        os.stat(p)
    except OSError as e:
        if e.errno == 40:  # ELOOP
            return "a symbolic link that loops"
    return f"a symbolic link to {os.readlink(p)}, which does not exist"


def read_all(
    files: list[Path],
    ctx: Context,
    report: AmazonImportReport,
    forced: str | None = None,
    skippable: set | None = None,
    read: list | None = None,
) -> list:
    """Phase 1: read, recognise, map and validate every file (nothing is written).

    Files are handled in :data:`detect.REPORT_TYPES` order (orders first), then by name; no-data
    documents are recorded in ``report.files`` and skipped; so are the files in ``skippable`` (found
    in a folder) that are reports of a type cxops does not read, with a note. ``read``, when given,
    receives every :class:`ReportFile` read (no-data ones included).

    Returns
    -------
    list of Mapped

    Raises
    ------
    IngestError
        For the first file that cannot be imported as a whole (the message ends "nothing was
        imported").
    """
    mapped = []
    try:
        parsed = []
        for p in files:
            try:
                parsed.append(read_report(p, ctx.charset, ctx.marketplace_id, forced))
            except detect.UnsupportedReport as e:
                if skippable is None or p not in skippable:
                    raise
                report.files.append(FileOutcome(str(p), e.report_type, "skipped", str(e)))
                report.note(f"{p.name}: skipped: {e.report_type}, which cxops does not read")
        rank = {t: i for i, t in enumerate((detect.NO_DATA, *detect.REPORT_TYPES))}
        parsed.sort(key=lambda r: (rank[r.report_type], r.file))
        if read is not None:
            read.extend(parsed)
        for rf in parsed:
            if rf.report_type == detect.NO_DATA:
                report.files.append(
                    FileOutcome(rf.file, forced or "", "no_data", rf.no_data or "", rf.decoded.encoding)
                )
                report.note(f"{rf.path.name}: no data ({rf.no_data}); nothing to import, not an error")
                continue
            mapped += READERS[rf.report_type](rf, ctx)
            report.files.append(FileOutcome(rf.file, rf.report_type, "loaded", "", rf.decoded.encoding))
    except IngestError as e:
        raise IngestError(f"{e}; nothing was imported") from e
    return mapped


def import_amazon(
    wh: Warehouse,
    seller_id: str,
    marketplace_id: str,
    paths: str | Path | Iterable[str | Path],
    quarantine_dir: str | Path | None = None,
    report_type: str | None = None,
    charset: str | None = None,
    progress=None,
    *,
    fetched_on: date | None = None,
    requested: tuple[date, date] | None = None,
) -> AmazonImportReport:
    """Import downloaded Amazon reports of one seller into ``wh``.

    Parameters
    ----------
    wh : Warehouse
    seller_id : str
        The seller the files belong to (report files carry no seller id).
    marketplace_id : str
        Our id (``US``, ``DE`` …) or Amazon's (``ATVPDKIKX0DER``). Sets the time zone of local times,
        the date format of the feedback report (C3) and the legacy code page (cp932 for JP).
    paths : path or list of paths
        Files and/or directories (searched recursively).
    quarantine_dir : path, optional
        Where to write ``<table>.csv`` with rejected and flagged rows.
    report_type : str, optional
        Force the report type of every file (see :data:`detect.REPORT_TYPES`); recognised from each
        file's content otherwise.
    charset : str, optional
        Declared charset of the files (``Content-Type`` of the report documents).
    progress : callable, optional
        ``progress(stage, done, total)``, called on the commit's merge and change steps (a progress bar).
    fetched_on : date, optional
        When the reports were fetched (UTC date); default each file's modification date. Account
        health reports (and "no data" answers) are kept per fetch date and window in
        ``report_snapshots`` (:mod:`.snapshots`).
    requested : (date, date), optional
        The window asked for (inclusive); a report that returned another window is stored under the
        returned one, with a note.

    Returns
    -------
    AmazonImportReport
        Per (file, table): rows read = loaded + quarantined; ``files`` with each file's type and status
        (``no_data`` for a cancelled/no-data report: not an error); ``changes`` with the rows changed
        and the local days affected per table; data-quality notes.

    Raises
    ------
    IngestError
        Bad arguments, or a file that cannot be imported as a whole (missing, malformed JSON with its
        byte offset, undecodable in its declared charset, unrecognised or failed report, a feedback
        report without exactly 6 columns, a missing required column). Nothing is written then.
    """
    start = time.perf_counter()
    report = AmazonImportReport(source="amazon", declared=DEADLINE_INPUTS)
    seller = (seller_id or "").strip()
    if not seller:
        raise IngestError("a seller id is required (report files carry none): --seller ID")
    zones = marketplace_zones(wh)
    ctx = Context(seller, resolve_marketplace(marketplace_id, zones), zones, charset)
    forced = detect.normalize_report_type(report_type) if report_type else None
    in_folders: set[Path] = set()
    files = expand_paths(paths, report, in_folders)
    parsed: list = []
    mapped = read_all(files, ctx, report, forced, in_folders, parsed)
    supersede(mapped, report)
    snaps = snapshot_rows(parsed, mapped, ctx, fetched_on=fetched_on, requested=requested, forced=forced)
    if len(snaps):
        mapped.append(snapshot_mapped(snaps))
    if mapped:
        label = provenance_label(ctx.seller_id)
        # progress(stage, done, total): the merge and change steps of the commit (a progress bar)
        mp = ctx.marketplace_id
        with ImportJob(wh, report, label, quarantine_dir, default_mp=mp, progress=progress) as job:
            stage_all(job, mapped, ctx, report)
            claims = job.stg.stored("claims") is not None
            if any(m.table == "feedback" for m in mapped) and not claims:
                report.note(
                    "no claims source: Amazon's reports here carry no A-to-z claims or chargebacks, so an "
                    "order defect rate computed from this data counts negative feedback only (compare with "
                    "the reported order_defect_rate in reported_metrics)"
                )
            job.commit()
    for n in ctx.notes:
        report.note(n)
    for line in report.change_lines():  # last: what to recompute
        report.note(line)
    report.seconds = time.perf_counter() - start
    return report
