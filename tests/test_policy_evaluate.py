"""Criterion evaluation against hand-built metric frames (docs/interfaces.md format); exact numbers."""

from __future__ import annotations

import textwrap
from datetime import date

import pandas as pd
import pytest
from test_policy_support import AS_OF, frame, good_seller, row

from cxops.policy import (
    RESULT_COLUMNS,
    evaluate_criteria,
    evaluate_policy,
    load_policy,
    loads_policy,
    numerator_gap,
    section_outcome,
)
from cxops.policy.explain import criterion_reason, reason_text


@pytest.fixture(scope="module")
def ce():
    return load_policy("customer-excellence")


def _policy(body: str):
    return loads_policy('name = "t"\nversion = "1"\neffective_from = 2025-01-01\n' + textwrap.dedent(body))


def _by_id(results: pd.DataFrame, seller: str = "S1") -> dict[str, dict]:
    sub = results[results["seller_id"] == seller]
    return {r["criterion_id"]: r for r in sub.to_dict("records")}


def _outcomes(results, policy=None) -> dict[tuple[str, str], dict]:
    o = section_outcome(results, policy)
    return {(r["seller_id"], r["section"]): r for r in o.to_dict("records")}


# --- a seller who meets everything --------------------------------------------------------------


def test_good_seller_all_sections_with_exact_gaps(ce):
    results = evaluate_policy(ce, frame(good_seller("S1")))
    assert list(results.columns) == [c for c in results.columns if c in RESULT_COLUMNS]
    assert list(results.columns)[:18] == RESULT_COLUMNS[:18]
    by_section = {
        s: _by_id(results[results["section"] == s]) for s in ("eligibility", "admission", "removal")
    }

    elig = by_section["eligibility"]
    assert {k: v["result"] for k, v in elig.items()} == {
        "marketplace_in_program": "pass",
        "tenure": "pass",
        "order_volume": "pass",
        "no_major_violation": "pass",
    }
    assert elig["tenure"]["gap"] == -221  # 400 -> 179 would fail ">= 180"
    assert elig["order_volume"]["gap"] == -300  # 1800 -> 1500 is no longer "> 1500"
    assert pd.isna(elig["no_major_violation"]["gap"])  # "==" has no gap

    adm = by_section["admission"]
    assert {k: v["result"] for k, v in adm.items()} == dict.fromkeys(
        ["odr", "lsr", "csat", "otdr", "response_median", "response_late"], "pass"
    )
    assert adm["odr"]["value"] == pytest.approx(0.002)
    assert adm["odr"]["gap"] == 3  # 5/1000 = 0.5 % is not < 0.45 %
    assert adm["lsr"]["gap"] == 5  # 10/800 = 1.25 % > 1.2 %
    assert adm["otdr"]["gap"] == -41  # 949/1000 < 95 %
    assert adm["response_late"]["gap"] == 8  # 11/100 > 10 %
    assert pd.isna(adm["csat"]["gap"]) and pd.isna(adm["response_median"]["gap"])  # index, hours
    assert adm["odr"]["as_of"] == AS_OF

    rem = by_section["removal"]
    assert {k: v["result"] for k, v in rem.items()} == dict.fromkeys(
        ["odr", "vtr", "warnings", "ip_complaint"], "pass"
    )
    assert rem["odr"]["gap"] == 5  # 7/1000 = 0.7 % > 0.6 % would breach
    assert rem["vtr"]["gap"] == -31  # 759/800 < 95 % would breach
    assert rem["warnings"]["gap"] == 3
    assert rem["ip_complaint"]["gap"] == 1
    assert rem["odr"]["rule_id"] == "odr"

    outcomes = _outcomes(results, ce)
    assert {
        s: outcomes[("S1", s)]["outcome"] for s in ("eligibility", "admission", "removal", "benefits")
    } == {
        "eligibility": "met",
        "admission": "met",
        "removal": "met",
        "benefits": "not_met",  # the transparency bar (VTR >= 99 %) is not met; see compute_benefits
    }


