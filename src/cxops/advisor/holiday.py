"""Holiday planner: a seller's closure ``FROM … TO`` (marketplace-local days, inclusive) against the ship-by
deadlines (``cxops advise holiday``).

* **Ship before**: the open MFN orders (no ship confirmation, not cancelled) whose ship-by day falls in
  the closure; each must be confirmed by the end of the **latest safe ship day**: the last open day of
  the seller's calendar before ``FROM`` (not after its own ship-by day).
* **Holiday mode**: an order placed at instant ``t`` counts as received on the open day ``r(t)``
  (cut-off, weekends, holidays and the seller's overrides; :mod:`cxops.deadlines.shipby`) and is due
  ``h`` open days later. The received days whose deadline, for any handling time ``h`` in use, falls
  in the closure form one run ``r1 … r2`` (deadlines grow with the received day). No order received in
  that run may arrive: holiday mode goes **on** at the cut-off of the last open day before ``r1`` (an
  order placed after it is received on ``r1`` at the earliest) and **off** at the cut-off of ``r2``
  (an order placed after it is received after ``r2``, so due after the closure). A closure already in
  the seller's calendar (``seller_calendar_days``) moves the deadlines past it: then no received day is
  due inside and holiday mode is not needed for the deadlines.
* **Effect if nothing is done** on the late shipment rate of the 10- and 30-day windows ending on
  ``TO`` (the engine's windows: ship-by days ``TO - (N - 1) … TO``, :mod:`cxops.metrics.records`):
  orders already due are counted as the engine flags them; the open orders due in the closure are late;
  the other open orders are assumed shipped on time; new orders are expected at the seller's average
  daily MFN orders (``daily_orders``) with the typical handling time, late when due inside the closure.
  "As planned": the open orders shipped before, no new order due inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from cxops.deadlines.calendars import Calendar, DeadlineRule
from cxops.deadlines.shipby import derive_ship_by
from cxops.errors import InputError

#: The late shipment rate's windows the planner projects (the catalog's windows of the metric).
WINDOWS = (10, 30)


@dataclass
class ShipBefore:
    """An open order due in the closure."""

    marketplace_id: str
    order_id: str
    purchased_at: datetime
    latest_ship_at: datetime
    ship_by_day: date
    ship_on_or_before: date | None  # None: no open day left before the closure (ship now)


@dataclass
class HolidayMode:
    """When to switch holiday mode on and off on one marketplace (local instants and UTC)."""

    marketplace_id: str
    needed: bool
    on_local: datetime | None = None
    off_local: datetime | None = None
    on_utc: datetime | None = None
    off_utc: datetime | None = None
    first_received: date | None = None  # r1
    last_received: date | None = None  # r2
    handling_days: tuple[int, ...] = ()
    already_due: bool = False  # the switch-on instant is before the as-of day's end: switch on now


@dataclass
class WindowEffect:
    """The late shipment rate of the window of ``days`` ending on the closure's last day."""

    days: int
    first_day: date
    last_day: date
    orders_nothing: float  # orders due in the window (recorded + expected new)
    late_nothing: float
    orders_planned: float  # without the new orders holiday mode keeps out
    late_planned: float

    @property
    def rate_nothing(self) -> float | None:
        return self.late_nothing / self.orders_nothing if self.orders_nothing else None

    @property
    def rate_planned(self) -> float | None:
        return self.late_planned / self.orders_planned if self.orders_planned else None


@dataclass
class HolidayPlan:
    seller_id: str
    as_of: date
    closed_from: date
    closed_to: date
    ship_before: list[ShipBefore] = field(default_factory=list)
    modes: list[HolidayMode] = field(default_factory=list)
    effects: list[WindowEffect] = field(default_factory=list)
    daily_orders: float = 0.0
    rate_days: int = 30  # days behind daily_orders
    typical_handling: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_closure(text: str) -> tuple[date, date]:
    """``"2026-12-21..2027-01-01"`` -> the two days (inclusive).

    Raises
    ------
    InputError
        Not two ISO days joined by ``..``, or the end before the start.
    """
    parts = str(text).split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = date.fromisoformat(parts[0].strip()), date.fromisoformat(parts[1].strip())
    except ValueError:
        raise InputError(
            f"--closed {text!r} is not FROM..TO", hint="write two days, e.g. --closed 2026-12-21..2027-01-01"
        ) from None
    if hi < lo:
        raise InputError(f"--closed {text!r}: the last day is before the first")
    return lo, hi


def last_open_before(cal: Calendar, day: date) -> date | None:
    """The last open day of ``cal`` strictly before ``day`` (``None``: none in the calendar)."""
    i = int((np.datetime64(day, "D") - cal.start).astype(np.int64))
    opens = np.flatnonzero(cal.is_open[: max(i, 0)])
    return None if not len(opens) else (cal.start + opens[-1]).astype(object)


