"""HTML report: self-contained, escaped, localised, with threshold lines and chart selection."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from cxops.report.charts import svg_line_chart
from cxops.report.html import build_report_html, render_report

AS_OF = dt.date(2024, 6, 30)
EVIL = "<script>alert('x')</script>"
STATES = ["enrolled", "at_risk", "not_eligible", "candidate", "removed", "recovering"]
CRITERIA = [
    # section, id, metric, window, channel, op, threshold, value, num, den, result, gap
    ("eligibility", "tenure", "tenure_days", None, "all", ">=", 180, 400, None, None, "pass", None),
    ("admission", "odr", "order_defect_rate", 60, "all", "<", 0.0045, 0.003, 3, 1000, "pass", 2),
    ("admission", "lsr", "late_shipment_rate", 30, "mfn", "<=", 0.012, 0.01, 5, 500, "pass", 1),
    ("admission", "otdr", "on_time_delivery_rate", 30, "all", ">=", 0.95, 0.93, 465, 500, "fail", 10),
    (
        "admission",
        "csi",
        "customer_satisfaction_index",
        90,
        "all",
        ">=",
        86,
        None,
        None,
        None,
        "not_measured",
        None,
    ),
    ("removal", "odr_removal", "order_defect_rate", 60, "all", ">", 0.006, 0.003, 3, 1000, "pass", 4),
]
SERIES_METRICS = [
    ("order_defect_rate", 60, "all", 0.004),
    ("late_shipment_rate", 30, "mfn", 0.01),
    ("on_time_delivery_rate", 30, "all", 0.95),
    ("customer_satisfaction_index", 90, "all", 88.0),
]


def make_frames(
    sellers: list[str], states: list[str] | None = None, days: int = 30
) -> dict[str, pd.DataFrame]:
    """Fake statuses, criteria, transitions, benefits and series; seller i has (i+1)*1000 orders."""
    states = states or [STATES[i % len(STATES)] for i in range(len(sellers))]
    rng = np.random.default_rng(0)
    st, cr, tx, bn, se = [], [], [], [], []
    dates = [AS_OF - dt.timedelta(days=d) for d in range(days - 1, -1, -1)]
    for i, (s, state) in enumerate(zip(sellers, states, strict=True)):
        at_risk = state == "at_risk"
        params = {"rule": "odr_warning", "metric": "order_defect_rate", "value": 0.007, "threshold": 0.006}
        st.append(
            {
                "seller_id": s,
                "marketplace_id": "US",
                "evaluation_date": AS_OF,
                "state": state,
                "since": dt.date(2024, 3, 1),
                "reason_key": "warning_breach" if at_risk else "admitted",
                "reason_params": params if at_risk else {},
            }
        )
        for sec, cid, m, w, ch, op, thr, val, num, den, res, gap in CRITERIA:
            cr.append(
                {
                    "seller_id": s,
                    "marketplace_id": "US",
                    "evaluation_date": AS_OF,
                    "as_of": AS_OF,
                    "section": sec,
                    "criterion_id": cid,
                    "label": f"{cid} label",
                    "metric": m,
                    "window_days": w,
                    "channel": ch,
                    "test": "value",
                    "operator": op,
                    "threshold": thr,
                    "min_denominator": 100,
                    "value": val,
                    "numerator": num,
                    "denominator": den,
                    "status": "ok" if val is not None else "not_measured",
                    "result": res,
                    "gap": gap,
                }
            )
        tx.append(
            {
                "seller_id": s,
                "marketplace_id": "US",
                "date": dt.date(2024, 3, 1),
                "from_state": "candidate",
                "to_state": "enrolled",
                "rule_id": "admission",
                "metric": None,
                "value": None,
                "threshold": None,
                "operator": None,
                "window_days": None,
                "as_of": dt.date(2024, 2, 29),
                "reason_key": "admitted",
                "reason_params": {},
            }
        )
        bn.append(
            {
                "seller_id": s,
                "marketplace_id": "US",
                "benefit": "on_time_delivery_incentive",
                "detail": {"tier": "≥ 98%"},
                "value": 0.05,
            }
        )
        for d in dates:
            for m, w, ch, base in SERIES_METRICS:
                se.append(
                    {
                        "seller_id": s,
                        "marketplace_id": "US",
                        "channel": ch,
                        "metric": m,
                        "window_days": w,
                        "as_of": d,
                        "numerator": None,
                        "denominator": None,
                        "value": base * (1 + 0.05 * rng.standard_normal()),
                        "status": "ok",
                        "note": None,
                    }
                )
            se.append(
                {
                    "seller_id": s,
                    "marketplace_id": "US",
                    "channel": "all",
                    "metric": "order_count",
                    "window_days": 90,
                    "as_of": d,
                    "numerator": None,
                    "denominator": None,
                    "value": float((i + 1) * 1000),
                    "status": "ok",
                    "note": None,
                }
            )
    return {
        "statuses": pd.DataFrame(st),
        "criteria": pd.DataFrame(cr),
        "transitions": pd.DataFrame(tx),
        "benefits": pd.DataFrame(bn),
        "series": pd.DataFrame(se),
    }


def render(frames, **kw) -> str:
    kw.setdefault("generated_at", dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC))
    return build_report_html(
        policy_name="customer-excellence", policy_version="2024.1", as_of=AS_OF, **frames, **kw
    )


@pytest.fixture(scope="module")
def frames():
    return make_frames(["S1", "S2", "S3", EVIL, "S5", "S6"])


def test_report_file_is_self_contained_and_escaped(frames, tmp_path):
    path = render_report(
        tmp_path / "sub" / "report.html",
        policy_name="customer-excellence",
        policy_version="2024.1",
        as_of=AS_OF,
        **frames,
    )
    html = path.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert 'class="threshold"' in html and 'stroke-dasharray="4 3"' in html
    for seller in ("S1", "S2", "S3", "S5", "S6"):
        assert f">{seller}<" in html
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # no external resources of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    # header and summary
    assert "customer-excellence" in html and "2024.1" in html and "2024-06-30" in html
    assert "Sellers by status" in html and "16.67%" in html
    # per-seller criteria with value, counts, threshold, badge and gap sentence
    assert "0.30%" in html and "3 / 1,000" in html and "&lt; 0.45%" in html
    assert 'class="b fail"' in html and "needs 10 more on-time deliveries to get to 95.00% or above" in html
    assert "— (not measured)" in html
    # transitions, benefits, reasons
    assert "Admitted: every admission criterion is met." in html
    assert "Warning: Order defect rate is 0.70%" in html
    assert "On-time delivery incentive (storage fee discount)" in html and "tier: ≥ 98%" in html
    assert ">5.00%<" in html


def test_threshold_line_is_the_admission_threshold(frames):
    html = render(frames)
    titles = re.findall(r'<line class="threshold"[^>]*><title>([^<]*)</title>', html)
    assert {"0.45%", "1.20%", "95.00%", "86.0"} <= set(titles)
    assert "0.60%" not in titles  # the removal threshold is not the admission bar's line
    limits = re.findall(r'<line class="threshold limit"[^>]*><title>([^<]*)</title>', html)
    assert "0.60%" in limits  # it is the removal limit's line


def test_report_charts_are_drawn_from_their_vega_lite_specifications(frames):
    """Each figure carries the specification the web embeds; its SVG draws that series and those lines."""
    import json
    from html import unescape

    html = render(frames)
    figures = re.findall(r'<figure data-vega-spec="([^"]+)">(<svg .*?</svg>)', html, flags=re.S)
    assert figures
    for raw, svg in figures:
        spec = json.loads(unescape(raw))
        lines = spec["usermeta"]["lines"]
        drawn = re.findall(r'<line class="threshold ?(\w*)"', svg)
        assert sorted(r or "bar" for r in drawn) == sorted(lines)
        assert unescape(re.search(r"<title>([^<]*)</title>", svg).group(1)) == spec["title"]
        assert [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
                for layer in spec["layer"]] == ["line", "rule"][: len(spec["layer"])]  # fmt: skip


def test_chinese_report(frames):
    html = render(frames, lang="zh")
    assert '<html lang="zh-Hans">' in html
    for text in (
        "卖家绩效报告",
        "订单缺陷率",
        "已入选",
        "有风险",
        "达标",
        "未达标",
        "还需 10 次准时送达才能达到 95.00%",
        "趋势图",
        "准入条件",
    ):
        assert text in html, text
    assert "Order defect rate" not in html


def test_charts_only_for_top_sellers_and_program_states():
    sellers = [f"S{i}" for i in range(1, 7)]
    states = ["not_eligible", "not_eligible", "candidate", "not_eligible", "enrolled", "not_eligible"]
    html = render(make_frames(sellers, states), chart_top_n=1)
    # S6 has the most orders; S5 is enrolled; nobody else gets charts
    sections = dict(
        re.findall(r'<details class="seller" id="s-(S\d)-US"[^>]*>(.*?)</details>', html, flags=re.S)
    )
    assert {s for s, body in sections.items() if "<svg" in body} == {"S5", "S6"}
    assert sum(body.count("<svg") for body in sections.values()) == 8
    assert "2 of 6 sellers" in html


def test_svg_markup_is_well_formed(frames):
    html = render(frames)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert svgs
    for svg in svgs:
        ET.fromstring(svg)


def test_many_sellers_collapsed_and_thinned():
    sellers = [f"A{i:03d}" for i in range(40)]
    html = render(make_frames(sellers, ["not_eligible"] * 40, days=200), chart_top_n=3, max_chart_points=50)
    assert html.count('<details class="seller"') == 40
    assert '<details class="seller" id="s-A000-US" open' not in html  # collapsed above 10 sellers
    points = re.findall(r'<polyline class="line" points="([^"]*)"', html)
    assert len(points) == 12 and all(len(p.split()) <= 50 for p in points)


def test_empty_inputs_render():
    html = build_report_html(
        policy_name="p",
        policy_version="1",
        as_of=AS_OF,
        statuses=None,
        criteria=None,
        transitions=None,
        benefits=None,
        series=None,
    )
    assert "No sellers." in html


def test_chart_handles_gaps_and_single_points():
    d0 = dt.date(2024, 6, 1)
    pts = [(d0 + dt.timedelta(days=i), v) for i, v in enumerate([0.01, 0.02, None, 0.015, None])]
    svg = str(svg_line_chart(pts, threshold=0.012, kind="rate", title="<b>t</b>"))
    ET.fromstring(svg)
    assert svg.count("<polyline") == 1 and 'class="pt"' in svg  # a lone point is a dot
    assert "&lt;b&gt;t&lt;/b&gt;" in svg
    empty = str(svg_line_chart([], threshold=0.5, no_data_text="no data"))
    assert "no data" in empty and 'class="threshold"' in empty


def test_without_series_uses_criteria_values_and_draws_no_charts(frames):
    html = render({**frames, "series": None})
    assert "<svg" not in html and "No trend charts in this report." in html
    row = re.search(r'<tr><td><a href="#s-S1-US">S1</a>.*?</tr>', html).group(0)
    assert "0.30%" in row and "93.00%" in row  # ODR and OTDR taken from the admission criteria


def test_criteria_overview_keeps_sections_apart():
    f = make_frames(["S1", "S2"])
    f["criteria"].loc[f["criteria"]["criterion_id"] == "odr_removal", "criterion_id"] = "odr"
    html = render(f)
    overview = re.search(r'<section id="criteria-overview">.*?</section>', html, flags=re.S).group(0)
    assert overview.count("<small>odr</small>") == 2
    assert "breach if &gt; 0.60%" in overview
