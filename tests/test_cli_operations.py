"""``cxops store``, ``cxops seller`` and ``cxops managers`` end to end (CliRunner) on SQLite and
PostgreSQL: clear errors without tracebacks, actions pending and logged, managers assigned."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxops import store as st
from cxops.cli import app

pytestmark = pytest.mark.e2e
runner = CliRunner()
P = "customer-excellence"


def run(*args: str, code: int = 0):
    res = runner.invoke(app, list(args))
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    # rich wraps long lines at the terminal width: compare with whitespace collapsed
    return SimpleNamespace(output=res.output, text=" ".join(res.output.split()))


@pytest.fixture
def url(store_url):
    res = run("store", "upgrade", "--store", store_url)
    assert f"upgraded from (empty) to {st.head()}" in res.text
    s = st.open_store(store_url)
    with s.unit_of_work() as session:
        st.upsert_memberships(session, P, pd.DataFrame({
            "seller_id": ["S1", "S2", "S3"], "marketplace_id": "US",
            "state": ["enrolled", "removed", "at_risk"],
            "since": date(2026, 10, 1), "primary_category": ["toys", None, "garden"]}))  # fmt: skip
    s.dispose()
    return store_url


def test_store_upgrade_is_idempotent_and_current_shows_the_revision(url):
    assert f"is up to date (revision {st.head()})" in run("store", "upgrade", "--store", url).text
    assert f"revision {st.head()} (" in run("store", "current", "--store", url).text


def test_store_from_environment_and_missing_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run("store", "current", code=1)
    assert "error: store cxops-store.sqlite not found" in res.text and "cxops store upgrade" in res.text
    monkeypatch.setenv("CXOPS_WAREHOUSE", str(tmp_path / "shop.duckdb"))
    run("store", "upgrade")
    assert (tmp_path / "shop-store.sqlite").exists()  # beside the warehouse
    monkeypatch.setenv("CXOPS_STORE", str(tmp_path / "ops.sqlite"))
    run("store", "upgrade")
    assert (tmp_path / "ops.sqlite").exists()
    res = run("store", "current", "--store", "mysql://u@h/db", code=1)
    assert "the store runs on SQLite or PostgreSQL" in res.text


def test_seller_actions_are_pending_logged_and_refused_when_impossible(url):
    res = run("seller", "suspend", "S1", "--marketplace", "US", "--reason", "counterfeit complaints",
              "--actor", "carla", "--store", url)  # fmt: skip
    assert "pending action 1: suspend for seller S1 on US (enrolled → suspended), by carla" in res.text
    res = run("seller", "reinstate", "S1", "--marketplace", "US", "--reason", "plan accepted", "--store", url)
    assert "pending action 2: reinstate for seller S1 on US" in res.text  # possible once suspended
    res = run("seller", "reinstate", "S3", "--marketplace", "US", "--reason", "plan", "--store", url, code=1)
    assert "error: cannot reinstate seller S3 on US: the seller is at_risk (since 2026-10-01)" in res.text
    res = run("seller", "exempt", "S3", "--marketplace", "US", "--reason", "audit", "--until", "31/12/2026",
              "--store", url, code=1)  # fmt: skip
    assert "error: --until must be a date like 2026-12-31" in res.text
    run(
        "seller",
        "note",
        "S2",
        "--marketplace",
        "US",
        "--text",
        "asked for an appeal",
        "--actor",
        "carla",
        "--store",
        url,
    )
    res = run("seller", "show", "S2", "--marketplace", "US", "--store", url)
    assert "asked for an appeal" in res.text and "removed" in res.text
    res = run("seller", "cancel", "1", "--reason", "wrong seller", "--store", url, code=1)
    assert "error: cannot cancel action 1: pending action 2 (reinstate) depends on it" in res.text
    run("seller", "cancel", "2", "--reason", "wrong seller", "--actor", "carla", "--store", url)
    res = run("seller", "cancel", "1", "--reason", "wrong seller", "--actor", "carla", "--store", url)
    assert "action 1 (suspend) for seller S1 on US cancelled" in res.text
    res = run("seller", "cancel", "1", "--reason", "again", "--store", url, code=1)
    assert "error: action 1 is cancelled already" in res.text


def test_seller_action_for_an_unknown_seller_or_manager(url):
    res = run("seller", "suspend", "NOPE", "--marketplace", "US", "--reason", "x", "--store", url, code=1)
    assert "error: seller NOPE has no membership in customer-excellence on marketplace US" in res.text
    res = run("seller", "assign-manager", "S1", "--marketplace", "US", "--manager", "zed", "--reason", "x",
              "--store", url, code=1)  # fmt: skip
    assert "error: unknown account manager 'zed'" in res.text and "cxops managers add" in res.text


def test_managers_add_list_and_assign(url):
    run("managers", "add", "ana", "--name", "Ana Lima", "--capacity", "5", "--category", "toys",
        "--language", "pt",
        "--store", url)  # fmt: skip
    run("managers", "add", "bo", "--name", "Bo", "--capacity", "5", "--store", url)
    res = run("managers", "add", "bo", "--name", "Bo", "--capacity", "5", "--store", url, code=1)
    assert "error: account manager 'bo' exists already" in res.text
    res = run("managers", "add", "cy", "--name", "Cy", "--capacity", "0", "--store", url, code=1)
    assert "capacity must be at least 1" in res.text
    res = run("managers", "assign", "--store", url)
    assert "assigned 2 seller(s) (1 by category); 0 left without a manager" in res.text
    rows = [
        json.loads(x)
        for x in run("managers", "list", "--format", "jsonl", "--store", url).output.splitlines()
    ]
    assert [(r["id"], r["load"], r["free"], r["categories"]) for r in rows] == [
        ("ana", 1, 4, ["toys"]),
        ("bo", 1, 4, []),
    ]
    res = run("seller", "assign-manager", "S1", "--marketplace", "US", "--manager", "bo",
              "--reason", "rebalance",
              "--actor", "carla", "--store", url)  # fmt: skip
    assert "assign manager bo for seller S1" in res.text
