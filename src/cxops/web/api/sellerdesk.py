"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/cases|inquiries|documents|notifications|contacts``.

A seller's cases (inquiries with their answers, disputes with the time left on the 24-hour clock and
the evidence bundle), documents checklist and upload, notifications and its contacts' preferences
(:mod:`cxops.service.sellerdesk`). Reading: any role that sees the seller. A seller's own requests
(inquiry, upload, preferences): the seller or an administrator (:data:`~cxops.web.deps.SellerActDep`).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from cxops.service import sellerdesk as desk
from cxops.web import paging
from cxops.web.api.schemas_sellerdesk import (
    CaseDetail,
    CasePage,
    CaseSummary,
    Checklist,
    ChecklistItem,
    Contact,
    Document,
    InquiryRequest,
    Notification,
    NotificationPage,
    Preferences,
)
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import Id, MarketplacePath, SellerActDep, SellerScope, StoreDep
from cxops.web.paging import Cursor, Limit
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["seller desk"],
    responses=problems(400, 401, 404, 422),
    dependencies=[MarketplacePath],  # {marketplace_id} in the OpenAPI (read by the seller scope)
)


def _before(cursor: str | None, name: str) -> int | None:
    key = paging.decode(cursor, name, 1)
    return int(key[0]) if key else None


def _cursor(name: str, before: int | None) -> str | None:
    return paging.encode(name, (before,) if before is not None else None)


def case_detail(view, principal) -> CaseDetail:
    """The API shape of a case. A seller principal does not see operators' notes, names or free-text
    reasons (the convention of the event log): notes are left out, operators shown as ``program``."""
    data = view.to_json()
    left = view.time_left
    if not principal.is_operator:
        data["entries"] = [
            {**e, "author": e.get("author") if e.get("role") == "seller" else "program"}
            for e in data["entries"]
            if e.get("kind") != "note"
        ]
        data["history"] = [{**h, "actor": "program", "reason": None} for h in data["history"]]
    return CaseDetail(**{**data, "seconds_left": None if left is None else left.total_seconds()})


@router.get("/cases", response_model=CasePage)
def cases(
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    kind: str | None = None,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> CasePage:
    """The seller's cases newest first (``kind``: inquiry, dispute, appeal); a dispute awaiting its first
    response has ``seconds_left`` on its 24-hour clock."""
    membership_exists(store, scope, runs.policy.name)
    p = desk.cases(
        store, scope.seller_id, scope.marketplace_id, kind=kind, before=_before(cursor, "cases"), limit=limit
    )
    return CasePage(
        items=[CaseSummary.model_validate(r) for r in p.rows], next_cursor=_cursor("cases", p.next_before)
    )


@router.get("/cases/{case_id}", response_model=CaseDetail)
def case(case_id: Id, scope: SellerScope, store: StoreDep) -> CaseDetail:
    """One case with its answer, status history and entries."""
    return case_detail(desk.case(store, scope.seller_id, scope.marketplace_id, case_id), scope.principal)


@router.get(
    "/cases/{case_id}/bundle",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The evidence bundle."},
        **problems(409),
    },
)
def bundle(case_id: Id, request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep) -> Response:
    """The evidence bundle of a dispute: a zip of the order's records, the case and a manifest."""
    from cxops.web.pages.render import request_language

    name, data = desk.bundle(
        store, runs.wh, runs.policy, scope.seller_id, scope.marketplace_id, case_id, request_language(request)
    )
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/inquiries", response_model=CaseDetail, status_code=201, responses=problems(403, 409))
def inquire(
    body: InquiryRequest, scope: SellerScope, principal: SellerActDep, store: StoreDep, runs: RunsDep
) -> CaseDetail:
    """Ask why the seller is (not) in the program: answered at once from the newest stored run — each
    eligibility and admission criterion with value, bar and gap, the status, the next evaluation and
    the projected status — and kept with the case (409 while no run is stored)."""
    membership_exists(store, scope, runs.policy.name)
    view = desk.ask(
        store,
        runs.wh,
        runs.policy,
        scope.seller_id,
        scope.marketplace_id,
        question=body.question,
        actor=principal.actor,
        by="operator" if principal.is_operator else "seller",
    )
    return case_detail(view, principal)


@router.get("/documents", response_model=Checklist)
def documents(scope: SellerScope, store: StoreDep, runs: RunsDep) -> Checklist:
    """The documents checklist: each required document with its status, and whether it is complete."""
    c = desk.checklist(store, scope.seller_id, scope.marketplace_id, runs.policy.name)
    items = [ChecklistItem.model_validate(r) for r in c.rows]
    return Checklist(checklist=c.checklist, today=c.today, complete=c.complete, items=items)


@router.post("/documents", response_model=Document, status_code=201, responses=problems(403, 409, 413))
async def upload(
    scope: SellerScope,
    principal: SellerActDep,
    store: StoreDep,
    runs: RunsDep,
    kind: str = Form(..., description="A checklist requirement, e.g. w8ben, business_licence."),
    file: UploadFile = File(..., description="PDF, PNG or JPEG; the type is read from the content."),
    period: str | None = Form(None, description="The period (YYYY-MM) for a periodic document."),
    signed_on: date | None = Form(None, description="The day it was signed (a W-8BEN)."),
    expires_on: date | None = Form(None, description="Its expiry day, for documents that expire."),
) -> Document:
    """Upload a document for review (multipart form: ``kind``, ``file``, optional ``period``)."""
    from starlette.concurrency import run_in_threadpool

    from cxops.service.documents import DocumentSettings

    data = await file.read(DocumentSettings().max_bytes + 1)
    d = await run_in_threadpool(
        desk.upload,
        store,
        scope.seller_id,
        scope.marketplace_id,
        kind=kind,
        data=data,
        filename=file.filename or "upload",
        actor=principal.actor,
        period=period,
        signed_on=signed_on,
        expires_on=expires_on,
        program=runs.policy.name,
    )
    return Document(
        id=d.id,
        kind=d.kind,
        period=d.period,
        status=d.status,
        size=d.size,
        content_type=d.content_type,
        filename=d.filename,
        submitted_at=d.submitted_at,
        warnings=list(d.warnings),
    )


@router.get("/notifications", response_model=NotificationPage)
def notifications(
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> NotificationPage:
    """Messages about this account, newest first (kind, channel, recipient, subject, delivery status)."""
    membership_exists(store, scope, runs.policy.name)
    p = desk.notifications(
        store, scope.seller_id, scope.marketplace_id, before=_before(cursor, "notifications"), limit=limit
    )
    return NotificationPage(
        items=[Notification.model_validate(r) for r in p.rows],
        next_cursor=_cursor("notifications", p.next_before),
    )


@router.get("/contacts", response_model=list[Contact])
def contacts(scope: SellerScope, store: StoreDep, runs: RunsDep) -> list[Contact]:
    """The seller's e-mail contacts for this marketplace with their preferences (a short list)."""
    membership_exists(store, scope, runs.policy.name)
    return [Contact.model_validate(c) for c in desk.contacts(store, scope.seller_id, scope.marketplace_id)]


@router.post("/contacts/{contact_id}/preferences", response_model=Contact, responses=problems(403))
def preferences(
    contact_id: Id, body: Preferences, scope: SellerScope, principal: SellerActDep, store: StoreDep
) -> Contact:
    """Change a contact's muted kinds, digest and language (warnings and removals cannot be muted)."""
    c = desk.set_preferences(
        store,
        scope.seller_id,
        scope.marketplace_id,
        contact_id,
        muted=body.muted,
        digest=body.digest,
        language=body.language,
    )
    return Contact.model_validate(c)
