"""The renderers on real policy evaluation and lifecycle replay output (customer-excellence pack).

Guards the contract between ``cxops.policy`` / ``cxops.lifecycle`` and ``cxops.report``: every reason
key and criterion reason the lifecycle writes has a template in both languages, and nothing falls back
to a raw key or leaves a placeholder.
"""

from __future__ import annotations

import inspect
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from rich.console import Console

from cxops import lifecycle, policy
from cxops.report import i18n
from cxops.report.explain import explain_text
from cxops.report.files import write_outputs
from cxops.report.format import reason_text
from cxops.report.html import build_report_html
from cxops.report.terminal import scorecards, statuses_table, transitions_table  # noqa: E402

DATES = [date(2025, m, 1) for m in range(2, 7)]


def _row(s, metric, window, channel, value=None, num=None, den=None, *, as_of, mp):
    if num is not None and den:
        value = num / den
    return {
        "seller_id": s, "marketplace_id": mp, "channel": channel, "metric": metric, "window_days": window,
        "as_of": as_of, "window_start": None, "window_end": as_of,
        "numerator": num if num is not None else value, "denominator": den, "value": value, "status": "ok",
        "note": None,
    }  # fmt: skip


def _seller(s, as_of, *, odr=2, tenure=400, mp="US", otdr=990, orders=1800, vtr=790):
    kw = {"as_of": as_of, "mp": mp}
    csat = _row(s, "customer_satisfaction_index", 90, "all", 92.0, **kw) | {
        "numerator": 18400,
        "denominator": 200,
    }
    median = _row(s, "median_first_response_hours", 90, "all", 5.0, **kw) | {
        "numerator": None,
        "denominator": 100,
    }
    return [
        _row(s, "tenure_days", None, "all", tenure, **kw),
        _row(s, "order_count", 90, "all", orders, **kw),
        _row(s, "major_violations", 90, "all", 0, **kw),
        _row(s, "order_defect_rate", 60, "all", num=odr, den=1000, **kw),
        _row(s, "late_shipment_rate", 30, "mfn", num=5, den=800, **kw),
        csat,
        _row(s, "on_time_delivery_rate", 30, "all", num=otdr, den=1000, **kw),
        median,
        _row(s, "late_response_rate", 90, "all", num=3, den=100, **kw),
        _row(s, "valid_tracking_rate", 30, "mfn", num=vtr, den=800, **kw),
        _row(s, "account_health_warnings", 180, "all", 0, **kw),
        _row(s, "ip_complaints", 90, "all", 0, **kw),
    ]


@pytest.fixture(scope="module")
def run():
    ce = policy.load_policy("customer-excellence")

    def get_results(when):
        as_of = lifecycle.metrics_as_of(ce, when)
        rows = _seller("A", as_of)
        rows += _seller("B", as_of, odr=7 if when in (date(2025, 3, 1), date(2025, 4, 1)) else 2)
        rows += _seller("C", as_of, tenure=200 if when >= date(2025, 6, 1) else 100, mp="DE")
        rows += _seller("D", as_of, otdr=900)
        rows += _seller("E", as_of, mp="BR")
        rows += _seller("F", as_of, orders=40)  # too few orders: not eligible
        rows += _seller("G", as_of, vtr=700 if when >= date(2025, 4, 1) else 790)  # removed at once (VTR)
        df = pd.DataFrame(rows)
        df["window_days"] = df["window_days"].astype("Int64")
        for c in ("numerator", "denominator", "value"):
            df[c] = df[c].astype(float)
        return policy.evaluate_policy(ce, df)

    def daily(sellers, start, end):
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return pd.DataFrame(
            [(s, m, d, s != "G") for s, m in sellers.values.tolist() for d in days],
            columns=["seller_id", "marketplace_id", "day", "admission_met"],
        )

    kw = {}
    if "keep_sections" in inspect.signature(lifecycle.replay).parameters:
        kw["keep_sections"] = policy.SECTIONS  # the full per-criterion history, for the scorecards
    res = lifecycle.replay(ce, DATES, get_results, daily, **kw)
    benefits = lifecycle.compute_benefits(ce, res.statuses, res.results)
    return ce, res, benefits


def _no_leftovers(text: str) -> None:
    assert not re.search(r"\{[a-z_]+\}", text), re.search(r".{40}\{[a-z_]+\}.{40}", text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_lifecycle_reason_renders(run, lang):
    _, res, _ = run
    tr = i18n.Translator(lang)
    rows = pd.concat([res.statuses, res.transitions], ignore_index=True)
    keys = set(rows["reason_key"].dropna())
    assert {
        "admitted",
        "at_risk",
        "removed_consecutive",
        "removed_breach",
        "not_eligible",
        "recovering",
    } <= keys
    for r in rows.to_dict("records"):
        key = r["reason_key"]
        assert tr.has(f"lifecycle.{key}") or tr.has(f"reason.{key}"), key
        text = reason_text(key, r["reason_params"], lang=tr)
        _no_leftovers(text)
        assert key not in text  # rendered by a template, not as the raw key
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", text), text
            assert r["reason"] != text


def test_html_and_explain_on_replay_output(run, tmp_path):
    ce, res, benefits = run
    for lang in ("en", "zh"):
        html = build_report_html(
            policy_name=ce.name, policy_version=ce.version, as_of=date(2025, 5, 31), statuses=res.statuses,
            criteria=res.results, transitions=res.transitions, benefits=benefits, series=None, lang=lang,
        )  # fmt: skip
        _no_leftovers(html)
        for s in "ABCDEFG":
            assert f">{s}<" in html
        for s in ("A", "B", "C", "D"):
            text = explain_text(
                s, "DE" if s == "C" else "US", status_row=res.statuses, criteria=res.results, defects=None,
                transitions=res.transitions, lang=lang,
            )  # fmt: skip
            _no_leftovers(text)
    text = explain_text("G", "US", status_row=res.statuses, criteria=res.results, defects=None,
                        transitions=res.transitions, lang="zh")  # fmt: skip
    assert "已移出计划" in text and "有效追踪率" in text and "触发条件 < 95.00%" in text
    console = Console(record=True, width=240, color_system=None)
    for lang in ("en", "zh"):
        console.print(statuses_table(res.statuses, lang=lang))
        console.print(transitions_table(res.transitions, lang=lang))
        console.print(scorecards(res.results, lang=lang))
    _no_leftovers(console.export_text())
    written = write_outputs(tmp_path, {"statuses": res.statuses, "transitions": res.transitions,
                                       "criteria": res.results, "benefits": benefits})  # fmt: skip
    assert sum(len(v) for v in written.values()) == 8
