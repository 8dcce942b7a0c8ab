"""``cxops reconcile``: reported metrics vs the same metrics computed from raw data, same window.

The fixture is one seller in US (America/Los_Angeles, UTC−7 in summer) with a report produced on
2024-06-30 08:00 UTC:

* MFN orders M0…M49 placed 11:00 local on 2024-04-20 + i days (Apr 20 … Jun 8); AFN orders A0…A9 on
  May 1 … May 10; E1 (MFN) at 2024-04-18 05:00 UTC = Apr 17 22:00 local; X1 (MFN) on Jun 25.
* Defects: M1 1★, M2 2★, M3 a granted A-to-z claim (MFN); A1 1★ (AFN); M4 3★ and M5 5★ are no defects.
  Over the report's ODR window 2024-04-18 … 2024-06-16: MFN 3 / 50, AFN 1 / 10, all 4 / 60.
* Shipping: ship-by = order + 2 days; shipped the next day except M45 (3 days: late) and M46 (never);
  M47 cancelled by the seller, M48 by the buyer's official request, M49 by the system, none shipped.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from _wh import warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_metrics_invariants import marketplaces

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.errors import NotFoundError
from cxops.metrics.compute import compute_at
from cxops.reconcile import Count, Counts, Message, Rate, Term, reconcile
from cxops.report.reconcile import (
    OUTPUT_COLUMNS,
    reconcile_frame,
    reconcile_summary,
    reconcile_table,
    render_message,
)

AS_OF = date(2024, 6, 30)
REPORTED_AT = "2024-06-30T08:00:00Z"
ODR_FROM, ODR_TO = "2024-04-18", "2024-06-16"


def _o(oid, at, channel="MFN"):
    return {
        "seller_id": "S1",
        "order_id": oid,
        "marketplace_id": "US",
        "purchased_at": at,
        "fulfillment_channel": channel,
        "latest_ship_at": at + timedelta(days=2),
        "latest_delivery_at": at + timedelta(days=5),
    }


def _fb(oid, rating, day, **kw):
    return {
        "seller_id": "S1",
        "order_id": oid,
        "rating": rating,
        "submitted_at": datetime(2024, 6, day),
        **kw,
    }


def tables(*, claims=True, removed=False, first_day=None, late_claim=False):
    """The fixture (module docstring); ``first_day`` drops orders placed before it (incomplete import)."""
    t0 = datetime(2024, 4, 20, 18)
    orders = [_o(f"M{i}", t0 + timedelta(days=i)) for i in range(50)]
    orders += [_o(f"A{i}", datetime(2024, 5, 1, 18) + timedelta(days=i), "AFN") for i in range(10)]
    orders += [_o("E1", datetime(2024, 4, 18, 5)), _o("X1", datetime(2024, 6, 25, 18))]
    if first_day is not None:
        orders = [o for o in orders if o["purchased_at"] >= first_day]
    ids = {o["order_id"] for o in orders}
    at = {o["order_id"]: o["purchased_at"] for o in orders}
    ships, canc = [], []
    for oid in sorted(ids):
        if oid in ("M46", "M47", "M48", "M49"):
            continue
        conf = at[oid] + timedelta(days=3 if oid == "M45" else 1)
        ships.append(
            {
                "seller_id": "S1",
                "order_id": oid,
                "shipment_id": "1",
                "confirmed_at": conf,
                "carrier": "UPS",
                "tracking_id": "1Z",
                "first_scan_at": conf,
                "delivered_at": conf + timedelta(days=2),
            }
        )
    for oid, who, via in (("M47", "seller", False), ("M48", "buyer", True), ("M49", "system", False)):
        if oid in ids:
            canc.append(
                {
                    "seller_id": "S1",
                    "order_id": oid,
                    "cancelled_at": at[oid] + timedelta(hours=5),
                    "initiated_by": who,
                    "via_buyer_request": via,
                }
            )
    fb = [
        _fb("M1", 1, 1, removed_at=datetime(2024, 7, 2) if removed else None),
        _fb("M2", 2, 2),
        _fb("M4", 3, 3),
        _fb("M5", 5, 4),
        _fb("A1", 1, 5),
    ]
    fb = [f for f in fb if f["order_id"] in ids]
    out = {
        "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
        "orders": orders,
        "shipments": ships,
        "cancellations": canc,
        "feedback": fb,
    }
    if claims:
        cl = [("M3", "c1", datetime(2024, 5, 30))]
        if late_claim:
            cl.append(("M10", "c2", datetime(2024, 7, 5)))  # after the report
        cols = ["seller_id", "order_id", "claim_id", "kind", "filed_at", "decision"]
        rows = [("S1", oid, cid, "a_to_z", filed, "granted") for oid, cid, filed in cl if oid in ids]
        out["claims"] = pd.DataFrame(rows, columns=cols)  # may be "present, no rows"
    return out


def rep(metric, channel, start, end, num=None, den=None, rate=None, **kw):
    return {
        "seller_id": "S1",
        "marketplace_id": "US",
        "metric": metric,
        "channel": channel,
        "window_from": start,
        "window_to": end,
        "numerator": num,
        "denominator": den,
        "rate": rate,
        "reported_at": REPORTED_AT,
        **kw,
    }


def run(reported, **kw):
    t = tables(**kw)
    t["reported_metrics"] = reported
    df = reconcile_frame(reconcile(warehouse(t), AS_OF))
    assert list(df.columns) == OUTPUT_COLUMNS
    return df


def row(df, metric, channel="mfn", **kw):
    sel = (df.metric == metric) & (df.channel == channel)
    for k, v in kw.items():
        sel &= df[k] == v
    rows = df[sel]
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()


def keys(r):
    return [c["cause"] for c in r["likely_causes"]]


def text(r, cause):
    found = [c["text"] for c in r["likely_causes"] if c["cause"] == cause]
    assert len(found) == 1, r["likely_causes"]
    return found[0]


WINDOW_NOTE = (
    "the report's 60-day window 2024-04-18 – 2024-06-16 ends 14 days before the report date 2024-06-30 "
    "— so `cxops metrics --as-of 2024-06-30` shows another number (60 days, 2024-05-02 – 2024-06-30); "
    "this comparison uses the report's window"
)


# -- agreement ------------------------------------------------------------------------------------


def test_odr_agrees_over_a_lagged_60_day_window():
    df = run(
        [
            rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06, window_days=60),
            rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 1, 10, 0.1),
            rep("order_defect_rate", "all", ODR_FROM, ODR_TO, 4, 60, 0.0667),
        ]
    )
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "agrees" and r["agrees"] is True
    assert (r["computed_numerator"], r["computed_denominator"], r["computed_rate"]) == (3, 50, 0.06)
    assert (r["diff_numerator"], r["diff_denominator"], r["diff_rate"]) == (0, 0, 0)
    assert r["window_days"] == 60 and r["window_to"] == date(2024, 6, 16)
    assert r["likely_causes"] == [{"cause": "window", "text": WINDOW_NOTE}]
    assert r["computed_as"] == "order_defect_rate (mfn)" and pd.isna(r["reason"])
    a = row(df, "order_defect_rate", "afn")
    assert (a["computed_numerator"], a["computed_denominator"], a["verdict"]) == (1, 10, "agrees")
    # 4/60 = 0.066667 is within the report's rounding (4 decimals)
    b = row(df, "order_defect_rate", "all")
    assert (b["computed_numerator"], b["computed_denominator"], b["verdict"]) == (4, 60, "agrees")
    assert b["diff_rate"] == pytest.approx(4 / 60 - 0.0667)
    assert df.agrees.all()
    assert reconcile_summary(df).splitlines()[0] == (
        "3 reported metrics: 3 agree, 0 differ, 0 not computable, 0 no raw data."
    )


def test_arbitrary_windows_late_shipment_30_and_12_days_and_cancel_rate_7_days():
    df = run(
        [
            # ship-by May 20 … Jun 18: M28…M49 less 3 cancelled = 19; late M45 and M46
            rep("late_shipment_rate", "mfn", "2024-05-20", "2024-06-18", 2, 19, 0.1053),
            # a 12-day window (not a catalog length): M40…M49 less 3 cancelled = 7
            rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-12", 2, 7, 0.2857),
            # orders Jun 3 … Jun 9: M44…M49; counted M47 (seller) and M49 (system), not M48 (buyer request)
            rep("pre_fulfillment_cancel_rate", "mfn", "2024-06-03", "2024-06-09", 2, 6, 0.3333),
        ]
    )
    lsr = row(df, "late_shipment_rate", window_days=30)
    assert (lsr["computed_numerator"], lsr["computed_denominator"]) == (2, 19)
    assert lsr["computed_rate"] == pytest.approx(2 / 19) and lsr["verdict"] == "agrees"
    assert lsr["diff_rate"] == pytest.approx(2 / 19 - 0.1053)
    lsr12 = row(df, "late_shipment_rate", window_days=12)
    assert (lsr12["computed_numerator"], lsr12["computed_denominator"], lsr12["verdict"]) == (2, 7, "agrees")
    assert text(lsr12, "window") == (
        "the report's 12-day window 2024-06-01 – 2024-06-12 ends 18 days before the report date 2024-06-30; "
        "cxops's catalog computes late_shipment_rate over 10 and 30 days, not 12 — so `cxops metrics "
        "--as-of 2024-06-30` shows another number (10 days, 2024-06-21 – 2024-06-30); this comparison "
        "uses the report's window"
    )
    pfcr = row(df, "pre_fulfillment_cancel_rate")
    assert (pfcr["computed_numerator"], pfcr["computed_denominator"], pfcr["verdict"]) == (2, 6, "agrees")
    assert pfcr["window_days"] == 7


def test_report_date_from_the_latest_window_of_the_same_file():
    # the importer leaves reported_at empty: the report's day is its newest window's end (LSR, Jun 30)
    f = {"reported_at": None, "source_file": "health.json"}
    df = run(
        [
            rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06, **f),
            # ship-by Jun 1 … 30: M40…M49 and X1, less 3 cancelled
            rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-30", 2, 8, 0.25, **f),
        ],
        removed=True,
    )
    r = row(df, "order_defect_rate")
    assert text(r, "window") == WINDOW_NOTE
    assert text(r, "removed_feedback").startswith(
        "1 order in the window had negative feedback that was later removed (1 of them after the report "
        "was produced on 2024-06-30)"
    )
    assert row(df, "late_shipment_rate")["likely_causes"] == []


def test_counts_must_match_exactly_even_when_the_rate_rounds_the_same():
    df = run([rep("late_shipment_rate", "mfn", "2024-05-20", "2024-06-18", 4, 38, 0.1053)])
    r = row(df, "late_shipment_rate")
    assert r["verdict"] == "differs" and r["agrees"] is False
    assert (r["diff_numerator"], r["diff_denominator"]) == (-2, -19)


# -- differences and their causes -----------------------------------------------------------------


def test_difference_explained_by_removed_feedback():
    df = run([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)], removed=True)
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "differs"
    assert (r["computed_numerator"], r["computed_denominator"]) == (2, 50)
    assert r["diff_numerator"] == -1 and r["diff_rate"] == pytest.approx(-0.02)
    assert keys(r) == ["removed_feedback", "window"]
    assert text(r, "removed_feedback") == (
        "1 order in the window had negative feedback that was later removed (1 of them after the report "
        "was produced on 2024-06-30); cxops does not count removed feedback, a report produced before the "
        "removal does — exactly the difference"
    )


def test_difference_explained_by_missing_claims():
    df = run(
        [
            rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06),
            rep("a_to_z_claim_rate", "mfn", ODR_FROM, ODR_TO, 1, 50, 0.02),
            rep("chargeback_rate", "mfn", ODR_FROM, ODR_TO, 0, 50, 0.0),
            rep("negative_feedback_rate", "mfn", ODR_FROM, ODR_TO, 2, 50, 0.04),
        ],
        claims=False,
    )
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "differs"
    assert (r["computed_numerator"], r["computed_denominator"]) == (2, 50)
    assert keys(r) == ["claims_missing", "window"]
    assert text(r, "claims_missing") == (
        "the report counts 1 A-to-z claim and 0 chargebacks on orders in this window; no claims were "
        "imported (no claims table) — exactly the difference"
    )
    az = row(df, "a_to_z_claim_rate")
    assert (az["verdict"], az["reason"]) == ("not_computable", "no claims data imported")
    assert pd.isna(az["computed_numerator"]) and az["likely_causes"] == []
    assert row(df, "chargeback_rate")["verdict"] == "not_computable"
    assert row(df, "negative_feedback_rate")["verdict"] == "agrees"


def test_difference_explained_by_orders_missing_from_the_raw_data():
    # the import starts on May 1: M0…M10 and E1 are not in the raw data (and with them M1…M3's defects)
    df = run(
        [rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 0, 50, 0.0)],
        first_day=datetime(2024, 5, 1),
    )
    r = row(df, "order_defect_rate")
    assert (r["computed_numerator"], r["computed_denominator"], r["computed_rate"]) == (0, 39, 0.0)
    assert r["verdict"] == "differs" and r["diff_rate"] == 0 and r["diff_denominator"] == -11
    assert keys(r) == ["orders_missing", "window"]
    assert text(r, "orders_missing") == (
        "the raw data has 39 orders in the window, the report 50: 11 orders not imported "
        "(the raw orders of S1 in US run from 2024-05-01 to 2024-06-25)"
    )


def test_difference_explained_by_utc_days():
    # the report counts E1 (Apr 18 05:00 UTC = Apr 17 local): its dates are UTC days
    df = run([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 51, 0.0588)])
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "differs" and (r["computed_numerator"], r["computed_denominator"]) == (3, 50)
    assert keys(r) == ["timezone", "window"]
    assert text(r, "timezone") == (
        "counted by UTC days, as the report's dates are, the raw data gives 3 / 51 — the report's numbers; "
        "by US local days (America/Los_Angeles) it gives 3 / 50"
    )


def test_difference_explained_by_channel():
    df = run([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 4, 60, 0.0667)])
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "differs"
    assert keys(r) == ["channel", "window"]
    assert text(r, "channel") == (
        "the report's numbers (4 / 60) match cxops's 'all' channel; for 'mfn' cxops has 3 / 50 "
        "(10 AFN orders in the window)"
    )


def test_defect_after_the_report_is_named():
    df = run([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)], late_claim=True)
    r = row(df, "order_defect_rate")
    assert (r["computed_numerator"], r["verdict"]) == (4, "differs")
    assert keys(r) == ["after_report", "window"]
    assert text(r, "after_report") == (
        "1 defective order in the window got their defect after the report was produced on 2024-06-30, "
        "the first on 2024-07-05: the report could not count them — exactly the difference"
    )


def test_unit_on_time_delivery_without_unit_counts_is_compared_with_shipments():
    # promised = order + 5 days; delivered order + 3 days (M45: + 5): all on time
    df = run([rep("unit_on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 20, 22, 0.9091)])
    r = row(df, "unit_on_time_delivery_rate")
    # promised Jun 1 … 14 = orders May 27 … Jun 9: M37…M49 less M46…M49 (never shipped) = 9 shipments
    assert (r["computed_numerator"], r["computed_denominator"], r["verdict"]) == (9, 9, "differs")
    assert r["computed_as"] == "on_time_delivery_rate (mfn; shipments, not units)"
    assert keys(r)[0] == "units_vs_shipments"
    assert text(r, "units_vs_shipments") == (
        "the report counts units (22 units); the raw data has no shipment unit counts (shipments.units), "
        "so cxops counts shipments (9 delivered shipments)"
    )


def test_amazon_policy_counters_are_violation_counts_over_the_reported_window():
    def v(vid, kind, day, warning=False):
        at = datetime(2024, 1, 1, 20) + timedelta(days=day)
        return {
            "seller_id": "S1",
            "marketplace_id": "US",
            "violation_id": vid,
            "kind": kind,
            "reported_at": at,
            "is_warning": warning,
        }

    t = tables()
    # day 0 = Jan 1 (before the window), 100 = Apr 10, 150 = May 30
    t["violations"] = [
        v("v1", "ip_complaint", 0),
        v("v2", "ip_complaint", 100, warning=True),
        v("v3", "listing_policy", 150),
        v("v4", "ip_complaint", 150),
    ]
    f, to = "2024-01-03", "2024-06-30"  # Amazon's ~180-day counters
    t["reported_metrics"] = [
        rep("received_intellectual_property_complaints", "all", f, to, 2),
        rep("listing_policy_violations", "all", f, to, 1),
        rep("policy_violation_warnings", "all", f, to, 2),
        rep("suspected_intellectual_property_violations", "all", f, to, 0),
    ]
    df = reconcile_frame(reconcile(warehouse(t), AS_OF))
    ip = row(df, "received_intellectual_property_complaints", "all")
    assert (ip["computed_numerator"], ip["verdict"], ip["computed_as"]) == (
        2,
        "agrees",
        "ip_complaints (all)",
    )
    assert pd.isna(ip["computed_rate"]) and pd.isna(ip["computed_denominator"])
    lp = row(df, "listing_policy_violations", "all")
    assert (lp["computed_numerator"], lp["verdict"]) == (1, "agrees")
    w = row(df, "policy_violation_warnings", "all")
    assert (w["computed_numerator"], w["verdict"], w["diff_numerator"]) == (1, "differs", -1)
    assert keys(w) == ["unexplained"]
    s = row(df, "suspected_intellectual_property_violations", "all")
    assert (s["verdict"], s["reason"]) == (
        "not_computable",
        "no matching violation kind in the canonical data",
    )


# -- not comparable -------------------------------------------------------------------------------


def test_metric_cxops_cannot_compute():
    df = run(
        [
            rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
            rep("invoice_defect_rate", "all", "2024-06-10", "2024-06-16", 0, 3, 0.0),
        ]
    )
    r = row(df, "ahr_score", "all")
    assert r["verdict"] == "not_computable" and r["agrees"] is False
    assert r["reason"].startswith("Amazon's Account Health Rating weighs violations")
    assert pd.isna(r["computed_rate"]) and pd.isna(r["computed_as"])
    assert row(df, "invoice_defect_rate", "all")["verdict"] == "not_computable"


def test_reported_window_without_raw_data():
    df = run([rep("order_defect_rate", "mfn", "2023-01-01", "2023-03-01", 0, 120, 0.0)])
    r = row(df, "order_defect_rate")
    assert r["verdict"] == "no_raw_data" and r["agrees"] is False
    assert (r["computed_numerator"], r["computed_denominator"]) == (0, 0) and pd.isna(r["computed_rate"])
    assert r["reason"] == (
        "the raw data has no orders for S1 in US between 2023-01-01 and 2023-03-01 "
        "(the raw orders of S1 in US run from 2024-04-17 to 2024-06-25)"
    )
    summary = reconcile_summary(df)
    assert summary.splitlines()[0] == "1 reported metric: 0 agree, 0 differ, 0 not computable, 1 no raw data."


def test_as_of_and_seller_filters():
    t = tables()
    t["reported_metrics"] = [
        rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06),
        rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-30", 0, 1, 0.0),
    ]
    wh = warehouse(t)
    assert list(reconcile(wh, date(2024, 6, 20)).rows.metric) == ["order_defect_rate"]
    assert len(reconcile(wh).rows) == 2
    assert reconcile(wh, AS_OF, seller_ids=["S9"]).rows.empty


def test_no_reported_metrics_is_a_clear_error():
    with pytest.raises(NotFoundError, match="no reported metrics"):
        reconcile(warehouse(tables()), AS_OF)


def test_table_renders_every_verdict():
    from rich.console import Console

    df = run(
        [
            rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06),
            rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 2, 10, 0.2),
            rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
            rep("order_defect_rate", "all", "2023-01-01", "2023-03-01", 0, 120, 0.0),
        ]
    )
    console = Console(width=200, record=True)
    console.print(reconcile_table(df))
    out = console.export_text()
    for word in ("agrees", "differs", "not computable", "no raw data", "6.00% (3 / 50)"):
        assert word in out
    assert reconcile_summary(df).splitlines()[:3] == [
        "4 reported metrics: 1 agree, 1 differ, 1 not computable, 1 no raw data.",
        "Differences:",
        "  S1 US order_defect_rate afn 2024-04-18..2024-06-16: reported 20.00% (2 / 10), computed 10.00% "
        "(1 / 10); likely: unexplained",
    ]


# -- self-consistency -----------------------------------------------------------------------------


def _reported_from_cxops(metrics: pd.DataFrame) -> pd.DataFrame:
    m = metrics[(metrics.status != "not_measured") & (metrics.metric != "tenure_days")].copy()
    counts = m.metric.isin(
        [
            "order_count",
            "on_time_delivery_overdue",
            "account_health_warnings",
            "ip_complaints",
            "major_violations",
        ]
    )
    return pd.DataFrame(
        {
            "seller_id": m.seller_id,
            "marketplace_id": m.marketplace_id,
            "metric": m.metric,
            "channel": m.channel,
            "window_from": m.window_start,
            "window_to": m.window_end,
            "window_days": m.window_days,
            "numerator": m.numerator,
            "denominator": m.denominator,
            # as a marketplace reports them: rates rounded to 4 decimals
            "rate": m.value.where(~counts).round(4),
        }
    )


violations = st.lists(
    st.tuples(
        st.sampled_from(["S1", "S2"]),
        st.sampled_from(["US", "JP"]),
        st.sampled_from(["ip_complaint", "listing_policy", "safety"]),
        st.integers(0, 24 * 60),
        st.sampled_from([None, "low", "high"]),
        st.booleans(),
    ),
    max_size=6,
)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    marketplaces(),
    violations,
    st.lists(st.integers(0, 50), min_size=1, max_size=2, unique=True),
)
def test_numbers_reported_by_cxops_itself_always_agree(tables_, viol, offsets):
    if viol:
        tables_ = dict(tables_)
        tables_["violations"] = pd.DataFrame(
            [
                {
                    "seller_id": seller,
                    "marketplace_id": mp,
                    "violation_id": f"v{i}",
                    "kind": kind,
                    "reported_at": datetime(2024, 2, 1) + timedelta(hours=h),
                    "severity": sev,
                    "is_warning": warn,
                }
                for i, (seller, mp, kind, h, sev, warn) in enumerate(viol)
            ]
        )
    wh = warehouse(tables_)
    days = [date(2024, 3, 5) + timedelta(days=k) for k in offsets]
    reported = _reported_from_cxops(compute_at(wh, days))
    res = validate(reported, TABLES["reported_metrics"], "reported.test")
    assert res.quarantined.empty
    wh.upsert(TABLES["reported_metrics"], res.loaded)
    df = reconcile(wh).rows
    assert len(df) == len(reported)
    bad = df[df.verdict != "agrees"]
    assert bad.empty, bad[["metric", "channel", "window_from", "window_to", "reported_rate", "computed_rate"]]
    assert ((df.diff_numerator.fillna(0) == 0) & (df.diff_denominator.fillna(0) == 0)).all()


# -- languages ------------------------------------------------------------------------------------


def test_chinese_sentences_carry_the_same_numbers():
    t = tables(removed=True)
    t["reported_metrics"] = [rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)]
    result = reconcile(warehouse(t), AS_OF)
    zh = reconcile_frame(result, lang="zh")
    r = row(zh, "order_defect_rate")
    assert keys(r) == ["removed_feedback", "window"]  # the keys are the same in every language
    assert text(r, "removed_feedback") == (
        "窗口内有 1 笔订单的负面反馈后来被移除（其中 1 笔在报告于 2024-06-30 生成之后才移除）；cxops 不计入"
        "已移除的反馈，而移除前生成的报告会计入——正好等于差额"
    )
    assert text(r, "window") == (
        "报告的 60 天窗口 2024-04-18 – 2024-06-16 在报告日期 2024-06-30 之前 14 天结束——因此 `cxops metrics "
        "--as-of 2024-06-30` 显示的是另一个数字（60 天，2024-05-02 – 2024-06-30）；"
        "此处的比较使用报告自己的窗口"
    )
    assert r["computed_as"] == "订单缺陷率（自配送）"
    assert (r["computed_numerator"], r["computed_denominator"], r["verdict"]) == (2, 50, "differs")
    assert reconcile_summary(result, lang="zh").splitlines() == [
        "共 1 项报告指标：0 项一致，1 项不一致，0 项无法计算，0 项无原始数据。",
        "差异：",
        "  S1 US 订单缺陷率 自配送 2024-04-18..2024-06-16：报告 6.00%（3 / 50），计算 4.00%（2 / 50）；"
        "可能原因：反馈已移除",
    ]


def test_chinese_reasons_and_table():
    from rich.console import Console

    t = tables(claims=False)
    t["reported_metrics"] = [
        rep("a_to_z_claim_rate", "mfn", ODR_FROM, ODR_TO, 1, 50, 0.02),
        rep("order_defect_rate", "mfn", "2023-01-01", "2023-03-01", 0, 120, 0.0),
        rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
    ]
    result = reconcile(warehouse(t), AS_OF)
    zh = reconcile_frame(result, lang="zh")
    assert row(zh, "a_to_z_claim_rate")["reason"] == "未导入 claims 数据"
    assert row(zh, "order_defect_rate")["reason"] == (
        "原始数据中 S1 在 US 于 2023-01-01 至 2023-03-01 期间没有订单（S1 在 US 的原始订单覆盖 2024-04-17 至 "
        "2024-06-25）"
    )
    assert (
        row(zh, "ahr_score", "all")["reason"] == "亚马逊账户状况评级按未公开的分值为违规计分，cxops 无法复现"
    )
    console = Console(width=250, record=True)
    console.print(reconcile_table(result, lang="zh"))
    out = console.export_text()
    for word in ("卖家", "结论", "无法计算", "无原始数据", "A-to-z 索赔率", "账户状况评级", "自配送"):
        assert word in out
    for english in ("not computable", "no raw data", "reported", "channel", "the raw data"):
        assert english not in out


# -- the reported account status ------------------------------------------------------------------


def test_each_row_carries_the_account_status_of_its_report():
    from rich.console import Console

    h1 = {"reported_at": None, "source_file": "h1.json"}
    h2 = {"reported_at": None, "source_file": "h2.json"}
    t = tables()
    t["reported_metrics"] = [
        # report 1, produced on Jun 16 (its newest window end): NORMAL, AHR GREAT
        rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06, **h1),
        rep("account_status", "all", ODR_TO, ODR_TO, status="NORMAL", **h1),
        rep("ahr_status", "all", "2024-01-01", ODR_TO, status="GREAT", **h1),
        # report 2, produced on Jun 30: AT_RISK, no AHR in it (the last one reported still holds)
        rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-30", 2, 8, 0.25, **h2),
        rep("account_status", "all", "2024-06-30", "2024-06-30", status="AT_RISK", **h2),
    ]
    result = reconcile(warehouse(t), AS_OF)
    rows = result.rows
    got = list(
        zip(rows.metric, rows.window_to.astype(str), rows.account_status, rows.ahr_status, strict=True)
    )
    assert got == [
        ("order_defect_rate", ODR_TO, "NORMAL", "GREAT"),
        ("late_shipment_rate", "2024-06-30", "AT_RISK", "GREAT"),
        ("account_status", ODR_TO, "NORMAL", "GREAT"),
        ("account_status", "2024-06-30", "AT_RISK", "GREAT"),
        ("ahr_status", ODR_TO, "NORMAL", "GREAT"),
    ]
    assert row(rows, "account_status", "all", window_to=date(2024, 6, 30))["verdict"] == "not_computable"
    frame = reconcile_frame(result)
    assert list(frame.account_status) == list(rows.account_status)
    # the table shows the status on a seller's first row and where it changes
    table = reconcile_table(result)
    account = next(c for c in table.columns if c.header == "account status")
    assert list(account.cells) == [
        "normal\nAHR great",
        "at risk\nAHR great",
        "normal\nAHR great",
        "at risk\nAHR great",
        "normal\nAHR great",
    ]
    console = Console(width=250, record=True)
    console.print(reconcile_table(result, lang="zh"))
    out = console.export_text()
    assert "正常" in out and "有风险" in out and "账户状况评级：优秀" in out


def test_no_account_status_reported_leaves_the_column_empty():
    df = run([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)])
    assert df.account_status.isna().all() and df.ahr_status.isna().all()
    table = reconcile_table(df)
    assert list(next(c for c in table.columns if c.header == "account status").cells) == [""]


# -- rendering ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (Count(1, "order"), "1 order", "1 笔订单"),
        (Count(1204.0, "order"), "1,204 orders", "1,204 笔订单"),
        (Count(0, "more_shipment"), "0 more shipments", "多 0 个货件"),
        (Counts(3.0, 50.0), "3 / 50", "3 / 50"),
        (Counts(40.0, None), "40", "40"),
        (Rate(0.0045, "order_defect_rate"), "0.45%", "0.45%"),
        (Rate(7.25, "median_first_response_hours"), "7.3 h", "7.3 小时"),
        (Term("metric", "late_shipment_rate"), "late_shipment_rate", "迟发率"),
        (Term("metric", "unit_on_time_delivery_rate"), "unit_on_time_delivery_rate", "按件准时送达率"),
        (Term("metric", "some_new_metric"), "some_new_metric", "some_new_metric"),
        (Term("channel", "afn"), "afn", "亚马逊配送"),
        ((10, 30), "10 and 30", "10、30"),
        (date(2024, 6, 30), "2024-06-30", "2024-06-30"),
    ],
)
def test_message_parameters_are_formatted_per_language(value, en, zh):
    msg = Message("reconcile.cause.window.note", {"parts": value})
    assert (render_message(msg), render_message(msg, lang="zh")) == (en, zh)


# -- the command line -----------------------------------------------------------------------------


def test_cli_reconcile_in_chinese_with_the_account_status(tmp_path):
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from cxops.cli import app

    runner = CliRunner()
    url = str(tmp_path / "a.duckdb")
    data = Path(__file__).parent / "data" / "amazon"
    args = ["import", "amazon", "--seller", "A1B2C3", "--marketplace", "US", str(data), "-w", url]
    assert runner.invoke(app, [*args, "--quarantine", str(tmp_path / "q")]).exit_code == 0
    en = runner.invoke(app, ["reconcile", "-f", "jsonl", "-w", url])
    zh = runner.invoke(app, ["reconcile", "-f", "jsonl", "--lang", "zh", "-w", url])
    assert en.exit_code == zh.exit_code == 0, zh.output
    en_rows = [json.loads(x) for x in en.stdout.splitlines()]
    zh_rows = [json.loads(x) for x in zh.stdout.splitlines()]
    assert {r["account_status"] for r in en_rows} == {"NORMAL"}
    text_cols = ("reason", "likely_causes", "computed_as")
    assert [{k: v for k, v in r.items() if k not in text_cols} for r in en_rows] == [
        {k: v for k, v in r.items() if k not in text_cols} for r in zh_rows
    ]
    odr = next(r for r in zh_rows if r["metric"] == "order_defect_rate" and r["channel"] == "mfn")
    assert odr["computed_as"] == "订单缺陷率（自配送）"
    assert all(not any(w in c["text"] for w in (" the ", " report ")) for c in odr["likely_causes"])
    table = runner.invoke(app, ["reconcile", "--lang", "zh", "-w", url])
    assert table.exit_code == 0
    assert "正常" in table.stdout and "不一致" in table.stdout
    assert table.stdout.rstrip().splitlines()[-1] == (
        "共 23 项报告指标：0 项一致，4 项不一致，19 项无法计算，0 项无原始数据。"
    )


def test_cli_reconcile_without_reported_metrics_is_one_clear_error(tmp_path):
    from typer.testing import CliRunner

    from cxops.cli import app

    t = tables()
    wh_path = tmp_path / "w.duckdb"
    from cxops.warehouse import connect

    wh = connect(str(wh_path))
    for name, rows in t.items():
        res = validate(pd.DataFrame(rows), TABLES[name], f"{name}.test")
        wh.upsert(TABLES[name], res.loaded)
    wh.close()
    res = CliRunner().invoke(app, ["reconcile", "-w", str(wh_path)])
    assert res.exit_code == 1
    assert (
        "error: no reported metrics in the warehouse" in res.output
        and "hint: cxops import amazon" in res.output
    )
    assert "Traceback" not in res.output


# -- the metrics pieces reconcile reads -----------------------------------------------------------


def test_not_measured_reasons_are_the_old_sentences_with_message_keys():
    import pickle

    from cxops.metrics.unmeasured import no_feedback_or_claims, no_table, not_provided

    r = not_provided("shipments", ["delivered_at", "units"])
    assert r == "the shipments source does not provide delivered_at, units"  # the metrics' note, unchanged
    assert (r.key, r.params) == ("not_provided", {"table": "shipments", "columns": "delivered_at, units"})
    back = pickle.loads(pickle.dumps(r))
    assert (back, back.key, back.params) == (r, r.key, r.params)
    assert no_table("claims") == "no claims data imported" and no_table("claims").params == {
        "table": "claims"
    }
    assert no_feedback_or_claims() == "no feedback or claims data imported"
    assert render_message(Message(f"not_measured.{r.key}", r.params), lang="zh") == (
        "shipments 数据来源未提供 delivered_at, units"
    )
