"""Stored evaluation runs: the registry, what is kept, the policy hash and the data fingerprint."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.cli import app
from cxops.policy.load import load_policy, loads_policy, policy_source
from cxops.runs import store
from cxops.runs.fingerprint import data_fingerprint
from cxops.warehouse import connect

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent / "data"


def _record(run_id: str, as_of: date, fingerprint: str = "f1", name: str = "p", scope=None, minutes: int = 0):
    return store.RunRecord(
        run_id=run_id,
        policy_name=name,
        policy_version="1",
        policy_hash="h1" if name == "p" else f"h-{name}",
        as_of=as_of,
        until=as_of,
        first_day=date(2024, 1, 1),
        evaluation_dates=[as_of],
        next_evaluation=None,
        scope=scope,
        fingerprint=fingerprint,
        created_at=datetime(2026, 1, 1) + timedelta(minutes=minutes),
    )


def _tables(wh, run_id: str) -> None:
    for part in ("metrics", "statuses"):
        wh.con.create_table(store.table_name(run_id, part), pd.DataFrame({"seller_id": ["S1"]}))


def test_runs_kept_per_policy_and_scope_of_the_current_data():
    wh = connect("memory")
    for i, day in enumerate([date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]):
        _tables(wh, f"r{i}")
        store.commit_run(wh, _record(f"r{i}", day, minutes=i))
    kept = [r.run_id for r in store.list_runs(wh)]
    assert kept == ["r3", "r2", "r1"]  # the newest three of the same data, newest first
    assert not any(t.startswith("_cxops_run_r0_") for t in wh.con.list_tables())
    # another policy and another scope are kept apart
    _tables(wh, "o1")
    store.commit_run(wh, _record("o1", date(2026, 10, 1), name="other", minutes=10))
    _tables(wh, "s1")
    store.commit_run(wh, _record("s1", date(2026, 10, 1), scope=("S1",), minutes=11))
    assert {r.run_id for r in store.list_runs(wh)} == {"r3", "r2", "r1", "o1", "s1"}
    # new data: the runs of the old data of that policy and scope can never be reused, they go
    _tables(wh, "n1")
    store.commit_run(wh, _record("n1", date(2026, 10, 1), fingerprint="f2", minutes=12))
    assert {r.run_id for r in store.list_runs(wh)} == {"n1", "o1", "s1"}
    # a second run of the same policy content and day replaces the first
    _tables(wh, "n2")
    store.commit_run(wh, _record("n2", date(2026, 10, 1), fingerprint="f2", minutes=13))
    assert {r.run_id for r in store.list_runs(wh)} == {"n2", "o1", "s1"}
    assert store.find_run(wh, "h1", "f2", date(2026, 10, 1)).run_id == "n2"
    assert store.find_run(wh, "h1", "f2", date(2026, 10, 1), ["S1"]).run_id == "n2"  # all sellers cover one
    assert store.find_run(wh, "h1", "f1", date(2026, 10, 1), ["S2"]) is None  # s1 covers S1 only
    assert store.find_resumable(wh, "h1", "f2", date(2026, 12, 1)).run_id == "n2"
    assert store.find_resumable(wh, "h1", "f2", date(2026, 9, 1)) is None


def test_orphans_of_a_killed_run_are_dropped_but_not_a_run_in_progress():
    wh = connect("memory")
    _tables(wh, "dead")  # written, never registered: a killed evaluation
    _tables(wh, "live")
    store.ACTIVE.add("live")  # an evaluation running in this process
    try:
        _tables(wh, "r1")
        store.commit_run(wh, _record("r1", date(2026, 10, 1)))
        names = wh.con.list_tables()
        assert not any(t.startswith("_cxops_run_dead_") for t in names)
        assert any(t.startswith("_cxops_run_live_") for t in names)
        assert any(t.startswith("_cxops_run_r1_") for t in names)
    finally:
        store.ACTIVE.discard("live")


def test_policy_hash_is_the_content_not_the_file():
    _, text = policy_source("customer-excellence")
    same = loads_policy("# a comment\n" + text.replace(" = ", "  =  "))
    assert store.policy_hash(same) == store.policy_hash(load_policy("customer-excellence"))
    changed = loads_policy(text.replace("stable_days = 45", "stable_days = 46"))
    assert store.policy_hash(changed) != store.policy_hash(same)


def test_without_an_import_log_any_changed_value_changes_the_fingerprint():
    wh = connect("memory")
    rows = pd.DataFrame(
        {
            "seller_id": ["S1", "S1"],
            "order_id": ["1", "2"],
            "rating": [5, 1],
            "submitted_at": ["2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z"],
        }
    )
    orders = pd.DataFrame(
        {
            "seller_id": ["S1", "S1"],
            "order_id": ["1", "2"],
            "marketplace_id": ["US", "US"],
            "purchased_at": ["2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"],
            "fulfillment_channel": ["MFN", "MFN"],
        }
    )
    for name, df in (("orders", orders), ("feedback", rows)):
        wh.upsert(TABLES[name], validate(df, TABLES[name], name).loaded)
    before = data_fingerprint(wh)
    assert "hash" in before.tables["feedback"] and "imports" not in before.tables
    again = rows.copy()
    wh.upsert(TABLES["feedback"], validate(again, TABLES["feedback"], "f").loaded)
    assert data_fingerprint(wh).digest == before.digest  # the same rows again: the same data
    again.loc[1, "rating"] = 2  # same count, same instants, another value
    wh.upsert(TABLES["feedback"], validate(again, TABLES["feedback"], "f").loaded)
    assert data_fingerprint(wh).digest != before.digest


def test_with_an_import_log_every_import_is_a_new_version(tmp_path):
    runner = CliRunner()
    url = str(tmp_path / "w.duckdb")
    args = [
        "import",
        "canonical",
        str(DATA / "canonical_mini"),
        "-w",
        url,
        "--quarantine",
        str(tmp_path / "q"),
    ]
    assert runner.invoke(app, args).exit_code == 0
    wh = connect(url, read_only=True)
    first = data_fingerprint(wh)
    wh.close()
    assert first.tables.get("imports") and "hash" not in first.tables["orders"]
    assert runner.invoke(app, args).exit_code == 0
    wh = connect(url, read_only=True)
    second = data_fingerprint(wh)
    wh.close()
    assert second.digest != first.digest and len(second.tables["imports"]) == len(first.tables["imports"]) + 1
