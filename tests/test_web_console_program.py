"""The operator console's program pages and API: the at-risk list and the month-by-month figures read
from a hand-made stored run (every expected number counted by hand below), the runs, the case queue
ordered by the 24-hour clock, document review — on SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pyarrow as pa
import pytest
from _web import SELLER_A, web  # noqa: F401

from cxops.policy.load import load_policy
from cxops.runs import store as runs_store
from cxops.runs.tables import SCHEMAS
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration]
D1, D2, D3 = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
#: (seller, state at D1, D2, D3): S1 enrolled → at risk on D3; S2 candidate → enrolled on D2.
STATES = [
    ("S1", "enrolled", "enrolled", "at_risk"),
    ("S2", "candidate", "enrolled", "enrolled"),
    ("S3", "not_eligible", "not_eligible", "not_eligible"),
]
#: (seller, state at D3, projected at 2026-12-01)
PROJECTED = [
    ("S1", "at_risk", "removed"),
    ("S2", "enrolled", "at_risk"),
    ("S3", "not_eligible", "not_eligible"),
]


def _table(part: str, rows: list[dict]) -> pa.Table:
    schema = SCHEMAS[part]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def stored_run_warehouse():
    """An in-memory warehouse holding one registered run of the default policy with the tables above."""
    wh = connect("memory")
    policy = load_policy("customer-excellence")
    run_id = "handmade01"
    statuses = [
        {
            "seller_id": s,
            "marketplace_id": "US",
            "evaluation_date": d,
            "as_of": d - timedelta(days=1),
            "state": st,
        }
        for s, *states in STATES
        for d, st in zip((D1, D2, D3), states, strict=True)
    ]
    transitions = [
        {
            "seller_id": "S2",
            "marketplace_id": "US",
            "date": D2,
            "from_state": "candidate",
            "to_state": "enrolled",
        },
        {
            "seller_id": "S1",
            "marketplace_id": "US",
            "date": D3,
            "from_state": "enrolled",
            "to_state": "at_risk",
        },
    ]
    projected = [
        {"seller_id": s, "marketplace_id": "US", "evaluation_date": date(2026, 12, 1), "state": st,
         "projected_state": p, "reason": f"reason of {s}"}
        for s, st, p in PROJECTED
    ]  # fmt: skip
    for part, rows in (("statuses", statuses), ("transitions", transitions), ("projected", projected)):
        wh.con.create_table(runs_store.table_name(run_id, part), _table(part, rows))
    for part in ("criteria", "final", "benefits"):
        wh.con.create_table(runs_store.table_name(run_id, part), SCHEMAS[part].empty_table())
    import ibis
    import pandas as pd

    from cxops.metrics.defects import DEFECT_COLUMNS, DEFECT_SCHEMA

    empty = ibis.memtable(pd.DataFrame(columns=DEFECT_COLUMNS), schema=DEFECT_SCHEMA)
    wh.con.create_table(runs_store.table_name(run_id, "defects"), empty)
    record = runs_store.RunRecord(
        run_id=run_id, policy_name=policy.name, policy_version=policy.version,
        policy_hash=runs_store.policy_hash(policy), as_of=D3, until=D3, first_day=date(2025, 1, 1),
        evaluation_dates=[D1, D2, D3], next_evaluation=date(2026, 12, 1), scope=None, fingerprint="hand",
        sellers=3, timings={"total": 12.5},
    )  # fmt: skip
    runs_store.commit_run(wh, record)
    return wh


@pytest.fixture
def console(web):  # noqa: F811
    """The seeded web app, its warehouse replaced by the hand-made run."""
    from cxops.web.warehouse import make_source

    web.app.state.runs = make_source(web.app.state.settings, stored_run_warehouse())
    return web


def test_at_risk_now_and_projected_by_hand(console):
    c = console.login("viewer")
    every = c.get("/api/v1/at-risk").json()
    assert [(r["seller_id"], r["state"], r["projected_state"]) for r in every["items"]] == [
        ("S1", "at_risk", "removed"),
        ("S2", "enrolled", "at_risk"),
    ]
    assert [r["seller_id"] for r in c.get("/api/v1/at-risk?which=now").json()["items"]] == ["S1"]
    assert [r["seller_id"] for r in c.get("/api/v1/at-risk?which=projected").json()["items"]] == ["S1", "S2"]
    first = c.get("/api/v1/at-risk?limit=1").json()
    rest = c.get("/api/v1/at-risk", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [r["seller_id"] for r in first["items"] + rest["items"]] == ["S1", "S2"] and rest[
        "next_cursor"
    ] is None
    assert c.get("/api/v1/at-risk?marketplace=DE").json()["items"] == []
    page = c.get("/console/at-risk?which=now").text
    assert page.count('data-testid="at-risk-row"') == 1 and 'data-testid="at-risk-filter"' in page
    assert page.count('data-testid="alert-row"') == 0 and "No alerts." in page


def test_the_at_risk_page_lists_the_daily_jobs_newest_alerts(console):
    import pandas as pd

    from cxops.store import append_alerts

    level = {
        "seller_id": "S1",
        "kind": "alert_level",
        "alert_date": date(2026, 10, 30),
        "metric": "order_defect_rate",
        "value": 0.0075,
        "threshold": 0.006,
    }
    claim = {
        "seller_id": "S2",
        "kind": "a_to_z_claim",
        "alert_date": date(2026, 10, 31),
        "order_id": "111-2223334-5556667",
    }
    breach = {
        "seller_id": "S2",
        "kind": "projected_breach",
        "alert_date": date(2026, 10, 31),
        "metric": "late_shipment_rate",
        "value": 0.035,
        "threshold": 0.04,
        "projected_date": date(2026, 11, 6),
        "orders_needed": 12,
    }
    alerts = pd.DataFrame([level, claim, breach]).assign(
        marketplace_id="US", idempotency_key=["a1", "a2", "a3"]
    )
    # fmt: skip
    with console.store.unit_of_work() as s:
        assert append_alerts(s, alerts, program="customer-excellence") == 3
    page = console.login("viewer").get("/console/at-risk").text
    rows = page.split('data-testid="alert-row"')[1:]
    assert len(rows) == 3  # newest first: the two of 31 October (the later id first), then 30 October
    assert (
        "Projected breach" in rows[0] and "on Nov 6, 2026 unless 12 more orders without a defect" in rows[0]
    )
    assert "A-to-z claim" in rows[1] and "order 111-2223334-5556667" in rows[1]
    assert "Alert level crossed" in rows[2] and "0.75% (bar 0.60%)" in rows[2]


def test_figures_month_by_month_by_hand(console):
    c = console.login("viewer")
    f = c.get("/api/v1/figures").json()
    counts = {(r["month"], r["state"]): r["sellers"] for r in f["states"]}
    assert counts == {
        ("2026-09-01", "candidate"): 1, ("2026-09-01", "enrolled"): 1, ("2026-09-01", "not_eligible"): 1,
        ("2026-10-01", "enrolled"): 2, ("2026-10-01", "not_eligible"): 1,
        ("2026-11-01", "at_risk"): 1, ("2026-11-01", "enrolled"): 1, ("2026-11-01", "not_eligible"): 1,
    }  # fmt: skip
    assert [(r["month"], r["from_state"], r["to_state"], r["sellers"]) for r in f["flows"]] == [
        ("2026-10-01", "candidate", "enrolled", 1),
        ("2026-11-01", "enrolled", "at_risk", 1),
    ]
    assert sum(v["sellers"] for v in f["spec"]["data"]["values"]) == 9  # 3 sellers × 3 evaluations
    assert [r["month"] for r in c.get("/api/v1/figures?months=1").json()["states"]] == ["2026-11-01"] * 3
    page = c.get("/console/figures").text
    spec = json.loads(unescape(re.search(r'data-vega-spec="([^"]+)"', page).group(1)))
    assert spec["mark"]["type"] == "bar" and page.count('data-testid="flow-row"') == 2
    zh = c.get("/console/figures?lang=zh").text
    assert "计划数据" in zh and "风险" in zh


def test_runs_show_when_policy_duration_and_what_changed(console):
    from cxops.store import finish_run, start_run

    with console.store.unit_of_work() as s:
        rid = start_run(s, "customer-excellence", D3, "customer-excellence", "1.0.0", "0" * 64)
    with console.store.unit_of_work() as s:
        finish_run(s, rid, counts={"transitions": 7, "events": 9})
    c = console.login("viewer")
    evaluations = c.get("/api/v1/evaluation-runs").json()
    assert [(r["run_id"], r["evaluations"], r["sellers"], r["seconds"]) for r in evaluations] == [
        ("handmade01", 3, 3, 12.5)
    ]
    page = c.get("/console/runs").text
    assert page.count('data-testid="run-row"') == 1 and "transitions: 7" in page and "handmade01" in page


def test_case_queue_orders_by_the_24_hour_clock(console):
    from cxops.service.cases import open_dispute

    wh = console.app.state.runs.opened
    orders_wh = __import__("_web").orders_warehouse()
    urgent = open_dispute(
        console.store, orders_wh, SELLER_A, f"O-{SELLER_A}", reason="late", actor="carla",
        opened_at=datetime.now(UTC) - timedelta(hours=23), dispute_id="urgent",
    )  # fmt: skip
    assert wh is not orders_wh
    c = console.login("viewer")
    items = c.get("/api/v1/cases", params={"kind": "dispute"}).json()["items"]
    assert items[0]["id"] == urgent.id and items[0]["seconds_left"] == pytest.approx(3600, abs=120)
    lefts = [i["seconds_left"] for i in items]
    assert lefts == sorted(lefts) and len(items) == 3  # the two seeded disputes (24 h) after it
    first = c.get("/api/v1/cases", params={"limit": 1}).json()
    assert first["items"][0]["id"] == urgent.id and first["next_cursor"]
    page = c.get("/console/cases").text
    assert page.count('data-testid="case-row"') == 3 and re.search(r"0 h (59|60) min left", page)


def test_document_review_from_the_queue(console):
    from cxops.service import sellerdesk

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    doc = sellerdesk.upload(
        console.store, SELLER_A, "US", kind="business_licence", data=pdf, filename="l.pdf", actor="shop",
        program="customer-excellence",
    )  # fmt: skip
    viewer = console.login("viewer")
    queue = viewer.get("/api/v1/documents/queue").json()["items"]
    assert [d["id"] for d in queue] == [doc.id]
    refused = viewer.post(
        f"/console/documents/{doc.id}/review", data={"csrf_token": viewer.csrf, "decision": "accept"}
    )
    assert refused.status_code == 403
    admin = console.login("admin")
    page = admin.get("/console/documents").text
    assert 'data-testid="review-form"' in page
    no_reason = admin.post(
        f"/console/documents/{doc.id}/review", data={"csrf_token": admin.csrf, "decision": "reject"},
        follow_redirects=False,
    )  # fmt: skip
    assert no_reason.status_code == 400 and 'data-testid="form-error"' in no_reason.text
    ok = admin.post(
        f"/console/documents/{doc.id}/review",
        data={"csrf_token": admin.csrf, "decision": "reject", "reason": "blurred scan"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert admin.get("/api/v1/documents/queue").json()["items"] == []
    seller = console.login("seller-a")
    items = {
        i["requirement"]: i
        for i in seller.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/documents").json()["items"]
    }
    assert (
        items["business_licence"]["status"] == "rejected"
        and items["business_licence"]["review_reason"] == "blurred scan"
    )
