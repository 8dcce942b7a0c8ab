"""Derived ship-by deadlines, ship-by corrections and calendar changes through `cxops import canonical`.

Every expected deadline is hand-computed: US marketplace (America/Los_Angeles, PDT = UTC-7 in summer),
default cut-off 14:00 local, day-0 convention, US federal holidays with observed days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from _wh import value

from cxops.ingest import import_canonical
from cxops.metrics.compute import compute_metrics
from cxops.metrics.deadlines import orders_in_force
from cxops.warehouse import connect

PT = ZoneInfo("America/Los_Angeles")


def _write(d: Path, tables: dict[str, list[dict]]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(d / f"{name}.csv", index=False)
    return d


def _order(oid, purchased, channel="MFN", **kw):
    return {
        "seller_id": "S1",
        "order_id": oid,
        "marketplace_id": "US",
        "purchased_at": purchased,
        "fulfillment_channel": channel,
        **kw,
    }


def _utc(local: datetime) -> str:
    return local.replace(tzinfo=PT).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _shipped(oid: str, at: str) -> dict:
    return {"seller_id": "S1", "order_id": oid, "shipment_id": "1", "confirmed_at": at}


def _handling(sku: str, since: str, days: int) -> dict:
    return {
        "seller_id": "S1",
        "marketplace_id": "US",
        "sku": sku,
        "effective_from": f"{since}T00:00:00Z",
        "handling_days": days,
    }


def _base(tmp_path: Path) -> Path:
    items = [("O1", "A"), ("O2", "A"), ("O3", "B"), ("O4", "A"), ("O4", "B")]
    return _write(
        tmp_path / "base",
        {
            "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
            "orders": [
                _order("O1", "2026-06-29T16:00:00Z"),  # Mon 09:00 PDT, SKU A: 3 days (new setting)
                _order("O2", "2026-05-29T16:00:00Z"),  # Fri 09:00 PDT, SKU A: 1 day (setting then)
                _order("O3", "2026-07-02T16:00:00Z"),  # Thu 09:00, SKU B: seller default 2 days
                _order("O4", "2026-07-02T16:00:00Z"),  # SKUs A and B: the larger, 3 days
                _order("O5", "2026-07-01T16:00:00Z", latest_ship_at="2026-07-03T06:00:00Z"),  # source
                _order("O6", "2026-07-01T16:00:00Z", channel="AFN"),
            ],
            "order_items": [
                {"seller_id": "S1", "order_id": o, "line_id": f"{o}-{s}", "sku": s} for o, s in items
            ],
            "shipments": [_shipped("O1", "2026-07-02T20:00:00Z"), _shipped("O3", "2026-07-07T22:00:00Z"),
                          _shipped("O5", "2026-07-02T20:00:00Z")],
            "handling_times": [_handling("A", "2026-01-01", 1), _handling("A", "2026-06-01", 3),
                               _handling("*", "2026-01-01", 2)],
        },
    )  # fmt: skip


def test_derived_ship_by_uses_the_setting_in_force_and_the_calendar(wh, tmp_path):
    rep = import_canonical(wh, _base(tmp_path))
    d = wh.execute(wh.table("ship_by_derived")).set_index("order_id").sort_index()
    assert list(d.index) == ["O1", "O2", "O3", "O4"]  # not O5 (source deadline) nor O6 (AFN)
    assert list(d["handling_days"]) == [3, 1, 2, 3]
    assert list(d["handling_source"]) == ["sku", "sku", "seller", "sku"]
    # O1 Mon + 3 = Thu 2 July; O2 Fri + 1 = Mon 1 June; O3 Thu + 2 skips Fri 3 July (observed
    # Independence Day) and the weekend = Tue 7 July; O4 Thu + 3 = Wed 8 July; 14:00 PDT = 21:00Z
    assert [pd.Timestamp(x) for x in d["latest_ship_at"]] == [
        pd.Timestamp("2026-07-02 21:00"),
        pd.Timestamp("2026-06-01 21:00"),
        pd.Timestamp("2026-07-07 21:00"),
        pd.Timestamp("2026-07-08 21:00"),
    ]
    assert date(2026, 7, 7) in rep.changes["ship_by_derived"].days
    assert "ship-by deadlines derived for 4 MFN order(s)" in " ".join(rep.notes)
    # the late shipment rate reads the derived deadlines: O3 confirmed an hour late, O4 never shipped
    df = compute_metrics(wh, date(2026, 7, 10))
    r = value(df, "late_shipment_rate", window=10, channel="mfn")
    assert (r["numerator"], r["denominator"]) == (2, 4)  # O1, O3, O4, O5 due 1..10 July


def test_ship_by_correction_restates_the_10_and_30_day_windows(wh, tmp_path):
    import_canonical(wh, _base(tmp_path))
    before = compute_metrics(wh, date(2026, 7, 10))
    for w in (10, 30):
        r = value(before, "late_shipment_rate", window=w, channel="mfn")
        assert (r["numerator"], r["denominator"]) == (2, 4)
    corr = _write(
        tmp_path / "corr",
        {
            "ship_by_corrections": [
                {
                    "seller_id": "S1",
                    "order_id": "O3",
                    "corrected_at": "2026-07-09T10:00:00Z",
                    "old_latest_ship_at": "2026-07-07T21:00:00Z",
                    "new_latest_ship_at": "2026-07-08T21:00:00Z",
                    "corrected_by": "marketplace",
                    "reason": "carrier pickup failure",
                }
            ]
        },
    )
    rep = import_canonical(wh, corr)  # corrections alone: no orders or sellers needed
    assert {date(2026, 7, 7), date(2026, 7, 8)} <= set(rep.changes["ship_by_corrections"].days)
    after = compute_metrics(wh, date(2026, 7, 10))
    for w in (10, 30):
        r = value(after, "late_shipment_rate", window=w, channel="mfn")
        assert (r["numerator"], r["denominator"]) == (1, 4)  # O3 is on time against its new deadline
    o = wh.execute(orders_in_force(wh)).set_index("order_id")  # what explain and evidence bundles show
    assert pd.Timestamp(o.loc["O3", "latest_ship_at"]) == pd.Timestamp("2026-07-08 21:00")  # corrected
    assert pd.Timestamp(o.loc["O1", "latest_ship_at"]) == pd.Timestamp("2026-07-02 21:00")  # derived
    assert pd.Timestamp(o.loc["O5", "latest_ship_at"]) == pd.Timestamp("2026-07-03 06:00")  # the source's
    assert pd.isna(o.loc["O6", "latest_ship_at"])  # AFN: none
    # a later correction wins; the source's own deadline is corrected too
    corr2 = _write(
        tmp_path / "corr2",
        {
            "ship_by_corrections": [
                {"seller_id": "S1", "order_id": "O5", "corrected_at": "2026-07-09T11:00:00Z",
                 "new_latest_ship_at": "2026-07-02T18:00:00Z", "corrected_by": "operator:alice"},
                {"seller_id": "S1", "order_id": "O3", "corrected_at": "2026-07-09T12:00:00Z",
                 "new_latest_ship_at": "2026-07-07T21:00:00Z", "corrected_by": "operator:alice",
                 "reason": "correction withdrawn"},
            ]
        },
    )  # fmt: skip
    import_canonical(wh, corr2)
    r = value(compute_metrics(wh, date(2026, 7, 10)), "late_shipment_rate", window=10, channel="mfn")
    assert (r["numerator"], r["denominator"]) == (3, 4)  # O3 late again, O5 now late (20:00Z > 18:00Z)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def test_a_holiday_added_after_orders_were_placed_recomputes_open_deadlines_only(wh, tmp_path):
    today = datetime.now(UTC).date()
    future = _monday(today) + timedelta(days=21)  # a Monday three weeks ahead
    past = _monday(today) - timedelta(days=21)  # a Monday three weeks ago: its deadline has passed
    base = _write(
        tmp_path / "base",
        {
            "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
            "orders": [
                _order("F1", _utc(datetime.combine(future, time(9)))),
                _order("P1", _utc(datetime.combine(past, time(9)))),
            ],
            # weekends only (public holidays do not move deadlines), 1 business day for every order
            "deadline_rules": [{"marketplace_id": "US", "skip_holidays": False, "default_handling_days": 1}],
        },
    )
    import_canonical(wh, base)
    d = wh.execute(wh.table("ship_by_derived")).set_index("order_id")
    assert d.loc["F1", "ship_by_date"] == pd.Timestamp(future + timedelta(days=1))  # Tuesday
    assert d.loc["P1", "ship_by_date"] == pd.Timestamp(past + timedelta(days=1))
    assert set(d["handling_source"]) == {"marketplace"}
    cal = _write(
        tmp_path / "cal",
        {
            "calendar_days": [
                {"marketplace_id": "US", "calendar": "public", "day": str(future + timedelta(days=1)),
                 "closed": True, "name": "declared holiday"},
                {"marketplace_id": "US", "calendar": "public", "day": str(past + timedelta(days=1)),
                 "closed": True, "name": "declared holiday"},
            ]
        },
    )  # fmt: skip
    import_canonical(wh, cal)
    d = wh.execute(wh.table("ship_by_derived")).set_index("order_id")
    assert d.loc["F1", "ship_by_date"] == pd.Timestamp(future + timedelta(days=2))  # Wednesday
    assert d.loc["P1", "ship_by_date"] == pd.Timestamp(past + timedelta(days=1))  # final: unchanged
    log = wh.execute(wh.table("deadline_changes"))
    assert list(log["order_id"]) == ["F1"]
    due = lambda day: pd.Timestamp(_utc(datetime.combine(day, time(14))).rstrip("Z"))  # noqa: E731
    assert pd.Timestamp(log["old_latest_ship_at"][0]) == due(future + timedelta(days=1))
    assert pd.Timestamp(log["new_latest_ship_at"][0]) == due(future + timedelta(days=2))
    assert "calendar_days" in log["reason"][0]
    # importing the same calendar again changes nothing and logs nothing
    import_canonical(wh, cal)
    assert len(wh.execute(wh.table("deadline_changes"))) == 1


def test_seller_holiday_mode_moves_a_deadline_off_a_non_operating_day(wh, tmp_path):
    base = _base(tmp_path)
    _write(
        base,
        {
            "seller_calendar_days": [
                {"seller_id": "S1", "marketplace_id": "US", "day": "2026-07-02", "closed": True,
                 "reason": "holiday mode"},
            ]
        },
    )  # fmt: skip
    import_canonical(wh, base)
    d = wh.execute(wh.table("ship_by_derived")).set_index("order_id")
    # O1 Mon + 3 business days would end on Thu 2 July, a non-operating day: Tue, Wed, Mon 6 July
    assert pd.Timestamp(d.loc["O1", "latest_ship_at"]) == pd.Timestamp("2026-07-06 21:00")
    # O3 placed on the closed Thursday counts as received Mon 6 July: + 2 = Wed 8 July
    assert pd.Timestamp(d.loc["O3", "latest_ship_at"]) == pd.Timestamp("2026-07-08 21:00")


def test_without_deadline_tables_nothing_is_derived(wh, tmp_path):
    base = _base(tmp_path)
    (base / "handling_times.csv").unlink()
    import_canonical(wh, base)
    assert not wh.has_table("ship_by_derived")
    df = compute_metrics(wh, date(2026, 7, 10))
    r = value(df, "late_shipment_rate", window=10, channel="mfn")
    assert (r["numerator"], r["denominator"]) == (0, 1)  # only O5 has a deadline


def test_a_bad_rule_stops_the_import_with_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from cxops.cli import app

    url = str(tmp_path / "wh.duckdb")
    base = _base(tmp_path)
    _write(base, {"deadline_rules": [{"marketplace_id": "US", "cutoff": "25:00"}]})
    res = CliRunner().invoke(app, ["--warehouse", url, "import", "canonical", str(base)])
    assert res.exit_code == 1
    assert "Traceback" not in res.output and "internal error" not in res.output
    assert "deadline_rules, marketplace US, cutoff: '25:00' is not a time of day" in res.output
    assert "nothing was imported" in res.output
    w = connect(url)
    try:
        assert not w.has_table("orders")  # all or nothing
    finally:
        w.close()


def test_rules_imported_before_any_order_apply_to_later_orders(wh, tmp_path):
    rule = {"marketplace_id": "US", "cutoff": "10:00", "order_day": "day1", "default_handling_days": 2}
    rules = _write(tmp_path / "rules", {"deadline_rules": [rule]})
    import_canonical(wh, rules)  # an empty warehouse: the built-in US marketplace gives the calendar
    orders = _write(
        tmp_path / "orders",
        {
            "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
            "orders": [_order("A", "2026-06-29T16:30:00Z")],  # Mon 09:30 PDT, before the 10:00 cut-off
        },
    )
    import_canonical(wh, orders)
    d = wh.execute(wh.table("ship_by_derived")).iloc[0]
    # day 1 = Monday, 2 days: Tuesday 30 June at the 10:00 cut-off (17:00Z)
    assert pd.Timestamp(d["latest_ship_at"]) == pd.Timestamp("2026-06-30 17:00")


def test_a_source_without_ship_by_dates_is_measured_on_derived_deadlines(wh, tmp_path):
    base = _base(tmp_path)
    orders = pd.read_csv(base / "orders.csv")
    orders = orders[orders["order_id"] != "O5"].drop(columns=["latest_ship_at"])  # like Amazon's flat file
    orders.to_csv(base / "orders.csv", index=False)
    shipments = pd.read_csv(base / "shipments.csv")
    shipments[shipments["order_id"] != "O5"].to_csv(base / "shipments.csv", index=False)
    import_canonical(wh, base)
    assert "latest_ship_at" not in wh.provided_columns("orders")
    r = value(compute_metrics(wh, date(2026, 7, 10)), "late_shipment_rate", window=10, channel="mfn")
    assert (r["numerator"], r["denominator"]) == (2, 3)  # O1 on time, O3 and O4 late
