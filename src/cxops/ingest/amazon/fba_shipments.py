"""FBA fulfilled shipments (``GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL``) → ``shipments`` (AFN).

One line per shipped item (48 columns; Airbyte fixture header). One canonical shipment per
(``amazon-order-id``, ``shipment-id``); item lines of a shipment are merged (each counts as loaded):

=====================  ===========================================================================
``amazon-order-id``    ``order_id`` (required)
``shipment-id``        ``shipment_id`` (required)
``shipment-date``      ``confirmed_at`` (earliest of the lines; ISO with offset, else local time)
``carrier``            ``carrier``
``tracking-number``    ``tracking_id``
``quantity-shipped``   ``units`` (sum)
=====================  ===========================================================================

``estimated-arrival-date`` is an estimate, not a delivery, so ``delivered_at`` is not provided.

Provenance: only ``seller_id, order_id, shipment_id, carrier, tracking_id, units`` are recorded as
provided, **not** ``confirmed_at``. Provenance is per table, and this report covers Amazon-fulfilled
orders only: recording ``confirmed_at`` would make the (MFN-only) late-shipment rate "measured" and
every seller-fulfilled order without a shipment row "unshipped", hence late. The confirmation times
are stored all the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, integers, text
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.flat import open_sheet, quote
from cxops.ingest.amazon.mapped import Mapped, build, group_lines
from cxops.ingest.amazon.reading import ReportFile

REQUIRED = ["amazon-order-id", "shipment-id", "shipment-date"]
NOTE = (
    "FBA shipments cover Amazon-fulfilled orders only: their confirmation times are stored but not "
    "recorded as a provided shipments.confirmed_at (per-table provenance would make every seller-"
    "fulfilled order without a shipment look unshipped); delivered_at is not in the report"
)


def read_fba_shipments(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one FBA shipments report (see the module docstring).

    Returns
    -------
    list of Mapped
        ``shipments``.
    """
    f = open_sheet(rf, ctx, REQUIRED, "FBA shipments")
    rows = f.rows
    oid, sid = text(f.col("amazon-order-id")), text(f.col("shipment-id"))
    rows.reject(oid.isna(), "amazon-order-id", "required value is missing")
    rows.reject(sid.isna(), "shipment-id", "required value is missing")
    at, bad = parse_instants(f.col("shipment-date"), ctx.marketplace_id, ctx.tz)
    rows.reject(bad, "shipment-date", "not a valid timestamp: " + quote(f.col("shipment-date")))
    qty, qbad = integers(f.col("quantity-shipped"))
    rows.reject(qbad, "quantity-shipped", "not a whole number >= 0: " + quote(f.col("quantity-shipped")))
    ok = rows.ok
    lines = pd.DataFrame(
        {
            "order_id": oid,
            "shipment_id": sid,
            "confirmed_at": at,
            "carrier": text(f.col("carrier")),
            "tracking_id": text(f.col("tracking-number")),
            "units": qty,
        }
    )[ok]
    grp, g = group_lines(lines, ok, ["order_id", "shipment_id"])
    derived = pd.DataFrame(
        {
            "order_id": g["order_id"].first(),
            "shipment_id": g["shipment_id"].first(),
            "confirmed_at": g["confirmed_at"].min(),
            "carrier": g["carrier"].first(),
            "tracking_id": g["tracking_id"].first(),
            "units": g["units"].sum(min_count=1).astype("Int64"),
        }
    ).reset_index()
    derived["seller_id"] = ctx.seller_id
    provided = ["seller_id", "order_id", "shipment_id"]
    provided += [c for c, s in (("carrier", "carrier"), ("tracking_id", "tracking-number")) if f.has(s)]
    provided += ["units"] if f.has("quantity-shipped") else []
    ctx.note(NOTE)
    source = f"amazon:{detect.FBA_SHIPMENTS}:{rf.file}"
    every = np.ones(len(rows), dtype=bool)
    return [
        build("shipments", rows, every, derived, grp, provided, source, writes=[*provided, "confirmed_at"])
    ]
