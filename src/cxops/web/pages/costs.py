"""The seller's cost trade-offs page: ``GET /sellers/{seller_id}/marketplaces/{marketplace_id}/costs``.

A form of the seller's own rates (sent back as query parameters, nothing stored) and, from the newest
stored run, each option's projected metrics, program status, fee discount, monthly cost, net effect,
break-even and assumptions (:mod:`cxops.web.api.costs`, the same answer as the API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.web.api.costs import RATES, RatesQuery, cost_answer
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.pages.render import render
from cxops.web.warehouse import RunsDep

router = APIRouter()


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/costs")
def seller_costs_page(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, rates: RatesQuery
) -> Response:
    """The cost trade-offs of one membership, with a form for the seller's rates."""
    answer = cost_answer(request, store, scope, runs, rates)
    return render(
        request,
        "seller_costs.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "answer": answer,
            "values": rates.values,
            "currency": rates.currency or (answer.advice.currency if answer.advice else "USD"),
            "rates": RATES,
        },
    )
