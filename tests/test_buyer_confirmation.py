"""A buyer's delivery confirmation as a shipped signal (``shipped_event = "any"``), by hand.

US marketplace (America/Los_Angeles, PDT = UTC-7): every order is due to ship by 23:59:59 PDT on
Tue 7 July 2026 and promised by Sat 11 July. Windows of 10 days as of 14 July hold 5–14 July.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from _wh import value, warehouse
from test_shipped_event import _ship

from cxops.ingest import import_canonical
from cxops.metrics.compute import compute_metrics, compute_series
from cxops.metrics.defects import defect_records
from cxops.metrics.options import MetricOptions
from cxops.service.shipped import compare_shipped_events
from cxops.warehouse import connect

SHIP_BY = "2026-07-08T06:59:59Z"
DELIVER_BY = "2026-07-12T06:59:59Z"
ANY = MetricOptions(shipped_event="any")
SCAN = MetricOptions(shipped_event="first_scan")


def _order(oid):
    return {
        "seller_id": "S1",
        "order_id": oid,
        "marketplace_id": "US",
        "purchased_at": "2026-07-06T16:00:00Z",
        "fulfillment_channel": "MFN",
        "latest_ship_at": SHIP_BY,
        "latest_delivery_at": DELIVER_BY,
    }


def _said(oid, at, on_time=True):
    return {"seller_id": "S1", "order_id": oid, "confirmed_at": at, "arrived_on_time": on_time}


def _tables():
    return {
        "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
        "orders": [_order(o) for o in "KLMNP"],
        "shipments": [
            # K, L, N: no confirmation, no scan, delivered 13 July after the promise (lateness unknown)
            _ship("K", delivered="2026-07-13T20:00:00Z"),
            _ship("L", delivered="2026-07-13T20:00:00Z"),
            _ship("N", delivered="2026-07-13T20:00:00Z"),
            # P: confirmed and scanned after the deadline (8 July 10:00Z = 03:00 PDT)
            _ship("P", "2026-07-08T10:00:00Z", "2026-07-08T11:00:00Z", "2026-07-10T20:00:00Z", "1Z"),
            # M: no shipment recorded at all
        ],
        "delivery_confirmations": [
            _said("K", "2026-07-13T22:00:00Z"),  # 13 July: arrived on time
            _said("L", "2026-07-13T22:00:00Z", on_time=False),  # "not on time": no signal
            _said("M", "2026-07-08T18:00:00Z"),  # 8 July: arrived on time
            _said("N", "2026-07-16T05:00:00Z"),  # 22:00 PDT on 15 July: seen from 15 July
            _said("P", "2026-07-13T22:00:00Z"),  # on time, but the scan shows it shipped late
        ],
    }


@pytest.fixture(scope="module")
def wh():
    w = warehouse(_tables())
    yield w
    w.close()


def _lsr(wh, as_of, options):
    r = value(compute_metrics(wh, as_of, options), "late_shipment_rate", window=10, channel="mfn")
    return int(r["numerator"]), int(r["denominator"])


def test_an_on_time_answer_is_a_signal_under_any_only(wh):
    # any, as of 14 July: K on time (buyer), L out (unknown, "not on time" says nothing), M on time
    # (buyer, no shipment), N out (its answer comes on 15 July), P late (scan after the deadline)
    assert _lsr(wh, date(2026, 7, 14), ANY) == (1, 3)
    # first scan: K, L, N out (delivered, never scanned); M late (nothing shipped); P late
    assert _lsr(wh, date(2026, 7, 14), SCAN) == (2, 2)
    # confirmation: K, L, N out (delivered unconfirmed); M late; P late
    assert _lsr(wh, date(2026, 7, 14), MetricOptions()) == (2, 2)


def test_an_answer_is_seen_from_its_local_day(wh):
    # N answered at 05:00Z on 16 July = 22:00 PDT on 15 July
    assert _lsr(wh, date(2026, 7, 14), ANY) == (1, 3)
    assert _lsr(wh, date(2026, 7, 15), ANY) == (1, 4)
    assert _lsr(wh, date(2026, 7, 16), ANY) == (1, 4)
    # K answered on 13 July: as of 12 July it is still unknown, and M (answered 8 July) on time
    assert _lsr(wh, date(2026, 7, 12), ANY) == (1, 2)


def test_the_series_sees_each_answer_from_its_day(wh):
    s = compute_series(wh, date(2026, 7, 11), date(2026, 7, 16), ANY, metrics=["late_shipment_rate"])
    s = s[(s.window_days == 10) & (s.channel == "mfn")].set_index("as_of")
    got = {d: (int(r.numerator), int(r.denominator)) for d, r in s.iterrows()}
    assert got == {
        date(2026, 7, 11): (1, 2),
        date(2026, 7, 12): (1, 2),
        date(2026, 7, 13): (1, 3),  # K's answer
        date(2026, 7, 14): (1, 3),
        date(2026, 7, 15): (1, 4),  # N's answer
        date(2026, 7, 16): (1, 4),
    }
    for d, nd in got.items():  # each day's row equals the as-of computation
        assert _lsr(wh, d, ANY) == nd
    # 30-day window (as_of 13 July, with the as-of path computing several days in one query)
    from cxops.metrics.compute import compute_at

    df = compute_at(wh, [date(2026, 7, 12), date(2026, 7, 15)], ANY)
    df = df[(df.metric == "late_shipment_rate") & (df.window_days == 30) & (df.channel == "mfn")]
    assert dict(zip(df.as_of, zip(df.numerator, df.denominator, strict=True), strict=True)) == {
        date(2026, 7, 12): (1.0, 2.0),
        date(2026, 7, 15): (1.0, 4.0),
    }


def test_explain_and_compare_shipped_read_the_answers_known_on_the_day(wh):
    late = defect_records(wh, "S1", date(2026, 7, 14), SCAN)
    assert sorted(late[late.metric == "late_shipment_rate"].order_id.unique()) == ["M", "P"]
    late = defect_records(wh, "S1", date(2026, 7, 14), ANY)
    assert sorted(late[late.metric == "late_shipment_rate"].order_id.unique()) == ["P"]

    def diff(as_of):
        df = compare_shipped_events(wh, as_of, 10, "any", "first_scan", seller_id="S1")
        return list(zip(df.order_id, df.basis_result, df.against_result, strict=True))

    assert diff(date(2026, 7, 14)) == [("K", "on time", "left out"), ("M", "on time", "late")]
    assert diff(date(2026, 7, 16)) == [
        ("K", "on time", "left out"),
        ("M", "on time", "late"),
        ("N", "on time", "left out"),
    ]


def test_import_canonical_reads_confirmations_and_quarantines_bad_rows(tmp_path: Path):
    base = tmp_path / "base"
    base.mkdir()
    t = _tables()
    for name in ("sellers", "orders", "shipments"):
        pd.DataFrame(t[name]).to_csv(base / f"{name}.csv", index=False)
    w = connect("memory")
    import_canonical(w, base)
    assert _lsr(w, date(2026, 7, 16), ANY) == (2, 2)  # without answers: M late, P late; K, L, N out
    more = tmp_path / "answers"
    more.mkdir()
    rows = pd.DataFrame(t["delivery_confirmations"])
    bad = pd.DataFrame(
        [
            _said("K", "9999-01-01T00:00:00Z"),  # implausible instant
            _said("X", "2026-07-13T22:00:00Z", on_time="perhaps"),  # not a boolean
        ]
    )
    answers = pd.concat([rows.iloc[[1, 2, 3, 4]], bad])  # K's answer is the implausible one
    answers.to_csv(more / "delivery_confirmations.csv", index=False)
    rep = import_canonical(w, more)  # the answers alone apply to the orders already stored
    entry = rep.entry("delivery_confirmations")
    assert (entry.rows_read, entry.rows_loaded, entry.rows_quarantined) == (6, 4, 2)
    q = rep.quarantined.set_index("column")
    assert set(q.index) == {"confirmed_at", "arrived_on_time"}
    assert date(2026, 7, 7) in set(rep.changes["delivery_confirmations"].days)  # the ship-by day restates
    assert _lsr(w, date(2026, 7, 16), ANY) == (1, 3)  # M and N on time; K has no answer stored
    w.close()


# -- an independent computation ------------------------------------------------------------------------
from datetime import UTC, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PT = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 7, 1, 7, tzinfo=UTC)  # midnight PDT on 1 July


def _iso(hours):
    return None if hours is None else (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(hours):
    return (T0 + timedelta(hours=hours)).astimezone(PT).date()


ORDER = st.fixed_dictionaries(
    {
        "ship_by": st.integers(0, 8 * 24),  # hours after T0
        "shipment": st.booleans(),
        "confirmed": st.none() | st.integers(0, 10 * 24),
        "scan": st.none() | st.integers(0, 10 * 24),
        "delivered": st.none() | st.integers(0, 12 * 24),
        "tracking": st.booleans(),
        "answer": st.none() | st.tuples(st.integers(0, 14 * 24), st.booleans()),
    }
)


def _expected(orders, as_of):
    """(late, population) of the 10-day window as of ``as_of`` under "any", by the rules in plain Python."""
    late = pop = 0
    for o in orders:
        if not as_of - timedelta(days=9) <= _day(o["ship_by"]) <= as_of:
            continue
        said = o["answer"] is not None and o["answer"][1] and _day(o["answer"][0]) <= as_of
        if not o["shipment"]:
            pop, late = pop + 1, late + (not said)
            continue
        at = min((h for h in (o["confirmed"], o["scan"]) if h is not None), default=None)
        if at is not None:
            pop, late = pop + 1, late + (at > o["ship_by"])
        elif o["delivered"] is not None and o["delivered"] <= o["ship_by"] + 72:  # by the promise
            pop += 1
        elif said:
            pop += 1
        elif o["delivered"] is None:  # never shipped
            pop, late = pop + 1, late + 1
    return late, pop


@settings(max_examples=12, deadline=None)
@given(st.lists(ORDER, min_size=1, max_size=8))
def test_any_with_answers_matches_an_independent_computation(orders):
    t = {"sellers": [{"seller_id": "S1", "marketplace_id": "US"}], "orders": [], "shipments": [],
         "delivery_confirmations": []}  # fmt: skip
    for i, o in enumerate(orders):
        oid = f"O{i}"
        t["orders"].append(
            _order(oid)
            | {"purchased_at": _iso(-24), "latest_ship_at": _iso(o["ship_by"]),
               "latest_delivery_at": _iso(o["ship_by"] + 72)}
        )  # fmt: skip
        if o["shipment"]:
            tracking = "1Z" if o["tracking"] else None
            t["shipments"].append(
                _ship(oid, _iso(o["confirmed"]), _iso(o["scan"]), _iso(o["delivered"]), tracking)
            )
        if o["answer"] is not None:
            t["delivery_confirmations"].append(_said(oid, _iso(o["answer"][0]), o["answer"][1]))
    # an order long before the windows keeps a shipments table (without one the rate is not measured)
    t["orders"].append(_order("OLD") | {"purchased_at": _iso(-30 * 24), "latest_ship_at": _iso(-29 * 24)})
    t["shipments"].append(_ship("OLD", _iso(-29 * 24 - 1)))
    if not t["delivery_confirmations"]:
        del t["delivery_confirmations"]
    w = warehouse(t)
    first, last = date(2026, 7, 5), date(2026, 7, 15)
    s = compute_series(w, first, last, ANY, metrics=["late_shipment_rate"])
    s = s[(s.window_days == 10) & (s.channel == "mfn") & (s.status != "not_measured")]
    got = {d: (int(r.numerator), int(r.denominator)) for d, r in s.set_index("as_of").iterrows()}
    for d in (first + timedelta(days=k) for k in range((last - first).days + 1)):
        assert got.get(d, (0, 0)) == _expected(orders, d), d
    assert _lsr(w, last, ANY) == _expected(orders, last)
    w.close()
