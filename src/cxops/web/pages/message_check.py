"""The message check page of the seller's web view: ``/sellers/{seller_id}/message-check``.

A form with a textarea (CSRF token as on every form); the answer shows the message with each finding's
span highlighted (numbered marks) and the findings with their rule and explanation, in the page's
language. Any principal who sees the seller may use it (it computes, it changes nothing); the message
is neither stored nor sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from cxops.service.message_check import MAX_CHARS, check_message
from cxops.web.deps import SellerScope
from cxops.web.pages.render import render, request_language

router = APIRouter()


def segments(message: str, findings) -> list[dict]:
    """The message cut at every span boundary: ``{"text", "marks"}`` where ``marks`` are the numbers
    (from 1) of the findings covering that piece (empty: plain text)."""
    cuts = sorted({0, len(message), *(f.start for f in findings), *(f.end for f in findings)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        marks = [i for i, f in enumerate(findings, 1) if f.start <= a and b <= f.end]
        out.append({"text": message[a:b], "marks": marks})
    return out


def _page(request: Request, scope, *, message: str = "", result=None, error: str | None = None,
          status: int = 200) -> Response:  # fmt: skip
    return render(
        request,
        "message_check.html",
        {
            "seller_id": scope.seller_id,
            "message": message,
            "result": result,
            "segments": segments(message, result.findings) if result else [],
            "error": error,
            "max_chars": MAX_CHARS,
        },
        status=status,
    )


@router.get("/sellers/{seller_id}/message-check")
def message_check_form(request: Request, scope: SellerScope) -> Response:
    """The empty form."""
    return _page(request, scope)


@router.post("/sellers/{seller_id}/message-check")
async def message_check(
    request: Request,
    scope: SellerScope,
    message: Annotated[str, Form(max_length=MAX_CHARS)] = "",
) -> Response:
    """Check the posted draft and show the findings (an empty draft: the form again with the error)."""
    from cxops.errors import CxopsError

    try:
        result = await run_in_threadpool(
            check_message, message, lang=request_language(request), source="the draft"
        )
    except CxopsError as e:
        return _page(request, scope, message=message, error=str(e), status=e.http_status)
    return _page(request, scope, message=message, result=result)
