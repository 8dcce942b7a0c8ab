"""Explain one seller's standing: status and why, each criterion with its gap, and the counted defects
with the date each drops out of its window.

:func:`build_explanation` gathers everything into an :class:`Explanation`; :func:`explain_text` renders
it as plain text and :func:`explain_renderable` as a rich renderable. Both languages are supported.

A defect record counts in the window ``[as_of − (N−1), as_of]`` of its anchor date; it drops out on the
first as-of date that no longer contains it, ``anchor_date + window_days`` (the ``drops_out_on`` column
when given). Records that already dropped out at the criterion's as-of date are not listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cxops.report.format import (
    DEFECT_METRICS,
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
    reason_text,
    to_date,
)
from cxops.report.frames import frame, latest_rows, seller_rows
from cxops.report.i18n import Translator
from cxops.report.terminal import STATE_STYLES, scorecard_table

RESULT_MARKS = {"pass": "✓", "fail": "✗", "insufficient_data": "?", "not_measured": "–"}
SECTION_ORDER = ("eligibility", "admission", "removal", "benefits")


@dataclass
class DropDate:
    """Defective records of one metric that leave the window on the same day."""

    date: dt.date | None
    orders: list[tuple[str, list[str]]]  # (order_id, kinds)


@dataclass
class DefectGroup:
    """Counted defects of one metric and window, grouped by drop-out date (ascending)."""

    metric: str
    window_days: int | None
    count: int
    dates: list[DropDate]
    hidden: int = 0


@dataclass
class Explanation:
    """Everything :func:`explain_text` shows, unrendered."""

    seller_id: Hashable
    marketplace_id: Hashable
    status: dict[str, Any]
    criteria: list[dict[str, Any]]
    defects: list[DefectGroup]
    transitions: list[dict[str, Any]]
    next_evaluation: dt.date | None = None
    evaluation_date: dt.date | None = None
    as_of: dt.date | None = None
    hidden_transitions: int = 0
    notes: list[str] = field(default_factory=list)


def _status_dict(status_row: Any, seller_id: Any, marketplace_id: Any) -> dict[str, Any]:
    if status_row is None:
        return {}
    if isinstance(status_row, pd.DataFrame):
        rows = latest_rows(seller_rows(status_row, seller_id, marketplace_id), "evaluation_date")
        return rows.iloc[-1].to_dict() if len(rows) else {}
    if isinstance(status_row, pd.Series):
        return status_row.to_dict()
    if isinstance(status_row, Mapping):
        return dict(status_row)
    raise TypeError(f"status_row must be a mapping, Series or DataFrame, not {type(status_row).__name__}")


def _window(value: Any) -> int | None:
    if is_null(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _defect_groups(
    defects: pd.DataFrame,
    criteria_rows: Sequence[Mapping[str, Any]],
    fallback_as_of: dt.date | None,
    max_rows: int,
) -> list[DefectGroup]:
    if defects.empty or "metric" not in defects:
        return []
    # the as-of date of each (metric, window) from the criteria; else the latest as-of overall
    as_of_by: dict[tuple[str, int | None], dt.date] = {}
    for r in criteria_rows:
        d = to_date(r.get("as_of"))
        if d is not None and not is_null(r.get("metric")):
            k = (str(r["metric"]), _window(r.get("window_days")))
            as_of_by[k] = max(as_of_by.get(k, d), d)
    by_order: dict[tuple[str, int | None], dict[str, dict[str, Any]]] = {}
    for r in defects.to_dict("records"):
        metric = r.get("metric")
        if is_null(metric):
            continue
        metric = str(metric)
        window = _window(r.get("window_days"))
        anchor = to_date(r.get("anchor_date"))
        drop = to_date(r.get("drops_out_on"))
        if drop is None and anchor is not None and window is not None:
            drop = anchor + dt.timedelta(days=window)
        as_of = as_of_by.get((metric, window), fallback_as_of)
        if as_of is not None:
            if drop is not None and drop <= as_of:
                continue  # already out of the window
            if anchor is not None and anchor > as_of:
                continue  # not in the window yet
        order_id = "" if is_null(r.get("order_id")) else str(r.get("order_id"))
        entry = by_order.setdefault((metric, window), {}).setdefault(order_id, {"drop": drop, "kinds": []})
        if drop is not None and (entry["drop"] is None or drop < entry["drop"]):
            entry["drop"] = drop
        kind = r.get("kind")
        if not is_null(kind) and str(kind) not in entry["kinds"]:
            entry["kinds"].append(str(kind))

    def metric_order(k: tuple[str, int | None]) -> tuple:
        m, w = k
        return (DEFECT_METRICS.index(m) if m in DEFECT_METRICS else len(DEFECT_METRICS), m, w or 0)

    groups = []
    for key in sorted(by_order, key=metric_order):
        orders = sorted(
            by_order[key].items(), key=lambda kv: (kv[1]["drop"] is None, kv[1]["drop"] or dt.date.min, kv[0])
        )
        shown = orders[: max(max_rows, 0)]
        dates: list[DropDate] = []
        for order_id, entry in shown:
            if not dates or dates[-1].date != entry["drop"]:
                dates.append(DropDate(entry["drop"], []))
            dates[-1].orders.append((order_id, entry["kinds"]))
        groups.append(DefectGroup(key[0], key[1], len(orders), dates, hidden=len(orders) - len(shown)))
    return groups


def build_explanation(
    seller_id: Any,
    marketplace_id: Any,
    *,
    status_row: Any,
    criteria: pd.DataFrame | None,
    defects: pd.DataFrame | None,
    transitions: pd.DataFrame | None,
    next_evaluation: Any = None,
    max_defects: int = 20,
    max_transitions: int = 10,
) -> Explanation:
    """Collect one seller's explanation (see :func:`explain_text` for the parameters)."""
    status = _status_dict(status_row, seller_id, marketplace_id)
    crit = latest_rows(seller_rows(frame(criteria), seller_id, marketplace_id), "evaluation_date")
    crit_rows = crit.to_dict("records") if len(crit) else []
    crit_rows.sort(
        key=lambda r: SECTION_ORDER.index(r.get("section")) if r.get("section") in SECTION_ORDER else 9
    )
    eval_date = to_date(status.get("evaluation_date"))
    if eval_date is None and crit_rows:
        dates = [d for d in (to_date(r.get("evaluation_date")) for r in crit_rows) if d is not None]
        eval_date = max(dates) if dates else None
    as_of_dates = [d for d in (to_date(r.get("as_of")) for r in crit_rows) if d is not None]
    as_of = max(as_of_dates) if as_of_dates else to_date(status.get("as_of"))

    tx = seller_rows(frame(transitions), seller_id, marketplace_id)
    tx_rows = tx.to_dict("records") if len(tx) else []
    tx_rows.sort(key=lambda r: to_date(r.get("date")) or dt.date.min)
    hidden_tx = max(len(tx_rows) - max_transitions, 0)
    tx_rows = tx_rows[hidden_tx:]

    nxt = to_date(next_evaluation)
    if nxt is None:
        nxt = to_date(status.get("next_evaluation"))

    groups = _defect_groups(
        seller_rows(frame(defects), seller_id, marketplace_id), crit_rows, as_of, max_defects
    )
    return Explanation(
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        status=status,
        criteria=crit_rows,
        defects=groups,
        transitions=tx_rows,
        next_evaluation=nxt,
        evaluation_date=eval_date,
        as_of=as_of,
        hidden_transitions=hidden_tx,
    )


