"""The ship-by deadline derived from the order time, the cut-off, the handling time and the calendar.

Where a source gives no ship-by (``orders.latest_ship_at`` missing), the deadline of an MFN order is
(all days marketplace-local; the marketplace's :class:`~cxops.deadlines.calendars.DeadlineRule`):

1. **received day**: the local order day; an order placed at or after the cut-off counts as placed the
   next day; a closed day of the seller's calendar (weekend, holiday, non-operating day) counts as the
   next open day (Amazon: "orders received after the cut-off time or on a non-business day are
   considered received on the next business day"; eBay's same-day handling reads the same way).
2. **ship-by day**: with the ``day0`` convention (default) the received day is day 0 and the deadline
   is the ``handling_days``-th open day after it (handling time 1: the next business day); with
   ``day1`` the received day is day 1 (handling time 1: the received day itself; 0 and 1 agree).
3. **carrier pickup**: where the marketplace declares a carrier calendar (``carrier_weekend`` or
   carrier rows in ``calendar_days``), a ship-by day on which carriers do not pick up moves forward
   to the next day open for both the seller and the carriers.
4. **instant**: the ship-by day at the rule's deadline time (default: the cut-off), converted to UTC
   with the marketplace's IANA zone (a time skipped by a daylight-saving change moves forward; a
   repeated one takes the later, standard-time instant).

So with every day open and a handling time of 0, an order placed before the cut-off is due at that
day's cut-off, and one placed after it at the next day's cut-off (property-tested).

The handling time of an order is chosen by the caller (the warehouse query: the largest SKU setting in
force when the order was placed, else the seller's default, else the marketplace's).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from cxops.deadlines.calendars import Calendar, DeadlineRule, marketplace_calendar, seller_calendar

#: Columns of :func:`derive_ship_by`'s result.
DERIVED_COLUMNS = [
    "seller_id",
    "order_id",
    "marketplace_id",
    "handling_days",
    "received_date",
    "ship_by_date",
    "latest_ship_at",
]
#: Calendar days after the last received day covered by a calendar, beyond the handling time (room for
#: a long holiday closure of a seller).
_SLACK_DAYS = 400


def derive_ship_by(
    orders: pd.DataFrame,
    rules: dict[str, DeadlineRule],
    calendar_days: pd.DataFrame | None = None,
    seller_days: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Ship-by deadlines of ``orders`` (vectorised per marketplace and per seller with overrides).

    Parameters
    ----------
    orders : pandas.DataFrame
        ``seller_id, order_id, marketplace_id, purchased_at`` (UTC, tz-naive), ``handling_days``
        (business days, integer ``>= 0``; rows without one are left out).
    rules : dict
        marketplace_id -> :class:`DeadlineRule` (every marketplace of ``orders``).
    calendar_days : pandas.DataFrame, optional
        Canonical ``calendar_days`` rows (``marketplace_id, calendar, day, closed``).
    seller_days : pandas.DataFrame, optional
        Canonical ``seller_calendar_days`` rows (``seller_id, marketplace_id, day, closed``).

    Returns
    -------
    pandas.DataFrame
        :data:`DERIVED_COLUMNS`: ``received_date`` and ``ship_by_date`` are local dates
        (``datetime64[D]``-valued), ``latest_ship_at`` is UTC (tz-naive), one row per order with a
        handling time, in input order.

    Raises
    ------
    KeyError
        If a marketplace has no rule.
    cxops.errors.InputError
        A seller closed for more than a year after an order (no open day to ship on).
    """
    o = orders[orders["handling_days"].notna()]
    parts = []
    for mp, g in o.groupby("marketplace_id", sort=False):
        parts.append(_marketplace(g, rules[mp], calendar_days, seller_days))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, object)) for c in DERIVED_COLUMNS})
    out = pd.concat(parts).loc[o.index]
    return out[DERIVED_COLUMNS].reset_index(drop=True)


