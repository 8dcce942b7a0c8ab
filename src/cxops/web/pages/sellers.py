"""The seller's "Customer Excellence" page: ``GET /sellers/{seller_id}``.

For each membership the caller may see (every program and marketplace): the status and since when,
why, exemption or immunity, the account manager, the benefits held now, and the history of status
changes (paged with htmx); for the program's policy, from the newest stored run: the next evaluation
and the projected status, each criterion with value, bar, progress and the gap in words, the trend
charts (loaded with htmx: ``…/charts?span=90d|12m``) and every defective order (paged: ``…/defects``;
all of them as CSV from the API). A seller user sees only its own sellers (another seller is 404).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.service import scorecard as sc
from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.console import events_page, seller_accounts
from cxops.web import paging
from cxops.web.api.scorecard import DEFECTS, membership_exists, scorecard_model, trend_models
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.paging import Cursor
from cxops.web.warehouse import RunsDep

router = APIRouter()
HISTORY = 20
#: Defect rows per page on the seller's page.
DEFECT_ROWS = 20


def _base(seller_id: str, marketplace_id: str) -> str:
    return f"/sellers/{quote(seller_id, safe='')}/marketplaces/{quote(marketplace_id, safe='')}"


def _defects(runs, seller_id: str, marketplace_id: str, cursor: str | None) -> dict:
    """A page of defects for the templates: rows, total, the URL of the next page."""
    if runs.wh is None:
        return {"rows": [], "total": 0, "more_url": None}
    rows, nxt, total = sc.defect_page(
        runs.wh,
        runs.policy,
        seller_id,
        marketplace_id,
        after=paging.decode(cursor, DEFECTS, len(sc.DEFECT_KEY)),
        limit=DEFECT_ROWS,
    )
    token = paging.encode(DEFECTS, nxt)
    more = f"{_base(seller_id, marketplace_id)}/defects?{urlencode({'cursor': token})}" if token else None
    return {"rows": rows, "total": total, "more_url": more}


@router.get("/sellers/{seller_id}")
def seller_page(request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep) -> Response:
    """The seller's memberships with status, manager, benefits and history, and for the program's
    policy the scorecard, trend charts and defective orders of the newest stored run."""
    accounts = seller_accounts(store, scope.principal, scope.seller_id, program=None)
    tr = translator(request_language(request))
    blocks = []
    for a in accounts:
        m = a.membership
        history = events_page(
            store, scope.principal, scope.seller_id, m["marketplace_id"], program=m["program"], limit=HISTORY
        )
        block = {
            "account": a,
            "history": history,
            "card": None,
            "base": _base(scope.seller_id, m["marketplace_id"]),
        }
        if m["program"] == runs.policy.name:
            card = (
                sc.scorecard(runs.wh, runs.policy, scope.seller_id, m["marketplace_id"])
                if runs.wh is not None
                else sc.Scorecard(scope.seller_id, m["marketplace_id"], None)
            )
            block["card"] = scorecard_model(card, tr)
            block["defects"] = _defects(runs, scope.seller_id, m["marketplace_id"], None)
        blocks.append(block)
    return render(request, "seller.html", {"seller_id": scope.seller_id, "blocks": blocks})


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/charts")
def seller_charts(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, span: Literal["90d", "12m"] = "90d"
) -> Response:
    """The trend charts of one membership (a fragment for htmx; a page of its own without JavaScript)."""
    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    found = sc.trends(runs.wh, runs.policy, scope.seller_id, scope.marketplace_id, span) if runs.wh else []
    fragment = request.headers.get("hx-request") == "true"
    return render(
        request,
        "_charts.html" if fragment else "seller_charts.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "span": span,
            "charts": trend_models(found, span, tr),
            "base": _base(scope.seller_id, scope.marketplace_id),
        },
    )


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/defects")
def seller_defects(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, cursor: Cursor = None
) -> Response:
    """More defective orders (rows for htmx; a page of its own without JavaScript)."""
    membership_exists(store, scope, runs.policy.name)
    fragment = request.headers.get("hx-request") == "true"
    return render(
        request,
        "_defect_rows.html" if fragment else "seller_defects.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "defects": _defects(runs, scope.seller_id, scope.marketplace_id, cursor),
            "base": _base(scope.seller_id, scope.marketplace_id),
        },
    )


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/history")
def seller_history(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    before: int | None = None,
) -> Response:
    """More of the history (a fragment for htmx; a page of its own without JavaScript)."""
    history = events_page(
        store,
        scope.principal,
        scope.seller_id,
        scope.marketplace_id,
        program=program,
        before=before,
        limit=HISTORY,
    )
    more_base = (
        f"/sellers/{quote(scope.seller_id, safe='')}/marketplaces/{quote(scope.marketplace_id, safe='')}"
        f"/history?{urlencode({'program': program})}"
    )
    fragment = request.headers.get("hx-request") == "true"
    return render(
        request,
        "_history_rows.html" if fragment else "seller_history.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "program": program,
            "history": history,
            "more_base": more_base,
        },
    )
