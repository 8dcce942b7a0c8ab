"""Alerts of the daily job: the projected breach by hand, new defect records and level crossings."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from _store import store, store_url  # noqa: F401
from _wh import warehouse
from test_metrics_cases import c9_tables

from cxops.notify.messages import ALERT_KINDS as NOTIFY_KINDS
from cxops.service.alerts import level_alerts, project_breach
from cxops.store import ALERT_KINDS


def test_alert_kinds_are_the_notification_kinds():
    assert ALERT_KINDS == NOTIFY_KINDS


# A 10-day window: 10 orders a day for 5 days, then 2 a day; one defect on day 6 (offset 5).
ORDERS = np.array([[10, 10, 10, 10, 10, 2, 2, 2, 2, 2]])
DEFECTS = np.array([[0, 0, 0, 0, 0, 1, 0, 0, 0, 0]])


def test_projected_breach_by_hand():
    # now: 1/60 = 1.67 % within the 2 % limit. New orders: 2 a day (last 5 days). Day k ahead (k <= 5):
    # 60 - 10k + 2k orders, the defect still in: k=1 -> 1/52 = 1.92 %, k=2 -> 1/44 = 2.27 % > 2 %.
    p = project_breach(ORDERS, DEFECTS, 0.02, ">", recent_days=5, horizon=10)
    assert p.days_ahead.tolist() == [2]
    assert p.denominator[0] == pytest.approx(44) and p.numerator[0] == 1
    assert p.value[0] == pytest.approx(1 / 44)
    # within the limit again with 1/(44 + x) <= 0.02: x >= 6
    assert p.orders_needed.tolist() == [6]
    # ">=" (a breach at the limit itself): 1/(44 + x) < 0.02 needs x >= 7
    assert project_breach(ORDERS, DEFECTS, 0.02, ">=", recent_days=5, horizon=10).orders_needed.tolist() == [
        7
    ]


def test_no_projection_below_the_minimum_denominator_or_when_already_in_breach():
    # 44 orders on day 2 is below a minimum of 45: insufficient data, not a breach; by day 6 the defect
    # has rolled off
    p = project_breach(ORDERS, DEFECTS, 0.02, ">", min_denominator=45, recent_days=5, horizon=10)
    assert p.days_ahead.tolist() == [-1] and np.isnan(p.value[0])
    # already over the limit today (1/60 > 1 %): nothing is projected, the lifecycle judges it
    assert project_breach(ORDERS, DEFECTS, 0.01, ">", recent_days=5).days_ahead.tolist() == [-1]
    # steady volume: the rate never rises, no alert
    flat = np.full((1, 10), 10)
    assert project_breach(flat, DEFECTS, 0.02, ">", recent_days=5).days_ahead.tolist() == [-1]


def test_level_alerts_carry_the_finding():
    events = pd.DataFrame(
        {
            "seller_id": ["S1", "S2"], "marketplace_id": ["US", "US"], "date": [date(2026, 10, 3)] * 2,
            "kind": ["alert", "transition"], "rule_id": ["odr", None], "metric": ["order_defect_rate", None],
            "value": [0.012, None], "threshold": [0.01, None], "operator": [">", None],
            "numerator": [3.0, np.nan], "denominator": [250.0, np.nan], "window_days": [60, None],
            "as_of": [date(2026, 10, 2)] * 2, "reason": ["alert level crossed", "x"],
            "reason_key": ["alert_crossed", "admitted"],
        }
    )  # fmt: skip
    a = level_alerts(events, "p")
    assert len(a) == 1
    row = a.iloc[0]
    assert (row.seller_id, row.kind, row.rule_id, row.value, row.numerator, row.denominator) == (
        "S1", "alert_level", "odr", 0.012, 3.0, 250.0)  # fmt: skip
    assert row.evidence["as_of"] == "2026-10-02"
    # the key is stable (a rerun writes nothing twice) and differs per rule and day
    assert level_alerts(events, "p").idempotency_key.tolist() == a.idempotency_key.tolist()
    other = events.assign(date=[date(2026, 10, 3) + timedelta(days=1)] * 2)
    assert level_alerts(other, "p").idempotency_key.iloc[0] != row.idempotency_key


def test_new_defect_records_on_their_local_day():
    from cxops.metrics.compute import load_inputs
    from cxops.metrics.options import MetricOptions
    from cxops.service.alerts import record_alerts, record_alerts_expr

    wh = warehouse(c9_tables())
    inp = load_inputs(wh, MetricOptions())
    members = pd.DataFrame({"seller_id": ["S1"], "marketplace_id": ["US"]})

    def on(day):
        rows = wh.execute(record_alerts_expr(inp, day, day))
        a = record_alerts(rows, "p", members)
        return sorted(zip(a.kind, a.order_id, a.rating, strict=True)) if len(a) else []

    # feedback submitted 2024-06-20 00:00 UTC is 2024-06-19 in US Pacific time: O1 (2★) and O7 (1★);
    # O3 (3★) is neutral, O4's rating was removed
    assert on(date(2024, 6, 19)) == [("negative_feedback", "O1", 2), ("negative_feedback", "O7", 1)]
    # claims filed 2024-06-21 00:00 UTC (06-20 local): c1 A-to-z and c2 chargeback on O1; c3 was denied
    assert on(date(2024, 6, 20)) == [("a_to_z_claim", "O1", None), ("chargeback", "O1", None)]
    assert on(date(2024, 6, 21)) == []
    # not a member of the program: no alert
    rows = wh.execute(record_alerts_expr(inp, date(2024, 6, 19), date(2024, 6, 19)))
    assert record_alerts(rows, "p", members.assign(seller_id="S9")).empty


def test_a_projected_breach_alerts_again_only_after_a_quiet_week(store):  # noqa: F811
    from cxops.service.daily import PROJECTION_QUIET_DAYS, _quiet
    from cxops.store import append_alerts

    def projected(day, seller="S1", rule="odr"):
        return {"seller_id": seller, "marketplace_id": "US", "kind": "projected_breach", "alert_date": day,
                "rule_id": rule, "projected_date": day + timedelta(days=9),
                "idempotency_key": f"k{seller}{rule}{day}"}  # fmt: skip

    d0 = date(2026, 10, 1)
    with store.unit_of_work() as s:
        append_alerts(s, pd.DataFrame([projected(d0)]), program="p")
    later = pd.DataFrame([projected(d0 + timedelta(days=1)), projected(d0 + timedelta(days=1), "S2"),
                          projected(d0 + timedelta(days=1), rule="lsr")])  # fmt: skip
    with store.unit_of_work() as s:
        kept = _quiet(s, "p", later, d0 + timedelta(days=1))
        assert sorted(zip(kept.seller_id, kept.rule_id, strict=True)) == [("S1", "lsr"), ("S2", "odr")]
        week = d0 + timedelta(days=PROJECTION_QUIET_DAYS)
        assert len(_quiet(s, "p", pd.DataFrame([projected(week)]), week)) == 1


# -- provisional values behind an alert (tests/test_provisional.py's seller) --------------------------

ALERTING = """
name = "provisional-alerts"
version = "1"
effective_from = 2024-01-01

