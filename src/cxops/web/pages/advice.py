"""The seller's handling-time and holiday page: ``GET /sellers/{seller_id}/marketplaces/{mp}/advice``.

The handling-time advice (per SKU: business days needed, current and proposed handling time, the late
shipment rate had and would have had; the next two weeks' ship-by dates; a link to the listing upload
file of the API) and the holiday planner (the closed weekdays ahead; a form ``closed_from`` /
``closed_to`` giving the orders to ship before, holiday mode on/off and the 10- and 30-day effect).
Texts are the catalogs' ``advise.*`` messages. A seller user sees only its own sellers (another is 404).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.errors import CxopsError
from cxops.service import deadline_advice as da
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.pages.sellers import _base
from cxops.web.warehouse import RunsDep

router = APIRouter()


def _pct(tr, rate: float | None) -> str:
    return "—" if rate is None else tr.number(rate * 100, 2) + " %"


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/advice")
def seller_advice(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    closed_from: date | None = None,
    closed_to: date | None = None,
    group_by: str = "sku",
) -> Response:
    """Handling-time advice and holiday planner of one membership."""
    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    ctx = {
        "seller_id": scope.seller_id,
        "marketplace_id": scope.marketplace_id,
        "base": _base(scope.seller_id, scope.marketplace_id),
        "group_by": group_by if group_by in da.GROUPS else "sku",
        "groups": da.GROUPS,
        "pct": lambda r: _pct(tr, r),
        "closed_from": closed_from,
        "closed_to": closed_to,
        "advice": None,
        "advice_error": None,
        "upcoming": [],
        "plan": None,
        "plan_error": None,
    }
    if runs.wh is None:
        ctx["advice_error"] = tr("advise.note.no_orders")
        return render(request, "seller_advice.html", ctx)
    try:
        ctx["advice"] = da.handling_time_advice(
            runs.wh, runs.policy, scope.seller_id, marketplace=scope.marketplace_id, group_by=ctx["group_by"]
        )
        ctx["upcoming"] = da.upcoming_closed_days(runs.wh, scope.seller_id, scope.marketplace_id)[1]
    except CxopsError as e:
        ctx["advice_error"] = str(e)
    if closed_from and closed_to and ctx["advice_error"] is None:
        try:
            if closed_to < closed_from:
                closed_from, closed_to = closed_to, closed_from
            ctx["plan"] = da.holiday_plan(
                runs.wh,
                runs.policy,
                scope.seller_id,
                closed_from,
                closed_to,
                marketplace=scope.marketplace_id,
            )
        except CxopsError as e:
            ctx["plan_error"] = str(e)
    return render(request, "seller_advice.html", ctx)
