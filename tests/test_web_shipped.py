"""The shipped-basis API routes and page on the seeded web app (``_web``): seller A's order was
confirmed before its ship-by date (23:59 PST on 22 February 2026) and carries a tracking id the carrier
never scanned, and it was delivered — on time under the seller's confirmation, left out under the first
carrier scan (delivered unscanned: its lateness unknown), as in ``test_shipped_event`` (order D/C).
Every route's isolation is ``test_web_isolation``."""

from __future__ import annotations

import pandas as pd
import pytest
from _web import SELLER_A, SELLER_B, make_web, orders_warehouse

BASE = f"/api/v1/sellers/{SELLER_A}/marketplaces/US/shipped-basis"


@pytest.fixture
def web(store):
    """The seeded app, with a later order of A (placed 25 February, not yet due) so that the data's last
    complete day (2026-02-25) follows the ship-by day of A's first order."""
    later = {"seller_id": SELLER_A, "order_id": "O-LATER", "marketplace_id": "US",
             "purchased_at": pd.Timestamp("2026-02-25 18:00"), "fulfillment_channel": "MFN",
             "latest_ship_at": pd.Timestamp("2026-02-28 07:59"), "units": 1, "order_total": 5.0,
             "currency": "USD"}  # fmt: skip
    w = make_web(store, orders_warehouse([later]))
    yield w
    w.close()


def test_api_lists_the_order_whose_result_differs(web):
    c = web.login("seller-a")
    r = c.get(BASE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["next_cursor"] is None
    assert body["items"] == [
        {"order_id": f"O-{SELLER_A}", "ship_by_date": "2026-02-22", "basis_result": "on time",
         "against_result": "left out"}
    ]  # fmt: skip
    assert (body["basis"], body["against"], body["window_days"], body["as_of"]) == (
        "confirmation", "first_scan", 30, "2026-02-25"
    )  # fmt: skip
    same = c.get(f"{BASE}?basis=first_scan&against=first_scan").json()
    assert same["items"] == [] and same["total"] == 0
    # the window ends before the ship-by day: nothing due in it
    early = c.get(f"{BASE}?as_of=2026-02-21").json()
    assert early["items"] == [] and early["as_of"] == "2026-02-21"
    assert c.get(f"{BASE}?as_of=2026-02-26").status_code == 409  # past the last complete day
    assert c.get(f"{BASE}?basis=tomorrow").status_code == 422
    assert c.get(f"{BASE}?cursor=bm90LWEtY3Vyc29y").status_code == 400
    assert c.get(f"/api/v1/sellers/{SELLER_B}/marketplaces/US/shipped-basis").status_code == 404


def test_csv_and_page(web):
    c = web.login("seller-a")
    csv = c.get(f"{BASE}.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [
        "order_id,ship_by_date,basis_result,against_result",
        f"O-{SELLER_A},2026-02-22,on time,left out",
    ]
    home = c.get(f"/sellers/{SELLER_A}").text
    assert f'href="/sellers/{SELLER_A}/marketplaces/US/shipped-basis"' in home
    page = c.get(f"/sellers/{SELLER_A}/marketplaces/US/shipped-basis")
    assert page.status_code == 200
    assert 'data-testid="shipped-orders"' in page.text and f"O-{SELLER_A}" in page.text
    assert "left out" in page.text and f"O-{SELLER_B}" not in page.text
    zh = c.get(f"/sellers/{SELLER_A}/marketplaces/US/shipped-basis?lang=zh").text
    assert "承运商首次扫描" in zh and "不计入" in zh
    assert c.get(f"/sellers/{SELLER_B}/marketplaces/US/shipped-basis").status_code == 404
