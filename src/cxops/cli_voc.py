"""``cxops voc SELLER``: voice of the customer — feedback comments and return reasons grouped into
themes, trends per SKU and the SKUs whose negative feedback or returns rise
(:func:`cxops.service.voice.voice`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from cxops.locale import LANGUAGES

console = Console()
err = Console(stderr=True)


class Part(StrEnum):
    themes = "themes"
    rising = "rising"
    skus = "skus"
    texts = "texts"


class OutFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def voc(
    seller: str = typer.Argument(..., help="The seller id."),
    as_of: str = typer.Option(
        None, "--as-of", help="Last day to consider (default: the seller's newest data)."
    ),
    marketplace: str = typer.Option(None, "--marketplace", "-m", help="Only this marketplace's orders."),
    text_lang: str = typer.Option(
        None, "--text-lang", help="The language of the texts (en, zh, de, fr, ja, es, pt); default: detected."
    ),
    recent_days: int = typer.Option(30, "--recent-days", min=1, help="Rise rule: the recent window, days."),
    baseline_days: int = typer.Option(
        90, "--baseline-days", min=1, help="Rise rule: the window before, days."
    ),
    min_count: int = typer.Option(3, "--min-count", min=1, help="Rise rule: negatives (or returns) needed."),
    ratio: float = typer.Option(1.5, "--ratio", min=1.0, help="Rise rule: recent share / earlier share."),
    min_increase: float = typer.Option(
        0.05, "--min-increase", min=0.0, max=1.0, help="Rise rule: recent − earlier share (0.05 = 5 points)."
    ),
    part: Part = typer.Option(
        None, "--part", help="With --format jsonl/csv/parquet or --out: which table (default themes)."
    ),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
    out: Path = typer.Option(None, "--out", "-o", help="Write the table (--part) to this file."),
    lang: str = typer.Option("en", "--lang", help=f"Language of the labels: {', '.join(LANGUAGES)}."),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """What buyers say: themes of feedback comments and return reasons per window, month-by-month
    trends of the SKUs with most complaints, and the SKUs whose negative feedback or returns rise."""
    from cxops.advisor.voc.trends import RiseRule
    from cxops.cli import _date, _open, show
    from cxops.errors import InputError
    from cxops.locale import normalize_lang
    from cxops.report import voice as rv
    from cxops.report.files import dump, write_frame_atomic
    from cxops.report.i18n import get_translator
    from cxops.service.voice import voice as compute

    day = _date(as_of, "--as-of") if as_of else None
    try:
        tr = get_translator(normalize_lang(lang))
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--lang") from None
    try:
        rule = RiseRule(recent_days, baseline_days, min_count, ratio, min_increase)
    except ValueError as e:
        raise InputError(str(e)) from None
    if fmt == OutFormat.parquet and out is None:
        raise InputError("--format parquet needs --out FILE")
    wh = _open(warehouse, read_only=True)
    v = compute(wh, seller, day, marketplace_id=marketplace, rule=rule, language=text_lang)
    if v.last_day is not None and v.as_of > v.last_day:
        err.print(tr("voc.note_past_data", as_of=tr.day(v.as_of), last_day=tr.day(v.last_day)))
    frames = {
        "themes": v.themes,
        "rising": v.rising,
        "skus": v.skus,
        "texts": v.texts.assign(themes=v.texts["themes"].map(" ".join)),
    }
    if out is not None or fmt != OutFormat.table:
        df = frames[(part or Part.themes).value]
        if out is not None:
            path = write_frame_atomic(df, out, None if fmt == OutFormat.table else fmt.value)
            err.print(f"wrote {len(df):,} rows to {path}")
        else:
            dump(df, fmt.value, sys.stdout)
        return
    console.print(f"[bold]{tr('voc.title')}[/] — {seller}")
    if v.texts.empty:
        console.print(tr("voc.no_texts", as_of=tr.day(v.as_of)))
    for source in ("feedback", "return"):
        if (v.themes[v.themes["source"] == source]["texts"] > 0).any():
            show(rv.themes_table(v.themes, source, v.as_of, tr))
    show(rv.rising_table(v.rising, v.rule.as_dict(), tr))
    if not v.skus.empty:
        show(rv.months_table(v.skus, tr))
    if not v.texts.empty:
        show(rv.texts_table(v.texts, tr))
