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
from cxops.reconcile import reconcile
from cxops.report.reconcile import OUTPUT_COLUMNS, reconcile_frame, reconcile_summary, reconcile_table

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
