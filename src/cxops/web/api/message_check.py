"""``POST /api/v1/check-message``: check a draft buyer message against marketplace communication rules.

Any logged-in principal (seller or operator, session or token) may call it: it computes on the posted
text and changes nothing (a session still sends its CSRF token, as for every POST). The message is
neither stored nor logged nor sent.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cxops.service.message_check import MAX_CHARS, check_message
from cxops.web.deps import AnyRole
from cxops.web.problems import problems

router = APIRouter(tags=["seller tools"], responses=problems(400, 401, 403, 422))

MessageLang = Literal["en", "zh", "de", "fr", "ja", "es", "pt"]


class MessageCheckRequest(BaseModel):
    """A draft message to a buyer."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(max_length=MAX_CHARS, description="The draft (UTF-8 text; not stored, not sent).")
    lang: str = Field("en", max_length=16, description="Language of the explanations: en, zh, de, fr, ja.")
    languages: list[MessageLang] | None = Field(
        None, max_length=7, description="Message languages whose wording rules apply (default: all)."
    )


class MessageFinding(BaseModel):
    rule: str = Field(description="Rule id: review_change, review_incentive, review_positive, "
                      "off_platform_contact, external_link, marketing, personal_data.")  # fmt: skip
    start: int = Field(description="Offset of the span in the message (Unicode code points, from 0).")
    end: int = Field(description="End of the span (exclusive).")
    text: str
    kind: str = Field(description="terms (wording), email, phone, url, card, iban or address.")
    language: str | None = Field(description="The language whose wording matched (null for a detector).")
    severity: str
    title: str
    explanation: str
    found: str


class MessageCheckResult(BaseModel):
    clean: bool
    lang: str
    length: int = Field(description="Characters (code points) in the message.")
    findings: list[MessageFinding]


@router.post("/check-message", response_model=MessageCheckResult)
async def check(body: MessageCheckRequest, principal: AnyRole) -> MessageCheckResult:
    """Check a draft buyer message: each finding with its rule, the span in the message and why it is not
    allowed (in `lang`). An empty message is a 400 problem."""
    result = await run_in_threadpool(check_message, body.message, lang=body.lang, languages=body.languages)
    return MessageCheckResult.model_validate(result.to_json())
