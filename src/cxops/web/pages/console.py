"""The operator console: the seller list and a seller's detail with the operator actions.

``GET /console/sellers`` lists memberships with filters (status, marketplace, manager, seller-id
search), sort and cursor paging (the table is replaced by htmx as filters change; plain links
without JavaScript). ``GET /console/sellers/{seller_id}/{marketplace_id}`` shows the membership,
manager, benefits, pending actions, notes and the audit log (the seller's event log) with forms to
exempt, suspend, reinstate, assign a manager or write a note — each asking for a reason, each
recorded with the operator's login; actions take effect at the next daily run.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxops.errors import CxopsError, InputError, NotFoundError
from cxops.service import actions as action_service
from cxops.service.actions import ACTION_RULES, DEFAULT_PROGRAM
from cxops.service.console import (
    MEMBER_SORTS,
    Page,
    action_seller,
    events_page,
    list_members,
    managers_page,
    notes_page,
    seller_accounts,
)
from cxops.service.states import lifecycle_states
from cxops.web import paging
from cxops.web.api.members import cursor_name, member_filter
from cxops.web.deps import AdminDep, Id, OperatorDep, SellerScope, StoreDep
from cxops.web.pages.render import render

router = APIRouter(prefix="/console")
AUDIT_ROWS = 50
#: States offered in the status filter: the lifecycle's, then the enforcement states actions lead to.
EXTRA_STATES = ("suspended", "blocked")


def _states() -> list[str]:
    return sorted(lifecycle_states()) + [s for s in EXTRA_STATES if s not in lifecycle_states()]


@router.get("/sellers")
def sellers(
    request: Request,
    principal: OperatorDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    state: Annotated[list[str] | None, Query()] = None,
    marketplace: Annotated[str | None, Query(max_length=64)] = None,
    manager: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    sort: str = "seller",
    order: str = "asc",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)] = paging.DEFAULT_LIMIT,
) -> Response:
    """Sellers of the program, filtered and sorted, one page at a time."""
    sort = sort if sort in MEMBER_SORTS else "seller"
    order = "desc" if order == "desc" else "asc"
    f = member_filter(program, state, marketplace, manager, q, sort, order)
    after = paging.decode(cursor, cursor_name(f), len(MEMBER_SORTS[sort]))
    error, status = None, 200
    try:
        page = list_members(store, principal, f, after=after, limit=limit)
    except InputError as e:  # e.g. sorting by since without one status: say so above an empty list
        page, error, status = Page([], None), str(e), e.http_status
    params = [
        ("program", program),
        *[("state", s) for s in f.states],
        ("marketplace", marketplace or ""),
        ("manager", manager or ""),
        ("q", q or ""),
        ("sort", sort),
        ("order", order),
        ("limit", str(limit) if limit != paging.DEFAULT_LIMIT else ""),
    ]
    kept = [(k, v) for k, v in params if v]
    next_cursor = paging.encode(cursor_name(f), page.next_key)
    ctx = {
        "rows": page.rows,
        "filter": f,
        "states": _states(),
        "sorts": list(MEMBER_SORTS),
        "order": order,
        "marketplace": marketplace or "",
        "manager": manager or "",
        "q": q or "",
        "program": program,
        "managers": managers_page(store, principal, limit=paging.MAX_LIMIT, load=False).rows,  # names
        "next_url": f"/console/sellers?{urlencode(kept + [('cursor', next_cursor)])}"
        if next_cursor
        else None,
        "first_url": f"/console/sellers?{urlencode(kept)}" if cursor else None,
        "fragment": request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == "members",
        "error": error,
    }
    return render(request, "console_sellers.html", ctx, status=status)


DETAIL = "/sellers/{seller_id}/{marketplace_id}"


def _detail_url(seller_id: str, marketplace_id: str, program: str, **extra) -> str:
    query = urlencode({"program": program, **extra}) if program != DEFAULT_PROGRAM or extra else ""
    return f"/console/sellers/{quote(seller_id, safe='')}/{quote(marketplace_id, safe='')}" + (
        f"?{query}" if query else ""
    )


def _detail(
    request: Request,
    scope,
    store,
    program: str,
    *,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
    form: dict | None = None,
) -> Response:
    principal = scope.principal
    (account,) = seller_accounts(
        store, principal, scope.seller_id, marketplace_id=scope.marketplace_id, program=program
    )
    audit = events_page(
        store, principal, scope.seller_id, scope.marketplace_id, program=program, limit=AUDIT_ROWS
    )
    notes = notes_page(
        store, principal, scope.seller_id, scope.marketplace_id, program=program, limit=AUDIT_ROWS
    )
    managers = [m for m in managers_page(store, principal, limit=paging.MAX_LIMIT).rows if m["active"]]
    return render(
        request,
        "console_seller.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "program": program,
            "account": account,
            "audit": audit,
            "notes": notes,
            "managers": managers,
            "error": error,
            "done": done,
            "form": form or {},
            "rules": ACTION_RULES,
            "base_url": _detail_url(scope.seller_id, scope.marketplace_id, program),
        },
        status=status,
    )


@router.get(DETAIL)
def seller_detail(
    request: Request,
    scope: SellerScope,
    principal: OperatorDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    done: str | None = None,
) -> Response:
    """The seller's file with the actions and the audit log."""
    return _detail(request, scope, store, program, done=done)


