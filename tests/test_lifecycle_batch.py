"""The array replay (:mod:`cxops.lifecycle.batch`) against the per-seller state machine.

The reference below is the per-seller loop cxops used before the replay was vectorised: it calls
:func:`cxops.lifecycle.machine.step` for each seller at each evaluation and
:func:`~cxops.lifecycle.machine.day_step` for each seller and day. Hypothesis generates histories
(scenarios per seller and evaluation, met / not met recovery days) and every output — statuses with
their reasons, transitions, final states — must be identical.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_support import frame, good_seller, row

from cxops.lifecycle import decisions_from_metrics, replay
from cxops.lifecycle.cadence import metrics_as_of
from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import OUT_OF_PROGRAM, SellerState, day_step, step
from cxops.lifecycle.replay import FINAL_COLUMNS, STATUS_COLUMNS, TRANSITION_COLUMNS, state_row
from cxops.policy import evaluate_policy, load_policy

SELLERS = [("A", "US"), ("B", "US"), ("C", "DE"), ("D", "JP"), ("E", "BR")]
DATES = [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]


def _scenario(name: str, seller: str, marketplace: str, as_of: date) -> list[dict]:
    kw = {"marketplace": marketplace, "as_of": as_of}
    odr = {"numerator": 7, "denominator": 1000, "channel": "all"}
    over = {
        "good": {},
        "odr_breach": {"odr": row(seller, "order_defect_rate", **odr, **kw)},
        "vtr_breach": {"vtr": row(seller, "valid_tracking_rate", numerator=700, denominator=800, **kw)},
        "warnings": {"warnings": row(seller, "account_health_warnings", 3, **kw)},
        "young": {"tenure": row(seller, "tenure_days", 100, **kw)},
        "odr_thin": {
            "odr": row(seller, "order_defect_rate", numerator=1, denominator=50, channel="all", **kw)
        },
        "csat_low": {"csat": row(seller, "customer_satisfaction_index", 70.0, 14000, 200, **kw)},
        "two_breaches": {
            "odr": row(seller, "order_defect_rate", **odr, **kw),
            "ip": row(seller, "ip_complaints", 1, **kw),
        },
        "no_volume_row": {"volume": None},
    }[name]
    return good_seller(seller, **kw, **over)


SCENARIOS = [
    "good",
    "odr_breach",
    "vtr_breach",
    "warnings",
    "young",
    "odr_thin",
    "csat_low",
    "two_breaches",
    "no_volume_row",
    "absent",
]


def _world(policy, plan, daily, wide=False):
    def get_results(when: date) -> pd.DataFrame:
        as_of = metrics_as_of(policy, when)
        rows = []
        for (s, m), scen in zip(SELLERS, plan[DATES.index(when)], strict=True):
            if scen != "absent":
                rows += _scenario(scen, s, m, as_of)
        if wide:
            return decisions_from_metrics(policy, frame(rows) if rows else frame([]))
        return evaluate_policy(policy, frame(rows)) if rows else pd.DataFrame()

    def get_daily(sellers: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
        out = []
        for s, m in sellers.values.tolist():
            i = [k for k, _ in SELLERS].index(s)
            for d in range((end - start).days + 1):
                day = start + timedelta(days=d)
                out.append((s, m, day, daily[i][day.toordinal() % len(daily[i])]))
        return pd.DataFrame(out, columns=["seller_id", "marketplace_id", "day", "admission_met"])

    return get_results, get_daily


def scalar_replay(policy, dates, get_results, get_daily, until=None):
    """The per-seller reference (the pre-vectorisation implementation of :func:`replay`)."""
    states: dict = {}
    events: list = []
    status_rows: list = []

    def run_daily(start, end):
        keys = [k for k, s in states.items() if s.state in OUT_OF_PROGRAM]
        if not keys or end < start:
            return
        frame_ = get_daily(pd.DataFrame(keys, columns=["seller_id", "marketplace_id"]), start, end)
        met = frame_[frame_["admission_met"].fillna(False).astype(bool)]
        met = set(
            zip(met["seller_id"], met["marketplace_id"], pd.to_datetime(met["day"]).dt.date, strict=True)
        )
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        for key in keys:
            state = states[key]
            for day in days:
                state, new = day_step(state, (key[0], key[1], day) in met, day, policy)
                events.extend(new)
                if state.state not in OUT_OF_PROGRAM:
                    break
            states[key] = state

    previous = None
    for when in dates:
        if previous is not None:
            run_daily(previous + timedelta(days=1), when)
        results = get_results(when)
        if len(results):
            for key, ev in build_evaluations(results, policy, when).items():
                current = states.get(key) or SellerState(key[0], key[1], since=when)
                states[key], new = step(current, ev, policy)
                events.extend(new)
        as_of = metrics_as_of(policy, when)
        status_rows.extend({**state_row(s), "evaluation_date": when, "as_of": as_of} for s in states.values())
        previous = when
    if until is not None and until > previous:
        run_daily(previous + timedelta(days=1), until)
    return (
        pd.DataFrame(status_rows, columns=STATUS_COLUMNS),
        pd.DataFrame([e.as_row() for e in events], columns=TRANSITION_COLUMNS),
        pd.DataFrame([state_row(s) for s in states.values()], columns=FINAL_COLUMNS),
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b), (a, b)
    for c in a.columns:
        x = [None if v is None or (isinstance(v, float) and v != v) else v for v in a[c].tolist()]
        y = [None if v is None or (isinstance(v, float) and v != v) else v for v in b[c].tolist()]
        assert x == y, (c, a[[c]].assign(other=b[c].to_numpy()))


def _policies():
    ce = load_policy("customer-excellence")
    fast = ce.model_copy(update={"recovery": ce.recovery.model_copy(update={"stable_days": 6})})
    rules = [r.model_copy(update={"consecutive": 3}) if r.id == "vtr" else r for r in fast.removal.rules]
    three = fast.model_copy(update={"removal": fast.removal.model_copy(update={"rules": rules})})
    standing = ce.model_copy(update={"lifecycle": "standing"})
    return {"ce": ce, "fast": fast, "three": three, "standing": standing}


POLICIES = _policies()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(sorted(POLICIES)),
    plan=st.lists(st.lists(st.sampled_from(SCENARIOS), min_size=5, max_size=5), min_size=5, max_size=5),
    daily=st.lists(st.lists(st.booleans(), min_size=1, max_size=9), min_size=5, max_size=5),
    until_days=st.integers(0, 40),
    wide=st.booleans(),
)
def test_array_replay_equals_per_seller_machine(policy, plan, daily, until_days, wide):
    """Also with ``get_results`` returning :func:`decisions_from_metrics` instead of result rows."""
    p = POLICIES[policy]
    get_results, get_daily = _world(p, plan, daily)
    until = DATES[-1] + timedelta(days=until_days)
    statuses, transitions, final = scalar_replay(p, DATES, get_results, get_daily, until)
    if wide:
        get_results, _ = _world(p, plan, daily, wide=True)
    got = replay(p, DATES, get_results, get_daily, until=until, keep_sections=None)
    _same(got.statuses, statuses)
    _same(got.transitions, transitions)
    _same(got.final, final)
    # the lazily built states match the final rows
    for key, s in got.states.items():
        f = final[(final.seller_id == key[0]) & (final.marketplace_id == key[1])].iloc[0]
        assert (s.state.value, s.since, s.recovery_streak) == (f.state, f.since, f.recovery_streak)
        assert json.dumps(dict(s.breach_counts), sort_keys=True) == f.breach_counts


def test_recovery_streak_by_hand():
    """A is enrolled in Feb, warned in Mar, removed in Apr (two ODR breaches). Recovery days from Apr 2:
    met, not met (reset on Apr 3), then met from Apr 4: the 6th day (stable_days = 6) is Apr 9."""
    p = POLICIES["fast"]
    plan = [["good"] * 5, ["odr_breach"] + ["good"] * 4, ["odr_breach"] + ["good"] * 4] + [["good"] * 5] * 2
    get_results, _ = _world(p, plan, [[True]] * 5)

    def get_daily(sellers, start, end):
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return pd.DataFrame(
            [(s, m, d, d != date(2025, 4, 3)) for s, m in sellers.values.tolist() for d in days],
            columns=["seller_id", "marketplace_id", "day", "admission_met"],
        )

    got = replay(p, DATES, get_results, get_daily)
    a = got.transitions[got.transitions.seller_id == "A"]
    assert a[["date", "from_state", "to_state", "reason"]].values.tolist() == [
        [date(2025, 2, 1), "not_eligible", "enrolled", "admitted: all admission criteria met"],
        [date(2025, 3, 1), "enrolled", "at_risk", a.reason.iloc[1]],
        [date(2025, 4, 1), "at_risk", "removed", a.reason.iloc[2]],
        [date(2025, 4, 2), "removed", "recovering", "recovering: admission bars met 1 of 6 consecutive days"],
        [date(2025, 4, 3), "recovering", "removed", "recovery reset on 2025-04-03: admission bars not met"],
        [date(2025, 4, 4), "removed", "recovering", "recovering: admission bars met 1 of 6 consecutive days"],
        [
            date(2025, 4, 9),
            "recovering",
            "candidate",
            "back in the evaluation pool: admission bars met 6 consecutive days",
        ],
        [date(2025, 5, 1), "candidate", "enrolled", "admitted: all admission criteria met"],
    ]
    assert a.reason.iloc[1].startswith("warning: order defect rate") and "(breach 1 of 2" in a.reason.iloc[1]
    assert a.rule_id.tolist()[1:3] == ["odr", "odr"]
    assert a.value.tolist()[1:3] == [0.007, 0.007]
    s = got.statuses[got.statuses.seller_id == "A"]
    assert s.state.tolist() == ["enrolled", "at_risk", "removed", "enrolled", "enrolled"]
    assert s.since.tolist() == [
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
        date(2025, 5, 1),
        date(2025, 5, 1),
    ]


@pytest.mark.parametrize("reasons", ["all", "latest"])
def test_latest_reasons_only_render_the_last_evaluation(reasons):
    p = POLICIES["fast"]
    plan = [["good", "good", "young", "absent", "csat_low"]] * 3 + [["odr_breach"] * 5] * 2
    get_results, get_daily = _world(p, plan, [[True, False]] * 5)
    full = replay(p, DATES, get_results, get_daily)
    got = replay(p, DATES, get_results, get_daily, reasons=reasons)
    last = got.statuses.evaluation_date == DATES[-1]
    _same(got.statuses[last].reset_index(drop=True), full.statuses[last].reset_index(drop=True))
    assert got.statuses["reason_key"].tolist() == full.statuses["reason_key"].tolist()
    recent = got.transitions.date > DATES[-2]
    assert recent.any() and (~recent).any()
    _same(got.transitions[recent], full.transitions[recent])
    text = ["reason", "reason_params"]
    _same(got.transitions.drop(columns=text), full.transitions.drop(columns=text))
    if reasons == "latest":
        assert got.statuses.loc[~last, "reason"].isna().all()
        assert got.transitions.loc[~recent, "reason"].isna().all()
    with pytest.raises(ValueError, match="reasons must be"):
        replay(p, DATES, get_results, get_daily, reasons="some")
