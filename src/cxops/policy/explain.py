"""English explanations of criterion results, as translatable ``(key, params)`` pairs.

A reason is a dict ``{"key": str, "params": dict}``; the params are JSON-serialisable and carry both
raw numbers (``value``, ``threshold``; rates as fractions) and preformatted text (``value_text``,
``threshold_text``: rates as percent) so that a report can translate the key and reuse the numbers.
:func:`reason_text` renders the English text.

The operator shown is the one that *holds*: a failed eligibility criterion ``order_count >= 100`` with
80 orders reads "volume below minimum (80 < 100)"; a breached removal criterion
``order_defect_rate > 0.006`` reads "order defect rate (0.7 % > 0.6 %)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cxops.policy.catalog import METRICS
from cxops.policy.model import BREACH_SECTIONS

#: The operator that holds when ``x op t`` does not.
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!="}

#: English templates of criterion-level reasons.
CRITERION_TEMPLATES: dict[str, str] = {
    "criterion_passed": "{label} ({value_text} {op} {threshold_text})",
    "criterion_failed": "{label} ({value_text} {op} {threshold_text})",
    "criterion_breached": "{label} ({value_text} {op} {threshold_text})",
    "criterion_passed_provisional": "{label} ({value_text} {op} {threshold_text}; provisional: "
    "coverage {coverage_text})",
    "criterion_failed_provisional": "{label} ({value_text} {op} {threshold_text}; provisional: "
    "coverage {coverage_text})",
    "criterion_breached_provisional": "{label} ({value_text} {op} {threshold_text}; provisional: "
    "coverage {coverage_text})",
    "criterion_below_minimum": "{label}: insufficient data ({denominator_text} < {min_denominator_text})",
    "criterion_no_data": "{label}: no data",
    "criterion_not_measured": "{label}: not measured",
    "marketplace_not_in_program": "marketplace not in program",
    "marketplace_in_program": "marketplace in program",
}

#: Criterion id of the synthetic eligibility row that checks ``policy.marketplaces``.
MARKETPLACE_CRITERION = "marketplace_in_program"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _plain(x: Any) -> Any:
    """A JSON-friendly scalar (``None`` for missing, int for integral floats of counts kept float)."""
    if _missing(x):
        return None
    if hasattr(x, "item"):
        x = x.item()
    return x


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_quantity(x: Any, metric: str | None, test: str = "value") -> str:
    """Format a tested quantity for a reason.

    Rates tested on their value are shown as percent (``0.0045`` → ``"0.45 %"``), counts as integers,
    hours with ``h``, the satisfaction index and other values with up to 2 decimals.
    """
    if _missing(x):
        return "n/a"
    x = float(x)
    kind = METRICS[metric].kind if metric in METRICS else None
    if test != "value" or kind in ("count", "days"):
        return str(int(x)) if x.is_integer() else _trim(f"{x:.2f}")
    if kind == "rate":
        return _trim(f"{x * 100:.3f}") + " %"
    if kind == "hours":
        return _trim(f"{x:.2f}") + " h"
    return _trim(f"{x:.2f}")


def tested_quantity(row: Mapping[str, Any]) -> Any:
    """The quantity a result row compares: its value, numerator or denominator."""
    return row.get({"numerator": "numerator", "denominator": "denominator"}.get(row.get("test"), "value"))


#: The result columns :func:`criterion_reason` reads.
REASON_COLUMNS = (
    "section",
    "criterion_id",
    "rule_id",
    "label",
    "fail_label",
    "metric",
    "window_days",
    "channel",
    "test",
    "operator",
    "threshold",
    "min_denominator",
    "value",
    "numerator",
    "denominator",
    "result",
    "marketplace_id",
    "provisional",
    "coverage",
)


def criterion_reason(row: Mapping[str, Any]) -> dict[str, Any]:
    """The reason of one result row of :func:`cxops.policy.evaluate.evaluate_criteria`.

    Parameters
    ----------
    row : mapping
        A result row (``section``, ``criterion_id``, ``label``, ``metric``, ``test``, ``operator``,
        ``threshold``, ``min_denominator``, ``value``, ``numerator``, ``denominator``, ``result``, …).

    Returns
    -------
    dict
        ``{"key": ..., "params": {...}}``. A provisional pass, failure or breach (``provisional`` true:
        the metric's input coverage is below the level) has the key with ``_provisional`` appended and
        ``coverage`` (fraction) and ``coverage_text`` (percent) params.
    """
    reason = _criterion_reason(row)
    if _plain(row.get("provisional")) and reason["key"] in (
        "criterion_passed",
        "criterion_failed",
        "criterion_breached",
    ):
        coverage = _plain(row.get("coverage"))
        reason["key"] += "_provisional"
        reason["params"]["provisional"] = True
        reason["params"]["coverage"] = coverage
        reason["params"]["coverage_text"] = (
            "n/a" if coverage is None else _trim(f"{coverage * 100:.3f}") + " %"
        )
    return reason


def _criterion_reason(row: Mapping[str, Any]) -> dict[str, Any]:
    metric = row.get("metric")
    if row.get("criterion_id") == MARKETPLACE_CRITERION and _missing(metric):
        key = "marketplace_in_program" if row.get("result") == "pass" else "marketplace_not_in_program"
        return {"key": key, "params": {"marketplace_id": row.get("marketplace_id")}}
    test = row.get("test") or "value"
    result = row.get("result")
    operator = row.get("operator")
    removal = row.get("section") in BREACH_SECTIONS
    tested = tested_quantity(row)
    params: dict[str, Any] = {
        "criterion_id": row.get("criterion_id"),
        "rule_id": _plain(row.get("rule_id")),
        "label": row.get("label") or row.get("criterion_id"),
        "metric": metric,
        "window_days": _plain(row.get("window_days")),
        "channel": row.get("channel"),
        "test": test,
        "value": _plain(tested),
        "threshold": _plain(row.get("threshold")),
        "value_text": format_quantity(tested, metric, test),
        "threshold_text": format_quantity(row.get("threshold"), metric, test),
    }
    if result == "not_measured":
        return {"key": "criterion_not_measured", "params": params}
    if result == "insufficient_data":
        min_den = row.get("min_denominator")
        denominator = row.get("denominator")
        if not _missing(min_den) and (_missing(denominator) or float(denominator) < float(min_den)):
            params["denominator"] = _plain(denominator)
            params["min_denominator"] = _plain(min_den)
            params["denominator_text"] = format_quantity(denominator, metric, "denominator")
            params["min_denominator_text"] = format_quantity(min_den, metric, "denominator")
            return {"key": "criterion_below_minimum", "params": params}
        return {"key": "criterion_no_data", "params": params}
    holds = (result == "pass") != removal  # did the written comparison hold?
    params["op"] = operator if holds else NEGATED.get(operator, operator)
    if result == "pass":
        return {"key": "criterion_passed", "params": params}
    fail_label = row.get("fail_label")
    if not _missing(fail_label) and fail_label:
        params["label"] = fail_label
    return {"key": "criterion_breached" if removal else "criterion_failed", "params": params}


def reason_text(reason: Mapping[str, Any], templates: Mapping[str, str] | None = None) -> str:
    """Render a reason in English.

    Parameters
    ----------
    reason : mapping
        ``{"key": ..., "params": {...}}``.
    templates : mapping, optional
        Extra templates (e.g. lifecycle reasons) consulted before :data:`CRITERION_TEMPLATES`.

    Raises
    ------
    KeyError
        If the key has no template.
    """
    key = reason["key"]
    template = (templates or {}).get(key) or CRITERION_TEMPLATES[key]
    return template.format(**reason.get("params", {}))
