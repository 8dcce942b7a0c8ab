"""Report building blocks: catalogs, formatting, gap sentences, reasons, files, terminal tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import string

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from cxops.report import files, i18n
from cxops.report.format import (
    DEFECT_METRICS,
    HIGHER_IS_BETTER,
    METRIC_KINDS,
    criterion_name,
    format_counts,
    format_date,
    format_threshold,
    format_value,
    gap_sentence,
    metric_kind,
    reason_text,
)
from cxops.report.i18n import Translator, catalog_keys, load_catalog, normalize_lang, t
from cxops.report.terminal import (
    metrics_table,
    scorecard_table,
    scorecards,
    status_summary_table,
    transitions_table,
)

STATES = ("not_eligible", "candidate", "enrolled", "at_risk", "removed", "recovering")
SECTIONS = ("eligibility", "admission", "removal")
RESULTS = ("pass", "fail", "insufficient_data", "not_measured")
OPERATORS = ("<", "<=", ">", ">=")
REASONS = {
    "eligible": {},
    "not_eligible_criteria": {"failed": ["tenure", "volume"]},
    "marketplace_not_in_program": {"marketplace": "BR"},
    "admitted": {},
    "admission_not_met": {"failed": ["odr_admission"]},
    "warning_breach": {
        "rule": "odr_warning",
        "metric": "order_defect_rate",
        "value": 0.007,
        "threshold": 0.006,
    },
    "removed_breach": {"rule": "vtr", "metric": "valid_tracking_rate", "value": 0.93, "threshold": 0.95},
    "removed_consecutive": {"rule": "odr_twice", "count": 2},
    "removed_ineligible": {"failed": ["major_violations"]},
    "breach_cleared": {},
    "recovery_started": {},
    "recovery_reset": {},
    "recovery_complete": {"days": 45},
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- catalogs ---------------------------------------------------------------------------------------


def test_every_key_in_both_catalogs():
    en, zh = catalog_keys("en"), catalog_keys("zh")
    assert en - zh == set(), f"missing in zh: {sorted(en - zh)}"
    assert zh - en == set(), f"missing in en: {sorted(zh - en)}"


def test_placeholders_match_between_languages():
    en, zh = load_catalog("en"), load_catalog("zh")
    bad = {k: (en[k], zh[k]) for k in en if _placeholders(en[k]) != _placeholders(zh[k])}
    assert bad == {}


def test_vocabulary_is_complete():
    keys = catalog_keys("en")
    needed = (
        [f"metric.{m}" for m in METRIC_KINDS]
        + [f"metric_short.{m}" for m in METRIC_KINDS]
        + [f"state.{s}" for s in STATES]
        + [f"section.{s}" for s in SECTIONS]
        + [f"result.{r}" for r in RESULTS]
        + [f"operator.{i18n.OPERATOR_KEYS[o]}" for o in OPERATORS]
        + [f"reason.{r}" for r in REASONS]
        + [f"status.{s}" for s in ("ok", "no_data", "not_measured")]
        + [f"channel.{c}" for c in ("all", "mfn", "afn")]
        + [
            f"unit.{m}.{w}"
            for m, k in METRIC_KINDS.items()
            if k in ("rate", "count", "days")
            for w in ("bad", "good", "total")
        ]
    )
    assert [k for k in needed if k not in keys] == []


def test_reason_placeholders_are_the_lifecycle_params():
    en = load_catalog("en")
    for key, params in REASONS.items():
        assert _placeholders(en[f"reason.{key}"]) == set(params), key


def test_chinese_catalog_is_chinese_and_uses_field_terms():
    zh = load_catalog("zh")
    for m in METRIC_KINDS:
        assert CJK.search(zh[f"metric.{m}"]), m
    for group in ("state", "section", "result", "reason"):
        for k, v in zh.items():
            if k.startswith(group + "."):
                assert CJK.search(v), k
    text = "\n".join(zh.values())
    for term in (
        "订单缺陷率",
        "迟发率",
        "配送前取消率",
        "有效追踪率",
        "准时送达率",
        "账户状况",
        "A-to-z 索赔",
        "信用卡拒付",
        "自配送 (MFN)",
        "亚马逊配送 (AFN)",
    ):
        assert term in text, term


def test_translator_and_t():
    assert t("state.enrolled") == "Enrolled"
    assert t("state.enrolled", lang="zh") == "已入选"
    assert Translator("zh-CN").metric("late_shipment_rate") == "迟发率"
    assert t("ui.next_evaluation", lang="en", date="2024-07-31") == "Next evaluation: 2024-07-31"


def test_fallback_to_english_reports_the_missing_key(caplog):
    tr = Translator("zh")
    tr._c = dataclasses.replace(
        tr._c, singular={k: v for k, v in tr._c.singular.items() if k != "ui.back_to_top"}
    )
    with caplog.at_level("WARNING"):
        assert tr("ui.back_to_top") == "Back to top"
    assert "ui.back_to_top" in tr.missing
    assert ("zh", "ui.back_to_top") in i18n.missing_keys()


def test_unknown_key_shows_key_and_params():
    tr = Translator("en")
    assert tr("reason.brand_new", rule="R9", count=3) == "reason.brand_new (rule=R9, count=3)"
    assert "reason.brand_new" in tr.missing
    assert reason_text("brand_new", {"rule": "R9"}) == "brand_new (rule=R9)"
    assert tr.metric("some_new_metric") == "some_new_metric"


def test_missing_placeholder_is_left_visible():
    assert i18n.format_template("{a} and {b:.2f}", a=1) == "1 and {b}"


def test_language_aliases_and_errors():
    assert normalize_lang("zh_CN") == "zh"
    assert normalize_lang("zh-Hans") == "zh"
    assert normalize_lang(None) == "en"
    assert [normalize_lang(x) for x in ("fr", "fr-CA", "de_AT", "ja-JP", "Japanese")] == [
        "fr",
        "fr",
        "de",
        "ja",
        "ja",
    ]
    with pytest.raises(ValueError, match="supported"):
        normalize_lang("pt")
    with pytest.raises(ValueError, match="supported"):
        normalize_lang("zh-TW")  # Traditional Chinese is not the Simplified catalog


def test_metric_tables_match_metric_catalog():
    from cxops.metrics import catalog

    assert {m: d.kind for m, d in catalog.CATALOG.items()} == METRIC_KINDS
    assert {m for m, d in catalog.CATALOG.items() if d.higher_is_better} == set(HIGHER_IS_BETTER)
    assert tuple(catalog.DEFECT_METRICS) == DEFECT_METRICS


# --- formatting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "metric", "expected"),
    [
        (0.0045, "order_defect_rate", "0.45%"),
        (0.00125, "order_defect_rate", "0.13%"),  # half-up on the decimal value, not on binary
        (1.0, "valid_tracking_rate", "100.00%"),
        (0.0, "late_shipment_rate", "0.00%"),
        (0.012, "late_shipment_rate", "1.20%"),
        (1234.0, "order_count", "1,234"),
        (3, "account_health_warnings", "3"),
        (5.55, "median_first_response_hours", "5.6 h"),
        (86.25, "customer_satisfaction_index", "86.3"),
        (412, "tenure_days", "412 days"),
        (np.float64(0.0045), "order_defect_rate", "0.45%"),
        (0.5, "unknown_thing_rate", "50.00%"),
        (2.5, None, "2.5"),
    ],
)
def test_format_value(value, metric, expected):
    assert format_value(value, metric) == expected


def test_format_value_zh_units():
    assert format_value(5.55, "median_first_response_hours", lang="zh") == "5.6 小时"
    assert format_value(412, "tenure_days", lang="zh") == "412 天"


@pytest.mark.parametrize("null", [None, float("nan"), pd.NA, pd.NaT, np.nan])
def test_null_values(null):
    assert format_value(null, "order_defect_rate") == "—"
    assert format_value(null, "order_defect_rate", status="no_data") == "— (no data)"
    assert format_value(null, "order_defect_rate", status="not_measured") == "— (not measured)"
    assert format_value(null, "order_defect_rate", status="no_data", lang="zh") == "—（无数据）"
    assert format_value(null, "order_defect_rate", status="ok") == "—"
    assert format_date(null) == "—"


def test_format_threshold_counts_and_dates():
    assert format_threshold(0.0045, "order_defect_rate", operator="<") == "< 0.45%"
    assert format_threshold(0.95, "on_time_delivery_rate", operator=">=") == "≥ 95.00%"
    assert format_threshold(3, "order_defect_rate", test="numerator", operator="<=") == "≤ 3"
    assert format_counts(3.0, 1000.0) == "3 / 1,000"
    assert format_counts(None, None) == "—"
    assert format_date(dt.date(2024, 7, 1)) == "2024-07-01"
    assert format_date(dt.datetime(2024, 7, 1, 13, 5)) == "2024-07-01"
    assert format_date(pd.Timestamp("2024-07-01")) == "2024-07-01"
    assert format_date("2024-07-01") == "2024-07-01"
    assert metric_kind("late_shipment_rate") == "rate"


def test_criterion_name():
    row = {"metric": "late_shipment_rate", "window_days": 30, "channel": "mfn", "test": "value"}
    assert criterion_name(row) == "Late shipment rate (30 days, MFN)"
    assert criterion_name(row, lang="zh") == "迟发率（30 天，自配送）"
    assert criterion_name({"metric": "tenure_days", "window_days": None, "channel": "all"}) == "Time selling"
    count = {"metric": "order_defect_rate", "window_days": 60, "channel": "all", "test": "numerator"}
    assert criterion_name(count) == "Order defect rate (60 days, all, count)"


# --- gap sentences ---------------------------------------------------------------------------------


def test_gap_defect_rate_en_zh():
    kw = {"metric": "order_defect_rate", "operator": ">", "threshold": 0.006, "value": 0.004}
    assert gap_sentence(2, **kw) == "2 more defective orders in the window would take it above 0.60%"
    assert gap_sentence(2, **kw, lang="zh") == "窗口内再有 2 笔缺陷订单将使其高于 0.60%"
    assert gap_sentence(1, **kw) == "1 more defective order in the window would take it above 0.60%"
    # a passing upper bound (<): adding defects flips it too
    kw_lt = {"metric": "order_defect_rate", "operator": "<", "threshold": 0.0045, "value": 0.003}
    assert gap_sentence(2, **kw_lt) == "2 more defective orders in the window would take it to 0.45% or above"


def test_gap_at_least_rate_en_zh():
    kw = {"metric": "on_time_delivery_rate", "operator": ">=", "threshold": 0.95, "value": 0.93}
    assert gap_sentence(3, **kw) == "needs 3 more on-time deliveries to get to 95.00% or above"
    assert gap_sentence(3, **kw, lang="zh") == "还需 3 次准时送达才能达到 95.00% 或以上"
    kw_lsr = {"metric": "valid_tracking_rate", "operator": ">=", "threshold": 0.95, "value": 0.9}
    assert gap_sentence(4, **kw_lsr) == "needs 4 more shipments with valid tracking to get to 95.00% or above"


def test_gap_other_directions():
    passing = {"metric": "on_time_delivery_rate", "operator": ">=", "threshold": 0.95, "value": 0.97}
    assert gap_sentence(5, **passing) == "5 more late deliveries in the window would take it below 95.00%"
    assert gap_sentence(5, **passing, lang="zh") == "窗口内再有 5 次延迟送达将使其低于 95.00%"
    failing = {"metric": "late_shipment_rate", "operator": "<=", "threshold": 0.012, "value": 0.02}
    assert gap_sentence(4, **failing) == "needs 4 fewer late shipments in the window to get to 1.20% or below"
    volume = {
        "metric": "order_count",
        "operator": ">=",
        "threshold": 100,
        "test": "denominator",
        "denominator": 80,
    }
    assert gap_sentence(20, **volume) == "needs 20 more orders to get to 100 or above"
    cap = {
        "metric": "order_defect_rate",
        "operator": "<=",
        "threshold": 3,
        "test": "numerator",
        "numerator": 2,
    }
    assert gap_sentence(2, **cap) == "2 more defective orders in the window would take it above 3"


def test_gap_null_and_result_fallback():
    assert gap_sentence(None, metric="order_defect_rate", operator="<", threshold=0.01, value=0.0) is None
    assert gap_sentence(np.nan, metric="order_defect_rate", operator="<", threshold=0.01) is None
    # value unknown: the sign of the gap (the change of the tested count) decides the direction
    s = gap_sentence(3, metric="on_time_delivery_rate", operator=">=", threshold=0.95)
    assert s == "needs 3 more on-time deliveries to get to 95.00% or above"
    s = gap_sentence(-31, metric="valid_tracking_rate", operator="<", threshold=0.95)
    assert s == "31 more shipments without valid tracking in the window would take it below 95.00%"


# --- reasons ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("key", sorted(REASONS))
def test_reasons_render_fully(key, lang):
    text = reason_text(key, REASONS[key], lang=lang)
    assert "{" not in text and text
    assert reason_text(key, json.dumps(REASONS[key]), lang=lang) == text
    if lang == "zh":
        assert CJK.search(text)


def test_reason_values_are_formatted():
    text = reason_text("warning_breach", REASONS["warning_breach"])
    assert text == "Warning: Order defect rate is 0.70%, breaching the threshold 0.60% (rule odr_warning)."
    zh = reason_text("warning_breach", REASONS["warning_breach"], lang="zh")
    assert "订单缺陷率" in zh and "0.70%" in zh and "0.60%" in zh
    assert reason_text("not_eligible_criteria", REASONS["not_eligible_criteria"], lang="zh") == (
        "不符合资格：tenure、volume。"
    )
    assert reason_text("recovery_complete", '{"days": 45}') == (
        "Recovery complete after 45 stable days; back in the evaluation pool."
    )


# --- files -----------------------------------------------------------------------------------------


def _statuses_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3"],
            "marketplace_id": ["US", "US", "DE"],
            "evaluation_date": [dt.date(2024, 6, 30)] * 3,
            "state": ["enrolled", "at_risk", "not_eligible"],
            "since": [dt.date(2024, 3, 1), dt.date(2024, 6, 30), None],
            "reason_key": ["admitted", "warning_breach", "not_eligible_criteria"],
            "reason_params": [{}, REASONS["warning_breach"], '{"failed": ["tenure"]}'],
            "value": [0.0045, np.nan, 1.0],
            "gap": pd.array([2, None, 0], dtype="Int64"),
            "at": pd.to_datetime(["2024-06-30 13:05", None, "2024-07-01 00:00"]),
        }
    )


def test_write_outputs_round_trip(tmp_path):
    df = _statuses_frame()
    written = files.write_outputs(tmp_path / "out", {"statuses": df, "empty": df.iloc[0:0], "skip": None})
    assert sorted(written) == ["empty", "statuses"]
    assert [p.name for p in written["statuses"]] == ["statuses.parquet", "statuses.csv"]

    pq_back = files.read_frame(tmp_path / "out" / "statuses.parquet")
    assert list(pq_back.columns) == list(df.columns)
    assert pq_back["seller_id"].tolist() == ["S1", "S2", "S3"]
    assert pq_back["evaluation_date"].tolist() == [dt.date(2024, 6, 30)] * 3
    assert pq_back["since"].tolist()[:2] == [dt.date(2024, 3, 1), dt.date(2024, 6, 30)]
    assert pd.isna(pq_back["since"].iloc[2])
    params = [json.loads(p) for p in pq_back["reason_params"]]
    assert params == [{}, REASONS["warning_breach"], {"failed": ["tenure"]}]
    assert pq_back["value"].iloc[0] == 0.0045 and pd.isna(pq_back["value"].iloc[1])
    assert pq_back["gap"].iloc[0] == 2 and pd.isna(pq_back["gap"].iloc[1])

    csv_back = files.read_frame(tmp_path / "out" / "statuses.csv")
    assert list(csv_back.columns) == list(df.columns)
    assert csv_back["evaluation_date"].tolist() == ["2024-06-30"] * 3
    assert pd.isna(csv_back["since"].iloc[2])
    assert [json.loads(p) for p in csv_back["reason_params"]] == params
    assert csv_back["value"].iloc[0] == "0.0045"
    assert csv_back["gap"].tolist()[0] == "2" and pd.isna(csv_back["gap"].iloc[1])
    assert csv_back["at"].iloc[0] == "2024-06-30T13:05:00"

    assert files.read_frame(tmp_path / "out" / "empty.parquet").empty


def test_jsonl_and_stream_formats():
    df = _statuses_frame()
    lines = files.to_jsonl(df).splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert first["evaluation_date"] == "2024-06-30" and first["gap"] == 2 and first["value"] == 0.0045
    second = json.loads(lines[1])
    assert second["reason_params"] == REASONS["warning_breach"]  # nested object in JSONL
    assert second["value"] is None and second["gap"] is None and second["at"] is None

    out = io.StringIO()
    files.dump(df, "csv", out)
    assert out.getvalue().splitlines()[0] == ",".join(df.columns)
    buf = io.BytesIO()
    files.dump(df, "parquet", buf)
    back = pd.read_parquet(io.BytesIO(buf.getvalue()))
    assert back["state"].tolist() == ["enrolled", "at_risk", "not_eligible"]
    with pytest.raises(ValueError, match="format"):
        files.dump(df, "xml", io.StringIO())


def test_mixed_object_column_is_written_as_text(tmp_path):
    df = pd.DataFrame({"value": [1, "x", None], "detail": [{"a": 1}, "plain", None]})
    path = files.write_frame(df, tmp_path / "mixed.parquet")
    back = files.read_frame(path)
    assert back["value"].tolist()[:2] == ["1", "x"]
    assert back["detail"].tolist()[:2] == ['{"a":1}', "plain"]


# --- terminal --------------------------------------------------------------------------------------


def _criteria_frame() -> pd.DataFrame:
    base = {
        "marketplace_id": "US",
        "evaluation_date": dt.date(2024, 6, 30),
        "as_of": dt.date(2024, 6, 30),
        "test": "value",
        "min_denominator": 100,
        "status": "ok",
        "label": None,
    }
    rows = [
        {
            "seller_id": "S1",
            "section": "admission",
            "criterion_id": "odr",
            "metric": "order_defect_rate",
            "window_days": 60,
            "channel": "all",
            "operator": "<",
            "threshold": 0.0045,
            "value": 0.003,
            "numerator": 3,
            "denominator": 1000,
            "result": "pass",
            "gap": 2,
        },
        {
            "seller_id": "S1",
            "section": "eligibility",
            "criterion_id": "tenure",
            "metric": "tenure_days",
            "window_days": None,
            "channel": "all",
            "operator": ">=",
            "threshold": 180,
            "value": 400,
            "numerator": None,
            "denominator": None,
            "result": "pass",
            "gap": None,
        },
        {
            "seller_id": "S2",
            "section": "admission",
            "criterion_id": "otdr",
            "metric": "on_time_delivery_rate",
            "window_days": 30,
            "channel": "all",
            "operator": ">=",
            "threshold": 0.95,
            "value": 0.93,
            "numerator": 465,
            "denominator": 500,
            "result": "fail",
            "gap": 10,
        },
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


def _render(renderable) -> str:
    console = Console(record=True, width=220, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_terminal_tables_en_zh():
    crit = _criteria_frame()
    text = _render(scorecard_table(crit, "S1", "US"))
    assert "Eligibility" in text and "Admission" in text
    assert text.index("Eligibility") < text.index("Admission")  # sections in policy order
    assert "0.30%" in text and "3 / 1,000" in text and "< 0.45%" in text and "Pass" in text
    assert "2 more defective orders in the window would take it to 0.45% or above" in text
    zh = _render(scorecard_table(crit, "S2", "US", lang="zh"))
    assert "未达标" in zh and "还需 10 次准时送达才能达到 95.00%" in zh and "阈值" in zh
    both = _render(scorecards(crit, limit=1))
    assert "S1" in both and "… and 1 more" in both

    summary = _render(status_summary_table(_statuses_frame(), lang="zh"))
    assert "已入选" in summary and "33.33%" in summary and "合计" in summary

    metrics = pd.DataFrame(
        [
            {
                "seller_id": "S1",
                "marketplace_id": "US",
                "channel": "mfn",
                "metric": "late_shipment_rate",
                "window_days": 30,
                "as_of": dt.date(2024, 6, 30),
                "numerator": 0,
                "denominator": 0,
                "value": None,
                "status": "no_data",
                "note": None,
            },
        ]
    )
    assert "— (no data)" in _render(metrics_table(metrics))

    tx = pd.DataFrame(
        [
            {
                "seller_id": "S2",
                "marketplace_id": "US",
                "date": dt.date(2024, 6, 30),
                "from_state": "enrolled",
                "to_state": "at_risk",
                "rule_id": "odr_warning",
                "metric": "order_defect_rate",
                "value": 0.007,
                "threshold": 0.006,
                "operator": ">",
                "window_days": 60,
                "as_of": dt.date(2024, 6, 30),
                "reason_key": "warning_breach",
                "reason_params": json.dumps(REASONS["warning_breach"]),
            },
        ]
    )
    tx_text = _render(transitions_table(tx, lang="zh"))
    assert "有风险" in tx_text and "> 0.60%" in tx_text
