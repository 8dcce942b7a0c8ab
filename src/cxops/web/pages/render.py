"""Rendering a page: the template, the language, the user, the CSRF token, and formatting helpers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cxops.report.format import reason_text
from cxops.report.i18n import SUPPORTED_LANGS
from cxops.web.i18n import (
    LANG_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGE_TAGS,
    format_day,
    format_instant,
    format_int,
    pick_language,
    translator,
)


def request_language(request: Request) -> str:
    """The language of this response (``?lang=``, cookie, the user's preference, Accept-Language)."""
    principal = getattr(request.state, "principal", None)
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        getattr(principal, "language", None),
        request.headers.get("accept-language"),
    )


def clock_text(seconds: float | None, tr) -> str:
    """Time left on a dispute's 24-hour clock in words (``5 h 12 min left``, ``overdue by 2 h 3 min``);
    empty when the clock does not run."""
    if seconds is None:
        return ""
    left = int(abs(seconds) // 60)
    span = tr("web.desk.hours_minutes", h=left // 60, m=left % 60)
    return tr("web.desk.overdue" if seconds < 0 else "web.desk.time_left", span=span)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the common context: ``_`` (translate a catalog key), ``lang``,
    ``user`` (the principal or ``None``), ``csrf`` (the session's token), ``day``/``instant``/``num``
    (formatting in the language), ``state``/``benefit`` (vocabulary), ``reason`` (a reason key)."""
    lang = request_language(request)
    tr = translator(lang)
    principal = getattr(request.state, "principal", None)
    ctx = {
        "_": tr,
        "tr": tr,
        "lang": lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGS],
        "language_tags": LANGUAGE_TAGS,
        "user": principal,
        "csrf": getattr(principal, "csrf_token", None),
        "day": lambda d: format_day(d, lang),
        "instant": lambda t: format_instant(t, lang),
        "num": lambda n: format_int(n, lang),
        "reason": lambda key, params=None, fallback=None: reason_text(
            key, params, lang=tr, fallback=fallback
        ),
        "clock": lambda seconds: clock_text(seconds, tr),
        "kinds": lambda text: tr.join(tr.kind(k) for k in str(text or "").split()),
        "path": request.url.path,
        "query": request.url.query,
    }
    ctx.update(context or {})
    return request.app.state.templates.TemplateResponse(
        request, template, ctx, status_code=status, headers=headers
    )


def error_page(request: Request, status: int, detail: str | None, *, headers=None) -> HTMLResponse:
    """An error page in the user's language (the message is the domain error's, in English)."""
    return render(
        request,
        "error.html",
        {"status": status, "phrase": HTTPStatus(status).phrase, "detail": detail},
        status=status,
        headers=headers,
    )
