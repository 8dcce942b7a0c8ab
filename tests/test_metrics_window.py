"""The as-of UTC prefilter (``Inputs.window``) changes no metric value.

``compute_at`` reads, per family, only the records whose anchor instant is in
``utc_window(first as-of day - (longest window - 1), last as-of day)``. These tests compare every
output row with and without that cut (the cut is disabled by patching ``compute._windowed``), on
generated data at as-of days next to daylight-saving changes and at the data's edges, and on a
hand-made set of records placed one second either side of local midnight at every window edge in
far-off zones (+14 h … -12 h).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from _wh import warehouse

from cxops.metrics import compute, records
from cxops.metrics.compute import compute_at, compute_metrics, compute_series, load_inputs, universe
from cxops.metrics.records import utc_window
from cxops.synth import generate, open_parquet

END = date(2026, 10, 31)
KEYS = ["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of"]


def _unwindowed(inp, first_day, last_day):
    return inp.with_window(None)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Identical rows (same keys, numerators, denominators, values, statuses)."""
    assert len(a) == len(b)
    a = a.sort_values(KEYS).reset_index(drop=True)
    b = b.sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def _both(monkeypatch, run):
    """``run()`` with the UTC prefilter, then without it; asserts it was really applied."""
    seen = []
    real = compute._windowed

    def spy(inp, first_day, last_day):
        out = real(inp, first_day, last_day)
        seen.append(out.window)
        return out

    with monkeypatch.context() as m:
        m.setattr(compute, "_windowed", spy)
        cut = run()
    assert seen and all(w is not None for w in seen)
    with monkeypatch.context() as m:
        m.setattr(compute, "_windowed", _unwindowed)
        full = run()
    return cut, full


# -- generated data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """14 months ending 2026-10-31: US, CA, UK, DE, FR, JP sellers across four DST changes."""
    out = tmp_path_factory.mktemp("synth_window")
    generate(out, 30, 420, seed=5, orders_per_seller=250, end=END, threads=1)
    wh = open_parquet(out, threads=1)
    return wh, load_inputs(wh)


SYNTH_DAYS = [
    date(2025, 9, 6),  # the day before the data starts: nobody yet
    date(2025, 9, 7),  # first data day
    date(2025, 10, 26),  # EU DST end
    date(2026, 3, 8),  # US/CA DST start
    date(2026, 3, 29),  # EU DST start
    END,  # last data day
    date(2026, 11, 1),  # US DST end, one day after the data
    date(2027, 2, 1),  # past the data: windows partly or wholly empty
]


@pytest.mark.parametrize("as_of", SYNTH_DAYS, ids=str)
def test_window_cut_is_exact_on_generated_data(synth, monkeypatch, as_of):
    wh, inp = synth
    cut, full = _both(monkeypatch, lambda: compute_metrics(wh, as_of, inputs=inp))
    _same(cut, full)
    if as_of >= date(2025, 9, 7):
        assert (full.status == "ok").sum() > 0


def test_window_cut_is_exact_for_several_days_and_a_cut_off_instant(synth, monkeypatch):
    wh, inp = synth
    days = [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 31), date(2026, 6, 30)]
    cut, full = _both(monkeypatch, lambda: compute_at(wh, days, inputs=inp))
    _same(cut, full)
    at = datetime(2026, 3, 29, 13, 30)  # a UTC instant for the pending messages (case C18)
    cut, full = _both(monkeypatch, lambda: compute_metrics(wh, date(2026, 3, 29), as_of_at=at, inputs=inp))
    _same(cut, full)


def test_window_cut_is_exact_for_a_daily_series_over_dst_changes(synth, monkeypatch):
    wh, inp = synth
    run = lambda: compute_series(wh, date(2026, 3, 6), date(2026, 3, 31), inputs=inp)  # noqa: E731
    cut, full = _both(monkeypatch, run)
    _same(cut, full)


# -- hand-made records at every window edge --------------------------------------------------------

ZONES = {
    "US": "America/Los_Angeles",  # -7 h / -8 h
    "JP": "Asia/Tokyo",  # +9 h
    "KI": "Pacific/Kiritimati",  # +14 h, the largest offset
    "XB": "Etc/GMT+12",  # -12 h, the smallest
}
#: Every window length of the catalog (order defects 60, late shipment 10/30, cancellation 7, …).
WINDOWS = (7, 10, 14, 30, 60, 90, 180)


