"""Seller lifecycle: the rule tables, the pure state machine, replay over evaluation dates, projection and
benefits.

Public API::

    from cxops.lifecycle import step, day_step, replay, evaluation_dates, project, compute_benefits
    from cxops.lifecycle import decisions_from_metrics  # replay input for millions of sellers
    from cxops.lifecycle import advance, Action, validate_action, apply_action  # daily job, operator actions
    from cxops.lifecycle.table import PROGRAM, STANDING, DAILY, ACTIONS, REASONS  # the rules, written once
"""

from cxops.lifecycle.actions import ACTION_COLUMNS, Action, apply_action, validate_action
from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import (
    evaluation_dates,
    is_evaluation_date,
    metrics_as_of,
    next_evaluation_date,
    publishes,
)
from cxops.lifecycle.decisions import Decisions, decisions_from_metrics
from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import (
    Evaluation,
    Event,
    Finding,
    LifecycleState,
    SellerState,
    day_step,
    step,
)
from cxops.lifecycle.project import project, project_all
from cxops.lifecycle.reasons import LIFECYCLE_TEMPLATES, Reason
from cxops.lifecycle.replay import (
    EVENT_COLUMNS,
    STATE_COLUMNS,
    ReplayResult,
    advance,
    daily_admission,
    replay,
)
from cxops.lifecycle.table import ACTION_KINDS, EVENT_KINDS, REASON_KEYS

__all__ = [
    "ACTION_COLUMNS",
    "ACTION_KINDS",
    "EVENT_COLUMNS",
    "EVENT_KINDS",
    "LIFECYCLE_TEMPLATES",
    "REASON_KEYS",
    "STATE_COLUMNS",
    "Action",
    "Decisions",
    "Evaluation",
    "Event",
    "Finding",
    "LifecycleState",
    "Reason",
    "ReplayResult",
    "SellerState",
    "advance",
    "apply_action",
    "build_evaluations",
    "compute_benefits",
    "daily_admission",
    "decisions_from_metrics",
    "day_step",
    "evaluation_dates",
    "is_evaluation_date",
    "metrics_as_of",
    "next_evaluation_date",
    "project",
    "project_all",
    "publishes",
    "replay",
    "step",
    "validate_action",
]
