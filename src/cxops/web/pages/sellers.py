"""The seller's "Customer Excellence" page: ``GET /sellers/{seller_id}``.

For each membership the caller may see (every program and marketplace): the status and since when,
why, exemption or immunity, the account manager, the benefits held now, and the history of status
changes (paged with htmx); for the program's policy, from the newest stored run: the next evaluation
and the projected status, each criterion with value, bar, progress and the gap in words, the trend
charts (loaded with htmx: ``…/charts?span=90d|12m``) and every defective order (paged: ``…/defects``;
all of them as CSV from the API). A seller user sees only its own sellers (another seller is 404).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from cxops.notify.messages import KINDS, MANDATORY
from cxops.service import scorecard as sc
from cxops.service import sellerdesk as desk
from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.console import events_page, seller_accounts
from cxops.web import paging
from cxops.web.api.scorecard import DEFECTS, membership_exists, scorecard_model, trend_models
from cxops.web.deps import Id, SellerActDep, SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.paging import Cursor
from cxops.web.warehouse import RunsDep

router = APIRouter()
HISTORY = 20
#: Defect rows per page on the seller's page.
DEFECT_ROWS = 20
#: Cases and messages shown per list on the seller's page (the API pages through all of them).
DESK_ROWS = 20
#: What a finished request says (``?done=``).
DONE = ("inquiry", "upload", "preferences")
#: Message kinds a contact can mute on the page (the mandatory ones are shown, not offered).
MESSAGE_KINDS = tuple(KINDS)


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


def _seller(
    request: Request,
    scope,
    store,
    runs,
    *,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    accounts = seller_accounts(store, scope.principal, scope.seller_id, program=None)
    tr = translator(request_language(request))
    ours = [a.membership["marketplace_id"] for a in accounts if a.membership["program"] == runs.policy.name]
    desks = desk.overview(store, scope.seller_id, ours, program=runs.policy.name, limit=DESK_ROWS)
    blocks = []
    for a in accounts:
        m = a.membership
        mp = m["marketplace_id"]
        history = events_page(
            store, scope.principal, scope.seller_id, mp, program=m["program"], limit=HISTORY
        )
        block = {"account": a, "history": history, "card": None, "base": _base(scope.seller_id, mp)}
        if m["program"] == runs.policy.name:
            card = (
                sc.scorecard(runs.wh, runs.policy, scope.seller_id, mp)
                if runs.wh is not None
                else sc.Scorecard(scope.seller_id, mp, None)
            )
            block["card"] = scorecard_model(card, tr)
            block["defects"] = _defects(runs, scope.seller_id, mp, None)
            block["desk"] = desks[mp]
        blocks.append(block)
    can_act = scope.principal.role in ("operator-admin", "seller") and scope.principal.session_id is not None
    return render(
        request,
        "seller.html",
        {
            "seller_id": scope.seller_id,
            "blocks": blocks,
            "error": error,
            "done": done,
            "can_act": can_act,
            "message_kinds": MESSAGE_KINDS,
            "mandatory": MANDATORY,
        },
        status=status,
    )


@router.get("/sellers/{seller_id}")
def seller_page(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, done: str | None = None
) -> Response:
    """The seller's memberships with status, manager, benefits and history, and for the program's
    policy the scorecard, trend charts and defective orders of the newest stored run, the cases,
    documents and notifications."""
    return _seller(request, scope, store, runs, done=done if done in DONE else None)


def _after(scope, done: str) -> Response:
    seller, mp = quote(scope.seller_id, safe=""), quote(scope.marketplace_id, safe="")
    return RedirectResponse(f"/sellers/{seller}?done={done}#desk-{mp}", status_code=303)


@router.post("/sellers/{seller_id}/marketplaces/{marketplace_id}/inquiries")
def ask(
    request: Request,
    scope: SellerScope,
    principal: SellerActDep,
    store: StoreDep,
    runs: RunsDep,
    question: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Ask the eligibility question; the answer is on the page at once."""
    from cxops.errors import CxopsError

    try:
        membership_exists(store, scope, runs.policy.name)
        desk.ask(
            store,
            runs.wh,
            runs.policy,
            scope.seller_id,
            scope.marketplace_id,
            question=question or None,
            actor=principal.actor,
            by="operator" if principal.is_operator else "seller",
        )
    except CxopsError as e:
        if e.http_status == 404:
            raise
        return _seller(request, scope, store, runs, error=str(e), status=e.http_status)
    return _after(scope, "inquiry")


@router.post("/sellers/{seller_id}/marketplaces/{marketplace_id}/documents")
async def upload(
    request: Request,
    scope: SellerScope,
    principal: SellerActDep,
    store: StoreDep,
    runs: RunsDep,
    kind: Annotated[str, Form(max_length=64)] = "",
    period: Annotated[str, Form(max_length=7)] = "",
    signed_on: Annotated[str, Form(max_length=10)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
    file: UploadFile | None = File(None),
) -> Response:
    """Upload a document of the checklist (the type is read from the content)."""
    from starlette.concurrency import run_in_threadpool

    from cxops.errors import CxopsError, InputError
    from cxops.service.documents import DocumentSettings

    try:
        if file is None or not kind:
            raise InputError("choose the document and the file to upload")
        try:
            signed = date.fromisoformat(signed_on) if signed_on else None
            expires = date.fromisoformat(expires_on) if expires_on else None
        except ValueError:
            raise InputError("a date is not a day (YYYY-MM-DD)") from None
        data = await file.read(DocumentSettings().max_bytes + 1)
        await run_in_threadpool(
            desk.upload,
            store,
            scope.seller_id,
            scope.marketplace_id,
            kind=kind,
            data=data,
            filename=file.filename or "upload",
            actor=principal.actor,
            period=period or None,
            signed_on=signed,
            expires_on=expires,
            program=runs.policy.name,
        )
    except CxopsError as e:
        if e.http_status == 404:
            raise
        return await run_in_threadpool(
            _seller, request, scope, store, runs, error=str(e), status=e.http_status
        )
    return _after(scope, "upload")


@router.post("/sellers/{seller_id}/marketplaces/{marketplace_id}/contacts/{contact_id}/preferences")
def preferences(
    request: Request,
    contact_id: Id,
    scope: SellerScope,
    principal: SellerActDep,
    store: StoreDep,
    runs: RunsDep,
    muted: Annotated[list[str] | None, Form()] = None,
    digest: Annotated[str, Form(max_length=5)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Change a contact's message preferences (checked kinds are muted)."""
    from cxops.errors import CxopsError

    try:
        desk.set_preferences(
            store,
            scope.seller_id,
            scope.marketplace_id,
            contact_id,
            muted=[k for k in (muted or []) if k],
            digest=digest == "1",
            language=language or None,
        )
    except CxopsError as e:
        if e.http_status == 404:
            raise
        return _seller(request, scope, store, runs, error=str(e), status=e.http_status)
    return _after(scope, "preferences")


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
