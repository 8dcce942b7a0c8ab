"""Dependencies every route declares: the store, who is asking, the seller scope, the role needed.

The access convention (checked for every route by ``tests/test_web_isolation.py``):

- a route is :func:`public` (no login), or needs a principal through :data:`CurrentUser`,
  :data:`SessionDep`, :data:`OperatorDep` / :data:`AdminDep` (:func:`RequireRole`), or both a
  principal and a seller through :data:`SellerScope`;
- **every route about one seller has ``{seller_id}`` in its path** (and ``{marketplace_id}`` when it
  is about one membership) and declares :data:`SellerScope`, which answers 404 — the same as for a
  seller that does not exist — when the principal may not see that seller; the role check comes
  after it, so a seller never learns from a 403 that another seller exists;
- changing program state needs ``operator-admin`` (:data:`AdminDep`): a viewer or a seller gets 403;
  a seller's own requests about its account (a document upload, an eligibility inquiry, its contacts'
  preferences) take :data:`SellerActDep` (``seller`` or ``operator-admin``; a viewer gets 403);
- an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the session cookie must carry the
  session's CSRF token (:mod:`cxops.web.security`), or it is refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from cxops.errors import AuthenticationError, ForbiddenError, NotFoundError
from cxops.service import auth
from cxops.service.auth import ADMIN, SELLER, VIEWER, Principal
from cxops.web.security import SESSION_COOKIE, UNSAFE_METHODS, same_token, submitted_csrf


def get_store(request: Request):
    """The opened operations store (built by the app's lifespan, one per process)."""
    return request.app.state.store


StoreDep = Annotated[object, Depends(get_store)]


def public() -> None:
    """Marks a route anyone may call (login page, health, API docs, language switch)."""


async def current_principal(request: Request) -> Principal:
    """The principal of the request: a bearer token, else the session cookie.

    Raises
    ------
    AuthenticationError
        No credentials, or credentials that are unknown, expired or revoked (401; pages redirect
        to the login page).
    ForbiddenError
        An unsafe request authenticated by the cookie without the session's CSRF token (403).
    """
    store = request.app.state.store
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationError("send an API token as: Authorization: Bearer cxops_…")
        principal = await run_in_threadpool(auth.token_principal, store, credentials.strip())
        if principal is None:
            raise AuthenticationError("unknown, expired or revoked API token")
        request.state.principal = principal
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    principal = None
    if token:
        principal = await run_in_threadpool(
            auth.session_principal, store, token, policy=request.app.state.policy
        )
    if principal is None:
        raise AuthenticationError("log in first" if not token else "your session has ended: log in again")
    if request.method in UNSAFE_METHODS and not same_token(
        principal.csrf_token, await submitted_csrf(request)
    ):
        raise ForbiddenError("missing or wrong CSRF token: reload the page and try again")
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def current_session(principal: CurrentUser) -> Principal:
    """A principal logged in through the browser (a session, not an API token)."""
    if principal.session_id is None:
        raise ForbiddenError("this needs a browser session, not an API token")
    return principal


#: A principal with a browser session (logout, pages that post forms).
SessionDep = Annotated[Principal, Depends(current_session)]


def RequireRole(*roles: str):  # noqa: N802 - reads as a type in signatures: AdminDep = RequireRole(ADMIN)
    """A dependency that refuses (403) a principal whose role is not one of ``roles``."""
    allowed = frozenset(roles)

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise ForbiddenError(
                f"this needs the role {' or '.join(sorted(allowed))}; you are {principal.role}"
            )
        return principal

    check.__name__ = f"require_{'_or_'.join(sorted(r.replace('-', '_') for r in allowed))}"
    check.required_roles = allowed  # read by the route-enumerating tests
    return Depends(check)


#: Operators (admins and viewers): read everything.
OperatorDep = Annotated[Principal, RequireRole(ADMIN, VIEWER)]
#: Administrators: change program state.
AdminDep = Annotated[Principal, RequireRole(ADMIN)]
#: A seller acting on its own account (upload, inquiry, preferences), or an administrator on its behalf;
#: declared after :data:`SellerScope`, so another seller is 404 before the role is checked.
SellerActDep = Annotated[Principal, RequireRole(ADMIN, SELLER)]
#: Every role (any logged-in principal) — for routes that filter by the principal themselves.
AnyRole = Annotated[Principal, RequireRole(ADMIN, VIEWER, SELLER)]


@dataclass(frozen=True)
class Scope:
    """A seller (and marketplace) the principal may see."""

    seller_id: str
    marketplace_id: str | None
    principal: Principal


def seller_scope(seller_id: str, request: Request, principal: CurrentUser) -> Scope:
    """The seller of the path, if the principal may see it; 404 otherwise (never 403).

    Raises
    ------
    NotFoundError
        The principal is not bound to the seller (or to the marketplace in the path).
    """
    marketplace_id = request.path_params.get("marketplace_id")
    if not principal.sees(seller_id, marketplace_id):
        from cxops.service.console import not_found

        raise not_found(seller_id, marketplace_id)
    return Scope(seller_id, marketplace_id, principal)


SellerScope = Annotated[Scope, Depends(seller_scope)]


def marketplace_path(
    marketplace_id: Annotated[str, Path(max_length=64, description="Marketplace id, e.g. `US`.")],
) -> str:
    """Declares the ``{marketplace_id}`` of a membership route (which :func:`seller_scope` reads from the
    path) so that the OpenAPI lists it; add ``dependencies=[MarketplacePath]`` to such a route."""
    return marketplace_id


#: The ``{marketplace_id}`` path parameter of a membership route, declared for the OpenAPI.
MarketplacePath = Depends(marketplace_path)
#: A database id in a path: a positive 64-bit integer (larger ones are 422, never a database overflow).
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]

__all__ = [
    "AdminDep",
    "AnyRole",
    "CurrentUser",
    "Id",
    "MarketplacePath",
    "NotFoundError",
    "OperatorDep",
    "RequireRole",
    "Scope",
    "SellerActDep",
    "SellerScope",
    "SessionDep",
    "StoreDep",
    "current_principal",
    "public",
    "seller_scope",
]
