"""The seller's cost trade-offs page: ``GET /sellers/{seller_id}/marketplaces/{marketplace_id}/costs``.

A form of the seller's own rates (sent back as query parameters, nothing stored) and, from the newest
stored run, each option's projected metrics, program status, fee discount, monthly cost, net effect,
break-even and assumptions (:mod:`cxops.web.api.costs`, the same answer as the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cxops.web.api.costs import Money, cost_answer
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.pages.render import render
from cxops.web.warehouse import RunsDep

router = APIRouter()
#: The rates of the form, in order.
RATES = (
    "mfn_logistics_per_order",
    "return_handling_per_return",
    "storage_fees_per_month",
    "afn_fee_per_order",
    "afn_storage_per_order",
)


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/costs")
def seller_costs_page(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    mfn_logistics_per_order: Money = None,
    return_handling_per_return: Money = None,
    storage_fees_per_month: Money = None,
    afn_fee_per_order: Money = None,
    afn_storage_per_order: Money = None,
) -> Response:
    """The cost trade-offs of one membership, with a form for the seller's rates."""
    membership_exists(store, scope, runs.policy.name)
    values = dict(zip(RATES, (mfn_logistics_per_order, return_handling_per_return, storage_fees_per_month,
                              afn_fee_per_order, afn_storage_per_order), strict=True))  # fmt: skip
    answer = cost_answer(request, scope, runs, currency, values)
    return render(
        request,
        "seller_costs.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "answer": answer,
            "values": values,
            "currency": currency or (answer.advice.currency if answer.advice else "USD"),
            "rates": RATES,
        },
    )
