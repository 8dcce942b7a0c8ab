"""Seller lifecycle: the pure state machine, replay over evaluation dates, projection and benefits.

Public API::

    from cxops.lifecycle import step, day_step, replay, evaluation_dates, project, compute_benefits
    from cxops.lifecycle import decisions_from_metrics  # replay input for millions of sellers
"""

from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of, next_evaluation_date
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
from cxops.lifecycle.replay import ReplayResult, daily_admission, replay

__all__ = [
    "LIFECYCLE_TEMPLATES",
    "Decisions",
    "Evaluation",
    "Event",
    "Finding",
    "LifecycleState",
    "Reason",
    "ReplayResult",
    "SellerState",
    "build_evaluations",
    "compute_benefits",
    "daily_admission",
    "decisions_from_metrics",
    "day_step",
    "evaluation_dates",
    "metrics_as_of",
    "next_evaluation_date",
    "project",
    "project_all",
    "replay",
    "step",
]
