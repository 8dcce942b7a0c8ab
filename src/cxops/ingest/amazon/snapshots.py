"""Reported snapshots: every fetched account health report, per fetch date and per window it covers.

``reported_metrics`` holds one row per metric and window; it cannot say that a report was fetched
twice, nor that a fetch answered "no data". ``report_snapshots`` does: one row per (seller,
marketplace, report type, window, fetch date) with ``status`` ``data`` or ``no_data``.

* **Window.** A report's window is the one it *returned*: for an account health document the span of
  its metrics' ``reportingDateRange`` (earliest ``reportingDateFrom`` to latest ``reportingDateTo``, UTC
  dates); for a no-data status document its ``dataStartTime`` / ``dataEndTime``, else the requested
  window. The window asked for (``--requested FROM..TO``) is kept beside it; a report whose returned
  window differs from the requested one is stored under the returned window, with a warning.
* **Fetch date.** ``--fetched-on`` when given, else the UTC date of the file's modification time (when
  it was downloaded): re-importing the same file never makes a second snapshot.
* **No data.** A report fetched with "no data" (``processingStatus`` ``CANCELLED`` / ``DONE_NO_DATA``, an
  empty file, a "no data" text) of a known type (the status document's ``reportType``, or
  ``--report-type``) is stored as ``status = no_data``.

Reading them back, :func:`reported_view` gives a seller's reported rates with their provenance, from
the latest snapshot of a report type fetched by a day:

* ``reported`` — the report had data: the ``reported_metrics`` rows within the snapshot's window;
* ``no data`` — the marketplace answered "no data" for that window: every rate the report type gives
  (:data:`cxops.ingest.amazon.account_health.REPORTED_RATES`) is 0, with numerator and denominator 0;
* ``not measured`` — no snapshot of the report type was fetched by then: the values are null.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.account_health import REPORTED_RATES
from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.mapped import GRP, Mapped, Rows, build
from cxops.ingest.amazon.reading import ReportFile
from cxops.ingest.files import IngestError
from cxops.ingest.report import records_json

#: Report types whose fetches are kept as snapshots.
SNAPSHOT_TYPES = (detect.ACCOUNT_HEALTH,)


def parse_requested(text: str | None) -> tuple[date, date] | None:
    """``FROM..TO`` (ISO dates, inclusive) → ``(from, to)``.

    Raises
    ------
    IngestError
        For another form, an invalid date, or ``FROM`` after ``TO``.
    """
    if text is None or not str(text).strip():
        return None
    parts = str(text).strip().split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = (date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise IngestError(
            f"--requested {text!r}: expected FROM..TO with ISO dates, e.g. 2024-04-01..2024-05-31"
        ) from None
    if lo > hi:
        raise IngestError(f"--requested {text!r}: {lo} is after {hi}")
    return lo, hi


def fetch_date(rf: ReportFile, fetched_on: date | None) -> date:
    """The day a report was fetched: ``fetched_on``, else its file's modification date (UTC)."""
    if fetched_on is not None:
        return fetched_on
    return datetime.fromtimestamp(rf.path.stat().st_mtime, tz=UTC).date()


def _day(value) -> date | None:
    if value is None:
        return None
    d, bad = parse_instants(pd.Series([str(value)]), "US", "UTC")
    return None if bool(bad.iloc[0]) or pd.isna(d.iloc[0]) else d.iloc[0].date()


def _no_data_type(rf: ReportFile, forced: str | None) -> str | None:
    if forced is not None:
        return forced
    doc = rf.doc if isinstance(rf.doc, dict) else {}
    name = doc.get("reportType")
    if isinstance(name, str) and name:
        try:
            return detect.normalize_report_type(name)
        except IngestError:
            return None
    return None


