"""Enforcement as marketplaces run it, computed by hand: alert levels, the minimum order count, suspension,
action plans with immunity, repeat offences and permanent blocks, operator actions, daily checks
published weekly — on ``examples/daily-enforcement.toml`` and variants of it.

Every scenario runs twice, through the per-seller machine and through the array replay (the reference
of ``tests/test_lifecycle_batch.py``), and both must give the hand-computed events.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from test_lifecycle_batch import _same, scalar_replay
from test_policy_support import frame, row

from cxops.lifecycle import (
    Action,
    LifecycleState,
    SellerState,
    advance,
    apply_action,
    build_evaluations,
    replay,
    step,
    validate_action,
)
from cxops.lifecycle.reasons import english_catalog
from cxops.lifecycle.table import ACTIONS, PROGRAM, REASONS, decide_one
from cxops.policy import evaluate_policy, load_policy
from cxops.report.i18n import load_catalog

pytestmark = pytest.mark.unit

S = LifecycleState
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "daily-enforcement.toml"
MARCH = [date(2025, 3, 1) + timedelta(days=i) for i in range(21)]
NO_DAILY = pd.DataFrame(columns=["seller_id", "marketplace_id", "day", "admission_met"])


@pytest.fixture(scope="module")
def daily():
    return load_policy(EXAMPLE)


def variant(policy, **enforcement):
    return policy.model_copy(update={"enforcement": policy.enforcement.model_copy(update=enforcement)})


def metrics(when: date, odr: int = 5, orders: int = 1000, lsr: int = 5, seller: str = "S1") -> pd.DataFrame:
    """Metrics as of the day before ``when``: ``odr`` defective orders of 1000 (0.5 % by default), ``orders``
    in 30 days, ``lsr`` late of 800 seller-fulfilled shipments."""
    as_of = when - timedelta(days=1)
    return frame(
        [
            row(seller, "tenure_days", 400, as_of=as_of),
            row(seller, "order_count", orders, window=30, channel="all", as_of=as_of),
            row(seller, "order_defect_rate", numerator=odr, denominator=1000, channel="all", as_of=as_of),
            row(seller, "late_shipment_rate", numerator=lsr, denominator=800, window=30, as_of=as_of),
        ]
    )


def run(policy, days, odr_by_day, actions=(), orders_by_day=None, start=None):
    """Both implementations over ``days``; returns the replay result after checking they agree."""
    orders_by_day = orders_by_day or {}

    def get_results(when):
        return evaluate_policy(policy, metrics(when, odr_by_day.get(when, 5), orders_by_day.get(when, 1000)))

    def get_daily(sellers, lo, hi):
        return NO_DAILY

    start = start or days[0]
    ref = scalar_replay(policy, days, get_results, get_daily, days[-1], list(actions), start=start, full=True)
    got = replay(
        policy, days, get_results, get_daily, until=days[-1], actions=actions, start=start, keep_sections=None
    )
    for mine, theirs in zip(
        (got.statuses, got.transitions, got.final, got.events, got.state_table), ref, strict=True
    ):
        _same(mine, theirs)
    return got


def events(result, *columns):
    """Event rows as tuples (NaN numerators and denominators as None)."""
    cols = ["date", "kind", "from_state", "to_state", "reason_key", *columns]
    rows = result.events[cols].itertuples(index=False, name=None)
    return [tuple(None if isinstance(v, float) and v != v else v for v in r) for r in rows]


# --- the 21-day daily scenario -----------------------------------------------------------------------


def test_21_days_warn_suspend_plan_immune_logged_passed_suspended_again(daily):
    """Daily checks, published daily (``examples/daily-enforcement.toml``): ODR alert level 1.5 %, limit
    2 % (suspends at once), 7 days of immunity, block at the 3rd suspension.

    Mar 1 enrolled (0.5 %); Mar 3 1.6 % > 1.5 %: alert, at risk; Mar 4 2.5 % > 2 %: suspended (1st);
    Mar 5-6 still 2.5 %, suspended sellers are not judged; Mar 7 the action plan is accepted: immune on
    Mar 7 … Mar 13 (7 days); Mar 9 2.5 %: alert and breach logged, not acted on; Mar 14, immunity over and
    0.5 %: enrolled; Mar 19 3 %: alert, suspended again (2nd)."""
    odr = {MARCH[d - 1]: n for d, n in {3: 16, 4: 25, 5: 25, 6: 25, 9: 25, 19: 30, 20: 30, 21: 30}.items()}
    plan = Action("S1", "US", "accept_plan", date(2025, 3, 7), actor="ops@example", reason="new carrier")
    got = run(daily, MARCH, odr, [plan])
    cols = ("rule_id", "value", "numerator", "denominator", "threshold", "operator", "window_days", "as_of")
    a = date(2025, 3, 1)
    assert events(got, *cols, "actor", "action_reason") == [
        (a, "transition", "not_eligible", "enrolled", "admitted", *[None] * 7, date(2025, 2, 28), None, None),
        (date(2025, 3, 3), "alert", "enrolled", "enrolled", "alert_crossed",
         "odr", 0.016, 16.0, 1000.0, 0.015, ">", 60, date(2025, 3, 2), None, None),
        (date(2025, 3, 3), "transition", "enrolled", "at_risk", "alert",
         "odr", 0.016, 16.0, 1000.0, 0.015, ">", 60, date(2025, 3, 2), None, None),
        (date(2025, 3, 4), "transition", "at_risk", "suspended", "suspended_breach",
         "odr", 0.025, 25.0, 1000.0, 0.02, ">", 60, date(2025, 3, 3), None, None),
        (date(2025, 3, 7), "action", "suspended", "immune", "plan_accepted",
         *[None] * 8, "ops@example", "new carrier"),
        (date(2025, 3, 9), "alert", "immune", "immune", "alert_crossed",
         "odr", 0.025, 25.0, 1000.0, 0.015, ">", 60, date(2025, 3, 8), None, None),
        (date(2025, 3, 9), "breach_logged", "immune", "immune", "immune_breach",
         "odr", 0.025, 25.0, 1000.0, 0.02, ">", 60, date(2025, 3, 8), None, None),
        (date(2025, 3, 14), "transition", "immune", "enrolled", "immunity_passed",
         *[None] * 7, date(2025, 3, 13), None, None),
        (date(2025, 3, 19), "alert", "enrolled", "enrolled", "alert_crossed",
         "odr", 0.03, 30.0, 1000.0, 0.015, ">", 60, date(2025, 3, 18), None, None),
        (date(2025, 3, 19), "transition", "enrolled", "suspended", "suspended_breach",
         "odr", 0.03, 30.0, 1000.0, 0.02, ">", 60, date(2025, 3, 18), None, None),
    ]  # fmt: skip
    assert got.statuses["state"].tolist() == (
        ["enrolled"] * 2
        + ["at_risk"]
        + ["suspended"] * 3
        + ["immune"] * 7
        + ["enrolled"] * 5
        + ["suspended"] * 3
    )
    reasons = got.events.set_index(["date", "kind"])["reason"]
    assert reasons[(date(2025, 3, 4), "transition")] == (
        "Suspended: order defect rate (2.5 % > 2 %) (automatic enforcement 1)."
    )
    assert reasons[(date(2025, 3, 7), "action")] == (
        "Action plan accepted: reinstated under immunity until 2025-03-13."
    )
    assert reasons[(date(2025, 3, 9), "breach_logged")] == (
        "Breach logged, not acted on (immune until 2025-03-13): order defect rate (2.5 % > 2 %)."
    )
    final = got.state_table.iloc[0]
    assert (final.state, final.since, final.repeats, final.immune_until) == (
        "suspended",
        date(2025, 3, 19),
        2,
        None,
    )
    assert final.reason == "Suspended: order defect rate (3 % > 2 %) (automatic enforcement 2)."
    assert json.loads(final.reason_params)["repeats"] == 2
    # during the immunity the breach counted (a later removal rule with consecutive > 1 would see it)
    immune_days = got.statuses[got.statuses.evaluation_date == date(2025, 3, 9)]
    assert immune_days.breach_counts.tolist() == ['{"odr": 1}']


def test_repeated_suspension_blocks_and_only_an_operator_lifts_it(daily):
    """block_after = 2, immunity 2 days (a variant of the example): suspended on Mar 2 (1st); plan accepted
    on Mar 4, immune Mar 4-5; on Mar 6, immunity over, 2.5 % again: the 2nd automatic enforcement is a
    permanent block. Reinstating a blocked seller is refused (Mar 8); lifting the block (Mar 9) leaves it
    suspended with 0 repeats; an accepted plan (Mar 10) reinstates it, immune through Mar 11, enrolled on
    Mar 12."""
    p = variant(daily, block_after=2, immunity_days=2)
    d = MARCH[:12]
    odr = {d[1]: 25, d[5]: 25}
    actions = [
        Action("S1", "US", "accept_plan", d[3], actor="ops"),
        Action("S1", "US", "reinstate", d[7], actor="ops"),
        Action("S1", "US", "lift_block", d[8], actor="lead", reason="appeal granted"),
        Action("S1", "US", "accept_plan", d[9], actor="ops"),
    ]
    got = run(p, d, odr, actions)
    assert events(got, "rule_id", "actor") == [
        (d[0], "transition", "not_eligible", "enrolled", "admitted", None, None),
        (d[1], "alert", "enrolled", "enrolled", "alert_crossed", "odr", None),
        (d[1], "transition", "enrolled", "suspended", "suspended_breach", "odr", None),
        (d[3], "action", "suspended", "immune", "plan_accepted", None, "ops"),
        (d[5], "alert", "immune", "immune", "alert_crossed", "odr", None),
        (d[5], "transition", "immune", "blocked", "blocked_breach", "odr", None),
        (d[7], "action_refused", "blocked", "blocked", "action_not_allowed", None, "ops"),
        (d[8], "action", "blocked", "suspended", "block_lifted", None, "lead"),
        (d[9], "action", "suspended", "immune", "plan_accepted", None, "ops"),
        (d[11], "transition", "immune", "enrolled", "immunity_passed", None, None),
    ]
    blocked = got.events[got.events.reason_key == "blocked_breach"].iloc[0]
    assert blocked.reason == (
        "Blocked permanently: order defect rate (2.5 % > 2 %) (automatic enforcement 2 of 2); "
        "only an operator can lift the block."
    )
    refused = got.events[got.events.kind == "action_refused"].iloc[0]
    assert refused.reason == "Action reinstate is not possible for a seller who is blocked."
    assert got.statuses.state.tolist()[9:] == ["immune", "immune", "enrolled"]
    assert got.state_table.iloc[0][["state", "repeats", "immune_until"]].tolist() == ["enrolled", 0, None]


def test_alert_level_warns_before_the_limit_and_customer_excellence_is_unchanged():
    """Monthly customer-excellence with an alert level of 0.5 % beside the ODR limit of 0.6 %: 0.55 % warns
    (an alert, at risk) and warns once while it stays over; below it the warning clears. Without the alert
    level (the pack as shipped) 0.55 % does nothing."""
    ce = load_policy("customer-excellence")
    rules = [
        r.model_copy(
            update={"criteria": [c.model_copy(update={"alert_threshold": 0.005}) for c in r.criteria]}
        )
        if r.id == "odr"
        else r
        for r in ce.removal.rules
    ]
    alerting = ce.model_copy(update={"removal": ce.removal.model_copy(update={"rules": rules})})
    months = [date(2025, m, 1) for m in (2, 3, 4, 5)]
    from test_policy_support import good_seller

    def results(policy, when, n):
        as_of = when - timedelta(days=1)
        odr = row("S1", "order_defect_rate", numerator=n, denominator=2000, channel="all", as_of=as_of)
        return evaluate_policy(policy, frame(good_seller("S1", as_of=as_of, odr=odr)))

    odr = dict(zip(months, [8, 11, 11, 9], strict=True))  # 0.4 %, 0.55 %, 0.55 %, 0.45 %
    got = replay(alerting, months, lambda d: results(alerting, d, odr[d]), lambda *a: NO_DAILY)
    assert events(got, "value", "threshold") == [
        (months[0], "transition", "not_eligible", "enrolled", "admitted", None, None),
        (months[1], "alert", "enrolled", "enrolled", "alert_crossed", 0.0055, 0.005),
        (months[1], "transition", "enrolled", "at_risk", "alert", 0.0055, 0.005),
        (months[3], "transition", "at_risk", "enrolled", "breach_cleared", None, None),
    ]
    assert (
        got.statuses.reason.tolist()[2] == "Warning: order defect rate (0.55 % > 0.5 %) over the alert level."
    )
    plain = replay(ce, months, lambda d: results(ce, d, odr[d]), lambda *a: NO_DAILY)
    assert events(plain) == [(months[0], "transition", "not_eligible", "enrolled", "admitted")]
    assert (plain.events.kind == "transition").all() and len(plain.events) == len(plain.transitions)


def test_minimum_order_count_shields_small_sellers(daily):
    """Below 20 orders in 30 days removal rules and alert levels do not apply: 19 orders with ODR 2.5 % stay
    enrolled (an at-risk seller is cleared); at exactly 20 the limit suspends."""
    days = MARCH[:4]
    odr = {days[1]: 16, days[2]: 25, days[3]: 25}
    orders = {days[2]: 19, days[3]: 20}
    got = run(daily, days, odr, orders_by_day=orders)
    assert events(got) == [
        (days[0], "transition", "not_eligible", "enrolled", "admitted"),
        (days[1], "alert", "enrolled", "enrolled", "alert_crossed"),
        (days[1], "transition", "enrolled", "at_risk", "alert"),
        (days[2], "transition", "at_risk", "enrolled", "below_min_orders"),
        (days[3], "alert", "enrolled", "enrolled", "alert_crossed"),
        (days[3], "transition", "enrolled", "suspended", "suspended_breach"),
    ]
    shielded = got.events.iloc[3]
    assert (shielded.rule_id, shielded.value, shielded.threshold) == ("min_orders", 19.0, 20.0)
    assert shielded.reason == (
        "Enrolled: removal rules and alert levels do not apply below the minimum order count "
        "(min_orders (19 < 20))."
    )


def test_exemption_logs_what_would_suspend(daily):
    """An operator exempts S1 through Mar 3: the 2.5 % of Mar 2 and Mar 3 are logged (at risk, then a logged
    breach), Mar 4 (exemption over) suspends. An exemption without an end date is refused."""
    days = MARCH[:4]
    odr = {days[1]: 25, days[2]: 25, days[3]: 25}
    actions = [
        Action("S1", "US", "exempt", days[1], actor="ops"),  # refused: no until
        Action("S1", "US", "exempt", days[1], until=days[2], actor="ops", reason="carrier strike"),
    ]
    got = run(daily, days, odr, actions)
    assert events(got) == [
        (days[0], "transition", "not_eligible", "enrolled", "admitted"),
        (days[1], "action_refused", "enrolled", "enrolled", "action_needs_until"),
        (days[1], "action", "enrolled", "enrolled", "exempted"),
        (days[1], "alert", "enrolled", "enrolled", "alert_crossed"),
        (days[1], "transition", "enrolled", "at_risk", "exempt_breach"),
        (days[2], "breach_logged", "at_risk", "at_risk", "exempt_breach"),
        (days[3], "transition", "at_risk", "suspended", "suspended_breach"),
    ]
    assert got.events.reason.tolist()[5] == (
        "Breach logged, not acted on (exempt until 2025-03-03): order defect rate (2.5 % > 2 %)."
    )
    assert got.state_table.iloc[0].exempt_until == days[2]


def test_two_actions_for_a_seller_not_yet_evaluated(daily):
    """Actions for a seller the evaluations have not seen yet (one seller, not two): applied in order."""
    days = MARCH[:2]
    actions = [
        Action("S1", "US", "suspend", days[0], actor="ops"),
        Action("S1", "US", "accept_plan", days[0], actor="ops"),
        Action("S9", "US", "exempt", days[0], until=days[1], actor="ops"),
    ]
    got = run(daily, days, {}, actions)
    assert events(got)[:3] == [
        (days[0], "action", "not_eligible", "suspended", "suspended_by_operator"),
        (days[0], "action", "suspended", "immune", "plan_accepted"),
        (days[0], "action", "not_eligible", "not_eligible", "exempted"),
    ]
    table = got.state_table.set_index("seller_id")
    assert sorted(table.index) == ["S1", "S9"]
    assert (table.loc["S1", "state"], table.loc["S1", "immune_until"]) == (
        "immune",
        days[0] + timedelta(days=6),
    )
    assert (table.loc["S9", "state"], table.loc["S9", "since"], table.loc["S9", "exempt_until"]) == (
        "not_eligible",
        None,
        days[1],
    )


def test_rejected_plan_and_reinstating_a_removed_seller():
    """customer-excellence (remove mode, immunity_days = 0): a rejected plan is an event and nothing else;
    an operator's reinstatement of a removed seller enrolls it on the action day — no ``immune`` day, no
    immunity end in its reason — and the next evaluation judges it as an enrolled member."""
    ce = load_policy("customer-excellence")
    assert ce.enforcement.immunity_days == 0
    removed = SellerState("S1", "US", S.REMOVED, date(2025, 3, 1), recovery_streak=3)
    state, (e,) = apply_action(removed, Action("S1", "US", "reject_plan", date(2025, 3, 5), actor="ops"), ce)
    assert (state, e.kind, e.from_state, e.to_state, e.reason.key) == (
        removed,
        "action",
        S.REMOVED,
        S.REMOVED,
        "plan_rejected",
    )
    state, (e,) = apply_action(removed, Action("S1", "US", "reinstate", date(2025, 3, 5), actor="ops"), ce)
    assert (state.state, state.since, state.immune_until, state.recovery_streak) == (
        S.ENROLLED,
        date(2025, 3, 5),
        None,
        0,
    )
    assert (e.kind, e.from_state, e.to_state, e.reason.key, e.reason.params) == (
        "action",
        S.REMOVED,
        S.ENROLLED,
        "reinstated_enrolled",
        {"actor": "ops"},
    )
    assert e.reason.text() == "Reinstated by an operator, enrolled without immunity."
    assert state.reason == e.reason
    # an accepted plan likewise; an explicit until still gives an immunity through that day
    plan, (e,) = apply_action(removed, Action("S1", "US", "accept_plan", date(2025, 3, 5), actor="ops"), ce)
    assert (plan.state, e.reason.text()) == (
        S.ENROLLED,
        "Action plan accepted: reinstated and enrolled without immunity.",
    )
    until = Action("S1", "US", "reinstate", date(2025, 3, 5), until=date(2025, 3, 6), actor="ops")
    immune, (e,) = apply_action(removed, until, ce)
    assert (immune.state, immune.immune_until, e.reason.text()) == (
        S.IMMUNE,
        date(2025, 3, 6),
        "Reinstated by an operator, under immunity until 2025-03-06.",
    )
    from test_policy_support import good_seller

    results = evaluate_policy(ce, frame(good_seller("S1", as_of=date(2025, 3, 31))))
    ev = build_evaluations(results, ce, date(2025, 4, 1))[("S1", "US")]
    state, events_ = step(state, ev, ce)
    assert (state.state, state.reason.key, events_) == (S.ENROLLED, "remains_enrolled", [])


def test_reinstatement_without_immunity_days_goes_straight_to_enrolled(daily):
    """immunity_days = 0 (a variant of the example, suspending at once at ODR > 2 %), both implementations:
    Mar 1 enrolled; Mar 2 2.5 %: suspended; Mar 4 reinstated by an operator: enrolled that day (no
    ``immune`` day, no immunity end); Mar 5 2.5 % again: suspended at once (2nd), nothing protects it;
    Mar 7 its action plan is accepted: enrolled; Mar 8 0.5 %: stays enrolled without a transition."""
    p = variant(daily, immunity_days=0)
    d = MARCH[:8]
    odr = {d[1]: 25, d[2]: 25, d[4]: 25}
    actions = [
        Action("S1", "US", "reinstate", d[3], actor="ops", reason="carrier fixed"),
        Action("S1", "US", "accept_plan", d[6], actor="ops"),
    ]
    got = run(p, d, odr, actions)
    assert events(got, "rule_id", "actor", "action_reason") == [
        (d[0], "transition", "not_eligible", "enrolled", "admitted", None, None, None),
        (d[1], "alert", "enrolled", "enrolled", "alert_crossed", "odr", None, None),
        (d[1], "transition", "enrolled", "suspended", "suspended_breach", "odr", None, None),
        (d[3], "action", "suspended", "enrolled", "reinstated_enrolled", None, "ops", "carrier fixed"),
        (d[4], "alert", "enrolled", "enrolled", "alert_crossed", "odr", None, None),
        (d[4], "transition", "enrolled", "suspended", "suspended_breach", "odr", None, None),
        (d[6], "action", "suspended", "enrolled", "plan_accepted_enrolled", None, "ops", None),
    ]
    assert got.statuses.state.tolist() == [
        "enrolled", "suspended", "suspended", "enrolled", "suspended", "suspended", "enrolled", "enrolled"
    ]  # fmt: skip
    assert "immune" not in set(got.statuses.state) and "immune" not in set(got.events.to_state)
    by_key = got.events.set_index("reason_key")["reason"]
    assert by_key["reinstated_enrolled"] == "Reinstated by an operator, enrolled without immunity."
    assert by_key["plan_accepted_enrolled"] == (
        "Action plan accepted: reinstated and enrolled without immunity."
    )
    final = got.state_table.iloc[0]
    assert (final.state, final.since, final.repeats, final.immune_until) == ("enrolled", d[6], 2, None)


def test_weekly_publication_of_daily_checks(daily):
    """Assessed daily, published on Wednesdays (weekday 2), Mon Mar 3 … Wed Mar 12. S1 is enrolled on Wed
    Mar 5. Its 2.5 % of Thu Mar 6 and Fri Mar 7 is an alert (Mar 6), not a status change, and is gone by
    the next publication; the 2.5 % of Tue Mar 11 alerts and, still there on Wed Mar 12, suspends."""
    cadence = daily.cadence.model_copy(update={"publish_every": "week", "weekday": 2})
    weekly = daily.model_copy(update={"cadence": cadence})
    days = MARCH[2:12]
    odr = {date(2025, 3, n): 25 for n in (6, 7, 11, 12)}
    got = run(weekly, days, odr)
    assert events(got) == [
        (date(2025, 3, 5), "transition", "not_eligible", "enrolled", "admitted"),
        (date(2025, 3, 6), "alert", "enrolled", "enrolled", "alert_crossed"),
        (date(2025, 3, 11), "alert", "enrolled", "enrolled", "alert_crossed"),
        (date(2025, 3, 12), "transition", "enrolled", "suspended", "suspended_breach"),
    ]
    assert got.statuses.state.tolist() == ["not_eligible"] * 2 + ["enrolled"] * 7 + ["suspended"]


def test_daily_job_advance_from_a_stored_state(daily):
    """``advance`` resumes from a stored state table (as a store returns it) and runs one day."""
    odr = {MARCH[1]: 25}
    first = advance(daily, None, MARCH[0], lambda d: evaluate_policy(daily, metrics(d)), lambda *a: NO_DAILY)
    stored = first.state_table.astype(object)
    second = advance(
        daily, stored, MARCH[1], lambda d: evaluate_policy(daily, metrics(d, odr[d])), lambda *a: NO_DAILY
    )
    cols = ("rule_id", "numerator", "denominator", "threshold", "window_days", "as_of")
    assert events(second, *cols) == [
        (MARCH[1], "alert", "enrolled", "enrolled", "alert_crossed", "odr", 25, 1000, 0.015, 60, MARCH[0]),
        (
            MARCH[1],
            "transition",
            "enrolled",
            "suspended",
            "suspended_breach",
            "odr",
            25,
            1000,
            0.02,
            60,
            MARCH[0],
        ),
    ]
    row_ = second.state_table.iloc[0]
    assert (row_.state, row_.since, row_.repeats) == ("suspended", MARCH[1], 1)
    with pytest.raises(ValueError, match="before the first day replayed"):
        advance(daily, stored, MARCH[1], lambda d: None, lambda *a: NO_DAILY,
                actions=[Action("S1", "US", "suspend", MARCH[0])])  # fmt: skip


# --- validate_action: every action against every state -----------------------------------------------


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("state", list(S))
def test_validate_action_follows_the_action_table(state, action):
    until = date(2025, 3, 9) if ACTIONS[action].until != "unused" else None
    a = Action("S1", "US", action, date(2025, 3, 2), until)
    reason = validate_action(state, a)
    assert (reason is None) == (state in ACTIONS[action].states)
    if reason is not None:
        assert (reason.key, reason.params) == ("action_not_allowed", {"action": action, "state": state.value})


def test_validate_action_dates_and_standing_policies():
    s = S.SUSPENDED
    d = date(2025, 3, 2)
    assert validate_action(s, Action("S1", "US", "accept_plan", d)) is None  # until optional
    assert validate_action(s, Action("S1", "US", "accept_plan", d, d - timedelta(days=1))).key == (
        "action_until_before_effective"
    )
    assert validate_action(S.ENROLLED, Action("S1", "US", "exempt", d)).key == "action_needs_until"
    assert validate_action(S.ENROLLED, Action("S1", "US", "suspend", d, d)).key == "action_until_not_used"
    health = load_policy("amazon-account-health")
    reason = validate_action(S.AT_RISK, Action("S1", "US", "suspend", d), health)
    assert reason.text() == (
        "Action suspend is not possible: the policy is a standards check (lifecycle = standing)."
    )
    with pytest.raises(ValueError, match="unknown action 'ban'"):
        Action("S1", "US", "ban", d)


# --- the table itself --------------------------------------------------------------------------------


def test_every_reason_key_has_texts_in_both_catalogs_with_its_params():
    """Each key of the table has an English and a Chinese text (``lifecycle.<key>``, or the older
    ``reason.<key>``) whose placeholders are params the key carries."""
    import string

    en, zh = load_catalog("en"), load_catalog("zh")
    for key, spec in REASONS.items():
        found = [k for k in (f"lifecycle.{key}", f"reason.{key}") if k in en]
        assert found and found[0] in zh, key
        if found[0].startswith("lifecycle."):
            names = {n for _, n, _, _ in string.Formatter().parse(en[found[0]]) if n}
            allowed = set(spec.params) | ({"details"} if spec.lists else set())
            assert names <= allowed, (key, names - allowed)
    assert set(english_catalog()) <= {f.split(".", 1)[1] for f in en if f.startswith("lifecycle.")}


def test_rows_are_reachable_and_first_match_wins():
    """Every member row of the program table is the first match of some situation (none is shadowed)."""
    facts = ["eligible", "admitted", "admission_failed", "enforceable", "removing", "consecutive", "breached",
             "alerted", "exempt", "immune", "blocks", "suspends", "provisional"]  # fmt: skip
    reached = set()
    for state in S:
        for bits in range(2 ** len(facts)):
            situation = {f: bool(bits >> i & 1) for i, f in enumerate(facts)}
            matched = decide_one(PROGRAM, state, situation)
            if matched is not None:
                reached.add(matched.name)
    assert reached == {r.name for r in PROGRAM}


def test_publication_calendar_of_the_marketplace_enforcement_pack():
    """Assessed every day, published on Mondays; the projection targets the next Monday."""
    from cxops.lifecycle.cadence import is_evaluation_date, next_publication_date, publishes

    p = load_policy("marketplace-enforcement")
    wed, mon = date(2025, 3, 5), date(2025, 3, 10)
    assert is_evaluation_date(p, wed) and is_evaluation_date(p, mon)
    assert [publishes(p, wed + timedelta(days=i)) for i in range(7)] == [False] * 5 + [True, False]
    assert next_publication_date(p, wed) == mon and next_publication_date(p, mon) == mon
    monthly = p.model_copy(update={"cadence": p.cadence.model_copy(update={"publish_every": "month"})})
    assert next_publication_date(monthly, wed) == date(2025, 4, 1)
    ce = load_policy("customer-excellence")
    assert not is_evaluation_date(ce, wed) and is_evaluation_date(ce, date(2025, 4, 1))
    assert next_publication_date(ce, wed) == date(2025, 4, 1)
