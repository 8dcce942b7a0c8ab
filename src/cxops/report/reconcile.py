"""Reconciliation outputs: the frame for files (JSONL, CSV, Parquet), the terminal table and a summary.

Renders a :class:`cxops.reconcile.results.Reconciliation` in one language: every sentence comes from the
message catalogs (``reconcile.*``, ``not_measured.*``), counts with thousands separators and singular or
plural nouns, rates by the metric's kind (:mod:`cxops.report.format`), dates as ISO days.

Identifiers — metric and channel names, cause keys and verdicts in the summary — are shown as they are
in English output (they are the report's and the machine outputs' vocabulary, and what the other
commands take as options); in other languages they are shown by their catalog names (``metric.*``,
``reconcile.metric.*``, ``channel_short.*``, ``reconcile.cause_name.*``, ``reconcile.verdict.*``),
falling back to the identifier.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich.table import Table
from rich.text import Text

from cxops.reconcile.results import (
    ROW_COLUMNS,
    VERDICTS,
    Cause,
    Count,
    Counts,
    Listed,
    Message,
    Rate,
    Reconciliation,
    Term,
)
from cxops.report.format import NULL, format_count, format_counts, format_date, format_value, is_null
from cxops.report.i18n import DEFAULT_LANG, Translator, get_translator

OUTPUT_COLUMNS = list(ROW_COLUMNS)
"""Columns of :func:`reconcile_frame`: those of the typed rows, with ``reason``, ``computed_as`` and the
``text`` of each of ``likely_causes`` (``[{"cause": key, "text": sentence}]``) rendered."""

VERDICT_STYLES = {
    "agrees": "bold green",
    "differs": "bold red",
    "no_raw_data": "yellow",
    "not_computable": "dim",
}

#: Catalog groups naming the identifiers of each vocabulary, in lookup order.
_VOCABULARIES = {
    "metric": ("metric", "reconcile.metric"),
    "channel": ("channel_short",),
    "cause": ("reconcile.cause_name",),
    "verdict": ("reconcile.verdict",),
}


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def term(vocabulary: str, name: Any, *, lang: str | Translator = DEFAULT_LANG) -> str:
    """An identifier of ``vocabulary`` as shown: itself in English, its catalog name otherwise."""
    tr = _tr(lang)
    name = str(name)
    if tr.lang == DEFAULT_LANG:
        return name
    for group in _VOCABULARIES[vocabulary]:
        text = tr.maybe(f"{group}.{name}")
        if text is not None:
            return text
    return name


def _param(value: Any, tr: Translator) -> str:
    if value is None:
        return ""
    if isinstance(value, Message):
        return render_message(value, lang=tr)
    if isinstance(value, Count):
        n = 0 if is_null(value.n) else round(float(value.n))
        return tr.plural(f"reconcile.count.{value.noun}", n)
    if isinstance(value, Counts):
        if is_null(value.denominator):
            return format_count(value.numerator, lang=tr)
        return format_counts(value.numerator, value.denominator, lang=tr)
    if isinstance(value, Rate):
        return format_value(None if is_null(value.value) else value.value, value.metric, lang=tr)
    if isinstance(value, Term):
        return term(value.vocabulary, value.name, lang=tr)
    if isinstance(value, Listed):
        return tr(value.separator).join(_param(v, tr) for v in value.items)
    if isinstance(value, tuple | list):
        return tr("reconcile.list_and").join(_param(v, tr) for v in value)
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Number):
        return format_count(value, lang=tr)
    if isinstance(value, dt.date | pd.Timestamp):
        return format_date(value)
    return str(value)


def render_message(message: Message | None, *, lang: str | Translator = DEFAULT_LANG) -> str | None:
    """A :class:`~cxops.reconcile.results.Message` as a sentence in ``lang`` (``None`` stays ``None``)."""
    if message is None:
        return None
    tr = _tr(lang)
    return tr(message.key, **{k: _param(v, tr) for k, v in message.params.items()})


def _rows(result: Reconciliation | pd.DataFrame) -> pd.DataFrame:
    return result.rows if isinstance(result, Reconciliation) else result


def _causes(causes: Any, tr: Translator) -> list[tuple[str, str]]:
    """``(cause key, sentence)`` of a row's causes, typed (:class:`Cause`) or already rendered."""
    if not isinstance(causes, list | tuple):
        return []
    out = []
    for c in causes:
        if isinstance(c, Cause):
            out.append((c.cause, render_message(c.message, lang=tr)))
        elif isinstance(c, Mapping):
            out.append((str(c["cause"]), str(c["text"])))
    return out


