"""Translatable reasons of lifecycle states and transitions.

A :class:`Reason` is a text key plus JSON-serialisable params. The keys, with the params each carries,
are declared once in :data:`cxops.lifecycle.table.REASONS`; their texts are the message catalogs'
``lifecycle.<key>`` (English and Chinese). :data:`LIFECYCLE_TEMPLATES` keeps the English of the keys
that existed before the catalogs carried them (the ``reason`` column of the outputs is unchanged);
every other key is rendered in English from the English catalog. Params that list criteria carry them
as criterion reasons (``{"key", "params"}``) under ``criteria`` and, for convenience, their English
rendering joined by ``"; "`` under ``details``.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cxops.lifecycle.table import REASONS
from cxops.locale.catalog import compiled
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
        params = dict(self.params)
        if self.key in LIFECYCLE_TEMPLATES:
            return reason_text({"key": self.key, "params": params}, LIFECYCLE_TEMPLATES)
        template = english_catalog().get(self.key)
        if template is None:
            return reason_text({"key": self.key, "params": params})
        return _Lenient().vformat(template, (), params)

    def params_json(self) -> str:
        """Params as compact JSON (dates as ISO strings)."""
        return json.dumps(self.params, default=str, ensure_ascii=False, sort_keys=True)


@cache
def english_catalog() -> dict[str, str]:
    """The English catalog's ``lifecycle.*`` messages (key without the prefix → template).

    Read from the gettext catalogs of :mod:`cxops.locale` (the one home of the texts), which import no
    other layer.
    """
    prefix = "lifecycle."
    return {k[len(prefix) :]: v for k, v in compiled("en").singular.items() if k.startswith(prefix)}


class _Lenient(string.Formatter):
    """``str.format`` that shows a missing or null param as an empty string, not an error."""

    def get_value(self, key, args, kwargs):
        value = kwargs.get(key) if isinstance(key, str) else None
        return "" if value is None else value


def with_criteria(key: str, criteria: Iterable[Mapping[str, Any]], **params: Any) -> Reason:
    """A reason listing criterion reasons (``criteria``) with their English ``details``."""
    items = [dict(c) for c in criteria]
    details = "; ".join(reason_text(c) for c in items)
    return Reason(key, {**params, "criteria": items, "details": details})


def make_reason(key: str, criteria: Iterable[Mapping[str, Any]], values: Mapping[str, Any]) -> Reason:
    """The reason ``key`` with the params :data:`cxops.lifecycle.table.REASONS` declares for it.

    Parameters
    ----------
    key : str
    criteria : iterable of mapping
        Criterion reasons, used when the key lists criteria.
    values : mapping
        At least every param the key carries (extra ones are ignored).
    """
    spec = REASONS[key]
    params = {p: values[p] for p in spec.params}
    if spec.lists is not None:
        return with_criteria(key, criteria, **params)
    return Reason(key, params)
