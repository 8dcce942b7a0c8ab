"""The API: cursor paging against an independent computation, RFC 9457 problems, the OpenAPI
document, operator actions and notes landing in the event log — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from _web import PROGRAM, SELLER_A, make_web, web  # noqa: F401

from cxops.store import upsert_memberships

STATES = ["enrolled", "at_risk", "removed", "recovering", "candidate"]
MARKETS = ["US", "DE", "JP"]


def _population(n: int, seed: int = 7) -> pd.DataFrame:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        for market in rnd.sample(MARKETS, rnd.randint(1, 2)):
            since = None if rnd.random() < 0.15 else date(2026, 1, 1) + timedelta(days=rnd.randint(0, 5))
            rows.append(
                {
                    "seller_id": f"P{i:04d}",
                    "marketplace_id": market,
                    "state": rnd.choice(STATES),
                    "since": since,
                    "account_manager_id": rnd.choice(["ana", None]),
                }
            )
    return pd.DataFrame(rows)


def _expected(
    df: pd.DataFrame, *, state=None, marketplace=None, manager=None, q=None, sort="seller", desc=False
):
    d = df.copy()
    if state:
        d = d[d.state.isin(state)]
    if marketplace:
        d = d[d.marketplace_id == marketplace]
    if manager == "-":
        d = d[d.account_manager_id.isna()]
    elif manager:
        d = d[d.account_manager_id == manager]
    if q:
        d = d[d.seller_id.str.startswith(q)]
    d = d.assign(_since=d.since.map(lambda x: x if x is not None else date(9999, 12, 31)))
    keys = {"seller": [], "since": ["_since"], "state": ["state"]}[sort] + ["seller_id", "marketplace_id"]
    d = d.sort_values(keys, ascending=not desc, kind="mergesort")
    return list(zip(d.seller_id, d.marketplace_id, strict=True))


@pytest.fixture
def big(store):
    """The seeded app plus 300 generated sellers (about 450 memberships)."""
    w = make_web(store)
    pop = _population(300)
    with store.unit_of_work() as s:
        upsert_memberships(s, PROGRAM, pop)
    yield w, pop
    w.close()


CASES = [
    {},
    {"state": ["enrolled"], "sort": "since"},
    {"state": ["removed"], "sort": "since", "desc": True},
    {"sort": "state", "desc": True},
    {"state": ["at_risk"]},
    {"state": ["at_risk", "removed"]},
    {"marketplace": "DE", "sort": "seller", "desc": True},
    {"manager": "-", "state": ["enrolled"]},
    {"manager": "ana", "state": ["at_risk"], "sort": "since"},
    {"q": "P01"},
    {"q": "P0", "marketplace": "JP", "state": ["candidate"], "sort": "since", "desc": True},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "all")
def test_cursor_paging_visits_every_row_once_in_order(big, case):
    w, pop = big
    c = w.login("viewer")
    params = {"limit": 37, "sort": case.get("sort", "seller"), "order": "desc" if case.get("desc") else "asc"}
    for key in ("marketplace", "manager", "q"):
        if key in case:
            params[key] = case[key]
    if "state" in case:
        params["state"] = case["state"]
    seen, cursor, pages = [], None, 0
    while True:
        r = c.get("/api/v1/members", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 37
        seen += [(m["seller_id"], m["marketplace_id"]) for m in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        if cursor is None:
            break
    everything = pd.concat([pop, _seeded()], ignore_index=True)
    assert seen == _expected(everything, **case)
    assert pages == max(1, -(-len(seen) // 37))


def _seeded() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seller_id": ["S-ALPHA", "S-ALPHA", "S-BETA-SECRET"],
            "marketplace_id": ["US", "DE", "US"],
            "state": ["enrolled", "at_risk", "enrolled"],
            "since": [date(2026, 3, 1), date(2026, 10, 1), date(2026, 2, 1)],
            "account_manager_id": ["ana", None, "ana"],
        }
    )


def test_a_seller_principal_pages_through_its_own_sellers_only(big):
    w, _ = big
    c = w.client(headers={"Authorization": f"Bearer {w.token('seller', [('P0007', '*'), ('P0009', 'US')])}"})
    items = c.get("/api/v1/members", params={"limit": 1}).json()
    seen = [(m["seller_id"], m["marketplace_id"]) for m in items["items"]]
    while items["next_cursor"]:
        items = c.get("/api/v1/members", params={"limit": 1, "cursor": items["next_cursor"]}).json()
        seen += [(m["seller_id"], m["marketplace_id"]) for m in items["items"]]
    pop = _population(300)
    mine = pop[(pop.seller_id == "P0007") | ((pop.seller_id == "P0009") & (pop.marketplace_id == "US"))]
    assert seen == sorted(zip(mine.seller_id, mine.marketplace_id, strict=True)) and seen


def test_sorting_by_since_needs_one_status(web):  # noqa: F811
    c = web.login("viewer")
    for params in ({"sort": "since"}, {"sort": "since", "state": ["at_risk", "removed"]}):
        r = c.get("/api/v1/members", params=params)
        assert r.status_code == 400 and "sorting by since needs one status" in r.json()["detail"]
        assert r.json()["hint"].startswith("e.g. state=at_risk&sort=since")
    page = c.get("/console/sellers", params={"sort": "since"})
    assert (
        page.status_code == 400 and "sorting by since needs one status" in page.text and "<form" in page.text
    )


def test_cursors_are_checked(web):  # noqa: F811
    c = web.login("viewer")
    first = c.get("/api/v1/members", params={"limit": 1}).json()
    r = c.get("/api/v1/members", params={"limit": 1, "sort": "state", "cursor": first["next_cursor"]})
    assert r.status_code == 400 and "another list or order" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    for bad in ("%%%", "bm90IGpzb24", "WzEsMl0"):
        r = c.get("/api/v1/members", params={"cursor": bad})
        assert r.status_code == 400 and r.json()["type"] == "urn:cxops:problem:input"
    for limit in (0, 201, "x"):
        r = c.get("/api/v1/members", params={"limit": limit})
        assert r.status_code == 422
        body = r.json()
        assert body["errors"][0]["loc"] == ["query", "limit"] and "input" not in body["errors"][0]


def test_problem_details_for_errors_and_no_internals_on_a_bug(store):
    w = make_web(store)

    @w.app.get("/api/v1/boom", include_in_schema=False)
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    try:
        c = w.client(raise_server_exceptions=False)
        r = c.get("/api/v1/boom")
        body = r.json()
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
        assert body["title"] == "Internal Server Error" and len(body["error_id"]) == 12
        assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
        r = c.get("/api/v1/no/such/thing")
        assert r.status_code == 404 and r.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "instance": "/api/v1/no/such/thing",
        }
        admin = w.login("admin")
        r = admin.post(
            f"/api/v1/sellers/{SELLER_A}/marketplaces/US/actions",
            json={"kind": "reinstate", "reason": "why not"},
            headers={"X-CSRF-Token": admin.csrf},
        )
        assert r.status_code == 409 and r.json()["type"] == "urn:cxops:problem:conflict"
        assert "cannot reinstate seller S-ALPHA on US: the seller is enrolled" in r.json()["detail"]
        r = admin.post(
            f"/api/v1/sellers/{SELLER_A}/marketplaces/US/actions",
            json={"kind": "explode", "reason": "x", "password": "p"},
            headers={"X-CSRF-Token": admin.csrf},
        )
        assert r.status_code == 422 and "explode" not in r.text.split('"errors"')[1].split('"msg"')[0]
        page = admin.get("/console/sellers/NOPE/US")
        assert page.status_code == 404 and "<html" in page.text and "seller NOPE" in page.text
    finally:
        w.close()


def test_actions_and_notes_through_the_api_land_in_the_event_log(web):  # noqa: F811
    t = web.client(headers={"Authorization": f"Bearer {web.token('operator-admin')}"})
    url = f"/api/v1/sellers/{SELLER_A}/marketplaces/DE"
    body = {"kind": "suspend", "reason": "counterfeit complaints", "idempotency_key": "k-1"}
    first = t.post(url + "/actions", json=body)
    assert first.status_code == 201
    r = first.json()
    assert (r["state"], r["expected_state"], r["actor"], r["duplicate"]) == (
        "at_risk",
        "suspended",
        "token:t-operator-admin",
        False,
    )
    again = t.post(url + "/actions", json=body)
    assert (
        again.status_code == 200 and again.json()["action_id"] == r["action_id"] and again.json()["duplicate"]
    )
    assert t.post(url + "/notes", json={"text": "called them"}).status_code == 201
    events = t.get(url + "/events").json()["items"]
    assert [(e["kind"], e["actor"], e["reason"]) for e in events[:2]] == [
        ("note", "token:t-operator-admin", "called them"),
        ("action_requested", "token:t-operator-admin", "counterfeit complaints"),
    ]
    pending = t.get(url + "/actions", params={"status": "pending"}).json()["items"]
    assert [(p["id"], p["kind"]) for p in pending] == [(r["action_id"], "suspend")]
    cancel = t.post(url + f"/actions/{r['action_id']}/cancel", json={"reason": "wrong seller"})
    assert cancel.status_code == 200 and cancel.json()["expected_state"] == "at_risk"
    assert t.get(url + "/actions", params={"status": "pending"}).json()["items"] == []
    other = web.ids["action_b"]  # an action of another seller cannot be cancelled through this seller
    assert t.post(url + f"/actions/{other}/cancel", json={"reason": "x"}).status_code == 404
    notes = t.get(url + "/notes").json()
    assert [n["text"] for n in notes["items"]] == ["called them"] and notes["next_cursor"] is None


def test_events_page_newest_first_with_a_cursor(web):  # noqa: F811
    t = web.client(headers={"Authorization": f"Bearer {web.token('operator-admin')}"})
    url = f"/api/v1/sellers/{SELLER_A}/marketplaces/DE/notes"
    for i in range(5):
        assert t.post(url, json={"text": f"n{i}"}).status_code == 201
    seen, cursor = [], None
    while True:
        body = t.get(
            url.replace("/notes", "/events"), params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        seen += [e["reason"] for e in body.json()["items"]]
        cursor = body.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]


def test_openapi_document_and_docs_page(web):  # noqa: F811
    c = web.client()
    spec = c.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    lists = [
        "/api/v1/members",
        "/api/v1/managers",
        "/api/v1/runs",
        "/api/v1/audit",
        "/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/events",
        "/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/notes",
        "/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/actions",
    ]
    for path in lists:
        get = spec["paths"][path]["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"cursor", "limit"} <= names, path
        limit = next(p for p in get["parameters"] if p["name"] == "limit")["schema"]
        assert (limit["minimum"], limit["maximum"]) == (1, 200)
        ok = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok.split("/")[-1].startswith("Page_"), ok
    for path, ops in spec["paths"].items():
        assert not path.startswith(("/login", "/console", "/sellers")), "pages are not in the API document"
        for op in ops.values():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")) and status != "422" and path != "/api/v1/health":
                    assert "application/problem+json" in response["content"], (path, status)
    html = c.get("/api/v1/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "http" not in html
    assert c.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert "    validatorUrl: null," in c.get("/static/js/api-docs.js").text


def test_health_is_public_and_reports_the_store(web):  # noqa: F811
    r = web.client().get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["store"] == "ok"
