"""What the web shows from the operations store: the operator console's seller list, a seller's file,
its event log, notes and actions, account managers, runs and the log of logins — each for a
:class:`~cxops.service.auth.Principal`, each list a keyset page (:class:`Page`).

Visibility is decided here as well as in the web's dependencies: a seller principal gets only the
memberships of the sellers it is bound to, only the events a seller should see
(:data:`SELLER_EVENT_KINDS`, without the operator's name or free-text reason), and never notes or
pending actions; a seller it may not see is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from cxops.errors import ForbiddenError, NotFoundError
from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.auth import AUTH_EVENT_KINDS, Principal
from cxops.store import listing
from cxops.store.db import Store
from cxops.store.listing import MEMBER_SORTS, NO_MANAGER
from cxops.store.listing import Slice as Page

#: Event kinds a seller sees in its own history.
SELLER_EVENT_KINDS = ("transition", "benefit_started", "benefit_ended", "manager_assigned")
#: Actor shown to sellers for events an operator or the job recorded.
SELLER_VISIBLE_ACTOR = "program"

__all__ = [
    "MEMBER_SORTS",
    "NO_MANAGER",
    "SELLER_EVENT_KINDS",
    "MemberFilter",
    "Page",
    "SellerAccount",
    "audit_page",
    "events_page",
    "list_members",
    "managers_page",
    "notes_page",
    "actions_page",
    "runs_page",
    "seller_accounts",
    "store_ok",
]


def not_found(seller_id: str, marketplace_id: str | None = None) -> NotFoundError:
    """The one error for a seller that does not exist or is not the principal's to see."""
    where = f" on {marketplace_id}" if marketplace_id else ""
    return NotFoundError(f"seller {seller_id}{where} not found")


def _check(principal: Principal, seller_id: str, marketplace_id: str | None = None) -> None:
    if not principal.sees(seller_id, marketplace_id):
        raise not_found(seller_id, marketplace_id)


def _operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise ForbiddenError("operators only")


@dataclass(frozen=True)
class MemberFilter:
    """Filters and order of the seller list (see :func:`cxops.store.listing.members`)."""

    program: str = DEFAULT_PROGRAM
    states: tuple[str, ...] = ()
    marketplace_id: str | None = None
    manager_id: str | None = None
    seller_prefix: str | None = None
    sort: str = "seller"
    descending: bool = False


def list_members(
    store: Store,
    principal: Principal,
    f: MemberFilter,
    *,
    after: Sequence[Any] | None = None,
    limit: int = 50,
) -> Page:
    """One page of memberships: every seller for operators, the bound sellers for a seller principal."""
    grants = None if principal.is_operator else sorted(principal.grants)
    with store.unit_of_work(write=False) as session:
        return listing.members(
            session,
            f.program,
            states=f.states,
            marketplace_id=f.marketplace_id,
            manager_id=f.manager_id,
            seller_prefix=f.seller_prefix,
            grants=grants,
            sort=f.sort,
            descending=f.descending,
            after=after,
            limit=limit,
        )


@dataclass(frozen=True)
class SellerAccount:
    """One membership of a seller with what goes with it: its manager (``manager_name``,
    ``manager_email`` in ``membership``), benefits held now and, for operators, pending actions."""

    membership: dict[str, Any]
    benefits: list[dict[str, Any]]
    pending: list[dict[str, Any]] = field(default_factory=list)