def snapshot_rows(
    files: list[ReportFile],
    mapped: list[Mapped],
    ctx: Context,
    *,
    fetched_on: date | None = None,
    requested: tuple[date, date] | None = None,
    forced: str | None = None,
) -> pd.DataFrame:
    """The ``report_snapshots`` rows of one import (see the module docstring).

    Parameters
    ----------
    files : list of ReportFile
        Every file read (data and no-data ones).
    mapped : list of Mapped
        What was mapped from them (the ``reported_metrics`` rows give a data snapshot's window).
    ctx : Context
        Seller, marketplace; warnings go to ``ctx.note``.
    fetched_on, requested, forced : optional
        ``--fetched-on``, ``--requested`` and ``--report-type``.

    Returns
    -------
    DataFrame
        Columns of :data:`cxops.canonical.schema.TABLES` ``["report_snapshots"]`` (not yet validated).
    """
    rows = []
    by_file = {rf.file: rf for rf in files}
    for m in mapped:
        if m.table != "reported_metrics" or not len(m.loaded):
            continue
        dated = m.loaded[m.loaded["window_days"].notna()] if "window_days" in m.loaded else m.loaded
        dated = dated if len(dated) else m.loaded
        for mp, g in dated.groupby("marketplace_id"):
            lo, hi = pd.Timestamp(g["window_from"].min()).date(), pd.Timestamp(g["window_to"].max()).date()
            n = int((m.loaded["marketplace_id"] == mp).sum())
            rows.append(
                _snapshot(ctx, mp, detect.ACCOUNT_HEALTH, lo, hi, by_file[m.file], fetched_on, requested)
                | {"status": "data", "rows": n}
            )
    for rf in files:
        if rf.report_type != detect.NO_DATA:
            continue
        kind = _no_data_type(rf, forced)
        if kind not in SNAPSHOT_TYPES:
            if kind is None:
                ctx.note(
                    f"{rf.path.name}: a no-data report of unknown type is not kept as a snapshot "
                    "(give --report-type to keep it)"
                )
            continue
        doc = rf.doc if isinstance(rf.doc, dict) else {}
        lo, hi = _day(doc.get("dataStartTime")), _day(doc.get("dataEndTime"))
        if lo is None or hi is None:
            if requested is None:
                ctx.note(
                    f"{rf.path.name}: a no-data {kind} without its window is not kept as a snapshot "
                    "(give --requested FROM..TO)"
                )
                continue
            lo, hi = requested
        rows.append(
            _snapshot(ctx, ctx.marketplace_id, kind, lo, hi, rf, fetched_on, requested)
            | {"status": "no_data", "rows": 0, "detail": rf.no_data}
        )
    return pd.DataFrame(
        rows,
        columns=[
            "seller_id",
            "marketplace_id",
            "report_type",
            "window_from",
            "window_to",
            "fetched_on",
            "status",
            "requested_from",
            "requested_to",
            "rows",
            "detail",
            "source_file",
        ],
    )


def _snapshot(ctx, mp, kind, lo, hi, rf, fetched_on, requested) -> dict:
    if requested is not None and (lo, hi) != requested:
        ctx.note(
            f"{rf.path.name}: {kind} returned the window {lo}..{hi}, not the requested "
            f"{requested[0]}..{requested[1]}; stored under the returned window"
        )
    return {
        "seller_id": ctx.seller_id,
        "marketplace_id": mp,
        "report_type": kind,
        "window_from": lo,
        "window_to": hi,
        "fetched_on": fetch_date(rf, fetched_on),
        "requested_from": requested[0] if requested else None,
        "requested_to": requested[1] if requested else None,
        "detail": None,
        "source_file": rf.file,
    }


#: Name of the snapshot rows' entry in the import report (they come from every file of the import).
SNAPSHOT_FILE = "(report snapshots)"


def snapshot_mapped(df: pd.DataFrame) -> Mapped:
    """The rows of :func:`snapshot_rows` validated as ``report_snapshots`` for staging."""
    n = len(df)
    rows = Rows(SNAPSHOT_FILE, np.arange(1, n + 1), lambda pos: records_json(df, pos))
    derived = df.assign(**{GRP: np.arange(n)})
    cols = [c for c in df.columns if c != GRP]
    return build("report_snapshots", rows, np.ones(n, bool), derived, np.arange(n), cols, "amazon:snapshots")


