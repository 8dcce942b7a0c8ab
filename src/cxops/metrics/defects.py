"""The records behind a seller's defect-driven metrics, with the day each drops out of its window.

Sellers ask "which orders caused it, and when does a defect stop counting?". A record anchored on
local day ``d`` is in every N-day window ending on ``d .. d + N - 1``; it is out from ``d + N``.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pandas as pd

from cxops.metrics import records
from cxops.metrics.compute import _measured, _set_present, load_inputs, universe
from cxops.metrics.families import FAMILIES
from cxops.metrics.options import MetricOptions

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


# metric -> (record-level population, "is a defect" condition, record id column, kind)
_SOURCES = {
    "order_defect_rate": (records.order_defects, lambda r: r.f_defect == 1, "order_id", _odr_kind),
    "late_shipment_rate": (records.late_shipments, lambda r: r.f_late == 1, "order_id", "late_shipment"),
    "pre_fulfillment_cancel_rate": (
        records.cancellations,
        lambda r: r.f_cancelled == 1,
        "order_id",
        "cancellation",
    ),
    "valid_tracking_rate": (records.tracking, lambda r: r.f_valid == 0, "shipment_id", "invalid_tracking"),
    "on_time_delivery_rate": (
        records.deliveries,
        lambda r: (r.f_delivered == 1) & (r.f_on_time == 0),
        "shipment_id",
        "late_delivery",
    ),
}


def _defects(inp, metric: str):
    build, is_defect, record_id, kind = _SOURCES[metric]
    r = build(inp)
    r = r.filter(is_defect(r))
    return r.select(
        "seller_id", "marketplace_id", "channel", "order_id", "day",
        record_id=r[record_id],
        kind=kind(r) if callable(kind) else ibis.literal(kind),
    )  # fmt: skip


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
        reasons = _measured(inp)
    finally:
        if inp.sources is not None:
            inp.sources.present = None
    windows = {o.metric: fam.windows for fam in FAMILIES for o in fam.outputs}
    frames = []
    for metric in _SOURCES:
        if reasons.get(metric) is not None:
            continue
        r = _defects(inp, metric)
        r = r.filter(r.seller_id == seller_id)
        for w in windows[metric]:
            lo = as_of - timedelta(days=w - 1)
            df = wh.execute(r.filter((r.day >= lo) & (r.day <= as_of)))
            if df.empty:
                continue
            df["metric"] = metric
            df["window_days"] = w
            df["anchor_date"] = pd.to_datetime(df["day"]).dt.date
            df["drops_out_on"] = df["anchor_date"].map(lambda d, w=w: d + timedelta(days=w))
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=DEFECT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[DEFECT_COLUMNS]
    return out.sort_values(["metric", "window_days", "drops_out_on", "order_id"]).reset_index(drop=True)