def seller_accounts(
    store: Store,
    principal: Principal,
    seller_id: str,
    *,
    marketplace_id: str | None = None,
    program: str | None = DEFAULT_PROGRAM,
) -> list[SellerAccount]:
    """A seller's memberships (one program, or all with ``program=None``) that the principal may see.

    Raises
    ------
    NotFoundError
        The seller has none, or none the principal may see (the same message either way).
    """
    _check(principal, seller_id, marketplace_id)
    grants = None if principal.is_operator else sorted(principal.grants)
    with store.unit_of_work(write=False) as session:
        rows = listing.seller_memberships(session, seller_id, program=program, grants=grants)
        if marketplace_id is not None:
            rows = [r for r in rows if r["marketplace_id"] == marketplace_id]
        if not rows:
            raise not_found(seller_id, marketplace_id)
        out = []
        for m in rows:
            key = (m["program"], seller_id, m["marketplace_id"])
            pending = []
            if principal.is_operator:
                pending = listing.seller_actions(session, *key, status="pending", limit=100).rows
            out.append(SellerAccount(m, listing.open_benefits(session, *key), pending))
        return out


def _for_seller(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "actor": SELLER_VISIBLE_ACTOR, "reason": None, "action_id": None, "run_id": None}


def events_page(
    store: Store,
    principal: Principal,
    seller_id: str,
    marketplace_id: str,
    *,
    program: str = DEFAULT_PROGRAM,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """A seller's event log newest first: every event for operators; for a seller principal only
    :data:`SELLER_EVENT_KINDS`, without who recorded them or their free-text reason."""
    _check(principal, seller_id, marketplace_id)
    kinds = None if principal.is_operator else SELLER_EVENT_KINDS
    with store.unit_of_work(write=False) as session:
        p = listing.seller_events(
            session, program, seller_id, marketplace_id, kinds=kinds, before=before, limit=limit
        )
    if not principal.is_operator:
        p = Page([_for_seller(r) for r in p.rows], p.next_key)
    return p


def notes_page(
    store: Store,
    principal: Principal,
    seller_id: str,
    marketplace_id: str,
    *,
    program: str = DEFAULT_PROGRAM,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """Operators' notes on a seller, newest first (operators only)."""
    _check(principal, seller_id, marketplace_id)
    _operator(principal)
    with store.unit_of_work(write=False) as session:
        return listing.seller_notes(session, program, seller_id, marketplace_id, before=before, limit=limit)


def actions_page(
    store: Store,
    principal: Principal,
    seller_id: str,
    marketplace_id: str,
    *,
    program: str = DEFAULT_PROGRAM,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """Operator actions on a seller (all, or one status), newest first (operators only)."""
    _check(principal, seller_id, marketplace_id)
    _operator(principal)
    with store.unit_of_work(write=False) as session:
        return listing.seller_actions(
            session, program, seller_id, marketplace_id, status=status, before=before, limit=limit
        )


def action_seller(store: Store, action_id: int) -> tuple[str, str, str] | None:
    """``(program, seller_id, marketplace_id)`` of an action, or ``None``."""
    with store.unit_of_work(write=False) as session:
        a = listing.action_of(session, action_id)
    return None if a is None else (a["program"], a["seller_id"], a["marketplace_id"])


def managers_page(
    store: Store, principal: Principal, *, after: str | None = None, limit: int = 50, load: bool = True
) -> Page:
    """Account managers by id with their load (operators only; ``load=False``: without it)."""
    _operator(principal)
    with store.unit_of_work(write=False) as session:
        return listing.managers(session, after=after, limit=limit, load=load)


def runs_page(
    store: Store,
    principal: Principal,
    *,
    program: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Page:
    """Daily-job runs newest first (operators only)."""
    _operator(principal)
    with store.unit_of_work(write=False) as session:
        return listing.runs(session, program=program, before=before, limit=limit)


def audit_page(store: Store, principal: Principal, *, before: int | None = None, limit: int = 50) -> Page:
    """The log of logins, lockouts, logouts and user and token changes, newest first (administrators)."""
    if not principal.can_act:
        raise ForbiddenError("administrators only")
    with store.unit_of_work(write=False) as session:
        return listing.events_of_kinds(session, AUTH_EVENT_KINDS, before=before, limit=limit)


def store_ok(store: Store) -> bool:
    """Whether the store answers a query."""
    try:
        with store.unit_of_work(write=False) as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure to answer is "not ok" for the health check
        return False
    return True
