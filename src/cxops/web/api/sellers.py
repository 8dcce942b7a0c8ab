"""``/api/v1/sellers/{seller_id}…``: a seller's memberships, event log, notes and operator actions.

Every route is seller-scoped (:data:`~cxops.web.deps.SellerScope`): a seller the caller may not see
is 404, exactly like one that does not exist. Reading: any role that sees the seller (sellers see
their own transitions and benefits only); notes and actions: operators; changing anything:
``operator-admin``. Actions take effect at the next daily run and land in the event log.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from cxops.service import actions as action_service
from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.console import (
    action_seller,
    actions_page,
    events_page,
    not_found,
    notes_page,
    seller_accounts,
)
from cxops.web import paging
from cxops.web.api.schemas import (
    ActionRequest,
    ActionResult,
    CancelRequest,
    Event,
    Member,
    Note,
    NoteRequest,
    NoteResult,
    PendingAction,
    Seller,
    SellerAccount,
)
from cxops.web.api.schemas import Benefit as BenefitModel
from cxops.web.deps import AdminDep, Id, MarketplacePath, OperatorDep, SellerScope, StoreDep
from cxops.web.paging import Cursor, Limit, Page
from cxops.web.problems import problems

router = APIRouter(prefix="/sellers/{seller_id}", tags=["sellers"], responses=problems(400, 401, 404, 422))
MEMBERSHIP = "/marketplaces/{marketplace_id}"
#: Every membership route declares its ``{marketplace_id}`` (read by the seller scope) for the OpenAPI.
IN_MEMBERSHIP = [MarketplacePath]


def account_model(a) -> SellerAccount:
    """The API shape of a :class:`cxops.service.console.SellerAccount`."""
    return SellerAccount(
        membership=Member.model_validate(a.membership),
        manager_email=a.membership.get("manager_email"),
        benefits=[BenefitModel.model_validate(b) for b in a.benefits],
        pending_actions=[PendingAction.model_validate(p) for p in a.pending],
    )


@router.get("", response_model=Seller)
def seller(scope: SellerScope, store: StoreDep, program: str | None = DEFAULT_PROGRAM) -> Seller:
    """The seller's memberships in a program (every program with `program=` empty) that you may see."""
    accounts = seller_accounts(store, scope.principal, scope.seller_id, program=program or None)
    return Seller(seller_id=scope.seller_id, accounts=[account_model(a) for a in accounts])


@router.get(MEMBERSHIP, response_model=SellerAccount, dependencies=IN_MEMBERSHIP)
def membership(scope: SellerScope, store: StoreDep, program: str = DEFAULT_PROGRAM) -> SellerAccount:
    """One membership: state and since when, manager, benefits held now, pending actions (operators)."""
    (account,) = seller_accounts(
        store, scope.principal, scope.seller_id, marketplace_id=scope.marketplace_id, program=program
    )
    return account_model(account)


