"""Crash safety of the daily job: SIGKILL at random points, rerun, the same store as without crashes.

Each run of a short program (an initial build, then single days) is first started in a subprocess that
is killed — by the job itself at a chosen point (``CXOPS_DAILY_CRASH``: before the writes, inside the
transaction before the commit, just after the commit) or by the test after a random delay — and then
run again to the end. The store must end identical to a store written by the same runs without any
crash (memberships, the event log by idempotency key, alerts, benefits, outbox, succeeded runs), and no
event may be recorded twice. On SQLite and on PostgreSQL.
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
from _daily import END, marketplace
from _store import store_url  # noqa: F401
from sqlalchemy import text

from cxops.store import open_store, upgrade
from cxops.store.db import normalise_url

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POLICY = "marketplace-enforcement"
DAYS = [END - timedelta(days=2), END - timedelta(days=1), END]
POINTS = ["before_write", "before_commit", "after_commit", "timer"]

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


def _job(wh, url, day, crash=None, kill_after=None) -> int:
    env = {**os.environ}
    env.pop("CXOPS_DAILY_CRASH", None)
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


def _snapshot(url: str) -> dict[str, pd.DataFrame]:
    s = open_store(url)
    out = {}
    queries = {
        "memberships": "SELECT * FROM memberships",
        "events": "SELECT * FROM events",
        "alerts": "SELECT * FROM alerts",
        "benefits": "SELECT * FROM benefits",
        "outbox": "SELECT idempotency_key FROM outbox",
        "runs": "SELECT as_of, status, rebuild_from FROM runs WHERE status = 'succeeded'",
    }
    drop = {"id", "updated_at", "last_run_id", "occurred_at", "run_id", "created_at", "closed_run_id"}
    with s.engine.connect() as conn:
        for name, q in queries.items():
            df = pd.read_sql(text(q), conn)
            df = df.drop(columns=[c for c in df.columns if c in drop])
            df = df.astype(str)
            out[name] = df.sort_values(list(df.columns), ignore_index=True)
    s.dispose()
    return out


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
                code = _job(wh, url, day, kill_after=rng.uniform(1.0, 12.0))
            else:
                code = _job(wh, url, day, crash=point)
            crashed += code == -signal.SIGKILL
        _job(wh, url, day)
    assert crashed >= 3  # the job really was killed, several times
    got, want = _snapshot(url), _snapshot(ref_url)
    assert not got["events"].duplicated(subset=["idempotency_key"]).any()
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