def test_benefit_criteria_are_evaluated(ce):
    rows = good_seller("S1")
    results = evaluate_criteria(ce, frame(rows), "benefits")
    got = {r["criterion_id"]: (r["rule_id"], r["result"]) for r in results.to_dict("records")}
    assert got == {
        "otdr_incentive": ("on_time_delivery_incentive", "pass"),  # 99 % >= 98 %
        "vtr_transparency": ("transparency", "fail"),  # 98.75 % < 99 %
    }


def test_gap_column_agrees_with_numerator_gap(ce):
    rows = []
    for i, (n, d) in enumerate(
        [(0, 100), (4, 1000), (5, 1000), (6, 1000), (7, 1000), (45, 10000), (46, 10000)]
    ):
        rows += good_seller(
            f"S{i}", odr=row(f"S{i}", "order_defect_rate", numerator=n, denominator=d, channel="all")
        )
    results = evaluate_policy(ce, frame(rows))
    odr = results[results["metric"].eq("order_defect_rate")]
    assert len(odr) == 14
    for r in odr.to_dict("records"):
        assert r["gap"] == numerator_gap(
            int(r["numerator"]), int(r["denominator"]), r["operator"], r["threshold"]
        )


# --- marketplaces ---------------------------------------------------------------------------------


def test_marketplace_outside_program_is_not_eligible(ce):
    results = evaluate_criteria(ce, frame(good_seller("S1", marketplace="BR")), "eligibility")
    rows = _by_id(results)
    assert rows["marketplace_in_program"]["result"] == "fail"
    assert rows["tenure"]["result"] == "pass"  # the other criteria are still shown
    assert reason_text(criterion_reason(rows["marketplace_in_program"])) == "marketplace not in program"
    (o,) = section_outcome(results, ce).to_dict("records")
    assert (o["outcome"], o["failed"]) == ("not_met", ["marketplace_in_program"])


def test_no_marketplace_row_when_policy_covers_all():
    p = load_policy("amazon-account-health")
    results = evaluate_criteria(p, frame(good_seller("S1", marketplace="BR")), "eligibility")
    assert results.empty


# --- C23: zero and small denominators ------------------------------------------------------------


def test_c23_zero_denominator_and_min_denominator():
    p = _policy(
        """
        [[admission.criteria]]
        id = "otdr"
        metric = "on_time_delivery_rate"
        window_days = 30
        operator = ">="
        threshold = 0.95
        [[removal.rules]]
        id = "suspend"
        metric = "late_shipment_rate"
        window_days = 30
        operator = ">"
        threshold = 0.10
        min_denominator = 10
        """
    )
    metrics = frame(
        [
            row("S1", "on_time_delivery_rate", numerator=0, denominator=0, window=30, channel="all"),
            row("S2", "on_time_delivery_rate", numerator=6, denominator=7, window=30, channel="all"),
            # S3: 9 orders, 1 cancelled (out of the population by default), 2 late -> 2/8 = 25 %
            row("S3", "late_shipment_rate", numerator=2, denominator=8, window=30),
        ]
    )
    results = evaluate_policy(p, metrics)
    s1, s2, s3 = _by_id(results, "S1"), _by_id(results, "S2"), _by_id(results, "S3")

    assert s1["otdr"]["result"] == "insufficient_data"
    assert pd.isna(s1["otdr"]["value"]) and s1["otdr"]["status"] == "no_data"
    assert pd.isna(s1["otdr"]["gap"])
    assert reason_text(criterion_reason(s1["otdr"])) == "otdr: no data"

    assert s2["otdr"]["value"] == pytest.approx(0.857142857)
    assert s2["otdr"]["result"] == "fail"
    assert s2["otdr"]["gap"] == 1  # 7 of the same 7 deliveries on time would pass
    assert reason_text(criterion_reason(s2["otdr"])) == "otdr (85.714 % < 95 %)"

    assert s3["suspend"]["value"] == pytest.approx(0.25)  # the rate is still shown
    assert s3["suspend"]["result"] == "insufficient_data"  # but the rule is not applied
    assert reason_text(criterion_reason(s3["suspend"])) == "suspend: insufficient data (8 < 10)"

    outcomes = _outcomes(results, p)
    assert outcomes[("S1", "admission")]["outcome"] == "insufficient_data"
    assert outcomes[("S1", "admission")]["insufficient"] == ["otdr"]
    assert outcomes[("S2", "admission")]["outcome"] == "not_met"
    assert outcomes[("S3", "removal")]["outcome"] == "met"  # insufficient data is never a breach
    assert outcomes[("S3", "removal")]["breached"] == []
    # a metric row absent for a seller: not measured (shown), skipped by default
    assert s3["otdr"]["result"] == "not_measured"
    assert outcomes[("S3", "admission")]["outcome"] == "met"


