"""The handling-time advisor and holiday planner over HTTP: the API routes and the seller's page, on the
hand-computed case of ``test_advise_deadlines`` (one SKU shipping in 2-3 business days while set to 1)."""

from __future__ import annotations

import pytest
from _web import FAST, PASSWORD, SELLER_A, SELLER_B, seed
from fastapi.testclient import TestClient
from test_advise_deadlines import SHIPPED, _at, _data, _write

from cxops.ingest import import_canonical
from cxops.warehouse import connect
from cxops.web import create_app
from cxops.web.config import web_settings


@pytest.fixture
def client(store, tmp_path):
    wh = connect("memory")
    orders = [(o, _at(d), "MFN") for o, (d, _) in SHIPPED.items()]
    ships = [(o, _at(c, 18)) for o, (_, c) in SHIPPED.items()]
    tables = _data(orders, ships, [("A", 1)], [(o, "A") for o in SHIPPED])
    for rows in tables.values():
        for r in rows:
            r["seller_id"] = SELLER_A
    tables["sellers"].append({"seller_id": SELLER_B, "marketplace_id": "US"})
    import_canonical(wh, _write(tmp_path / "d", tables))
    seed(store)
    app = create_app(web_settings(store=store.url), store=store, policy=FAST, warehouse=wh)
    with TestClient(app) as c:
        page = c.get("/login")
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"login": "seller-a", "password": PASSWORD, "csrf_token": token, "next": "/"}
        r = c.post("/login", data=form, follow_redirects=False)
        assert r.status_code == 303
        yield c
    wh.close()


BASE = f"/api/v1/sellers/{SELLER_A}/marketplaces/US/advice"


def test_api_handling_time_values_and_upload_file(client):
    r = client.get(f"{BASE}/handling-time", params={"as_of": "2026-11-20"})
    # the orders end on Tue 17 Nov: asking for 20 Nov is stale -> a 409 problem, not a crash
    assert r.status_code == 409 and "2026-11-17" in r.json()["detail"]
    r = client.get(f"{BASE}/handling-time", params={"as_of": "2026-11-17"})
    assert r.status_code == 200, r.text
    d = r.json()
    (s,) = d["skus"]
    # due by 17 Nov: O1..O10 (O11 is due Wed 18), all late with 1 day; 3 days: none
    assert (s["sku"], s["current"], s["proposed"], s["late_had"], s["late_would"]) == ("A", 1, 3, 10, 0)
    assert s["distribution"] == {"2": 6, "3": 4} and d["rate_had"] == 1.0
    assert d["target"]["rate"] == 0.012 and d["target"]["operator"] == "<="
    f = client.get(f"{BASE}/handling-time", params={"as_of": "2026-11-17", "export": "tsv"})
    assert f.status_code == 200 and f.text == "sku\tfulfillment-latency\nA\t3\n"
    assert "attachment" in f.headers["content-disposition"]
    other = client.get(f"/api/v1/sellers/{SELLER_B}/marketplaces/US/advice/handling-time")
    assert other.status_code == 404


def test_api_holiday_upcoming_and_plan(client):
    r = client.get(f"{BASE}/holiday", params={"as_of": "2026-11-17"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["plan"] is None and d["upcoming"][0] == {"day": "2026-11-26", "name": "Thanksgiving Day"}
    r = client.get(f"{BASE}/holiday", params={"as_of": "2026-11-17", "closed": "2026-11-23..2026-11-27"})
    plan = r.json()["plan"]
    # handling time 1 (the setting): an order received Fri 20 is due Mon 23 (first in), Tue 24 -> Wed 25,
    # Wed 25 -> Fri 27 (Thanksgiving skipped, last in): on at the cut-off of Thu 19, off at Wed 25's
    (m,) = plan["modes"]
    assert (m["first_received"], m["last_received"]) == ("2026-11-20", "2026-11-25")
    assert (m["on_local"], m["off_local"]) == ("2026-11-19T14:00:00", "2026-11-25T14:00:00")
    bad = client.get(f"{BASE}/holiday", params={"closed": "soon"})
    assert bad.status_code == 400 and "FROM..TO" in bad.json()["detail"]


def test_seller_page_shows_the_advice_and_the_plan(client):
    page = client.get(f"/sellers/{SELLER_A}/marketplaces/US/advice")
    assert page.status_code == 200, page.text
    assert 'data-testid="sku-A"' in page.text and "Thanksgiving Day" in page.text
    row = page.text.split('data-testid="sku-A"')[1].split("</tr>")[0]
    assert "<strong>3</strong>" in row and "100.00 %" in row  # proposed 3; had 10 of 10 late
    plan = client.get(
        f"/sellers/{SELLER_A}/marketplaces/US/advice",
        params={"closed_from": "2026-11-23", "closed_to": "2026-11-27"},
        headers={"Accept-Language": "zh"},
    )
    assert plan.status_code == 200 and 'data-testid="plan"' in plan.text
    assert "11月19日 14:00" in plan.text and "11月25日 14:00" in plan.text  # holiday mode on / off
    assert client.get(f"/sellers/{SELLER_B}/marketplaces/US/advice").status_code == 404
