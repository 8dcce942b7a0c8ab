"""Crash safety of the daily job: SIGKILL at random points, rerun, the same store as without crashes.

Each run of a short program (an initial build, then single days) is first started in a subprocess that
is killed — by the job itself at a chosen point (``CXOPS_DAILY_CRASH``: before the writes, inside the
build's transaction after its first chunk of sellers, inside the transaction before the commit, just
after the commit) or by the test after a random delay — and then run again to the end. The store under
test builds 3 sellers at a time; it must end identical to a store written by the same runs without any
crash and in one chunk (memberships, the event log by idempotency key, alerts, benefits, outbox,
succeeded runs), and no event may be recorded twice. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import timedelta

import pandas as pd
import pytest
from _daily import END, marketplace, store_snapshot
from _store import store_url  # noqa: F401
from sqlalchemy import text

from cxops.store import open_store, upgrade
from cxops.store.db import normalise_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLICY = "marketplace-enforcement"
DAYS = [END - timedelta(days=2), END - timedelta(days=1), END]
#: ``build_chunk``: inside the build's transaction, after its first chunk of sellers is written.
POINTS = ["before_write", "build_chunk", "before_commit", "after_commit", "timer"]
#: The store under test builds 3 sellers at a time; the reference in one chunk.
CHUNK = "3"

SCRIPT = """
import sys
from datetime import date
from cxops.policy.load import load_policy
from cxops.service.daily import run_daily
from cxops.store import open_store
from cxops.warehouse import connect
wh = connect(sys.argv[1])
s = open_store(sys.argv[2])
run_daily(wh, s, load_policy(sys.argv[3]), date.fromisoformat(sys.argv[4]))
s.dispose()
wh.close()
"""


def _job(wh, url, day, crash=None, kill_after=None, chunk=None) -> int:
    env = {**os.environ}
    env.pop("CXOPS_DAILY_CRASH", None)
    env.pop("CXOPS_BUILD_CHUNK_SELLERS", None)
    if chunk:
        env["CXOPS_BUILD_CHUNK_SELLERS"] = chunk
    if crash:
        env["CXOPS_DAILY_CRASH"] = crash
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, str(wh), url, POLICY, day.isoformat()], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    if kill_after is not None:
        try:
            p.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=600)
    if crash is None and kill_after is None:
        assert p.returncode == 0, err.decode()[-3000:]
    return p.returncode


def _fresh(url: str) -> str:
    s = open_store(url, check=False, must_exist=False)
    upgrade(s)
    s.dispose()
    return url


def _second_schema(request) -> str:
    """Another fresh PostgreSQL schema (dropped at the end of the test)."""
    import uuid

    from _store import require_pg
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = require_pg()
    schema = f"cxops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    request.addfinalizer(drop)
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def test_killed_runs_rerun_to_the_uninterrupted_store(tmp_path, store_url, request):  # noqa: F811
    wh = marketplace(tmp_path, sellers=8, days=90)
    url = _fresh(normalise_url(store_url))
    # the reference: the same runs, never interrupted, in a second store
    if store_url.startswith("sqlite"):
        ref_url = _fresh(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    else:
        ref_url = _fresh(_second_schema(request))
    for day in DAYS:
        _job(wh, ref_url, day)
    rng = random.Random(20261205)
    crashed = 0
    for day in DAYS:
        for _ in range(2):  # two interrupted attempts, then one to the end
            point = rng.choice(POINTS)
            if point == "timer":
                code = _job(wh, url, day, kill_after=rng.uniform(1.0, 12.0), chunk=CHUNK)
            else:
                code = _job(wh, url, day, crash=point, chunk=CHUNK)
            crashed += code == -signal.SIGKILL
        _job(wh, url, day, chunk=CHUNK)
    assert crashed >= 3  # the job really was killed, several times
    got, want = store_snapshot(url), store_snapshot(ref_url)
    assert not got["events"].duplicated(subset=["idempotency_key"]).any()
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
