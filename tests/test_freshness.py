"""Data freshness: the last day of each table, the last complete day, and commands that refuse an as-of
day past it (``--allow-stale`` overrides, and an evaluation never judges days after the data ends)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from _wh import warehouse
from typer.testing import CliRunner

from cxops.cli import app
from cxops.errors import StaleDataError
from cxops.metrics.compute import load_inputs
from cxops.metrics.freshness import data_freshness

runner = CliRunner()


def run(*args: str, ok: bool = True):
    res = runner.invoke(app, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


def said(res) -> str:
    """The output with line wrapping undone (messages are wrapped at the terminal width)."""
    return " ".join(res.output.split())


def _orders(mp: str, seller: str, first: date, last: date, per_day: int, every: int = 1, hour: int = 20):
    """``per_day`` orders on every ``every``-th day from ``first`` to ``last`` at ``hour``:00 UTC."""
    rows, day, n = [], first, 0
    while day <= last:
        for _ in range(per_day):
            n += 1
            rows.append(
                {
                    "seller_id": seller,
                    "order_id": f"{seller}-{n}",
                    "marketplace_id": mp,
                    "purchased_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=hour),
                    "fulfillment_channel": "MFN",
                }
            )
        day += timedelta(days=every)
    return rows


def _fresh(tables):
    wh = warehouse(tables)
    return data_freshness(wh, load_inputs(wh).zones)


@pytest.mark.integration
def test_last_days_are_local_and_a_stalled_marketplace_holds_the_data_back():
    end = date(2024, 6, 30)
    orders = _orders(
        "US", "U1", end - timedelta(days=59), end, 40, hour=6
    )  # 06:00 UTC = 23:00 the day before in LA
    orders += _orders("JP", "J1", end - timedelta(days=59), end - timedelta(days=10), 20, hour=2)  # stalled
    orders += _orders("DE", "D1", end - timedelta(days=60), end - timedelta(days=3), 1, every=5)  # sparse
    f = _fresh({"orders": orders})
    last = {t.marketplace_id: t.last_day for t in f.tables if t.table == "orders"}
    # the last US order is at 2024-06-30T06:00Z: 2024-06-29 in Los Angeles
    assert last == {"US": date(2024, 6, 29), "JP": date(2024, 6, 20), "DE": date(2024, 6, 25)}
    assert f.last_day == date(2024, 6, 29) and f.first_day == date(2024, 5, 1)
    # JP: 20 orders a day and 9 days without one — implausible; DE: one order in 5 days — a quiet spell
    assert [t.label for t in f.behind] == ["orders (JP)"]
    assert f.complete_day == date(2024, 6, 20)
    with pytest.raises(StaleDataError, match=r"orders \(JP\) ends on 2024-06-20"):
        f.check(date(2024, 6, 21), "metrics as of 2024-06-21")
    f.check(date(2024, 6, 20), "metrics as of 2024-06-20")
    f.check(date(2024, 6, 25), "metrics", allow_stale=True)


@pytest.mark.integration
def test_a_quiet_day_of_a_small_marketplace_is_not_behind_but_a_busy_one_is():
    end = date(2024, 6, 30)
    busy = _orders("US", "U1", end - timedelta(days=29), end, 10)
    assert (
        _fresh(
            {"orders": busy + _orders("DE", "D1", end - timedelta(days=29), end - timedelta(days=1), 1)}
        ).behind
        == []
    )
    f = _fresh({"orders": busy + _orders("DE", "D1", end - timedelta(days=29), end - timedelta(days=1), 30)})
    assert [t.label for t in f.behind] == ["orders (DE)"] and f.complete_day == end - timedelta(days=1)


@pytest.mark.integration
def test_shipments_behind_the_orders_are_named():
    end = date(2024, 6, 30)
    orders = _orders("US", "U1", end - timedelta(days=29), end, 20)
    shipments = [
        {
            "seller_id": o["seller_id"],
            "order_id": o["order_id"],
            "shipment_id": f"S{o['order_id']}",
            "confirmed_at": o["purchased_at"] + timedelta(hours=2),
        }
        for o in orders
        if o["purchased_at"].date() <= end - timedelta(days=7)
    ]
    f = _fresh({"orders": orders, "shipments": shipments})
    assert [t.label for t in f.behind] == ["shipments"] and f.complete_day == end - timedelta(days=7)
    assert "shipments ends on 2024-06-23" in f.why()


# -- the commands ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory):
    d = tmp_path_factory.mktemp("fresh")
    run("synth", "--sellers", "30", "--days", "150", "--orders-per-seller", "300", "--out", str(d / "data"))
    url = str(d / "s.duckdb")
    run("import", "canonical", str(d / "data"), "-w", url, "--quarantine", str(d / "q"))
    return url


@pytest.mark.e2e
def test_metrics_past_the_data_is_refused_unless_allowed(synth_wh):
    res = run("metrics", "--as-of", "2030-01-01", "-w", synth_wh, ok=False)
    assert res.exit_code == 1 and "the data ends on 2026-10-31" in said(res) and "--allow-stale" in said(res)
    assert "Traceback" not in res.output
    res = run(
        "metrics", "--as-of", "2026-11-15", "--allow-stale", "-m", "order_count", "-f", "csv", "-w", synth_wh
    )
    assert "note: the data ends on 2026-10-31" in said(res)
    assert run("metrics", "--as-of", "2026-10-31", "-m", "order_count", "-f", "csv", "-w", synth_wh).output


@pytest.mark.e2e
def test_an_evaluation_never_judges_days_after_the_data(synth_wh, tmp_path):
    res = run("explain", "S0004", "--as-of", "2027-06-01", "-w", synth_wh, ok=False)
    assert res.exit_code == 1 and "2027-05-31" in said(res) and "2026-10-31" in said(res)
    now = run("evaluate", "--as-of", "2026-11-01", "--format", "csv", "-w", synth_wh).output
    later = run(
        "evaluate", "--as-of", "2027-06-01", "--allow-stale", "--format", "csv", "-w", synth_wh
    ).output
    assert "evaluated up to 2026-11-01" in later
    # the same statuses as at the end of the data: nobody removed for months without data
    rows = [line for line in now.splitlines() if line.startswith("S0")]
    assert rows and all(line in later for line in rows)
    stale = run("explain", "S0004", "--as-of", "2027-06-01", "--allow-stale", "-w", synth_wh).output
    fresh = run("explain", "S0004", "--as-of", "2026-11-01", "-w", synth_wh).output
    status = next(line for line in fresh.splitlines() if line.startswith("Status:"))
    assert status in stale and "Removed: no longer eligible" not in stale
