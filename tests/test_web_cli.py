"""``cxops users``, ``cxops tokens`` and ``cxops serve`` end to end: passwords never in argv, tokens
printed once, and the server started as a real process on 127.0.0.1, answering, stopped by its PID."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cxops import store as st
from cxops.cli import app

pytestmark = pytest.mark.e2e
runner = CliRunner()
PASSWORD = "correct horse battery staple"


def run(*args: str, code: int = 0, input: str | None = None):  # noqa: A002
    res = runner.invoke(app, list(args), input=input)
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    return " ".join(res.output.split())


@pytest.fixture
def url(store_url):
    run("store", "upgrade", "--store", store_url)
    return store_url


def test_users_add_list_reset_remove(url):
    out = run(
        "users",
        "add",
        "Carla",
        "--role",
        "operator-admin",
        "--name",
        "Carla Diaz",
        "--password-stdin",
        "--actor",
        "root",
        "--store",
        url,
        input=PASSWORD + "\n",
    )
    assert "added user carla (operator-admin)" in out
    out = run(
        "users",
        "add",
        "shop",
        "--role",
        "seller",
        "--seller",
        "S1",
        "--seller",
        "S2:US",
        "--language",
        "zh",
        "--password-stdin",
        "--store",
        url,
        input=PASSWORD + "\n",
    )
    assert "added user shop (seller) for S1, S2:US" in out
    assert "no terminal to ask for the password" in run(
        "users", "add", "x", "--role", "operator-viewer", "--store", url, code=1
    )
    assert "No such option: --password" in run(
        "users", "add", "x", "--role", "operator-viewer", "--password", PASSWORD, "--store", url, code=2
    )
    assert "too short" in run(
        "users",
        "add",
        "x",
        "--role",
        "operator-viewer",
        "--password-stdin",
        "--store",
        url,
        input="short\n",
        code=1,
    )
    assert "exists already" in run(
        "users",
        "add",
        "CARLA",
        "--role",
        "operator-viewer",
        "--password-stdin",
        "--store",
        url,
        input=PASSWORD + "\n",
        code=1,
    )
    res = runner.invoke(app, ["users", "list", "--format", "jsonl", "--store", url])
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [(r["login"], r["role"], r["sellers"], r["language"]) for r in rows] == [
        ("carla", "operator-admin", [], None),
        ("shop", "seller", ["S1:*", "S2:US"], "zh"),
    ]
    assert PASSWORD not in res.output and "argon2" not in res.output
    assert "new password set for shop" in run(
        "users", "reset", "shop", "--password-stdin", "--store", url, input="another good password\n"
    )
    assert "removed user shop" in run("users", "remove", "SHOP", "--store", url)
    assert "no user 'shop'" in run("users", "remove", "shop", "--store", url, code=1)
    s = st.open_store(url)
    try:
        with s.unit_of_work(write=False) as session:
            events = st.load_events(session)
    finally:
        s.dispose()
    assert list(events["kind"]) == ["user_added", "user_added", "password_reset", "user_removed"]
    assert list(events["actor"])[0] == "root"


def test_tokens_create_list_revoke(url):
    res = runner.invoke(
        app,
        [
            "tokens",
            "create",
            "bi-export",
            "--role",
            "seller",
            "--seller",
            "S1:US",
            "--expires-days",
            "30",
            "--store",
            url,
        ],
    )
    assert res.exit_code == 0, res.output
    token = res.stdout.strip()
    assert token.startswith("cxops_") and "shown only this once" in res.stderr
    res = runner.invoke(app, ["tokens", "list", "--format", "jsonl", "--store", url])
    (row,) = [json.loads(line) for line in res.output.splitlines()]
    assert token not in res.output and token.startswith(row["prefix"])
    assert (row["name"], row["role"], row["sellers"], row["active"]) == (
        "bi-export",
        "seller",
        ["S1:US"],
        True,
    )
    assert "revoked token 1 (bi-export)" in run("tokens", "revoke", row["prefix"], "--store", url)
    assert "revoked already" in run("tokens", "revoke", "1", "--store", url, code=1)
    assert "a seller user or token needs" in run(
        "tokens", "create", "x", "--role", "seller", "--store", url, code=1
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cxops_serve_answers_on_loopback_and_stops_by_pid(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    run("store", "upgrade", "--store", store)
    cxops = Path(sys.executable).with_name("cxops")
    port = _free_port()
    proc = subprocess.Popen(
        [str(cxops), "serve", "--port", str(port), "--store", store],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, proc.stderr.read() if proc.poll() is not None else "no answer in 60 s"
        assert health.status_code == 200 and health.json()["store"] == "ok"
        assert "server" not in health.headers  # uvicorn's banner is off
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/members").status_code == 401
        docs = httpx.get(f"http://127.0.0.1:{port}/api/v1/docs")
        assert docs.status_code == 200 and "default-src 'self'" in docs.headers["content-security-policy"]
        # an idle connection stays open past uvicorn's 5 s default (a person's pause between pages)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(2):  # the second on the same connection, after the pause
                conn.request("GET", "/api/v1/health")
                r = conn.getresponse()  # RemoteDisconnected when the server closed it meanwhile
                assert r.status == 200 and r.read()
                time.sleep(6.5)
        finally:
            conn.close()
    finally:
        proc.terminate()  # by its PID (SIGTERM): uvicorn shuts down gracefully
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    err = proc.stderr.read()
    assert f"serving on http://127.0.0.1:{port}" in err and "no users yet" in err
    assert proc.returncode in (0, -15), err


def test_cxops_serve_refuses_a_store_that_is_not_there(tmp_path):
    out = run("serve", "--store", f"sqlite:///{tmp_path / 'missing.sqlite'}", code=1)
    assert "not found" in out and "cxops store upgrade" in out


def test_worker_environment_carries_the_settings_to_a_worker_process(monkeypatch, tmp_path):
    """``cxops serve --workers N``: each worker builds its app from the environment the parent sets;
    it must be the parent's settings, with the outbox sender off (it runs once, in the parent)."""
    from cxops.service.notifications import outbox_worker_enabled
    from cxops.web.app import worker_environment
    from cxops.web.config import web_settings

    parent = web_settings(
        f"sqlite:///{tmp_path / 's.sqlite'}",
        str(tmp_path / "w.duckdb"),
        secure_cookies=True,
        trust_proxy=True,
        forwarded_allow_ips="10.0.0.1,10.0.0.2",
        policy="customer-excellence",
        session_idle_minutes=7,
    )
    monkeypatch.setenv("CXOPS_WEB_WORKER", "1")
    monkeypatch.setenv("CXOPS_WEB_SECURE_COOKIES", "0")  # the parent's resolved value must win
    for key, value in worker_environment(parent).items():
        monkeypatch.setenv(key, value)
    child = web_settings()
    assert child.model_dump() == parent.model_dump()
    assert (child.store_url, child.warehouse_url) == (parent.store_url, parent.warehouse_url)
    assert child.secure_cookies is True and child.session_idle_minutes == 7
    assert outbox_worker_enabled() is False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_cxops_serve_with_two_workers(tmp_path):
    """Two uvicorn worker processes answer; the settings reach them (``--secure-cookies``: the login
    page's cookie is ``Secure``); stopped by the parent's PID, the workers stop too."""
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    run("store", "upgrade", "--store", store)
    cxops = Path(sys.executable).with_name("cxops")
    port = _free_port()
    proc = subprocess.Popen(
        [str(cxops), "serve", "--port", str(port), "--store", store, "--workers", "2", "--secure-cookies"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CXOPS_WEB_WORKER": "1"},
    )
    workers: list[int] = []
    try:
        deadline, health = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None, proc.stderr.read() if proc.poll() is not None else "no answer in 90 s"
        assert health.status_code == 200 and health.json()["store"] == "ok"
        login = httpx.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "secure" in login.headers["set-cookie"].lower()
        # uvicorn's supervisor: the worker processes are children of `cxops serve` (plus, on some
        # Pythons, multiprocessing's resource tracker, which holds no listening socket)
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [p for p in _children(proc.pid) if "resource_tracker" not in _cmdline(p)]
            time.sleep(0.2)
        assert len(workers) == 2, workers
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode in (0, -15), proc.stderr.read()
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
