"""Webhooks against a real HTTP receiver on 127.0.0.1: signed JSON (HMAC-SHA256 over timestamp.body),
retried with exponential backoff and jitter after failures, dead-lettered after N; the signature check
a receiver makes (tampered body, wrong secret, stale timestamp)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from _mail import WebhookReceiver
from _store import store, store_url  # noqa: F401
from sqlalchemy import text

from cxops.notify import contacts as C
from cxops.notify.channels import sign, verify_signature, webhook_body
from cxops.notify.config import notify_config
from cxops.notify.deliver import backoff, send_due
from cxops.notify.messages import Alert, Removal
from cxops.notify.outbox import enqueue
from cxops.settings import Settings
from cxops.store.notify_models import OutboxMessage

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SECRET = "whsec_test_0123456789abcdef"
REMOVAL = Removal(
    seller_id="S1", marketplace_id="US", program="customer-excellence", event_date=date(2026, 12, 1)
)


@pytest.mark.unit
def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    header = sign("k" * 16, 1_700_000_000, body)
    want = hmac.new(b"k" * 16, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={want}"
    assert verify_signature("k" * 16, header, body, now=1_700_000_100)
    assert not verify_signature("k" * 16, header, b'{"a":2}', now=1_700_000_100)  # tampered body
    assert not verify_signature("x" * 16, header, body, now=1_700_000_100)  # wrong secret
    assert not verify_signature("k" * 16, header, body, now=1_700_000_301)  # stale: 301 s > 300 s
    assert not verify_signature("k" * 16, header, body, now=1_699_999_699)  # from the future
    assert not verify_signature("k" * 16, None, body) and not verify_signature("k" * 16, "v1=abc", body)


@pytest.mark.unit
def test_backoff_doubles_with_equal_jitter_and_a_cap():
    rng = random.Random(7)
    for attempt in range(1, 12):
        d = min(3600, 60 * 2 ** (attempt - 1))
        for _ in range(50):
            assert d / 2 <= backoff(attempt, 60, 3600, rng) <= d
    spread = {round(backoff(3, 60, 3600, rng)) for _ in range(50)}
    assert len(spread) > 10  # jitter: retries of many messages do not line up


def _config(tmp_path, **kw):
    return replace(notify_config(Settings(mail_dir=str(tmp_path / "mail"))), **kw)


@pytest.mark.integration
def test_receiver_fails_twice_then_gets_one_signed_message(store, tmp_path):  # noqa: F811
    rx = WebhookReceiver(SECRET, fail_first=2)
    try:
        with store.unit_of_work() as session:
            C.add_webhook(session, rx.url, secret=SECRET, kinds=["removal"], language="zh")
            C.add_webhook(session, rx.url + "/alerts-only", secret=SECRET, kinds=["alert"])
            enqueue(session, [("ev-1", REMOVAL)], now=NOW, domain="example.com")
        cfg = _config(tmp_path, retry_base=0.2, retry_cap=1.0, max_attempts=5)
        t0 = datetime.now(UTC)
        r1 = send_due(store, cfg)
        t1 = datetime.now(UTC)
        assert (r1.sent, r1.failed) == (0, 1)
        with store.unit_of_work(write=False) as session:
            at1 = session.get(OutboxMessage, 1).available_at
        asked = datetime.now(UTC)
        early = send_due(store, cfg).claimed
        if asked < at1:  # asked before the retry was due (a loaded machine may take longer): not sent
            assert early == 0  # the backoff holds it
        deadline = time.monotonic() + 10
        sent = 0
        while sent == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            sent += send_due(store, cfg).sent
    finally:
        rx.stop()
    assert sent == 1 and len(rx.requests) == 3 and len(rx.accepted) == 1
    got = rx.accepted[0]
    assert got["headers"]["Idempotency-Key"] == "ev-1|webhook|1"
    assert got["headers"]["Content-Type"].startswith("application/json")
    payload = got["json"]
    assert payload["kind"] == "removal" and payload["seller_id"] == "S1" and payload["language"] == "zh"
    assert payload["subject"] == "您已被移出 Customer Excellence 卓越卖家 项目"
    assert payload["data"]["action"] == "removed" and payload["data"]["event_date"] == "2026-12-01"
    # every try carried the same id and body; only the signature's timestamp may differ
    assert {r["headers"]["Idempotency-Key"] for r in rx.requests} == {"ev-1|webhook|1"}
    assert len({r["body"] for r in rx.requests}) == 1
    assert rx.requests[0]["body"] == webhook_body(payload)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT attempt, outcome, response FROM outbox_attempts ORDER BY id")).all()
    assert [(a, o) for a, o, _ in rows] == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert rows[0][2].startswith("HTTP 503")
    # the first retry waits a random point of [0.1, 0.2] s (base 0.2 s, equal jitter)
    assert t0 + timedelta(seconds=0.1) <= at1 <= t1 + timedelta(seconds=0.2)


@pytest.mark.integration
def test_dead_lettered_after_max_attempts_and_a_bad_signature_is_refused(tmp_path):
    from cxops.store import open_store, upgrade

    s = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", check=False, must_exist=False)
    upgrade(s)
    rx = WebhookReceiver("another-secret-entirely", fail_first=0)  # the receiver knows another secret
    try:
        with s.unit_of_work() as session:
            C.add_webhook(session, rx.url, secret=SECRET)
            enqueue(session, [("ev-1", REMOVAL)], now=NOW, domain="example.com")
        cfg = _config(tmp_path, retry_base=0.0, retry_cap=0.0, max_attempts=3)
        total = [send_due(s, cfg) for _ in range(5)]
    finally:
        rx.stop()
    assert sum(t.failed for t in total) == 2 and sum(t.dead for t in total) == 1
    assert total[-1].claimed == 0  # dead letters are not tried again
    assert len(rx.requests) == 3 and rx.accepted == []
    with s.engine.connect() as conn:
        status, attempts, err = conn.execute(text("SELECT status, attempts, last_error FROM outbox")).one()
    s.dispose()
    assert (status, attempts) == ("dead", 3) and err.startswith("HTTP 400")


@pytest.mark.integration
def test_410_gone_is_dead_at_once_and_endpoints_filter_by_seller_and_kind(tmp_path):
    from cxops.store import open_store, upgrade

    s = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", check=False, must_exist=False)
    upgrade(s)
    rx = WebhookReceiver(SECRET, status_after=410)
    try:
        with s.unit_of_work() as session:
            C.add_webhook(session, rx.url, secret=SECRET, seller_id="S1")
            C.add_webhook(session, rx.url + "/other", secret=SECRET, seller_id="S2")
            alert = Alert(seller_id="S1", marketplace_id="US", alert="chargeback", order_id="O1")
            r = enqueue(session, [("ev-1", REMOVAL), ("al-1", alert)], now=NOW, domain="example.com")
        assert r.messages == 2  # S1's endpoint only
        rep = send_due(s, _config(tmp_path, max_attempts=8))
    finally:
        rx.stop()
    s.dispose()
    assert rep.dead == 2 and len(rx.requests) == 2
    assert {json.loads(q["body"])["kind"] for q in rx.requests} == {"removal", "alert"}


@pytest.mark.unit
def test_webhook_urls_must_be_https_except_loopback():
    from cxops.errors import InputError

    assert C.check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"
    assert C.check_url("http://127.0.0.1:8080/x").startswith("http://127.0.0.1")
    for bad in ("http://hooks.example.com/x", "ftp://x/y", "hooks.example.com"):
        with pytest.raises(InputError):
            C.check_url(bad)
