"""Account health JSON (GET_V2_SELLER_PERFORMANCE_REPORT) → reported_metrics."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cxops.ingest.amazon import ACCOUNT_HEALTH, detect_report_type, import_amazon
from cxops.warehouse import connect

DATA = Path(__file__).parent / "data" / "amazon"
OWN = DATA / "account_health_us.json"
D = date


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _metrics(wh) -> pd.DataFrame:
    t = wh.execute(wh.table("reported_metrics"))
    for c in ("window_from", "window_to"):
        t[c] = pd.to_datetime(t[c]).dt.date
    return t.set_index(["marketplace_id", "metric", "channel", "window_days"]).sort_index()


def _row(t, mp, metric, channel, days):
    r = t.loc[(mp, metric, channel, days)]
    assert isinstance(r, pd.Series), r
    return r


def test_own_fixture_exact(wh):
    assert detect_report_type(OWN) == ACCOUNT_HEALTH
    rep = import_amazon(wh, "S1", "US", OWN)
    e = rep.entry("reported_metrics")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined, e.rows_warned) == (23, 23, 0, 0)
    t = _metrics(wh)
    odr = _row(t, "US", "order_defect_rate", "mfn", 60)
    assert (odr.window_from, odr.window_to) == (D(2024, 3, 7), D(2024, 5, 5))
    assert (odr.numerator, odr.denominator, odr.rate) == (3, 400, 0.0075)
    assert (odr.target_value, odr.target_condition, odr.status) == (0.01, "LESS_THAN", "GOOD")
    assert odr.source_metric == "performanceMetrics[0].orderDefectRate.mfn"
    for metric, n in (("negative_feedback_rate", 2), ("a_to_z_claim_rate", 1), ("chargeback_rate", 1)):
        r = _row(t, "US", metric, "mfn", 60)
        assert (r.numerator, r.denominator, r.rate) == (n, 400, n / 400)
        assert (r.window_from, r.window_to) == (D(2024, 3, 7), D(2024, 5, 5))
    assert _row(t, "US", "order_defect_rate", "afn", 60)[["numerator", "denominator"]].tolist() == [1, 1000]
    lsr10 = _row(t, "US", "late_shipment_rate", "mfn", 10)
    lsr30 = _row(t, "US", "late_shipment_rate", "mfn", 30)
    assert (lsr10.window_from, lsr10.window_to, lsr10.numerator, lsr10.denominator) == (
        D(2024, 5, 11),
        D(2024, 5, 20),
        2,
        120,
    )
    assert (lsr30.window_from, lsr30.numerator, lsr30.denominator, lsr30.rate) == (
        D(2024, 4, 21),
        7,
        350,
        0.02,
    )
    pf = _row(t, "US", "pre_fulfillment_cancel_rate", "mfn", 7)
    assert (pf.window_from, pf.window_to, pf.numerator, pf.denominator) == (
        D(2024, 5, 13),
        D(2024, 5, 19),
        1,
        90,
    )
    vt = _row(t, "US", "valid_tracking_rate", "mfn", 30)
    assert (vt.numerator, vt.denominator, vt.target_condition) == (335, 340, "GREATER_THAN")
    otd = _row(t, "US", "on_time_delivery_rate", "mfn", 30)
    unit = _row(t, "US", "unit_on_time_delivery_rate", "mfn", 14)  # a different metric and window
    assert (otd.numerator, otd.denominator, otd.window_from) == (320, 335, D(2024, 4, 11))
    assert (unit.numerator, unit.denominator, unit.rate, unit.window_from) == (171, 180, 0.95, D(2024, 4, 27))
    idr = _row(t, "US", "invoice_defect_rate", "all", 7)
    assert (idr.numerator, idr.denominator, idr.status) == (1, 20, "BAD")
    assert _row(t, "US", "missing_invoice_rate", "all", 7)[["numerator", "rate"]].tolist() == [1, 0.05]
    ahr = _row(t, "US", "ahr_score", "all", 180)
    assert (ahr.numerator, ahr.status, ahr.window_from) == (264, "GREAT", D(2023, 11, 23))
    ip = _row(t, "US", "received_intellectual_property_complaints", "all", 180)
    assert (ip.numerator, ip.target_value, ip.target_condition, ip.status) == (1, 0, "EQUALS", "BAD")
    st = t.loc[("US", "account_status", "all")]
    assert st["status"].tolist() == ["NORMAL"] and st["window_to"].tolist() == [D(2024, 5, 20)]
    w = t.loc[("US", "warning_state_listing_policy_violations", "all")]
    assert w["status"].tolist() == ["GOOD"]
    assert (t["source_file"] == str(OWN)).all()
    assert "reported_at" not in wh.provided_columns("reported_metrics")


def test_official_example(wh, shared_data):
    path = (
        shared_data
        / "amazon-sp-api-seller-performance"
        / "official-schemas"
        / ("accountHealthReport-2020-11-18.example.json")
    )
    rep = import_amazon(wh, "S1", "US", path)
    e = rep.entry("reported_metrics")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (29, 28, 1)
    # documentRequest: reportingDateFrom 2020-11-21 after reportingDateTo 2020-11-19
    q = rep.quarantined.iloc[0]
    assert (
        q["column"] == "reportingDateRange" and "'2020-11-21T00:00Z' is after reportingDateTo" in q["reason"]
    )
    t = _metrics(wh)
    # prefulfillmentCancelRate (example) = preFulfillmentCancellationRate (schema)
    pf = _row(t, "US", "pre_fulfillment_cancel_rate", "mfn", 7)
    assert (pf.numerator, pf.denominator, pf.rate) == (551, 17197, 0.005)
    odr = _row(t, "US", "order_defect_rate", "mfn", 60)
    assert (odr.window_from, odr.window_to, odr.numerator, odr.denominator, odr.rate) == (
        D(2020, 9, 6),
        D(2020, 11, 4),
        1078,
        539000,
        0.009,
    )
    assert _row(t, "US", "ahr_status", "all", 181).status == "WARNED"
    assert _row(t, "US", "unit_on_time_delivery_rate", "mfn", 30).rate == 0.8848
    assert _row(t, "US", "on_time_delivery_rate", "mfn", 30).rate == 0.9529
    assert t.loc[("MX", "account_status", "all")]["status"].tolist() == ["SUSPENDED"]
    assert t.loc[("CA", "account_status", "all")]["status"].tolist() == ["NORMAL"]
    assert _row(t, "US", "food_and_product_safety_issues", "all", 180).numerator == 37
    assert t.loc[("US", "warning_state_spamming_seller_messaging", "all")]["status"].tolist() == ["BAD"]
    # the example's inconsistencies are kept as reported and flagged
    reasons = rep.warnings["reason"].tolist()
    assert reasons.count("the count exceeds its population (as reported)") == 2  # VTR and OTDR
    assert "the afn block says fulfillmentType 'mfn'; stored as afn (its key)" in reasons
    assert reasons.count("the reported rate differs from numerator / denominator") == 3  # ODR x2, PFCR


def test_airbyte_fixture(wh, shared_data):
    path = (
        shared_data
        / "amazon-sp-api-seller-performance"
        / "airbyte-fixtures"
        / "GET_V2_SELLER_PERFORMANCE_REPORT.json"
    )
    rep = import_amazon(wh, "S1", "US", path)
    e = rep.entry("reported_metrics")
    # the ODR blocks have no reportingDateRange: quarantined (the window is not invented)
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (7, 5, 2)
    assert set(rep.quarantined["reason"]) == {"no reportingDateRange: the reporting window is unknown"}
    t = _metrics(wh)
    lsr = _row(t, "US", "late_shipment_rate", "mfn", 24)
    assert (lsr.numerator, lsr.rate, lsr.status, lsr.window_to) == (1, 0.01, "NORMAL", D(2026, 7, 24))
    ahr = _row(t, "US", "ahr_score", "all", 24)
    assert (ahr.numerator, ahr.status) == (1000, "GREEN")
    # warningStates as an object
    w = t.loc[("US", "warning_state_listing_policy_violations", "all")].iloc[0]
    assert (w.numerator, w.target_condition, w.status) == (0, "LESS_THAN_OR_EQUAL", "NORMAL")


def test_overlapping_reports_merge_by_window(wh, tmp_path):
    doc = json.loads(OWN.read_text())
    pm = doc["performanceMetrics"][0]
    # a report one day later: same ODR window restated with a new count, a new 10-day LSR window
    pm["orderDefectRate"]["mfn"]["orderWithDefects"]["count"] = 4
    pm["orderDefectRate"]["mfn"]["rate"] = 0.01
    pm["lateShipmentRateList"][0]["reportingDateRange"] = {
        "reportingDateFrom": "2024-05-12T00:00Z",
        "reportingDateTo": "2024-05-21T23:59Z",
    }
    (tmp_path / "later.json").write_text(json.dumps(doc))
    import_amazon(wh, "S1", "US", OWN)
    rep = import_amazon(wh, "S1", "US", tmp_path / "later.json")
    e = rep.entry("reported_metrics")
    # new keys: the new 10-day window, and the two states dated at the new report date (05-21)
    assert (e.inserted, e.replaced) == (3, 20)
    assert rep.changes["reported_metrics"].summary() == (
        "reported_metrics: 4 rows changed; days affected 2024-05-05, 2024-05-21"
    )
    t = _metrics(wh)
    assert _row(t, "US", "order_defect_rate", "mfn", 60).numerator == 4
    assert len(t.loc[("US", "late_shipment_rate", "mfn", 10)]) == 2  # both 10-day windows kept


def test_lenient_shapes(wh, tmp_path):
    rng = {"reportingDateFrom": "2024-05-01T00:00:00Z", "reportingDateTo": "2024-05-30T23:59:59Z"}
    doc = {
        "performanceMetrics": [
            {
                "marketplaceId": "A1PA6795UKMFR9",
                "lateShipmentRate": {
                    "reportingDateRange": rng,
                    "orderCount": "50",
                    "defectsCount": 1,
                    "rate": "0.02",
                },
                "lateShipmentRateList": [
                    {"reportingDateRange": rng, "orderCount": 50, "lateShipmentCount": 1}
                ],
                "customerProductReviewsPolicyViolations": {"reportingDateRange": rng, "defectsCount": 2},
                "policyViolationWarnings": {"reportingDateRange": rng, "warningsCount": 3},
                "somethingNew": 5,
            },
            "junk",
        ]
    }
    (tmp_path / "ah.json").write_text(json.dumps(doc))
    rep = import_amazon(wh, "S1", "DE", tmp_path / "ah.json")
    t = _metrics(wh)
    lsr = _row(t, "DE", "late_shipment_rate", "mfn", 30)
    assert (lsr.numerator, lsr.denominator, lsr.rate) == (1, 50, 0.02)
    assert _row(t, "DE", "customer_product_reviews_policy_violations", "all", 30).numerator == 2
    assert _row(t, "DE", "policy_violation_warnings", "all", 30).numerator == 3
    q = rep.quarantined.sort_values("row")
    assert q["reason"].tolist()[0].startswith("duplicate key")  # the list's entry = the same window
    assert "not a JSON object" in q["reason"].tolist()
    assert any("somethingNew" in n for n in rep.notes)
