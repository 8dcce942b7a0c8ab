"""Breaker tests: hand-derived field-case variations and hostile canonical input.

Every expected value below was derived by hand from the documented semantics (README "Metrics" and
"Design notes and decisions", shared DESIGN.md "Metric semantics") and the field cases in
shared/cases/field-cases.md; the arithmetic is in the comments. Tests marked ``FIXED BUG`` once failed on
the product; they pass now and stay as regression tests, their comments describing what went wrong.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
import pytest
from _wh import value, warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cxops.canonical.validate import SchemaError
from cxops.cli import app
from cxops.ingest import IngestError, import_canonical
from cxops.metrics.compute import compute_metrics, compute_series
from cxops.metrics.localtime import local_date
from cxops.metrics.options import MetricOptions
from cxops.warehouse import connect

# -- builders ---------------------------------------------------------------------------------------


def order(oid, purchased, channel="MFN", seller="S1", mp="US", **kw):
    return {
        "seller_id": seller,
        "order_id": oid,
        "marketplace_id": mp,
        "purchased_at": purchased,
        "fulfillment_channel": channel,
        **kw,
    }


def fb(oid, rating, submitted="2024-06-25T00:00:00Z", seller="S1", **kw):
    return {"seller_id": seller, "order_id": oid, "rating": rating, "submitted_at": submitted, **kw}


def claim(oid, cid, kind, decision=None, seller="S1", **kw):
    return {
        "seller_id": seller,
        "order_id": oid,
        "claim_id": cid,
        "kind": kind,
        "filed_at": "2024-06-26T00:00:00Z",
        "decision": decision,
        **kw,
    }


def ship(oid, sid="1", confirmed=None, delivered=None, seller="S1", **kw):
    return {
        "seller_id": seller,
        "order_id": oid,
        "shipment_id": sid,
        "confirmed_at": confirmed,
        "delivered_at": delivered,
        **kw,
    }


def canc(oid, at, by, seller="S1", **kw):
    return {"seller_id": seller, "order_id": oid, "cancelled_at": at, "initiated_by": by, **kw}


def msg(mid, received, reply=None, seller="S1", **kw):
    return {
        "seller_id": seller,
        "message_id": mid,
        "received_at": received,
        "first_response_at": reply,
        **kw,
    }


def sellers(*pairs, registered=None):
    return [
        {"seller_id": s, "marketplace_id": mp, **({"registered_at": registered} if registered else {})}
        for s, mp in pairs
    ]


def counts(row):
    return (row["numerator"], row["denominator"])


def series_values(s, metric, window, channel="all", seller="S1", mp=None):
    sel = (s.metric == metric) & (s.window_days == window) & (s.channel == channel) & (s.seller_id == seller)
    if mp is not None:
        sel &= s.marketplace_id == mp
    return s[sel].set_index("as_of")["value"].to_dict()


# == 1. Metric field cases and their variations ======================================================

# -- C9 / C8: order defect rate --------------------------------------------------------------------


def test_c9_odr_window_boundary_days_are_pacific_local_days():
    # as_of 2024-06-30, 60 days inclusive -> May 2 .. Jun 30 (May 2..31 = 30 days, June = 30 days).
    # US = America/Los_Angeles, PDT = UTC-7 all of May-July.
    orders = [
        order("IN_FIRST", "2024-05-02T07:30:00Z"),  # 00:30 PDT May 2  -> first day, in
        order("OUT_BEFORE", "2024-05-02T06:30:00Z"),  # 23:30 PDT May 1 -> out
        order("IN_LAST", "2024-07-01T06:30:00Z"),  # 23:30 PDT Jun 30  -> last day, in
        order("OUT_AFTER", "2024-07-01T07:30:00Z"),  # 00:30 PDT Jul 1  -> out
        order("MID", "2024-06-15T18:00:00Z"),  # in, no defect
    ]
    feedback = [fb(o, 1, "2024-07-02T00:00:00Z") for o in ("IN_FIRST", "OUT_BEFORE", "IN_LAST", "OUT_AFTER")]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "feedback": feedback})
    df = compute_metrics(wh, date(2024, 6, 30))
    r = value(df, "order_defect_rate", channel="all")
    # defects: IN_FIRST, IN_LAST; orders: IN_FIRST, IN_LAST, MID -> 2/3
    assert counts(r) == (2, 3)
    assert r["value"] == pytest.approx(2 / 3)
    assert (r["window_start"], r["window_end"]) == (date(2024, 5, 2), date(2024, 6, 30))
    # one day later (May 3 .. Jul 1): IN_FIRST drops out, OUT_AFTER comes in -> still 2/3, other orders
    r = value(compute_metrics(wh, date(2024, 7, 1)), "order_defect_rate", channel="all")
    assert counts(r) == (2, 3)
    # May 1 .. Jun 29: OUT_BEFORE, IN_FIRST, MID in; IN_LAST (Jun 30) out -> 2/3 again but different set
    from cxops.metrics.defects import defect_records

    d = defect_records(wh, "S1", date(2024, 6, 29))
    assert sorted(d[d.metric == "order_defect_rate"].order_id) == ["IN_FIRST", "OUT_BEFORE"]


def c9_claim_tables():
    # seven orders in June 2024, all inside the 60-day window ending 2024-06-30
    orders = [order(f"O{i}", f"2024-06-{10 + i:02d}T18:00:00Z") for i in range(1, 8)]
    claims = [
        claim("O1", "c1", "a_to_z", "reversed"),  # reversed: not a defect (README)
        claim("O2", "c2", "a_to_z", None),  # undecided claim: "not denied" -> defect
        claim("O3", "c3", "chargeback", "granted"),  # is_fraud unknown -> defect
        claim("O4", "c4", "chargeback", "reversed"),  # reversed chargeback: not a defect
        claim("O5", "c5", "a_to_z", "denied"),  # denied: not a defect
        claim("O7", "c7a", "a_to_z", "denied"),  # one denied ...
        claim("O7", "c7b", "a_to_z", "granted"),  # ... one granted on the same order -> defect, once
    ]
    feedback = [
        fb("O5", 2, removed_at="2024-06-27T00:00:00Z"),  # removed -> not a defect
        fb("O6", 1, is_shared=True),  # shared rating -> excluded by default
        fb("O7", 1),  # O7 also has negative feedback: still one defective order
    ]
    return {"sellers": sellers(("S1", "US")), "orders": orders, "claims": claims, "feedback": feedback}


def test_c9_claim_decisions_reversed_pending_and_several_claims_per_order():
    wh = warehouse(c9_claim_tables())
    df = compute_metrics(wh, date(2024, 6, 30))
    # a_to_z: O2 (undecided) and O7 (granted) = 2/7; chargeback: O3 = 1/7;
    # negative feedback: O7 only (O5 removed, O6 shared) = 1/7;
    # ODR: O2, O3, O7 = 3/7 (O7 has two signals, one defect), not 2+1+1 = 4.
    assert counts(value(df, "a_to_z_claim_rate", channel="all")) == (2, 7)
    assert counts(value(df, "chargeback_rate", channel="all")) == (1, 7)
    assert counts(value(df, "negative_feedback_rate", channel="all")) == (1, 7)
    odr = value(df, "order_defect_rate", channel="all")
    assert counts(odr) == (3, 7) and odr["value"] == pytest.approx(3 / 7)
    # with shared ratings included O6 (1 star) becomes a defect too: 4/7
    inc = compute_metrics(wh, date(2024, 6, 30), MetricOptions(shared_feedback="include"))
    assert counts(value(inc, "order_defect_rate", channel="all")) == (4, 7)
    assert counts(value(inc, "negative_feedback_rate", channel="all")) == (2, 7)


def test_c9_odr_measured_from_claims_alone_feedback_not_measured():
    orders = [order("O1", "2024-06-10T18:00:00Z"), order("O2", "2024-06-11T18:00:00Z")]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US")),
            "orders": orders,
            "claims": [claim("O1", "c", "a_to_z", "granted")],
        }
    )
    df = compute_metrics(wh, date(2024, 6, 30))
    odr = value(df, "order_defect_rate", channel="all")
    assert (odr["status"], *counts(odr)) == ("ok", 1, 2)  # computed from the source present
    nf = value(df, "negative_feedback_rate", channel="all")
    assert nf["status"] == "not_measured" and pd.isna(nf["value"])  # never 0 %


def test_c8_negative_feedback_threshold_option_counts_three_stars_only_when_asked():
    # 100 orders; 3*, 2*, 1* feedback -> 2/100 by default; 3/100 with "<= 3 stars"; 1/100 with "<= 1".
    orders = [order(f"O{i}", "2024-06-01T18:00:00Z") for i in range(100)]
    feedback = [fb("O0", 3), fb("O1", 2), fb("O2", 1)]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "feedback": feedback})
    got = {
        k: counts(
            value(
                compute_metrics(wh, date(2024, 6, 30), MetricOptions(negative_feedback_max_stars=k)),
                "negative_feedback_rate",
                channel="all",
            )
        )
        for k in (1, 2, 3)
    }
    assert got == {1: (1, 100), 2: (2, 100), 3: (3, 100)}


# -- AFN-only sellers ----------------------------------------------------------------------------


def test_afn_only_seller_has_no_data_for_mfn_metrics_never_zero_percent():
    # S1 sells only through AFN; S2 (MFN) makes every MFN source present.
    orders = [
        order("A1", "2024-06-10T18:00:00Z", "AFN", latest_delivery_at="2024-06-20T06:59:59Z"),
        order("A2", "2024-06-11T18:00:00Z", "AFN", latest_delivery_at="2024-06-20T06:59:59Z"),
        order("M1", "2024-06-25T18:00:00Z", "MFN", seller="S2", latest_ship_at="2024-06-27T06:59:59Z"),
    ]
    ships = [
        # promise: end of Jun 19 PDT. A1 delivered Jun 18 13:00 PDT (on time), A2 Jun 21 (late)
        ship("A1", confirmed="2024-06-11T20:00:00Z", delivered="2024-06-18T20:00:00Z", tracking_id="T"),
        ship("A2", confirmed="2024-06-12T20:00:00Z", delivered="2024-06-21T20:00:00Z", tracking_id="T"),
        ship("M1", confirmed="2024-06-26T20:00:00Z", seller="S2", tracking_id="T"),
    ]
    cancellations = [canc("M1", "2024-06-27T20:00:00Z", "buyer", seller="S2")]
    feedback = [fb("A1", 1)]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US"), ("S2", "US")),
            "orders": orders,
            "shipments": ships,
            "cancellations": cancellations,
            "feedback": feedback,
        }
    )
    df = compute_metrics(wh, date(2024, 6, 30))
    for metric, window in [
        ("late_shipment_rate", 10),
        ("late_shipment_rate", 30),
        ("pre_fulfillment_cancel_rate", 7),
        ("valid_tracking_rate", 30),
    ]:
        r = value(df, metric, window=window, channel="mfn")
        assert (r["status"], r["denominator"]) == ("no_data", 0), metric
        assert pd.isna(r["value"]), metric
    assert counts(value(df, "order_defect_rate", channel="afn")) == (1, 2)
    assert value(df, "order_defect_rate", channel="mfn")["status"] == "no_data"
    assert counts(value(df, "order_defect_rate", channel="all")) == (1, 2)
    # on-time delivery: A1 on time, A2 late -> afn 1/2, all 1/2, mfn no data
    assert counts(value(df, "on_time_delivery_rate", window=30, channel="afn")) == (1, 2)
    assert value(df, "on_time_delivery_rate", window=30, channel="mfn")["status"] == "no_data"


# -- C11 / C13: time zones, DST ---------------------------------------------------------------------


def test_c11_delivery_exactly_at_the_deadline_second():
    # promise Jul 18 (PDT) stored as 2024-07-19T06:59:59Z. Delivered 06:59:59Z = 23:59:59 PDT Jul 18 -> on
    # time; 07:00:00Z = 00:00:00 PDT Jul 19 -> late. 1/2.
    orders = [order(o, "2024-07-10T18:00:00Z", latest_delivery_at="2024-07-19T06:59:59Z") for o in "AB"]
    ships = [
        ship("A", confirmed="2024-07-11T00:00:00Z", delivered="2024-07-19T06:59:59Z"),
        ship("B", confirmed="2024-07-11T00:00:00Z", delivered="2024-07-19T07:00:00Z"),
    ]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "shipments": ships})
    r = value(compute_metrics(wh, date(2024, 7, 31)), "on_time_delivery_rate", window=30, channel="all")
    assert counts(r) == (1, 2)


def test_c13_berlin_dst_days_both_transitions():
    # Europe/Berlin: CET (+1) -> CEST (+2) at 2024-03-31 01:00Z; CEST -> CET at 2024-10-27 01:00Z.
    orders = [
        order("A", "2024-03-30T23:30:00Z", mp="DE"),  # 00:30 CET Mar 31        -> Mar 31
        order("C", "2024-03-31T21:30:00Z", mp="DE"),  # 23:30 CEST Mar 31       -> Mar 31
        order("B", "2024-03-31T22:30:00Z", mp="DE"),  # 00:30 CEST Apr 1        -> Apr 1 (fixed +1: Mar 31)
        order("D", "2024-10-26T22:30:00Z", mp="DE"),  # 00:30 CEST Oct 27       -> Oct 27
        order("E", "2024-10-27T22:30:00Z", mp="DE"),  # 23:30 CET Oct 27        -> Oct 27 (fixed +2: Oct 28)
        order("F", "2024-10-27T23:30:00Z", mp="DE"),  # 00:30 CET Oct 28        -> Oct 28
    ]
    wh = warehouse({"sellers": sellers(("S1", "DE"), registered="2024-01-01T00:00:00Z"), "orders": orders})
    # 30-day order counts: spring and autumn orders are > 30 days apart
    spring = series_values(
        compute_series(wh, date(2024, 3, 30), date(2024, 4, 1), metrics=["order_count"]), "order_count", 30
    )
    assert spring == {date(2024, 3, 30): 0, date(2024, 3, 31): 2, date(2024, 4, 1): 3}
    autumn = series_values(
        compute_series(wh, date(2024, 10, 26), date(2024, 10, 28), metrics=["order_count"]), "order_count", 30
    )
    assert autumn == {date(2024, 10, 26): 0, date(2024, 10, 27): 2, date(2024, 10, 28): 3}
    # the as-of path agrees with the series path
    assert (
        value(compute_metrics(wh, date(2024, 3, 31)), "order_count", window=30, channel="all")["value"] == 2
    )
    assert (
        value(compute_metrics(wh, date(2024, 10, 27)), "order_count", window=30, channel="all")["value"] == 2
    )


def test_c13_sao_paulo_historic_dst_2017_2018():
    # America/Sao_Paulo had DST until 2019: BRST (-2) from 2017-10-15 03:00Z to 2018-02-18 02:00Z.
    orders = [
        order("P1", "2017-10-16T02:30:00Z", mp="BR"),  # 00:30 BRST Oct 16 -> Oct 16 (fixed -3: Oct 15)
        order("P2", "2018-02-17T02:30:00Z", mp="BR"),  # 00:30 BRST Feb 17 -> Feb 17 (fixed -3: Feb 16)
        order("P3", "2018-02-18T02:30:00Z", mp="BR"),  # 23:30 BRT  Feb 17 -> Feb 17 (fixed -2: Feb 18)
    ]
    wh = warehouse({"sellers": sellers(("S1", "BR"), registered="2017-01-01T12:00:00Z"), "orders": orders})
    s = compute_series(wh, date(2017, 10, 15), date(2017, 10, 16), metrics=["order_count"])
    assert series_values(s, "order_count", 30) == {date(2017, 10, 15): 0, date(2017, 10, 16): 1}
    s = compute_series(wh, date(2018, 2, 16), date(2018, 2, 18), metrics=["order_count"])
    # window of 30 days ending Feb 16 starts Jan 18 (P1 long gone)
    assert series_values(s, "order_count", 30) == {
        date(2018, 2, 16): 0,
        date(2018, 2, 17): 2,
        date(2018, 2, 18): 2,
    }


def test_c11_on_time_delivery_on_the_berlin_dst_end_day():
    # promise: end of Oct 27 local (CET after 01:00Z) = 2024-10-27T22:59:59Z.
    # D1 delivered 22:30Z = 23:30 CET Oct 27 -> on time; D2 delivered 23:30Z = 00:30 CET Oct 28 -> late.
    orders = [
        order(o, "2024-10-20T10:00:00Z", mp="DE", latest_delivery_at="2024-10-27T22:59:59Z")
        for o in ("D1", "D2")
    ]
    ships = [
        ship("D1", confirmed="2024-10-21T10:00:00Z", delivered="2024-10-27T22:30:00Z"),
        ship("D2", confirmed="2024-10-21T10:00:00Z", delivered="2024-10-27T23:30:00Z"),
    ]
    wh = warehouse({"sellers": sellers(("S1", "DE")), "orders": orders, "shipments": ships})
    # anchor = promised local date Oct 27: in the 14-day window ending Oct 27, not in one ending Oct 26
    r = value(compute_metrics(wh, date(2024, 10, 27)), "on_time_delivery_rate", window=14, channel="all")
    assert counts(r) == (1, 2)
    r = value(compute_metrics(wh, date(2024, 10, 26)), "on_time_delivery_rate", window=14, channel="all")
    assert r["denominator"] == 0 and r["status"] == "no_data"


# -- C20: late shipment variations ----------------------------------------------------------------


def lsr_tables():
    # as_of 2024-05-10, 10-day window by ship-by local date: May 1 .. May 10 (PDT, UTC-7)
    p = "2024-04-29T18:00:00Z"
    orders = [
        order("L1", p, latest_ship_at="2024-05-02T06:00:00Z"),  # ship-by 23:00 PDT May 1: first day, in
        order("L2", p, latest_ship_at="2024-05-01T06:00:00Z"),  # 23:00 PDT Apr 30: out
        order("L3", p, latest_ship_at="2024-05-11T06:59:59Z"),  # 23:59:59 PDT May 10: last day, in
        order("L4", p, latest_ship_at="2024-05-11T07:00:00Z"),  # 00:00 PDT May 11: out
        order("L5", p, latest_ship_at="2024-05-05T06:00:00Z"),  # in
        order("L6", p, latest_ship_at="2024-05-06T06:00:00Z"),  # in
        order("L7", p, latest_ship_at="2024-05-07T06:00:00Z"),  # in
        order("L8", p, "AFN", latest_ship_at="2024-05-07T06:00:00Z"),  # AFN: not in the MFN population
        order("L9", p, latest_ship_at="2024-05-08T06:00:00Z"),  # in, cancelled before shipping
        order("L10", p),  # no ship-by deadline: not in the population
    ]
    ships = [
        ship("L1", confirmed="2024-05-02T06:00:00Z"),  # confirmed exactly at the deadline: on time
        ship("L2", confirmed="2024-05-03T06:00:00Z"),  # late but outside the window
        ship("L3", confirmed="2024-05-11T07:00:00Z"),  # one second after the deadline: late
        ship("L5", "1", confirmed="2024-05-04T20:00:00Z"),  # first parcel on time ...
        ship("L5", "2"),  # ... second parcel never confirmed nor delivered: the order is late
        ship("L6", confirmed="2024-05-05T20:00:00Z"),  # on time, cancelled AFTER shipping: stays, on time
        ship("L7", confirmed="2024-05-08T20:00:00Z"),  # late, then cancelled after shipping: late
    ]
    cancellations = [
        canc("L6", "2024-05-07T00:00:00Z", "seller"),
        canc("L7", "2024-05-09T00:00:00Z", "seller"),
        canc("L9", "2024-05-01T00:00:00Z", "seller"),
    ]
    return {
        "sellers": sellers(("S1", "US")),
        "orders": orders,
        "shipments": ships,
        "cancellations": cancellations,
    }


def test_c20_late_shipment_boundaries_partial_shipments_and_cancel_after_shipping():
    wh = warehouse(lsr_tables())
    r = value(compute_metrics(wh, date(2024, 5, 10)), "late_shipment_rate", window=10)
    # population L1, L3, L5, L6, L7 (L9 cancelled before shipping is out by default) -> 5
    # late: L3 (1 s), L5 (unconfirmed parcel), L7 (confirmed late) -> 3/5
    assert counts(r) == (3, 5) and r["value"] == pytest.approx(0.6)
    incl = compute_metrics(wh, date(2024, 5, 10), MetricOptions(late_shipment_includes_cancelled=True))
    r = value(incl, "late_shipment_rate", window=10)
    assert counts(r) == (3, 6)  # L9 back in, as on time


def test_c20_late_order_listed_once_with_its_ship_by_day():
    from cxops.metrics.defects import defect_records

    d = defect_records(warehouse(lsr_tables()), "S1", date(2024, 5, 10))
    late = d[(d.metric == "late_shipment_rate") & (d.window_days == 10)]
    assert sorted(late.order_id) == ["L3", "L5", "L7"]
    assert late.set_index("order_id").loc["L3", "anchor_date"] == date(2024, 5, 10)


# -- C19: pre-fulfillment cancellations -------------------------------------------------------------


def test_c19_cancel_rate_variations_after_shipment_unknown_and_window_edge():
    # as_of 2024-05-10, 7 days by local order date: May 4 .. May 10 (PDT)
    p = "2024-05-05T18:00:00Z"
    orders = [order(f"M{i}", p) for i in range(1, 11)] + [
        order("A1", p, "AFN"),
        order("M11", "2024-05-04T06:30:00Z"),  # 23:30 PDT May 3: outside
        order("M12", "2024-05-04T07:30:00Z"),  # 00:30 PDT May 4: first day, inside
    ]
    ships = [ship("M2", confirmed="2024-05-06T00:00:00Z"), ship("M7")]  # M7: a parcel never confirmed
    cancellations = [
        canc("M1", "2024-05-05T19:00:00Z", "seller"),  # counts
        canc("M2", "2024-05-06T01:00:00Z", "seller"),  # after ship confirmation: not pre-fulfillment
        canc("M3", "2024-05-05T19:00:00Z", "system"),  # automatic cancellation: counts
        canc("M4", "2024-05-05T19:00:00Z", "unknown"),  # not counted unless count_unknown_cancellations
        canc("M5", "2024-05-05T19:00:00Z", "buyer"),  # buyer cancelled themselves: not counted
        canc("M6", "2024-05-05T19:00:00Z", "seller", reason="out of stock", via_buyer_request=True),  # no
        canc("M7", "2024-05-05T19:00:00Z", "seller"),  # nothing confirmed yet: counts
        canc("A1", "2024-05-05T19:00:00Z", "seller"),  # AFN: outside the MFN metric
        canc("M11", "2024-05-04T07:00:00Z", "seller"),  # order outside the window
        canc("M12", "2024-05-04T08:00:00Z", "seller"),  # counts
    ]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US")),
            "orders": orders,
            "shipments": ships,
            "cancellations": cancellations,
        }
    )
    # denominator: M1..M10 + M12 = 11 MFN orders; counted M1, M3, M7, M12 = 4
    r = value(compute_metrics(wh, date(2024, 5, 10)), "pre_fulfillment_cancel_rate")
    assert counts(r) == (4, 11) and r["value"] == pytest.approx(4 / 11)
    r = value(
        compute_metrics(wh, date(2024, 5, 10), MetricOptions(count_unknown_cancellations=True)),
        "pre_fulfillment_cancel_rate",
    )
    assert counts(r) == (5, 11)  # + M4


# -- valid tracking -----------------------------------------------------------------------------------


def vtr_tables(with_scans: bool):
    p = "2024-05-01T18:00:00Z"
    orders = [order(f"V{i}", p) for i in range(1, 8) if i != 5] + [order("V5", p, "AFN")]
    extra = (
        (lambda carrier, scan: {"carrier": carrier, "first_scan_at": scan})
        if with_scans
        else (lambda c, s: {})
    )
    ships = [
        ship(
            "V1", confirmed="2024-05-10T20:00:00Z", tracking_id="1Z1", **extra("UPS", "2024-05-10T22:00:00Z")
        ),
        ship(
            "V2", confirmed="2024-05-11T20:00:00Z", tracking_id="   ", **extra("UPS", "2024-05-11T22:00:00Z")
        ),
        ship("V3", confirmed="2024-05-12T20:00:00Z", tracking_id=None, **extra("UPS", None)),
        ship("V4", tracking_id="1Z4", **extra("UPS", None)),  # not confirmed: not in the population
        ship("V5", confirmed="2024-05-12T20:00:00Z", **extra(None, None)),  # AFN
        ship(
            "V6", confirmed="2024-05-02T06:30:00Z", tracking_id="1Z6", **extra("UPS", None)
        ),  # May 1 PDT: out
        ship("V7", confirmed="2024-05-02T07:30:00Z", tracking_id="1Z7", **extra("UPS", None)),  # May 2: in
    ]
    return {"sellers": sellers(("S1", "US")), "orders": orders, "shipments": ships}


def test_valid_tracking_rate_blank_ids_afn_unconfirmed_and_window_edge():
    # as_of 2024-05-31, 30 days: May 2 .. May 31. Population V1, V2, V3, V7 (V4 unconfirmed, V5 AFN,
    # V6 on May 1). Source gives tracking ids only: valid V1, V7 -> 2/4.
    r = value(compute_metrics(warehouse(vtr_tables(False)), date(2024, 5, 31)), "valid_tracking_rate")
    assert counts(r) == (2, 4)
    # source also gives carrier scans: V7 has no scan -> only V1 is valid -> 1/4
    r = value(compute_metrics(warehouse(vtr_tables(True)), date(2024, 5, 31)), "valid_tracking_rate")
    assert counts(r) == (1, 4)


# -- C25 / C27: on-time delivery ----------------------------------------------------------------------


def test_c25_on_time_delivery_per_shipment_overdue_and_unknown_promise():
    # as_of 2024-06-30, 30 days: Jun 1 .. Jun 30. Promise: end of Jun 10 PDT = 2024-06-11T06:59:59Z.
    prom = "2024-06-11T06:59:59Z"
    p = "2024-06-05T18:00:00Z"
    orders = [
        order("D1", p, latest_delivery_at=prom),
        order("D2", p, latest_delivery_at=prom),
        order("D3", p, latest_delivery_at=prom),
        order("D4", p),  # no promise
        order("D5", p, "AFN", latest_delivery_at=prom),
        order("D6", p, latest_delivery_at=prom),
    ]
    ships = [
        ship("D1", "1", "2024-06-06T18:00:00Z", "2024-06-09T18:00:00Z"),  # on time
        ship("D1", "2", "2024-06-06T18:00:00Z", "2024-06-12T18:00:00Z"),  # late (per shipment)
        ship("D2", "1", "2024-06-06T18:00:00Z"),  # shipped, never delivered: overdue, not in the rate
        ship("D3", "1"),  # neither confirmed nor delivered: neither
        ship("D4", "1", "2024-06-06T18:00:00Z", "2024-06-09T18:00:00Z"),  # no promise: excluded
        ship("D5", "1", "2024-06-06T18:00:00Z", "2024-06-09T18:00:00Z"),  # AFN on time
        ship("D6", "1", None, "2024-06-11T06:00:00Z"),  # delivered 23:00 PDT Jun 10, no confirmation: on time
    ]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "shipments": ships})
    df = compute_metrics(wh, date(2024, 6, 30))
    # all: D1/1, D1/2, D5, D6 delivered; on time D1/1, D5, D6 -> 3/4; mfn 2/3; afn 1/1
    assert counts(value(df, "on_time_delivery_rate", window=30, channel="all")) == (3, 4)
    assert counts(value(df, "on_time_delivery_rate", window=30, channel="mfn")) == (2, 3)
    assert counts(value(df, "on_time_delivery_rate", window=30, channel="afn")) == (1, 1)
    assert value(df, "on_time_delivery_overdue", window=30, channel="all")["value"] == 1
    assert value(df, "on_time_delivery_overdue", window=30, channel="afn")["value"] == 0
    late = compute_metrics(wh, date(2024, 6, 30), MetricOptions(otdr_overdue_counts_as_late=True))
    assert counts(value(late, "on_time_delivery_rate", window=30, channel="all")) == (3, 5)


def test_c27_cancelled_undelivered_orders_are_not_late_deliveries_and_no_delivery_is_null():
    # X1, X2 cancelled before shipping, promises passed, no shipments: not in the OTDR numerator nor
    # the denominator, not overdue either. Seller S2 has only those: OTDR null (no data), not 0 or 100 %.
    prom = "2018-02-10T01:59:59Z"  # end of Feb 9 BRST (UTC-2)
    orders = [
        order(x, "2018-01-05T12:00:00Z", seller="S2", mp="BR", latest_delivery_at=prom) for x in ("X1", "X2")
    ]
    orders.append(order("Z", "2018-01-05T12:00:00Z", seller="S3", mp="BR", latest_delivery_at=prom))
    ships = [ship("Z", confirmed="2018-01-06T12:00:00Z", delivered="2018-02-09T12:00:00Z", seller="S3")]
    cancellations = [canc(x, "2018-01-05T13:00:00Z", "seller", seller="S2") for x in ("X1", "X2")]
    wh = warehouse(
        {
            "sellers": sellers(("S2", "BR"), ("S3", "BR")),
            "orders": orders,
            "shipments": ships,
            "cancellations": cancellations,
        }
    )
    df = compute_metrics(wh, date(2018, 3, 1))
    r = value(df, "on_time_delivery_rate", seller="S2", window=30, channel="all")
    assert r["status"] == "no_data" and r["denominator"] == 0 and pd.isna(r["value"])
    assert value(df, "on_time_delivery_overdue", seller="S2", window=30, channel="all")["value"] == 0
    assert value(df, "on_time_delivery_rate", seller="S3", window=30, channel="all")["value"] == 1.0


# -- C18: response time -------------------------------------------------------------------------------


def c18_variation_messages():
    return [
        msg(
            "A", "2024-03-10T12:00:00Z", "2024-03-11T12:00:00Z", marketplace_id="US"
        ),  # exactly 24 h: on time
        msg("B", "2024-03-10T12:00:00Z", "2024-03-11T12:00:01Z", marketplace_id="US"),  # 24 h + 1 s: late
        msg("C", "2024-03-10T12:00:00Z", "2024-03-10T14:00:00Z", marketplace_id="US"),  # 2 h
        msg("D", "2024-03-10T12:00:00Z", "2024-03-10T16:00:00Z", marketplace_id="US"),  # 4 h
        msg("E", "2024-03-19T08:00:00Z", marketplace_id="US"),  # unanswered, 24 h end 2024-03-20T08:00Z
        msg("F", "2024-03-20T12:00:00Z", marketplace_id="US"),  # unanswered, still inside its 24 h
        msg("G", "2024-03-10T12:00:00Z", marketplace_id="US", no_response_needed=True),  # excluded
        msg("H", "2024-03-10T12:00:00Z", marketplace_id="US", is_auto_reply=True),  # auto-reply only: late
        msg(
            "I", "2024-03-10T12:00:00Z", "2024-03-11T12:00:00.500Z", marketplace_id="US"
        ),  # 24 h + 0.5 s: late
    ]


def test_c18_exact_24h_boundary_pending_and_median():
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US")),
            "orders": [order("O1", "2024-03-01T18:00:00Z")],
            "buyer_messages": c18_variation_messages(),
        }
    )
    # end of Mar 20 PDT: eligible A, B, C, D, E, H, I (F pending, G excluded) = 7; late B, E, H, I = 4
    r = value(compute_metrics(wh, date(2024, 3, 20)), "late_response_rate")
    assert counts(r) == (4, 7)
    # median of replies 2, 4, 24, 24.0001389, 24.000278 h (A, B, C, D, I) = 24.0 (the middle value)
    med = value(compute_metrics(wh, date(2024, 3, 20)), "median_first_response_hours")
    assert med["denominator"] == 5 and med["value"] == pytest.approx(24.0)
    # as_of_at 2024-03-20T07:59:59: E is still pending -> 6 eligible, 3 late
    r = value(
        compute_metrics(wh, date(2024, 3, 20), as_of_at=datetime(2024, 3, 20, 7, 59, 59)),
        "late_response_rate",
    )
    assert counts(r) == (3, 6)
    # at exactly 08:00:00 E's 24 h are over -> counted late
    r = value(
        compute_metrics(wh, date(2024, 3, 20), as_of_at=datetime(2024, 3, 20, 8, 0, 0)), "late_response_rate"
    )
    assert counts(r) == (4, 7)


def test_c18_median_of_an_even_number_of_replies_is_the_midpoint():
    msgs = [
        msg("C", "2024-03-10T12:00:00Z", "2024-03-10T14:00:00Z", marketplace_id="US"),  # 2 h
        msg("D", "2024-03-10T12:00:00Z", "2024-03-10T16:00:00Z", marketplace_id="US"),  # 4 h
    ]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US")),
            "orders": [order("O1", "2024-03-01T18:00:00Z")],
            "buyer_messages": msgs,
        }
    )
    assert value(compute_metrics(wh, date(2024, 3, 20)), "median_first_response_hours")["value"] == 3.0


def test_c18_messages_of_a_multi_marketplace_seller_are_placed_per_documented_rule():
    # S1 sells in US and DE under the same id. Unanswered messages received Mar 1 -> all late.
    orders = [order("OUS", "2024-02-20T18:00:00Z", mp="US"), order("ODE", "2024-02-20T18:00:00Z", mp="DE")]
    msgs = [
        msg("M1", "2024-03-01T10:00:00Z", order_id="ODE"),  # no marketplace: the order's -> DE
        msg("M2", "2024-03-01T10:00:00Z", marketplace_id="US"),  # own marketplace -> US
        msg("M3", "2024-03-01T10:00:00Z"),  # neither: the seller's first marketplace (by id) -> DE
        msg("M4", "2024-03-01T10:00:00Z", order_id="OUS", marketplace_id="DE"),  # own wins -> DE
    ]
    wh = warehouse({"sellers": sellers(("S1", "US"), ("S1", "DE")), "orders": orders, "buyer_messages": msgs})
    df = compute_metrics(wh, date(2024, 3, 20))
    rows = df[(df.metric == "late_response_rate")].set_index("marketplace_id")
    assert (rows.loc["DE", "numerator"], rows.loc["DE", "denominator"]) == (3, 3)
    assert (rows.loc["US", "numerator"], rows.loc["US", "denominator"]) == (1, 1)


def test_c19_cancellation_after_delivery_is_not_pre_fulfillment():
    # FIXED BUG: was — "before shipping" is judged on confirmed_at only. M1's shipment has no confirmation
    # time but was scanned by the carrier and delivered (May 6-7) before the seller cancelled it (May 8):
    # the order was fulfilled, yet it counts as a pre-fulfillment cancellation (1/2 instead of 0/2).
    # (records._cancelled_before_shipping ignores first_scan_at / delivered_at.)
    orders = [order("M1", "2024-05-05T18:00:00Z"), order("M2", "2024-05-05T18:00:00Z")]
    ships = [
        ship("M1", confirmed=None, delivered="2024-05-07T18:00:00Z", first_scan_at="2024-05-06T18:00:00Z")
    ]
    cancellations = [canc("M1", "2024-05-08T18:00:00Z", "seller")]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US")),
            "orders": orders,
            "shipments": ships,
            "cancellations": cancellations,
        }
    )
    r = value(compute_metrics(wh, date(2024, 5, 10)), "pre_fulfillment_cancel_rate")
    assert counts(r) == (0, 2)


def test_c18_long_response_limit_is_pending_across_a_dst_change():
    # FIXED BUG (minor, response_hours > 168 only): was — local days of derived instants (received +
    # response_hours) use offsets only inside the data span padded by 7 days. Message received
    # 2024-03-01T07:30Z (23:30 PST Feb 29); with response_hours = 240 its limit is 2024-03-11T07:30Z =
    # 00:30 PDT Mar 11 (DST began Mar 10). As of Mar 10 it is still pending (0/0); the product computes
    # the limit's day with PST (23:30 Mar 10) and already counts it late (1/1).
    orders = [order("O1", "2024-02-28T18:00:00Z")]
    msgs = [msg("M", "2024-03-01T07:30:00Z", marketplace_id="US")]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "buyer_messages": msgs})
    opt = MetricOptions(response_hours=240)
    assert counts(value(compute_metrics(wh, date(2024, 3, 10), opt), "late_response_rate")) == (0, 0)
    assert counts(value(compute_metrics(wh, date(2024, 3, 11), opt), "late_response_rate")) == (1, 1)


# -- satisfaction ------------------------------------------------------------------------------------


def test_customer_satisfaction_removed_shared_and_window_edges():
    # as_of 2024-06-30, 90 days: Apr 2 .. Jun 30 (29 + 31 + 30). Points 1*=0 .. 5*=100.
    orders = [order(f"O{i}", "2024-03-15T18:00:00Z") for i in range(1, 8)]
    feedback = [
        fb("O1", 5, "2024-06-01T00:00:00Z"),  # 100
        fb("O2", 4, "2024-06-01T00:00:00Z"),  # 75
        fb("O3", 3, "2024-06-01T00:00:00Z"),  # 50
        fb("O4", 1, "2024-06-01T00:00:00Z", removed_at="2024-06-02T00:00:00Z"),  # removed: excluded
        fb("O5", 2, "2024-06-01T00:00:00Z", is_shared=True),  # shared: excluded by default
        fb("O6", 1, "2024-04-02T06:30:00Z"),  # 23:30 PDT Apr 1: outside
        fb("O7", 2, "2024-04-02T07:30:00Z"),  # 00:30 PDT Apr 2: first day, 25
    ]
    wh = warehouse({"sellers": sellers(("S1", "US")), "orders": orders, "feedback": feedback})
    r = value(compute_metrics(wh, date(2024, 6, 30)), "customer_satisfaction_index")
    # (100 + 75 + 50 + 25) / 4 = 62.5
    assert r["denominator"] == 4 and r["value"] == pytest.approx(62.5)
    # negative feedback is dated by the ORDER (Mar 15, in the 60-day window ending May 13), and the
    # removed (O4) and shared (O5) ratings are not defects: O6 (1*) and O7 (2*) -> 2/7
    nf = value(compute_metrics(wh, date(2024, 5, 13)), "negative_feedback_rate", channel="all")
    assert counts(nf) == (2, 7)


# -- sellers: start, tenure, several marketplaces -----------------------------------------------------


def test_seller_registered_after_as_of_and_tenure_in_local_days():
    sell = [
        {"seller_id": "S1", "marketplace_id": "US", "registered_at": "2024-01-01T07:59:00Z"},  # Dec 31 PST
        {"seller_id": "FUT", "marketplace_id": "US", "registered_at": "2024-07-15T12:00:00Z"},  # after as_of
        {"seller_id": "INC", "marketplace_id": "US", "registered_at": "2024-07-15T12:00:00Z"},  # but ordered
    ]
    orders = [order("O1", "2024-06-10T18:00:00Z"), order("X", "2024-06-10T18:00:00Z", seller="INC")]
    df = compute_metrics(warehouse({"sellers": sell, "orders": orders}), date(2024, 6, 30))
    assert "FUT" not in set(df.seller_id)  # starts after the as-of date: left out
    # S1: Dec 31 2023 -> Jun 30 2024 = 31+29+31+30+31+30 = 182 days
    assert value(df, "tenure_days")["value"] == 182
    # INC: the first order (Jun 10) precedes the recorded registration -> 20 days
    assert value(df, "tenure_days", seller="INC")["value"] == 20


def test_same_seller_id_in_two_marketplaces_is_two_sellers():
    orders = [
        order("U1", "2024-06-10T18:00:00Z", mp="US"),
        order("U2", "2024-06-11T18:00:00Z", mp="US"),
        order("D1", "2024-06-12T10:00:00Z", "AFN", mp="DE"),
    ]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US"), ("S1", "DE")),
            "orders": orders,
            "feedback": [fb("U1", 1), fb("D1", 2)],
        }
    )
    df = compute_metrics(wh, date(2024, 6, 30))
    odr = df[(df.metric == "order_defect_rate") & (df.channel == "all")].set_index("marketplace_id")
    assert (odr.loc["US", "numerator"], odr.loc["US", "denominator"]) == (1, 2)
    assert (odr.loc["DE", "numerator"], odr.loc["DE", "denominator"]) == (1, 1)
    oc = df[(df.metric == "order_count") & (df.window_days == 30) & (df.channel == "all")]
    assert oc.set_index("marketplace_id")["value"].to_dict() == {"DE": 1, "US": 2}
    de_afn = df[(df.metric == "order_count") & (df.window_days == 30) & (df.channel == "afn")]
    assert de_afn.set_index("marketplace_id")["value"].to_dict() == {"DE": 1, "US": 0}


# -- C23: small and zero denominators end to end --------------------------------------------------------


def test_c23_small_denominators_from_raw_records_to_policy():
    from cxops.policy import evaluate_policy, loads_policy

    prom = "2024-06-11T06:59:59Z"  # end of Jun 10 PDT
    orders = [order("OLD", "2023-01-05T18:00:00Z")]  # S1: one order long before every window
    ships = []
    # S2: 7 deliveries, 6 on time + 1 late -> 6/7 = 85.71 %
    for i in range(7):
        orders.append(order(f"T{i}", "2024-06-05T18:00:00Z", seller="S2", latest_delivery_at=prom))
        day = "2024-06-09T18:00:00Z" if i < 6 else "2024-06-12T18:00:00Z"
        ships.append(ship(f"T{i}", confirmed="2024-06-06T18:00:00Z", delivered=day, seller="S2"))
    # S3: 9 MFN orders, ship-by end of Jun 10 PDT; 1 cancelled before shipping, 2 late, 6 on time
    for i in range(9):
        orders.append(order(f"L{i}", "2024-06-05T18:00:00Z", seller="S3", latest_ship_at=prom))
        if i == 0:
            continue
        conf = "2024-06-12T18:00:00Z" if i in (1, 2) else "2024-06-09T18:00:00Z"
        ships.append(ship(f"L{i}", confirmed=conf, seller="S3"))
    cancellations = [canc("L0", "2024-06-06T18:00:00Z", "seller", seller="S3")]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US"), ("S2", "US"), ("S3", "US")),
            "orders": orders,
            "shipments": ships,
            "cancellations": cancellations,
        }
    )
    df = compute_metrics(wh, date(2024, 6, 30))
    s1 = value(df, "on_time_delivery_rate", seller="S1", window=30, channel="all")
    assert s1["status"] == "no_data" and pd.isna(s1["value"])
    s2 = value(df, "on_time_delivery_rate", seller="S2", window=30, channel="all")
    assert counts(s2) == (6, 7) and round(s2["value"] * 100, 2) == 85.71
    s3 = value(df, "late_shipment_rate", seller="S3", window=30)
    assert counts(s3) == (2, 8) and s3["value"] == 0.25
    p = loads_policy(
        textwrap.dedent(
            """
            name = "t"
            version = "1"
            effective_from = 2024-01-01
            [[admission.criteria]]
            id = "otdr"
            metric = "on_time_delivery_rate"
            window_days = 30
            operator = ">="
            threshold = 0.95
            min_denominator = 1
            [[removal.rules]]
            id = "suspend"
            metric = "late_shipment_rate"
            window_days = 30
            operator = ">"
            threshold = 0.10
            min_denominator = 10
            """
        )
    )
    res = evaluate_policy(p, df).set_index(["seller_id", "criterion_id"])
    assert res.loc[("S1", "otdr"), "result"] == "insufficient_data"
    assert res.loc[("S2", "otdr"), "result"] == "fail"
    assert res.loc[("S3", "suspend"), "result"] == "insufficient_data"  # 8 < 10: rule not applied
    assert res.loc[("S3", "suspend"), "value"] == pytest.approx(0.25)  # but the rate is shown
    # two more on-time deliveries for S2: 8/9 = 88.89 %
    more = [
        ship(f"T{i}", confirmed="2024-06-06T18:00:00Z", delivered="2024-06-09T18:00:00Z", seller="S2")
        for i in (7, 8)
    ]
    more_orders = [
        order(f"T{i}", "2024-06-05T18:00:00Z", seller="S2", latest_delivery_at=prom) for i in (7, 8)
    ]
    wh2 = warehouse(
        {
            "sellers": sellers(("S1", "US"), ("S2", "US"), ("S3", "US")),
            "orders": orders + more_orders,
            "shipments": ships + more,
            "cancellations": cancellations,
        }
    )
    s2 = value(
        compute_metrics(wh2, date(2024, 6, 30)),
        "on_time_delivery_rate",
        seller="S2",
        window=30,
        channel="all",
    )
    assert counts(s2) == (8, 9) and round(s2["value"] * 100, 2) == 88.89


# -- C26: multi-seller order ---------------------------------------------------------------------------


def test_c26_multi_seller_order_lateness_and_review_stay_with_their_seller():
    # O3 has items from S1 (on time) and S2 (2 days late); one shared 1* review.
    sb = "2024-05-06T06:00:00Z"  # ship-by 23:00 PDT May 5
    orders = [
        order("O1", "2024-05-01T18:00:00Z", latest_ship_at=sb),
        order("O2", "2024-05-01T18:00:00Z", latest_ship_at=sb),
        order("O3", "2024-05-01T18:00:00Z", latest_ship_at=sb),
        order("O3", "2024-05-01T18:00:00Z", seller="S2", latest_ship_at=sb),
    ]
    ships = [
        ship("O1", confirmed="2024-05-03T06:00:00Z"),  # 3 days early
        ship("O2", confirmed="2024-05-08T06:00:00Z"),  # 2 days late
        ship("O3", confirmed="2024-05-04T06:00:00Z"),  # S1's part on time
        ship("O3", confirmed="2024-05-08T06:00:00Z", seller="S2"),  # S2's part late
    ]
    feedback = [fb("O3", 1, "2024-05-10T00:00:00Z", is_shared=True, seller=s) for s in ("S1", "S2")]
    wh = warehouse(
        {
            "sellers": sellers(("S1", "US"), ("S2", "US")),
            "orders": orders,
            "shipments": ships,
            "feedback": feedback,
        }
    )
    df = compute_metrics(wh, date(2024, 5, 10))
    assert counts(value(df, "late_shipment_rate", window=10)) == (1, 3)  # S1: O2 late of O1, O2, O3
    assert counts(value(df, "late_shipment_rate", seller="S2", window=10)) == (1, 1)
    assert value(df, "customer_satisfaction_index")["status"] == "no_data"  # shared review excluded
    assert counts(value(df, "negative_feedback_rate", channel="all")) == (0, 3)


# -- header-only optional tables -------------------------------------------------------------------------

HEADERS = {
    "shipments": "seller_id,order_id,shipment_id,confirmed_at,carrier,tracking_id,first_scan_at,"
    "delivered_at,units",
    "cancellations": "seller_id,order_id,cancelled_at,initiated_by,reason,via_buyer_request",
    "feedback": "seller_id,order_id,rating,submitted_at,removed_at,is_shared,comment",
    "claims": "seller_id,order_id,claim_id,kind,filed_at,decision,decided_at,is_fraud",
    "buyer_messages": "seller_id,message_id,received_at,order_id,thread_id,first_response_at,"
    "no_response_needed,is_auto_reply",
    "violations": "seller_id,marketplace_id,violation_id,kind,reported_at,severity,is_warning,resolved_at",
}
ORDERS_HDR = "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
ONE_ORDER = ORDERS_HDR + "S1,O1,US,2024-03-01T10:00:00Z,MFN\n"
SELLERS_CSV = "seller_id,marketplace_id,registered_at\nS1,US,2024-01-01T12:00:00Z\n"
ORDERS_CSV = (
    "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,latest_ship_at,latest_delivery_at\n"
    "S1,O1,US,2024-06-25T18:00:00Z,MFN,2024-06-28T06:59:59Z,2024-07-03T06:59:59Z\n"
    "S1,O2,US,2024-06-26T18:00:00Z,MFN,2024-06-29T06:59:59Z,2024-07-04T06:59:59Z\n"
)


def write_dir(d: Path, files: dict[str, str | bytes]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        p = d / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return d


def test_header_only_optional_tables_mean_measured_with_no_rows(tmp_path):
    d = write_dir(
        tmp_path / "in",
        {
            "sellers.csv": SELLERS_CSV,
            "orders.csv": ORDERS_CSV,
            **{f"{t}.csv": h + "\n" for t, h in HEADERS.items()},
        },
    )
    wh = connect("memory")
    rep = import_canonical(wh, d)
    for t in HEADERS:
        e = rep.entry(t)
        assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (0, 0, 0)
    df = compute_metrics(wh, date(2024, 6, 30))
    # feedback and claims present, empty: ODR = 0/2 = 0 % (measured), not "not measured"
    for m in ("order_defect_rate", "negative_feedback_rate", "a_to_z_claim_rate", "chargeback_rate"):
        r = value(df, m, channel="all")
        assert (r["status"], *counts(r), r["value"]) == ("ok", 0, 2, 0.0), m
    r = value(df, "pre_fulfillment_cancel_rate")
    assert (r["status"], *counts(r)) == ("ok", 0, 2)
    # shipments present with no rows: both MFN orders are unconfirmed past ship-by -> late 2/2
    assert counts(value(df, "late_shipment_rate", window=10)) == (2, 2)
    for m, w in (("valid_tracking_rate", 30), ("on_time_delivery_rate", 30)):
        ch = "mfn" if m == "valid_tracking_rate" else "all"
        assert value(df, m, window=w, channel=ch)["status"] == "no_data", m
    for m in ("late_response_rate", "median_first_response_hours", "customer_satisfaction_index"):
        assert value(df, m)["status"] == "no_data", m
    w = value(df, "account_health_warnings")
    assert (w["status"], w["value"]) == ("ok", 0)
    # the same data without those files: not measured, never 0
    wh2 = connect("memory")
    import_canonical(wh2, write_dir(tmp_path / "in2", {"sellers.csv": SELLERS_CSV, "orders.csv": ORDERS_CSV}))
    df2 = compute_metrics(wh2, date(2024, 6, 30))
    for m in (
        "order_defect_rate",
        "pre_fulfillment_cancel_rate",
        "late_response_rate",
        "account_health_warnings",
    ):
        assert set(df2[df2.metric == m].status) == {"not_measured"}, m


# == 2. Bad input ========================================================================================


def imp(tmp_path, files, name="in", wh=None):
    wh = wh or connect("memory")
    d = write_dir(tmp_path / name, {"sellers.csv": SELLERS_CSV, **files})
    return wh, import_canonical(wh, d)


def check_invariant(rep):
    for e in rep.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined, e


def q_of(rep, table):
    q = rep.quarantined[rep.quarantined["table"] == table]
    return {int(r): (c, why) for r, c, why in zip(q["row"], q["column"], q["reason"], strict=True)}


def test_bom_and_crlf_are_read_cleanly(tmp_path):
    sellers_b = b"\xef\xbb\xbf" + SELLERS_CSV.replace("\n", "\r\n").encode()
    orders_b = (
        b"seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,category\r\n"
        b'S1,O1,US,2024-03-01T10:00:00Z,MFN,"toys, games"\r\n'
        b"S1,O2,US,2024-03-02T10:00:00Z,AFN,kitchen\r\n"
    )
    wh, rep = imp(tmp_path, {"sellers.csv": sellers_b, "orders.csv": orders_b})
    check_invariant(rep)
    assert rep.quarantined.empty
    o = wh.execute(wh.table("orders")).set_index("order_id")
    assert list(o.seller_id) == ["S1", "S1"]  # not "\ufeffS1"
    assert o.loc["O1", "category"] == "toys, games" and o.loc["O2", "category"] == "kitchen"
    s = wh.execute(wh.table("sellers"))
    assert list(s.columns[:1]) == ["seller_id"] and s.seller_id.tolist() == ["S1"]


def test_mixed_date_formats_are_quarantined_never_guessed(tmp_path):
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN\n"  # row 2 ok
        "S1,O2,US,03/01/2024 10:00,MFN\n"  # row 3: US style -> quarantined
        "S1,O3,US,2024-03-01T19:00:00+09:00,MFN\n"  # row 4: offset -> 10:00 UTC
        "S1,O4,US,01.03.2024,MFN\n"  # row 5: DE style -> quarantined
        "S1,O5,US,2024-02-30T10:00:00Z,MFN\n"  # row 6: no such day -> quarantined
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    check_invariant(rep)
    q = q_of(rep, "orders")
    assert set(q) == {3, 5, 6}
    assert all(c == "purchased_at" for c, _ in q.values())
    assert "03/01/2024 10:00" in q[3][1]
    o = wh.execute(wh.table("orders")).set_index("order_id")
    assert o.loc["O3", "purchased_at"] == pd.Timestamp("2024-03-01 10:00:00")
    assert rep.quarantined["file"].str.endswith("orders.csv").all()


def test_offsets_and_naive_timestamps(tmp_path):
    # +09:00 and -03:00 are converted to UTC; a naive value is UTC by the canonical contract
    # (docs/interfaces.md "Instants are UTC", validate.parse_timestamp_utc).
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,J,JP,2024-03-01T09:00:00+09:00,MFN\n"
        "S1,B,BR,2024-02-29T21:00:00-03:00,MFN\n"
        "S1,N,US,2024-03-01 00:00:00,MFN\n"
        "S1,Z,US,2024-03-01T00:00:00Z,MFN\n"
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    assert rep.quarantined.empty
    o = wh.execute(wh.table("orders")).set_index("order_id")["purchased_at"]
    assert set(o) == {pd.Timestamp("2024-03-01 00:00:00")}


def test_extra_columns_are_ignored_and_reported(tmp_path):
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,internal_note,Rating\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,secret,5\n"
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    assert rep.entry("orders").rows_loaded == 1
    assert "internal_note" not in wh.execute(wh.table("orders")).columns
    assert any("internal_note" in n and "Rating" in n for n in rep.notes)


def test_wrong_types_are_quarantined_with_row_and_column(tmp_path):
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,latest_ship_at,units,order_total,is_premium\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,2024-03-03T10:00:00Z,2,10.5,true\n"  # row 2 ok
        "S1,O2,US,2024-03-01T10:00:00Z,MFN,tomorrow,2,10.5,true\n"  # row 3 latest_ship_at
        "S1,O3,US,2024-03-01T10:00:00Z,MFN,,two,10.5,true\n"  # row 4 units
        'S1,O4,US,2024-03-01T10:00:00Z,MFN,,2,"12,50",true\n'  # row 5 order_total
        "S1,O5,US,2024-03-01T10:00:00Z,MFN,,2,10.5,maybe\n"  # row 6 is_premium
        "S1,O6,US,2024-03-01T10:00:00Z,FBA,,2,10.5,false\n"  # row 7 fulfillment_channel
        "S1,O7,US,2024-03-01T10:00:00Z,MFN,,1.5,10.5,false\n"  # row 8 units (not an integer)
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    check_invariant(rep)
    q = q_of(rep, "orders")
    assert {r: c for r, (c, _) in q.items()} == {
        3: "latest_ship_at",
        4: "units",
        5: "order_total",
        6: "is_premium",
        7: "fulfillment_channel",
        8: "units",
    }
    assert rep.entry("orders").rows_loaded == 1


def test_negative_quantities_are_quarantined(tmp_path):
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,units,order_total\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,-1,10\n"
        "S1,O2,US,2024-03-01T10:00:00Z,MFN,1,-10\n"
        "S1,O3,US,2024-03-01T10:00:00Z,MFN,1,10\n"
    )
    items = "seller_id,order_id,line_id,quantity,unit_price\nS1,O3,1,-2,5\nS1,O3,2,1,-5\nS1,O3,3,1,5\n"
    shipments = "seller_id,order_id,shipment_id,confirmed_at,units\nS1,O3,P1,2024-03-02T10:00:00Z,-1\n"
    wh, rep = imp(tmp_path, {"orders.csv": orders, "order_items.csv": items, "shipments.csv": shipments})
    check_invariant(rep)
    assert {r: c for r, (c, _) in q_of(rep, "orders").items()} == {2: "units", 3: "order_total"}
    assert {r: c for r, (c, _) in q_of(rep, "order_items").items()} == {2: "quantity", 3: "unit_price"}
    assert {r: c for r, (c, _) in q_of(rep, "shipments").items()} == {2: "units"}
    assert "below minimum" in q_of(rep, "order_items")[2][1]


def test_ratings_outside_one_to_five_or_fractional_are_quarantined(tmp_path):
    orders = "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n" + "".join(
        f"S1,O{i},US,2024-03-01T10:00:00Z,MFN\n" for i in range(6)
    )
    feedback = (
        "seller_id,order_id,rating,submitted_at\n"
        "S1,O0,0,2024-03-05T10:00:00Z\n"
        "S1,O1,6,2024-03-05T10:00:00Z\n"
        "S1,O2,4.5,2024-03-05T10:00:00Z\n"
        "S1,O3,four,2024-03-05T10:00:00Z\n"
        "S1,O4,,2024-03-05T10:00:00Z\n"
        "S1,O5,5,2024-03-05T10:00:00Z\n"
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders, "feedback.csv": feedback})
    check_invariant(rep)
    q = q_of(rep, "feedback")
    assert set(q) == {2, 3, 4, 5, 6} and all(c == "rating" for c, _ in q.values())
    assert "'4.5'" in q[4][1]
    assert wh.execute(wh.table("feedback")).rating.tolist() == [5]


def test_row_level_orderings_are_quarantined(tmp_path):
    orders = ONE_ORDER
    files = {
        "orders.csv": orders,
        "feedback.csv": "seller_id,order_id,rating,submitted_at,removed_at\n"
        "S1,O1,1,2024-03-05T10:00:00Z,2024-03-04T10:00:00Z\n",
        "claims.csv": "seller_id,order_id,claim_id,kind,filed_at,decision,decided_at\n"
        "S1,O1,C1,a_to_z,2024-03-05T10:00:00Z,granted,2024-03-01T10:00:00Z\n",
        "buyer_messages.csv": "seller_id,message_id,received_at,first_response_at\n"
        "S1,M1,2024-03-05T10:00:00Z,2024-03-05T09:00:00Z\n",
    }
    wh, rep = imp(tmp_path, files)
    check_invariant(rep)
    assert q_of(rep, "feedback")[2][0] == "removed_at"
    assert q_of(rep, "claims")[2][0] == "decided_at"
    assert q_of(rep, "buyer_messages")[2][0] == "first_response_at"


def test_duplicate_keys_within_a_file_and_across_two_imports(tmp_path):
    orders1 = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-06-01T18:00:00Z,MFN\n"
        "S1,O2,US,2024-06-02T18:00:00Z,MFN\n"
        "S1, O1 ,US,2024-06-03T18:00:00Z,AFN\n"  # same key after trimming: quarantined (first at row 2)
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders1}, "one")
    check_invariant(rep)
    q = q_of(rep, "orders")
    assert list(q) == [4] and "duplicate key" in q[4][1] and "row 2" in q[4][1]
    # a second import replaces O1 by key and adds O3; nothing is counted twice
    orders2 = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-06-01T18:00:00Z,AFN\n"
        "S1,O3,US,2024-06-04T18:00:00Z,MFN\n"
    )
    _, rep2 = imp(tmp_path, {"orders.csv": orders2}, "two", wh=wh)
    e = rep2.entry("orders")
    assert (e.inserted, e.replaced) == (1, 1)
    _, rep3 = imp(tmp_path, {"orders.csv": orders2}, "two", wh=wh)  # the same file again: idempotent
    assert (rep3.entry("orders").inserted, rep3.entry("orders").replaced) == (0, 2)
    o = wh.execute(wh.table("orders")).set_index("order_id")
    assert sorted(o.index) == ["O1", "O2", "O3"] and o.loc["O1", "fulfillment_channel"] == "AFN"
    assert len(wh.execute(wh.table("sellers"))) == 1
    df = compute_metrics(wh, date(2024, 6, 30))
    oc = df[(df.metric == "order_count") & (df.window_days == 30)].set_index("channel")["value"]
    assert oc.to_dict() == {"afn": 1, "all": 3, "mfn": 2}


def test_unknown_marketplace_in_sellers_and_orders_is_quarantined(tmp_path):
    sellers_csv = "seller_id,marketplace_id\nS1,US\nS2,XX\nS3,us\n"
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN\n"
        "S1,O2,ATLANTIS,2024-03-01T10:00:00Z,MFN\n"
    )
    wh, rep = imp(tmp_path, {"sellers.csv": sellers_csv, "orders.csv": orders})
    check_invariant(rep)
    assert {r: c for r, (c, _) in q_of(rep, "sellers").items()} == {3: "marketplace_id", 4: "marketplace_id"}
    assert {r: c for r, (c, _) in q_of(rep, "orders").items()} == {3: "marketplace_id"}
    assert "unknown marketplace 'ATLANTIS'" in q_of(rep, "orders")[3][1]


def test_empty_zero_byte_file_is_a_clear_error_and_writes_nothing(tmp_path):
    d = write_dir(
        tmp_path / "in",
        {"sellers.csv": SELLERS_CSV, "orders.csv": ORDERS_CSV, "feedback.csv": b""},
    )
    wh = connect("memory")
    with pytest.raises(IngestError, match=r"feedback\.csv.*empty"):
        import_canonical(wh, d)
    assert not wh.has_table("orders")
    # through the CLI: exit code 1, message, no traceback
    res = CliRunner().invoke(
        app,
        [
            "import",
            "canonical",
            str(d),
            "-w",
            str(tmp_path / "w.duckdb"),
            "--quarantine",
            str(tmp_path / "q"),
        ],
    )
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "empty" in res.output


def test_header_only_required_orders_file(tmp_path):
    wh, rep = imp(
        tmp_path, {"orders.csv": "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"}
    )
    e = rep.entry("orders")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (0, 0, 0)
    df = compute_metrics(wh, date(2024, 6, 30))
    r = value(df, "order_count", window=30, channel="all")
    assert r["value"] == 0  # the registered seller is still there, with no orders


def test_parquet_with_wrong_column_types_is_quarantined(tmp_path):
    d = write_dir(tmp_path / "pq", {"sellers.csv": SELLERS_CSV})
    pd.DataFrame(
        {
            "seller_id": ["S1"] * 4,
            "order_id": ["O1", "O2", "O3", "O4"],
            "marketplace_id": ["US"] * 4,
            # epoch seconds are not an instant of the contract
            "purchased_at": [1709280000, 1709280000, 1709280000, 1709280000],
            "fulfillment_channel": ["MFN"] * 4,
        }
    ).to_parquet(d / "orders.parquet", index=False)
    pd.DataFrame(
        {
            "seller_id": ["S1", "S1"],
            "order_id": ["O1", "O2"],
            "rating": [4.5, 3.0],
            "submitted_at": pd.to_datetime(["2024-03-05T10:00:00", "2024-03-05T10:00:00"]).tz_localize(
                "Asia/Tokyo"
            ),
        }
    ).to_parquet(d / "feedback.parquet", index=False)
    wh = connect("memory")
    rep = import_canonical(wh, d)
    check_invariant(rep)
    q = q_of(rep, "orders")
    assert set(q) == {1, 2, 3, 4} and {c for c, _ in q.values()} == {"purchased_at"}
    assert q_of(rep, "feedback") == {1: ("rating", q_of(rep, "feedback")[1][1])}
    f = wh.execute(wh.table("feedback"))
    assert f.rating.tolist() == [3]
    assert f.submitted_at.tolist() == [pd.Timestamp("2024-03-05T01:00:00")]  # 10:00 JST = 01:00 UTC


def test_parquet_boolean_rating_is_not_coerced_to_one_star(tmp_path):
    # FIXED BUG: was — a Parquet ``rating`` column of booleans is loaded as 1 (True -> 1*), i.e. a
    # negative feedback invented from a wrong-typed column; it must be quarantined ("not a valid int").
    d = write_dir(tmp_path / "pq", {"sellers.csv": SELLERS_CSV})
    pd.DataFrame(
        {
            "seller_id": ["S1"],
            "order_id": ["O1"],
            "marketplace_id": ["US"],
            "purchased_at": ["2024-03-01T10:00:00Z"],
            "fulfillment_channel": ["MFN"],
        }
    ).to_parquet(d / "orders.parquet", index=False)
    pd.DataFrame(
        {"seller_id": ["S1"], "order_id": ["O1"], "rating": [True], "submitted_at": ["2024-03-05T10:00:00Z"]}
    ).to_parquet(d / "feedback.parquet", index=False)
    wh = connect("memory")
    rep = import_canonical(wh, d)
    check_invariant(rep)
    assert rep.entry("feedback").rows_quarantined == 1
    assert len(wh.execute(wh.table("feedback"))) == 0


def test_duplicate_header_after_trimming_is_a_clear_error_not_a_crash(tmp_path):
    # FIXED BUG: was — " seller_id" and "seller_id" both become "seller_id" after trimming; validate() then
    # gets a DataFrame for df["seller_id"] and dies with AttributeError (a traceback from the CLI).
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel, seller_id\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,S2\n"
    )
    d = write_dir(tmp_path / "in", {"sellers.csv": SELLERS_CSV, "orders.csv": orders})
    with pytest.raises((IngestError, SchemaError), match=r"orders\.csv.*seller_id"):
        import_canonical(connect("memory"), d)


def test_row_with_an_extra_field_does_not_shift_every_row(tmp_path):
    # FIXED BUG: was — pandas takes the first column as an index when a row has one field more than the
    # header, so every row shifts one column left: the valid row O2 is quarantined as
    # "purchased_at: not a valid timestamp: 'MFN'" and row 2's real problem (6 fields for 5 columns) is
    # never named. Expected: a clear error naming the file and line, or row 2 quarantined and O2 loaded.
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,extra\n"
        "S1,O2,US,2024-03-01T10:00:00Z,MFN\n"
    )
    d = write_dir(tmp_path / "in", {"sellers.csv": SELLERS_CSV, "orders.csv": orders})
    wh = connect("memory")
    try:
        rep = import_canonical(wh, d)
    except IngestError as e:
        assert "orders.csv" in str(e)
        return
    check_invariant(rep)
    assert "O2" in set(wh.execute(wh.table("orders")).order_id)
    assert 3 not in q_of(rep, "orders")


def test_invalid_time_zone_in_marketplaces_file_is_quarantined_at_import(tmp_path):
    # Was a product bug: marketplaces.timezone was not checked against the IANA database (the row
    # loaded, and every later metrics run failed with ZoneInfoNotFoundError).
    files = {
        "marketplaces.csv": "marketplace_id,timezone,country\n"
        "ZZ,Mars/Olympus,ZZ\nUS,America/Los_Angeles,US\n",
        "orders.csv": "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN\nS1,O2,ZZ,2024-03-01T10:00:00Z,MFN\n",
    }
    wh, rep = imp(tmp_path, files)
    check_invariant(rep)
    q = q_of(rep, "marketplaces")
    assert q.get(2, (None,))[0] == "timezone"
    # whatever happens to ZZ, metrics for the valid US data must still compute
    df = compute_metrics(wh, date(2024, 3, 31))
    # O1 is 02:00 Pacific on March 1: in the 90-day window, not in the 30 days from March 2
    assert value(df, "order_count", window=90, channel="all", seller="S1")["value"] == 1


def test_cli_import_messy_directory_reports_and_writes_quarantine(tmp_path):
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN\n"
        "S1,O2,US,yesterday,MFN\n"
        "S1,O3,ZZ,2024-03-01T10:00:00Z,MFN\n"
        ",O4,US,2024-03-01T10:00:00Z,MFN\n"
    )
    feedback = (
        "seller_id,order_id,rating,submitted_at\nS1,O1,6,2024-03-05T10:00:00Z\nS1,O9,2,2024-03-05T10:00:00Z\n"
    )
    d = write_dir(
        tmp_path / "in", {"sellers.csv": SELLERS_CSV, "orders.csv": orders, "feedback.csv": feedback}
    )
    qdir = tmp_path / "q"
    res = CliRunner().invoke(
        app, ["import", "canonical", str(d), "-w", str(tmp_path / "w.duckdb"), "--quarantine", str(qdir)]
    )
    assert res.exit_code == 0, res.output
    q = pd.read_csv(qdir / "orders.csv", dtype=str)
    assert list(q.columns) == ["table", "file", "row", "column", "reason", "record"]
    assert dict(zip(q["row"], q["column"], strict=True)) == {
        "3": "purchased_at",
        "4": "marketplace_id",
        "5": "seller_id",
    }
    assert json.loads(q.set_index("row").loc["3", "record"])["order_id"] == "O2"
    fq = pd.read_csv(qdir / "feedback.csv", dtype=str)
    rows = dict(zip(fq["row"], fq["reason"], strict=True))
    assert "above maximum" in rows["2"]
    assert rows["3"].startswith("warning: ")  # orphan O9 loaded and flagged
    wh = connect(str(tmp_path / "w.duckdb"))
    assert wh.execute(wh.table("orders")).order_id.tolist() == ["O1"]
    assert wh.execute(wh.table("feedback")).order_id.tolist() == ["O9"]


def test_vtr_second_source_without_scan_column_is_not_computed_from_blanks(tmp_path):
    # FIXED BUG: was — provided columns are unioned over every import. Source 1 (seller A) gives carrier
    # scans; source 2 (seller B) never provides first_scan_at/carrier. B's shipments are then judged
    # against the blank scan column: VTR 0/1 although B's shipment has a tracking id. README: "a metric
    # that needs a column the source never provided is 'not measured' rather than computed from blanks".
    # Expected for B: 1/1 (tracking id only) or not measured; never 0 %.
    s1 = "seller_id,marketplace_id\nA,US\n"
    o1 = ORDERS_HDR + "A,A1,US,2024-05-10T18:00:00Z,MFN\n"
    sh1 = (
        "seller_id,order_id,shipment_id,confirmed_at,carrier,tracking_id,first_scan_at\n"
        "A,A1,1,2024-05-11T18:00:00Z,UPS,1ZA,2024-05-11T20:00:00Z\n"
    )
    s2 = "seller_id,marketplace_id\nB,US\n"
    o2 = ORDERS_HDR + "B,B1,US,2024-05-10T18:00:00Z,MFN\n"
    sh2 = "seller_id,order_id,shipment_id,confirmed_at,tracking_id\nB,B1,1,2024-05-11T18:00:00Z,1ZB\n"
    wh = connect("memory")
    import_canonical(
        wh, write_dir(tmp_path / "a", {"sellers.csv": s1, "orders.csv": o1, "shipments.csv": sh1})
    )
    import_canonical(
        wh, write_dir(tmp_path / "b", {"sellers.csv": s2, "orders.csv": o2, "shipments.csv": sh2})
    )
    df = compute_metrics(wh, date(2024, 5, 31))
    assert counts(value(df, "valid_tracking_rate", seller="A")) == (1, 1)
    b = value(df, "valid_tracking_rate", seller="B")
    assert b["status"] == "not_measured" or counts(b) == (1, 1), b


def test_buyer_messages_without_the_optional_order_id_column_import(tmp_path):
    # FIXED BUG: was — order_id is optional in buyer_messages (schema: not required), but a file without the
    # column makes the orphan check do loaded[["seller_id", "order_id"]] -> KeyError
    # "['order_id'] not in index"; the CLI prints that and imports nothing.
    orders = ONE_ORDER
    msgs = "seller_id,message_id,received_at,first_response_at\n"
    msgs += "S1,M1,2024-03-02T10:00:00Z,2024-03-02T12:00:00Z\n"
    d = write_dir(
        tmp_path / "in", {"sellers.csv": SELLERS_CSV, "orders.csv": orders, "buyer_messages.csv": msgs}
    )
    wh = connect("memory")
    rep = import_canonical(wh, d)
    assert rep.entry("buyer_messages").rows_loaded == 1
    r = value(compute_metrics(wh, date(2024, 3, 20)), "late_response_rate")
    assert counts(r) == (0, 1)


def test_late_response_rate_is_not_computed_from_a_reply_column_the_source_never_had(tmp_path):
    # FIXED BUG: was — _measured() only checks that buyer_messages is present. A source without
    # first_response_at makes every message "unanswered": late_response_rate = 2/2 = 100 % for a seller
    # who may have answered everything. README: a metric "whose source does not provide the columns it
    # needs, is not measured — never 0" (and never 100 % either).
    orders = ONE_ORDER
    msgs = "seller_id,message_id,received_at,order_id\n"
    msgs += "S1,M1,2024-03-02T10:00:00Z,O1\nS1,M2,2024-03-03T10:00:00Z,O1\n"
    wh, rep = imp(tmp_path, {"orders.csv": orders, "buyer_messages.csv": msgs})
    assert rep.entry("buyer_messages").rows_loaded == 2
    r = value(compute_metrics(wh, date(2024, 3, 20)), "late_response_rate")
    assert r["status"] == "not_measured", r


def test_non_finite_order_total_is_quarantined(tmp_path):
    # FIXED BUG (minor): was — "inf" parses as a float and passes "min 0", so an infinite order total is
    # loaded silently ("NaN" is rejected as "not a valid float"; "inf" should be too).
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,order_total\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,inf\n"
        "S1,O2,US,2024-03-01T10:00:00Z,MFN,NaN\n"
        "S1,O3,US,2024-03-01T10:00:00Z,MFN,9.99\n"
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    check_invariant(rep)
    assert {r: c for r, (c, _) in q_of(rep, "orders").items()} == {2: "order_total", 3: "order_total"}


def test_integer_overflow_is_not_reported_as_below_minimum(tmp_path):
    # FIXED BUG (minor): was — units = 99999999999999999999 overflows the Int64 cast to a negative number,
    # so the row is quarantined with the false reason "below minimum 0". The reason must describe the
    # value (too large / not a valid int), not claim it is negative.
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,units\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,99999999999999999999\n"
    )
    wh, rep = imp(tmp_path, {"orders.csv": orders})
    q = q_of(rep, "orders")
    assert q[2][0] == "units"
    assert "below minimum" not in q[2][1], q[2][1]


def test_marketplaces_file_time_zone_override_moves_local_days(tmp_path):
    # US overridden to America/New_York. 2024-03-01T05:30Z = 00:30 EST Mar 1 (it would be 21:30 PST Feb 29)
    files = {
        "marketplaces.csv": "marketplace_id,timezone,country\nUS,America/New_York,US\n",
        "orders.csv": "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"
        "S1,O1,US,2024-03-01T05:30:00Z,MFN\n",
    }
    wh, _ = imp(tmp_path, files)
    s = compute_series(wh, date(2024, 2, 29), date(2024, 3, 1), metrics=["order_count"])
    assert series_values(s, "order_count", 30) == {date(2024, 2, 29): 0, date(2024, 3, 1): 1}


def test_cli_duplicate_header_does_not_crash(tmp_path):
    # FIXED BUG (same root cause as test_duplicate_header_after_trimming_is_a_clear_error_not_a_crash): was —
    # the CLI exits with an uncaught AttributeError traceback instead of an error message.
    orders = (
        "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel, seller_id\n"
        "S1,O1,US,2024-03-01T10:00:00Z,MFN,S2\n"
    )
    d = write_dir(tmp_path / "in", {"sellers.csv": SELLERS_CSV, "orders.csv": orders})
    res = CliRunner().invoke(
        app,
        [
            "import",
            "canonical",
            str(d),
            "-w",
            str(tmp_path / "w.duckdb"),
            "--quarantine",
            str(tmp_path / "q"),
        ],
    )
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), repr(res.exception)
    assert "orders.csv" in res.output


# == 3. Properties ==========================================================================================

ZONES = {
    "US": "America/Los_Angeles",
    "DE": "Europe/Berlin",
    "BR": "America/Sao_Paulo",
    "AU": "Australia/Sydney",
    "JP": "Asia/Tokyo",
    "UK": "Europe/London",
}
T_LO = datetime(2016, 1, 1)
T_HI = datetime(2025, 12, 31)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(ZONES)), st.integers(0, int((T_HI - T_LO).total_seconds()))),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
)
def test_local_date_agrees_with_zoneinfo(points, use_span):
    # near every DST transition of the sample too: add +-1 s around a random instant's local midnight
    rows = []
    for mp, secs in points:
        ts = T_LO + timedelta(seconds=secs)
        rows.append((mp, ts))
        loc = ts.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONES[mp]))
        midnight = loc.replace(hour=0, minute=0, second=0).astimezone(UTC).replace(tzinfo=None)
        rows += [(mp, midnight - timedelta(seconds=1)), (mp, midnight)]
    df = pd.DataFrame(rows, columns=["mp", "ts"])
    t = ibis.memtable(df)
    span = (df.ts.min().to_pydatetime(), df.ts.max().to_pydatetime()) if use_span else None
    got = connect("memory").execute(t.select("mp", "ts", d=local_date(t.ts, t.mp, ZONES, span)))
    exp = [
        ts.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONES[mp])).date()
        for mp, ts in zip(got.mp, [t.to_pydatetime() for t in got.ts], strict=True)
    ]
    assert [pd.Timestamp(x).date() for x in got.d] == exp


T0 = datetime(2024, 3, 1)
AS_OF = date(2024, 4, 20)
NOT_COUNTING = {"denied", "withdrawn", "reversed"}


@st.composite
def defect_data(draw):
    n = draw(st.integers(1, 30))
    orders, feedback, claims = [], [], []
    for i in range(n):
        seller = draw(st.sampled_from(["S1", "S2"]))
        mp = draw(st.sampled_from(["US", "DE", "JP"]))
        t = T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 55)))
        orders.append(order(f"O{i}", t, draw(st.sampled_from(["MFN", "AFN"])), seller=seller, mp=mp))
        if draw(st.booleans()):
            sub = t + timedelta(days=1)
            feedback.append(
                fb(
                    f"O{i}",
                    draw(st.integers(1, 5)),
                    sub,
                    seller=seller,
                    removed_at=sub + timedelta(days=1) if draw(st.booleans()) else None,
                    is_shared=draw(st.sampled_from([None, True, False])),
                )
            )
        for k in range(draw(st.integers(0, 2))):
            claims.append(
                claim(
                    f"O{i}",
                    f"c{k}",
                    draw(st.sampled_from(["a_to_z", "chargeback"])),
                    seller=seller,
                    decision=draw(
                        st.sampled_from([None, "pending", "granted", "denied", "withdrawn", "reversed"])
                    ),
                    is_fraud=draw(st.sampled_from([None, True, False])),
                )
            )
    tables = {"orders": pd.DataFrame(orders)}
    if feedback:
        tables["feedback"] = pd.DataFrame(feedback)
    if claims:
        tables["claims"] = pd.DataFrame(claims)
    return tables


def odr_oracle(tables):
    """Order defect rate per (seller, marketplace) written directly from the README definition."""
    o = tables["orders"].copy()
    o["day"] = [
        pd.Timestamp(t).tz_localize("UTC").tz_convert(ZONES[mp]).date()
        for t, mp in zip(o.purchased_at, o.marketplace_id, strict=True)
    ]
    o = o[(o.day >= AS_OF - timedelta(days=59)) & (o.day <= AS_OF)]
    bad = set()
    f = tables.get("feedback")
    if f is not None:
        neg = f[(f.rating <= 2) & f.removed_at.isna() & ~f.is_shared.fillna(False).astype(bool)]
        bad |= set(zip(neg.seller_id, neg.order_id, strict=True))
    c = tables.get("claims")
    if c is not None:
        counts_ = ~c.decision.isin(NOT_COUNTING)
        az = c[(c.kind == "a_to_z") & counts_]
        cb = c[(c.kind == "chargeback") & counts_ & ~c.is_fraud.fillna(False).astype(bool)]
        bad |= set(zip(az.seller_id, az.order_id, strict=True)) | set(
            zip(cb.seller_id, cb.order_id, strict=True)
        )
    o["defect"] = [(s, x) in bad for s, x in zip(o.seller_id, o.order_id, strict=True)]
    return {k: (int(g.defect.sum()), len(g)) for k, g in o.groupby(["seller_id", "marketplace_id"])}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(defect_data())
def test_odr_matches_an_independent_pandas_oracle(tables):
    sell = [
        {"seller_id": s, "marketplace_id": mp, "registered_at": "2023-01-01T00:00:00Z"}
        for s in ("S1", "S2")
        for mp in ("US", "DE", "JP")
    ]
    wh = warehouse({"sellers": sell, **tables})
    df = compute_metrics(wh, AS_OF)
    odr = df[(df.metric == "order_defect_rate") & (df.channel == "all")]
    if "feedback" not in tables and "claims" not in tables:
        assert set(odr.status) == {"not_measured"}
        return
    exp = odr_oracle(tables)
    for r in odr.itertuples():
        num, den = exp.get((r.seller_id, r.marketplace_id), (0, 0))
        assert (r.numerator, r.denominator) == (num, den), (r.seller_id, r.marketplace_id)
        if den:
            assert r.value == pytest.approx(num / den)
        else:
            assert r.status == "no_data" and pd.isna(r.value)


@st.composite
def shipping_data(draw):
    n = draw(st.integers(1, 25))
    orders, ships, cancels = [], [], []
    for i in range(n):
        mp = draw(st.sampled_from(["US", "DE", "BR"]))
        t = T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 50)))
        ship_by = t + timedelta(minutes=draw(st.integers(60, 60 * 24 * 4)))
        ch = draw(st.sampled_from(["MFN", "MFN", "AFN"]))
        orders.append(
            order(f"O{i}", t, ch, mp=mp, latest_ship_at=ship_by if draw(st.integers(0, 9)) else None)
        )
        for k in range(draw(st.integers(0, 2))):
            conf = (
                ship_by + timedelta(minutes=draw(st.integers(-60 * 48, 60 * 48)))
                if draw(st.integers(0, 3))
                else None
            )
            deliv = (conf or ship_by) + timedelta(days=2) if draw(st.booleans()) else None
            ships.append(ship(f"O{i}", str(k), conf, deliv))
        if draw(st.integers(0, 3)) == 0:
            cancels.append(
                canc(
                    f"O{i}",
                    t + timedelta(minutes=draw(st.integers(1, 60 * 24 * 5))),
                    draw(st.sampled_from(["seller", "buyer", "system", "unknown"])),
                    via_buyer_request=draw(st.sampled_from([None, True, False])),
                )
            )
    tables = {"orders": pd.DataFrame(orders)}
    tables["shipments"] = pd.DataFrame(ships) if ships else pd.DataFrame(columns=list(ship("x")))
    tables["cancellations"] = (
        pd.DataFrame(cancels)
        if cancels
        else pd.DataFrame(columns=list(canc("x", T0, "seller")) + ["via_buyer_request"])
    )
    return tables


def _local(t, mp):
    return pd.Timestamp(t).tz_localize("UTC").tz_convert(ZONES[mp]).date()


def shipping_oracle(tables, as_of):
    """Late shipment (30 d) and pre-fulfillment cancel (7 d) counts per marketplace, from the README."""
    o, s, c = tables["orders"], tables["shipments"], tables["cancellations"]
    lsr, pf = {}, {}
    for r in o.itertuples():
        mine = s[s.order_id == r.order_id] if len(s) else s
        cx = c[c.order_id == r.order_id] if len(c) else c
        confirmed = [x for x in mine.confirmed_at if pd.notna(x)]
        first_conf = min(confirmed) if confirmed else None
        cancelled_at = cx.cancelled_at.iloc[0] if len(cx) else None
        before = cancelled_at is not None and (
            first_conf is None or pd.Timestamp(cancelled_at) < pd.Timestamp(first_conf)
        )
        if r.fulfillment_channel != "MFN":
            continue
        pday = _local(r.purchased_at, r.marketplace_id)
        if as_of - timedelta(days=6) <= pday <= as_of:
            n, k = pf.get(r.marketplace_id, (0, 0))
            counted = (
                before
                and cx.initiated_by.iloc[0] in ("seller", "system")
                and cx.via_buyer_request.iloc[0] is not True
            )
            pf[r.marketplace_id] = (n + int(counted), k + 1)
        if r.latest_ship_at is None or pd.isna(r.latest_ship_at):
            continue
        sday = _local(r.latest_ship_at, r.marketplace_id)
        if not (as_of - timedelta(days=29) <= sday <= as_of):
            continue
        late_conf = any(pd.Timestamp(x) > pd.Timestamp(r.latest_ship_at) for x in confirmed)
        pairs = list(zip(mine.confirmed_at, mine.delivered_at, strict=True))
        unshipped = not len(mine) or any(pd.isna(a) and pd.isna(b) for a, b in pairs)
        unknown = not late_conf and not unshipped and any(pd.isna(a) and pd.notna(b) for a, b in pairs)
        if unknown or before:
            continue
        n, k = lsr.get(r.marketplace_id, (0, 0))
        lsr[r.marketplace_id] = (n + int(late_conf or unshipped), k + 1)
    return lsr, pf


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shipping_data(), st.sampled_from([date(2024, 3, 20), date(2024, 4, 5), date(2024, 4, 22)]))
def test_late_shipment_and_cancel_rates_match_an_independent_oracle(tables, as_of):
    sell = [
        {"seller_id": "S1", "marketplace_id": mp, "registered_at": "2023-01-01T00:00:00Z"}
        for mp in ("US", "DE", "BR")
    ]
    wh = warehouse(
        {"sellers": sell, **tables},
        provided={
            "orders": [
                "seller_id",
                "order_id",
                "marketplace_id",
                "purchased_at",
                "fulfillment_channel",
                "latest_ship_at",
            ],
            "shipments": ["seller_id", "order_id", "shipment_id", "confirmed_at", "delivered_at"],
            "cancellations": ["seller_id", "order_id", "cancelled_at", "initiated_by", "via_buyer_request"],
        },
    )
    df = compute_metrics(wh, as_of)
    lsr, pf = shipping_oracle(tables, as_of)
    for mp in ("US", "DE", "BR"):
        got = df[
            (df.metric == "late_shipment_rate") & (df.window_days == 30) & (df.marketplace_id == mp)
        ].iloc[0]
        assert counts(got) == lsr.get(mp, (0, 0)), ("lsr", mp)
        got = df[(df.metric == "pre_fulfillment_cancel_rate") & (df.marketplace_id == mp)].iloc[0]
        assert counts(got) == pf.get(mp, (0, 0)), ("pfcr", mp)
