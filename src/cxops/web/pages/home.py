"""``GET /``: operators go to the console; a seller sees its seller accounts (or goes straight to the
only one)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cxops.web.deps import AnyRole
from cxops.web.pages.render import render

router = APIRouter()


@router.get("/")
def home(request: Request, principal: AnyRole) -> Response:
    """The start page of each role."""
    if principal.is_operator:
        return RedirectResponse("/console/sellers", status_code=303)
    sellers = principal.seller_ids
    if len(sellers) == 1:
        return RedirectResponse(f"/sellers/{sellers[0]}", status_code=303)
    return render(request, "home.html", {"sellers": sellers})
