"""The array replay (:mod:`cxops.lifecycle.batch`) against the per-seller state machine.

The reference below is the per-seller loop cxops used before the replay was vectorised: it calls
:func:`cxops.lifecycle.machine.step` for each seller at each evaluation,
:func:`~cxops.lifecycle.machine.day_step` for each seller and day and
:func:`cxops.lifecycle.actions.apply_action` for each operator action. Both read the rule tables of
:mod:`cxops.lifecycle.table`; everything else (facts, effects, reasons, events, the recovery streak) is
computed twice, per seller and in arrays. Hypothesis generates histories (scenarios per seller and
evaluation, met / not met recovery days, operator actions, enforcement policies) and every output —
statuses with their reasons, transitions, events, final states — must be identical; and a daily job
advancing stored states one day at a time must end where one replay ends.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_policy_support import frame, good_seller, row

from cxops.lifecycle import advance, decisions_from_metrics, replay
from cxops.lifecycle.actions import Action, apply_action
from cxops.lifecycle.cadence import metrics_as_of, publishes
from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import OUT_OF_PROGRAM, SellerState, day_step, step
from cxops.lifecycle.replay import (
    EVENT_COLUMNS,
    FINAL_COLUMNS,
    STATE_COLUMNS,
    STATUS_COLUMNS,
    TRANSITION_COLUMNS,
    state_record,
    state_row,
)
from cxops.lifecycle.table import ACTION_KINDS
from cxops.policy import evaluate_policy, load_policy
from cxops.policy.load import parse_policy

SELLERS = [("A", "US"), ("B", "US"), ("C", "DE"), ("D", "JP"), ("E", "BR")]
DATES = [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]


def _scenario(name: str, seller: str, marketplace: str, as_of: date) -> list[dict]:
    kw = {"marketplace": marketplace, "as_of": as_of}
    odr = {"numerator": 7, "denominator": 1000, "channel": "all"}
    orders = 10 if name == "few_orders" else 600
    orders_30 = row(seller, "order_count", orders, window=30, channel="all", **kw)
    if name == "few_orders":
        name = "odr_breach"  # a breach that the minimum order count (of the enforcement policies) shields
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
        # 0.5 %: over the alert level of the enforcement policies (0.45 %), not over the limit (0.6 %)
        "odr_alert": {"odr": row(seller, "order_defect_rate", **{**odr, "numerator": 5}, **kw)},
    }[name]
    return [*good_seller(seller, **kw, **over), orders_30]


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
#: Scenarios that matter to the enforcement policies.
ENFORCEMENT_SCENARIOS = [*SCENARIOS, "odr_alert", "odr_alert", "few_orders"]


def _world(policy, plan, daily, wide=False, dates=DATES):
    def get_results(when: date) -> pd.DataFrame:
        as_of = metrics_as_of(policy, when)
        rows = []
        for (s, m), scen in zip(SELLERS, plan[dates.index(when)], strict=True):
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


def scalar_replay(policy, dates, get_results, get_daily, until=None, actions=(), start=None, full=False):
    """The per-seller reference (the pre-vectorisation implementation of :func:`replay`, with operator
    actions and publication days). With ``full``, also the events and the state table."""
    states: dict = {}
    events: list = []
    status_rows: list = []
    by_day: dict = {}
    for a in sorted(actions, key=lambda a: a.effective):
        by_day.setdefault(a.effective, []).append(a)

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

    def run_period(lo, hi, check):
        part = lo
        for day in sorted(d for d in by_day if lo <= d <= hi):
            if check and day > part:
                run_daily(part, day - timedelta(days=1))
            for a in by_day[day]:
                key = (a.seller_id, a.marketplace_id)
                states[key], new = apply_action(states.get(key) or SellerState(*key), a, policy)
                events.extend(new)
            part = day
        if check:
            run_daily(part, hi)

    cursor = start
    for when in dates:
        run_period(cursor or when, when, cursor is not None)
        results = get_results(when)
        if len(results):
            for key, ev in build_evaluations(results, policy, when).items():
                current = states.get(key) or SellerState(key[0], key[1], since=when)
                states[key], new = step(current, ev, policy, publish=publishes(policy, when))
                events.extend(new)
        as_of = metrics_as_of(policy, when)
        status_rows.extend({**state_row(s), "evaluation_date": when, "as_of": as_of} for s in states.values())
        cursor = when + timedelta(days=1)
    if until is not None and cursor is not None and until >= cursor:
        run_period(cursor, until, True)
    rows = [e.as_row() for e in events]
    out = (
        pd.DataFrame(status_rows, columns=STATUS_COLUMNS),
        pd.DataFrame([r for r in rows if r["from_state"] != r["to_state"]], columns=TRANSITION_COLUMNS),
        pd.DataFrame([state_row(s) for s in states.values()], columns=FINAL_COLUMNS),
    )
    if full:
        out += (
            pd.DataFrame(rows, columns=EVENT_COLUMNS),
            pd.DataFrame([state_record(s) for s in states.values()], columns=STATE_COLUMNS),
        )
    return out


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


def test_reasons_rendered_in_chunks_equal_one_pass(monkeypatch):
    """``Batch.render`` takes the reasons :data:`RENDER_CHUNK` at a time (bounded memory); chunks of 2
    render every row as one pass does."""
    import cxops.lifecycle.batch as batch_module

    p = POLICIES["fast"]
    plan = [["good", "good", "young", "absent", "csat_low"]] * 3 + [["odr_breach"] * 5] * 2
    get_results, get_daily = _world(p, plan, [[True, False]] * 5)
    whole = replay(p, DATES, get_results, get_daily)
    monkeypatch.setattr(batch_module, "RENDER_CHUNK", 2)
    chunked = replay(p, DATES, get_results, get_daily)
    assert whole.statuses["reason"].notna().all() and whole.statuses["reason"].nunique() > 5
    for part in ("statuses", "transitions", "final", "events"):
        _same(getattr(chunked, part), getattr(whole, part))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(sorted(POLICIES)),
    plan=st.lists(st.lists(st.sampled_from(SCENARIOS), min_size=5, max_size=5), min_size=5, max_size=5),
    daily=st.lists(st.lists(st.booleans(), min_size=1, max_size=9), min_size=5, max_size=5),
    reasons=st.sampled_from(["all", "latest", "transitions"]),
    n_dates=st.integers(0, len(DATES)),
)
def test_streamed_statuses_equal_the_kept_ones(policy, plan, daily, reasons, n_dates):
    """``statuses_to`` receives every evaluation's rows once, in order, equal to the rows a replay keeps
    (reasons rendered the same way); the result then keeps the last evaluation's rows only."""
    p = POLICIES[policy]
    get_results, get_daily = _world(p, plan, daily)
    dates, until = DATES[:n_dates], DATES[-1] + timedelta(days=3)
    kept = replay(p, dates, get_results, get_daily, until=until, reasons=reasons)
    parts: list[pd.DataFrame] = []
    got = replay(p, dates, get_results, get_daily, until=until, reasons=reasons, statuses_to=parts.append)
    assert [part["evaluation_date"].unique().tolist() for part in parts] == [[d] for d in dates]
    streamed = pd.concat(parts, ignore_index=True) if parts else kept.statuses.iloc[0:0]
    _same(streamed, kept.statuses)
    last = kept.statuses[kept.statuses.evaluation_date == dates[-1]] if dates else kept.statuses
    _same(got.statuses.reset_index(drop=True), last.reset_index(drop=True))
    for part in ("transitions", "final", "events", "state_table"):
        _same(getattr(got, part), getattr(kept, part))


