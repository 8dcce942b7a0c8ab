"""Calendars and derived ship-by deadlines (cxops.deadlines), hand-computed from published rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxops.deadlines.calendars import (
    DeadlineRule,
    build_calendar,
    deadline_rules,
    marketplace_calendar,
    public_holidays,
    weekend_days,
)
from cxops.deadlines.shipby import derive_ship_by
from cxops.errors import InputError

US = DeadlineRule("US", "America/Los_Angeles", "US", weekend_days("SAT,SUN"))
D = np.datetime64


def _ship_by(rule, purchased_local: list[str], handling, seller_days=None, calendar_days=None):
    """Derive deadlines of orders placed at the given marketplace-local wall times; return local dates
    and UTC instants."""
    local = pd.to_datetime(pd.Series(purchased_local)).dt.tz_localize(rule.timezone)
    utc = local.dt.tz_convert("UTC").dt.tz_localize(None)
    n = len(purchased_local)
    orders = pd.DataFrame(
        {
            "seller_id": ["s1"] * n,
            "order_id": [f"o{i}" for i in range(n)],
            "marketplace_id": [rule.marketplace_id] * n,
            "purchased_at": utc,
            "handling_days": handling if isinstance(handling, list) else [handling] * n,
        }
    )
    out = derive_ship_by(orders, {rule.marketplace_id: rule}, calendar_days, seller_days)
    return [d.date() for d in out["ship_by_date"]], out


def test_weekend_strings():
    assert weekend_days("SAT,SUN") == {5, 6}
    assert weekend_days("sun") == {6}  # Amazon.in: a Monday–Saturday week
    assert weekend_days(None) == {5, 6}
    with pytest.raises(InputError, match="not a weekday"):
        weekend_days("SAT,SONNTAG")


def test_observed_holiday_us_july_4_2026_on_saturday_is_friday():
    hol = public_holidays("US", None, 2026, 2026)
    assert D("2026-07-03") in hol and D("2026-07-04") in hol
    cal = marketplace_calendar(US, date(2026, 6, 1), date(2026, 7, 31))
    # Thu 2 July, Fri 3 July (observed), Sat, Sun, Mon 6 July
    assert list(cal.open_on(np.arange(D("2026-07-02"), D("2026-07-07")))) == [True, False, False, False, True]


def test_offset_matches_numpy_busday_offset_without_overrides():
    hol = public_holidays("US", None, 2026, 2027)
    cal = build_calendar(date(2026, 1, 1), date(2027, 12, 31), frozenset({5, 6}), hol)
    days = np.arange(D("2026-01-01"), D("2027-06-01"))
    n = np.arange(len(days)) % 6
    expected = np.busday_offset(days, n, roll="forward", weekmask="1111100", holidays=hol)
    assert (cal.offset(days, n) == expected).all()


def test_weekend_and_holiday_orders_day0():
    # handling 1 day, cut-off 14:00 Pacific
    got, out = _ship_by(
        US,
        [
            "2026-06-29 09:00",  # Mon before cut-off: received Mon, due Tue 30 June
            "2026-06-29 15:00",  # Mon after cut-off: received Tue, due Wed 1 July
            "2026-07-02 10:00",  # Thu: due next business day = Mon 6 July (Fri 3 observed holiday)
            "2026-07-04 10:00",  # Sat (holiday): received Mon 6, due Tue 7 July
            "2026-07-05 23:30",  # Sun after cut-off: received Mon 6, due Tue 7 July
        ],
        1,
    )
    assert got == [date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 6), date(2026, 7, 7), date(2026, 7, 7)]
    assert [d.date() for d in out["received_date"]] == [
        date(2026, 6, 29),
        date(2026, 6, 30),
        date(2026, 7, 2),
        date(2026, 7, 6),
        date(2026, 7, 6),
    ]
    # the deadline instant is 14:00 Pacific daylight time (UTC-7) on the ship-by day
    assert out["latest_ship_at"][0] == datetime(2026, 6, 30, 21, 0)


def test_day0_vs_day1():
    day1 = DeadlineRule("US", "America/Los_Angeles", "US", frozenset({5, 6}), order_day="day1")
    placed = ["2026-06-29 09:00"] * 4  # Monday before the cut-off
    got0, _ = _ship_by(US, placed, [0, 1, 2, 3])
    got1, _ = _ship_by(day1, placed, [0, 1, 2, 3])
    assert got0 == [date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2)]
    # day 1 is the received day: handling 1 = Monday itself; 3 = Wednesday; 0 as 1
    assert got1 == [date(2026, 6, 29), date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 1)]


def test_weekends_only_marketplace_ignores_holidays():
    rule = DeadlineRule("US", "America/Los_Angeles", "US", frozenset({5, 6}), skip_holidays=False)
    got, _ = _ship_by(rule, ["2026-07-02 10:00"], 1)
    assert got == [date(2026, 7, 3)]  # the observed holiday is a business day here


def test_monday_to_saturday_week():
    rule = DeadlineRule("IN", "Asia/Kolkata", "IN", weekend_days("SUN"), skip_holidays=False)
    got, _ = _ship_by(rule, ["2026-06-26 10:00", "2026-06-27 10:00"], 1)  # Fri, Sat
    assert got == [date(2026, 6, 27), date(2026, 6, 29)]  # Sat is a working day; Sun is not


def test_seller_overrides_close_and_open_days():
    closed = pd.DataFrame(
        {
            "seller_id": ["s1", "s1", "s1"],
            "marketplace_id": ["US"] * 3,
            "day": pd.to_datetime(["2026-06-30", "2026-07-01", "2026-07-03"]),
            "closed": [True, True, False],  # holiday mode Tue–Wed; works the observed holiday
        }
    )
    got, _ = _ship_by(US, ["2026-06-29 09:00", "2026-07-02 10:00"], 1, seller_days=closed)
    # Mon + 1 business day: Tue and Wed are closed -> Thu 2 July; Thu + 1: Fri 3 (worked)
    assert got == [date(2026, 7, 2), date(2026, 7, 3)]
    other = closed.assign(seller_id="s2")  # another seller's overrides change nothing for s1
    got, _ = _ship_by(US, ["2026-06-29 09:00"], 1, seller_days=other)
    assert got == [date(2026, 6, 30)]


def test_deadline_on_a_non_operating_day_moves_to_the_next_open_day():
    closed = pd.DataFrame(
        {"seller_id": ["s1"], "marketplace_id": ["US"], "day": [pd.Timestamp("2026-06-30")], "closed": [True]}
    )
    got, _ = _ship_by(US, ["2026-06-29 09:00"], [1], seller_days=closed)
    assert got == [date(2026, 7, 1)]


def test_marketplace_extra_closed_day_and_carrier_calendar():
    days = pd.DataFrame(
        {
            "marketplace_id": ["US", "US"],
            "calendar": ["public", "carrier"],
            "day": pd.to_datetime(["2026-06-30", "2026-07-07"]),
            "closed": [True, True],
        }
    )
    got, _ = _ship_by(US, ["2026-06-29 09:00", "2026-07-06 09:00"], 1, calendar_days=days)
    # a declared closure on Tue 30 June -> Wed; a carrier holiday on Tue 7 July -> Wed 8 July
    assert got == [date(2026, 7, 1), date(2026, 7, 8)]


def test_subdivision_holiday():
    de_by = DeadlineRule("DE", "Europe/Berlin", "DE", frozenset({5, 6}), subdivision="BY")
    de = DeadlineRule("DE", "Europe/Berlin", "DE", frozenset({5, 6}))
    placed = ["2026-01-05 10:00"]  # Monday; Tue 6 January is Epiphany in Bavaria only
    assert _ship_by(de_by, placed, 1)[0] == [date(2026, 1, 7)]
    assert _ship_by(de, placed, 1)[0] == [date(2026, 1, 6)]


def test_rules_from_tables_and_errors():
    mps = pd.DataFrame({"marketplace_id": ["US"], "timezone": ["America/Los_Angeles"], "country": ["US"]})
    rules = pd.DataFrame({"marketplace_id": ["US"], "cutoff": ["11:30"], "order_day": ["day1"]})
    r = deadline_rules(mps, rules)["US"]
    assert (r.cutoff, r.order_day, r.due_time, r.skip_holidays) == (time(11, 30), "day1", time(11, 30), True)
    with pytest.raises(InputError, match="deadline_rules, marketplace US, cutoff"):
        deadline_rules(mps, rules.assign(cutoff="half past two"))
    with pytest.raises(InputError, match="order_day"):
        deadline_rules(mps, rules.assign(order_day="day2"))
    with pytest.raises(InputError, match="no calendar for country"):
        deadline_rules(mps.assign(country="XX"), None)


_every_day_open = DeadlineRule(
    "T", "America/New_York", "US", frozenset(), skip_holidays=False, cutoff=time(15, 0)
)


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_zero_handling_without_closed_days_is_the_order_days_cutoff(day, minute):
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    if time(1, 0) <= wall.time() < time(3, 0):
        return  # wall times skipped or repeated by a DST change are not one instant
    got, out = _ship_by(_every_day_open, [wall.strftime("%Y-%m-%d %H:%M")], 0)
    expected_day = day if wall.time() < time(15, 0) else day + timedelta(days=1)
    assert got == [expected_day]
    due = pd.Timestamp(datetime.combine(expected_day, time(15, 0))).tz_localize("America/New_York")
    assert out["latest_ship_at"][0] == due.tz_convert("UTC").tz_localize(None)


def test_unknown_subdivision_is_a_clear_error():
    with pytest.raises(InputError, match="subdivision 'ZZ'"):
        public_holidays("US", "ZZ", 2026, 2026)


@settings(max_examples=40, deadline=None)
@given(
    mask=st.lists(st.booleans(), min_size=7, max_size=7).filter(any),
    closed=st.lists(st.integers(0, 200), max_size=20),
    starts=st.lists(st.integers(0, 150), min_size=1, max_size=30),
    n=st.integers(0, 10),
)
def test_offset_equals_numpy_busday_offset(mask, closed, starts, n):
    start = D("2026-01-01")
    hol = np.unique(start + np.array(closed, dtype=np.int64)) if closed else np.array([], "datetime64[D]")
    weekend = frozenset(i for i, open_ in enumerate(mask) if not open_)
    cal = build_calendar(date(2026, 1, 1), date(2027, 12, 31), weekend, hol)
    days = start + np.array(starts, dtype=np.int64)
    weekmask = "".join("1" if m else "0" for m in mask)
    expected = np.busday_offset(days, n, roll="forward", weekmask=weekmask, holidays=hol)
    assert (cal.offset(days, n) == expected).all()
