"""Which event counts as shipped for the late shipment rate (MetricOptions.shipped_event), by hand."""

from __future__ import annotations

from datetime import date

from _wh import value, warehouse

from cxops.metrics.compute import compute_metrics
from cxops.metrics.options import MetricOptions

# ship-by 23:59:59 Pacific on Tue 7 July 2026 (06:59:59Z on the 8th); deliver-by 11 July
SHIP_BY = "2026-07-08T06:59:59Z"
DELIVER_BY = "2026-07-12T06:59:59Z"


def _order(oid, seller="S1", mp="US"):
    return {
        "seller_id": seller,
        "order_id": oid,
        "marketplace_id": mp,
        "purchased_at": "2026-07-06T16:00:00Z",
        "fulfillment_channel": "MFN",
        "latest_ship_at": SHIP_BY,
        "latest_delivery_at": DELIVER_BY,
    }


def _ship(oid, confirmed=None, scan=None, delivered=None, tracking=None, seller="S1"):
    return {
        "seller_id": seller,
        "order_id": oid,
        "shipment_id": "1",
        "confirmed_at": confirmed,
        "first_scan_at": scan,
        "delivered_at": delivered,
        "tracking_id": tracking,
        "carrier": "UPS",
    }


def _tables():
    return {
        "sellers": [{"seller_id": "S1", "marketplace_id": "US"}, {"seller_id": "S2", "marketplace_id": "UK"}],
        "orders": [_order(o) for o in "ABCDEF"]
        + [_order("G", "S2", "UK") | {"latest_ship_at": "2026-07-07T22:59:59Z"}],
        "shipments": [
            # A: confirmed 23:00 PDT before the deadline, first scan 01:00 after midnight
            _ship("A", "2026-07-08T06:00:00Z", "2026-07-08T08:00:00Z", tracking="1Z1"),
            # B: confirmed after the deadline, but an acceptance scan before it
            _ship("B", "2026-07-08T08:00:00Z", "2026-07-08T05:00:00Z", tracking="1Z2"),
            # C: confirmed in time, no tracking, no scan, delivered by the promise
            _ship("C", "2026-07-07T20:00:00Z", delivered="2026-07-10T20:00:00Z"),
            # D: never confirmed nor scanned, delivered by the promise
            _ship("D", delivered="2026-07-10T20:00:00Z"),
            # E: confirmed in time with a tracking id the carrier never scanned, not delivered
            _ship("E", "2026-07-07T20:00:00Z", tracking="1Z5"),
            # F: confirmed in time, no tracking, no scan, not delivered
            _ship("F", "2026-07-07T20:00:00Z"),
            # G (UK, due 23:59:59 BST 7 July): confirmed late, scanned in time
            _ship("G", "2026-07-08T09:00:00Z", "2026-07-07T18:00:00Z", tracking="X", seller="S2"),
        ],
    }  # fmt: skip


def _lsr(options: MetricOptions, seller: str = "S1") -> tuple[int, int]:
    df = compute_metrics(warehouse(_tables()), date(2026, 7, 10), options)
    r = value(df, "late_shipment_rate", seller=seller, window=10, channel="mfn")
    return int(r["numerator"]), int(r["denominator"])


def test_confirmation_is_the_default():
    # late: B; out: D (delivered with no confirmation: lateness unknown)
    assert _lsr(MetricOptions()) == (1, 5)
    assert _lsr(MetricOptions(), "S2") == (1, 1)


def test_first_carrier_scan():
    # late: A (scan after midnight), E (never scanned); out: C, D (delivered unscanned), F (no tracking)
    assert _lsr(MetricOptions(shipped_event="first_scan")) == (2, 3)
    assert _lsr(MetricOptions(shipped_event="first_scan"), "S2") == (0, 1)


def test_any_signal():
    # the earlier of confirmation and scan, or a delivery by the promise (D): none late
    assert _lsr(MetricOptions(shipped_event="any")) == (0, 6)