def _status_lines(ex: Explanation, tr: Translator) -> list[str]:
    lines = [tr("ui.explain_title", seller=ex.seller_id, marketplace=ex.marketplace_id or NULL)]
    if not ex.status or is_null(ex.status.get("state")):
        lines.append(tr("ui.explain_no_status"))
    else:
        state = tr.state(ex.status.get("state"))
        since = ex.status.get("since")
        if is_null(since):
            lines.append(tr("ui.explain_status_no_since", state=state))
        else:
            lines.append(tr("ui.explain_status", state=state, since=format_date(since)))
        if not is_null(ex.status.get("reason_key")):
            reason = reason_text(
                ex.status.get("reason_key"),
                ex.status.get("reason_params"),
                lang=tr,
                fallback=ex.status.get("reason"),
            )
            lines.append(tr("ui.explain_reason", reason=reason))
    if ex.evaluation_date is not None or ex.as_of is not None:
        lines.append(
            tr("ui.explain_evaluated", date=format_date(ex.evaluation_date), as_of=format_date(ex.as_of))
        )
    if ex.next_evaluation is not None:
        lines.append(tr("ui.next_evaluation", date=format_date(ex.next_evaluation)))
    return lines


def _criterion_line(r: Mapping[str, Any], tr: Translator) -> str:
    result = "" if is_null(r.get("result")) else str(r.get("result"))
    mark = RESULT_MARKS.get(result, "·")
    if is_null(r.get("metric")):
        return f"  {mark} {tr.result(result) if result else NULL} · {criterion_name(r, lang=tr)}"
    threshold = criterion_threshold(r, lang=tr)
    counts = format_counts(r.get("numerator"), r.get("denominator"), lang=tr)
    text = f"  {mark} {tr.result(result) if result else NULL} · "
    text += tr("ui.name_value", name=criterion_name(r, lang=tr), value=criterion_value(r, lang=tr))
    if counts != NULL:
        text += f" ({counts})"
    text += f" · {tr('ui.threshold')} {threshold}"
    gap = criterion_gap(r, lang=tr)
    if gap:
        text += f" · {gap}"
    return text


