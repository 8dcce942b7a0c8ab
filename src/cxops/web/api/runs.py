"""``GET /api/v1/runs``: runs of the daily job, newest first (operators)."""

from __future__ import annotations

from fastapi import APIRouter

from cxops.service.console import runs_page
from cxops.web import paging
from cxops.web.api.schemas import Run
from cxops.web.deps import OperatorDep, StoreDep
from cxops.web.paging import Cursor, Limit, Page
from cxops.web.problems import problems

router = APIRouter(tags=["runs"], responses=problems(400, 401, 403, 422))


@router.get("/runs", response_model=Page[Run])
def runs(
    store: StoreDep,
    principal: OperatorDep,
    program: str | None = None,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> Page[Run]:
    """Runs (as-of date, policy version and hash, status, timings, counts), newest first."""
    after = paging.decode(cursor, "runs", 1)
    p = runs_page(store, principal, program=program, before=int(after[0]) if after else None, limit=limit)
    return Page[Run](
        items=[Run.model_validate(r) for r in p.rows], next_cursor=paging.encode("runs", p.next_key)
    )
