"""Hypothesis invariants of the metric engine on random small marketplaces."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from _wh import warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxops.metrics.catalog import CATALOG
from cxops.metrics.compute import compute_at, compute_series

T0 = datetime(2024, 3, 1)


@st.composite
def marketplaces(draw):
    n = draw(st.integers(1, 25))
    orders, ships, fb, canc, claims, msgs = [], [], [], [], [], []
    for i in range(n):
        seller = draw(st.sampled_from(["S1", "S2"]))
        oid = f"O{i}"
        t = T0 + timedelta(hours=draw(st.integers(0, 24 * 40)))
        ship_by = t + timedelta(hours=draw(st.integers(1, 72)))
        promise = ship_by + timedelta(hours=draw(st.integers(24, 120)))
        orders.append(
            {
                "seller_id": seller,
                "order_id": oid,
                "marketplace_id": draw(st.sampled_from(["US", "JP"])),
                "purchased_at": t,
                "fulfillment_channel": draw(st.sampled_from(["MFN", "AFN"])),
                "latest_ship_at": ship_by,
                "latest_delivery_at": promise,
            }
        )
        if draw(st.booleans()):
            c = t + timedelta(hours=draw(st.integers(0, 100)))
            d = c + timedelta(hours=draw(st.integers(1, 150))) if draw(st.booleans()) else None
            ships.append(
                {
                    "seller_id": seller,
                    "order_id": oid,
                    "shipment_id": "1",
                    "confirmed_at": c,
                    "delivered_at": d,
                    "tracking_id": draw(st.sampled_from([None, "1Z"])),
                    "carrier": "UPS",
                    "first_scan_at": c,
                }
            )
        if draw(st.integers(0, 3)) == 0:
            canc.append(
                {
                    "seller_id": seller,
                    "order_id": oid,
                    "cancelled_at": t + timedelta(hours=1),
                    "initiated_by": draw(st.sampled_from(["seller", "buyer", "system", "unknown"])),
                    "via_buyer_request": draw(st.sampled_from([None, True, False])),
                }
            )
        if draw(st.booleans()):
            fb.append(
                {
                    "seller_id": seller,
                    "order_id": oid,
                    "rating": draw(st.integers(1, 5)),
                    "submitted_at": t + timedelta(days=draw(st.integers(1, 20))),
                    "is_shared": draw(st.booleans()),
                }
            )
        if draw(st.integers(0, 4)) == 0:
            claims.append(
                {
                    "seller_id": seller,
                    "order_id": oid,
                    "claim_id": "c",
                    "kind": draw(st.sampled_from(["a_to_z", "chargeback"])),
                    "filed_at": t + timedelta(days=3),
                    "decision": draw(st.sampled_from([None, "granted", "denied", "pending"])),
                    "is_fraud": draw(st.booleans()),
                }
            )
        if draw(st.booleans()):
            r = t + timedelta(hours=draw(st.integers(0, 60)))
            reply = r + timedelta(hours=draw(st.integers(0, 40))) if draw(st.booleans()) else None
            msgs.append(
                {
                    "seller_id": seller,
                    "message_id": f"M{i}",
                    "order_id": oid,
                    "received_at": r,
                    "first_response_at": reply,
                }
            )
    sellers = [{"seller_id": s, "marketplace_id": mp} for s in ("S1", "S2") for mp in ("US", "JP")]
    tables = {
        "sellers": sellers,
        "orders": orders,
        "shipments": ships,
        "feedback": fb,
        "cancellations": canc,
        "claims": claims,
        "buyer_messages": msgs,
    }
    return {k: pd.DataFrame(v) for k, v in tables.items() if v}


DAYS = [date(2024, 3, 10), date(2024, 3, 31), date(2024, 4, 20)]
SLOW = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(marketplaces())
def test_rates_are_fractions_with_counts_that_fit(tables):
    wh = warehouse(tables)
    df = compute_at(wh, DAYS)
    rates = df[df.metric.map(lambda m: CATALOG[m].kind == "rate") & (df.status != "not_measured")]
    assert (rates.numerator >= 0).all()
    assert (rates.numerator <= rates.denominator).all()
    ok = rates[rates.denominator > 0]
    assert ok.value.between(0, 1).all()
    assert ok.status.isin(["ok", "provisional"]).all()
    assert rates[rates.denominator == 0].value.isna().all()
    # coverage is a fraction; a value is provisional exactly when its coverage is below the level (0.95)
    cov = df[df.coverage.notna()]
    assert cov.coverage.between(0, 1).all()
    assert set(cov.metric) <= {m for m, d in CATALOG.items() if d.coverage is not None}
    assert ((df.status == "provisional") == ((df.coverage < 0.95) & (df.denominator > 0))).all()
    csat = df[(df.metric == "customer_satisfaction_index") & (df.status == "ok")]
    assert csat.value.between(0, 100).all()
    # a window's 'all' channel is the sum of its mfn and afn channels
    counts = df[df.metric == "order_count"].pivot_table(
        index=["seller_id", "marketplace_id", "as_of", "window_days"], columns="channel", values="value"
    )
    assert (counts["all"] == counts["mfn"] + counts["afn"]).all()
    # recomputation is idempotent, and re-importing the same rows changes nothing
    again = compute_at(warehouse(tables), DAYS)
    pd.testing.assert_frame_equal(df, again)


@SLOW
@given(marketplaces())
def test_daily_series_equals_as_of_on_every_day(tables):
    wh = warehouse(tables)
    start, end = date(2024, 3, 20), date(2024, 4, 5)
    series = compute_series(wh, start, end)
    days = [start + timedelta(days=i) for i in range(0, (end - start).days + 1, 4)]
    at = compute_at(wh, days)
    at = at[at.status != "not_measured"]
    keys = ["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of"]
    merged = at.merge(series, on=keys, how="left", suffixes=("", "_s"), indicator=True)
    assert (merged._merge == "both").all()
    for c in ("numerator", "denominator", "value", "coverage"):
        a, b = merged[c], merged[c + "_s"]
        assert ((a - b).abs().fillna(0) < 1e-9).all() and (a.isna() == b.isna()).all(), c
    assert (merged["status"] == merged["status_s"]).all()
