"""The sender killed (SIGKILL, a real subprocess) at every step, against a real SMTP server: each message
reaches the receiver once — twice only when the kill falls between the server's acceptance and the
record of it, and then with the same Message-ID. Concurrent senders never send a message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from _mail import SmtpServer
from _store import store, store_url  # noqa: F401
from sqlalchemy import text

from cxops.notify import contacts as C
from cxops.notify.messages import Alert
from cxops.notify.outbox import enqueue

pytestmark = [pytest.mark.e2e]

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _url(store) -> str:  # noqa: F811
    return store.engine.url.render_as_string(hide_password=False)


def _enqueue(store, n: int) -> None:  # noqa: F811
    with store.unit_of_work() as session:
        C.add_contact(session, "S1", "US", "ana@example.com")
        items = [
            (
                f"al-{i}",
                Alert(
                    seller_id="S1",
                    marketplace_id="US",
                    alert="chargeback",
                    alert_date=date(2026, 11, 30),
                    order_id=f"O-{i}",
                ),
            )
            for i in range(n)
        ]
        enqueue(session, items, now=NOW, domain="example.com")


def _env(server: SmtpServer, tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXOPS_")}
    env.update(
        CXOPS_SMTP_HOST="127.0.0.1",
        CXOPS_SMTP_PORT=str(server.port),
        CXOPS_SMTP_STARTTLS="0",
        CXOPS_SMTP_FROM="cx@example.com",
        CXOPS_NOTIFY_LEASE_SECONDS="1",
        CXOPS_MAIL_DIR=str(tmp_path / "unused"),
    )
    env.update(extra)
    return env


def _send(store, env, *args) -> subprocess.Popen:  # noqa: F811
    cmd = [sys.executable, "-m", "cxops.cli", "notify", "send", "--store", _url(store), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path, proc, timeout=60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if proc.poll() is not None:
            raise AssertionError(f"sender ended before pausing: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("sender never reached the pause point")


def _statuses(store):  # noqa: F811
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT idempotency_key, status, attempts FROM outbox ORDER BY id")).all()
        attempts = conn.execute(
            text(
                "SELECT o.idempotency_key, a.attempt, a.outcome FROM outbox_attempts a "
                "JOIN outbox o ON o.id = a.outbox_id ORDER BY a.id"
            )
        ).all()
    return rows, attempts


@pytest.mark.parametrize("point", ["claimed", "accepted", "recorded"])
def test_sender_killed_at_each_step(store, tmp_path, point):  # noqa: F811
    server = SmtpServer(tmp_path / "rx")
    try:
        _enqueue(store, 3)
        pause = tmp_path / "paused"
        proc = _send(
            store, _env(server, tmp_path, CXOPS_NOTIFY_PAUSE_AT=point, CXOPS_NOTIFY_PAUSE_FILE=str(pause))
        )
        key = _wait_for(pause, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
        before = [m["X-Cxops-Idempotency-Key"] for m, _ in server.received()]
        # the killed sender's lease (1 s) runs out; a new sender finishes the job
        time.sleep(1.2)
        again = _send(store, _env(server, tmp_path))
        out, errs = again.communicate(timeout=120)
        assert again.returncode == 0, errs
        got = server.received()
    finally:
        server.stop()
    keys = [m["X-Cxops-Idempotency-Key"] for m, _ in got]
    ids: dict[str, set[str]] = {}
    for m, _ in got:
        ids.setdefault(m["X-Cxops-Idempotency-Key"], set()).add(m["Message-ID"])
    assert set(keys) == {f"al-{i}|email|1" for i in range(3)}
    counts = Counter(keys)
    if point == "claimed":
        assert before == [] and all(n == 1 for n in counts.values())
    elif point == "accepted":
        # the documented window: accepted by the server, not recorded; sent again, same Message-ID
        assert before == [key]
        assert counts[key] == 2 and all(n == 1 for k, n in counts.items() if k != key)
        assert len(ids[key]) == 1
    else:
        assert before == [key] and all(n == 1 for n in counts.values())
    rows, attempts = _statuses(store)
    assert [r.status for r in rows] == ["sent"] * 3
    first = [a for a in attempts if a.idempotency_key == key]
    if point == "recorded":
        assert [(a.attempt, a.outcome) for a in first] == [(1, "sent")]
    else:
        # the killed attempt stays open (no outcome): the log shows the sender died during it
        assert [(a.attempt, a.outcome) for a in first] == [(1, None), (2, "sent")]


def test_concurrent_senders_send_each_message_once(store, tmp_path):  # noqa: F811
    server = SmtpServer(tmp_path / "rx")
    try:
        _enqueue(store, 40)
        procs = [_send(store, _env(server, tmp_path, CXOPS_NOTIFY_LEASE_SECONDS="120")) for _ in range(3)]
        for p in procs:
            out, errs = p.communicate(timeout=180)
            assert p.returncode == 0, errs
        got = server.received()
    finally:
        server.stop()
    keys = [m["X-Cxops-Idempotency-Key"] for m, _ in got]
    assert len(keys) == 40 and len(set(keys)) == 40
    rows, attempts = _statuses(store)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert len(attempts) == 40
