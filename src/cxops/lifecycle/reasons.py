"""Translatable reasons of lifecycle states and transitions.

A :class:`Reason` is a text key plus JSON-serialisable params; :data:`LIFECYCLE_TEMPLATES` holds the
English text of each key (criterion-level keys live in :mod:`cxops.policy.explain`). Params that list
criteria carry them as criterion reasons (``{"key", "params"}``) under ``criteria`` and, for
convenience, their English rendering joined by ``"; "`` under ``details``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cxops.policy.explain import reason_text

#: English templates of lifecycle reason keys.
LIFECYCLE_TEMPLATES: dict[str, str] = {
    "new": "not yet evaluated",
    "not_eligible": "{details}",
    "admitted": "admitted: all admission criteria met",
    "admission_not_met": "admission not met: {details}",
    "admission_insufficient": "admission: insufficient data: {details}",
    "remains_enrolled": "enrolled: no removal rule breached",
    "at_risk": "warning: {details} (breach {count} of {consecutive} consecutive evaluations before removal)",
    "breach_cleared": "warning cleared: no removal rule breached",
    "removed_breach": "removed: {details}",
    "removed_consecutive": "removed: {details} at {consecutive} consecutive evaluations",
    "removed_ineligible": "removed: no longer eligible: {details}",
    "recovering": "recovering: admission bars met {streak} of {stable_days} consecutive days",
    "recovery_reset": "recovery reset on {day}: admission bars not met",
    "recovered": "back in the evaluation pool: admission bars met {stable_days} consecutive days",
    "standing_met": "in good standing: all standards met",
    "standing_not_met": "below standard: {details}",
    "standing_insufficient": "insufficient data: {details}",
}


@dataclass(frozen=True)
class Reason:
    """Why a seller is in a state: a text key and its params.

    Attributes
    ----------
    key : str
        A key of :data:`LIFECYCLE_TEMPLATES` (or a criterion key of :mod:`cxops.policy.explain`).
    params : dict
        JSON-serialisable parameters of the template.
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """English text."""
        return reason_text({"key": self.key, "params": dict(self.params)}, LIFECYCLE_TEMPLATES)

    def params_json(self) -> str:
        """Params as compact JSON (dates as ISO strings)."""
        return json.dumps(self.params, default=str, ensure_ascii=False, sort_keys=True)


def with_criteria(key: str, criteria: Iterable[Mapping[str, Any]], **params: Any) -> Reason:
    """A reason listing criterion reasons (``criteria``) with their English ``details``."""
    items = [dict(c) for c in criteria]
    details = "; ".join(reason_text(c) for c in items)
    return Reason(key, {**params, "criteria": items, "details": details})
