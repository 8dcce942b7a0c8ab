"""``cxops explain SELLER --compare-shipped A,B`` on a small hand-built warehouse.

S1 on US (America/Los_Angeles, PDT = UTC-7): orders A–F due 23:59:59 PDT on Tue 7 July 2026, order Z
due 12 July (outside the window as of 10 July). The 30-day window as of 10 July holds 11 June – 10 July.
"""

from __future__ import annotations

import json
import re

import pytest
from _wh import warehouse
from typer.testing import CliRunner

from cxops.cli import app

SHIP_BY = "2026-07-08T06:59:59Z"


def _order(oid, purchased="2026-07-06T16:00:00Z", ship_by=SHIP_BY):
    return {"seller_id": "S1", "order_id": oid, "marketplace_id": "US", "purchased_at": purchased,
            "fulfillment_channel": "MFN", "latest_ship_at": ship_by,
            "latest_delivery_at": "2026-07-12T06:59:59Z"}  # fmt: skip


def _ship(oid, confirmed=None, scan=None, delivered=None, tracking=None):
    return {"seller_id": "S1", "order_id": oid, "shipment_id": "1", "confirmed_at": confirmed,
            "first_scan_at": scan, "delivered_at": delivered, "tracking_id": tracking,
            "carrier": "UPS"}  # fmt: skip


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("explain-shipped") / "wh.duckdb")
    tables = {
        "sellers": [{"seller_id": "S1", "marketplace_id": "US", "registered_at": "2026-01-01T00:00:00Z"}],
        "orders": [_order(o) for o in "ABCDEF"]
        + [_order("Z", "2026-07-10T16:00:00Z", "2026-07-13T06:59:59Z")],
        "shipments": [
            _ship("A", "2026-07-08T06:00:00Z", "2026-07-08T08:00:00Z", tracking="1Z1"),  # scan after midnight
            _ship("B", "2026-07-08T08:00:00Z", "2026-07-08T05:00:00Z", tracking="1Z2"),  # confirmed late
            _ship("C", "2026-07-07T20:00:00Z", delivered="2026-07-10T20:00:00Z"),  # no tracking, no scan
            _ship("D", delivered="2026-07-10T20:00:00Z"),  # neither: left out under both
            _ship("E", "2026-07-07T20:00:00Z", tracking="1Z5"),  # never scanned
            _ship("F", "2026-07-07T20:00:00Z"),  # no tracking, never scanned
            _ship("Z", "2026-07-10T18:00:00Z", "2026-07-10T19:00:00Z", tracking="1Z9"),
        ],
    }
    warehouse(tables, url=path).close()
    return path


def _run(*args):
    # a policy evaluated every day (the default pack evaluates on the 1st of each month)
    res = CliRunner().invoke(app, [*args, "--policy", "amazon-account-health"])
    assert "Traceback" not in res.output
    return res


def _rows(output: str, after: str) -> list[list[str]]:
    """The table lines after the heading line containing ``after``: cells split on 2+ spaces."""
    lines = output.splitlines()
    start = next(i for i, x in enumerate(lines) if after in x)
    rows = []
    for x in lines[start + 1 :]:
        if not x.startswith("  "):
            break
        rows.append(re.split(r" {2,}", x.strip()))
    return rows


def test_explain_lists_every_order_that_differs(url):
    res = _run(
        "explain", "S1", "--as-of", "2026-07-10", "--compare-shipped", "confirmation,first_scan", "-w", url
    )
    assert res.exit_code == 0, res.output
    heading = (
        "5 orders due Jun 11, 2026 – Jul 10, 2026 in US have another late-shipment result under ship "
        "confirmation than under first carrier scan:"
    )
    assert heading in res.output
    rows = _rows(res.output, heading)
    assert rows[0] == ["order", "ship-by", "ship confirmation: shipped", "ship confirmation: result",
                       "first carrier scan: shipped", "first carrier scan: result"]  # fmt: skip
    due = "2026-07-07 23:59 PDT"
    assert rows[1:] == [
        ["A", due, "2026-07-07 23:00 PDT", "on time", "2026-07-08 01:00 PDT", "late"],
        ["B", due, "2026-07-08 01:00 PDT", "late", "2026-07-07 22:00 PDT", "on time"],
        ["C", due, "2026-07-07 13:00 PDT", "on time", "—", "left out"],
        ["E", due, "2026-07-07 13:00 PDT", "on time", "—", "late"],
        ["F", due, "2026-07-07 13:00 PDT", "on time", "—", "left out"],
    ]
    # the usual explanation comes first
    assert res.output.index("S1") < res.output.index(heading)


def test_explain_in_chinese_and_as_rows(url):
    res = _run("explain", "S1", "--as-of", "2026-07-10", "--compare-shipped", "first_scan,any",
               "--lang", "zh", "-w", url)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "有 5 个按承运商首次扫描与按任一信号判定的迟发结果不同" in res.output
    rows = _rows(res.output, "判定的迟发结果不同")
    assert rows[0][0] == "订单"
    # A and E late on the scan, on time on the confirmation; C and F left out on the scan, on time on
    # the confirmation (the earlier signal under "any"); D unscanned, but delivered by the promise
    assert [(r[0], r[3], r[5]) for r in rows[1:]] == [
        ("A", "迟发", "准时"),
        ("C", "不计入", "准时"),
        ("D", "不计入", "准时"),
        ("E", "迟发", "准时"),
        ("F", "不计入", "准时"),
    ]
    res = _run("explain", "S1", "--as-of", "2026-07-10", "--compare-shipped", "confirmation,first_scan",
               "--format", "jsonl", "-w", url)  # fmt: skip
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in res.output.splitlines() if x.startswith("{")]
    diff = [r for r in recs if r["record"] == "shipped_difference"]
    assert [(r["order_id"], r["basis_result"], r["against_result"]) for r in diff] == [
        ("A", "on time", "late"),
        ("B", "late", "on time"),
        ("C", "on time", "left out"),
        ("E", "on time", "late"),
        ("F", "on time", "left out"),
    ]
    assert diff[0]["latest_ship_at"] == SHIP_BY and diff[0]["against_at"] == "2026-07-08T08:00:00Z"
    assert diff[2]["against_at"] is None


def test_a_bad_pair_is_a_clear_error(url):
    for pair, msg in (
        ("confirmation", "give two shipped events separated by a comma"),
        ("confirmation,scan", "unknown shipped event 'scan'"),
        ("any,any", "the two events are the same"),
    ):
        res = _run("explain", "S1", "--as-of", "2026-07-10", "--compare-shipped", pair, "-w", url)
        assert res.exit_code == 1 and msg in " ".join(res.output.split()), res.output
