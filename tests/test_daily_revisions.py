"""Revision events: a logged decision whose values a later import restates (cxops.service.revisions)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from _wh import value, warehouse
from test_metrics_cases import c9_tables

from cxops.metrics.compute import compute_metrics, load_inputs
from cxops.policy.load import load_policy
from cxops.service.revisions import revision_events

AS_OF = date(2024, 6, 30)


def _decision(to_state: str, numerator: float, denominator: float, threshold: float) -> pd.DataFrame:
    return pd.DataFrame(
        [{
            "id": 41, "seller_id": "S1", "marketplace_id": "US", "kind": "transition",
            "from_state": "enrolled", "to_state": to_state, "rule_id": "odr", "metric": "order_defect_rate",
            "window_days": 60,
            "numerator": numerator, "denominator": denominator, "value": numerator / denominator,
            "threshold": threshold, "operator": ">", "as_of": AS_OF, "event_date": date(2024, 7, 1),
            "policy_version": "1",
        }]
    )  # fmt: skip


def test_a_removal_whose_restated_values_no_longer_breach_is_flagged_for_review():
    wh = warehouse(c9_tables())
    now = value(compute_metrics(wh, AS_OF), "order_defect_rate", window=60, channel="all")
    num, den = now["numerator"], now["denominator"]
    assert num >= 1 and den > num
    policy = load_policy("marketplace-enforcement")
    inp = load_inputs(wh, policy.metric_options)
    restated = pd.DataFrame({"import_id": [7], "day": [date(2024, 6, 20)]})  # inside the 60-day window
    # the decision was made on one defect more than the data now holds; its limit lies between the two
    limit = (num + 0.5) / den
    ev = revision_events(wh, inp, policy, _decision("suspended", num + 1, den, limit), restated)
    assert len(ev) == 1
    r = ev.iloc[0]
    assert (r.kind, r.to_state, r.numerator, r.denominator) == ("revision", "suspended", num, den)
    assert r.details["old"] == {"numerator": num + 1, "denominator": den, "value": (num + 1) / den}
    assert r.details["new"]["numerator"] == num and r.details["imports"] == [7]
    assert r.details["review"] is True and r.details["still_breaches"] is False
    # a warning is annotated, never flagged for review
    warn = revision_events(wh, inp, policy, _decision("at_risk", num + 1, den, limit), restated)
    assert warn.iloc[0].details["review"] is False
    # still in breach after the restatement: logged, not flagged
    still = revision_events(wh, inp, policy, _decision("suspended", num + 1, den, num / den / 2), restated)
    assert still.iloc[0].details["still_breaches"] is True and still.iloc[0].details["review"] is False


def test_unchanged_values_or_days_outside_the_window_log_nothing():
    wh = warehouse(c9_tables())
    now = value(compute_metrics(wh, AS_OF), "order_defect_rate", window=60, channel="all")
    policy = load_policy("marketplace-enforcement")
    inp = load_inputs(wh, policy.metric_options)
    same = _decision("suspended", now["numerator"], now["denominator"], 0.01)
    inside = pd.DataFrame({"import_id": [7], "day": [date(2024, 6, 20)]})
    assert revision_events(wh, inp, policy, same, inside).empty
    changed = _decision("suspended", now["numerator"] + 1, now["denominator"], 0.01)
    outside = pd.DataFrame({"import_id": [7], "day": [date(2024, 4, 1)]})  # 91 days before: not in 60
    assert revision_events(wh, inp, policy, changed, outside).empty
