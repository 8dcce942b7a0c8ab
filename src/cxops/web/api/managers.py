"""``GET /api/v1/managers``: account managers with their load (operators)."""

from __future__ import annotations

from fastapi import APIRouter

from cxops.service.console import managers_page
from cxops.web import paging
from cxops.web.api.schemas import Manager
from cxops.web.deps import OperatorDep, StoreDep
from cxops.web.paging import Cursor, Limit, Page
from cxops.web.problems import problems

router = APIRouter(tags=["managers"], responses=problems(400, 401, 403, 422))


@router.get("/managers", response_model=Page[Manager])
def managers(
    store: StoreDep, principal: OperatorDep, cursor: Cursor = None, limit: Limit = paging.DEFAULT_LIMIT
) -> Page[Manager]:
    """Account managers by id."""
    after = paging.decode(cursor, "managers", 1)
    p = managers_page(store, principal, after=after[0] if after else None, limit=limit)
    return Page[Manager](
        items=[Manager.model_validate(r) for r in p.rows], next_cursor=paging.encode("managers", p.next_key)
    )