# --- enforcement: alert levels, minimum orders, suspension, immunity, blocks, actions, publication ------

DAYS = [date(2025, 3, 3) + timedelta(days=i) for i in range(12)]  # 2025-03-03 is a Monday


def _enforcement(action="suspend", immunity=3, block_after=2, min_orders=100, publish=None, consecutive=None):
    """customer-excellence (recovery in 6 days) checked daily, with alert levels on ODR (0.45 %) and VTR
    (97 %) and the given ``[enforcement]``."""
    doc = POLICIES["fast"].model_dump()
    doc["cadence"].update(every="day", weekday=2, publish_every=publish)
    for rule in doc["removal"]["rules"]:
        alert = {"odr": 0.0045, "vtr": 0.97}.get(rule["id"])
        for c in rule["criteria"]:
            c["alert_threshold"] = alert
        if consecutive and rule["id"] == "vtr":
            rule["consecutive"] = consecutive
    doc["enforcement"] = {
        "action": action,
        "immunity_days": immunity,
        "block_after": block_after,
        "min_orders": min_orders,
        "min_orders_window_days": 30 if min_orders else None,
    }
    return parse_policy(doc)


ENFORCEMENT_POLICIES = {
    "suspend": _enforcement(),
    "remove": _enforcement("remove", immunity=2, block_after=3, min_orders=None, consecutive=3),
    "weekly": _enforcement(publish="week", immunity=4),
    "no_immunity": _enforcement("remove", immunity=0, block_after=None),
    "ce_daily": POLICIES["fast"].model_copy(
        update={"cadence": POLICIES["fast"].cadence.model_copy(update={"every": "day"})}
    ),
}
UNKNOWN_SELLER = ("Z", "US")


def _actions(drawn) -> list[Action]:
    """Actions from drawn ``(seller index, day index, kind, until offset or None)``; seller index 5 is a
    seller the evaluations never see; a negative offset gives an until before the effective day."""
    out = []
    for who, day, kind, offset in drawn:
        seller, market = (SELLERS + [UNKNOWN_SELLER])[who]
        effective = DAYS[day]
        until = None if offset is None else effective + timedelta(days=offset)
        out.append(Action(seller, market, kind, effective, until, actor=f"op{who}", reason=f"case {day}"))
    return out


