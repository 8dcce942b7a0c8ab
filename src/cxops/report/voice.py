"""Voice of the customer as terminal tables and plain rows (for the CLI and the web page).

Takes the frames of :class:`cxops.service.voice.Voice` (as frames, not the class: renderers know no
use case) and a :class:`cxops.report.i18n.Translator`; every label is a ``voc.*`` catalog message.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

from cxops.advisor.voc.keywords import COMPLAINTS, OTHER, THEMES
from cxops.report.i18n import Translator

#: Rows of the month-by-month table: the SKUs with most complaint texts, their last months.
TOP_SKUS = 5
MONTHS = 6


def theme_label(theme: str, tr: Translator) -> str:
    """The theme's name in the translator's language."""
    return tr(f"voc.theme.{theme}")


def percent(value, tr: Translator) -> str:
    """A fraction as a percentage with one decimal ("—" for no value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    return tr.number(100 * float(value), 1) + " %"


def theme_rows(themes: pd.DataFrame, source: str, tr: Translator) -> tuple[list[int], list[dict]]:
    """Rows of the theme table of one source: per theme, ``count`` and ``share`` per window.

    Returns
    -------
    (windows, rows)
        The windows in days, and one dict per theme (``theme``, ``label``, ``cells``: a list of
        ``(count, share text)`` per window, ``texts``: texts per window).
    """
    part = themes[themes["source"] == source]
    windows = sorted(part["window_days"].unique().tolist())
    rows = []
    for t in (*THEMES, OTHER):
        sel = part[part["theme"] == t].set_index("window_days")
        cells = [(int(sel.at[w, "count"]), percent(sel.at[w, "share"], tr)) for w in windows]
        rows.append({"theme": t, "label": theme_label(t, tr), "cells": cells})
    texts = [int(part[part["window_days"] == w]["texts"].iloc[0]) if len(part) else 0 for w in windows]
    return windows, [dict(r, texts=texts) for r in rows]


def themes_table(themes: pd.DataFrame, source: str, as_of, tr: Translator) -> Table:
    """The theme counts and shares of one source (``feedback`` or ``return``) per window."""
    windows, rows = theme_rows(themes, source, tr)
    title = tr("voc.themes_title", source=tr(f"voc.source.{source}"), as_of=tr.day(as_of))
    t = Table(tr("voc.col.theme"), *[tr("voc.col.window", days=w) for w in windows], title=title)
    for r in rows:
        t.add_row(r["label"], *[f"{n:,}  {share}" for n, share in r["cells"]])
    if rows:
        t.add_row(tr("voc.col.texts"), *[f"{n:,}" for n in rows[0]["texts"]], style="dim")
    return t


def rising_rows(rising: pd.DataFrame, tr: Translator, flagged_only: bool = True) -> list[dict]:
    """The rising-SKU rows with their figures in words (flagged ones only by default)."""
    rows = []
    part = rising[rising["flagged"]] if flagged_only else rising
    for r in part.itertuples(index=False):
        rows.append(
            {
                "sku": r.sku,
                "measure": tr(f"voc.measure.{r.measure}"),
                "recent": tr(
                    "voc.share_of", share=percent(r.recent_share, tr), n=r.recent_count, of=r.recent_base
                ),
                "baseline": tr(
                    "voc.share_of",
                    share=percent(r.baseline_share, tr),
                    n=r.baseline_count,
                    of=r.baseline_base,
                ),
                "ratio": "—" if pd.isna(r.ratio) else "×" + tr.number(r.ratio, 1),
                "top_theme": theme_label(r.top_theme, tr) if isinstance(r.top_theme, str) else "—",
                "flagged": bool(r.flagged),
            }
        )
    return rows


def rule_text(rule: dict, tr: Translator) -> str:
    """The rise rule in words."""
    return tr(
        "voc.rule",
        recent=rule["recent_days"],
        baseline=rule["baseline_days"],
        min_count=rule["min_count"],
        ratio=tr.number(rule["ratio"], 1),
        increase=tr.number(100 * rule["min_increase"], 0),
    )


def rising_table(rising: pd.DataFrame, rule: dict, tr: Translator) -> Table:
    """The flagged SKUs (a table with one line saying none when there are none)."""
    t = Table(
        tr("voc.col.sku"),
        tr("voc.col.measure"),
        tr("voc.col.recent"),
        tr("voc.col.baseline"),
        tr("voc.col.ratio"),
        tr("voc.col.top_theme"),
        title=tr("voc.rising_title") + "\n" + rule_text(rule, tr),
    )
    rows = rising_rows(rising, tr)
    for r in rows:
        t.add_row(r["sku"], r["measure"], r["recent"], r["baseline"], r["ratio"], r["top_theme"])
    if not rows:
        t.add_row(tr("voc.none_rising"), "", "", "", "", "")
    return t


def month_rows(skus: pd.DataFrame, top: int = TOP_SKUS, months: int = MONTHS) -> pd.DataFrame:
    """The last ``months`` months of the ``top`` SKUs with most complaint texts (ties: by SKU)."""
    if skus.empty:
        return skus
    complaints = skus.groupby("sku")[list(COMPLAINTS)].sum().sum(axis=1)
    chosen = complaints[complaints > 0].sort_index().sort_values(ascending=False, kind="stable").index[:top]
    rank = {s: i for i, s in enumerate(chosen)}
    part = skus[skus["sku"].isin(chosen)].sort_values(["sku", "month"])
    part = part.groupby("sku", group_keys=False).tail(months)
    part = part.assign(_rank=part["sku"].map(rank)).sort_values(["_rank", "month"], kind="stable")
    return part.drop(columns="_rank").reset_index(drop=True)


def months_table(skus: pd.DataFrame, tr: Translator) -> Table:
    """Month by month for the SKUs with most complaints: orders, ratings, negative share, returns,
    return rate and the complaint themes of the month."""
    t = Table(
        tr("voc.col.sku"),
        tr("voc.col.month"),
        tr("voc.col.orders"),
        tr("voc.col.negative"),
        tr("voc.col.returns"),
        tr("voc.col.themes"),
        title=tr("voc.months_title"),
    )
    for r in month_rows(skus).itertuples(index=False):
        themes = ", ".join(f"{theme_label(c, tr)} {getattr(r, c)}" for c in COMPLAINTS if getattr(r, c))
        t.add_row(
            r.sku,
            str(r.month)[:7],
            f"{r.orders:,}",
            tr("voc.share_of", share=percent(r.negative_share, tr), n=r.negative, of=r.ratings),
            tr("voc.share_of", share=percent(r.return_rate, tr), n=r.returns, of=r.orders),
            themes or "—",
        )
    return t


def texts_table(texts: pd.DataFrame, tr: Translator, limit: int = 20) -> Table:
    """The newest texts with their themes."""
    t = Table(
        tr("voc.col.day"),
        tr("voc.col.rating"),
        tr("voc.col.lang"),
        tr("voc.col.themes"),
        tr("voc.col.text"),
        title=tr("voc.recent_texts"),
    )
    for r in texts.head(limit).itertuples(index=False):
        rating = "—" if pd.isna(r.rating) else "★" * int(r.rating)
        text = " ".join(str(r.text).split())
        t.add_row(
            str(r.day),
            rating if r.source == "feedback" else tr("voc.source.return"),
            str(r.lang),
            ", ".join(theme_label(x, tr) for x in r.themes),
            text[:120] + ("…" if len(text) > 120 else ""),
        )
    return t
