"""``GET /api/v1/me``: who the caller is (role, bound sellers)."""

from __future__ import annotations

from fastapi import APIRouter

from cxops.web.api.schemas import Grant, Me
from cxops.web.deps import AnyRole
from cxops.web.problems import problems

router = APIRouter(tags=["service"], responses=problems(401))


@router.get("/me", response_model=Me)
def me(principal: AnyRole) -> Me:
    """The caller: a session's user or an API token, its role and bound sellers."""
    return Me(
        kind=principal.kind,
        login=principal.login,
        name=principal.name,
        role=principal.role,
        language=principal.language,
        sellers=[Grant(seller_id=s, marketplace_id=m) for s, m in sorted(principal.grants)],
    )