# --- strict vs inclusive at exactly the threshold -------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "section", "result", "gap"),
    [
        ("<=", "admission", "pass", 1),  # 12/1000 = 1.2 % <= 1.2 %; 13 would fail
        ("<", "admission", "fail", -1),  # 1.2 % is not < 1.2 %; 11 would pass
        (">=", "admission", "pass", -1),
        (">", "admission", "fail", 1),
        (">", "removal", "pass", 1),  # breach is "> 1.2 %": exactly 1.2 % is no breach
        (">=", "removal", "fail", -1),  # breach is ">= 1.2 %": exactly 1.2 % is a breach
    ],
)
def test_operators_exactly_at_threshold(operator, section, result, gap):
    key = "admission.criteria" if section == "admission" else "removal.rules"
    p = _policy(
        f"""
        [[{key}]]
        id = "lsr"
        metric = "late_shipment_rate"
        window_days = 30
        operator = "{operator}"
        threshold = 0.012
        """
    )
    results = evaluate_criteria(
        p, frame([row("S1", "late_shipment_rate", numerator=12, denominator=1000, window=30)]), section
    )
    (r,) = results.to_dict("records")
    assert (r["result"], r["gap"]) == (result, gap)


def test_count_at_threshold():
    p = _policy(
        """
        [[removal.rules]]
        id = "warnings"
        metric = "account_health_warnings"
        operator = ">="
        threshold = 3
        """
    )
    m = frame([row("A", "account_health_warnings", 3), row("B", "account_health_warnings", 2)])
    got = {
        r["seller_id"]: (r["result"], r["gap"]) for r in evaluate_criteria(p, m, "removal").to_dict("records")
    }
    assert got == {"A": ("fail", -1), "B": ("pass", 1)}


# --- not measured -------------------------------------------------------------------------------


def test_not_measured_skip_or_fail(ce):
    rows = good_seller(
        "S1",
        median=row("S1", "median_first_response_hours", status="not_measured"),
        late_resp=row("S1", "late_response_rate", status="not_measured"),
    )
    results = evaluate_criteria(ce, frame(rows), "admission")
    by_id = _by_id(results)
    assert by_id["response_median"]["result"] == "not_measured"
    assert (
        reason_text(criterion_reason(by_id["response_median"])) == "median first response time: not measured"
    )
    assert section_outcome(results, ce)["outcome"].tolist() == ["met"]  # default skip

    strict = ce.model_copy(update={"admission": ce.admission.model_copy(update={"not_measured": "fail"})})
    (o,) = section_outcome(results, strict).to_dict("records")
    assert (o["outcome"], o["failed"]) == ("not_met", ["response_median", "response_late"])


def test_skip_if_insufficient(ce):
    # an AFN-only seller: no MFN shipments -> LSR has no data but does not block admission
    rows = good_seller("S1", lsr=row("S1", "late_shipment_rate", numerator=0, denominator=0, window=30))
    results = evaluate_criteria(ce, frame(rows), "admission")
    assert _by_id(results)["lsr"]["result"] == "insufficient_data"
    (o,) = section_outcome(results, ce).to_dict("records")
    assert (o["outcome"], o["insufficient"]) == ("met", [])


