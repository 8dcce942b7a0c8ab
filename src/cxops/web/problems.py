"""Errors as RFC 9457 problem details (``application/problem+json``) for the API, as pages for people.

A :class:`cxops.errors.CxopsError` becomes a problem with its ``http_status``, its message as
``detail`` and its hint; a validation error becomes 422 with the fields at fault (never the value
sent); an unknown path 404; anything unexpected 500 with an id to quote — the traceback goes to
the server's log, never to the client. Pages get the same, rendered in the user's language, and an
anonymous visitor is sent to the login page instead of a 401.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxops.errors import AuthenticationError, CxopsError, RateLimitedError

log = logging.getLogger("cxops.web")
PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"


class FieldError(BaseModel):
    """One invalid input: where (``["query", "limit"]``) and why."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: ``type`` identifies the kind (``urn:cxops:problem:<name>``, or
    ``about:blank`` for a plain HTTP status), ``title`` its summary, ``detail`` this occurrence."""

    type: str = Field("about:blank", examples=["urn:cxops:problem:not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(None, examples=["seller S123 not found"])
    instance: str | None = Field(None, examples=["/api/v1/sellers/S123"])
    hint: str | None = None
    errors: list[FieldError] | None = None
    error_id: str | None = Field(None, description="Quote it to an administrator (500 only).")


def _kind(error: CxopsError) -> str:
    name = type(error).__name__.removesuffix("Error")
    words = "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")
    return f"urn:cxops:problem:{words or 'error'}"


def problem_response(
    request: Request,
    status: int,
    *,
    detail: str | None = None,
    type_: str = "about:blank",
    hint: str | None = None,
    errors=None,
    error_id=None,
    headers=None,
) -> Response:
    """A ``application/problem+json`` response."""
    body = Problem(
        type=type_,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        hint=hint,
        errors=errors,
        error_id=error_id,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def login_redirect(request: Request) -> RedirectResponse:
    """Send a visitor to the login page, coming back here afterwards (GET pages only)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = f"?next={quote(target, safe='')}" if request.method == "GET" and target != "/" else ""
    return RedirectResponse(f"/login{suffix}", status_code=303)


def _page(request: Request, status: int, detail: str | None, headers=None) -> Response:
    from cxops.web.pages.render import error_page

    return error_page(request, status, detail, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(CxopsError)
    async def _domain(request: Request, exc: CxopsError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
        if isinstance(exc, AuthenticationError):
            if not is_api(request):
                return login_redirect(request)
            headers = {"WWW-Authenticate": 'Bearer realm="cxops"'}
        if not is_api(request):
            return _page(request, exc.http_status, str(exc), headers)
        return problem_response(
            request, exc.http_status, detail=str(exc), type_=_kind(exc), hint=exc.hint, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [
            FieldError(
                loc=[str(x) if not isinstance(x, int) else x for x in e.get("loc", ())],
                msg=e.get("msg", ""),
                type=e.get("type", ""),
            )
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(map(str, e.loc[1:] or e.loc))}: {e.msg}" for e in errors)
        if not is_api(request):
            return _page(request, 422, detail)
        return problem_response(
            request, 422, detail=detail, type_="urn:cxops:problem:invalid-input", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
            else None
        )
        if exc.status_code == 405:  # the router names only the first route of the path: name them all
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed_methods(request))}
        if not is_api(request):
            return _page(request, exc.status_code, detail, getattr(exc, "headers", None))
        return problem_response(
            request, exc.status_code, detail=detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        error_id = uuid.uuid4().hex[:12]
        log.exception("internal error %s on %s %s", error_id, request.method, request.url.path)
        if not is_api(request):
            return _page(request, 500, f"internal error {error_id}")
        return problem_response(
            request,
            500,
            detail="internal error; the administrator can find it in the server's log by its id",
            error_id=error_id,
        )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on the request's path (for ``Allow`` on a 405)."""
    from starlette.routing import compile_path

    from cxops.web.app import route_table

    methods: set[str] = set()
    for route_methods, path, _ in route_table(request.app):
        if route_methods and compile_path(path)[0].match(request.url.path):
            methods |= route_methods
    return sorted(methods)


#: OpenAPI ``responses`` for the problems every authenticated route can answer.
def problems(*statuses: int) -> dict[int | str, dict]:
    return {
        s: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": HTTPStatus(s).phrase}
        for s in statuses
    }
