"""API models of the operator console's program-wide views (queues, at-risk, figures, runs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class QueuedCase(BaseModel):
    """A case waiting for someone, with the time left on a dispute's 24-hour clock."""

    id: int
    kind: str
    status: str
    program: str
    seller_id: str
    marketplace_id: str
    order_id: str | None = None
    owner: str | None = None
    subject: str
    opened_at: datetime
    due_at: datetime | None = None
    first_response_at: datetime | None = None
    escalated_at: datetime | None = None
    seconds_left: float | None = Field(None, description="Negative: overdue.")


class CaseQueue(BaseModel):
    items: list[QueuedCase]
    next_cursor: str | None = None


class QueuedDocument(BaseModel):
    id: int
    program: str
    seller_id: str
    marketplace_id: str
    kind: str
    period: str | None = None
    status: str
    size: int
    content_type: str
    filename: str
    submitted_at: datetime
    submitted_by: str
    signed_on: date | None = None
    expires_on: date | None = None


class DocumentQueue(BaseModel):
    items: list[QueuedDocument]
    next_cursor: str | None = None


class ReviewRequest(BaseModel):
    """Accept or reject a submitted document (a rejection needs the reason the seller will read)."""

    decision: str = Field(pattern="^(accept|reject)$")
    reason: str | None = Field(None, max_length=2000)
    expires_on: date | None = None


class ReviewResult(BaseModel):
    id: int
    status: str
    reviewed_by: str | None = None
    review_reason: str | None = None


class AtRisk(BaseModel):
    """A seller at risk now, or projected at risk or worse at the next evaluation."""

    seller_id: str
    marketplace_id: str
    state: str
    projected_state: str | None = None
    evaluation_date: date | None = Field(None, description="The next evaluation the projection is for.")
    reason: str | None = None


class AtRiskPage(BaseModel):
    items: list[AtRisk]
    next_cursor: str | None = None


class StateCount(BaseModel):
    month: date = Field(description="The evaluation day.")
    state: str
    sellers: int


class Flow(BaseModel):
    month: date = Field(description="First day of the month of the transitions.")
    from_state: str | None = None
    to_state: str
    sellers: int


class Figures(BaseModel):
    """Sellers per state at each evaluation and the flows between states, month by month."""

    run_as_of: date | None = None
    states: list[StateCount]
    flows: list[Flow]
    spec: dict[str, Any] = Field(description="Vega-Lite specification of sellers per state per month.")


class EvaluationRun(BaseModel):
    """An evaluation run stored in the warehouse."""

    run_id: str
    policy_name: str
    policy_version: str
    as_of: date
    until: date
    last_evaluation: date | None = None
    evaluations: int
    scope: int | None = Field(None, description="Sellers asked for (null: all).")
    sellers: int
    seconds: float | None = None
    created_at: datetime
    notes: list[str] = []