def _text(value: Any, tr: Translator) -> str | None:
    if isinstance(value, Message):
        return render_message(value, lang=tr)
    return None if is_null(value) else str(value)


def reconcile_frame(
    result: Reconciliation | pd.DataFrame, *, lang: str | Translator = DEFAULT_LANG
) -> pd.DataFrame:
    """The reconciliation as a long frame for files and streams, its sentences in ``lang``.

    Parameters
    ----------
    result : Reconciliation or its ``rows``
    lang : str or Translator, default "en"

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_COLUMNS` (documented in :class:`~cxops.reconcile.results.Reconciliation`),
        with ``reason`` and ``computed_as`` as text and ``likely_causes`` as a list of
        ``{"cause": key, "text": sentence}``.
    """
    tr = _tr(lang)
    df = _rows(result).copy()
    df["reason"] = pd.Series([_text(m, tr) for m in df["reason"]], index=df.index, dtype=object)
    df["computed_as"] = pd.Series([_text(m, tr) for m in df["computed_as"]], index=df.index, dtype=object)
    df["likely_causes"] = pd.Series(
        [[{"cause": k, "text": t} for k, t in _causes(cs, tr)] for cs in df["likely_causes"]],
        index=df.index,
        dtype=object,
    )
    return df[OUTPUT_COLUMNS]


def _value_text(r: Mapping[str, Any], side: str, tr: Translator) -> str:
    metric = r["metric"]
    rate = r[f"{side}_rate"]
    num, den = r[f"{side}_numerator"], r[f"{side}_denominator"]
    if is_null(rate) and not is_null(num) and is_null(den):
        return format_count(num, lang=tr)
    text = format_value(None if is_null(rate) else rate, metric, lang=tr)
    if not is_null(den):
        text = tr("reconcile.value_with_counts", value=text, counts=format_counts(num, den, lang=tr))
    return text


def _row_id(r: Mapping[str, Any], tr: Translator) -> dict[str, str]:
    return {
        "seller": str(r["seller_id"]),
        "marketplace": str(r["marketplace_id"]),
        "metric": term("metric", r["metric"], lang=tr),
        "channel": term("channel", r["channel"], lang=tr),
        "start": format_date(r["window_from"]),
        "end": format_date(r["window_to"]),
    }


def reconcile_summary(result: Reconciliation | pd.DataFrame, *, lang: str | Translator = DEFAULT_LANG) -> str:
    """Plain-text summary: counts by verdict, then each difference and each row not compared.

    Example::

        8 reported metrics: 5 agree, 2 differ, 1 not computable, 0 no raw data.
        Differences:
          S1 US order_defect_rate mfn 2024-04-18..2024-06-16: reported 0.50% (5 / 1,000), computed
          0.40% (4 / 1,000); likely: removed_feedback

    Parameters
    ----------
    result : Reconciliation, its ``rows``, or a frame of :func:`reconcile_frame`
    lang : str or Translator, default "en"
    """
    tr = _tr(lang)
    df = _rows(result)
    n = len(df)
    counts = df["verdict"].value_counts() if n else pd.Series(dtype=int)
    per = {v: format_count(int(counts.get(v, 0)), lang=tr) for v in VERDICTS}
    lines = [
        tr.plural(
            "reconcile.summary.counts",
            n,
            agree=per["agrees"],
            differ=per["differs"],
            not_computable=per["not_computable"],
            no_raw_data=per["no_raw_data"],
        )
    ]
    diffs = df[df["verdict"] == "differs"] if n else df
    if len(diffs):
        lines.append(tr("reconcile.summary.differences"))
        for r in diffs.to_dict("records"):
            keys = [term("cause", k, lang=tr) for k, _ in _causes(r["likely_causes"], tr) if k != "window"]
            lines.append(
                tr(
                    "reconcile.summary.difference",
                    **_row_id(r, tr),
                    reported=_value_text(r, "reported", tr),
                    computed=_value_text(r, "computed", tr),
                    causes=tr.join(keys) if keys else term("cause", "unexplained", lang=tr),
                )
            )
    other = df[df["verdict"].isin(["not_computable", "no_raw_data"])] if n else df
    if len(other):
        lines.append(tr("reconcile.summary.not_compared"))
        for r in other.to_dict("records"):
            lines.append(
                tr(
                    "reconcile.summary.not_compared_row",
                    **_row_id(r, tr),
                    verdict=term("verdict", r["verdict"], lang=tr),
                    reason=_text(r["reason"], tr) or "",
                )
            )
    return "\n".join(lines)


