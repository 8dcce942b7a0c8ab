"""Provisional metrics: input coverage of the last days of a window, hand-computed, and what the policy
lets a provisional breach do (issue 10, "Late and restated data").

The seller sells on US (deadlines in America/Los_Angeles). In April 20 MFN orders are due to ship and
all ship on time; on 2024-05-30 ten more are due, nine ship on time and the tenth has no shipment
recorded yet. As of 2024-05-31, with the default look-back of 3 days (05-29 .. 05-31):

* late shipment rate (30 days, 05-02 .. 05-31): 10 orders due, 1 unconfirmed past its ship-by = 1/10;
* coverage: 10 orders due in the look-back days, 9 with a shipment recorded = 9/10 = 0.9 < 0.95 →
  ``status = provisional``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from _wh import value, warehouse

from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import SellerState, step
from cxops.lifecycle.states import LifecycleState as S
from cxops.metrics.compute import compute_metrics, compute_series
from cxops.policy.evaluate import evaluate_criteria, evaluate_policy
from cxops.policy.explain import criterion_reason
from cxops.policy.load import PolicyError, loads_policy
from cxops.report.format import criterion_reason_text
from cxops.service.evaluation import run_evaluation

AS_OF = date(2024, 5, 31)

POLICY = """
name = "provisional-test"
version = "1"
effective_from = 2024-01-01

[[admission.criteria]]
id = "lsr_ok"
metric = "late_shipment_rate"
window_days = 30
operator = "<="
threshold = 0.04

