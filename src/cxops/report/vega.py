"""Vega-Lite specifications of the trend charts: the one place that says what a chart shows.

The seller's page (:mod:`cxops.web`) embeds these specifications with the vendored Vega, Vega-Lite
and vega-embed; the HTML report of ``evaluate --out`` builds its charts from the same specifications
(:func:`cxops.report.html.build_report_html`). A chart is a metric's series over days with horizontal
rules for the policy's lines on that metric (:func:`chart_lines`):

- ``limit`` — the removal rule's threshold (crossing it is a breach);
- ``alert`` — the removal rule's alert level (``alert_threshold``: a warning before the limit);
- ``bar`` — the admission bar (what a seller must meet to be enrolled and to recover).

Rates are fractions in the data and shown as percentages on the axis and in tooltips; days are ISO
dates (marketplace-local days, no time zone).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cxops.report.format import is_null, metric_kind, to_date

#: The line roles, in drawing order, with their colour and dash pattern.
LINE_STYLES: dict[str, dict[str, Any]] = {
    "limit": {"color": "#b42318", "strokeDash": [6, 3]},
    "alert": {"color": "#b54708", "strokeDash": [2, 2]},
    "bar": {"color": "#027a48", "strokeDash": [4, 4]},
}
#: Which criteria section gives each line.
LINE_SECTIONS: dict[str, str] = {"limit": "removal", "alert": "alert", "bar": "admission"}


def _window(value: Any) -> int | None:
    if is_null(value):
        return None
    return int(value)


def chart_lines(
    criteria: Iterable[Mapping[str, Any]], metric: str, window_days: int | None, channel: str | None
) -> dict[str, float]:
    """The policy's lines on one metric: ``{"limit"|"alert"|"bar": threshold}`` from criteria rows.

    Parameters
    ----------
    criteria : iterable of mapping
        Rows of a run's criteria table (``section, metric, window_days, channel, test, threshold``).
    metric, window_days, channel
        The charted series. A criterion on the same metric with another window or channel is used when
        none matches exactly (the best match wins: window, then channel).

    Returns
    -------
    dict
        Role → threshold (same unit as the metric: a fraction for a rate). Roles without a criterion
        are absent.
    """
    best: dict[str, tuple[int, float]] = {}
    wanted = {section: role for role, section in LINE_SECTIONS.items()}
    for r in criteria:
        role = wanted.get(str(r.get("section")))
        if role is None or r.get("metric") != metric or is_null(r.get("threshold")):
            continue
        test = r.get("test")
        if not is_null(test) and str(test) != "value":
            continue
        score = (2 if _window(r.get("window_days")) == window_days else 0) + (
            1 if r.get("channel") == channel else 0
        )
        if role not in best or score > best[role][0]:
            best[role] = (score, float(r["threshold"]))
    return {role: best[role][1] for role in LINE_STYLES if role in best}


def _number(value: Any) -> float | None:
    if is_null(value):
        return None
    v = float(value)
    return None if math.isnan(v) else v


def trend_spec(
    points: Sequence[tuple[Any, Any]],
    *,
    metric: str,
    title: str,
    lines: Mapping[str, float] | None = None,
    line_labels: Mapping[str, str] | None = None,
    value_label: str = "value",
    day_label: str = "day",
    width: int | str = "container",
    height: int = 160,
) -> dict[str, Any]:
    """A Vega-Lite specification of one metric's trend with its policy lines.

    Parameters
    ----------
    points : sequence of (date-like, number or None)
        The series (any order; sorted here). A null value leaves a gap in the line.
    metric : str
        Catalog name: decides the axis format (rates as percentages, counts as integers).
    title : str
        The chart's title (already translated).
    lines : mapping role → threshold, optional
        From :func:`chart_lines`.
    line_labels : mapping role → text, optional
        Legend text of each line role (translated); default: the role.
    value_label, day_label : str
        Tooltip titles of the value and the day (translated).
    width, height
        Size; ``"container"`` fits the chart to its element.

    Returns
    -------
    dict
        A Vega-Lite v5/v6 specification (JSON-able; no ``$schema`` URL, nothing to load).
    """
    rows = []
    for d, v in points:
        day = to_date(d)
        if day is not None:
            rows.append({"day": day.isoformat(), "value": _number(v)})
    rows.sort(key=lambda r: r["day"])
    kind = metric_kind(metric)
    fmt = ".2%" if kind == "rate" else (",d" if kind in ("count", "days") else ",.2f")
    y = {
        "field": "value",
        "type": "quantitative",
        "title": value_label,
        "axis": {"format": fmt},
        "scale": {"zero": kind != "index"},
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "line", "point": {"size": 18}, "interpolate": "linear"},
            "encoding": {
                "x": {"field": "day", "type": "temporal", "title": day_label},
                "y": y,
                "tooltip": [
                    {"field": "day", "type": "temporal", "title": day_label},
                    {"field": "value", "type": "quantitative", "title": value_label, "format": fmt},
                ],
            },
        }
    ]
    labels = dict(line_labels or {})
    rules = [
        {"role": role, "label": labels.get(role, role), "threshold": float(value)}
        for role, value in (lines or {}).items()
        if role in LINE_STYLES and not is_null(value)
    ]
    if rules:
        layers.append(
            {
                "data": {"values": rules},
                "mark": {"type": "rule", "strokeWidth": 1.5},
                "encoding": {
                    "y": {"field": "threshold", "type": "quantitative"},
                    "color": {
                        "field": "label",
                        "type": "nominal",
                        "title": None,
                        "scale": {
                            "domain": [r["label"] for r in rules],
                            "range": [LINE_STYLES[r["role"]]["color"] for r in rules],
                        },
                        "legend": {"orient": "bottom"},
                    },
                    "strokeDash": {
                        "field": "label",
                        "type": "nominal",
                        "legend": None,
                        "scale": {
                            "domain": [r["label"] for r in rules],
                            "range": [LINE_STYLES[r["role"]]["strokeDash"] for r in rules],
                        },
                    },
                    "tooltip": [
                        {"field": "label", "type": "nominal", "title": " "},
                        {"field": "threshold", "type": "quantitative", "format": fmt, "title": value_label},
                    ],
                },
            }
        )
    return {
        "title": title,
        "width": width,
        "height": height,
        "data": {"values": rows},
        "layer": layers,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11}},
        "usermeta": {"metric": metric, "kind": kind, "lines": {r["role"]: r["threshold"] for r in rules}},
    }


def spec_points(spec: Mapping[str, Any]) -> list[tuple[dt.date, float | None]]:
    """The series of a :func:`trend_spec` as ``(day, value)`` (what a static renderer draws)."""
    return [(dt.date.fromisoformat(r["day"]), r["value"]) for r in spec["data"]["values"]]


def spec_lines(spec: Mapping[str, Any]) -> dict[str, float]:
    """The policy lines of a :func:`trend_spec` (role → threshold)."""
    return dict(spec.get("usermeta", {}).get("lines", {}))


def states_spec(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str,
    state_labels: Mapping[str, str],
    month_label: str = "month",
    sellers_label: str = "sellers",
    width: int | str = "container",
    height: int = 220,
) -> dict[str, Any]:
    """A Vega-Lite stacked bar chart of sellers per state per month (the console's program figures).

    Parameters
    ----------
    rows : sequence of mapping
        ``month`` (date-like), ``state``, ``sellers`` (:func:`cxops.service.program.figures`).
    state_labels : mapping state → text
        The translated state names (legend and tooltips).
    """
    values = [
        {"month": to_date(r["month"]).isoformat(), "state": state_labels.get(r["state"], r["state"]),
         "sellers": int(r["sellers"])}
        for r in rows
    ]  # fmt: skip
    return {
        "title": title,
        "width": width,
        "height": height,
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "timeUnit": "yearmonth", "title": month_label},
            "y": {"field": "sellers", "type": "quantitative", "stack": "zero", "title": sellers_label},
            "color": {"field": "state", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
            "tooltip": [
                {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": month_label},
                {"field": "state", "type": "nominal", "title": " "},
                {"field": "sellers", "type": "quantitative", "title": sellers_label, "format": ",d"},
            ],
        },
        "config": {"view": {"stroke": None}},
    }
