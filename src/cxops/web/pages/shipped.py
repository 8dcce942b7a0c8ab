"""The seller's shipped-basis page: ``GET /sellers/{seller_id}/marketplaces/{marketplace_id}/shipped-basis``.

Every MFN order due in the window whose late-shipment result differs between two "shipped" events
(seller confirmation, first carrier scan, any signal), to reconcile with the seller's own records —
the same orders as the API (:func:`cxops.web.api.shipped.differences`), all of them on the page, with
the CSV download. A seller user sees only its own sellers (another seller is 404).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.web.api.shipped import ComparisonQuery, differences
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.pages.render import render
from cxops.web.warehouse import RunsDep

router = APIRouter()
#: The events a seller can compare, in the order of the form.
EVENTS = ("confirmation", "first_scan", "any")


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/shipped-basis")
def shipped_basis_page(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    q: ComparisonQuery,
) -> Response:
    """The orders whose late-shipment result differs between two shipped events."""
    day, df = differences(store, runs, scope, q)
    base = f"/sellers/{quote(scope.seller_id, safe='')}/marketplaces/{quote(scope.marketplace_id, safe='')}"
    query = {"window": q.window, "basis": q.basis, "against": q.against} | (
        {"as_of": day.isoformat()} if day else {}
    )
    return render(
        request,
        "seller_shipped.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "as_of": day,
            "first": day - timedelta(days=q.window - 1) if day else None,
            "window": q.window,
            "basis": q.basis,
            "against": q.against,
            "events": EVENTS,
            "rows": df.to_dict("records"),
            "csv": f"/api/v1{base}/shipped-basis.csv?{urlencode(query)}",
        },
    )
