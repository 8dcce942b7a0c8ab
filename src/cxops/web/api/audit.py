"""``GET /api/v1/audit``: logins, failed logins, lockouts, logouts, user and token changes (administrators).

Operator actions on sellers are in each seller's event log (``…/events``).
"""

from __future__ import annotations

from fastapi import APIRouter

from cxops.service.console import audit_page
from cxops.web import paging
from cxops.web.api.schemas import Event
from cxops.web.deps import AdminDep, StoreDep
from cxops.web.paging import Cursor, Limit, Page
from cxops.web.problems import problems

router = APIRouter(tags=["audit"], responses=problems(400, 401, 403, 422))


@router.get("/audit", response_model=Page[Event])
def audit(
    store: StoreDep, principal: AdminDep, cursor: Cursor = None, limit: Limit = paging.DEFAULT_LIMIT
) -> Page[Event]:
    """The authentication audit trail, newest first."""
    after = paging.decode(cursor, "audit", 1)
    p = audit_page(store, principal, before=int(after[0]) if after else None, limit=limit)
    return Page[Event](
        items=[Event.model_validate(r) for r in p.rows], next_cursor=paging.encode("audit", p.next_key)
    )
