"""Policy loading and validation: built-in packs, all errors at once with key paths."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from cxops.policy import PolicyError, list_packs, load_policy, loads_policy


def _policy(body: str) -> str:
    head = 'name = "t"\nversion = "1"\neffective_from = 2025-01-01\n'
    return head + textwrap.dedent(body)


def _issues(text: str) -> dict[str, str]:
    with pytest.raises(PolicyError) as exc:
        loads_policy(text, "my.toml")
    return {i.key: i.reason for i in exc.value.issues}


# --- built-in packs -----------------------------------------------------------------------------


def test_list_packs():
    names = [name for name, _, _ in list_packs()]
    assert names == ["amazon-account-health", "customer-excellence", "marketplace-enforcement"]
    assert all(version and description for _, version, description in list_packs())


def test_customer_excellence_is_program_md():
    p = load_policy()  # the default pack
    assert p.name == "customer-excellence"
    assert p.marketplaces == ["US", "CA", "DE", "UK", "FR", "JP"]
    assert (p.cadence.every, p.cadence.day_of_month, p.cadence.metrics_lag_days) == ("month", 1, 1)

    elig = {c.id: c for c in p.eligibility.criteria}
    assert (elig["tenure"].metric, elig["tenure"].operator, elig["tenure"].threshold) == (
        "tenure_days",
        ">=",
        180,
    )
    assert elig["tenure"].window_days is None
    vol = elig["order_volume"]
    assert (vol.metric, vol.window_days, vol.operator, vol.threshold) == ("order_count", 90, ">", 1500)
    major = elig["no_major_violation"]
    assert (major.metric, major.window_days, major.operator, major.threshold) == (
        "major_violations",
        90,
        "==",
        0,
    )

    adm = {c.id: (c.metric, c.window_days, c.channel, c.operator, c.threshold) for c in p.admission.criteria}
    assert adm == {
        "odr": ("order_defect_rate", 60, "all", "<", 0.0045),
        "lsr": ("late_shipment_rate", 30, "mfn", "<=", 0.012),
        "csat": ("customer_satisfaction_index", 90, "all", ">=", 86),
        "otdr": ("on_time_delivery_rate", 30, "all", ">=", 0.95),
        "response_median": ("median_first_response_hours", 90, "all", "<", 12),
        "response_late": ("late_response_rate", 90, "all", "<=", 0.10),
    }

    rules = {r.id: r for r in p.removal.rules}
    assert list(rules) == ["odr", "vtr", "warnings", "ip_complaint"]
    assert all(len(r.criteria) == 1 for r in rules.values())
    got = {
        rid: (r.consecutive, c.metric, c.window_days, c.channel, c.operator, c.threshold)
        for rid, r in rules.items()
        for c in r.criteria
    }
    assert got == {
        "odr": (2, "order_defect_rate", 60, "all", ">", 0.006),
        "vtr": (1, "valid_tracking_rate", 30, "mfn", "<", 0.95),
        "warnings": (1, "account_health_warnings", 180, "all", ">=", 3),
        "ip_complaint": (1, "ip_complaints", 90, "all", ">=", 1),
    }
    assert p.recovery.stable_days == 45

    b = p.benefits
    assert [s.id for s in b.standard] == ["traffic_support", "priority_review", "account_manager", "training"]
    (incentive,) = b.incentives
    assert incentive.categories == ["electronics", "home"]
    assert incentive.evaluations == 3
    assert (incentive.criterion.metric, incentive.criterion.operator, incentive.criterion.threshold) == (
        "on_time_delivery_rate",
        ">=",
        0.98,
    )
    assert [(t.at_least, t.value) for t in incentive.tiers] == [(0.98, 0.05), (0.99, 0.075), (0.995, 0.10)]
    (rec,) = b.recommendations
    assert rec.marketplaces == ["US", "CA"]
    assert (rec.criterion.metric, rec.criterion.operator, rec.criterion.threshold) == (
        "valid_tracking_rate",
        ">=",
        0.99,
    )


def test_amazon_account_health_pack():
    p = load_policy("amazon-account-health")
    assert p.lifecycle == "standing"
    assert p.marketplaces == []
    assert p.removal.rules == []
    got = {c.id: (c.metric, c.window_days, c.channel, c.operator, c.threshold) for c in p.admission.criteria}
    assert got == {
        "odr_mfn": ("order_defect_rate", 60, "mfn", "<", 0.01),
        "odr_afn": ("order_defect_rate", 60, "afn", "<", 0.01),
        "lsr_10": ("late_shipment_rate", 10, "mfn", "<", 0.04),
        "lsr_30": ("late_shipment_rate", 30, "mfn", "<", 0.04),
        "pfcr": ("pre_fulfillment_cancel_rate", 7, "mfn", "<", 0.025),
        "vtr": ("valid_tracking_rate", 30, "mfn", ">=", 0.95),
        "otdr": ("on_time_delivery_rate", 14, "mfn", ">=", 0.90),
    }
    assert all(c.skip_if_insufficient for c in p.admission.criteria)


def test_load_from_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        _policy(
            """
            [[admission.criteria]]
            id = "odr"
            metric = "order_defect_rate"
            operator = "<"
            threshold = 0.01
            """
        )
    )
    p = load_policy(path)
    assert p.effective_from == date(2025, 1, 1)
    c = p.admission.criteria[0]
    # single window and "all" filled in from the catalog
    assert (c.window_days, c.channel, c.test, c.display_label) == (60, "all", "value", "odr")
    assert load_policy(str(path)) == p


def test_channel_defaults_to_the_only_channel():
    p = loads_policy(
        _policy(
            """
            [[admission.criteria]]
            id = "vtr"
            metric = "valid_tracking_rate"
            operator = ">="
            threshold = 0.95
            """
        )
    )
    assert p.admission.criteria[0].channel == "mfn"


# --- errors ------------------------------------------------------------------------------------


def test_all_errors_at_once_with_key_paths():
    text = _policy(
        """
        lifecycl = "program"

        [cadence]
        every = "fortnight"

        [[admission.criteria]]
        id = "a"
        metric = "order_defect_rate"
        window_days = 30
        operator = "<"
        threshold = "abc"

        [[admission.criteria]]
        id = "a"
        metric = "late_shipment_rate"
        channel = "afn"
        operator = "=<"
        threshold = 4

        [[admission.criteria]]
        id = "c"
        metric = "nope"
        operator = "<"
        threshold = 1

        [[removal.rules]]
        id = "r"
        metric = "account_health_warnings"
        operator = ">="
        threshold = "one"
        consecutive = 0
        colour = "red"
        """
    )
    with pytest.raises(PolicyError) as exc:
        loads_policy(text, "my.toml")
    issues = exc.value.issues
    assert all(i.file == "my.toml" for i in issues)
    by_key = {i.key: i.reason for i in issues}
    assert set(by_key) == {
        "lifecycl",
        "cadence.every",
        "admission.criteria[0].window_days",
        "admission.criteria[0].threshold",
        "admission.criteria[1].id",
        "admission.criteria[1].window_days",
        "admission.criteria[1].channel",
        "admission.criteria[1].operator",
        "admission.criteria[1].threshold",
        "admission.criteria[2].metric",
        "removal.rules[0].threshold",  # flat rule: reported on the rule, not on criteria[0]
        "removal.rules[0].consecutive",
        "removal.rules[0].colour",
    }
    assert by_key["lifecycl"] == "unknown key"
    assert "windows 60 days, not 30" in by_key["admission.criteria[0].window_days"]
    assert "required" in by_key["admission.criteria[1].window_days"]
    assert "channel mfn, not 'afn'" in by_key["admission.criteria[1].channel"]
    assert "0.0045" in by_key["admission.criteria[1].threshold"]  # rates are fractions
    assert "duplicate criterion id 'a'" in by_key["admission.criteria[1].id"]
    assert "unknown metric 'nope'" in by_key["admission.criteria[2].metric"]
    message = str(exc.value)
    assert message.startswith(f"{len(issues)} errors in policy:")
    assert "my.toml: admission.criteria[1].operator:" in message
    assert len(message.splitlines()) == len(issues) + 1


def test_missing_required_keys():
    by_key = _issues("[admission]\n")
    assert by_key == {
        "name": "required key is missing",
        "version": "required key is missing",
        "effective_from": "required key is missing",
    }


def test_rule_with_criteria_list_paths_and_duplicate_rule_ids():
    by_key = _issues(
        _policy(
            """
            [[removal.rules]]
            id = "r"
            [[removal.rules.criteria]]
            id = "rate"
            metric = "order_defect_rate"
            operator = ">"
            threshold = 0.02
            [[removal.rules.criteria]]
            id = "count"
            metric = "order_defect_rate"
            test = "numerator"
            operator = ">="
            threshold = 5
            window_days = 90

            [[removal.rules]]
            id = "r"
            metric = "account_health_warnings"
            operator = ">="
            threshold = 1
            """
        )
    )
    assert set(by_key) == {"removal.rules[0].criteria[1].window_days", "removal.rules[1].id"}
    assert "duplicate removal rule id 'r'" in by_key["removal.rules[1].id"]


def test_same_criterion_id_in_two_sections_is_fine_and_numerator_test_allows_counts():
    p = loads_policy(
        _policy(
            """
            [[admission.criteria]]
            id = "odr"
            metric = "order_defect_rate"
            operator = "<"
            threshold = 0.005
            [[admission.criteria]]
            id = "odr_count"
            metric = "order_defect_rate"
            test = "numerator"
            operator = "<="
            threshold = 3
            [[removal.rules]]
            id = "odr"
            metric = "order_defect_rate"
            operator = ">"
            threshold = 0.02
            """
        )
    )
    assert [c.id for c in p.admission.criteria] == ["odr", "odr_count"]


def test_tenure_has_no_window_and_tiers_ascend_and_standing_has_no_removal():
    by_key = _issues(
        _policy(
            """
            lifecycle = "standing"
            [[eligibility.criteria]]
            id = "tenure"
            metric = "tenure_days"
            window_days = 90
            operator = ">="
            threshold = 180
            [[removal.rules]]
            id = "ip"
            metric = "account_health_warnings"
            operator = ">="
            threshold = 1
            [[benefits.incentives]]
            id = "inc"
            label = "x"
            tiers = [
              { at_least = 0.99, value = 0.05, label = "a" },
              { at_least = 0.98, value = 0.07, label = "b" },
            ]
            [benefits.incentives.criterion]
            id = "c"
            metric = "on_time_delivery_rate"
            window_days = 30
            operator = ">="
            threshold = 0.98
            """
        )
    )
    assert set(by_key) == {
        "eligibility.criteria[0].window_days",
        "removal.rules",
        "benefits.incentives[0].tiers[1].at_least",
    }


def test_toml_syntax_error_and_unknown_pack(tmp_path):
    with pytest.raises(PolicyError) as exc:
        loads_policy("name = \n", "bad.toml")
    (issue,) = exc.value.issues
    assert issue.file == "bad.toml" and "TOML syntax error" in issue.reason and "line 1" in issue.reason

    with pytest.raises(PolicyError) as exc:
        load_policy("no-such-pack")
    assert "built-in packs: amazon-account-health, customer-excellence, marketplace-enforcement" in str(
        exc.value
    )

    with pytest.raises(PolicyError) as exc:
        load_policy(tmp_path / "absent.toml")
    assert exc.value.issues[0].reason == "file not found"


# --- enforcement keys ------------------------------------------------------------------------------


def test_marketplace_enforcement_pack_and_daily_example():
    p = load_policy("marketplace-enforcement")
    assert (p.cadence.every, p.cadence.publish_every, p.cadence.weekday) == ("day", "week", 0)
    e = p.enforcement
    assert (e.action, e.min_orders, e.min_orders_window_days, e.immunity_days, e.block_after) == (
        "suspend",
        25,
        30,
        30,
        3,
    )
    assert [r.id for r in p.alert_rules] == ["odr", "lsr", "cancel"]
    alert = {c.id: c.threshold for _, c in p.criteria("alert")}
    assert alert == {"odr": 0.01, "lsr": 0.04, "cancel": 0.025}
    ((_, minimum),) = p.criteria("enforcement")
    assert (minimum.id, minimum.metric, minimum.window_days, minimum.operator, minimum.threshold) == (
        "min_orders",
        "order_count",
        30,
        ">=",
        25,
    )
    example = load_policy(Path(__file__).resolve().parent.parent / "examples" / "daily-enforcement.toml")
    assert (example.cadence.every, example.cadence.publish_every, example.enforcement.immunity_days) == (
        "day",
        None,
        7,
    )
    # without [enforcement] and alert thresholds nothing changes
    ce = load_policy("customer-excellence")
    assert ce.enforcement.action == "remove" and ce.enforcement.min_orders is None
    assert ce.criteria("alert") == [] and ce.criteria("enforcement") == []


def test_enforcement_errors_all_at_once_with_key_paths():
    by_key = _issues(
        _policy(
            """
            [cadence]
            every = "day"
            publish_every = "fortnight"

            [[admission.criteria]]
            id = "odr"
            metric = "order_defect_rate"
            window_days = 60
            operator = "<"
            threshold = 0.01
            alert_threshold = 0.008

            [[removal.rules]]
            id = "odr"
            metric = "order_defect_rate"
            window_days = 60
            operator = ">"
            threshold = 0.02
            alert_threshold = 0.03

            [[removal.rules]]
            id = "vtr"
            metric = "valid_tracking_rate"
            operator = "<"
            threshold = 0.95
            alert_threshold = 97

            [[removal.rules]]
            id = "ip"
            metric = "ip_complaints"
            window_days = 90
            operator = "=="
            threshold = 1
            alert_threshold = 0

            [enforcement]
            action = "ban"
            min_orders = 0
            min_orders_window_days = 60
            immunity_days = -1
            block_after = 0
            grace = 3
            """
        )
    )
    assert by_key == {
        "cadence.publish_every": "Input should be 'week' or 'month' (got 'fortnight')",
        "admission.criteria[0].alert_threshold": "alert_threshold is only used in removal rules",
        "removal.rules[0].alert_threshold": (
            "an alert level warns before the limit: with operator '>' it must be below the threshold 0.02, "
            "not 0.03"
        ),
        "removal.rules[1].alert_threshold": (
            "valid_tracking_rate is a rate written as a fraction (0.45 % is 0.0045); 97 is outside 0–1"
        ),
        "removal.rules[2].alert_threshold": (
            "an alert level needs an ordering operator (<, <=, >, >=), not =="
        ),
        "enforcement.action": "Input should be 'remove' or 'suspend' (got 'ban')",
        "enforcement.min_orders": "Input should be greater than or equal to 1 (got 0)",
        "enforcement.min_orders_window_days": "order_count is computed for windows 30, 90 days, not 60",
        "enforcement.immunity_days": "Input should be greater than or equal to 0 (got -1)",
        "enforcement.block_after": "Input should be greater than or equal to 1 (got 0)",
        "enforcement.grace": "unknown key",
    }


def test_publish_needs_daily_checks_and_min_orders_needs_its_window():
    by_key = _issues(
        _policy(
            """
            [cadence]
            every = "week"
            publish_every = "month"

            [enforcement]
            min_orders = 10
            """
        )
    )
    assert by_key == {
        "cadence.publish_every": "publishing on a cadence needs daily checks: set cadence.every = 'day'",
        "enforcement.min_orders_window_days": (
            "required with min_orders: order_count is computed for windows 30, 90 days"
        ),
    }
    by_key = _issues(
        _policy(
            """
            lifecycle = "standing"
            [enforcement]
            min_orders_window_days = 30
            """
        )
    )
    assert by_key == {
        "enforcement": "enforcement is not used when lifecycle = 'standing'",
        "enforcement.min_orders_window_days": "used only with min_orders",
    }
