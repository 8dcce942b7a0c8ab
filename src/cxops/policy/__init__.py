"""Program policies: the pydantic model, TOML loading, built-in packs and criterion evaluation.

Public API::

    from cxops.policy import load_policy, list_packs, PolicyError, evaluate_policy, section_outcome
"""

from cxops.policy.catalog import METRICS, MetricSpec
from cxops.policy.evaluate import (
    OUTCOME_COLUMNS,
    RESULT_COLUMNS,
    criteria_table,
    evaluate_criteria,
    evaluate_policy,
    section_outcome,
)
from cxops.policy.gap import count_gap, numerator_gap
from cxops.policy.load import (
    DEFAULT_PACK,
    PolicyError,
    PolicyIssue,
    list_packs,
    load_policy,
    loads_policy,
    parse_policy,
    policy_source,
)
from cxops.policy.model import SECTIONS, Criterion, MetricOptions, Policy, RemovalRule

__all__ = [
    "DEFAULT_PACK",
    "METRICS",
    "OUTCOME_COLUMNS",
    "RESULT_COLUMNS",
    "SECTIONS",
    "Criterion",
    "MetricOptions",
    "MetricSpec",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "RemovalRule",
    "count_gap",
    "criteria_table",
    "evaluate_criteria",
    "evaluate_policy",
    "list_packs",
    "load_policy",
    "loads_policy",
    "numerator_gap",
    "parse_policy",
    "policy_source",
    "section_outcome",
]
