"""Login and logout pages.

``GET /login`` shows the form with a fresh double-submit CSRF token (cookie + hidden field);
``POST /login`` checks it, then the login and password (:func:`cxops.service.auth.login`: lockout,
per-address limit, audit), sets the session cookie and goes on to ``next`` (a path on this site
only). ``POST /logout`` ends the session (CSRF-checked like every form).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxops.errors import AuthenticationError, RateLimitedError
from cxops.service import auth
from cxops.web.deps import SessionDep, public
from cxops.web.pages.render import render
from cxops.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    client_ip,
    same_token,
    set_cookie,
)

router = APIRouter()


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\r\n")
    ):
        return "/"
    return target


def _form(
    request: Request,
    *,
    next_: str,
    login: str = "",
    error: str | None = None,
    status: int = 200,
    headers=None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {"csrf_login": token, "next": next_, "login": login, "error": error},
        status=status,
        headers=headers,
    )
    settings = request.app.state.settings
    set_cookie(
        response, request, LOGIN_CSRF_COOKIE, token, max_age=3600, secure_cookies=settings.secure_cookies
    )
    return response


@router.get("/login", dependencies=[Depends(public)])
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query name
    """The login form (already logged in: straight on)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and auth.session_principal(request.app.state.store, token, policy=request.app.state.policy):
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_=safe_next(next))


@router.post("/login", dependencies=[Depends(public)])
def login_submit(
    request: Request,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    """Check the form and log in."""
    settings = request.app.state.settings
    target = safe_next(next)
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _form(request, next_=target, login=login, error="web.login.expired", status=403)
    try:
        result = auth.login(
            request.app.state.store,
            login,
            password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
            policy=request.app.state.policy,
        )
    except RateLimitedError as e:
        minutes = max(1, (e.retry_after + 59) // 60)
        return _form(
            request,
            next_=target,
            login=login,
            error=("web.login.locked", {"minutes": minutes}),
            status=429,
            headers={"Retry-After": str(e.retry_after)},
        )
    except AuthenticationError:
        return _form(request, next_=target, login=login, error="web.login.failed", status=401)
    response = RedirectResponse(target, status_code=303)
    max_age = int(request.app.state.policy.session_max.total_seconds())
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        result.token,
        max_age=max_age,
        secure_cookies=settings.secure_cookies,
    )
    clear_cookie(response, request, LOGIN_CSRF_COOKIE, secure_cookies=settings.secure_cookies)
    return response


@router.post("/logout")
def logout(request: Request, principal: SessionDep) -> Response:
    """End the session and go back to the login page."""
    auth.logout(request.app.state.store, principal, ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, request, SESSION_COOKIE, secure_cookies=request.app.state.settings.secure_cookies)
    return response
