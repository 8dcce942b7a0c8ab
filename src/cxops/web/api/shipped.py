"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/shipped-basis`` and ``….csv``.

Every MFN order due in the window whose late-shipment result differs between two "shipped" events
(seller confirmation, first carrier scan, any signal: :mod:`cxops.service.shipped`), so a seller can
reconcile the marketplace's basis with their own records: a page of orders (keyset cursor on ship-by
day and order id) and the whole list as CSV. Any role that sees the seller; a membership that does
not exist (or that the caller may not see) is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cxops.errors import NotFoundError
from cxops.report.files import to_csv
from cxops.service.shipped import seller_shipped_differences
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.paging import DEFAULT_LIMIT, Cursor, Limit, Page, decode, encode
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["deadlines"],
    responses=problems(400, 401, 404, 409, 422),
    dependencies=[MarketplacePath],
)

Event = Literal["confirmation", "first_scan", "any"]
AsOf = Annotated[
    date | None, Query(description="Last ship-by day of the window (default: last complete day).")
]
Window = Annotated[int, Query(ge=1, le=365, description="Days in the window.")]
COLUMNS = ["order_id", "ship_by_date", "basis_result", "against_result"]
LIST = "shipped-basis"


class ShippedOrder(BaseModel):
    """An order whose result differs: ``late``, ``on time`` or ``left out`` under each basis."""

    order_id: str
    ship_by_date: date = Field(description="Marketplace-local ship-by day.")
    basis_result: str
    against_result: str


class ShippedBasis(Page[ShippedOrder]):
    """A page of the orders whose result differs between ``basis`` and ``against``."""

    as_of: date | None = Field(description="Last day of the window; null: no orders in the warehouse.")
    window_days: int
    basis: str
    against: str
    total: int = Field(description="Orders whose result differs, on every page.")


@dataclass(frozen=True)
class Comparison:
    """What a request compares: the window's last day (``None``: the last complete day), its days and
    the two shipped events (the query of the API, its CSV and the page)."""

    as_of: date | None
    window: int
    basis: str
    against: str


def comparison(
    as_of: AsOf = None, window: Window = 30, basis: Event = "confirmation", against: Event = "first_scan"
) -> Comparison:
    return Comparison(as_of, window, basis, against)


ComparisonQuery = Annotated[Comparison, Depends(comparison)]


def differences(store, runs, scope, q: Comparison) -> tuple[date | None, pd.DataFrame]:
    """The differing orders of the scoped seller and marketplace, sorted by ship-by day and order id
    (404 without the membership; an empty frame without a warehouse or orders: the membership exists)."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        return None, pd.DataFrame(columns=COLUMNS)
    try:
        day, df = seller_shipped_differences(
            runs.wh, runs.policy, scope.seller_id, scope.marketplace_id, q.as_of, q.window, q.basis, q.against
        )
    except NotFoundError:
        return None, pd.DataFrame(columns=COLUMNS)
    return day, df.sort_values(["ship_by_date", "order_id"], kind="stable")[COLUMNS].reset_index(drop=True)


@router.get("/shipped-basis", response_model=ShippedBasis)
def shipped_basis(
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    q: ComparisonQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ShippedBasis:
    """Every MFN order due in the window that is late under one shipped event and not under the other
    (or left out of one), a page at a time."""
    day, df = differences(store, runs, scope, q)
    total = len(df)
    key = decode(cursor, LIST, 2)
    if key is not None:
        days = df["ship_by_date"].map(date.isoformat) if len(df) else df["ship_by_date"]
        df = df[(days > key[0]) | ((days == key[0]) & (df["order_id"] > key[1]))]
    page = df.head(limit)
    last = page.iloc[-1] if len(df) > limit else None
    return ShippedBasis(
        items=[ShippedOrder(**r) for r in page.to_dict("records")],
        next_cursor=encode(LIST, None if last is None else (last["ship_by_date"], last["order_id"])),
        as_of=day,
        window_days=q.window,
        basis=q.basis,
        against=q.against,
        total=total,
    )


@router.get(
    "/shipped-basis.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every order whose result differs."}},
)
def shipped_basis_csv(
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    q: ComparisonQuery,
) -> Response:
    """Every order whose result differs, as CSV (UTF-8, a header row, ISO days)."""
    _, df = differences(store, runs, scope, q)
    name = f"shipped-{q.basis}-vs-{q.against}-{scope.seller_id}-{scope.marketplace_id}.csv".replace('"', "")
    return Response(
        to_csv(df),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
