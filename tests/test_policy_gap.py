"""Gap arithmetic: applying the gap flips the result, one unit less does not (hypothesis)."""

from __future__ import annotations

import operator as op
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxops.policy.gap import count_gap, numerator_gap, threshold_fraction

OPS = {"<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge}


def holds_exact(x: Fraction, operator: str, threshold: float) -> bool:
    return OPS[operator](x, Fraction(repr(threshold)))


def holds_float(n: int, d: int, operator: str, threshold: float) -> bool:
    """How the evaluator compares: the float rate against the float threshold."""
    return OPS[operator](n / d, threshold)


# thresholds as written in policies: decimals with up to 4 places
rate_thresholds = st.integers(0, 10_000).map(lambda i: i / 10_000)
count_thresholds = st.integers(0, 100_000).map(lambda i: i / 10)
operators = st.sampled_from(sorted(OPS))


@st.composite
def rates(draw):
    d = draw(st.integers(1, 1_000_000))
    n = draw(st.integers(0, d))
    return n, d


@given(rates(), operators, rate_thresholds)
def test_numerator_gap_flips_and_is_smallest(nd, operator, threshold):
    n, d = nd
    before = holds_exact(Fraction(n, d), operator, threshold)
    assert before == holds_float(n, d, operator, threshold)  # float and exact comparisons agree
    k = numerator_gap(n, d, operator, threshold)
    if k is None:
        # monotone in n: no flip anywhere in [0, d] iff none at either end
        assert holds_exact(Fraction(0, d), operator, threshold) == before
        assert holds_exact(Fraction(d, d), operator, threshold) == before
        return
    assert k != 0 and 0 <= n + k <= d
    assert holds_exact(Fraction(n + k, d), operator, threshold) != before  # the gap flips it
    assert holds_float(n + k, d, operator, threshold) != before
    step_back = k - (1 if k > 0 else -1)
    assert holds_exact(Fraction(n + step_back, d), operator, threshold) == before  # gap - 1 does not


@given(st.integers(0, 10_000_000), operators, count_thresholds)
def test_count_gap_flips_and_is_smallest(count, operator, threshold):
    before = OPS[operator](count, threshold)
    k = count_gap(count, operator, threshold)
    if k is None:
        assert OPS[operator](0, threshold) == before  # only lowering below 0 could flip it
        return
    assert k != 0 and count + k >= 0
    assert OPS[operator](count + k, threshold) != before
    step_back = k - (1 if k > 0 else -1)
    assert OPS[operator](count + step_back, threshold) == before


@pytest.mark.parametrize(
    ("n", "d", "operator", "threshold", "gap"),
    [
        (4, 1000, ">", 0.006, 3),  # 7/1000 = 0.7 % > 0.6 %
        (5, 1000, ">", 0.006, 2),  # "2 more defective orders would cross 0.6 %"
        (6, 1000, ">", 0.006, 1),  # exactly at 0.6 % is not over it
        (6, 1000, ">=", 0.006, -1),
        (7, 1000, ">", 0.006, -1),
        (940, 1000, ">=", 0.95, 10),  # 10 more on-time units of the same 1000
        (950, 1000, ">=", 0.95, -1),
        (6, 7, ">=", 0.95, 1),  # C23: 7 of 7
        (0, 10, "<", 0.0, None),  # a rate is never < 0
        (10, 10, "<=", 1.0, None),  # never above 100 %
        (0, 100, ">", 1.0, None),
        (3, 100, "==", 0.03, None),
    ],
)
def test_numerator_gap_examples(n, d, operator, threshold, gap):
    assert numerator_gap(n, d, operator, threshold) == gap


def test_count_gap_examples():
    assert count_gap(4, "<=", 3) == -1
    assert count_gap(80, ">=", 100) == 20
    assert count_gap(0, ">=", 1) == 1  # one IP complaint
    assert count_gap(1800, ">", 1500) == -300
    assert count_gap(0, "<", 0) is None


def test_threshold_fraction_is_the_written_decimal():
    assert threshold_fraction(0.006) == (3, 500)
    assert threshold_fraction(0.0045) == (9, 2000)
    assert threshold_fraction(1500) == (1500, 1)


def test_numerator_gap_rejects_bad_counts():
    with pytest.raises(ValueError):
        numerator_gap(1, 0, "<", 0.5)
    with pytest.raises(ValueError):
        numerator_gap(5, 4, "<", 0.5)
