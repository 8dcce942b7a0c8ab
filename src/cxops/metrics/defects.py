"""The records behind a seller's defect-driven metrics, with the day each drops out of its window.

Sellers ask "which orders caused it, and when does a defect stop counting?". A record anchored on
local day ``d`` is in every N-day window ending on ``d .. d + N - 1``; it is out from ``d + N``.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxops.metrics.catalog import CATALOG, DEFECT_METRICS
from cxops.metrics.compute import _measured, _measured_only, _set_present, load_inputs, universe
from cxops.metrics.families import POPULATIONS
from cxops.metrics.options import MetricOptions
from cxops.metrics.records import utc_window

DEFECT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "metric",
    "window_days",
    "channel",
    "order_id",
    "record_id",
    "anchor_date",
    "drops_out_on",
    "kind",
]

#: Column types of :data:`DEFECT_COLUMNS` (an empty defects table keeps them).
DEFECT_SCHEMA = {
    "seller_id": "string",
    "marketplace_id": "string",
    "metric": "string",
    "window_days": "int64",
    "channel": "string",
    "order_id": "string",
    "record_id": "string",
    "anchor_date": "date",
    "drops_out_on": "date",
    "kind": "string",
}

_ODR_KINDS = (
    ("f_negative_feedback", "negative_feedback"),
    ("f_a_to_z", "a_to_z_claim"),
    ("f_chargeback", "chargeback"),
)


def _odr_kind(r):
    kind = ibis.literal("")
    for col, name in _ODR_KINDS:
        kind = kind.concat((r[col] == 1).ifelse(ibis.literal(name + " "), ibis.literal("")))
    return kind.strip()


def _condition(r, flag: str):
    """The :attr:`cxops.metrics.catalog.DefectRows.flag` condition on records ``r``."""
    cond = None
    for part in flag.split("&"):
        c = (r[part[1:]] == 0) if part.startswith("!") else (r[part] == 1)
        cond = c if cond is None else cond & c
    return cond


def _kind(r, rows):
    """The ``kind`` of a defective record of ``r`` (:attr:`cxops.metrics.catalog.DefectRows.kind`)."""
    return _odr_kind(r) if rows.kind == "odr" else ibis.literal(rows.kind)


def _defects(inp, metric: str):
    d = CATALOG[metric]
    rows = d.defect_rows
    r = POPULATIONS[d.family](inp)
    r = r.filter(_condition(r, rows.flag))
    return r.select(
        "seller_id", "marketplace_id", "channel", "order_id", "day",
        record_id=r[rows.record_id],
        kind=_kind(r, rows),
    )  # fmt: skip


def defects_expr(inp, as_of: date) -> ir.Table | None:
    """Ibis expression of every defective record counted in any seller's windows as of ``as_of``.

    Columns :data:`DEFECT_COLUMNS` (see :func:`defect_records`), all sellers, unsorted; None when no
    defect-driven metric is measured. A job that keeps its results in the warehouse stores it whole.
    """
    reasons = _measured(inp)  # measured for some seller of ``inp.sources.present``
    longest = max(w for m in DEFECT_METRICS for w in CATALOG[m].windows)
    if not inp.reuse:  # read only the records whose day can be in the longest window
        inp = inp.with_window(utc_window(as_of - timedelta(days=longest - 1), as_of))
    inp = inp.seen_on(as_of)  # facts that arrive after the as-of day are not seen
    parts = []
    for metric in DEFECT_METRICS:
        if reasons.get(metric) is not None:
            continue
        r = _measured_only(inp, _defects(inp, metric), metric)  # sellers whose sources measure it
        for w in CATALOG[metric].windows:
            lo = as_of - timedelta(days=w - 1)
            f = r.filter((r.day >= lo) & (r.day <= ibis.literal(as_of)))
            parts.append(
                f.select(
                    "seller_id",
                    "marketplace_id",
                    metric=ibis.literal(metric),
                    window_days=ibis.literal(w, type="int64"),
                    channel=f.channel,
                    order_id=f.order_id,
                    record_id=f.record_id.cast("string"),
                    anchor_date=f.day.cast("date"),
                    drops_out_on=(f.day + ibis.interval(days=w)).cast("date"),
                    kind=f.kind,
                )
            )
    return ibis.union(*parts) if parts else None


def defect_records(
    wh, seller_id: str, as_of: date, options: MetricOptions | None = None, inputs=None
) -> pd.DataFrame:
    """Every defective record counted in a seller's windows as of ``as_of``.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    seller_id : str
    as_of : datetime.date
    options : MetricOptions, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``DEFECT_COLUMNS``: for each defect-driven metric and window, each defective order or
        shipment in the window; ``anchor_date`` (local), ``drops_out_on`` (the first as-of day whose
        window no longer holds it = anchor + window days) and ``kind`` (which defects, e.g.
        ``negative_feedback a_to_z_claim``). Order defect rate rows are for channel ``mfn``/``afn``.
    """
    inp = inputs or load_inputs(wh, options)
    if options is not None:
        inp.options = options
    try:  # what this seller's own sources make measurable
        _set_present(wh, inp, universe(inp, [seller_id]))
        expr = defects_expr(inp, as_of)
    finally:
        if inp.sources is not None:
            inp.sources.present = None
    if expr is None:
        return pd.DataFrame(columns=DEFECT_COLUMNS)
    df = wh.execute(expr.filter(expr.seller_id == seller_id))
    return sort_defects(df)


def sort_defects(df: pd.DataFrame) -> pd.DataFrame:
    """Defect rows (:data:`DEFECT_COLUMNS`) in the order :func:`defect_records` gives them, dates as
    ``datetime.date``."""
    if df.empty:
        return pd.DataFrame(columns=DEFECT_COLUMNS)
    df = df[DEFECT_COLUMNS].copy()
    for c in ("anchor_date", "drops_out_on"):
        df[c] = pd.to_datetime(df[c]).dt.date
    df["window_days"] = df["window_days"].astype("int64")
    # record_id last: the shipments of one order in a stable order
    keys = ["metric", "window_days", "drops_out_on", "order_id", "record_id"]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def population(inp, metric: str) -> ir.Table:
    """The records a defect-driven rate is computed over, each with ``is_defect`` (0/1).

    Columns ``seller_id, marketplace_id, channel, day, order_id, record_id, is_defect, kind``: e.g. for
    the order defect rate every order on its order day, defective or not; for the on-time delivery rate
    the shipments in its denominator (delivered ones). ``record_id`` is the order or shipment id
    (:attr:`cxops.metrics.catalog.DefectRows.record_id`, as a string); ``kind`` is what
    :func:`defects_expr` lists for a defective record (``negative_feedback a_to_z_claim``,
    ``late_shipment`` …) and null for the others. ``metric`` is one of the metrics :func:`defects_expr`
    lists (the same population and defect condition): the records counted in its denominator are
    exactly these, and its defective ones (the numerator, or the denominator less the numerator for a
    rate where higher is better) those with ``is_defect = 1``.

    Raises
    ------
    KeyError
        For a metric that is not a rate of defective records.
    """
    d = CATALOG[metric]
    if d.defect_rows is None:
        raise KeyError(metric)
    r = POPULATIONS[d.family](inp)
    if d.denominator is not None and d.denominator.column is not None:  # e.g. delivered shipments only
        r = r.filter(r[d.denominator.column] == 1)
    flag = _condition(r, d.defect_rows.flag)
    return r.select(
        "seller_id", "marketplace_id", "channel", "day", "order_id",
        record_id=r[d.defect_rows.record_id].cast("string"),
        is_defect=flag.cast("int64"),
        kind=flag.ifelse(_kind(r, d.defect_rows), ibis.null("string")),
    )  # fmt: skip