def _order_ref(order_id: str, kinds: list[str], tr: Translator) -> str:
    if kinds:
        return tr("ui.order_ref_kind", order_id=order_id, kind=tr.join(tr.kind(k) for k in kinds))
    return tr("ui.order_ref", order_id=order_id)


def _defect_header(g: DefectGroup, tr: Translator) -> str:
    window = format_window(g.window_days, lang=tr) or NULL
    return tr("ui.defects_metric", metric=tr.metric(g.metric), window=window, count=tr.number(g.count))


def explain_text(
    seller_id: Any,
    marketplace_id: Any,
    *,
    status_row: Any,
    criteria: pd.DataFrame | None,
    defects: pd.DataFrame | None,
    transitions: pd.DataFrame | None,
    lang: str = "en",
    next_evaluation: Any = None,
    max_defects: int = 20,
    max_transitions: int = 10,
) -> str:
    """Explain a seller's status, criteria and counted defects as plain text.

    Parameters
    ----------
    seller_id, marketplace_id
        The seller to explain; the frames may hold other sellers too.
    status_row : mapping, Series, DataFrame or None
        The seller's status row (a statuses frame is accepted: its latest row for the seller is used).
    criteria : DataFrame or None
        Criteria results; the latest evaluation date of the seller is shown.
    defects : DataFrame or None
        Defect records (``seller_id, marketplace_id, metric, window_days, order_id, anchor_date,
        drops_out_on, kind``); ``drops_out_on`` defaults to ``anchor_date + window_days``.
    transitions : DataFrame or None
        The seller's transitions; the last ``max_transitions`` are listed.
    lang : {"en", "zh"}, default "en"
    next_evaluation : date-like, optional
        Shown when given (else a ``next_evaluation`` column of the status row, if any).
    max_defects : int, default 20
        Orders listed per metric; the rest are summarised as "… and K more".
    max_transitions : int, default 10

    Returns
    -------
    str
        Lines separated by ``\\n``, ending with a newline.

    Examples
    --------
    A defect on an order of 2024-05-02 in the 60-day order defect rate drops out on 2024-07-01::

        Order defect rate (60 days): 1 counted
          drops out on 2024-07-01: order 111-0000001 (negative feedback)
    """
    tr = Translator(lang)
    ex = build_explanation(
        seller_id,
        marketplace_id,
        status_row=status_row,
        criteria=criteria,
        defects=defects,
        transitions=transitions,
        next_evaluation=next_evaluation,
        max_defects=max_defects,
        max_transitions=max_transitions,
    )
    lines = _status_lines(ex, tr)
    lines.append("")
    if ex.criteria:
        current = object()
        for r in ex.criteria:
            if r.get("section") != current:
                current = r.get("section")
                lines.append(tr.section(current) if not is_null(current) else tr("ui.criteria"))
            lines.append(_criterion_line(r, tr))
    else:
        lines.append(tr("ui.no_criteria"))
    lines.append("")
    lines.append(tr("ui.defects_heading"))
    if not ex.defects:
        lines.append("  " + tr("ui.no_defects"))
    for g in ex.defects:
        lines.append("  " + _defect_header(g, tr))
        for d in g.dates:
            orders = tr.join(_order_ref(o, k, tr) for o, k in d.orders)
            lines.append("    " + tr("ui.drop_line", date=format_date(d.date), orders=orders))
        if g.hidden:
            lines.append("    " + tr("ui.and_more", count=tr.number(g.hidden)))
    if ex.transitions:
        lines.append("")
        lines.append(tr("ui.history"))
        if ex.hidden_transitions:
            lines.append("  " + tr("ui.and_more", count=tr.number(ex.hidden_transitions)))
        for r in ex.transitions:
            lines.append("  " + _transition_line(r, tr))
    return "\n".join(lines) + "\n"