#: The provenance of a reported value.
REPORTED, NO_DATA, NOT_MEASURED = "reported", "no data", "not measured"

#: Columns of :func:`reported_view`.
VIEW_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "report_type",
    "metric",
    "channel",
    "window_from",
    "window_to",
    "fetched_on",
    "numerator",
    "denominator",
    "value",
    "provenance",
]


def snapshots(wh, seller_id: str | None = None) -> pd.DataFrame:
    """Every kept snapshot (``report_snapshots`` rows), of one seller or all, oldest fetch first."""
    if not wh.has_table("report_snapshots"):
        return pd.DataFrame(
            columns=["seller_id", "marketplace_id", "report_type", "window_from", "window_to"]
        )
    t = wh.table("report_snapshots")
    if seller_id is not None:
        t = t.filter(t.seller_id == seller_id)
    order = ["seller_id", "marketplace_id", "report_type", "fetched_on", "window_to", "window_from"]
    return wh.execute(t.order_by(order))


def reported_view(
    wh, seller_id: str, marketplace_id: str, as_of: date, report_type: str = detect.ACCOUNT_HEALTH
) -> pd.DataFrame:
    """The seller's reported rates as of ``as_of`` with their provenance (see the module docstring).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    seller_id, marketplace_id : str
    as_of : date
        The latest snapshot fetched on or before this day is read (UTC dates).
    report_type : str
        Default the account health report.

    Returns
    -------
    DataFrame
        Columns :data:`VIEW_COLUMNS`; ``value`` is a fraction (the reported rate).
    """
    snaps = snapshots(wh, seller_id)
    if len(snaps):
        fetched = pd.to_datetime(snaps["fetched_on"]).dt.date
        snaps = snaps[
            (snaps["marketplace_id"] == marketplace_id)
            & (snaps["report_type"] == report_type)
            & (fetched <= as_of)
        ]
    base = {"seller_id": seller_id, "marketplace_id": marketplace_id, "report_type": report_type}
    if not len(snaps):
        rows = [base | {"metric": m, "channel": ch, "provenance": NOT_MEASURED} for m, ch in REPORTED_RATES]
        return pd.DataFrame(rows, columns=VIEW_COLUMNS)
    snap = snaps.iloc[-1]  # latest fetch, then latest window
    lo, hi = pd.Timestamp(snap["window_from"]).date(), pd.Timestamp(snap["window_to"]).date()
    where = base | {"window_from": lo, "window_to": hi, "fetched_on": pd.Timestamp(snap["fetched_on"]).date()}
    if snap["status"] == "no_data":
        rows = [
            where
            | {
                "metric": m,
                "channel": ch,
                "numerator": 0.0,
                "denominator": 0.0,
                "value": 0.0,
                "provenance": NO_DATA,
            }
            for m, ch in REPORTED_RATES
        ]
        return pd.DataFrame(rows, columns=VIEW_COLUMNS)
    rm = wh.table("reported_metrics")
    rm = rm.filter(
        (rm.seller_id == seller_id)
        & (rm.marketplace_id == marketplace_id)
        & (rm.window_from >= lo)
        & (rm.window_to <= hi)
        & rm.window_days.notnull()
    )
    df = wh.execute(
        rm.select("metric", "channel", "window_from", "window_to", "numerator", "denominator", value=rm.rate)
    )
    out = df.assign(**base, fetched_on=where["fetched_on"], provenance=REPORTED)
    for c in ("window_from", "window_to"):
        out[c] = pd.to_datetime(out[c]).dt.date
    return out[VIEW_COLUMNS].sort_values(["metric", "channel", "window_to"]).reset_index(drop=True)
