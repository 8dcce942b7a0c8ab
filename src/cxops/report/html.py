"""Self-contained HTML report: summary, sellers table, per-seller scorecards with trend charts.

The page has no external resources: CSS is inline, charts are inline SVG drawn from their Vega-Lite
specifications (:mod:`cxops.report.vega`, the web's; :func:`cxops.report.charts.svg_chart`; each figure
carries its specification in ``data-vega-spec``),
and a short inline script opens a collapsed seller section when its anchor is followed and filters the
sellers with the search box. All data is escaped by Jinja's autoescape.

Scale: each seller's details sit in a collapsed ``<details>`` element; trend charts are drawn only for
the ``chart_top_n`` sellers with the most orders (90 days) plus every enrolled, at-risk or removed
seller, and the page says which ones have charts. For a large evaluation the caller passes the counts
over every seller (``state_counts``, ``criteria_counts``, ``total_sellers``) and the rows of the
sellers to list (``order``, at most :data:`REPORT_SELLERS`): the page stays a few megabytes whatever
the number of sellers, and says how many it lists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from cxops import __version__
from cxops.locale.catalog import LANGUAGE_TAGS
from cxops.report.charted import CHART_METRICS, VOLUME_METRIC
from cxops.report.charts import svg_chart
from cxops.report.format import (
    NULL,
    criterion_gap,
    criterion_name,
    criterion_threshold,
    criterion_value,
    format_counts,
    format_date,
    format_datetime,
    format_number,
    format_threshold,
    format_value,
    format_window,
    is_null,
    metric_kind,
    reason_text,
    to_date,
)
from cxops.report.frames import as_timestamps, frame, latest_rows, records_by_seller
from cxops.report.i18n import Translator
from cxops.report.vega import LINE_STYLES, chart_lines, spec_lines, trend_spec

#: States whose sellers always get charts.
ALWAYS_CHART_STATES: tuple[str, ...] = ("enrolled", "at_risk", "removed")
#: At most this many sellers are listed (with their details) in one report; counts cover every seller.
REPORT_SELLERS = 1000
#: At most this many sellers get trend charts (the top by orders, then enrolled, at-risk, removed).
MAX_CHARTED = 200
#: Display order of states (problems first).
STATE_ORDER: tuple[str, ...] = ("at_risk", "removed", "enrolled", "recovering", "candidate", "not_eligible")
SUMMARY_STATES: tuple[str, ...] = (
    "not_eligible",
    "candidate",
    "enrolled",
    "at_risk",
    "removed",
    "recovering",
)
SECTION_ORDER: tuple[str, ...] = ("eligibility", "admission", "removal", "benefits")
RESULTS: tuple[str, ...] = ("pass", "fail", "insufficient_data", "not_measured")

Key = tuple[Hashable, Hashable]

_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("cxops.report", "templates"),
            autoescape=select_autoescape(
                enabled_extensions=("html", "j2"), default_for_string=True, default=True
            ),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENV


def _window(value: Any) -> int | None:
    if is_null(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _slug(key: Key, used: set[str]) -> str:
    base = "s-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join("" if k is None else str(k) for k in key)).strip(
        "_"
    )
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def _latest_metric_values(
    src: pd.DataFrame, as_of: pd.Timestamp | None, wanted: Iterable[tuple[str, int, str]]
) -> dict[Key, dict[tuple[str, int | None, str], dict[str, Any]]]:
    """Latest row (as_of ≤ report date) per seller and wanted (metric, window, channel)."""
    wanted = list(wanted)
    if src.empty or not {"seller_id", "metric", "as_of"} <= set(src.columns):
        return {}
    df = src[src["metric"].isin({m for m, _, _ in wanted})].copy()
    if df.empty:
        return {}
    df["_as_of"] = as_timestamps(df["as_of"])
    if as_of is not None:
        df = df[df["_as_of"] <= as_of]
    if "marketplace_id" not in df:
        df["marketplace_id"] = None
    if "window_days" not in df:
        df["window_days"] = None
    if "channel" not in df:
        df["channel"] = "all"
    df = df.sort_values("_as_of", kind="stable")
    df = df.drop_duplicates(["seller_id", "marketplace_id", "metric", "window_days", "channel"], keep="last")
    out: dict[Key, dict[tuple[str, int | None, str], dict[str, Any]]] = {}
    for row in df.to_dict("records"):
        mp = None if is_null(row.get("marketplace_id")) else row["marketplace_id"]
        key = (row["seller_id"], mp)
        out.setdefault(key, {})[(row["metric"], _window(row.get("window_days")), str(row.get("channel")))] = (
            row
        )
    return out


def _volume(values: Mapping[tuple[str, int | None, str], Mapping[str, Any]]) -> float:
    m, w, c = VOLUME_METRIC
    row = values.get((m, w, c))
    if row is not None and not is_null(row.get("value")):
        return float(row["value"])
    row = values.get(("order_defect_rate", 60, "all"))
    if row is not None and not is_null(row.get("denominator")):
        return float(row["denominator"])
    return 0.0


def _chart_points(
    series: pd.DataFrame, keys: set[Key], as_of: pd.Timestamp | None, specs: Sequence[tuple[str, int, str]]
) -> dict[Key, dict[tuple[str, int, str], list[tuple[Any, Any]]]]:
    """Series points per charted seller and chart spec, as ``(timestamp, value)`` sorted by date."""
    if series.empty or not keys or not {"seller_id", "metric", "as_of", "value"} <= set(series.columns):
        return {}
    mask = series["metric"].isin({m for m, _, _ in specs}) & series["seller_id"].isin({k[0] for k in keys})
    cols = [
        c
        for c in ("seller_id", "marketplace_id", "metric", "window_days", "channel", "as_of", "value")
        if c in series
    ]
    df = series.loc[mask, cols]
    if df.empty:
        return {}
    df = pd.DataFrame(
        {
            "s": df["seller_id"].astype(object),
            "m": df["marketplace_id"].astype(object).where(df["marketplace_id"].notna(), None)
            if "marketplace_id" in df
            else None,
            "metric": df["metric"].astype(object),
            "w": pd.to_numeric(df["window_days"], errors="coerce") if "window_days" in df else float("nan"),
            "c": df["channel"].astype(object) if "channel" in df else "all",
            "d": as_timestamps(df["as_of"]),
            "v": pd.to_numeric(df["value"], errors="coerce"),
        }
    )
    if as_of is not None:
        df = df[df["d"] <= as_of]
    df = df.sort_values(["s", "metric", "w", "c", "d"], kind="stable")
    out: dict[Key, dict[tuple[str, int, str], list[tuple[Any, Any]]]] = {}
    spec_set = set(specs)
    for (s, m, metric, w, c), g in df.groupby(["s", "m", "metric", "w", "c"], sort=False, dropna=False):
        key = (s, None if is_null(m) else m)
        spec = (metric, _window(w), str(c))
        if key not in keys or spec not in spec_set:
            continue
        out.setdefault(key, {})[spec] = list(zip(g["d"].tolist(), g["v"].tolist(), strict=True))
    return out


def _benefit_detail(value: Any, tr: Translator) -> str:
    if is_null(value):
        return ""
    if isinstance(value, Mapping):
        return tr("ui.list_separator").join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return tr.join(value)
    return str(value)


def _benefit_value(value: Any, tr: Translator) -> str:
    if is_null(value):
        return ""
    if isinstance(value, bool):
        return tr("ui.yes") if value else tr("ui.no")
    if isinstance(value, int | float):
        # benefit values are fractions (a 0.05 storage-fee discount, a 0.995 tracking rate)
        if 0 <= float(value) <= 1:
            return format_value(value, kind="rate", lang=tr)
        return format_number(value, lang=tr)
    return str(value)


def _transition_view(row: Mapping[str, Any], tr: Translator) -> dict[str, Any]:
    metric = row.get("metric")
    has_metric = not is_null(metric)
    window = format_window(row.get("window_days"), lang=tr)
    return {
        "date": format_date(row.get("date")),
        "from_state": row.get("from_state") if not is_null(row.get("from_state")) else "",
        "from_label": tr.state(row.get("from_state")) if not is_null(row.get("from_state")) else NULL,
        "to_state": row.get("to_state") if not is_null(row.get("to_state")) else "",
        "to_label": tr.state(row.get("to_state")) if not is_null(row.get("to_state")) else NULL,
        "rule": "" if is_null(row.get("rule_id")) else str(row.get("rule_id")),
        "metric": (
            tr("fmt.name_with_details", name=tr.metric(metric), details=window)
            if window
            else tr.metric(metric)
        )
        if has_metric
        else "",
        "value": format_value(row.get("value"), metric, lang=tr) if has_metric else "",
        "threshold": format_threshold(row.get("threshold"), metric, operator=row.get("operator"), lang=tr)
        if has_metric
        else "",
        "as_of": format_date(row.get("as_of")) if not is_null(row.get("as_of")) else "",
        "reason": reason_text(
            row.get("reason_key"), row.get("reason_params"), lang=tr, fallback=row.get("reason")
        ),
    }


def build_report_html(
    *,
    policy_name: str,
    policy_version: str,
    as_of: Any,
    statuses: pd.DataFrame | None,
    criteria: pd.DataFrame | None,
    transitions: pd.DataFrame | None,
    benefits: pd.DataFrame | None,
    series: pd.DataFrame | None,
    lang: str = "en",
    metrics: pd.DataFrame | None = None,
    chart_top_n: int = 50,
    chart_metrics: Sequence[tuple[str, int, str]] = CHART_METRICS,
    max_chart_points: int = 120,
    generated_at: dt.datetime | None = None,
    open_details: bool | None = None,
    state_counts: Mapping[str, int] | None = None,
    criteria_counts: pd.DataFrame | None = None,
    total_sellers: int | None = None,
    order: Sequence[Key] | None = None,
) -> str:
    """Build the report page as a string; see :func:`render_report` for the parameters."""
    tr = Translator(lang)
    statuses, criteria = frame(statuses), frame(criteria)
    transitions, benefits, series = frame(transitions), frame(benefits), frame(series)
    metrics = frame(metrics)
    report_day = to_date(as_of)
    as_of_ts = pd.Timestamp(report_day) if report_day is not None else None
    generated_at = generated_at or dt.datetime.now(dt.UTC)

    st_latest = latest_rows(statuses, "evaluation_date")
    cr_latest = latest_rows(criteria, "evaluation_date")
    if not transitions.empty and "date" in transitions:
        transitions = transitions.assign(_d=as_timestamps(transitions["date"])).sort_values(
            "_d", kind="stable"
        )
        transitions = transitions.drop(columns="_d")
    st_by = records_by_seller(st_latest)
    cr_by = records_by_seller(cr_latest)
    tx_by = records_by_seller(transitions)
    bn_by = records_by_seller(benefits)

    keys: list[Key] = (
        list(dict.fromkeys(tuple(k) for k in order))
        if order is not None
        else list(dict.fromkeys(list(st_by) + list(cr_by)))
    )

    wanted = list(chart_metrics) + [VOLUME_METRIC, ("order_defect_rate", 60, "all")]
    latest_src = metrics if not metrics.empty else series
    latest = _latest_metric_values(latest_src, as_of_ts, wanted)

    state_of: dict[Key, str | None] = {}
    status_row: dict[Key, dict[str, Any]] = {}
    for key in keys:
        g = st_by.get(key)
        row = g[-1] if g else {}
        status_row[key] = row
        state = row.get("state")
        state_of[key] = None if is_null(state) else str(state)
    # criteria values stand in for metrics the series/metrics frames do not have
    for key, rows in cr_by.items():
        vals = latest.setdefault(key, {})
        for r in rows:
            test = r.get("test")
            if is_null(r.get("metric")) or (not is_null(test) and str(test) != "value"):
                continue
            spec = (str(r["metric"]), _window(r.get("window_days")), str(r.get("channel") or "all"))
            vals.setdefault(spec, r)
    volume = {key: _volume(latest.get(key, {})) for key in keys}

    ranked = sorted((k for k in keys if volume[k] > 0), key=lambda k: (-volume[k], str(k[0]), str(k[1])))
    candidates = set(ranked[: max(chart_top_n, 0)])
    always = [k for k in keys if state_of[k] in ALWAYS_CHART_STATES and k not in candidates]
    # problems first, then volume: at most MAX_CHARTED sellers get charts (a bounded page)
    always.sort(key=lambda k: (STATE_ORDER.index(state_of[k]), -volume[k], str(k[0]), str(k[1])))
    candidates |= set(always[: max(MAX_CHARTED - len(candidates), 0)])
    points = _chart_points(series, candidates, as_of_ts, chart_metrics)
    chart_keys = {k for k in candidates if points.get(k)}  # no series for a seller: no charts

    all_crit_rows = cr_latest.to_dict("records") if not cr_latest.empty else []
    global_lines = {spec: chart_lines(all_crit_rows, *spec) for spec in chart_metrics}

    def order(k: Key) -> tuple:
        s = state_of[k]
        rank = STATE_ORDER.index(s) if s in STATE_ORDER else len(STATE_ORDER)
        return (rank, -volume[k], str(k[0]), str(k[1]))

    keys.sort(key=order)
    used: set[str] = set()
    anchors = {k: _slug(k, used) for k in keys}
    if open_details is None:
        open_details = len(keys) <= 10

    sellers: list[dict[str, Any]] = []
    for key in keys:
        srow = status_row[key]
        state = state_of[key]
        vals = latest.get(key, {})
        crit_rows = list(cr_by.get(key, []))
        crit_rows.sort(
            key=lambda r: (
                SECTION_ORDER.index(r.get("section"))
                if r.get("section") in SECTION_ORDER
                else len(SECTION_ORDER)
            )
        )
        crit_view = [
            {
                "section": tr.section(r.get("section")),
                "name": criterion_name(r, lang=tr),
                "criterion_id": "" if is_null(r.get("criterion_id")) else str(r.get("criterion_id")),
                "label": "" if is_null(r.get("label")) else str(r.get("label")),
                "value": criterion_value(r, lang=tr),
                "counts": format_counts(r.get("numerator"), r.get("denominator"), lang=tr),
                "threshold": criterion_threshold(r, lang=tr),
                "result": "" if is_null(r.get("result")) else str(r.get("result")),
                "result_label": tr.result(r.get("result")),
                "gap": criterion_gap(r, lang=tr) or "",
            }
            for r in crit_rows
        ]
        key_metrics = []
        for m, w, c in chart_metrics:
            row = vals.get((m, w, c))
            key_metrics.append(
                format_value(row.get("value"), m, status=row.get("status"), lang=tr) if row else NULL
            )
        charts = []
        if key in chart_keys:
            for spec in chart_metrics:
                m, w, c = spec
                lines = chart_lines(crit_rows, m, w, c)  # the seller's own criteria first
                for role, level in global_lines[spec].items():
                    lines.setdefault(role, level)
                kind = metric_kind(m)
                title = tr(
                    "ui.chart_title",
                    metric=tr.metric(m),
                    window=format_window(w, lang=tr),
                    channel=tr.maybe(f"channel_short.{c}") or c,
                )
                vl = trend_spec(
                    points.get(key, {}).get(spec, []),
                    metric=m,
                    title=title,
                    lines=lines,
                    line_labels={role: tr(f"web.chart.{role}") for role in LINE_STYLES},
                    value_label=tr.metric_short(m),
                    day_label=tr("web.chart.day"),
                )
                legend = [
                    tr(f"ui.{role}_legend", threshold=format_value(level, m, lang=tr))
                    for role, level in spec_lines(vl).items()
                ]
                charts.append(
                    {
                        "title": title,
                        "svg": svg_chart(
                            vl, max_points=max_chart_points, no_data_text=tr("ui.chart_no_data"), lang=tr.lang
                        ),
                        "spec": vl,
                        "legend": " · ".join(legend),
                        "kind": kind,
                    }
                )
        tx = tx_by.get(key, [])
        bn = bn_by.get(key, [])
        sellers.append(
            {
                "seller_id": key[0],
                "marketplace_id": "" if key[1] is None else key[1],
                "anchor": anchors[key],
                "state": state or "",
                "state_label": tr.state(state) if state else NULL,
                "since": format_date(srow.get("since")),
                "evaluation_date": format_date(srow.get("evaluation_date")),
                "reason": reason_text(
                    srow.get("reason_key"), srow.get("reason_params"), lang=tr, fallback=srow.get("reason")
                )
                if srow
                else "",
                "volume": format_number(volume[key], "count") if volume[key] else NULL,
                "key_metrics": key_metrics,
                "has_charts": key in chart_keys,
                "charts": charts,
                "criteria": crit_view,
                "transitions": [_transition_view(r, tr) for r in tx],
                "benefits": [
                    {
                        "name": tr.benefit(r.get("benefit")),
                        "detail": _benefit_detail(r.get("detail"), tr),
                        "value": _benefit_value(r.get("value"), tr),
                    }
                    for r in bn
                ],
            }
        )

    listed = len(keys)
    counts: dict[str, int] = {}
    if state_counts is not None:
        counts = {str(k): int(v) for k, v in state_counts.items()}
    else:
        for key in keys:
            if state_of[key] is not None:
                counts[state_of[key]] = counts.get(state_of[key], 0) + 1
    counted = sum(counts.values())
    total = max(int(total_sellers), listed) if total_sellers is not None else listed
    summary = [
        {
            "state": s,
            "label": tr.state(s),
            "count": tr.number(counts.get(s, 0)),
            "share": format_value(counts.get(s, 0) / counted, kind="rate", lang=tr) if counted else NULL,
            "pct": round(100 * counts.get(s, 0) / counted, 1) if counted else 0,
        }
        for s in list(SUMMARY_STATES) + sorted(s for s in counts if s not in SUMMARY_STATES)
    ]

    overview = []
    if criteria_counts is not None and len(criteria_counts):
        for first in criteria_counts.to_dict("records"):
            overview.append(
                {
                    "section": tr.section(first.get("section")),
                    "section_key": first.get("section"),
                    "name": criterion_name(first, lang=tr),
                    "criterion_id": "" if is_null(first.get("criterion_id")) else str(first["criterion_id"]),
                    "threshold": criterion_threshold(first, lang=tr),
                    "counts": [tr.number(int(0 if is_null(first.get(r)) else first.get(r))) for r in RESULTS],
                }
            )
    elif not cr_latest.empty and "criterion_id" in cr_latest:
        cr = cr_latest.copy()
        cr["_result"] = (
            cr["result"].astype("object").where(cr["result"].notna(), "") if "result" in cr else ""
        )
        cr["_section"] = cr["section"] if "section" in cr else ""
        for (_, cid), g in cr.groupby(["_section", "criterion_id"], sort=False, dropna=False):
            first = g.iloc[0].to_dict()
            res = g["_result"].value_counts()
            overview.append(
                {
                    "section": tr.section(first.get("section")),
                    "section_key": first.get("section"),
                    "name": criterion_name(first, lang=tr),
                    "criterion_id": "" if is_null(cid) else str(cid),
                    "threshold": criterion_threshold(first, lang=tr),
                    "counts": [tr.number(int(res.get(r, 0))) for r in RESULTS],
                }
            )
    overview.sort(
        key=lambda o: (
            SECTION_ORDER.index(o["section_key"]) if o["section_key"] in SECTION_ORDER else len(SECTION_ORDER)
        )
    )

    return (
        _env()
        .get_template("report.html.j2")
        .render(
            t=tr,
            html_lang=LANGUAGE_TAGS[tr.lang],
            policy_name=policy_name,
            policy_version=policy_version,
            as_of=format_date(as_of),
            generated=format_datetime(generated_at),
            version=__version__,
            summary=summary,
            total=tr.number(total),
            listed=tr.number(listed),
            partial=listed < total,
            counted=tr.number(counted),
            overview=overview,
            results=[tr.result(r) for r in RESULTS],
            result_keys=RESULTS,
            key_metric_headers=[
                tr.metric_short(m) + f" ({format_window(w, lang=tr)})" for m, w, _ in chart_metrics
            ],
            sellers=sellers,
            chart_count=len(chart_keys & set(keys)),
            search=listed > 1,
            chart_top_n=chart_top_n,
            open_details=open_details,
        )
    )


def render_report(
    path: str | Path,
    *,
    policy_name: str,
    policy_version: str,
    as_of: Any,
    statuses: pd.DataFrame | None,
    criteria: pd.DataFrame | None,
    transitions: pd.DataFrame | None,
    benefits: pd.DataFrame | None,
    series: pd.DataFrame | None,
    lang: str = "en",
    metrics: pd.DataFrame | None = None,
    chart_top_n: int = 50,
    chart_metrics: Sequence[tuple[str, int, str]] = CHART_METRICS,
    max_chart_points: int = 120,
    generated_at: dt.datetime | None = None,
    open_details: bool | None = None,
    state_counts: Mapping[str, int] | None = None,
    criteria_counts: pd.DataFrame | None = None,
    total_sellers: int | None = None,
    order: Sequence[Key] | None = None,
) -> Path:
    """Write the self-contained HTML report.

    Parameters
    ----------
    path : str or Path
        Output file (parent directories are created).
    policy_name, policy_version : str
        Shown in the header.
    as_of : date-like
        The evaluation's data date; series points after it are ignored.
    statuses, criteria, transitions, benefits : DataFrame or None
        As produced by policy evaluation and lifecycle replay; statuses and criteria may hold several
        evaluation dates (the latest per seller is shown), transitions the whole history.
    series : DataFrame or None
        Metric series (metrics frame over many ``as_of`` dates) for the charts; also the source of the
        key metrics in the sellers table when ``metrics`` is not given.
    lang : {"en", "zh"}, default "en"
    metrics : DataFrame, optional
        Metrics at ``as_of``, for the sellers table and the order-volume ranking.
    chart_top_n : int, default 50
        Charts for this many sellers with the most orders (90 days), plus every enrolled, at-risk and
        removed seller.
    chart_metrics : sequence of (metric, window_days, channel)
        Charted metrics, each with the dashed threshold of its admission criterion.
    max_chart_points : int, default 120
        Longer series are thinned evenly.
    generated_at : datetime, optional
        Defaults to now (UTC).
    open_details : bool, optional
        Expand every seller section; default only when there are at most 10 sellers.
    state_counts : mapping of str to int, optional
        Sellers per state over the whole evaluation, when the frames hold only the sellers listed
        (a large evaluation); default: counted from ``statuses``.
    criteria_counts : DataFrame, optional
        One row per criterion (section, criterion id and its fields) with a count column per result
        (``pass``, ``fail``, ``insufficient_data``, ``not_measured``), in policy order; default: counted
        from ``criteria``.
    total_sellers : int, optional
        Sellers in the evaluation (the page says how many it lists of them).
    order : sequence of (seller_id, marketplace_id), optional
        The sellers to list (default: every seller of ``statuses`` and ``criteria``).

    Returns
    -------
    Path
        The written file.
    """
    html = build_report_html(
        policy_name=policy_name,
        policy_version=policy_version,
        as_of=as_of,
        statuses=statuses,
        criteria=criteria,
        transitions=transitions,
        benefits=benefits,
        series=series,
        lang=lang,
        metrics=metrics,
        chart_top_n=chart_top_n,
        chart_metrics=chart_metrics,
        max_chart_points=max_chart_points,
        generated_at=generated_at,
        open_details=open_details,
        state_counts=state_counts,
        criteria_counts=criteria_counts,
        total_sellers=total_sellers,
        order=order,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