def _transition_line(r: Mapping[str, Any], tr: Translator) -> str:
    frm = tr.state(r.get("from_state")) if not is_null(r.get("from_state")) else NULL
    to = tr.state(r.get("to_state")) if not is_null(r.get("to_state")) else NULL
    text = f"{format_date(r.get('date'))}  {frm} → {to}"
    if not is_null(r.get("rule_id")):
        text += f"  [{r.get('rule_id')}]"
    if not is_null(r.get("reason_key")):
        text += "  " + reason_text(
            r.get("reason_key"), r.get("reason_params"), lang=tr, fallback=r.get("reason")
        )
    elif not is_null(r.get("metric")):
        metric = r.get("metric")
        text += (
            f"  {tr.metric(metric)} {format_value(r.get('value'), metric, lang=tr)}"
            f" / {format_threshold(r.get('threshold'), metric, operator=r.get('operator'), lang=tr)}"
        )
    return text


def explain_renderable(
    seller_id: Any,
    marketplace_id: Any,
    *,
    status_row: Any,
    criteria: pd.DataFrame | None,
    defects: pd.DataFrame | None,
    transitions: pd.DataFrame | None,
    lang: str = "en",
    next_evaluation: Any = None,
    max_defects: int = 20,
    max_transitions: int = 10,
) -> RenderableType:
    """The same explanation as :func:`explain_text`, as a rich renderable (coloured scorecard table).

    Returns
    -------
    rich.console.Group
    """
    tr = Translator(lang)
    ex = build_explanation(
        seller_id,
        marketplace_id,
        status_row=status_row,
        criteria=criteria,
        defects=defects,
        transitions=transitions,
        next_evaluation=next_evaluation,
        max_defects=max_defects,
        max_transitions=max_transitions,
    )
    parts: list[RenderableType] = []
    head = _status_lines(ex, tr)
    state = ex.status.get("state") if ex.status else None
    parts.append(Text(head[0], style="bold"))
    for i, line in enumerate(head[1:]):
        style = STATE_STYLES.get(str(state), "") if i == 0 else ""
        parts.append(Text(line, style=style))
    crit = pd.DataFrame(ex.criteria)
    parts.append(scorecard_table(crit, lang=tr, title=tr("ui.criteria")))
    defects_table = Table(title=tr("ui.defects_heading"), header_style="bold", show_lines=False)
    defects_table.add_column(tr("ui.metric"))
    defects_table.add_column(tr("ui.date"))
    defects_table.add_column(tr("ui.detail"))
    for g in ex.defects:
        defects_table.add_row(Text(_defect_header(g, tr), style="bold"), "", "")
        for d in g.dates:
            orders = tr.join(_order_ref(o, k, tr) for o, k in d.orders)
            defects_table.add_row("", format_date(d.date), orders)
        if g.hidden:
            defects_table.add_row("", "", Text(tr("ui.and_more", count=tr.number(g.hidden)), style="dim"))
    if not ex.defects:
        defects_table.caption = tr("ui.no_defects")
    parts.append(defects_table)
    if ex.transitions:
        hist = Table(title=tr("ui.history"), header_style="bold")
        for key in ("ui.date", "ui.from_state", "ui.to_state", "ui.rule", "ui.reason"):
            hist.add_column(tr(key))
        for r in ex.transitions:
            to_state = r.get("to_state")
            hist.add_row(
                format_date(r.get("date")),
                tr.state(r.get("from_state")) if not is_null(r.get("from_state")) else NULL,
                Text(
                    tr.state(to_state) if not is_null(to_state) else NULL,
                    style=STATE_STYLES.get(str(to_state), ""),
                ),
                "" if is_null(r.get("rule_id")) else str(r.get("rule_id")),
                reason_text(r.get("reason_key"), r.get("reason_params"), lang=tr, fallback=r.get("reason")),
            )
        if ex.hidden_transitions:
            hist.caption = tr("ui.and_more", count=tr.number(ex.hidden_transitions))
        parts.append(hist)
    return Group(*parts)


__all__ = [
    "DefectGroup",
    "DropDate",
    "Explanation",
    "build_explanation",
    "explain_renderable",
    "explain_text",
]
