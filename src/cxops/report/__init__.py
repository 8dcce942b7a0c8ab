"""Renderers: terminal tables (rich), JSONL/CSV/Parquet files, the HTML report and explanations.

Public API::

    from cxops.report import (
        Translator, t,                                   # i18n (en, zh)
        format_value, gap_sentence, reason_text,         # display formatting
        write_outputs, to_jsonl, to_csv, dump,           # machine-readable outputs
        metrics_table, scorecard_table, scorecards, status_summary_table, statuses_table,
        transitions_table,                               # rich renderables
        render_report,                                   # self-contained HTML
        explain_text, explain_renderable,                # one seller's explanation
    )
"""

from cxops.report.explain import build_explanation, explain_renderable, explain_text
from cxops.report.files import FORMATS, dump, read_frame, to_csv, to_jsonl, to_parquet_bytes, write_outputs
from cxops.report.format import (
    criterion_gap,
    criterion_name,
    criterion_reason_text,
    format_date,
    format_value,
    gap_sentence,
    reason_text,
)
from cxops.report.html import build_report_html, render_report
from cxops.report.i18n import SUPPORTED_LANGS, Translator, normalize_lang, t
from cxops.report.terminal import (
    metrics_table,
    scorecard_table,
    scorecards,
    status_summary_table,
    statuses_table,
    transitions_table,
)

__all__ = [
    "FORMATS",
    "SUPPORTED_LANGS",
    "Translator",
    "build_explanation",
    "build_report_html",
    "criterion_gap",
    "criterion_name",
    "criterion_reason_text",
    "dump",
    "explain_renderable",
    "explain_text",
    "format_date",
    "format_value",
    "gap_sentence",
    "metrics_table",
    "normalize_lang",
    "read_frame",
    "reason_text",
    "render_report",
    "scorecard_table",
    "scorecards",
    "status_summary_table",
    "statuses_table",
    "t",
    "to_csv",
    "to_jsonl",
    "to_parquet_bytes",
    "transitions_table",
    "write_outputs",
]
