"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/advice/handling-time|holiday``.

``handling-time``: the handling-time advisor (:func:`cxops.service.deadline_advice.handling_time_advice`)
for one seller on one marketplace — per SKU (or group) the business days needed, the current and proposed
handling times, the late shipment rate had and would have had, the preview of the next two weeks' ship-by
dates, and ``?export=tsv|csv`` the listing upload file (``sku``, ``fulfillment-latency``).

``holiday``: the closed weekdays ahead (holidays, the seller's non-operating days) and, with
``?closed=FROM..TO``, the holiday plan (:func:`cxops.service.deadline_advice.holiday_plan`): open orders
to ship before, holiday mode on/off, the 10- and 30-day late shipment rate if nothing is done.

Any role that sees the seller; a membership that does not exist (or that the caller may not see) is 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cxops.advisor.holiday import parse_closure
from cxops.errors import NotFoundError
from cxops.report.deadline_advice import handling_dict, holiday_dict
from cxops.service import deadline_advice as da
from cxops.web.api.scorecard import _language, membership_exists
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}/advice",
    tags=["advice"],
    responses=problems(400, 401, 404, 409, 422),
    dependencies=[MarketplacePath],
)


class TargetOut(BaseModel):
    rate: float  # a fraction
    operator: str
    source: str


class SkuOut(BaseModel):
    marketplace_id: str
    sku: str
    orders: int
    late_had: int
    rate_had: float
    current: int | None
    current_source: str | None
    proposed: int
    late_would: int
    rate_would: float
    reachable: bool
    distribution: dict[str, int]  # business days needed ("never": no handling time cures them) -> orders
    p50: int | None
    p90: int | None
    p_max: int | None
    members: list[str]


class PreviewOut(BaseModel):
    marketplace_id: str
    order_day: date
    handling_days: int
    received_day: date
    ship_by_day: date
    latest_ship_at: datetime  # UTC
    closed: list[tuple[date, str]]


class HandlingAdviceOut(BaseModel):
    seller_id: str
    as_of: date
    first_day: date
    target: TargetOut
    min_days: int
    max_days: int
    group_by: str
    orders: int
    late_had: int
    late_would: int
    rate_had: float | None
    rate_would: float | None
    skus: list[SkuOut]
    preview: list[PreviewOut]
    notes: list[str]


@router.get(
    "/handling-time",
    response_model=HandlingAdviceOut,
    responses={200: {"content": {"text/csv": {}, "text/tab-separated-values": {}}}},
)
def handling_time(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    target: float | None = Query(
        None, ge=0, lt=1, description="Late shipment rate (a fraction); default the policy's admission bar."
    ),
    days: int = Query(da.LOOKBACK_DAYS, ge=1, le=730),
    as_of: date | None = None,
    group_by: Literal["sku", "category", "seller"] = "sku",
    export: Literal["tsv", "csv"] | None = Query(
        None, description="The listing upload file instead of JSON."
    ),
):
    """Per SKU: business days needed, current and proposed handling time, late shipment rate had and would
    have had; the next two weeks' ship-by dates under the proposal (holidays named)."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        raise NotFoundError("no warehouse: no orders to learn handling times from")
    tgt = None if target is None else da.ht.Target(target, "<=", "target")
    advice = da.handling_time_advice(
        runs.wh, runs.policy, scope.seller_id, as_of=as_of, days=days, target=tgt,
        marketplace=scope.marketplace_id, group_by=group_by,
    )  # fmt: skip
    if export is not None:
        sep = "\t" if export == "tsv" else ","
        body = da.latency_table(advice).to_csv(sep=sep, index=False)
        media = "text/tab-separated-values" if export == "tsv" else "text/csv"
        ext = "txt" if export == "tsv" else "csv"
        name = f"fulfillment-latency-{scope.seller_id}-{scope.marketplace_id}.{ext}"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    return HandlingAdviceOut.model_validate(handling_dict(advice, _language(request)))


class ShipBeforeOut(BaseModel):
    marketplace_id: str
    order_id: str
    purchased_at: datetime  # UTC
    latest_ship_at: datetime  # UTC
    ship_by_day: date
    ship_on_or_before: date | None  # null: no open day left before the closure (ship now)


class HolidayModeOut(BaseModel):
    marketplace_id: str
    needed: bool
    on_local: datetime | None
    off_local: datetime | None
    on_utc: datetime | None
    off_utc: datetime | None
    first_received: date | None
    last_received: date | None
    handling_days: list[int]
    already_due: bool


class WindowEffectOut(BaseModel):
    days: int
    first_day: date
    last_day: date
    orders_nothing: float
    late_nothing: float
    orders_planned: float
    late_planned: float
    rate_nothing: float | None  # fractions
    rate_planned: float | None


class HolidayPlanOut(BaseModel):
    seller_id: str
    as_of: date
    closed_from: date
    closed_to: date
    ship_before: list[ShipBeforeOut]
    modes: list[HolidayModeOut]
    effects: list[WindowEffectOut]
    daily_orders: float
    rate_days: int
    typical_handling: int | None
    notes: list[str]


class ClosedDayOut(BaseModel):
    day: date
    name: str


class HolidayAdviceOut(BaseModel):
    as_of: date
    upcoming: list[ClosedDayOut]  # closed weekdays ahead: holidays, the seller's non-operating days
    plan: HolidayPlanOut | None  # with ?closed=FROM..TO


@router.get("/holiday", response_model=HolidayAdviceOut)
def holiday(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    closed: str | None = Query(None, description="The closure, local days FROM..TO inclusive."),
    as_of: date | None = None,
) -> HolidayAdviceOut:
    """The closed weekdays ahead and, for a closure, the orders to ship before it, when to switch holiday
    mode on and off, and the late shipment rate of the 10- and 30-day windows if nothing is done."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        raise NotFoundError("no warehouse: no orders to plan around")
    lo_hi = parse_closure(closed) if closed else None
    day, upcoming = da.upcoming_closed_days(runs.wh, scope.seller_id, scope.marketplace_id, as_of=as_of)
    plan = None
    if lo_hi is not None:
        p = da.holiday_plan(
            runs.wh, runs.policy, scope.seller_id, *lo_hi, as_of=day, marketplace=scope.marketplace_id
        )
        plan = HolidayPlanOut.model_validate(holiday_dict(p, _language(request)))
    return HolidayAdviceOut(as_of=day, upcoming=[ClosedDayOut(day=d, name=n) for d, n in upcoming], plan=plan)
