"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/costs``: the cost trade-offs of a seller
(:mod:`cxops.service.costs`) from the newest stored run, with the seller's rates given as query
parameters (the rest of the sheet is the reference program's figures). Any role that sees the seller;
a membership that does not exist (or that the caller may not see) is 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from cxops.errors import ConflictError
from cxops.report.costs import advice_dict
from cxops.service.costs import rates_sheet, seller_costs
from cxops.web.api.schemas_costs import CostAdvice, CostAnswer
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["seller tools"],
    responses=problems(400, 401, 404, 422),
    dependencies=[MarketplacePath],
)
Money = Annotated[float | None, Query(ge=0, le=1e9, description="Money in `currency`.")]
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]
#: The seller's rates a request may give (query parameters of the API and the page, in form order).
RATES = (
    "mfn_logistics_per_order",
    "return_handling_per_return",
    "storage_fees_per_month",
    "afn_fee_per_order",
    "afn_storage_per_order",
)


@dataclass(frozen=True)
class Rates:
    """The request's currency and rates (``values``: :data:`RATES` → amount or ``None``)."""

    currency: str | None
    values: dict[str, float | None]


def rates_query(
    currency: Currency = None,
    mfn_logistics_per_order: Money = None,
    return_handling_per_return: Money = None,
    storage_fees_per_month: Money = None,
    afn_fee_per_order: Money = None,
    afn_storage_per_order: Money = None,
) -> Rates:
    values = (mfn_logistics_per_order, return_handling_per_return, storage_fees_per_month,
              afn_fee_per_order, afn_storage_per_order)  # fmt: skip
    return Rates(currency, dict(zip(RATES, values, strict=True)))


RatesQuery = Annotated[Rates, Depends(rates_query)]


def cost_answer(request: Request, store, scope, runs, rates: Rates) -> CostAnswer:
    """The answer of the API and the page (404 without the membership; ``advice`` null when no run is
    stored yet)."""
    from cxops.web.pages.render import request_language

    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    if runs.wh is None:
        return CostAnswer(message=tr("costs.page.none"))
    sheet = rates_sheet(rates.currency, rates.values)
    try:
        advice = seller_costs(
            runs.wh, runs.policy, scope.seller_id, marketplace=scope.marketplace_id, costs=sheet
        )
    except ConflictError:
        return CostAnswer(message=tr("costs.page.none"))
    return CostAnswer(advice=CostAdvice.model_validate(advice_dict(advice, tr)))


@router.get("/costs", response_model=CostAnswer)
def costs(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    rates: RatesQuery,
) -> CostAnswer:
    """Each option (status quo; carrier-integrated shipping; free return labels; marketplace fulfilment;
    combinations): projected metrics, program status at the next and after the projected evaluations,
    fee discount tier and value, extra monthly cost, net, break-even, and every assumption with its
    source. Money figures need the rates they use."""
    return cost_answer(request, store, scope, runs, rates)