# --- C28: volume minimum, count caps, rate-and-count rules ---------------------------------------

EBAY_LIKE = """
[[eligibility.criteria]]
id = "volume"
label = "transaction volume"
fail_label = "volume below minimum"
metric = "order_count"
window_days = 90
operator = ">="
threshold = 100

[[admission.criteria]]
id = "defect_rate"
label = "defect rate"
metric = "order_defect_rate"
operator = "<="
threshold = 0.005

[[admission.criteria]]
id = "defect_count"
label = "defect count"
metric = "order_defect_rate"
test = "numerator"
operator = "<="
threshold = 3

[[admission.criteria]]
id = "late_rate"
label = "late shipment rate"
metric = "late_shipment_rate"
window_days = 30
operator = "<="
threshold = 0.03

[[admission.criteria]]
id = "late_count"
label = "late shipments"
metric = "late_shipment_rate"
window_days = 30
test = "numerator"
operator = "<="
threshold = 5

# below standard: rate AND count
[[removal.rules]]
id = "below_standard"
label = "below standard"
  [[removal.rules.criteria]]
  id = "defect_rate_over"
  label = "defect rate"
  metric = "order_defect_rate"
  operator = ">"
  threshold = 0.02
  [[removal.rules.criteria]]
  id = "defect_count_over"
  label = "defect count"
  metric = "order_defect_rate"
  test = "numerator"
  operator = ">="
  threshold = 5
"""


def _c28_metrics():
    return frame(
        [
            row("S1", "order_count", 80, window=90, channel="all"),
            row("S1", "order_defect_rate", numerator=0, denominator=80, channel="all"),
            row("S1", "late_shipment_rate", numerator=0, denominator=80, window=30),
            row("S2", "order_count", 2000, window=90, channel="all"),
            row("S2", "order_defect_rate", numerator=4, denominator=2000, channel="all"),
            row("S2", "late_shipment_rate", numerator=0, denominator=2000, window=30),
        ]
    )


def test_c28_volume_minimum_and_count_cap():
    p = _policy(EBAY_LIKE)
    results = evaluate_policy(p, _c28_metrics())
    s1, s2 = _by_id(results, "S1"), _by_id(results, "S2")

    assert s1["volume"]["result"] == "fail"
    assert reason_text(criterion_reason(s1["volume"])) == "volume below minimum (80 < 100)"
    assert s1["volume"]["gap"] == 20
    for cid in ("defect_rate", "defect_count", "late_rate", "late_count"):
        assert s1[cid]["result"] == "pass", cid  # every quality criterion shows as passed
    assert reason_text(criterion_reason(s1["defect_rate"])) == "defect rate (0 % <= 0.5 %)"

    assert s2["volume"]["result"] == "pass"
    assert reason_text(criterion_reason(s2["volume"])) == "transaction volume (2000 >= 100)"
    assert s2["defect_rate"]["result"] == "pass"  # 0.2 % <= 0.5 %
    assert s2["defect_count"]["result"] == "fail"
    assert reason_text(criterion_reason(s2["defect_count"])) == "defect count (4 > 3)"
    assert s2["defect_count"]["gap"] == -1

    outcomes = _outcomes(results, p)
    assert outcomes[("S1", "eligibility")]["failed"] == ["volume"]
    assert outcomes[("S1", "admission")]["outcome"] == "met"
    assert outcomes[("S2", "admission")]["failed"] == ["defect_count"]


def test_removal_rule_needs_all_criteria_breached():
    p = _policy(EBAY_LIKE)
    metrics = frame(
        [
            row("A", "order_defect_rate", numerator=3, denominator=100, channel="all"),  # 3 % but 3 defects
            row("B", "order_defect_rate", numerator=6, denominator=200, channel="all"),  # 3 % and 6 defects
            row("C", "order_defect_rate", numerator=6, denominator=1000, channel="all"),  # 0.6 %, 6 defects
        ]
    )
    results = evaluate_criteria(p, metrics, "removal")
    outcome = {r["seller_id"]: r for r in section_outcome(results, p).to_dict("records")}
    assert outcome["A"]["breached"] == [] and outcome["A"]["outcome"] == "met"
    assert outcome["B"]["breached"] == ["below_standard"] and outcome["B"]["outcome"] == "not_met"
    assert outcome["B"]["failed"] == ["defect_rate_over", "defect_count_over"]
    assert outcome["C"]["breached"] == [] and outcome["C"]["failed"] == []
    b = _by_id(results, "B")
    assert reason_text(criterion_reason(b["defect_rate_over"])) == "defect rate (3 % > 2 %)"


