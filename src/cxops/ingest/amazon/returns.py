"""Returns report (``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE``) → ``returns``.

One line per returned item; header names as in the report (Airbyte fixture, SOURCE.md). One canonical
return per (order, RMA): ``return_id`` = ``Amazon RMA ID`` (else ``Merchant RMA ID``; a line with
neither is quarantined); lines of the same RMA are merged (each counts as loaded).

=========================  ===============================================================
``Order ID``               ``order_id`` (required)
``Return request date``    ``requested_at`` (earliest of the RMA's lines; ISO or the
                           marketplace's numeric form; no offset = local time) (required)
``Return Reason``          ``reason`` (first line's)
``Label to be paid by``    ``free_return_label``: ``Seller``/``Amazon`` → true, ``Customer``
                           → false, else unknown
=========================  ===============================================================

Not mapped: ``is_seller_fault`` (the reason codes do not say it reliably); the ``A-to-Z Claim`` flag
(no claim id, date or decision, so it cannot become a ``claims`` row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, text
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.flat import open_sheet, quote
from cxops.ingest.amazon.mapped import GRP, Mapped, build, group_lines
from cxops.ingest.amazon.reading import ReportFile

REQUIRED = ["Order ID", "Return request date"]
PAID_BY = {"seller": True, "amazon": True, "customer": False, "buyer": False}


def read_returns(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one returns report (see the module docstring).

    Returns
    -------
    list of Mapped
        ``returns``.
    """
    f = open_sheet(rf, ctx, REQUIRED, "returns")
    rows = f.rows
    oid = text(f.col("Order ID"))
    rows.reject(oid.isna(), "Order ID", "required value is missing")
    rma = text(f.col("Amazon RMA ID"))
    rma = rma.where(rma.notna(), text(f.col("Merchant RMA ID")))
    rows.reject(rma.isna(), "Amazon RMA ID", "no Amazon or merchant RMA id to identify the return")
    at, bad = parse_instants(f.col("Return request date"), ctx.marketplace_id, ctx.tz)
    rows.reject(bad, "Return request date", "not a valid timestamp: " + quote(f.col("Return request date")))
    rows.reject(at.isna(), "Return request date", "required value is missing")
    paid = text(f.col("Label to be paid by")).astype("string").str.lower().map(PAID_BY)
    ok = rows.ok
    lines = pd.DataFrame(
        {
            "order_id": oid,
            "return_id": rma,
            "requested_at": at,
            "reason": text(f.col("Return Reason")),
            "free": paid,
        }
    )[ok]
    grp, g = group_lines(lines, ok, ["order_id", "return_id"])
    derived = pd.DataFrame(
        {
            "order_id": g["order_id"].first(),
            "return_id": g["return_id"].first(),
            "requested_at": g["requested_at"].min(),
            "reason": g["reason"].first(),
            "free_return_label": g["free"].first().astype("boolean"),
        }
    ).reset_index()
    derived["seller_id"] = ctx.seller_id
    provided = ["seller_id", "order_id", "return_id", "requested_at"]
    provided += ["reason"] if f.has("Return Reason") else []
    provided += ["free_return_label"] if f.has("Label to be paid by") else []
    derived = derived[[*provided, GRP]]
    source = f"amazon:{detect.RETURNS}:{rf.file}"
    return [build("returns", rows, np.ones(len(rows), dtype=bool), derived, grp, provided, source)]
