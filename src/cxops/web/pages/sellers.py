"""The seller's "Customer Excellence" page: ``GET /sellers/{seller_id}``.

For each membership the caller may see (every program and marketplace): the status and since when,
why, exemption or immunity, the account manager, the benefits held now, and the history of status
changes (paged with htmx). A seller user sees only its own sellers (another seller is 404).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.console import events_page, seller_accounts
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.pages.render import render

router = APIRouter()
HISTORY = 20


@router.get("/sellers/{seller_id}")
def seller_page(request: Request, scope: SellerScope, store: StoreDep) -> Response:
    """The seller's memberships with status, manager, benefits and history."""
    accounts = seller_accounts(store, scope.principal, scope.seller_id, program=None)
    blocks = []
    for a in accounts:
        m = a.membership
        history = events_page(
            store, scope.principal, scope.seller_id, m["marketplace_id"], program=m["program"], limit=HISTORY
        )
        blocks.append({"account": a, "history": history})
    return render(request, "seller.html", {"seller_id": scope.seller_id, "blocks": blocks})


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
