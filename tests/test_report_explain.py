"""``explain``: status and reason, criteria with gaps, defects with their drop-out dates."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from rich.console import Console

from cxops.report.explain import build_explanation, explain_renderable, explain_text

AS_OF = dt.date(2024, 6, 30)


def status_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "seller_id": "S1",
                "marketplace_id": "US",
                "evaluation_date": dt.date(2024, 5, 31),
                "state": "enrolled",
                "since": dt.date(2024, 3, 1),
                "reason_key": "admitted",
                "reason_params": "{}",
            },
            {
                "seller_id": "S1",
                "marketplace_id": "US",
                "evaluation_date": AS_OF,
                "state": "at_risk",
                "since": AS_OF,
                "reason_key": "warning_breach",
                "reason_params": '{"rule": "odr_warning", "metric": "order_defect_rate", "value": 0.007,'
                ' "threshold": 0.006}',
            },
            {
                "seller_id": "S9",
                "marketplace_id": "US",
                "evaluation_date": AS_OF,
                "state": "removed",
                "since": AS_OF,
                "reason_key": "removed_consecutive",
                "reason_params": {"rule": "x", "count": 2},
            },
        ]
    )


def criteria_frame() -> pd.DataFrame:
    base = {
        "seller_id": "S1",
        "marketplace_id": "US",
        "evaluation_date": AS_OF,
        "as_of": AS_OF,
        "test": "value",
        "min_denominator": 100,
        "status": "ok",
        "label": None,
    }
    rows = [
        {
            "section": "removal",
            "criterion_id": "odr_removal",
            "metric": "order_defect_rate",
            "window_days": 60,
            "channel": "all",
            "operator": ">",
            "threshold": 0.006,
            "value": 0.007,
            "numerator": 7,
            "denominator": 1000,
            "result": "fail",
            "gap": 2,
        },
        {
            "section": "admission",
            "criterion_id": "lsr",
            "metric": "late_shipment_rate",
            "window_days": 30,
            "channel": "mfn",
            "operator": "<=",
            "threshold": 0.012,
            "value": 0.01,
            "numerator": 5,
            "denominator": 500,
            "result": "pass",
            "gap": 1,
        },
        {
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


def defect(
    order_id, anchor, metric="order_defect_rate", window=60, kind="negative_feedback", seller="S1", **kw
):
    return {
        "seller_id": seller,
        "marketplace_id": "US",
        "metric": metric,
        "window_days": window,
        "order_id": order_id,
        "anchor_date": anchor,
        "kind": kind,
        **kw,
    }


def defects_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            defect("111-0000003", dt.date(2024, 5, 20), kind="chargeback"),
            defect("111-0000001", dt.date(2024, 5, 2)),
            defect("111-0000001", dt.date(2024, 5, 2), kind="a_to_z"),  # same order, second defect
            defect("111-0000002", dt.date(2024, 5, 2), kind="a_to_z"),
            defect("111-0000000", dt.date(2024, 4, 30)),  # anchor + 60 = 2024-06-29: already out at 06-30
            defect(
                "111-0000004",
                dt.date(2024, 6, 10),
                metric="late_shipment_rate",
                window=30,
                kind="late_shipment",
            ),
            defect("222-0000001", dt.date(2024, 6, 10), metric="late_shipment_rate", window=30, seller="S2"),
        ]
    )


def explain(lang="en", **kw):
    kw.setdefault("next_evaluation", dt.date(2024, 7, 31))
    return explain_text(
        "S1",
        "US",
        status_row=status_frame(),
        criteria=criteria_frame(),
        defects=kw.pop("defects", defects_frame()),
        transitions=kw.pop("transitions", None),
        lang=lang,
        **kw,
    )


def test_drop_out_dates_are_anchor_plus_window():
    text = explain()
    # 2024-05-02 + 60 days = 2024-07-01; 2024-05-20 + 60 = 2024-07-19; 2024-06-10 + 30 = 2024-07-10
    assert (
        "drops out on 2024-07-01: order 111-0000001 (negative feedback, A-to-z claim), "
        "order 111-0000002 (A-to-z claim)"
    ) in text
    assert "drops out on 2024-07-19: order 111-0000003 (chargeback)" in text
    assert "drops out on 2024-07-10: order 111-0000004 (shipped late)" in text
    assert "Order defect rate (60 days): 3 counted" in text
    assert "Late shipment rate (30 days): 1 counted" in text
    assert "111-0000000" not in text  # out of the window at the as-of date
    assert "222-0000001" not in text  # another seller
    # sorted by date within a metric, ODR listed before LSR
    assert text.index("2024-07-01") < text.index("2024-07-19") < text.index("2024-07-10")


def test_given_drops_out_on_wins():
    d = pd.DataFrame([defect("111-9", dt.date(2024, 6, 1), drops_out_on=dt.date(2024, 8, 14))])
    assert "drops out on 2024-08-14: order 111-9" in explain(defects=d)


def test_status_reason_criteria_and_next_evaluation():
    text = explain()
    assert text.startswith("Seller S1 on marketplace US\n")
    assert "Status: At risk since 2024-06-30" in text  # the latest evaluation's row
    assert (
        "Why: Warning: Order defect rate is 0.70%, breaching the threshold 0.60% (rule odr_warning)." in text
    )
    assert "Next evaluation: 2024-07-31" in text
    assert "Order defect rate (60 days, all): 0.70% (7 / 1,000)" in text
    assert "needs 2 fewer defective orders in the window to get to 0.60% or below" in text
    assert "needs 10 more on-time deliveries to get to 95.00% or above" in text
    assert text.index("Admission") < text.index("Removal")


def test_cap_with_and_more():
    d = pd.DataFrame([defect(f"111-{i:07d}", dt.date(2024, 5, 2) + dt.timedelta(days=i)) for i in range(30)])
    text = explain(defects=d, max_defects=5)
    assert "30 counted" in text
    assert "111-0000004" in text and "111-0000005" not in text
    assert "… and 25 more" in text


def test_chinese_explanation():
    text = explain(lang="zh")
    assert "卖家 S1（US 站点）" in text
    assert "状态：有风险，自 2024-06-30 起" in text
    assert (
        "2024-07-01 移出窗口：订单 111-0000001（负面反馈、A-to-z 索赔）、订单 111-0000002（A-to-z 索赔）"
        in text
    )
    assert "订单缺陷率（60 天）：已计入 3 笔" in text
    assert "还需 10 次准时送达才能达到 95.00%" in text
    assert "下次评估：2024-07-31" in text


def test_no_status_no_defects():
    text = explain_text("S404", "US", status_row=None, criteria=None, defects=None, transitions=None)
    assert "No status recorded for this seller." in text and "No counted defects" in text


def test_transitions_and_rich_version():
    tx = pd.DataFrame(
        [
            {
                "seller_id": "S1",
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
                "as_of": AS_OF,
                "reason_key": "warning_breach",
                "reason_params": {
                    "rule": "odr_warning",
                    "metric": "order_defect_rate",
                    "value": 0.007,
                    "threshold": 0.006,
                },
            },
            {
                "seller_id": "S1",
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
                "as_of": None,
                "reason_key": "admitted",
                "reason_params": {},
            },
        ]
    )
    text = explain(transitions=tx)
    assert text.index("2024-03-01  Candidate → Enrolled") < text.index("2024-06-30  Enrolled → At risk")
    ex = build_explanation(
        "S1",
        "US",
        status_row=status_frame(),
        criteria=criteria_frame(),
        defects=defects_frame(),
        transitions=tx,
    )
    assert [g.metric for g in ex.defects] == ["order_defect_rate", "late_shipment_rate"]
    console = Console(record=True, width=200, color_system=None)
    console.print(
        explain_renderable(
            "S1",
            "US",
            status_row=status_frame().iloc[1],
            criteria=criteria_frame(),
            defects=defects_frame(),
            transitions=tx,
            lang="zh",
        )
    )
    out = console.export_text()
    assert "有风险" in out and "2024-07-19" in out and "111-0000003" in out and "历史记录" in out
