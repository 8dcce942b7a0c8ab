"""``cxops notify`` and ``cxops worker`` end to end, and the outbox worker inside ``cxops serve``."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from typer.testing import CliRunner

from cxops.cli import app
from cxops.notify.messages import Removal
from cxops.notify.outbox import enqueue
from cxops.store import open_store, upgrade

pytestmark = pytest.mark.e2e
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    s = open_store(url, check=False, must_exist=False)
    upgrade(s)
    s.dispose()
    for k in list(os.environ):
        if k.startswith("CXOPS_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("CXOPS_STORE", url)
    monkeypatch.setenv("CXOPS_MAIL_DIR", str(tmp_path / "mail"))
    return url


def _run(*args):
    r = runner.invoke(app, list(args))
    return r.exit_code, r.output


def _removal(url, key="ev-1"):
    s = open_store(url)
    with s.unit_of_work() as session:
        enqueue(
            session,
            [
                (
                    key,
                    Removal(
                        seller_id="S1",
                        marketplace_id="US",
                        program="customer-excellence",
                        event_date=date(2026, 12, 1),
                    ),
                )
            ],
        )
    s.dispose()


def test_contacts_preferences_send_and_outbox(env, tmp_path):
    code, out = _run("notify", "contacts", "add", "S1", "--email", "ana@example.com", "--language", "zh")
    assert code == 0 and "contact 1" in out
    code, out = _run("notify", "contacts", "set", "1", "--mute", "removal")
    assert code == 1 and "error:" in out and "cannot be turned off" in out and "Traceback" not in out
    code, out = _run("notify", "contacts", "set", "1", "--mute", "alert", "--digest")
    assert code == 0 and "muted: alert" in out and "daily digest" in out
    _removal(env)
    code, out = _run("notify", "send")
    assert code == 0 and "sent 1, failed 0 (to retry), dead 0" in out
    files = list((tmp_path / "mail").rglob("*.eml"))
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"] == "ana@example.com" and msg["Subject"] == "您已被移出 Customer Excellence 卓越卖家 项目"
    code, out = _run("notify", "outbox", "--format", "jsonl")
    assert code == 0 and '"status": "sent"' in out
    code, out = _run("notify", "retry", "1")
    assert code == 1 and "only dead or failed messages" in out
    csv = tmp_path / "c.csv"
    csv.write_text("seller_id,email,marketplace_id,language,digest\nS2,bo@example.com,US,en,yes\nS3,bad,,,\n")
    code, out = _run("notify", "contacts", "import", str(csv))
    assert code == 1 and "contacts row 2, column email" in out


def test_webhooks_and_preview(env, tmp_path):
    code, out = _run("notify", "webhooks", "add", "http://example.com/hook")
    assert code == 1 and "use https://" in out
    code, out = _run("notify", "webhooks", "add", "https://hooks.example.com/cx", "--kind", "removal")
    assert code == 0 and "signing secret (shown once): whsec_" in out
    code, out = _run("notify", "webhooks", "list")
    assert code == 0 and "whsec_" not in out and "removal" in out
    code, out = _run("notify", "preview", "invitation", "--language", "zh")
    assert code == 0 and "为高绩效卖家解锁专属权益" in out
    code, out = _run("notify", "preview", "invitation", "--out", str(tmp_path / "i.eml"))
    msg = email.message_from_bytes((tmp_path / "i.eml").read_bytes(), policy=email.policy.default)
    assert code == 0 and msg["Subject"] == "Unlock benefits for high-performing sellers"
    code, out = _run("notify", "preview", "nonsense")
    assert code == 1 and "unknown message kind" in out


def test_worker_sends_until_sigterm(env, tmp_path):
    assert _run("notify", "contacts", "add", "S1", "--email", "ana@example.com")[0] == 0
    _removal(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxops.cli", "worker", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "mail").rglob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list((tmp_path / "mail").rglob("*.eml"))
        _removal(env, "ev-2")  # a message enqueued while it runs is sent at its next round
        while len(list((tmp_path / "mail").rglob("*.eml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        out, errs = proc.communicate(timeout=30)
    assert proc.returncode == 0, errs
    assert len(list((tmp_path / "mail").rglob("*.eml"))) == 2 and "sent 1" in out


def test_serve_runs_the_outbox_worker_when_configured(env, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from cxops.web import create_app
    from cxops.web.config import web_settings

    assert _run("notify", "contacts", "add", "S1", "--email", "ana@example.com")[0] == 0
    _removal(env)
    monkeypatch.setenv("CXOPS_WEB_WORKER", "1")
    with TestClient(create_app(web_settings())):
        deadline = time.monotonic() + 30
        while not list((tmp_path / "mail").rglob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(list((tmp_path / "mail").rglob("*.eml"))) == 1