def ship_before(
    open_orders: pd.DataFrame, calendars: dict[str, Calendar], lo: date, hi: date
) -> list[ShipBefore]:
    """The open orders whose ``ship_by_day`` (local) is in ``lo … hi``, with their latest safe ship day.

    ``open_orders``: ``marketplace_id, order_id, purchased_at, latest_ship_at, ship_by_day``.
    """
    o = open_orders[(open_orders["ship_by_day"] >= lo) & (open_orders["ship_by_day"] <= hi)]
    o = o.sort_values(["marketplace_id", "latest_ship_at", "order_id"])
    last = {mp: last_open_before(cal, lo) for mp, cal in calendars.items()}
    return [
        ShipBefore(
            r.marketplace_id,
            r.order_id,
            pd.Timestamp(r.purchased_at).to_pydatetime(),
            pd.Timestamp(r.latest_ship_at).to_pydatetime(),
            r.ship_by_day,
            last.get(r.marketplace_id),
        )
        for r in o.itertuples()
    ]


def holiday_mode(
    seller_id: str,
    rule: DeadlineRule,
    cal: Calendar,
    calendar_days: pd.DataFrame | None,
    seller_days: pd.DataFrame | None,
    handling: list[int],
    as_of: date,
    lo: date,
    hi: date,
) -> HolidayMode:
    """When to switch holiday mode on and off (see the module docstring), for the handling times in use."""
    hs = tuple(sorted(set(int(h) for h in handling)))
    mode = HolidayMode(rule.marketplace_id, needed=False, handling_days=hs)
    if not hs:
        return mode
    zone = ZoneInfo(rule.timezone)
    start = min(as_of, lo) - timedelta(days=7 * (max(hs) + 2) + 14)
    days = [start + timedelta(days=i) for i in range((hi - start).days + 1)]
    grid = pd.DataFrame(
        [
            (
                seller_id,
                f"{d}/{h}",
                rule.marketplace_id,
                to_utc(datetime(d.year, d.month, d.day, 0, 1), zone),
                h,
            )
            for h in hs
            for d in days
        ],
        columns=["seller_id", "order_id", "marketplace_id", "purchased_at", "handling_days"],
    )
    due = derive_ship_by(grid, {rule.marketplace_id: rule}, calendar_days, seller_days)
    rec = due["received_date"].dt.date
    sb = due["ship_by_date"].dt.date
    inside = (sb >= lo) & (sb <= hi)
    if not inside.any():
        return mode
    r1, r2 = rec[inside].min(), rec[inside].max()
    prev = last_open_before(cal, r1)
    cut = rule.cutoff
    on = datetime.combine(prev, cut) if prev is not None else None
    off = datetime.combine(r2, cut)
    mode.needed = True
    mode.first_received, mode.last_received = r1, r2
    mode.on_local, mode.off_local = on, off
    mode.on_utc = None if on is None else to_utc(on, zone)
    mode.off_utc = to_utc(off, zone)
    mode.already_due = on is None or on.date() <= as_of
    return mode


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def effects(
    population: pd.DataFrame,
    open_orders: pd.DataFrame,
    expected: pd.DataFrame,
    lo: date,
    hi: date,
    windows: tuple[int, ...] = WINDOWS,
) -> list[WindowEffect]:
    """The late shipment rate of each window ending on ``hi``, if nothing is done and as planned.

    Parameters
    ----------
    population : pandas.DataFrame
        The engine's late-shipment records of the seller (``order_id, day, f_late``), ``day`` the local
        ship-by day, open orders included; ``past_due`` (bool): open and due by the as-of day (late
        whatever is done).
    open_orders : pandas.DataFrame
        ``order_id`` of the open orders (no confirmation, not cancelled).
    expected : pandas.DataFrame
        Expected new orders: ``ship_by_day`` (local) and ``orders`` (float).
    """
    out = []
    open_ids = set(open_orders["order_id"])
    pop = population.assign(open=population["order_id"].isin(open_ids))
    in_closure = (pop["day"] >= lo) & (pop["day"] <= hi)
    for n in windows:
        first = hi - timedelta(days=n - 1)
        w = pop[(pop["day"] >= first) & (pop["day"] <= hi)]
        wc = in_closure.loc[w.index]
        done = w[~w["open"]]
        # open orders: late if due in the closure (nothing done) or already past due at the as-of day
        opened = w[w["open"]]
        opened_late_past = int(opened["past_due"].sum()) if "past_due" in opened else 0
        late_nothing = int(done["f_late"].sum()) + int((w["open"] & wc).sum()) + opened_late_past
        late_planned = int(done["f_late"].sum()) + opened_late_past
        e = expected[(expected["ship_by_day"] >= first) & (expected["ship_by_day"] <= hi)]
        e_in = e[(e["ship_by_day"] >= lo) & (e["ship_by_day"] <= hi)]
        expected_all, expected_in = float(e["orders"].sum()), float(e_in["orders"].sum())
        out.append(
            WindowEffect(
                n,
                first,
                hi,
                orders_nothing=len(w) + expected_all,
                late_nothing=late_nothing + expected_in,
                orders_planned=len(w) + expected_all - expected_in,
                late_planned=float(late_planned),
            )
        )
    return out
