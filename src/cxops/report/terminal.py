"""Terminal renderers (rich): metrics, scorecards, status summary and transitions.

Every function returns a rich renderable; the caller prints it (``Console().print(table)``). Headers
and vocabulary are localised through :mod:`cxops.report.i18n`; values through
:mod:`cxops.report.format`. Long frames are cut at ``limit`` rows with a caption saying so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cxops.report.format import (
    NULL,
    criterion_gap,
    criterion_name,
    criterion_threshold,
    criterion_value,
    format_counts,
    format_date,
    format_threshold,
    format_value,
    format_window,
    is_null,
    provisional_text,
    reason_text,
)
from cxops.report.frames import latest_rows
from cxops.report.i18n import Translator, get_translator

RESULT_STYLES = {
    "pass": "bold green",
    "fail": "bold red",
    "insufficient_data": "yellow",
    "not_measured": "dim",
}
STATE_STYLES = {
    "enrolled": "bold green",
    "at_risk": "bold yellow",
    "removed": "bold red",
    "recovering": "cyan",
    "candidate": "blue",
    "not_eligible": "dim",
}
STATES = ("not_eligible", "candidate", "enrolled", "at_risk", "removed", "recovering")
SECTIONS = ("eligibility", "admission", "removal", "benefits")


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def _text(value: Any) -> str:
    return NULL if is_null(value) else str(value)


def _limit(df: pd.DataFrame, limit: int | None, table: Table, tr: Translator) -> pd.DataFrame:
    if limit is not None and len(df) > limit:
        table.caption = tr("ui.rows_shown", shown=tr.number(limit), total=tr.number(len(df)))
        return df.head(limit)
    return df


def result_text(result: Any, *, lang: str | Translator = "en") -> Text:
    """A criterion result as coloured text (green pass, red fail, yellow insufficient data)."""
    tr = _tr(lang)
    key = _text(result)
    return Text(tr.result(key) if key != NULL else NULL, style=RESULT_STYLES.get(key, ""))


def state_text(state: Any, *, lang: str | Translator = "en") -> Text:
    """A lifecycle state as coloured text."""
    tr = _tr(lang)
    key = _text(state)
    return Text(tr.state(key) if key != NULL else NULL, style=STATE_STYLES.get(key, ""))


def metrics_table(
    metrics: pd.DataFrame,
    *,
    lang: str | Translator = "en",
    title: str | None = None,
    limit: int | None = 500,
) -> Table:
    """Metrics frame (long format) as a table: one row per seller, metric, window and channel.

    Parameters
    ----------
    metrics : DataFrame
        Columns as in ``docs/interfaces.md``.
    lang : str or Translator, default "en"
    title : str, optional
    limit : int or None, default 500
        Maximum rows shown; ``None`` for all.

    Returns
    -------
    rich.table.Table
    """
    tr = _tr(lang)
    table = Table(title=title, show_lines=False, header_style="bold")
    for key, justify in (
        ("ui.seller", "left"),
        ("ui.marketplace", "left"),
        ("ui.metric", "left"),
        ("ui.window", "right"),
        ("ui.channel", "left"),
        ("ui.as_of", "left"),
        ("ui.value", "right"),
        ("ui.counts", "right"),
        ("ui.status", "left"),
    ):
        table.add_column(tr(key), justify=justify)
    df = _limit(metrics, limit, table, tr)
    for row in df.to_dict("records"):
        status = row.get("status")
        value = format_value(row.get("value"), row.get("metric"), status=status, lang=tr)
        value = provisional_text(value, row, lang=tr)  # with its coverage
        table.add_row(
            _text(row.get("seller_id")),
            _text(row.get("marketplace_id")),
            tr.metric(row.get("metric")),
            format_window(row.get("window_days"), lang=tr),
            tr.maybe(f"channel_short.{row.get('channel')}") or _text(row.get("channel")),
            format_date(row.get("as_of")),
            value,
            format_counts(row.get("numerator"), row.get("denominator"), lang=tr),
            Text(tr.status(status)) if not is_null(status) else Text(NULL),
        )
    return table


def _section_order(value: Any) -> int:
    return SECTIONS.index(value) if value in SECTIONS else len(SECTIONS)


def scorecard_table(
    criteria: pd.DataFrame,
    seller_id: Any = None,
    marketplace_id: Any = None,
    *,
    lang: str | Translator = "en",
    title: str | None = None,
) -> Table:
    """One seller's criteria as a scorecard: value, counts, operator and threshold, result, gap.

    Parameters
    ----------
    criteria : DataFrame
        Criteria results (may hold many sellers; filtered by ``seller_id``/``marketplace_id``; only the
        latest ``evaluation_date`` of each seller is shown).
    seller_id, marketplace_id : optional
        Filter; ``None`` keeps every row.
    lang : str or Translator, default "en"
    title : str, optional
        Defaults to ``seller · marketplace · evaluation date``.

    Returns
    -------
    rich.table.Table
    """
    tr = _tr(lang)
    df = criteria
    if seller_id is not None and "seller_id" in df:
        df = df[df["seller_id"] == seller_id]
    if marketplace_id is not None and "marketplace_id" in df:
        df = df[df["marketplace_id"] == marketplace_id]
    df = latest_rows(df, "evaluation_date")
    if title is None and seller_id is not None:
        parts = [str(seller_id)]
        if marketplace_id is not None:
            parts.append(str(marketplace_id))
        if len(df) and "evaluation_date" in df:
            parts.append(format_date(df["evaluation_date"].max()))
        title = " · ".join(parts)
    table = Table(title=title, header_style="bold")
    for key, justify in (
        ("ui.section", "left"),
        ("ui.criterion", "left"),
        ("ui.value", "right"),
        ("ui.counts", "right"),
        ("ui.threshold", "right"),
        ("ui.result", "left"),
        ("ui.gap", "left"),
    ):
        table.add_column(tr(key), justify=justify)
    rows = df.to_dict("records")
    rows.sort(key=lambda r: _section_order(r.get("section")))
    for row in rows:
        table.add_row(
            tr.section(row.get("section")),
            criterion_name(row, lang=tr),
            criterion_value(row, lang=tr),
            format_counts(row.get("numerator"), row.get("denominator"), lang=tr),
            criterion_threshold(row, lang=tr),
            result_text(row.get("result"), lang=tr),
            criterion_gap(row, lang=tr) or "",
        )
    if not rows:
        table.caption = tr("ui.no_criteria")
    return table


def scorecards(
    criteria: pd.DataFrame,
    *,
    lang: str | Translator = "en",
    limit: int | None = 50,
) -> RenderableType:
    """One scorecard per (seller, marketplace), in seller order, at most ``limit`` sellers."""
    tr = _tr(lang)
    if criteria.empty:
        return Text(tr("ui.no_criteria"))
    cols = ["seller_id", "marketplace_id"]
    keys = criteria[cols].drop_duplicates().sort_values(cols)
    total = len(keys)
    if limit is not None:
        keys = keys.head(limit)
    grouped = dict(tuple(latest_rows(criteria, "evaluation_date").groupby(cols, sort=False)))
    parts: list[RenderableType] = [
        scorecard_table(grouped[(s, m)], s, m, lang=tr) for s, m in keys.itertuples(index=False, name=None)
    ]
    if total > len(keys):
        parts.append(Text(tr("ui.and_more", count=tr.number(total - len(keys))), style="dim"))
    return Group(*parts)


def status_summary_table(
    statuses: pd.DataFrame,
    *,
    lang: str | Translator = "en",
    title: str | None = None,
) -> Table:
    """Counts and shares of sellers per lifecycle state (every state listed, zeros included).

    Uses the latest ``evaluation_date`` per (seller, marketplace) when the frame holds several.
    """
    tr = _tr(lang)
    latest = latest_rows(statuses, "evaluation_date")
    counts = latest["state"].value_counts() if "state" in latest else pd.Series(dtype=int)
    total = int(counts.sum())
    table = Table(title=title or tr("ui.summary_by_status"), header_style="bold")
    table.add_column(tr("ui.state"))
    table.add_column(tr("ui.count"), justify="right")
    table.add_column(tr("ui.share"), justify="right")
    states = list(STATES) + [s for s in counts.index if s not in STATES]
    for state in states:
        n = int(counts.get(state, 0))
        share = format_value(n / total, kind="rate", lang=tr) if total else NULL
        table.add_row(state_text(state, lang=tr), tr.number(n), share)
    table.add_section()
    table.add_row(
        Text(tr("ui.total"), style="bold"),
        tr.number(total),
        format_value(1.0, kind="rate", lang=tr) if total else NULL,
    )
    return table


def transitions_table(
    transitions: pd.DataFrame,
    *,
    lang: str | Translator = "en",
    title: str | None = None,
    limit: int | None = 500,
) -> Table:
    """Lifecycle transitions with date, states, rule, metric value against threshold, and reason."""
    tr = _tr(lang)
    table = Table(title=title or tr("ui.transitions"), header_style="bold")
    for key, justify in (
        ("ui.date", "left"),
        ("ui.seller", "left"),
        ("ui.marketplace", "left"),
        ("ui.from_state", "left"),
        ("ui.to_state", "left"),
        ("ui.rule", "left"),
        ("ui.metric", "left"),
        ("ui.value", "right"),
        ("ui.threshold", "right"),
        ("ui.reason", "left"),
    ):
        table.add_column(tr(key), justify=justify)
    df = transitions
    if "date" in df and len(df):
        df = df.sort_values([c for c in ("date", "seller_id", "marketplace_id") if c in df], kind="stable")
    df = _limit(df, limit, table, tr)
    for row in df.to_dict("records"):
        metric = row.get("metric")
        has_metric = not is_null(metric)
        table.add_row(
            format_date(row.get("date")),
            _text(row.get("seller_id")),
            _text(row.get("marketplace_id")),
            state_text(row.get("from_state"), lang=tr),
            state_text(row.get("to_state"), lang=tr),
            _text(row.get("rule_id")),
            _metric_with_window(metric, row.get("window_days"), tr) if has_metric else "",
            format_value(row.get("value"), metric, lang=tr) if has_metric else "",
            format_threshold(row.get("threshold"), metric, operator=row.get("operator"), lang=tr)
            if has_metric
            else "",
            reason_text(row.get("reason_key"), row.get("reason_params"), lang=tr, fallback=row.get("reason")),
        )
    if len(df) == 0:
        table.caption = tr("ui.no_transitions")
    return table


def _metric_with_window(metric: Any, window_days: Any, tr: Translator) -> str:
    window = format_window(window_days, lang=tr)
    name = tr.metric(metric)
    return tr("fmt.name_with_details", name=name, details=window) if window else name


def statuses_table(
    statuses: pd.DataFrame,
    *,
    lang: str | Translator = "en",
    title: str | None = None,
    limit: int | None = 500,
) -> Table:
    """One row per seller: state (coloured), since, and the reason sentence."""
    tr = _tr(lang)
    table = Table(title=title, header_style="bold")
    for key in ("ui.seller", "ui.marketplace", "ui.evaluation_date", "ui.state", "ui.since", "ui.reason"):
        table.add_column(tr(key))
    df = latest_rows(statuses, "evaluation_date")
    df = _limit(df, limit, table, tr)
    for row in df.to_dict("records"):
        table.add_row(
            _text(row.get("seller_id")),
            _text(row.get("marketplace_id")),
            format_date(row.get("evaluation_date")),
            state_text(row.get("state"), lang=tr),
            format_date(row.get("since")),
            reason_text(row.get("reason_key"), row.get("reason_params"), lang=tr, fallback=row.get("reason")),
        )
    return table
