"""``GET /api/v1/members``: the program's sellers with filters, sort and cursor paging.

Operators see every seller; a seller principal sees the sellers it is bound to.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cxops.service.actions import DEFAULT_PROGRAM
from cxops.service.console import MEMBER_SORTS, NO_MANAGER, MemberFilter, list_members
from cxops.web import paging
from cxops.web.api.schemas import Member
from cxops.web.deps import AnyRole, StoreDep
from cxops.web.paging import Cursor, Limit, Page
from cxops.web.problems import problems

router = APIRouter(tags=["sellers"], responses=problems(400, 401, 422))

Sort = Literal["seller", "since", "state"]


def member_filter(
    program: str,
    state: list[str] | None,
    marketplace: str | None,
    manager: str | None,
    q: str | None,
    sort: str,
    order: str,
) -> MemberFilter:
    """The service's filter from query values (shared with the console page)."""
    return MemberFilter(
        program=program,
        states=tuple(s for s in (state or []) if s),
        marketplace_id=(marketplace or "").strip() or None,
        manager_id=None if manager is None or manager == "" else (NO_MANAGER if manager == "-" else manager),
        seller_prefix=(q or "").strip() or None,
        sort=sort,
        descending=order == "desc",
    )


def cursor_name(f: MemberFilter) -> str:
    return f"members:{f.program}:{f.sort}:{'desc' if f.descending else 'asc'}"


@router.get("/members", response_model=Page[Member])
def members(
    store: StoreDep,
    principal: AnyRole,
    program: str = DEFAULT_PROGRAM,
    state: Annotated[list[str] | None, Query(description="Lifecycle states to keep (repeat).")] = None,
    marketplace: Annotated[str | None, Query(max_length=64)] = None,
    manager: Annotated[str | None, Query(max_length=64, description="Manager id; `-` for none.")] = None,
    q: Annotated[str | None, Query(max_length=64, description="Seller ids starting with this.")] = None,
    sort: Sort = "seller",
    order: Literal["asc", "desc"] = "asc",
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> Page[Member]:
    """Memberships of a program, one page at a time (follow `next_cursor`)."""
    f = member_filter(program, state, marketplace, manager, q, sort, order)
    after = paging.decode(cursor, cursor_name(f), len(MEMBER_SORTS[sort]))
    p = list_members(store, principal, f, after=after, limit=limit)
    return Page[Member](
        items=[Member.model_validate(r) for r in p.rows],
        next_cursor=paging.encode(cursor_name(f), p.next_key),
    )
