"""Small inline SVG line charts (no JavaScript, no external assets).

A chart is a line over dates with dashed horizontal lines for the policy's thresholds. The HTML
report draws each chart from its Vega-Lite specification (:func:`svg_chart` of a
:func:`cxops.report.vega.trend_spec`: the same specification the web pages embed), so what a chart
shows — series, lines, title, formats — is declared once. Gaps (null values) break the
line. Coordinates are rounded to one decimal to keep the markup small; long series are thinned to
``max_points`` evenly spaced points (the last point is always kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from cxops.report.format import format_date, format_value, is_null, to_date


def _thin(points: list[tuple[dt.date, float | None]], max_points: int) -> list[tuple[dt.date, float | None]]:
    n = len(points)
    if max_points <= 1 or n <= max_points:
        return points
    step = (n - 1) / (max_points - 1)
    idx = sorted({round(i * step) for i in range(max_points)} | {n - 1})
    return [points[i] for i in idx]


def _f(x: float) -> str:
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def svg_chart(spec: Mapping[str, Any], *, max_points: int = 120, no_data_text: str = "no data",
              lang: str = "en", width: int = 300, height: int = 120) -> Markup:  # fmt: skip
    """Render a :func:`cxops.report.vega.trend_spec` specification as an inline ``<svg>``: its series,
    and each of its policy lines (``limit``, ``alert``, ``bar``) as a dashed line of that class."""
    from cxops.report.vega import spec_lines, spec_points

    meta = spec.get("usermeta", {})
    return svg_line_chart(
        spec_points(spec),
        lines=spec_lines(spec),
        kind=meta.get("kind", "rate"),
        title=str(spec.get("title", "")),
        width=width,
        height=height,
        max_points=max_points,
        no_data_text=no_data_text,
        lang=lang,
    )


def svg_line_chart(
    points: Sequence[tuple[Any, Any]],
    *,
    threshold: Any = None,
    lines: Mapping[str, Any] | None = None,
    kind: str = "rate",
    title: str = "",
    width: int = 300,
    height: int = 120,
    max_points: int = 120,
    no_data_text: str = "no data",
    lang: str = "en",
) -> Markup:
    """Render a line chart as an inline ``<svg>`` element.

    Parameters
    ----------
    points : sequence of (date-like, number or None)
        The series, in any order (sorted by date here).
    threshold : number, optional
        Drawn as a dashed horizontal line (class ``threshold``).
    lines : mapping role → number, optional
        More dashed lines (class ``threshold <role>``), e.g. the ``limit``, ``alert`` and ``bar`` of
        :func:`cxops.report.vega.chart_lines`; ``threshold`` is the role ``bar``.
    kind : str, default "rate"
        Display kind for the axis labels (see :func:`cxops.report.format.format_number`).
    title : str
        Accessible title (``<title>``), escaped.
    width, height : int
        Size in pixels.
    max_points : int, default 120
        Longer series are thinned.
    no_data_text : str
        Text shown when no point has a value.
    lang : str, default "en"

    Returns
    -------
    markupsafe.Markup
        Safe SVG markup; every text inside is escaped.
    """
    clean: list[tuple[dt.date, float | None]] = []
    for d, v in points:
        day = to_date(d)
        if day is None:
            continue
        clean.append((day, None if is_null(v) else float(v)))
    clean.sort(key=lambda p: p[0])
    clean = _thin(clean, max_points)
    values = [v for _, v in clean if v is not None]
    rules = {} if is_null(threshold) else {"bar": float(threshold)}
    rules.update({role: float(v) for role, v in (lines or {}).items() if not is_null(v)})
    thr = rules.get("bar", next(iter(rules.values()), None))
    levels = list(rules.values())

    left, right, top, bottom = 46, 8, 8, 18
    pw, ph = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect class="plot" x="{left}" y="{top}" width="{pw}" height="{ph}"/>',
    ]
    if not values:
        parts.append(
            f'<text class="nodata" x="{left + pw / 2:.0f}" y="{top + ph / 2:.0f}" text-anchor="middle">'
            f"{escape(no_data_text)}</text>"
        )
        if thr is not None:
            y = top + ph / 2 + 14
            parts.append(
                f'<line class="threshold" x1="{left}" y1="{_f(y)}" x2="{left + pw}" y2="{_f(y)}" '
                f'stroke-dasharray="4 3"/>'
            )
        parts.append("</svg>")
        return Markup("".join(parts))

    lo = min(values + levels)
    hi = max(values + levels)
    if hi == lo:
        pad = abs(hi) * 0.1 or (0.01 if kind == "rate" else 1.0)
        lo, hi = lo - pad, hi + pad
    else:
        pad = (hi - lo) * 0.08
        lo, hi = lo - pad, hi + pad
    if lo < 0 <= min(values + levels):
        lo = 0.0  # padding must not invent negative rates or counts

    first, last = clean[0][0], clean[-1][0]
    span = (last - first).days

    def x_of(d: dt.date) -> float:
        if span == 0:
            return left + pw / 2
        return left + pw * (d - first).days / span

    def y_of(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    # axis labels
    parts.append(
        f'<text class="ax" x="{left - 4}" y="{top + 4}" text-anchor="end">'
        f"{escape(format_value(hi, kind=kind, lang=lang))}</text>"
    )
    parts.append(
        f'<text class="ax" x="{left - 4}" y="{top + ph}" text-anchor="end">'
        f"{escape(format_value(lo, kind=kind, lang=lang))}</text>"
    )
    parts.append(
        f'<text class="ax" x="{left}" y="{height - 4}" text-anchor="start">'
        f"{escape(format_date(first))}</text>"
    )
    if span:
        parts.append(
            f'<text class="ax" x="{left + pw}" y="{height - 4}" text-anchor="end">'
            f"{escape(format_date(last))}</text>"
        )
    for role, level in rules.items():
        y = _f(y_of(level))
        cls = "threshold" if role == "bar" else f"threshold {escape(role)}"
        parts.append(
            f'<line class="{cls}" x1="{left}" y1="{y}" x2="{left + pw}" y2="{y}" '
            f'stroke-dasharray="{"4 3" if role == "bar" else "2 2"}"><title>'
            f"{escape(format_value(level, kind=kind, lang=lang))}</title></line>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for d, v in clean:
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{_f(x_of(d))},{_f(y_of(v))}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) == 1:
            cx, cy = seg[0].split(",")
            parts.append(f'<circle class="pt" cx="{cx}" cy="{cy}" r="2"/>')
        else:
            parts.append(f'<polyline class="line" points="{" ".join(seg)}"/>')
    last_point = next(((d, v) for d, v in reversed(clean) if v is not None), None)
    if last_point is not None:
        d, v = last_point
        parts.append(
            f'<circle class="last" cx="{_f(x_of(d))}" cy="{_f(y_of(v))}" r="2.5">'
            f"<title>{escape(format_date(d))}: {escape(format_value(v, kind=kind, lang=lang))}"
            f"</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
