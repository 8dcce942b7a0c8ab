"""``cxops advise costs`` end to end on a generated marketplace with a stored run: a seller removed for its
valid tracking rate, checked against the stored run's own projection, independent counts of the raw
tables and hand arithmetic on the volumes; the same answer from a stored run and from ``--as-of``;
clear errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from _synth import generate_tables, write_tables
from typer.testing import CliRunner

from cxops.cli import app
from cxops.ingest.canonical_files import import_canonical
from cxops.policy.load import load_policy
from cxops.service.evaluation import run_evaluation
from cxops.synth.stories import Episode, Story
from cxops.warehouse import connect

pytestmark = [pytest.mark.e2e]
AS_OF = date(2026, 11, 1)
SHEET = Path(__file__).parents[1] / "examples" / "costs.toml"
STORIES = (
    Story(1, "untracked", "US", "removed", "a star whose tracking fails for the last year",
          episodes=(Episode(("track",), 380, None, -5.5, ramp=5),)),
    Story(2, "star", "US", "enrolled", "meets every bar"),
)  # fmt: skip
runner = CliRunner()


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory):
    d = tmp_path_factory.mktemp("costs")
    tables = generate_tables(7, 3, 400, stories=STORIES)
    write_tables(tables, d / "data")
    wh = connect(str(d / "w.duckdb"))
    import_canonical(wh, d / "data", None)
    ev = run_evaluation(wh, load_policy("customer-excellence"), AS_OF)
    projected = ev.frame("projected")
    wh.con.disconnect()
    return d / "w.duckdb", tables, projected


def run(*args: str):
    return runner.invoke(app, ["advise", "costs", *args], catch_exceptions=False)


def advice(path, *args: str) -> dict:
    res = run("S0001", "-w", str(path), "--costs", str(SHEET), "--format", "json", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _returns_in_month(tables, seller: str, mp: str) -> int:
    """Returns requested in the 30 local days to the as-of day on the seller's orders there (pandas)."""
    r, o = tables["returns"], tables["orders"]
    r = r[r.seller_id == seller].merge(o[(o.seller_id == seller) & (o.marketplace_id == mp)][["order_id"]])
    local = pd.to_datetime(r.requested_at, utc=True).dt.tz_convert("America/Los_Angeles").dt.date
    return int(((local >= AS_OF - timedelta(days=29)) & (local <= AS_OF)).sum())


def test_a_seller_removed_for_tracking(marketplace):
    path, tables, projected = marketplace
    out = advice(path)
    assert out["current_state"] == "removed"
    opts = {o["option"]: o for o in out["options"]}
    sq = opts["status_quo"]
    # the status quo's next evaluation is the stored run's own projection
    mine = projected[(projected.seller_id == "S0001") & (projected.marketplace_id == "US")]
    assert sq["next_state"] == mine["projected_state"].iloc[0] == "removed"
    assert "removal:vtr" in sq["failing"] and sq["steady_state"] == "removed"
    # carrier-integrated shipping secures tracking: stable every day, recovers (45 days) and is re-admitted
    ci = opts["carrier_integrated"]
    vtr = next(m for m in ci["metrics"] if m["metric"] == "valid_tracking_rate")
    assert vtr["before"] < 0.95 and vtr["after"] == 1.0
    assert ci["failing"] == [] and ci["steady_state"] == "enrolled"
    # money by hand from the volumes: +10 % of 6.40 per MFN order; a kitchen seller has no fee discount
    v = out["volumes"]
    assert v["returns"] == _returns_in_month(tables, "S0001", "US")
    assert ci["extra_cost"] == pytest.approx(0.10 * 6.40 * v["orders_mfn"])
    assert ci["discount"] == 0 and ci["net"] == pytest.approx(-ci["extra_cost"])
    labels = opts["free_return_labels"]
    assert labels["extra_cost"] == pytest.approx(0.15 * 8.00 * v["returns"])
    assert [a["source"] for a in ci["assumptions"]] == ["program.md", "program.md"]
    assert out["cost_sheet"] == str(SHEET)


def test_the_stored_run_and_as_of_give_the_same_advice(marketplace):
    path, _, _ = marketplace
    assert advice(path) == advice(path, "--as-of", AS_OF.isoformat())


def test_the_table_in_chinese(marketplace):
    path, _, _ = marketplace
    res = run("S0001", "-w", str(path), "--costs", str(SHEET), "--lang", "zh")
    assert res.exit_code == 0, res.output
    assert "平台集成物流" in res.output and "维持现状" in res.output and "假设" in res.output


def _clear(res, *words: str) -> None:
    text = " ".join(res.output.split())
    assert res.exit_code != 0, res.output
    assert "error:" in text and "Traceback" not in res.output and "internal error" not in text, res.output
    for w in words:
        assert w in text, res.output


def test_clear_errors(marketplace, tmp_path):
    path, _, _ = marketplace
    bad = tmp_path / "bad.toml"
    bad.write_text("[rates]\nmfn_logistics_per_order = 'cheap'\n")
    _clear(run("S0001", "-w", str(path), "--costs", str(bad)), str(bad), "rates.mfn_logistics_per_order")
    _clear(run("S9999", "-w", str(path)), "S9999")
    _clear(run("S0003", "-w", str(path)), "several marketplaces", "--marketplace")
    _clear(run("S0001", "-w", str(path), "--marketplace", "DE"), "DE")
    empty = tmp_path / "e.duckdb"
    connect(str(empty)).con.disconnect()
    _clear(run("S0001", "-w", str(empty)), "no evaluation is stored")
