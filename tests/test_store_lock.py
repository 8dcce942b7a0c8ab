"""The job lock: a lease in the store refuses a second job with a ConflictError naming the holder —
across processes and across connections, on SQLite and PostgreSQL — and a dead holder's lease is
taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from cxops.errors import ConflictError
from cxops.store import JobLock, current_lock
from cxops.store.lock import LOCKS

NAME = "daily:customer-excellence"
HOLDER = """
import sys
from datetime import timedelta
from cxops.store import JobLock, open_store
store = open_store(sys.argv[1])
with JobLock(store, sys.argv[2], ttl=timedelta(seconds=float(sys.argv[3]))):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def _holder(url: str, ttl: float = 60.0) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, url, NAME, str(ttl)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert p.stdout.readline().strip() == "held"
    return p


def _url(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_a_second_process_is_refused_while_the_first_holds_the_lock(store):
    p = _holder(_url(store))
    try:
        with pytest.raises(
            ConflictError, match=rf"{NAME} is already running: held by process {p.pid} on "
        ) as e:
            JobLock(store, NAME).acquire()
        assert "expires at" in e.value.hint
        assert current_lock(store, NAME)["pid"] == p.pid
    finally:
        p.stdin.write("\n")
        p.stdin.flush()
        assert p.stdout.readline().strip() == "released"
        p.wait(30)
    assert current_lock(store, NAME) is None
    with JobLock(store, NAME) as lock:  # free again
        assert current_lock(store, NAME)["owner"] == lock.owner


def test_a_killed_holder_is_replaced_at_once_on_the_same_host(store):
    p = _holder(_url(store))
    os.kill(p.pid, signal.SIGKILL)
    p.wait(30)
    assert current_lock(store, NAME)["pid"] == p.pid  # the dead process left its lease behind
    with JobLock(store, NAME) as lock:
        assert current_lock(store, NAME)["owner"] == lock.owner


def _foreign(store, expires: datetime) -> None:
    now = datetime.now(UTC)
    with store.unit_of_work() as s:
        s.execute(insert(LOCKS).values(name=NAME, owner="other-host:1:x", host="other-host", pid=1,
                                       acquired_at=now, heartbeat_at=now, expires_at=expires))  # fmt: skip


def test_another_hosts_lease_is_respected_until_it_expires(store):
    _foreign(store, datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(ConflictError, match="held by process 1 on other-host"):
        JobLock(store, NAME).acquire()


def test_an_expired_lease_is_taken_over(store):
    _foreign(store, datetime.now(UTC) - timedelta(seconds=1))
    lock = JobLock(store, NAME, heartbeat=False)
    lock.acquire()
    assert current_lock(store, NAME)["owner"] == lock.owner
    lock.release()


def test_connections_racing_for_the_lock_get_one_winner_and_clear_refusals(store):
    results: list[str] = []
    barrier = threading.Barrier(6)

    def contend():
        lock = JobLock(store, NAME, heartbeat=False)
        barrier.wait()
        try:
            lock.acquire()
            results.append("won")
        except ConflictError as e:
            results.append("refused" if "already running" in str(e) or "changed hands" in str(e) else str(e))
        except Exception as e:  # a database error would be a defect
            results.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == ["refused"] * 5 + ["won"]


def test_heartbeat_extends_and_a_lost_lease_stops_the_job(store):
    lock = JobLock(store, NAME, ttl=timedelta(seconds=30), heartbeat=False)
    lock.acquire()
    first = current_lock(store, NAME)["expires_at"]
    time.sleep(0.05)
    lock.heartbeat()
    assert current_lock(store, NAME)["expires_at"] > first
    with store.unit_of_work() as s:
        lock.assert_held(s)
    # the lease expires and another job takes it: the first job must not commit anything
    with store.unit_of_work() as s:
        s.execute(LOCKS.update().values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    other = JobLock(store, NAME, heartbeat=False)
    other.acquire()
    with pytest.raises(ConflictError, match="no longer held"):
        with store.unit_of_work() as s:
            lock.assert_held(s)
    with pytest.raises(ConflictError, match="was lost"):
        lock.heartbeat()
    lock.release()  # not ours any more: a no-op
    with store.unit_of_work() as s:
        assert s.execute(select(LOCKS.c.owner)).scalar_one() == other.owner


def test_the_lease_is_renewed_in_the_background(store):
    with JobLock(store, NAME, ttl=timedelta(seconds=0.6)) as lock:
        first = current_lock(store, NAME)["heartbeat_at"]
        time.sleep(0.7)  # past the first ttl: renewed every 0.2 s
        row = current_lock(store, NAME)
        assert row["owner"] == lock.owner and row["heartbeat_at"] > first
        assert row["expires_at"] > datetime.now(UTC)