def test_per_marketplace():
    opts = MetricOptions(shipped_event_by_marketplace={"US": "first_scan"})
    assert _lsr(opts) == (2, 3)  # US judged on the first scan
    assert _lsr(opts, "S2") == (1, 1)  # UK keeps the confirmation
    opts = MetricOptions(shipped_event="any", shipped_event_by_marketplace={"UK": "confirmation"})
    assert _lsr(opts) == (0, 6)
    assert _lsr(opts, "S2") == (1, 1)


def test_delivery_deadline_runs_from_the_first_attempt():
    # promised by 11 July (Pacific); H: first attempt 10 July failed, second 12 July, delivered 13 July;
    # I: no attempts recorded, delivered 10 July; J: first attempt 12 July, delivered 12 July
    orders = [_order(o) for o in "HIJ"]
    ships = [
        _ship("H", "2026-07-07T20:00:00Z", delivered="2026-07-13T20:00:00Z", tracking="1"),
        _ship("I", "2026-07-07T20:00:00Z", delivered="2026-07-10T20:00:00Z", tracking="2"),
        _ship("J", "2026-07-07T20:00:00Z", delivered="2026-07-12T20:00:00Z", tracking="3"),
    ]

    def attempt(oid, n, at, outcome):
        return {"seller_id": "S1", "order_id": oid, "shipment_id": "1", "attempt": n, "attempted_at": at,
                "outcome": outcome}  # fmt: skip

    attempts = [
        attempt("H", 1, "2026-07-10T22:00:00Z", "failed"),
        attempt("H", 2, "2026-07-12T22:00:00Z", "failed"),
        attempt("J", 1, "2026-07-12T20:00:00Z", "delivered"),
    ]
    wh = warehouse({"sellers": [{"seller_id": "S1", "marketplace_id": "US"}], "orders": orders,
                    "shipments": ships, "delivery_attempts": attempts})  # fmt: skip

    def otdr(options):
        r = value(compute_metrics(wh, date(2026, 7, 14), options), "on_time_delivery_rate", window=14,
                  channel="mfn")  # fmt: skip
        return int(r["numerator"]), int(r["denominator"])

    assert otdr(MetricOptions()) == (1, 3)  # only I delivered by the promise
    assert otdr(MetricOptions(delivery_event="first_attempt")) == (2, 3)  # H's first attempt was in time


def test_compare_shipped_lists_every_order_that_differs(tmp_path):
    from typer.testing import CliRunner

    from cxops.cli import app
    from cxops.service.shipped import compare_shipped_events

    url = str(tmp_path / "wh.duckdb")
    warehouse(_tables(), url=url).close()
    from cxops.warehouse import connect

    wh = connect(url)
    df = compare_shipped_events(wh, date(2026, 7, 10), 10, "confirmation", "first_scan", seller_id="S1")
    wh.close()
    got = list(zip(df["order_id"], df["basis_result"], df["against_result"], strict=True))
    # D is left out under both (delivered, no confirmation, no scan): not listed
    assert got == [
        ("A", "on time", "late"),
        ("B", "late", "on time"),
        ("C", "on time", "left out"),
        ("E", "on time", "late"),
        ("F", "on time", "left out"),
    ]
    res = CliRunner().invoke(
        app, ["compare-shipped", "--as-of", "2026-07-10", "--window", "10", "--format", "csv", "-w", url]
    )
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    head = "seller_id,marketplace_id,order_id,ship_by_date,basis_result,against_result,"
    assert lines[0] == head + "latest_ship_at,basis_at,against_at"
    assert len(lines) == 1 + 6  # S1's five and S2's G (late on confirmation, on time on the scan)
    # G: due 22:59:59Z, confirmed 09:00Z the next day, scanned 18:00Z
    assert (
        "S2,UK,G,2026-07-07,late,on time,2026-07-07T22:59:59Z,2026-07-08T09:00:00Z,2026-07-07T18:00:00Z"
        in lines
    )
    # C: confirmed in time, never scanned (no instant under first_scan)
    assert "S1,US,C,2026-07-07,on time,left out,2026-07-08T06:59:59Z,2026-07-07T20:00:00Z," in lines
    bad = CliRunner().invoke(app, ["compare-shipped", "--as-of", "2026-07-10", "--basis", "scan", "-w", url])
    assert bad.exit_code == 1 and "unknown shipped event 'scan'" in bad.output
    assert "Traceback" not in bad.output
