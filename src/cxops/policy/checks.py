"""Semantic checks of a policy document that pydantic's type validation cannot express.

They run on the raw (parsed TOML) document, independently of pydantic, so that a file with both a
type error and an unknown metric reports both at once. Each issue is ``(key path, reason)`` with key
paths such as ``admission.criteria[2].window_days``.

Checks: unknown metric, window not offered by the metric (or missing where the metric has several),
channel not offered, a rate threshold outside [0, 1] (rates are fractions), duplicate criterion ids
(unique within a section), duplicate removal-rule and benefit ids, incentive tiers not ascending,
removal rules in a ``standing`` policy, a ``min_coverage`` on a metric without a coverage rule; and for
enforcement: an ``alert_threshold`` outside a removal
rule, with ``==``, or not before its limit; an ``[enforcement]`` table in a ``standing`` policy;
``min_orders_window_days`` missing, not a window of ``order_count`` or without ``min_orders``;
``cadence.publish_every`` without ``cadence.every = "day"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cxops.policy.catalog import METRIC_NAMES, METRICS

Issue = tuple[str, str]


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _items(doc: Any, key: str, path: str) -> Iterator[tuple[str, dict]]:
    """Yield ``(path[i], table)`` for each table of an array of tables, skipping malformed ones."""
    if not isinstance(doc, dict):
        return
    items = doc.get(key)
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, dict):
            yield _index(f"{path}.{key}" if path else key, i), item


def _criteria(doc: dict) -> Iterator[tuple[str, dict]]:
    """Every criterion table of the document with its key path."""
    for section in ("eligibility", "admission"):
        yield from _items(doc.get(section), "criteria", section)
    for rule_path, rule in _items(doc.get("removal"), "rules", "removal"):
        if "criteria" in rule:
            yield from _items(rule, "criteria", rule_path)
        elif "metric" in rule:
            yield rule_path, rule
    benefits = doc.get("benefits")
    for kind in ("incentives", "recommendations"):
        for path, item in _items(benefits, kind, "benefits"):
            if isinstance(item.get("criterion"), dict):
                yield f"{path}.criterion", item["criterion"]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _criterion_issues(path: str, c: dict) -> list[Issue]:
    issues: list[Issue] = []
    metric = c.get("metric")
    if not isinstance(metric, str):
        return issues  # missing or mistyped: pydantic reports it
    spec = METRICS.get(metric)
    if spec is None:
        issues.append(
            (f"{path}.metric", f"unknown metric {metric!r}; known metrics: {', '.join(METRIC_NAMES)}")
        )
        return issues
    window = c.get("window_days")
    offered = [w for w in spec.windows if w is not None]
    if spec.windows == (None,):
        if window is not None:
            issues.append((f"{path}.window_days", f"{metric} has no window; omit window_days"))
    elif window is None:
        if len(offered) > 1:
            issues.append(
                (f"{path}.window_days", f"required: {metric} is computed for windows {_join(offered)} days")
            )
    elif _is_number(window) and window not in offered:
        issues.append(
            (
                f"{path}.window_days",
                f"{metric} is computed for windows {_join(offered)} days, not {window}",
            )
        )
    channel = c.get("channel")
    if isinstance(channel, str) and channel in ("all", "mfn", "afn") and channel not in spec.channels:
        issues.append(
            (f"{path}.channel", f"{metric} is computed for channel {_join(spec.channels)}, not {channel!r}")
        )
    if c.get("min_coverage") is not None and not spec.has_coverage:
        with_rule = ", ".join(sorted(n for n, m in METRICS.items() if m.has_coverage))
        issues.append(
            (
                f"{path}.min_coverage",
                f"{metric} is never provisional (no coverage rule); only {with_rule} are",
            )
        )
    rate_value = spec.kind == "rate" and c.get("test", "value") == "value"
    for key in ("threshold", "alert_threshold"):
        value = c.get(key)
        if rate_value and _is_number(value) and not 0 <= value <= 1:
            issues.append(
                (
                    f"{path}.{key}",
                    f"{metric} is a rate written as a fraction (0.45 % is 0.0045); {value} is outside 0–1",
                )
            )
    return issues


#: Where an alert level must lie for each operator of a breach condition (before the limit).
_ALERT_SIDE = {">": "below", ">=": "below", "<": "above", "<=": "above"}


def _alert_issues(path: str, c: dict, removal: bool) -> list[Issue]:
    alert = c.get("alert_threshold")
    if alert is None:
        return []
    if not removal:
        return [(f"{path}.alert_threshold", "alert_threshold is only used in removal rules")]
    operator, threshold = c.get("operator"), c.get("threshold")
    if operator == "==":
        return [
            (f"{path}.alert_threshold", "an alert level needs an ordering operator (<, <=, >, >=), not ==")
        ]
    side = _ALERT_SIDE.get(operator) if isinstance(operator, str) else None
    if side is None or not _is_number(alert) or not _is_number(threshold):
        return []  # pydantic reports the types
    if (side == "below" and not alert < threshold) or (side == "above" and not alert > threshold):
        return [
            (
                f"{path}.alert_threshold",
                f"an alert level warns before the limit: with operator {operator!r} it must be {side} "
                f"the threshold {threshold}, not {alert}",
            )
        ]
    return []


def _enforcement_issues(doc: dict) -> list[Issue]:
    issues: list[Issue] = []
    cadence = doc.get("cadence")
    if isinstance(cadence, dict) and cadence.get("publish_every") is not None:
        if cadence.get("every", "month") != "day":
            issues.append(
                (
                    "cadence.publish_every",
                    "publishing on a cadence needs daily checks: set cadence.every = 'day'",
                )
            )
    enforcement = doc.get("enforcement")
    if not isinstance(enforcement, dict):
        return issues
    if doc.get("lifecycle") == "standing" and enforcement:
        issues.append(("enforcement", "enforcement is not used when lifecycle = 'standing'"))
    window = enforcement.get("min_orders_window_days")
    offered = [w for w in METRICS["order_count"].windows if w is not None]
    if enforcement.get("min_orders") is None:
        if window is not None:
            issues.append(("enforcement.min_orders_window_days", "used only with min_orders"))
    elif window is None:
        issues.append(
            (
                "enforcement.min_orders_window_days",
                f"required with min_orders: order_count is computed for windows {_join(offered)} days",
            )
        )
    elif _is_number(window) and window not in offered:
        issues.append(
            (
                "enforcement.min_orders_window_days",
                f"order_count is computed for windows {_join(offered)} days, not {window}",
            )
        )
    return issues


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _duplicates(entries: list[tuple[str, Any]], what: str) -> list[Issue]:
    seen: dict[Any, str] = {}
    issues: list[Issue] = []
    for path, value in entries:
        if not isinstance(value, str):
            continue
        if value in seen:
            issues.append((path, f"duplicate {what} {value!r} (first at {seen[value]})"))
        else:
            seen[value] = path
    return issues


def semantic_issues(doc: dict) -> list[Issue]:
    """Semantic problems of a parsed policy document.

    Parameters
    ----------
    doc : dict
        The parsed TOML document (not yet validated; malformed parts are skipped, pydantic reports
        them).

    Returns
    -------
    list of (str, str)
        ``(key path, reason)`` pairs in document order; empty when the document is sound.
    """
    issues: list[Issue] = []
    criterion_ids: dict[str, list[tuple[str, Any]]] = {}
    for path, c in _criteria(doc):
        issues.extend(_criterion_issues(path, c))
        issues.extend(_alert_issues(path, c, path.startswith("removal.")))
        criterion_ids.setdefault(path.split(".")[0], []).append((f"{path}.id", c.get("id")))
    for ids in criterion_ids.values():
        issues.extend(_duplicates(ids, "criterion id"))

    rules = list(_items(doc.get("removal"), "rules", "removal"))
    issues.extend(_duplicates([(f"{p}.id", r.get("id")) for p, r in rules], "removal rule id"))
    if doc.get("lifecycle") == "standing" and rules:
        issues.append(("removal.rules", "removal rules are not used when lifecycle = 'standing'"))

    benefits = doc.get("benefits")
    benefit_ids = [
        (f"{p}.id", item.get("id"))
        for kind in ("standard", "incentives", "recommendations")
        for p, item in _items(benefits, kind, "benefits")
    ]
    issues.extend(_duplicates(benefit_ids, "benefit id"))
    for path, incentive in _items(benefits, "incentives", "benefits"):
        bars = [(p, t.get("at_least")) for p, t in _items(incentive, "tiers", path)]
        for (_, previous), (p, current) in zip(bars, bars[1:], strict=False):
            if _is_number(previous) and _is_number(current) and current <= previous:
                issues.append((f"{p}.at_least", "tiers must be in ascending order of at_least"))
    issues.extend(_enforcement_issues(doc))
    return issues
