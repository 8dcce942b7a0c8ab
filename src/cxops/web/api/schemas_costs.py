"""API models of the cost trade-offs (:mod:`cxops.report.costs`): fractions as fractions, money per
month in ``currency``."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class Assumption(BaseModel):
    """What an option changes, by how much (``params``), the sheet field and its source."""

    key: str
    params: dict[str, float]
    field: str
    source: str
    text: str


class MetricChange(BaseModel):
    metric: str
    window_days: int | None = None
    channel: str
    before: float | None = None
    after: float | None = None
    text: str


class CostOption(BaseModel):
    """One option: projected metrics, program status, fee discount and money, break-even."""

    option: str = Field(description="status_quo, or option names joined by '+'.")
    label: str
    applicable: bool
    assumptions: list[Assumption]
    metrics: list[MetricChange]
    next_state: str = Field(description="Lifecycle state at the next evaluation.")
    steady_state: str = Field(description="State after the projected evaluations.")
    next_reason: str
    steady_reason: str
    admission: str
    failing: list[str]
    benefits: list[dict[str, Any]]
    discount: float = Field(description="Fee discount tier granted (fraction).")
    benefit_value: float | None = None
    extra_cost: float | None = None
    fixed_cost: float
    net: float | None = None
    break_even_orders: float | None = None
    break_even_storage: float | None = None
    break_even: str
    missing: list[str]


class Volumes(BaseModel):
    orders_mfn: float
    orders_afn: float
    returns: float | None = None
    origin: dict[str, str]


class CostAdvice(BaseModel):
    seller_id: str
    marketplace_id: str
    as_of: date
    current_state: str
    evaluation_dates: list[date]
    currency: str
    cost_sheet: str
    volumes: Volumes
    options: list[CostOption]
    notes: list[str]


class CostAnswer(BaseModel):
    """The advice, or ``advice`` null with the reason (no evaluation stored yet)."""

    advice: CostAdvice | None = None
    message: str | None = None