[cadence]
every = "day"

[[removal.rules]]
id = "lsr"
label = "late shipment rate"
metric = "late_shipment_rate"
window_days = 30
operator = ">"
threshold = 0.2
alert_threshold = 0.05
"""


@pytest.mark.parametrize(
    ("tenth", "provisional"),
    [(None, True), ("2024-05-30T21:00:00Z", False)],
    ids=["shipment-missing", "shipment-recorded-late"],
)
def test_an_alert_is_provisional_when_its_metric_value_is(store, tenth, provisional):  # noqa: F811
    """Daily checks, alert level 5 % on the late shipment rate (limit 20 %). The seller is enrolled on
    05-30 (metrics of 05-29: nothing due yet). On 05-31 (metrics of 05-30) its rate is 1/10 = 10 % > 5 %:
    an alert-level alert. Its value is provisional when the tenth order due on 05-30 has no shipment
    recorded (coverage 9/10 < 95 %); it is not when the shipment is recorded, an hour after its ship-by
    (coverage 10/10, the same 1/10 late)."""
    from test_provisional import tables

    from cxops.policy.load import loads_policy
    from cxops.service.daily import run_daily
    from cxops.store import load_alerts

    p = loads_policy(ALERTING)
    wh = warehouse(tables(tenth))
    run_daily(wh, store, p, date(2024, 5, 30))
    run_daily(wh, store, p, date(2024, 5, 31))
    with store.unit_of_work(write=False) as s:
        alerts = load_alerts(s, program=p.name)
    got = alerts[["seller_id", "kind", "alert_date", "rule_id", "value", "provisional"]].values.tolist()
    assert got == [["S1", "alert_level", date(2024, 5, 31), "lsr", pytest.approx(0.1), provisional]]


def test_mark_provisional_by_alert_kind():
    """What is marked, on the decisions of 05-31 (coverage 9/10): an alert level and a projected breach of
    the late shipment rate are provisional; an alert on a record, an unknown seller or rule is not; both
    ways of computing the decisions agree."""
    from test_provisional import AS_OF, tables

    from cxops.lifecycle.decisions import decisions, decisions_from_metrics
    from cxops.metrics.compute import compute_metrics
    from cxops.policy.evaluate import evaluate_policy
    from cxops.policy.load import loads_policy
    from cxops.service.alerts import mark_provisional

    p = loads_policy(ALERTING)
    m = compute_metrics(warehouse(tables()), AS_OF)
    dec = decisions_from_metrics(p, m)
    assert dec.value_provisional.tolist() == [[True]] and dec.alert_provisional.tolist() == [[True]]
    long = decisions(evaluate_policy(p, m), p)
    assert long.value_provisional.tolist() == [[True]] and long.alert_provisional.tolist() == [[True]]
    rows = pd.DataFrame(
        {
            "seller_id": ["S1", "S1", "S1", "S9", "S1"],
            "marketplace_id": "US",
            "kind": ["alert_level", "projected_breach", "negative_feedback", "alert_level", "alert_level"],
            "rule_id": ["lsr", "lsr", None, "lsr", "odr"],
        }
    )
    assert mark_provisional(rows, dec, p)["provisional"].tolist() == [True, True, False, False, False]
    assert mark_provisional(rows, None, p)["provisional"].tolist() == [False] * 5
    complete = compute_metrics(warehouse(tables("2024-05-30T21:00:00Z")), AS_OF)
    dec = decisions_from_metrics(p, complete)
    assert mark_provisional(rows, dec, p)["provisional"].tolist() == [False] * 5
