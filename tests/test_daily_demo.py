"""The daily job on the demo marketplace (``cxops demo``'s data: 300 sellers, two years) against the
evaluation job: daily runs over a period — an initial build, single days, a gap filled in order, and the
monthly evaluations of the demo's policy within it — leave in the store exactly the states of
:func:`run_evaluation` over the same period and log exactly its transitions (issue 10, "equivalence":
the hypothesis part over generated histories is ``tests/test_daily.py``)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from test_daily import check_equivalent

from cxops.ingest.canonical_files import import_canonical
from cxops.lifecycle.cadence import is_evaluation_date
from cxops.policy.load import load_policy
from cxops.service.daily import run_daily
from cxops.store import open_store, upgrade
from cxops.synth import DEMO_ORDERS_PER_SELLER, DEMO_STORIES, generate
from cxops.warehouse import connect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

END = date(2026, 10, 31)  # the demo's data cut (cxops demo --end)


@pytest.fixture(scope="module")
def demo_wh(tmp_path_factory):
    """The demo marketplace exactly as ``cxops demo`` generates and imports it (its default seed, sellers
    and days)."""
    d = tmp_path_factory.mktemp("demo_daily")
    generate(d / "data", 300, 730, seed=7, end=END, orders_per_seller=DEMO_ORDERS_PER_SELLER,
             stories=DEMO_STORIES)  # fmt: skip
    wh = connect(str(d / "demo.duckdb"))
    import_canonical(wh, d / "data", None)
    yield wh
    wh.close()


def test_daily_runs_on_the_demo_marketplace_equal_the_evaluation(demo_wh, tmp_path):
    """customer-excellence (monthly, as the demo runs it): built as of 2026-09-28, then each day to
    10-20, a six-day gap to 10-26 filled in order, then each day to 11-01 — 35 days with the monthly
    evaluations of 10-01 and 11-01 and the daily recovery checks between them."""
    policy = load_policy("customer-excellence")
    first, last = date(2026, 9, 28), END + timedelta(days=1)
    s = open_store(f"sqlite:///{tmp_path}/s.sqlite", check=False, must_exist=False)
    upgrade(s)
    try:
        t0 = time.perf_counter()
        run_daily(demo_wh, s, policy, first)
        ran = []
        day = first
        while day < last:
            step = 6 if day == date(2026, 10, 20) else 1
            day = day + timedelta(days=step)
            res = run_daily(demo_wh, s, policy, day)
            ran += [r.day for r in res.days]
        assert ran == [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
        assert [d for d in ran if is_evaluation_date(policy, d)] == [date(2026, 10, 1), last]
        print(f"daily runs: {time.perf_counter() - t0:.1f} s")
        check_equivalent(demo_wh, s, policy, last)
    finally:
        s.dispose()