# --- frame checks ----------------------------------------------------------------------------------


def test_rejects_several_as_of_and_duplicates(ce):
    rows = good_seller("S1") + [row("S1", "tenure_days", 401, as_of=date(2025, 2, 1))]
    with pytest.raises(ValueError, match="several as_of"):
        evaluate_criteria(ce, frame(rows), "eligibility")
    rows = good_seller("S1") + [row("S1", "tenure_days", 401)]
    with pytest.raises(ValueError, match="duplicate"):
        evaluate_criteria(ce, frame(rows), "eligibility")
    with pytest.raises(ValueError, match="unknown section"):
        evaluate_criteria(ce, frame(good_seller("S1")), "recovery")


def test_many_sellers_one_row_per_criterion(ce):
    rows = [r for i in range(50) for r in good_seller(f"S{i:02d}", marketplace=["US", "DE", "JP"][i % 3])]
    results = evaluate_policy(ce, frame(rows))
    n_criteria = 4 + 6 + 4 + 2  # eligibility (+ marketplace row), admission, removal, benefits
    assert len(results) == 50 * n_criteria
    assert not results.duplicated(["seller_id", "marketplace_id", "section", "criterion_id"]).any()


def test_reasons_read_only_their_columns_and_grid_rows_build_only_those_asked(ce):
    """A reason rendered from the :data:`REASON_COLUMNS` of a result row equals one from the whole row
    (the replay builds only those columns), and ``GridRows.frame(columns)`` equals those columns of the
    whole frame, for passes, failures, breaches, missing data and provisional values."""
    from cxops.policy.evaluate import prepare_metrics, section_grid
    from cxops.policy.explain import REASON_COLUMNS

    rows = []
    for i in range(40):
        s, kw = f"S{i:02d}", {"marketplace": ["US", "DE", "BR"][i % 3], "channel": "all"}
        over = {}
        if i % 4 == 1:  # fails admission, breaches removal
            over["odr"] = row(s, "order_defect_rate", numerator=3 + i, denominator=200, **kw)
        if i % 4 == 2:
            over["lsr"] = None  # not measured
            over["odr"] = row(s, "order_defect_rate", numerator=0, denominator=3, **kw)  # below the minimum
        rows += good_seller(s, marketplace=kw["marketplace"], **over)
    metrics = frame(rows)
    if "coverage" not in metrics:
        metrics["coverage"] = [0.5 if i % 7 == 0 else None for i in range(len(metrics))]
    prep = prepare_metrics(metrics)
    seen = set()
    for section in ("eligibility", "admission", "removal", "alert", "benefits"):
        grid = section_grid(ce, prep, section)
        whole = grid.frame()
        if not len(whole):
            continue
        cells = grid.take()
        part = cells.take([0, len(cells) - 1]).frame(REASON_COLUMNS)
        assert list(part.columns) == list(REASON_COLUMNS)
        pd.testing.assert_frame_equal(part, whole.iloc[[0, -1]][list(REASON_COLUMNS)].reset_index(drop=True))
        for full in whole.to_dict("records"):
            reason = criterion_reason(full)
            assert criterion_reason({c: full[c] for c in REASON_COLUMNS}) == reason
            seen.add(reason["key"])
    assert {"criterion_passed", "criterion_failed", "criterion_breached", "criterion_not_measured",
            "criterion_below_minimum", "marketplace_not_in_program"} <= seen, seen  # fmt: skip