def _diff_text(r: Mapping[str, Any], tr: Translator) -> str:
    diff = []
    if not is_null(r["diff_rate"]):
        sign = "+" if r["diff_rate"] > 0 else "−" if r["diff_rate"] < 0 else ""
        diff.append(sign + format_value(abs(r["diff_rate"]), r["metric"], lang=tr))
    if not is_null(r["diff_numerator"]) and r["diff_numerator"] != 0:
        diff.append(tr("reconcile.table.diff_numerator", n=f"{r['diff_numerator']:+,.0f}"))
    if not is_null(r["diff_denominator"]) and r["diff_denominator"] != 0:
        diff.append(tr("reconcile.table.diff_denominator", n=f"{r['diff_denominator']:+,.0f}"))
    return "\n".join(diff)


def account_text(account_status: Any, ahr_status: Any, *, lang: str | Translator = DEFAULT_LANG) -> str:
    """The reported account status and Account Health Rating status, one per line ('' when neither)."""
    tr = _tr(lang)
    parts = []
    if not is_null(account_status):
        parts.append(tr.maybe(f"reconcile.account_status.{account_status}", str(account_status)))
    if not is_null(ahr_status):
        status = tr.maybe(f"reconcile.ahr_status.{ahr_status}", str(ahr_status))
        parts.append(tr("reconcile.table.ahr", status=status))
    return "\n".join(parts)


def reconcile_table(
    result: Reconciliation | pd.DataFrame,
    *,
    lang: str | Translator = DEFAULT_LANG,
    title: str | None = None,
    limit: int | None = 500,
) -> Table:
    """The reconciliation as a rich table: reported vs computed, difference, verdict, causes.

    The reported account status of each seller and marketplace (and its Account Health Rating status)
    is shown on the first row of the seller, and again where it changes.

    Parameters
    ----------
    result : Reconciliation, its ``rows``, or a frame of :func:`reconcile_frame`
    lang : str or Translator, default "en"
    title : str, optional
    limit : int or None, default 500
        Maximum rows shown (a caption says how many of how many); ``None`` for all.

    Returns
    -------
    rich.table.Table
    """
    tr = _tr(lang)
    df = _rows(result)
    table = Table(title=title, header_style="bold", show_lines=True)
    for key, justify in (
        ("seller", "left"),
        ("market", "left"),
        ("account", "left"),
        ("metric", "left"),
        ("channel", "left"),
        ("window", "left"),
        ("reported", "right"),
        ("computed", "right"),
        ("difference", "right"),
        ("verdict", "left"),
        ("why", "left"),
    ):
        table.add_column(tr(f"reconcile.table.{key}"), justify=justify, overflow="fold")
    if limit is not None and len(df) > limit:
        table.caption = tr("ui.rows_shown", shown=tr.number(limit), total=tr.number(len(df)))
        df = df.head(limit)
    shown = None
    for r in df.to_dict("records"):
        compared = r["verdict"] in ("agrees", "differs")
        if compared:
            sep = tr("reconcile.table.cause_separator")
            why = Text("\n").join(
                Text.assemble((term("cause", k, lang=tr), "bold"), sep, t)
                for k, t in _causes(r["likely_causes"], tr)
            )
        else:
            why = Text(_text(r["reason"], tr) or "")
        account = account_text(r.get("account_status"), r.get("ahr_status"), lang=tr)
        key = (r["seller_id"], r["marketplace_id"], account)
        table.add_row(
            str(r["seller_id"]),
            str(r["marketplace_id"]),
            account if key != shown else "",
            term("metric", r["metric"], lang=tr),
            term("channel", r["channel"], lang=tr),
            tr(
                "reconcile.table.window_cell",
                start=format_date(r["window_from"]),
                end=format_date(r["window_to"]),
                days=str(r["window_days"]),
            ),
            _value_text(r, "reported", tr),
            _value_text(r, "computed", tr) if compared else NULL,
            _diff_text(r, tr) if r["verdict"] == "differs" else "",
            Text(tr(f"reconcile.verdict.{r['verdict']}"), style=VERDICT_STYLES.get(r["verdict"], "")),
            why,
        )
        shown = key
    return table


__all__ = [
    "OUTPUT_COLUMNS",
    "VERDICT_STYLES",
    "account_text",
    "reconcile_frame",
    "reconcile_summary",
    "reconcile_table",
    "render_message",
    "term",
]
