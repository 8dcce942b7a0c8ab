"""``cxops advise costs``, its API and its page, end to end on a generated marketplace with a stored run: a
seller removed for its valid tracking rate, checked against the stored run's own projection, independent
counts of the raw tables and hand arithmetic on the volumes; the same answer from a stored run and from
``--as-of``; clear errors; the page and the API on SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from _store import store, store_url  # noqa: F401
from _synth import generate_tables, write_tables
from _web import CSRF_RE, FAST, PASSWORD
from typer.testing import CliRunner

from cxops.advisor.cost_sheet import REFERENCE_SOURCE
from cxops.cli import app
from cxops.ingest.canonical_files import import_canonical
from cxops.policy.load import load_policy
from cxops.service import accounts
from cxops.service.evaluation import run_evaluation
from cxops.store import upsert_memberships
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
    statuses = ev.latest_statuses()
    wh.con.disconnect()
    return d / "w.duckdb", tables, projected, statuses


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
    path, tables, projected, _ = marketplace
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
    assert [a["source"] for a in ci["assumptions"]] == [REFERENCE_SOURCE] * 2
    assert out["cost_sheet"] == str(SHEET)


def test_the_stored_run_and_as_of_give_the_same_advice(marketplace):
    path, *_ = marketplace
    assert advice(path) == advice(path, "--as-of", AS_OF.isoformat())


def test_the_table_in_chinese(marketplace):
    path, *_ = marketplace
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
    path, *_ = marketplace
    bad = tmp_path / "bad.toml"
    bad.write_text("[rates]\nmfn_logistics_per_order = 'cheap'\n")
    _clear(run("S0001", "-w", str(path), "--costs", str(bad)), str(bad), "rates.mfn_logistics_per_order")
    _clear(run("S9999", "-w", str(path)), "S9999")
    _clear(run("S0003", "-w", str(path)), "several marketplaces", "--marketplace")
    _clear(run("S0001", "-w", str(path), "--marketplace", "DE"), "DE")
    empty = tmp_path / "e.duckdb"
    connect(str(empty)).con.disconnect()
    _clear(run("S0001", "-w", str(empty)), "no evaluation is stored")


@pytest.fixture
def site(store, marketplace):  # noqa: F811
    from fastapi.testclient import TestClient

    from cxops.web import create_app
    from cxops.web.config import web_settings

    path, _, _, statuses = marketplace
    with store.unit_of_work() as s:
        upsert_memberships(
            s, "customer-excellence", statuses[["seller_id", "marketplace_id", "state", "since"]]
        )
    accounts.add_user(
        store, "shop", PASSWORD, role="seller", actor="test", sellers=[("S0001", "*")], policy=FAST
    )
    wh = connect(str(path), read_only=True)
    app = create_app(web_settings(store=store.url), store=store, policy=FAST, warehouse=wh)
    c = TestClient(app)
    c.__enter__()
    token = CSRF_RE.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"login": "shop", "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 200, r.text[:300]
    yield c
    c.__exit__(None, None, None)
    wh.con.disconnect()


@pytest.mark.integration
def test_the_api_and_the_page(site, marketplace):
    path, *_ = marketplace
    base = "/sellers/S0001/marketplaces/US/costs"
    r = site.get("/api/v1" + base, params={"mfn_logistics_per_order": 6.40, "return_handling_per_return": 8})
    assert r.status_code == 200, r.text
    got = r.json()["advice"]
    cli = advice(path)
    assert got["volumes"] == cli["volumes"]
    for a, b in zip(got["options"], cli["options"], strict=True):
        assert (a["option"], a["next_state"], a["steady_state"], a["failing"]) == (
            b["option"], b["next_state"], b["steady_state"], b["failing"]
        )  # fmt: skip
    ci = next(o for o in got["options"] if o["option"] == "carrier_integrated")
    assert ci["extra_cost"] == pytest.approx(0.10 * 6.40 * got["volumes"]["orders_mfn"])
    # without the AFN rates the AFN option's money is unknown, and says what it needs
    afn = next(o for o in got["options"] if o["option"] == "afn")
    assert afn["net"] is None and "rates.afn_fee_per_order" in afn["missing"]
    page = site.get(base, params={"mfn_logistics_per_order": 6.40})
    assert page.status_code == 200
    assert 'data-testid="option-carrier_integrated"' in page.text
    assert "Carrier-integrated shipping" in page.text
    bad = site.get("/api/v1" + base, params={"mfn_logistics_per_order": -1})
    assert bad.status_code == 422
    assert 'data-testid="costs-link"' in site.get("/sellers/S0001").text