_DTYPES = {
    "handling_days": "int64",
    "received_date": "datetime64[s]",
    "ship_by_date": "datetime64[s]",
    "latest_ship_at": "datetime64[us]",
}


def _marketplace(
    g: pd.DataFrame, rule: DeadlineRule, calendar_days: pd.DataFrame | None, seller_days: pd.DataFrame | None
) -> pd.DataFrame:
    local = pd.to_datetime(g["purchased_at"]).dt.tz_localize("UTC").dt.tz_convert(rule.timezone)
    day = local.dt.tz_localize(None).dt.normalize()
    cut = timedelta(hours=rule.cutoff.hour, minutes=rule.cutoff.minute, seconds=rule.cutoff.second)
    after = (local.dt.tz_localize(None) - day) >= cut
    d0 = (day + pd.to_timedelta(after.astype(np.int64), unit="D")).to_numpy().astype("datetime64[D]")
    n = g["handling_days"].astype(np.int64).to_numpy()
    n_eff = n if rule.order_day == "day0" else np.maximum(n - 1, 0)
    start = date.fromisoformat(str(d0.min() - 1))
    end = date.fromisoformat(str(d0.max() + int(n.max()) * 7 + _SLACK_DAYS))
    base = marketplace_calendar(rule, start, end, calendar_days, "public")
    carrier = None
    own_carrier = (
        calendar_days is not None
        and len(calendar_days)
        and (
            (calendar_days["marketplace_id"] == rule.marketplace_id)
            & (calendar_days["calendar"] == "carrier")
        ).any()
    )
    if rule.carrier_weekend is not None or own_carrier:
        carrier = marketplace_calendar(rule, start, end, calendar_days, "carrier")
    received = np.empty(len(g), "datetime64[D]")
    ship = np.empty(len(g), "datetime64[D]")
    mine = None
    if seller_days is not None and len(seller_days):
        mine = seller_days[seller_days["marketplace_id"] == rule.marketplace_id]
    sellers = g["seller_id"].to_numpy()
    groups: list[tuple[np.ndarray, Calendar]] = []
    special = set() if mine is None else set(mine["seller_id"]) & set(sellers)
    if special:
        is_special = np.isin(sellers, list(special))
        groups.append((np.flatnonzero(~is_special), base))
        rows = pd.Series(np.flatnonzero(is_special)).groupby(sellers[is_special]).indices
        where = np.flatnonzero(is_special)
        by_seller = {s: r for s, r in mine[mine["seller_id"].isin(special)].groupby("seller_id")}
        for s in sorted(special):  # one calendar per seller with overrides, never a loop per order
            groups.append((where[rows[s]], seller_calendar(base, by_seller[s])))
    else:
        groups.append((np.arange(len(g)), base))
    for sel, cal in groups:
        if not len(sel):
            continue
        received[sel] = cal.offset(d0[sel], 0)
        due = cal.offset(d0[sel], n_eff[sel])
        if carrier is not None:
            both = Calendar(cal.start, cal.is_open & carrier.is_open)
            due = both.offset(due, 0)
        ship[sel] = due
    t = rule.due_time
    wall = pd.Series(ship, index=g.index).astype("datetime64[us]") + timedelta(
        hours=t.hour, minutes=t.minute, seconds=t.second
    )
    utc = (
        wall.dt.tz_localize(rule.timezone, ambiguous=np.zeros(len(wall), bool), nonexistent="shift_forward")
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
    )
    return pd.DataFrame(
        {
            "seller_id": g["seller_id"],
            "order_id": g["order_id"],
            "marketplace_id": rule.marketplace_id,
            "handling_days": n,
            "received_date": pd.Series(received, index=g.index).astype("datetime64[s]"),
            "ship_by_date": pd.Series(ship, index=g.index).astype("datetime64[s]"),
            "latest_ship_at": utc.astype("datetime64[us]"),
        },
        index=g.index,
    )