# reinstatements and exemptions (with an end date) drawn more often: they open the protected paths
ACTION_DRAWS = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 1, 1, 2, 3, 4, 5]),
        st.integers(0, len(DAYS) - 1),
        st.sampled_from([*ACTION_KINDS, "accept_plan", "reinstate", "exempt", "lift_block"]),
        st.one_of(st.none(), st.integers(-1, 6), st.integers(1, 6)),
    ),
    max_size=10,
)
PLANS = st.lists(
    st.lists(st.sampled_from([*ENFORCEMENT_SCENARIOS, "odr_breach", "good"]), min_size=5, max_size=5),
    min_size=12,
    max_size=12,
)
DAILY_PATTERNS = st.lists(st.lists(st.booleans(), min_size=1, max_size=5), min_size=6, max_size=6)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(sorted(ENFORCEMENT_POLICIES)),
    plan=PLANS,
    daily=DAILY_PATTERNS,
    drawn=ACTION_DRAWS,
    until_days=st.integers(0, 8),
    wide=st.booleans(),
)
def test_enforcement_replay_equals_per_seller_machine(policy, plan, daily, drawn, until_days, wide):
    """Daily checks with alert levels, minimum orders, suspension, immunity, blocks, weekly publication and
    operator actions: statuses, transitions, events and states identical to the per-seller machine."""
    p = ENFORCEMENT_POLICIES[policy]
    get_results, get_daily = _world(p, plan, daily, dates=DAYS)
    acts = _actions(drawn)
    until = DAYS[-1] + timedelta(days=until_days)
    statuses, transitions, final, events, table = scalar_replay(
        p, DAYS, get_results, get_daily, until, acts, start=DAYS[0], full=True
    )
    if wide:
        get_results, _ = _world(p, plan, daily, wide=True, dates=DAYS)
    got = replay(
        p, DAYS, get_results, get_daily, until=until, keep_sections=None, actions=acts, start=DAYS[0]
    )
    _same(got.statuses, statuses)
    _same(got.transitions, transitions)
    _same(got.final, final)
    _same(got.events, events)
    _same(got.state_table, table)
    for key, s in got.states.items():
        assert state_record(s) == table[(table.seller_id == key[0]) & (table.marketplace_id == key[1])].iloc[
            0
        ].to_dict() | {"reason": state_record(s)["reason"]}


def _by_day(events: pd.DataFrame) -> pd.DataFrame:
    """Events in day order (one replay lists a period's recovery days seller by seller)."""
    return events.sort_values(["date", "seller_id", "marketplace_id"], kind="stable").reset_index(drop=True)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(sorted(ENFORCEMENT_POLICIES)),
    plan=PLANS,
    daily=DAILY_PATTERNS,
    drawn=ACTION_DRAWS,
)
def test_daily_job_from_stored_states_equals_one_replay(policy, plan, daily, drawn):
    """``advance`` one day at a time, each day from the state table the previous day stored (a frame, as
    a store gives it back), ends with the states and events of one replay over the period."""
    p = ENFORCEMENT_POLICIES[policy]
    get_results, get_daily = _world(p, plan, daily, dates=DAYS)
    acts = _actions(drawn)
    whole = replay(
        p, DAYS, get_results, get_daily, until=DAYS[-1], keep_sections=None, actions=acts, start=DAYS[0]
    )
    table, events = None, []
    for day in DAYS:
        todays = [a for a in acts if a.effective == day]
        step_ = advance(p, table, day, get_results, get_daily, actions=todays, keep_sections=None)
        table = step_.state_table.astype(object)  # as read back from a store
        events.append(step_.events)
    _same(step_.state_table, whole.state_table)
    _same(_by_day(pd.concat(events, ignore_index=True)), _by_day(whole.events))


def test_findings_take_and_frame_across_blocks():
    """Findings kept as blocks (one per section): ``take`` keeps positions, parts and seller ids in
    step with the rows, and ``frame`` returns rows in the order asked, repeats included."""
    from cxops.lifecycle.decisions import Findings, _FrameRows
    from cxops.policy.evaluate import RESULT_COLUMNS

    a = pd.DataFrame({"criterion_id": ["a0", "a1", "a2"], "value": [0.0, 1.0, 2.0]})
    b = pd.DataFrame({"criterion_id": ["b0", "b1"], "value": [10.0, 11.0]})
    f = Findings([_FrameRows(a), _FrameRows(b)], [0, 1, 2, 3, 4], [-1, -1, -2, 0, 0]).with_sid(
        [7, 8, 9, 10, 11]
    )
    assert len(f) == 5
    sub = f.take([1, 3, 4])
    assert (
        sub.pos.tolist() == [1, 3, 4] and sub.part.tolist() == [-1, 0, 0] and sub.sid.tolist() == [8, 10, 11]
    )
    assert sub.frame()["criterion_id"].tolist() == ["a1", "b0", "b1"]
    assert f.frame([4, 0, 4, 2])["criterion_id"].tolist() == ["b1", "a0", "b1", "a2"]
    assert f.frame(columns=["value"]).to_dict("list") == {"value": [0.0, 1.0, 2.0, 10.0, 11.0]}
    assert len(f.take([])) == 0 and list(f.take([]).frame().columns) == RESULT_COLUMNS
    assert list(Findings.empty().frame().columns) == RESULT_COLUMNS
