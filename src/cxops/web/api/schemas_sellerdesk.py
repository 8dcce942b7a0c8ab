"""API models of a seller's cases, documents and notifications (instants UTC, days local)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class CaseSummary(BaseModel):
    """A case: eligibility inquiry, buyer dispute or reinstatement appeal."""

    id: int
    kind: str
    status: str
    order_id: str | None = None
    subject: str
    source: str
    opened_at: datetime
    due_at: datetime | None = Field(None, description="A dispute's first-response deadline (24 clock hours).")
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    seconds_left: float | None = Field(
        None, description="Until the deadline of a dispute awaiting its first response (negative: overdue)."
    )


class CaseDetail(CaseSummary):
    """A case with its answer (an inquiry's standing), history and entries."""

    answer: dict[str, Any] | None = None
    history: list[dict[str, Any]]
    entries: list[dict[str, Any]]


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = None


class InquiryRequest(BaseModel):
    """An eligibility inquiry ("Performance Advisor Request"): answered at once from the newest run."""

    question: str | None = Field(None, max_length=2000)


class ChecklistItem(BaseModel):
    requirement: str
    label: str | None = None
    period: str | None = None
    required: bool
    status: str = Field(description="missing, submitted, accepted, rejected, expired …")
    document_id: int | None = None
    submitted_at: datetime | None = None
    expires_on: date | None = None
    expiring_soon: bool | None = None
    review_reason: str | None = None
    filename: str | None = None


class Checklist(BaseModel):
    """The seller's documents checklist and whether enrolment paperwork is complete."""

    checklist: str
    today: date
    complete: bool
    items: list[ChecklistItem]


class Document(BaseModel):
    id: int
    kind: str
    period: str | None = None
    status: str
    size: int
    content_type: str
    filename: str
    submitted_at: datetime
    warnings: list[str] = []


class Notification(BaseModel):
    """A message sent (or to be sent) to the seller's contacts or webhooks."""

    id: int
    kind: str
    channel: str
    recipient: str
    language: str
    subject: str | None = None
    status: str
    created_at: datetime
    sent_at: datetime | None = None


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None = None


class Contact(BaseModel):
    """An e-mail contact of the seller with its preferences (warnings and removals cannot be muted)."""

    id: int
    marketplace_id: str
    email: str
    name: str | None = None
    language: str
    muted: list[str] = []
    digest: bool
    active: bool


class Preferences(BaseModel):
    """New preferences of a contact; omitted fields stay as they are."""

    muted: list[str] | None = Field(None, description="Message kinds not wanted (not warning or removal).")
    digest: bool | None = Field(None, description="Alerts in one daily digest instead of one each.")
    language: str | None = Field(None, description="en or zh.")
