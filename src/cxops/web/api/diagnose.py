"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/diagnosis`` and ``…/performance-log.csv``.

The root cause of a seller's metrics that fail or are near their bar (:mod:`cxops.service.diagnose`),
computed from the warehouse as of a day (default: the last complete day of data): per metric window,
the defects broken down by SKU, category, carrier, weekday and channel as a Pareto with plain-language
sentences in the request's language, a page of groups per dimension (``offset`` / ``limit``); and the
performance log as CSV. Any role that sees the seller; a membership that does not exist (or that the
caller may not see) is 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cxops.errors import NotFoundError
from cxops.report.diagnose import diagnosis_dict
from cxops.report.files import to_csv
from cxops.service import diagnose as svc
from cxops.web.api.scorecard import _language, membership_exists
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["diagnosis"],
    responses=problems(400, 401, 404, 409, 422),
    dependencies=[MarketplacePath],
)

#: Groups per dimension in one answer: default and most.
DEFAULT_GROUPS, MAX_GROUPS = 10, 200
AsOf = Annotated[date | None, Query(description="Last day of every window (default: last complete day).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Groups to skip per dimension (by rank).")]
Groups = Annotated[int, Query(ge=1, le=MAX_GROUPS, description=f"Groups per dimension (1–{MAX_GROUPS}).")]


class Group(BaseModel):
    """One group of a dimension (rates and shares are fractions)."""

    group: str | None = Field(description="The SKU, category, carrier, weekday or channel; null: none.")
    label: str = Field(description="The group's name in the response's language.")
    rank: int = Field(description="1 = most defects.")
    defects: int
    records: int
    share: float | None = Field(description="The group's defects / the seller's defects.")
    value_without: float | None = Field(description="The metric with the group's records left out.")
    cum_defects: int
    cum_records: int
    cum_share: float | None = Field(description="Share of the defects in groups ranked 1..rank together.")
    value_without_top: float | None = Field(description="The metric without groups 1..rank.")
    defect_rate_without: float | None = None
    defect_rate_without_top: float | None = None
    total_defects: int
    total_records: int


class Dimension(BaseModel):
    """A page of one dimension's Pareto, with its sentence."""

    groups: int = Field(description="How many groups the dimension has.")
    headline: str | None = None
    items: list[Group]


class Finding(BaseModel):
    """One metric window of the seller: its standing, the policy's bars and the breakdown."""

    marketplace_id: str
    metric: str
    window_days: int
    channel: str
    window_start: date
    window_end: date
    status: str = Field(description="fail, near, ok or unjudged.")
    title: str
    criteria: list[dict[str, Any]]
    value: float | None
    numerator: int
    denominator: int
    defects: int
    records: int
    higher_is_better: bool
    dimensions: dict[str, Dimension]


class Diagnosis(BaseModel):
    """The root cause of a seller's failing and near metrics on one marketplace."""

    seller_id: str
    as_of: date | None
    policy: str
    near: float
    offset: int
    limit: int | None
    judged: list[dict[str, Any]] = Field(description="Every judged metric window with its status.")
    findings: list[Finding]
    unavailable: dict[str, str] = Field(description="Dimensions the data cannot hold, and why.")
    summary: list[str] = Field(description="The plain-language summary, one line each.")


def compute(runs, scope, *, as_of, metric, near, offset, limit):
    """The service's diagnosis for the scoped seller and marketplace; ``None`` without a warehouse or
    orders of the seller there (an empty answer, not an error: the membership exists)."""
    if runs.wh is None:
        return None
    try:
        return svc.diagnose(
            runs.wh, runs.policy, scope.seller_id, as_of, marketplace_id=scope.marketplace_id, metric=metric,
            near=near, offset=offset, limit=limit,
        )  # fmt: skip
    except NotFoundError:
        return None


def empty(scope, policy, near: float, offset: int, limit: int) -> dict:
    """The answer for a seller without orders (or a server without a warehouse)."""
    return dict(
        seller_id=scope.seller_id, as_of=None, policy=f"{policy.name} {policy.version}", near=near,
        offset=offset, limit=limit, judged=[], findings=[], unavailable={}, summary=[],
    )  # fmt: skip


@router.get("/diagnosis", response_model=Diagnosis)
def diagnosis(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    as_of: AsOf = None,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    near: Annotated[float, Query(ge=0, lt=1)] = svc.NEAR_FRACTION,
    offset: Offset = 0,
    limit: Groups = DEFAULT_GROUPS,
) -> Diagnosis:
    """For each metric that fails or is near its bar: the defects by SKU, category, carrier, weekday
    and channel, each group's share and the metric without it (a Pareto), with sentences."""
    membership_exists(store, scope, runs.policy.name)
    d = compute(runs, scope, as_of=as_of, metric=metric, near=near, offset=offset, limit=limit)
    if d is None:
        return Diagnosis(**empty(scope, runs.policy, near, offset, limit))
    return Diagnosis.model_validate(diagnosis_dict(d, lang=_language(request)))


@router.get(
    "/performance-log.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every record of each window."}},
)
def performance_log(scope: SellerScope, store: StoreDep, runs: RunsDep, as_of: AsOf = None) -> Response:
    """The performance log: every order (or shipment) in each window of each defect-driven metric,
    with its defect flag and reason (UTF-8 CSV, a header row, ISO days; columns in the README)."""
    import pandas as pd

    membership_exists(store, scope, runs.policy.name)
    df = pd.DataFrame(columns=svc.LOG_COLUMNS)
    if runs.wh is not None:
        try:
            df = svc.log_frame(
                runs.wh, runs.policy, scope.seller_id, as_of, marketplace_id=scope.marketplace_id
            )
        except NotFoundError:
            pass  # no order in any window: the header only
    name = f"performance-log-{scope.seller_id}-{scope.marketplace_id}.csv".replace('"', "")
    return Response(
        to_csv(df[svc.LOG_COLUMNS]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