@router.get(DETAIL + "/events")
def seller_audit(
    request: Request,
    scope: SellerScope,
    principal: OperatorDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    before: int | None = None,
) -> Response:
    """More of the audit log (a fragment for htmx; a page of its own without JavaScript)."""
    audit = events_page(
        store,
        principal,
        scope.seller_id,
        scope.marketplace_id,
        program=program,
        before=before,
        limit=AUDIT_ROWS,
    )
    fragment = request.headers.get("hx-request") == "true"
    return render(
        request,
        "_audit_rows.html" if fragment else "console_audit.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "program": program,
            "audit": audit,
            "base_url": _detail_url(scope.seller_id, scope.marketplace_id, program),
        },
    )


def _acted(scope, program: str, done: str) -> Response:
    return RedirectResponse(
        _detail_url(scope.seller_id, scope.marketplace_id, program, done=done), status_code=303
    )


@router.post(DETAIL + "/actions")
def act(
    request: Request,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    kind: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    manager_id: Annotated[str, Form(max_length=64)] = "",
    program: Annotated[str, Form(max_length=64)] = DEFAULT_PROGRAM,
) -> Response:
    """Ask for an action (exempt, suspend, reinstate, assign a manager) with a reason."""
    from datetime import date

    form = {"kind": kind, "reason": reason, "until": until, "manager_id": manager_id}
    try:
        day = date.fromisoformat(until) if until else None
    except ValueError:
        return _detail(
            request,
            scope,
            store,
            program,
            error=f"{until!r} is not a date (YYYY-MM-DD)",
            status=400,
            form=form,
        )
    try:
        action_service.request_action(
            store,
            kind,
            scope.seller_id,
            scope.marketplace_id,
            reason=reason,
            actor=principal.actor,
            until=day,
            manager_id=manager_id or None,
            program=program,
        )
    except CxopsError as e:
        return _detail(request, scope, store, program, error=str(e), status=e.http_status, form=form)
    return _acted(scope, program, kind)


@router.post(DETAIL + "/notes")
def note(
    request: Request,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    text: Annotated[str, Form(max_length=10_000)] = "",
    program: Annotated[str, Form(max_length=64)] = DEFAULT_PROGRAM,
) -> Response:
    """Write a note on the seller."""
    try:
        action_service.add_note(
            store, scope.seller_id, scope.marketplace_id, text=text, actor=principal.actor, program=program
        )
    except CxopsError as e:
        return _detail(
            request, scope, store, program, error=str(e), status=e.http_status, form={"text": text}
        )
    return _acted(scope, program, "note")


@router.post(DETAIL + "/actions/{action_id}/cancel")
def cancel(
    request: Request,
    action_id: Id,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    program: Annotated[str, Form(max_length=64)] = DEFAULT_PROGRAM,
) -> Response:
    """Withdraw a pending action of this seller."""
    if action_seller(store, action_id) != (program, scope.seller_id, scope.marketplace_id):
        raise NotFoundError(f"action {action_id} not found for this seller")
    try:
        action_service.cancel(store, action_id, reason=reason, actor=principal.actor)
    except CxopsError as e:
        return _detail(request, scope, store, program, error=str(e), status=e.http_status)
    return _acted(scope, program, "cancel")