[[removal.rules]]
id = "lsr"
label = "late shipment rate"
metric = "late_shipment_rate"
window_days = 30
operator = ">"
threshold = 0.04
"""


def _order(oid: str, ship_by: str, purchased: str) -> dict:
    return {
        "seller_id": "S1",
        "order_id": oid,
        "marketplace_id": "US",
        "purchased_at": purchased,
        "fulfillment_channel": "MFN",
        "latest_ship_at": ship_by,
    }


def _ship(oid: str, confirmed: str) -> dict:
    return {"seller_id": "S1", "order_id": oid, "shipment_id": f"s-{oid}", "confirmed_at": confirmed}


def tables(tenth: str | None = None) -> dict:
    """The history of the module docstring; ``tenth``: when the tenth order's shipment was confirmed
    (``None``: not recorded yet)."""
    orders, ships = [], []
    for i in range(20):  # April: due on the 10th .. 29th, shipped 2 hours before the deadline
        day = f"2024-04-{10 + i:02d}"
        orders.append(_order(f"A{i}", f"{day}T20:00:00Z", f"{day}T01:00:00Z"))
        ships.append(_ship(f"A{i}", f"{day}T18:00:00Z"))
    for i in range(1, 11):  # due 2024-05-30 13:00 Pacific
        orders.append(_order(f"N{i}", "2024-05-30T20:00:00Z", "2024-05-28T18:00:00Z"))
        if i <= 9:
            ships.append(_ship(f"N{i}", "2024-05-30T18:00:00Z"))
    if tenth is not None:
        ships.append(_ship("N10", tenth))
    # the data runs to 06-01 (so the 06-01 evaluation, judging 05-31, is run); due after every window
    orders.append(_order("Z", "2024-06-05T20:00:00Z", "2024-06-01T19:00:00Z"))
    ships.append(_ship("Z", "2024-06-01T20:00:00Z"))
    return {"sellers": [{"seller_id": "S1", "marketplace_id": "US"}], "orders": orders, "shipments": ships}


def policy(extra: str = ""):
    return loads_policy(POLICY + extra)


# -- the engine ------------------------------------------------------------------------------------


def test_coverage_below_the_level_marks_the_value_provisional():
    df = compute_metrics(warehouse(tables()), AS_OF)
    r = value(df, "late_shipment_rate", window=30)
    assert (r["numerator"], r["denominator"], r["value"]) == (1.0, 10.0, 0.1)
    assert r["coverage"] == pytest.approx(0.9) and r["status"] == "provisional"
    # metrics without a coverage rule have none
    assert pd.isna(value(df, "order_count", window=30, channel="all")["coverage"])


def test_complete_coverage_is_not_provisional_and_the_late_shipment_counts():
    df = compute_metrics(warehouse(tables(tenth="2024-05-31T17:00:00Z")), AS_OF)  # confirmed late
    r = value(df, "late_shipment_rate", window=30)
    assert (r["numerator"], r["denominator"], r["coverage"], r["status"]) == (1.0, 10.0, 1.0, "ok")


def test_look_back_and_level_come_from_the_policy():
    wh = warehouse(tables())
    lenient = policy("[provisional]\nmin_coverage = 0.9\n")  # 0.9 is not below 0.9
    r = value(compute_metrics(wh, AS_OF, lenient.metric_options), "late_shipment_rate", window=30)
    assert r["status"] == "ok" and r["coverage"] == pytest.approx(0.9)
    # a look-back of 1 day (05-31): nothing is due then, so there is no coverage to judge
    short = policy("[provisional]\nlookback_days = 1\n")
    r = value(compute_metrics(wh, AS_OF, short.metric_options), "late_shipment_rate", window=30)
    assert pd.isna(r["coverage"]) and r["status"] == "ok"


def test_series_agrees_and_the_look_back_passes():
    """Daily series: provisional while 05-30 is within the last 3 days (05-30 .. 06-01), then the
    missing shipment is a late shipment like any other."""
    wh = warehouse(tables())
    s = compute_series(wh, date(2024, 5, 29), date(2024, 6, 2), metrics=["late_shipment_rate"])
    s = s[s.window_days == 30].set_index("as_of")
    # 05-29: nothing due in the window (04-30 .. 05-29) nor in the look-back days
    assert s.loc[date(2024, 5, 29), "status"] == "no_data" and pd.isna(s.loc[date(2024, 5, 29), "coverage"])
    for d in (date(2024, 5, 30), date(2024, 5, 31), date(2024, 6, 1)):
        assert s.loc[d, "status"] == "provisional" and s.loc[d, "coverage"] == pytest.approx(0.9)
    assert s.loc[date(2024, 6, 2), "status"] == "ok" and s.loc[date(2024, 6, 2), "numerator"] == 1
    one = value(compute_metrics(wh, AS_OF), "late_shipment_rate", window=30)
    assert s.loc[AS_OF, "coverage"] == one["coverage"] and s.loc[AS_OF, "value"] == one["value"]


def test_on_time_delivery_coverage():
    """4 shipments promised on 05-30: 3 delivered (2 on time), 1 confirmed but no delivery recorded →
    coverage 3/4; on-time delivery rate 2/3."""
    orders, ships = [], []
    for i in range(4):
        o = _order(f"D{i}", "2024-05-27T20:00:00Z", "2024-05-26T18:00:00Z")
        o["latest_delivery_at"] = "2024-05-30T20:00:00Z"
        orders.append(o)
        s = _ship(f"D{i}", "2024-05-27T18:00:00Z")
        if i < 3:
            s["delivered_at"] = "2024-05-30T18:00:00Z" if i < 2 else "2024-05-31T18:00:00Z"
        ships.append(s)
    wh = warehouse(
        {"sellers": [{"seller_id": "S1", "marketplace_id": "US"}], "orders": orders, "shipments": ships}
    )
    r = value(compute_metrics(wh, AS_OF), "on_time_delivery_rate", window=14, channel="mfn")
    assert (r["numerator"], r["denominator"]) == (2.0, 3.0)
    assert r["coverage"] == pytest.approx(0.75) and r["status"] == "provisional"


# -- the policy ------------------------------------------------------------------------------------


def test_criterion_result_carries_provisional_and_coverage():
    m = compute_metrics(warehouse(tables()), AS_OF)
    res = evaluate_criteria(policy(), m, "removal").iloc[0]
    assert res["result"] == "fail" and bool(res["provisional"]) and res["coverage"] == pytest.approx(0.9)
    reason = criterion_reason(res.to_dict())
    assert reason["key"] == "criterion_breached_provisional"
    assert reason["params"]["coverage_text"] == "90 %"
    assert "provisional: coverage 90" in criterion_reason_text(reason, lang="en")
    assert "暂定" in criterion_reason_text(reason, lang="zh")
    # a criterion with its own level
    own = policy().removal.rules[0].criteria[0].model_copy(update={"min_coverage": 0.85})
    p = policy()
    p = p.model_copy(update={"removal": p.removal.model_copy(update={"rules": [
        p.removal.rules[0].model_copy(update={"criteria": [own]})]})})  # fmt: skip
    assert not bool(evaluate_criteria(p, m, "removal").iloc[0]["provisional"])


def test_policy_keys_are_validated():
    p = policy()
    assert (p.provisional.min_coverage, p.provisional.lookback_days) == (0.95, 3)
    assert (p.provisional.can_warn, p.provisional.can_remove) == (True, False)
    with pytest.raises(PolicyError):
        policy("[provisional]\nmin_coverage = 1.5\n")
    with pytest.raises(PolicyError):  # one declaration: the level is set in [provisional]
        policy("[metric_options]\nprovisional_min_coverage = 0.5\n")
    with pytest.raises(PolicyError, match="order_count is never provisional"):
        loads_policy(
            POLICY.replace('id = "lsr_ok"', 'id = "lsr_ok"\nmin_coverage = 0.9').replace(
                'metric = "late_shipment_rate"\nwindow_days = 30\noperator = "<="',
                'metric = "order_count"\nwindow_days = 30\nchannel = "all"\noperator = "<="',
            )
        )


# -- the lifecycle ---------------------------------------------------------------------------------


def _machine(p, metrics_by_day):
    """The per-seller machine over monthly evaluations: enrolled on 05-01, judged on 06-01."""
    st = SellerState("S1", "US")
    for when, m in metrics_by_day:
        ev = build_evaluations(evaluate_policy(p, m), p, when)[("S1", "US")]
        st, _ = step(st, ev, p)
    return st


def _days(wh):
    return [
        (date(2024, 5, 1), compute_metrics(wh, date(2024, 4, 30))),
        (date(2024, 6, 1), compute_metrics(wh, AS_OF)),
    ]


def _job(wh, p):
    ev = run_evaluation(wh, p, date(2024, 6, 1), reuse=False, persist=False)
    assert ev.run.last_evaluation == date(2024, 6, 1)
    row = ev.latest_statuses(["S1"]).iloc[0]
    return row["state"], row["reason_key"]


def test_default_policy_warns_but_does_not_remove_then_removes_on_complete_data():
    p = policy()
    incomplete = warehouse(tables())
    st = _machine(p, _days(incomplete))
    assert st.state == S.AT_RISK and st.reason.key == "at_risk_provisional"
    assert st.breach_counts == {"lsr": 1}
    assert _job(incomplete, p) == ("at_risk", "at_risk_provisional")
    # the tenth shipment arrives, confirmed a day late: coverage complete, the breach removes
    complete = warehouse(tables(tenth="2024-05-31T17:00:00Z"))
    st = _machine(p, _days(complete))
    assert st.state == S.REMOVED and st.reason.key == "removed_breach"
    assert _job(complete, p) == ("removed", "removed_breach")


def test_policy_keys_decide_what_a_provisional_breach_does():
    wh = warehouse(tables())
    remove = policy("[provisional]\ncan_remove = true\n")
    assert _machine(remove, _days(wh)).state == S.REMOVED
    assert _job(wh, remove) == ("removed", "removed_breach")
    ignore = policy("[provisional]\ncan_warn = false\n")
    st = _machine(ignore, _days(wh))
    assert st.state == S.ENROLLED and st.breach_counts == {}
    assert _job(wh, ignore)[0] == "enrolled"
