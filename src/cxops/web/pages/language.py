"""``GET /language?lang=zh&next=/path``: switch the language (remembered in a cookie for a year)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from cxops.web.deps import public
from cxops.web.i18n import LANG_COOKIE, supported
from cxops.web.pages.auth import safe_next
from cxops.web.security import set_cookie

router = APIRouter()


@router.get("/language", dependencies=[Depends(public)])
def switch_language(request: Request, lang: str, next: str = "/") -> Response:  # noqa: A002
    """Remember the language and go back (an unsupported one is ignored)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    code = supported(lang)
    if code:
        set_cookie(
            response,
            request,
            LANG_COOKIE,
            code,
            max_age=365 * 86400,
            secure_cookies=request.app.state.settings.secure_cookies,
        )
    return response
