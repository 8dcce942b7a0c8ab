"""Every lifecycle transition, on the customer-excellence pack, with hand-built metrics."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from test_policy_support import frame, good_seller, row

from cxops.lifecycle import (
    Evaluation,
    LifecycleState,
    SellerState,
    build_evaluations,
    day_step,
    project,
    project_all,
    step,
)
from cxops.policy import evaluate_policy, load_policy

S = LifecycleState


@pytest.fixture(scope="module")
def ce():
    return load_policy("customer-excellence")


def evaluation(policy, when: date, seller: str = "S1", **override) -> Evaluation:
    """The evaluation of one seller at ``when`` (metrics as of the day before)."""
    as_of = when - timedelta(days=1)
    override = {
        k: (None if r is None else {**r, "as_of": as_of, "window_end": as_of}) for k, r in override.items()
    }
    results = evaluate_policy(policy, frame(good_seller(seller, as_of=as_of, **override)))
    return build_evaluations(results, policy, when)[(seller, "US")]


def odr(n: int, d: int = 1000, as_of: date | None = None):
    kw = {"as_of": as_of} if as_of else {}
    return row("S1", "order_defect_rate", numerator=n, denominator=d, channel="all", **kw)


FEB, MAR, APR, MAY = date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)


def enrolled(since: date = FEB) -> SellerState:
    return SellerState("S1", "US", S.ENROLLED, since)


# --- entry ---------------------------------------------------------------------------------------


def test_not_eligible_to_candidate_to_enrolled(ce):
    state = SellerState("S1", "US", since=FEB)
    young = row("S1", "tenure_days", 100, as_of=FEB - timedelta(days=1))
    state, events = step(state, evaluation(ce, FEB, tenure=young), ce)
    assert (state.state, state.since, events) == (S.NOT_ELIGIBLE, FEB, [])
    assert state.reason.key == "not_eligible"
    assert state.reason.text() == "operating at least 6 months (100 < 180)"

    state, events = step(state, evaluation(ce, MAR, odr=odr(5, as_of=MAR - timedelta(days=1))), ce)
    assert (state.state, state.since) == (S.CANDIDATE, MAR)
    (e,) = events
    assert (e.from_state, e.to_state, e.date, e.as_of) == (
        S.NOT_ELIGIBLE,
        S.CANDIDATE,
        MAR,
        date(2025, 2, 28),
    )
    assert (e.rule_id, e.metric, e.value, e.threshold, e.operator, e.window_days) == (
        "odr",
        "order_defect_rate",
        0.005,
        0.0045,
        "<",
        60,
    )
    assert e.reason.key == "admission_not_met"
    assert e.reason.text() == "admission not met: order defect rate (0.5 % >= 0.45 %)"
    assert e.reason.params["criteria"][0]["params"]["value"] == 0.005

    state, events = step(state, evaluation(ce, APR), ce)
    assert (state.state, state.since) == (S.ENROLLED, APR)
    (e,) = events
    assert (e.from_state, e.to_state, e.rule_id, e.metric) == (S.CANDIDATE, S.ENROLLED, None, None)
    assert e.reason.text() == "admitted: all admission criteria met"


def test_not_eligible_straight_to_enrolled_and_back_to_not_eligible(ce):
    state, events = step(SellerState("S1", "US"), evaluation(ce, FEB), ce)
    assert state.state == S.ENROLLED and events[0].from_state == S.NOT_ELIGIBLE

    candidate = SellerState("S1", "US", S.CANDIDATE, FEB)
    state, (e,) = step(candidate, evaluation(ce, MAR, volume=row("S1", "order_count", 1500, window=90)), ce)
    assert state.state == S.NOT_ELIGIBLE
    assert (e.rule_id, e.value, e.operator, e.threshold) == ("order_volume", 1500.0, ">", 1500.0)
    assert e.reason.text() == "more than 500 orders a month (1500 <= 1500)"


def test_admission_insufficient_data_keeps_candidate(ce):
    few = odr(0, 80)  # 80 orders < min_denominator 100
    state, (e,) = step(SellerState("S1", "US"), evaluation(ce, FEB, odr=few), ce)
    assert state.state == S.CANDIDATE
    assert e.reason.key == "admission_insufficient"
    assert e.reason.text() == "admission: insufficient data: order defect rate: insufficient data (80 < 100)"


def test_marketplace_outside_program(ce):
    results = evaluate_policy(ce, frame(good_seller("S1", marketplace="BR")))
    ev = build_evaluations(results, ce, FEB)[("S1", "BR")]
    state, _ = step(SellerState("S1", "BR"), ev, ce)
    assert state.state == S.NOT_ELIGIBLE
    assert state.reason.text() == "marketplace not in program"


# --- removal ---------------------------------------------------------------------------------------


def test_enrolled_at_risk_removed_on_two_consecutive_odr_breaches(ce):
    state, (e,) = step(enrolled(), evaluation(ce, MAR, odr=odr(7)), ce)
    assert (state.state, state.since, dict(state.breach_counts)) == (S.AT_RISK, MAR, {"odr": 1})
    assert (e.from_state, e.to_state, e.rule_id, e.value, e.threshold, e.operator) == (
        S.ENROLLED,
        S.AT_RISK,
        "odr",
        0.007,
        0.006,
        ">",
    )
    assert e.reason.key == "at_risk"
    assert e.reason.text() == (
        "warning: order defect rate (0.7 % > 0.6 %) (breach 1 of 2 consecutive evaluations before removal)"
    )

    state, (e,) = step(state, evaluation(ce, APR, odr=odr(8)), ce)
    assert (state.state, state.since, dict(state.breach_counts)) == (S.REMOVED, APR, {})
    assert (e.from_state, e.to_state, e.rule_id, e.value, e.as_of) == (
        S.AT_RISK,
        S.REMOVED,
        "odr",
        0.008,
        date(2025, 3, 31),
    )
    assert e.reason.key == "removed_consecutive"
    assert e.reason.text() == "removed: order defect rate (0.8 % > 0.6 %) at 2 consecutive evaluations"


def test_at_risk_back_to_enrolled_when_breach_clears(ce):
    state, _ = step(enrolled(), evaluation(ce, MAR, odr=odr(7)), ce)
    # 0.5 % is above the admission bar (0.45 %) but not over the removal bar (0.6 %): no breach
    state, (e,) = step(state, evaluation(ce, APR, odr=odr(5)), ce)
    assert (state.state, state.since, dict(state.breach_counts)) == (S.ENROLLED, APR, {})
    assert (e.from_state, e.to_state) == (S.AT_RISK, S.ENROLLED)
    assert e.reason.text() == "warning cleared: no removal rule breached"
    # the count restarted: a new breach is a warning again, not a removal
    state, (e,) = step(state, evaluation(ce, MAY, odr=odr(7)), ce)
    assert (state.state, dict(state.breach_counts)) == (S.AT_RISK, {"odr": 1})


def test_odr_exactly_at_removal_bar_is_no_breach(ce):
    state, events = step(enrolled(), evaluation(ce, MAR, odr=odr(6)), ce)
    assert (state.state, state.since, events) == (S.ENROLLED, FEB, [])
    assert state.reason.text() == "enrolled: no removal rule breached"


@pytest.mark.parametrize(
    ("override", "rule_id", "value", "text"),
    [
        (
            {"vtr": row("S1", "valid_tracking_rate", numerator=750, denominator=800)},
            "vtr",
            0.9375,
            "removed: valid tracking rate (93.75 % < 95 %)",
        ),
        (
            {"warnings": row("S1", "account_health_warnings", 3)},
            "warnings",
            3.0,
            "removed: account-health warnings (3 >= 3)",
        ),
        (
            {"ip": row("S1", "ip_complaints", 1)},
            "ip_complaint",
            1.0,
            "removed: valid intellectual-property complaints (1 >= 1)",
        ),
    ],
)
def test_enrolled_removed_immediately(ce, override, rule_id, value, text):
    state, (e,) = step(enrolled(), evaluation(ce, MAR, **override), ce)
    assert (state.state, state.since) == (S.REMOVED, MAR)
    assert (e.from_state, e.to_state, e.rule_id, e.value) == (S.ENROLLED, S.REMOVED, rule_id, value)
    assert e.reason.key == "removed_breach"
    assert e.reason.text() == text


def test_vtr_below_min_denominator_does_not_remove(ce):
    few = row("S1", "valid_tracking_rate", numerator=10, denominator=40)  # 25 % of only 40 packages
    state, events = step(enrolled(), evaluation(ce, MAR, vtr=few), ce)
    assert (state.state, events) == (S.ENROLLED, [])


def test_several_rules_at_once_first_in_policy_order_decides(ce):
    ev = evaluation(ce, MAR, odr=odr(9), ip=row("S1", "ip_complaints", 2))
    state, (e,) = step(enrolled(), ev, ce)
    assert state.state == S.REMOVED
    assert e.rule_id == "ip_complaint"  # odr would only warn; ip removes
    assert e.reason.params["rules"] == ["ip_complaint"]


def test_enrolled_removed_when_no_longer_eligible(ce):
    state, (e,) = step(enrolled(), evaluation(ce, MAR, major=row("S1", "major_violations", 1)), ce)
    assert state.state == S.REMOVED
    assert (e.rule_id, e.metric, e.value, e.operator, e.threshold) == (
        "no_major_violation",
        "major_violations",
        1.0,
        "==",
        0.0,
    )
    assert e.reason.key == "removed_ineligible"
    assert e.reason.text() == "removed: no longer eligible: no major violation in 90 days (1 != 0)"


def test_removed_is_not_judged_at_evaluations(ce):
    removed = SellerState("S1", "US", S.REMOVED, FEB, recovery_streak=3)
    assert step(removed, evaluation(ce, MAR), ce) == (removed, [])
    recovering = SellerState("S1", "US", S.RECOVERING, FEB, recovery_streak=3)
    assert step(recovering, evaluation(ce, MAR), ce) == (recovering, [])


def test_step_rejects_other_seller(ce):
    with pytest.raises(ValueError):
        step(SellerState("S2", "US"), evaluation(ce, MAR), ce)


# --- recovery ------------------------------------------------------------------------------------


def run_days(policy, state, pattern, start=date(2025, 4, 2)):
    """Apply day_step for ``pattern`` (a list of bools) from ``start``; return state and events."""
    events = []
    for i, met in enumerate(pattern):
        state, new = day_step(state, met, start + timedelta(days=i), policy)
        events += new
    return state, events


def test_recovery_needs_exactly_45_consecutive_days(ce):
    removed = SellerState("S1", "US", S.REMOVED, APR)
    state, events = run_days(ce, removed, [True] * 44)
    assert (state.state, state.recovery_streak, state.since) == (S.RECOVERING, 44, date(2025, 4, 2))
    assert [(e.from_state, e.to_state) for e in events] == [(S.REMOVED, S.RECOVERING)]
    assert state.reason.text() == "recovering: admission bars met 44 of 45 consecutive days"

    state, (e,) = run_days(ce, state, [True], start=date(2025, 5, 16))
    assert (state.state, state.since, state.recovery_streak) == (S.CANDIDATE, date(2025, 5, 16), 0)
    assert (e.from_state, e.to_state, e.date, e.as_of) == (
        S.RECOVERING,
        S.CANDIDATE,
        date(2025, 5, 16),
        date(2025, 5, 15),
    )
    assert e.reason.key == "recovered"


def test_recovery_bad_day_on_day_30_resets(ce):
    removed = SellerState("S1", "US", S.REMOVED, APR)
    pattern = [True] * 29 + [False] + [True] * 44
    state, events = run_days(ce, removed, pattern)
    assert (state.state, state.recovery_streak) == (S.RECOVERING, 44)  # 44 after the reset: not yet
    assert [(e.to_state, e.date) for e in events] == [
        (S.RECOVERING, date(2025, 4, 2)),
        (S.REMOVED, date(2025, 5, 1)),  # day 30
        (S.RECOVERING, date(2025, 5, 2)),
    ]
    assert events[1].reason.text() == "recovery reset on 2025-05-01: admission bars not met"
    state, (e,) = run_days(ce, state, [True], start=date(2025, 6, 15))
    assert state.state == S.CANDIDATE


def test_day_step_ignores_other_states_and_bad_days_while_removed(ce):
    assert day_step(enrolled(), True, APR, ce) == (enrolled(), [])
    removed = SellerState("S1", "US", S.REMOVED, APR)
    assert day_step(removed, False, APR, ce) == (removed, [])


def test_candidate_after_recovery_enrolled_at_next_evaluation(ce):
    recovered = SellerState("S1", "US", S.CANDIDATE, date(2025, 5, 16))
    state, (e,) = step(recovered, evaluation(ce, date(2025, 6, 1)), ce)
    assert (state.state, state.since) == (S.ENROLLED, date(2025, 6, 1))
    assert (e.from_state, e.to_state) == (S.CANDIDATE, S.ENROLLED)


# --- standing mode (Amazon account health) ----------------------------------------------------------


def test_standing_lifecycle():
    p = load_policy("amazon-account-health")
    rows = [
        row("S1", "order_defect_rate", numerator=5, denominator=1000, channel="mfn"),
        row("S1", "order_defect_rate", numerator=0, denominator=0, channel="afn"),  # no FBA orders: skipped
        row("S1", "late_shipment_rate", numerator=3, denominator=100, window=10),
        row("S1", "late_shipment_rate", numerator=4, denominator=100, window=30),  # 4 % is not < 4 %
    ]
    ev = build_evaluations(evaluate_policy(p, frame(rows)), p, FEB)[("S1", "US")]
    state, (e,) = step(SellerState("S1", "US"), ev, p)
    assert state.state == S.AT_RISK
    assert e.rule_id == "lsr_30"
    assert e.reason.text() == "below standard: late shipment rate (30 days) (4 % >= 4 %)"
    rows[3] = row("S1", "late_shipment_rate", numerator=3, denominator=100, window=30)
    ev = build_evaluations(evaluate_policy(p, frame(rows)), p, MAR)[("S1", "US")]
    state, (e,) = step(state, ev, p)
    assert (state.state, e.reason.text()) == (S.ENROLLED, "in good standing: all standards met")


# --- events and projection (C28) ---------------------------------------------------------------------


def test_event_row_is_flat_and_serialisable(ce):
    _, (e,) = step(enrolled(), evaluation(ce, MAR, odr=odr(7)), ce)
    r = e.as_row()
    assert r["from_state"] == "enrolled" and r["to_state"] == "at_risk"
    assert r["reason_key"] == "at_risk"
    params = json.loads(r["reason_params"])
    assert params["count"] == 1 and params["consecutive"] == 2
    assert params["criteria"][0]["key"] == "criterion_breached"
    assert params["criteria"][0]["params"]["threshold_text"] == "0.6 %"


def test_project_next_evaluation_with_todays_metrics(ce):
    today_as_of = date(2025, 3, 14)
    results = evaluate_policy(ce, frame(good_seller("S1", as_of=today_as_of, odr=odr(7, as_of=today_as_of))))
    projected, (e,) = project(ce, enrolled(), results)
    assert (projected.state, projected.since, e.date) == (S.AT_RISK, APR, APR)  # next evaluation: Apr 1
    assert e.as_of == today_as_of

    states = {("S1", "US"): enrolled()}
    table = project_all(ce, states, results)
    assert table[["state", "projected_state", "evaluation_date"]].values.tolist() == [
        ["enrolled", "at_risk", APR]
    ]

    # no results for the seller: unchanged
    assert project(ce, SellerState("S9", "US"), results) == (SellerState("S9", "US"), [])
