"""Cookies, CSRF and response headers.

- The session cookie (:data:`SESSION_COOKIE`) holds a random token; it is ``HttpOnly``,
  ``SameSite=Lax``, ``Path=/``, and ``Secure`` when the settings say the service is reached over
  HTTPS or the request itself came over HTTPS (behind a trusted proxy: ``X-Forwarded-Proto``).
- CSRF: a synchroniser token bound to the session (stored with it) must come back on every unsafe
  request (POST, PUT, PATCH, DELETE) authenticated by the cookie — as the form field
  ``csrf_token`` or the header ``X-CSRF-Token`` (htmx sends it from ``hx-headers``). Requests
  with a bearer token carry no ambient credentials and need none. The login form, before any
  session exists, uses a double-submit token (:data:`LOGIN_CSRF_COOKIE`).
- Every response gets a Content-Security-Policy with ``default-src 'self'`` (no inline script or
  style, nothing from another host), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``,
  ``X-Frame-Options: DENY``; authenticated responses are ``Cache-Control: no-store``.
"""

from __future__ import annotations

import hmac

from fastapi import Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "cxops_session"
LOGIN_CSRF_COOKIE = "cxops_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def secure_request(request: Request, secure_cookies: bool) -> bool:
    """Whether cookies set on this response must be ``Secure``."""
    return secure_cookies or request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None,
    secure_cookies: bool,
    http_only: bool = True,
) -> None:
    """Set a cookie with the flags above."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=http_only,
        samesite="lax",
        secure=secure_request(request, secure_cookies),
    )


def clear_cookie(response: Response, request: Request, name: str, *, secure_cookies: bool) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_request(request, secure_cookies)
    )


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens (``False`` when either is missing)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def client_ip(request: Request) -> str:
    """The client's address (the proxy's ``X-Forwarded-For`` only when the proxy is trusted, which
    the proxy-headers middleware has then applied to the request)."""
    return request.client.host if request.client else "unknown"


class SecurityHeaders:
    """ASGI middleware adding the headers listed in the module docstring to every response."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False):
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"x-frame-options": b"DENY",
                    b"cross-origin-opener-policy": b"same-origin",
                }
                if not static:
                    extra[b"cache-control"] = b"no-store"
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)
