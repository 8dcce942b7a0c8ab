"""The metric catalog is the one declaration of a metric: everything else derives from it."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import ibis
import pandas as pd
import pytest

from cxops.metrics import catalog, families
from cxops.metrics.catalog import ALL, CATALOG, DEFECT_METRICS, Coverage, MetricDef, Need, Sum, markdown_table
from cxops.metrics.families import FAMILIES, POPULATIONS, unmeasured
from cxops.metrics.records import Inputs
from cxops.metrics.responses import RESPONSE_METRICS, RESPONSE_NEEDS, RESPONSE_WINDOWS
from cxops.policy.catalog import METRICS
from cxops.reconcile.targets import TARGETS
from cxops.report.format import DEFECT_METRICS as REPORT_DEFECTS
from cxops.report.format import HIGHER_IS_BETTER, METRIC_KINDS
from cxops.report.i18n import get_translator

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = catalog.TABLE_BEGIN, catalog.TABLE_END


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert m, "README.md has no metric-table markers"
    return m.group(1)


def test_readme_metric_table_is_current():
    """Regenerate with ``python -m cxops.metrics.catalog --readme README.md``."""
    assert _readme_table() == markdown_table()


def test_markdown_cli_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "cxops.metrics.catalog", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == markdown_table()
    lines = out.splitlines()
    assert len(lines) == 2 + len(CATALOG)
    odr = next(line for line in lines if line.startswith("| `order_defect_rate`"))
    cells = [c.strip() for c in odr.strip("|").split(" | ")]
    assert cells[:5] == ["`order_defect_rate`", "rate (fraction)", "lower", "60", "all, mfn, afn"]
    assert cells[-1] == "feedback or claims"
    lsr = next(line for line in lines if line.startswith("| `late_shipment_rate`"))
    assert "orders (latest_ship_at); shipments (confirmed_at)" in lsr
    tenure = next(line for line in lines if line.startswith("| `tenure_days`"))
    assert "| days | higher | — | all |" in tenure


def test_families_derive_from_the_catalog():
    fam = {f.name: f for f in FAMILIES}
    assert list(fam) == list(
        dict.fromkeys(m.family for m in CATALOG.values() if m.family not in (None, "messages"))
    )
    assert {"order_defects", "late_shipments", "cancellations", "tracking", "deliveries", "ratings", "orders",
            "violations"} <= set(fam)  # fmt: skip
    assert fam["late_shipments"].windows == (10, 30) and fam["late_shipments"].channels == ("mfn",)
    assert fam["violations"].windows == (90, 180)
    outs = {o.metric: o for f in FAMILIES for o in f.outputs}
    assert outs["account_health_warnings"].windows == (180,)
    assert outs["major_violations"].windows == (90,)
    assert (outs["on_time_delivery_rate"].numerator, outs["on_time_delivery_rate"].denominator) == (
        "on_time",
        "delivered",
    )
    assert outs["order_count"].value == "numerator"
    assert fam["order_defects"].sums == {
        "defective": "f_defect",
        "orders": None,
        "negative_feedback": "f_negative_feedback",
        "a_to_z": "f_a_to_z",
        "chargeback": "f_chargeback",
    }
    # every catalog metric is computed exactly once: by a family, the response path or as elapsed days
    computed = list(outs) + list(RESPONSE_METRICS) + [n for n, m in CATALOG.items() if m.family is None]
    assert sorted(computed) == sorted(CATALOG)
    assert POPULATIONS["deliveries"].__name__ == "deliveries"


def test_coverage_sums_derive_from_the_catalog():
    """The coverage rule is part of the catalog entry: its sums become family sums and the output's
    (recorded, expected) pair, like the numerator and denominator."""
    fam = {f.name: f for f in FAMILIES}
    outs = {o.metric: o for f in FAMILIES for o in f.outputs}
    covered = {n for n, m in CATALOG.items() if m.coverage is not None}
    assert covered == {"late_shipment_rate", "on_time_delivery_rate"}
    assert {o.metric for o in outs.values() if o.coverage} == covered
    assert outs["late_shipment_rate"].coverage == ("recorded", "orders")
    assert outs["on_time_delivery_rate"].coverage == ("arrived", "expected")
    assert outs["on_time_delivery_overdue"].coverage is None
    assert fam["late_shipments"].sums == {"late": "f_late", "orders": None, "recorded": "f_recorded"}
    assert fam["deliveries"].sums == {
        "on_time": "f_on_time",
        "delivered": "f_delivered",
        "expected": "f_expected",
        "arrived": "f_arrived",
        "overdue": "f_overdue",
    }
    with pytest.raises(ValueError, match="coverage rule needs a record population"):
        MetricDef("x", "rate", (30,), (ALL,), "a", "p", "d", ("orders",), aggregation="elapsed_days",
                  coverage=Coverage("e", "r", Sum("orders"), Sum("r", "f_r")))  # fmt: skip


def test_response_metrics_and_median_kind_come_from_the_catalog():
    assert RESPONSE_METRICS == ("late_response_rate", "median_first_response_hours")
    assert RESPONSE_WINDOWS == (90,)
    assert RESPONSE_NEEDS == [("buyer_messages", ("first_response_at",))]
    med = CATALOG["median_first_response_hours"]
    assert (med.aggregation, med.median_of, med.denominator) == ("median", "hours", Sum("replied"))
    assert TARGETS["median_first_response_hours"].kind == "median"
    assert TARGETS["late_response_rate"].numerator == "late"


def test_consumers_read_the_catalog():
    assert {m: d.kind for m, d in CATALOG.items()} == METRIC_KINDS
    assert {m for m, d in CATALOG.items() if d.higher_is_better} == set(HIGHER_IS_BETTER)
    assert (
        REPORT_DEFECTS
        == DEFECT_METRICS
        == (
            "order_defect_rate",
            "late_shipment_rate",
            "pre_fulfillment_cancel_rate",
            "valid_tracking_rate",
            "on_time_delivery_rate",
        )
    )
    assert METRICS["late_shipment_rate"].windows == (10, 30)
    assert METRICS["tenure_days"].windows == (None,)
    for name, m in CATALOG.items():
        if m.family is not None:
            t = TARGETS[name]
            assert (t.family, t.numerator) == (m.family, m.numerator.name if m.numerator else None)


def test_every_metric_has_its_message_strings_in_both_languages():
    for lang in ("en", "zh"):
        tr = get_translator(lang)
        for name in CATALOG:
            assert tr.maybe(f"metric.{name}"), (lang, name)
            assert tr.maybe(f"metric_short.{name}"), (lang, name)


def _inputs(tables: dict[str, list[str]]) -> Inputs:
    return Inputs(tables=dict.fromkeys(tables), provided={t: set(c) for t, c in tables.items()}, zones={})


def test_requires_decide_not_measured_with_the_same_sentences():
    odr = CATALOG["order_defect_rate"].requires
    assert unmeasured(_inputs({"orders": []}), odr) == "no feedback or claims data imported"
    assert unmeasured(_inputs({"orders": []}), odr).key == "no_feedback_or_claims"
    assert unmeasured(_inputs({"orders": [], "claims": []}), odr) is None
    lsr = CATALOG["late_shipment_rate"].requires
    reason = unmeasured(_inputs({"orders": ["latest_ship_at"], "shipments": ["tracking_id"]}), lsr)
    assert reason == "the shipments source does not provide confirmed_at"
    assert unmeasured(_inputs({}), CATALOG["order_count"].requires) is None


def test_declaration_errors_are_caught():
    base = CATALOG["late_shipment_rate"]
    with pytest.raises(ValueError, match="unknown kind"):
        replace(base, kind="ratio")
    with pytest.raises(ValueError, match="needs a numerator and a denominator"):
        replace(base, denominator=None)
    with pytest.raises(ValueError, match="median_of"):
        replace(base, aggregation="median")


def test_a_new_catalog_entry_is_computed_with_nothing_else_changed(monkeypatch, tmp_path):
    """The worked example of the README: a metric over an existing population is one catalog entry."""
    from cxops.metrics import compute

    new = MetricDef(
        "late_shipment_count",
        "count",
        (30,),
        ("mfn",),
        "ship-by date",
        "—",
        "late MFN orders",
        ("orders", "shipments"),
        family="late_shipments",
        numerator=Sum("late", "f_late"),
        aggregation="count",
        requires=(Need("orders", ("latest_ship_at",)), Need("shipments", ("confirmed_at",))),
    )
    monkeypatch.setitem(CATALOG, new.name, new)
    monkeypatch.setattr(families, "FAMILIES", families._families())
    monkeypatch.setattr(compute, "FAMILIES", families.FAMILIES)
    con = ibis.duckdb.connect()
    ts = pd.Timestamp
    orders = pd.DataFrame(
        {
            "seller_id": ["S1"] * 3,
            "order_id": ["o1", "o2", "o3"],
            "marketplace_id": ["US"] * 3,
            "purchased_at": [ts("2026-03-01 12:00")] * 3,
            "fulfillment_channel": ["MFN"] * 3,
            "latest_ship_at": [ts("2026-03-03 12:00")] * 3,
            "latest_delivery_at": [ts("2026-03-08 12:00")] * 3,
            "units": [1, 1, 1],
        }
    )
    ships = pd.DataFrame(
        {
            "seller_id": ["S1"] * 3,
            "order_id": ["o1", "o2", "o3"],
            "shipment_id": ["s1", "s2", "s3"],
            "confirmed_at": [ts("2026-03-02 12:00"), ts("2026-03-04 12:00"), ts("2026-03-05 12:00")],
            "carrier": ["UPS"] * 3,
            "tracking_id": ["t1", "t2", "t3"],
            "first_scan_at": [ts("2026-03-05 13:00")] * 3,
            "delivered_at": [ts("2026-03-06 12:00")] * 3,
            "units": [1, 1, 1],
        }
    )
    tables = {"orders": con.create_table("orders", orders), "shipments": con.create_table("shipments", ships)}
    inp = Inputs(tables=tables, provided={}, zones={"US": "America/Los_Angeles"})
    out = con.execute(compute.as_of_expr(inp, [date(2026, 3, 31)]))
    row = out[(out.metric == "late_shipment_count") & (out.channel == "mfn")]
    assert row[["window_days", "numerator", "value", "status"]].values.tolist() == [[30, 2.0, 2.0, "ok"]]
    lsr = out[(out.metric == "late_shipment_rate") & (out.window_days == 30)]
    assert lsr.value.tolist() == [pytest.approx(2 / 3)]
    assert "late_shipment_count" in catalog.markdown_table()
