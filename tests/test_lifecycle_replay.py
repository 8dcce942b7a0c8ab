"""Cadence, replay over evaluation dates with the daily recovery check, and benefits."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from test_policy_support import frame, good_seller, row

from cxops.lifecycle import (
    compute_benefits,
    daily_admission,
    evaluation_dates,
    metrics_as_of,
    next_evaluation_date,
    replay,
)
from cxops.policy import SECTIONS, evaluate_policy, load_policy


@pytest.fixture(scope="module")
def ce():
    return load_policy("customer-excellence")


# --- cadence -------------------------------------------------------------------------------------


def test_monthly_evaluation_dates(ce):
    assert evaluation_dates(ce, date(2025, 1, 15), date(2025, 5, 1)) == [
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
        date(2025, 5, 1),  # end inclusive
    ]
    assert evaluation_dates(ce, date(2025, 1, 1), date(2025, 2, 28)) == [date(2025, 2, 1)]
    assert evaluation_dates(ce, date(2024, 11, 30), date(2025, 1, 31)) == [
        date(2024, 12, 1),
        date(2025, 1, 1),
    ]
    assert evaluation_dates(ce, date(2025, 3, 1), date(2025, 3, 1)) == []
    assert metrics_as_of(ce, date(2025, 3, 1)) == date(2025, 2, 28)
    assert next_evaluation_date(ce, date(2025, 3, 1)) == date(2025, 3, 1)
    assert next_evaluation_date(ce, date(2025, 3, 2)) == date(2025, 4, 1)


def test_weekly_and_daily_cadence(ce):
    weekly = ce.model_copy(update={"cadence": ce.cadence.model_copy(update={"every": "week", "weekday": 0})})
    # 2025-01-06 is a Monday: not after itself
    assert evaluation_dates(weekly, date(2025, 1, 6), date(2025, 1, 27)) == [
        date(2025, 1, 13),
        date(2025, 1, 20),
        date(2025, 1, 27),
    ]
    daily = load_policy("amazon-account-health")
    assert evaluation_dates(daily, date(2025, 1, 30), date(2025, 2, 2)) == [
        date(2025, 1, 31),
        date(2025, 2, 1),
        date(2025, 2, 2),
    ]


# --- replay --------------------------------------------------------------------------------------

DATES = [date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]


class World:
    """Fake metrics source: A is good throughout; B breaches ODR at the Mar and Apr evaluations (removed
    on Apr 1) and is good every day afterwards; C is too young until June."""

    def __init__(self, policy):
        self.policy = policy
        self.daily_calls: list[tuple[list, date, date]] = []

    def get_results(self, when: date) -> pd.DataFrame:
        as_of = metrics_as_of(self.policy, when)
        rows = good_seller("A", as_of=as_of)
        odr = 7 if when in (date(2025, 3, 1), date(2025, 4, 1)) else 2
        b_odr = row("B", "order_defect_rate", numerator=odr, denominator=1000, channel="all", as_of=as_of)
        rows += good_seller("B", as_of=as_of, odr=b_odr)
        tenure = 200 if when >= date(2025, 6, 1) else 100
        c_tenure = row("C", "tenure_days", tenure, marketplace="DE", as_of=as_of)
        rows += good_seller("C", marketplace="DE", as_of=as_of, tenure=c_tenure)
        return evaluate_policy(self.policy, frame(rows))

    def get_daily_admission(self, sellers: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
        self.daily_calls.append((sellers.values.tolist(), start, end))
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return pd.DataFrame(
            [(s, m, d, True) for s, m in sellers.values.tolist() for d in days],
            columns=["seller_id", "marketplace_id", "day", "admission_met"],
        )


def test_replay_full_cycle(ce):
    world = World(ce)
    result = replay(ce, DATES, world.get_results, world.get_daily_admission)

    # the daily check runs once per evaluation period, only for removed/recovering sellers
    assert world.daily_calls == [
        ([["B", "US"]], date(2025, 4, 2), date(2025, 5, 1)),
        ([["B", "US"]], date(2025, 5, 2), date(2025, 6, 1)),
    ]

    st = result.statuses
    assert len(st) == 3 * 5
    assert list(st.columns[:7]) == [
        "seller_id",
        "marketplace_id",
        "evaluation_date",
        "as_of",
        "state",
        "since",
        "reason",
    ]
    b = st[st["seller_id"] == "B"].set_index("evaluation_date")
    assert b["state"].tolist() == ["enrolled", "at_risk", "removed", "recovering", "enrolled"]
    assert b.loc[date(2025, 5, 1), "recovery_streak"] == 30  # Apr 2 .. May 1
    assert b.loc[date(2025, 5, 1), "reason"] == "recovering: admission bars met 30 of 45 consecutive days"
    assert b.loc[date(2025, 4, 1), "since"] == date(2025, 4, 1)
    assert b.loc[date(2025, 3, 1), "as_of"] == date(2025, 2, 28)
    assert json.loads(b.loc[date(2025, 3, 1), "breach_counts"]) == {"odr": 1}
    a = st[st["seller_id"] == "A"]
    assert a["state"].tolist() == ["enrolled"] * 5
    c = st[st["seller_id"] == "C"]
    assert c["state"].tolist() == ["not_eligible"] * 4 + ["enrolled"]
    assert c["reason"].iloc[0] == "operating at least 6 months (100 < 180)"

    tb = result.transitions[result.transitions["seller_id"] == "B"]
    assert tb[["date", "from_state", "to_state"]].assign(
        rule_id=tb["rule_id"].fillna("-")
    ).values.tolist() == [
        [date(2025, 2, 1), "not_eligible", "enrolled", "-"],
        [date(2025, 3, 1), "enrolled", "at_risk", "odr"],
        [date(2025, 4, 1), "at_risk", "removed", "odr"],
        [date(2025, 4, 2), "removed", "recovering", "-"],
        [date(2025, 5, 16), "recovering", "candidate", "-"],  # 45th consecutive day
        [date(2025, 6, 1), "candidate", "enrolled", "-"],
    ]
    removal = tb.iloc[2]
    assert (removal["metric"], removal["value"], removal["threshold"], removal["operator"]) == (
        "order_defect_rate",
        0.007,
        0.006,
        ">",
    )
    assert (removal["window_days"], removal["as_of"]) == (60, date(2025, 3, 31))
    assert removal["reason"] == "removed: order defect rate (0.7 % > 0.6 %) at 2 consecutive evaluations"
    assert removal["reason_key"] == "removed_consecutive"

    final = result.final.set_index("seller_id")
    assert final["state"].to_dict() == {"A": "enrolled", "B": "enrolled", "C": "enrolled"}
    assert set(result.states) == {("A", "US"), ("B", "US"), ("C", "DE")}
    assert set(result.results["evaluation_date"]) == set(DATES)
    assert set(result.results["section"]) == {"benefits"}
    full = replay(ce, DATES[:1], world.get_results, world.get_daily_admission, keep_sections=SECTIONS)
    # customer-excellence has no alert levels and no minimum order count: those sections are empty
    assert set(full.results["section"]) == set(SECTIONS) - {"alert", "enforcement"}


def test_replay_missing_days_count_as_not_met_and_until(ce):
    world = World(ce)

    def sparse(sellers, start, end):
        full = world.get_daily_admission(sellers, start, end)
        return full[pd.to_datetime(full["day"]) != pd.Timestamp(2025, 4, 20)]  # no data that day

    result = replay(ce, DATES[:4], world.get_results, sparse, until=date(2025, 6, 3))
    b = result.final.set_index("seller_id").loc["B"]
    # reset on Apr 20; streak restarts Apr 21 -> 45th day is Jun 4, after `until`
    assert (b["state"], b["recovery_streak"]) == ("recovering", 44)
    assert world.daily_calls[-1][1:] == (date(2025, 5, 2), date(2025, 6, 3))


def test_daily_admission_from_a_series(ce):
    days = [date(2025, 4, 1), date(2025, 4, 2), date(2025, 4, 3)]
    rows = []
    for i, as_of in enumerate(days):
        defects = 5 if i == 1 else 2  # 0.5 % on the middle day: admission bar (< 0.45 %) missed
        odr = row("B", "order_defect_rate", numerator=defects, denominator=1000, channel="all", as_of=as_of)
        rows += good_seller("B", as_of=as_of, odr=odr)
    out = daily_admission(ce, frame(rows))
    assert out[["seller_id", "day", "admission_met"]].values.tolist() == [
        ["B", date(2025, 4, 2), True],
        ["B", date(2025, 4, 3), False],
        ["B", date(2025, 4, 4), True],
    ]


# --- benefits ------------------------------------------------------------------------------------


def _history(ce, sellers: dict[str, tuple[str, list[float], float]]):
    """Results of 3 monthly evaluations; sellers: id -> (marketplace, OTDR per month, VTR)."""
    frames = []
    for i, when in enumerate(DATES[:3]):
        as_of = metrics_as_of(ce, when)
        rows = []
        for seller, (mkt, otdr, vtr) in sellers.items():
            if otdr[i] is None:
                continue
            rows += good_seller(
                seller,
                marketplace=mkt,
                as_of=as_of,
                otdr=row(seller, "on_time_delivery_rate", numerator=round(otdr[i] * 1000), denominator=1000,
                         window=30, channel="all", marketplace=mkt, as_of=as_of),
                vtr=row(seller, "valid_tracking_rate", numerator=round(vtr * 1000), denominator=1000,
                        marketplace=mkt, as_of=as_of),
            )  # fmt: skip
        frames.append(evaluate_policy(ce, frame(rows)).assign(evaluation_date=when))
    return pd.concat(frames, ignore_index=True)


def test_compute_benefits(ce):
    sellers = {
        "E1": (
            "US",
            [0.985, 0.995, 0.992],
            0.995,
        ),  # weakest 98.5 % -> 5 %; US and VTR 99.5 % -> transparency
        "E2": ("CA", [0.99, 0.99, 0.99], 0.990),  # exactly 99 % -> 7.5 %; VTR exactly 99 % -> transparency
        "H1": ("DE", [0.996, 0.999, 0.995], 0.995),  # home: weakest 99.5 % -> 10 %; DE: no transparency
        "F1": ("US", [0.999, 0.999, 0.999], 0.985),  # fashion: no incentive; VTR 98.5 %: no transparency
        "E3": ("US", [0.979, 0.999, 0.999], 0.995),  # one month below 98 %: no incentive
        "E4": ("US", [None, 0.999, 0.999], 0.995),  # only 2 evaluations: no incentive
        "R1": ("JP", [0.999, 0.999, 0.999], 0.999),  # at risk: still a member
        "N1": ("US", [0.999, 0.999, 0.999], 0.999),  # candidate: nothing
    }
    history = _history(ce, sellers)
    last = DATES[2]
    state = {s: "enrolled" for s in sellers} | {"R1": "at_risk", "N1": "candidate"}
    statuses = pd.DataFrame(
        [(s, sellers[s][0], last, state[s]) for s in sellers]
        + [("N1", "US", DATES[1], "enrolled")],  # an earlier evaluation does not count
        columns=["seller_id", "marketplace_id", "evaluation_date", "state"],
    )
    categories = pd.DataFrame(
        [
            ("E1", "US", "Consumer Electronics"),
            ("E2", "CA", "electronics"),
            ("H1", "DE", "Home & Kitchen"),
            ("F1", "US", "Fashion"),
            ("E3", "US", "Electronics"),
            ("E4", "US", "Electronics"),
            ("R1", "JP", "Home"),
            ("N1", "US", "Electronics"),
        ],
        columns=["seller_id", "marketplace_id", "primary_category"],
    )
    out = compute_benefits(ce, statuses, history, categories)
    assert list(out.columns) == ["seller_id", "marketplace_id", "benefit", "detail", "value"]
    assert "N1" not in set(out["seller_id"])

    standard = out[out["benefit"] == "traffic_support"]
    assert sorted(standard["seller_id"]) == ["E1", "E2", "E3", "E4", "F1", "H1", "R1"]
    assert out[out["seller_id"] == "F1"]["benefit"].tolist() == [
        "traffic_support",
        "priority_review",
        "account_manager",
        "training",
    ]

    incentive = out[out["benefit"] == "on_time_delivery_incentive"].set_index("seller_id")["value"].to_dict()
    assert incentive == {"E1": 0.05, "E2": 0.075, "H1": 0.10, "R1": 0.10}
    e1 = out[(out["seller_id"] == "E1") & (out["benefit"] == "on_time_delivery_incentive")]["detail"].item()
    assert e1 == (
        "On-time delivery incentive: storage fee discount: storage fee discount 5 % "
        "(weakest on-time delivery rate of the last 3 evaluations: 98.5 %)"
    )

    transparency = out[out["benefit"] == "transparency"].set_index("seller_id")["value"].to_dict()
    assert transparency == {"E1": pytest.approx(0.995), "E2": pytest.approx(0.99), "E3": pytest.approx(0.995),
                            "E4": pytest.approx(0.995)}  # fmt: skip


def test_compute_benefits_from_replay(ce):
    world = World(ce)
    result = replay(ce, DATES, world.get_results, world.get_daily_admission)
    out = compute_benefits(ce, result.statuses, result.results, sellers=None)
    # every seller is enrolled at the last evaluation; categories unknown -> no incentive; VTR 98.75 %
    assert sorted(set(out["benefit"])) == [
        "account_manager",
        "priority_review",
        "traffic_support",
        "training",
    ]
    assert len(out) == 3 * 4