def _utc(tz: str, day: date, h: int, m: int, s: int) -> datetime:
    local = datetime(day.year, day.month, day.day, h, m, s, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _edges(tz: str, as_of: date) -> list[datetime]:
    """One second either side of local midnight at both ends of every window ending on ``as_of``."""
    out = []
    for w in WINDOWS:
        first = as_of - timedelta(days=w - 1)
        out += [_utc(tz, first, 0, 0, 0), _utc(tz, first - timedelta(days=1), 23, 59, 59)]
    out += [_utc(tz, as_of, 23, 59, 59), _utc(tz, as_of + timedelta(days=1), 0, 0, 0)]
    return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _edge_tables(as_of: date) -> tuple[dict, list[dict]]:
    """Orders, shipments, cancellations, feedback, messages and violations anchored on the edges.

    The edges of ``as_of - 1`` and ``as_of + 1`` are included, so that evaluating those days too
    puts records one day inside and outside every window.
    """
    tables: dict[str, list[dict]] = {
        "marketplaces": [{"marketplace_id": mp, "timezone": tz, "country": mp} for mp, tz in ZONES.items()],
        "sellers": [],
        "orders": [],
        "shipments": [],
        "cancellations": [],
        "feedback": [],
        "buyer_messages": [],
        "violations": [],
    }
    h = timedelta(hours=1)
    for mp, tz in ZONES.items():
        seller = f"S_{mp}"
        tables["sellers"].append(
            {"seller_id": seller, "marketplace_id": mp, "registered_at": "2023-01-01T00:00:00Z"}
        )
        # a seller without a registration date: its start is its first order, long before any window
        old = f"OLD_{mp}"
        tables["sellers"].append({"seller_id": old, "marketplace_id": mp})
        first = _utc(tz, as_of - timedelta(days=400), 12, 0, 0)
        tables["orders"].append(
            {
                "seller_id": old,
                "order_id": "O_first",
                "marketplace_id": mp,
                "purchased_at": _iso(first),
                "fulfillment_channel": "AFN",
            }
        )
        edges = sorted({t for d in (-1, 0, 1) for t in _edges(tz, as_of + timedelta(days=d))})
        for i, t in enumerate(edges):
            for who in (seller, old):
                o = f"{who}_{i}"
                mfn = i % 4 != 3
                # purchased on the edge: order defects, counts, cancellations
                tables["orders"].append(
                    {
                        "seller_id": who,
                        "order_id": f"P{o}",
                        "marketplace_id": mp,
                        "purchased_at": _iso(t),
                        "fulfillment_channel": "MFN" if mfn else "AFN",
                    }
                )
                if i % 3 == 0:
                    tables["cancellations"].append(
                        {
                            "seller_id": who,
                            "order_id": f"P{o}",
                            "cancelled_at": _iso(t + h),
                            "initiated_by": "seller",
                        }
                    )
                tables["feedback"].append(
                    {
                        "seller_id": who,
                        "order_id": f"P{o}",
                        "rating": 1 + i % 5,
                        "submitted_at": _iso(t),  # ratings are anchored on the submission
                    }
                )
                # ship-by on the edge (late shipment), promised on the edge (on-time delivery)
                tables["orders"].append(
                    {
                        "seller_id": who,
                        "order_id": f"S{o}",
                        "marketplace_id": mp,
                        "purchased_at": _iso(t - 3 * 24 * h),
                        "fulfillment_channel": "MFN" if mfn else "AFN",
                        "latest_ship_at": _iso(t),
                        "latest_delivery_at": _iso(t),
                    }
                )
                confirmed = t - h if i % 2 else t + h
                tables["shipments"].append(
                    {
                        "seller_id": who,
                        "order_id": f"S{o}",
                        "shipment_id": f"S{o}a",
                        # confirmed on the edge too when i % 5 == 0 (valid tracking anchor)
                        "confirmed_at": _iso(t if i % 5 == 0 else confirmed),
                        "carrier": "UPS",
                        "tracking_id": None if i % 3 == 1 else f"1Z{i}",
                        "first_scan_at": _iso(t + 2 * h),
                        "delivered_at": None if i % 4 == 2 else _iso(t + (i % 3 - 1) * 13 * h + 2 * h),
                    }
                )
                tables["buyer_messages"].append(
                    {
                        "seller_id": who,
                        "message_id": f"M{o}",
                        "received_at": _iso(t),
                        "marketplace_id": mp,
                        "first_response_at": None if i % 4 == 0 else _iso(t + (i % 3) * 20 * h),
                    }
                )
                tables["violations"].append(
                    {
                        "seller_id": who,
                        "marketplace_id": mp,
                        "violation_id": f"V{o}",
                        "kind": "ip_complaint" if i % 2 else "listing_policy",
                        "reported_at": _iso(t),
                        "severity": "high",
                        "is_warning": i % 3 == 0,
                    }
                )
    return tables, tables["orders"]


def _local_day(iso: str, mp: str) -> date:
    t = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return t.astimezone(ZoneInfo(ZONES[mp])).date()


@pytest.mark.parametrize("as_of", [date(2024, 11, 3), date(2024, 3, 10)], ids=str)
def test_window_cut_is_exact_one_second_either_side_of_local_midnight(monkeypatch, as_of):
    """Records on every window edge in JP, US (around its DST changes), +14 h and -12 h zones."""
    tables, orders = _edge_tables(as_of)
    wh = warehouse(tables)
    inp = load_inputs(wh)
    days = [as_of - timedelta(days=1), as_of, as_of + timedelta(days=1)]
    for d in days:
        cut, full = _both(monkeypatch, lambda d=d: compute_metrics(wh, d, inputs=inp))
        _same(cut, full)
        # the order counts also match an independent count of the local purchase days
        for w in (30, 90):
            got = cut[(cut.metric == "order_count") & (cut.window_days == w) & (cut.channel == "all")]
            got = got.set_index("seller_id")["numerator"]
            expected: dict[str, int] = {}
            for o in orders:
                day = _local_day(o["purchased_at"], o["marketplace_id"])
                if d - timedelta(days=w - 1) <= day <= d:
                    expected[o["seller_id"]] = expected.get(o["seller_id"], 0) + 1
            assert {s: int(v) for s, v in got.items() if v} == expected
        tenure = cut[cut.metric == "tenure_days"].set_index("seller_id")["value"]
        assert tenure["OLD_JP"] == 400 + (d - as_of).days  # the start is the first order, not cut
    # several days at once: one window covering all of them
    cut, full = _both(monkeypatch, lambda: compute_at(wh, days, inputs=inp))
    _same(cut, full)


def test_utc_window_holds_every_instant_of_its_local_days():
    """Every instant whose local day (any of these zones) is in [D0, D1] is inside the UTC window."""
    d0, d1 = date(2024, 3, 1), date(2024, 3, 12)
    lo, hi = utc_window(d0, d1)
    assert (lo, hi) == (datetime(2024, 2, 29), datetime(2024, 3, 14))
    zones = [*ZONES.values(), "Pacific/Apia", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu"]
    for tz in zones:
        first = _utc(tz, d0, 0, 0, 0)
        last = _utc(tz, d1 + timedelta(days=1), 0, 0, 0) - timedelta(microseconds=1)
        assert lo <= first and last < hi, tz


def test_window_is_part_of_the_cache_key_and_not_used_when_reusing(synth):
    wh, base = synth
    inp = load_inputs(wh)
    inp.reuse = True
    # reused facts are complete: compute_at does not cut them
    assert compute._windowed(inp, date(2026, 1, 1), date(2026, 1, 31)).window is None
    narrow = inp.with_window(utc_window(date(2026, 1, 1), date(2026, 1, 31)))
    assert narrow._cache is inp._cache  # shared cache, keyed by window
    n_cut = wh.execute(narrow.cached("orders", records.orders).count())
    n_all = wh.execute(inp.cached("orders", records.orders).count())
    assert 0 < n_cut < n_all
    assert n_all == wh.execute(records.orders(base).count())
    # the universe (seller start days) ignores any window
    u_cut = wh.execute(universe(narrow)).sort_values(["seller_id", "marketplace_id"])
    u_all = wh.execute(universe(base)).sort_values(["seller_id", "marketplace_id"])
    pd.testing.assert_frame_equal(u_cut.reset_index(drop=True), u_all.reset_index(drop=True))
