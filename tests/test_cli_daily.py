"""``cxops run``, ``cxops alerts`` and ``cxops seller events`` through the command line (CliRunner)."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from _daily import END, marketplace
from _store import store_url  # noqa: F401
from typer.testing import CliRunner

from cxops.cli import app
from cxops.store import append_alerts, finish_run, open_store, record_event, start_run, upgrade

pytestmark = [pytest.mark.integration]


def test_run_refuses_backwards_reruns_as_a_noop_and_lists_alerts(tmp_path, store_url):  # noqa: F811
    wh = marketplace(tmp_path, sellers=4, days=60)
    s = open_store(store_url, check=False, must_exist=False)
    upgrade(s)
    with s.unit_of_work() as session:  # the program has run as of END already
        run_id = start_run(session, "marketplace-enforcement", END, "marketplace-enforcement", "1", "x")
        finish_run(session, run_id)
        append_alerts(session, pd.DataFrame([{
            "seller_id": "S0001", "marketplace_id": "US", "kind": "negative_feedback", "alert_date": END,
            "order_id": "O1", "rating": 1, "idempotency_key": "a1", "evidence": {"record_id": "O1"},
        }]), program="marketplace-enforcement", run_id=run_id)  # fmt: skip
        record_event(session, kind="note", idempotency_key="n1", program="marketplace-enforcement",
                     seller_id="S0001", marketplace_id="US", reason="called", event_date=END)  # fmt: skip
    s.dispose()
    common = ["-w", str(wh), "--store", store_url, "-p", "marketplace-enforcement"]
    r = CliRunner().invoke(app, ["run", "--as-of", str(END - timedelta(days=1)), *common])
    assert r.exit_code != 0 and "error:" in r.output and "backwards" in r.output
    assert "Traceback" not in r.output
    r = CliRunner().invoke(app, ["run", "--as-of", str(END), *common])
    assert r.exit_code == 0 and "nothing to do" in r.output
    r = CliRunner().invoke(app, ["run", "--as-of", str(END + timedelta(days=9)), *common])
    assert r.exit_code != 0 and "error:" in r.output and "--allow-stale" in r.output
    r = CliRunner().invoke(app, ["alerts", "--store", store_url, "--program", "marketplace-enforcement",
                                 "--format", "jsonl"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert [(a["kind"], a["order_id"], a["rating"]) for a in rows] == [("negative_feedback", "O1", 1)]
    assert rows[0]["evidence"] == {"record_id": "O1"}
    r = CliRunner().invoke(app, ["alerts", "--store", store_url, "--kind", "bogus"])
    assert r.exit_code != 0 and "unknown alert kind" in r.output
    r = CliRunner().invoke(app, ["seller", "events", "S0001", "--marketplace", "US", "--store", store_url,
                                 "--program", "marketplace-enforcement", "--format", "jsonl"])  # fmt: skip
    assert r.exit_code == 0 and json.loads(r.stdout.splitlines()[0])["kind"] == "note"


def test_reinstatement_without_immunity_enrolls_at_the_next_run(tmp_path, store_url):  # noqa: F811
    """customer-excellence (immunity_days = 0) through the command line: a seller suspended by an operator
    and then reinstated is ``enrolled`` from the reinstatement's run day — no ``immune`` day and no
    immunity end in the logged reason."""
    wh = marketplace(tmp_path, sellers=4, days=60)
    common = ["-w", str(wh), "--store", store_url, "-p", "customer-excellence"]
    r = CliRunner().invoke(app, ["store", "upgrade", "--store", store_url])
    assert r.exit_code == 0, r.output
    day = END - timedelta(days=2)
    r = CliRunner().invoke(app, ["run", "--as-of", str(day), *common])
    assert r.exit_code == 0, r.output
    seller = ["S0001", "--marketplace", "US", "--store", store_url, "--program", "customer-excellence"]
    r = CliRunner().invoke(app, ["seller", "suspend", *seller, "--reason", "counterfeit", "--actor", "carla"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["run", "--as-of", str(day + timedelta(days=1)), *common])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["seller", "reinstate", *seller, "--reason", "resolved", "--actor", "carla"])
    assert r.exit_code == 0, r.output
    assert "(suspended → enrolled)" in " ".join(r.output.split())  # the preview follows the table
    r = CliRunner().invoke(app, ["run", "--as-of", str(END), *common])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["seller", "events", *seller, "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    moves = [(e["event_date"], e["from_state"], e["to_state"], e["reason_key"]) for e in rows
             if e["kind"] in ("transition", "action")]  # fmt: skip
    assert moves[-1] == (str(END), "suspended", "enrolled", "reinstated_enrolled"), moves
    assert moves[-2][1:] == ("not_eligible", "suspended", "suspended_by_operator"), moves
    assert "immune" not in {e["to_state"] for e in rows}
    reinstated = next(e for e in rows if e["reason_key"] == "reinstated_enrolled")
    assert reinstated["reason"] == "Reinstated by an operator, enrolled without immunity."
    assert "until" not in reinstated["reason"]
    s = open_store(store_url)
    with s.unit_of_work(write=False) as session:
        from cxops.store import load_memberships

        m = load_memberships(session, "customer-excellence").set_index("seller_id").loc["S0001"]
    s.dispose()
    assert (m["state"], str(m["since"]), m["reason_key"], m["immunity_until"]) == (
        "enrolled",
        str(END),
        "reinstated_enrolled",
        None,
    )
