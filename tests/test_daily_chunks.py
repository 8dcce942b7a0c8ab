"""The daily job's build in chunks of sellers leaves exactly the store of a build in one chunk.

The build replays the sellers a chunk at a time (``chunk_sellers``, env ``CXOPS_BUILD_CHUNK_SELLERS``) to
bound its memory; the lifecycle is per seller, so the store it writes — memberships, the event log,
alerts, benefits, the outbox, the runs — must not depend on the chunk size. Compared over generated
histories (hypothesis: the marketplace's seed, size and length, the chunk size, the build day, then a few
daily runs on top), and for a rebuild after operator actions (the demo program), on SQLite.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from _daily import END, marketplace, store_snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxops.policy.load import load_policy
from cxops.service.daily import run_daily
from cxops.settings import Settings
from cxops.store import open_store, upgrade
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration]

POLICY = "marketplace-enforcement"  # daily evaluations, alert levels, suspension, immunity, blocks


def _store(path):
    s = open_store(f"sqlite:///{path}", check=False, must_exist=False)
    upgrade(s)
    return s


def _assert_same(a_url: str, b_url: str) -> dict[str, pd.DataFrame]:
    got, want = store_snapshot(a_url), store_snapshot(b_url)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    return want


# each chunk replays every (daily) evaluation of the history: small marketplaces, a few chunks each
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(1, 10_000),
    sellers=st.integers(5, 10),
    days=st.sampled_from([60, 90]),
    chunk=st.integers(2, 5),
    back=st.integers(0, 3),
)
def test_chunked_build_writes_the_store_of_one_chunk(tmp_path_factory, seed, sellers, days, chunk, back):
    d = tmp_path_factory.mktemp("chunks")
    wh = connect(str(marketplace(d, seed=seed, sellers=sellers, days=days)))
    policy = load_policy(POLICY)
    built = END - timedelta(days=back)
    try:
        urls = []
        for name, size in (("whole", 10**6), ("chunked", chunk)):
            s = _store(d / f"{name}.sqlite")
            res = run_daily(wh, s, policy, built, chunk_sellers=size, allow_stale=True)
            assert res.rebuilt_from is not None and len(res.days) == 1  # (a generated market may end early)
            if back:  # the days after the build, from the stored states
                run_daily(wh, s, policy, END, chunk_sellers=size, allow_stale=True)
            urls.append(str(s.engine.url))
            s.dispose()
        want = _assert_same(urls[1], urls[0])
        assert len(want["memberships"]) >= sellers  # every seller of every marketplace has a membership
        assert len(want["events"]) > 0
    finally:
        wh.close()


def test_chunked_rebuild_after_operator_actions(tmp_path, monkeypatch):
    """Actions applied by earlier runs are replayed on their days in the seller's chunk; the env setting
    chooses the chunk size of every build the demo program runs."""
    from cxops.service.demo_program import run_demo_program

    wh = connect(str(marketplace(tmp_path)))
    policy = load_policy(POLICY)
    urls = []
    try:
        for name, size in (("whole", "1000000"), ("chunked", "5")):
            monkeypatch.setenv("CXOPS_BUILD_CHUNK_SELLERS", size)
            s = _store(tmp_path / f"{name}.sqlite")
            demo = run_demo_program(wh, s, policy, END)
            assert demo.actions  # operator actions were applied by the daily runs
            res = run_daily(wh, s, policy, END, rebuild_from=END - timedelta(days=20))
            assert res.rebuilt_from == END - timedelta(days=20)
            urls.append(str(s.engine.url))
            s.dispose()
    finally:
        wh.close()
    want = _assert_same(urls[1], urls[0])
    assert (want["events"]["kind"] == "rebuild").sum() == 2  # the initial build and the rebuild


def test_chunk_size_setting(monkeypatch):
    monkeypatch.delenv("CXOPS_BUILD_CHUNK_SELLERS", raising=False)
    assert Settings().build_chunk_sellers == 5_000
    assert Settings(build_chunk_sellers=3).build_chunk_sellers == 3
    with pytest.raises(ValueError):
        Settings(build_chunk_sellers=0)
    monkeypatch.setenv("CXOPS_BUILD_CHUNK_SELLERS", "500")
    assert Settings().build_chunk_sellers == 500
