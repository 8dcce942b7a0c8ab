"""API models of a seller's scorecard: criteria with gaps, defects, trends (rates as fractions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class RunInfo(BaseModel):
    """The stored evaluation run a scorecard is read from."""

    run_id: str
    policy_name: str
    policy_version: str
    as_of: date = Field(description="The day the run evaluated up to.")
    last_evaluation: date | None = None
    next_evaluation: date | None = None
    created_at: datetime = Field(description="When the run was stored (UTC).")


class Criterion(BaseModel):
    """One criterion at the last evaluation: value, bar, result, gap.

    ``gap`` is the signed change of the tested count that flips the result (null where none);
    ``gap_text`` says it in words in the response's language; ``progress`` (0–1) is how far the value
    is toward the bar (for ``<``/``<=`` bars 1 at 0 and 0.5 at the bar)."""

    section: str
    criterion_id: str
    label: str | None = None
    metric: str | None = None
    window_days: int | None = None
    channel: str | None = None
    test: str | None = None
    operator: str | None = None
    threshold: float | None = None
    min_denominator: float | None = None
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    status: str | None = None
    result: str | None = Field(None, description="pass, fail, insufficient_data or not_measured.")
    gap: int | None = None
    gap_text: str | None = None
    name_text: str = Field(description="The criterion's name in the response's language.")
    value_text: str = Field(description="The value formatted (rates as percentages), in the language.")
    threshold_text: str = Field(description="The bar formatted, e.g. '< 0.45%', in the language.")
    progress: float | None = Field(None, ge=0, le=1)


class Scorecard(BaseModel):
    """A seller on one marketplace in the newest stored run (``run`` null: none stored yet)."""

    seller_id: str
    marketplace_id: str
    run: RunInfo | None = None
    state: str | None = Field(None, description="State at the last evaluation.")
    since: date | None = None
    reason: str | None = Field(None, description="Why, in the response's language.")
    projected_state: str | None = Field(None, description="What the next evaluation would decide today.")
    projected_reason: str | None = None
    next_evaluation: date | None = None
    criteria: list[Criterion]


class Defect(BaseModel):
    """A defective order (or shipment) counted in a metric at the last evaluation."""

    metric: str
    window_days: int
    channel: str
    order_id: str
    record_id: str
    kind: str = Field(description="Which defects, space-separated (e.g. 'negative_feedback a_to_z_claim').")
    anchor_date: date = Field(description="The day that places it in the window (marketplace-local).")
    drops_out_on: date = Field(description="The first day whose window no longer holds it.")


class DefectPage(BaseModel):
    """One page of defects (sorted by metric, window, drop-out day, order), with the total."""

    items: list[Defect]
    next_cursor: str | None = None
    total: int


class TrendPoint(BaseModel):
    day: date
    value: float | None = None


class Trend(BaseModel):
    """A metric's series with the policy's lines and the Vega-Lite specification that draws them."""

    metric: str
    window_days: int
    channel: str
    span: Literal["90d", "12m"]
    points: list[TrendPoint]
    lines: dict[str, float] = Field(description="limit (removal), alert (alert level), bar (admission).")
    spec: dict[str, Any] = Field(description="Vega-Lite specification (cxops.report.vega.trend_spec).")