@router.get(MEMBERSHIP + "/events", response_model=Page[Event], dependencies=IN_MEMBERSHIP)
def events(
    scope: SellerScope,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> Page[Event]:
    """The seller's event log, newest first (sellers: their status changes and benefits only)."""
    after = paging.decode(cursor, "events", 1)
    p = events_page(
        store,
        scope.principal,
        scope.seller_id,
        scope.marketplace_id,
        program=program,
        before=int(after[0]) if after else None,
        limit=limit,
    )
    return Page[Event](
        items=[Event.model_validate(r) for r in p.rows], next_cursor=paging.encode("events", p.next_key)
    )


@router.get(
    MEMBERSHIP + "/notes", response_model=Page[Note], responses=problems(403), dependencies=IN_MEMBERSHIP
)
def notes(
    scope: SellerScope,
    principal: OperatorDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> Page[Note]:
    """Operators' notes on the seller, newest first."""
    after = paging.decode(cursor, "notes", 1)
    p = notes_page(
        store,
        principal,
        scope.seller_id,
        scope.marketplace_id,
        program=program,
        before=int(after[0]) if after else None,
        limit=limit,
    )
    return Page[Note](
        items=[Note.model_validate(r) for r in p.rows], next_cursor=paging.encode("notes", p.next_key)
    )


@router.post(
    MEMBERSHIP + "/notes",
    response_model=NoteResult,
    status_code=201,
    responses=problems(403),
    dependencies=IN_MEMBERSHIP,
)
def add_note(
    body: NoteRequest,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
) -> NoteResult:
    """Write a note on the seller (recorded at once, in the event log too)."""
    n = action_service.add_note(
        store, scope.seller_id, scope.marketplace_id, text=body.text, actor=principal.actor, program=program
    )
    return NoteResult(
        note_id=n.note_id,
        program=n.program,
        seller_id=n.seller_id,
        marketplace_id=n.marketplace_id,
        actor=n.actor,
        text=n.text,
        created_at=n.created_at,
    )


@router.get(
    MEMBERSHIP + "/actions",
    response_model=Page[PendingAction],
    responses=problems(403),
    dependencies=IN_MEMBERSHIP,
)
def actions(
    scope: SellerScope,
    principal: OperatorDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
    status: Literal["pending", "applied", "rejected", "cancelled"] | None = None,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> Page[PendingAction]:
    """Operator actions on the seller (all, or one status), newest first."""
    after = paging.decode(cursor, "actions", 1)
    p = actions_page(
        store,
        principal,
        scope.seller_id,
        scope.marketplace_id,
        program=program,
        status=status,
        before=int(after[0]) if after else None,
        limit=limit,
    )
    return Page[PendingAction](
        items=[PendingAction.model_validate(r) for r in p.rows],
        next_cursor=paging.encode("actions", p.next_key),
    )


def result_model(r) -> ActionResult:
    return ActionResult(
        action_id=r.action_id,
        kind=r.kind,
        program=r.program,
        seller_id=r.seller_id,
        marketplace_id=r.marketplace_id,
        actor=r.actor,
        reason=r.reason,
        state=r.state,
        expected_state=r.expected_state,
        requested_at=r.requested_at,
        until=r.until,
        manager_id=r.manager_id,
        duplicate=r.duplicate,
        warnings=list(r.warnings),
    )


@router.post(
    MEMBERSHIP + "/actions",
    response_model=ActionResult,
    status_code=201,
    dependencies=IN_MEMBERSHIP,
    responses={
        **problems(403, 409),
        200: {
            "model": ActionResult,
            "description": "A repeated request (same idempotency key): the action recorded the first time.",
        },
    },
)
def request_action(
    body: ActionRequest,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
) -> Response:
    """Exempt, suspend, reinstate or assign a manager, with a reason; takes effect at the next daily run.

    An action impossible in the seller's state (reinstating an enrolled seller) is 409 with why."""
    r = action_service.request_action(
        store,
        body.kind,
        scope.seller_id,
        scope.marketplace_id,
        reason=body.reason,
        actor=principal.actor,
        until=body.until,
        manager_id=body.manager_id,
        program=program,
        idempotency_key=body.idempotency_key,
    )
    return JSONResponse(result_model(r).model_dump(mode="json"), status_code=200 if r.duplicate else 201)


@router.post(
    MEMBERSHIP + "/actions/{action_id}/cancel",
    response_model=ActionResult,
    responses=problems(403, 409),
    dependencies=IN_MEMBERSHIP,
)
def cancel_action(
    action_id: Id,
    body: CancelRequest,
    scope: SellerScope,
    principal: AdminDep,
    store: StoreDep,
    program: str = DEFAULT_PROGRAM,
) -> ActionResult:
    """Withdraw a pending action of this seller (recorded with the reason)."""
    if action_seller(store, action_id) != (program, scope.seller_id, scope.marketplace_id):
        raise not_found_action(action_id)
    return result_model(action_service.cancel(store, action_id, reason=body.reason, actor=principal.actor))


def not_found_action(action_id: int):
    from cxops.errors import NotFoundError

    return NotFoundError(f"action {action_id} not found for this seller")


__all__ = ["account_model", "not_found", "router"]
