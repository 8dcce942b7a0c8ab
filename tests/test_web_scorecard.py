"""The seller's scorecard on the web (page and API) from a real stored run: criteria with gaps and
progress, the defective orders paged and as CSV, trend charts with the policy's lines — checked against
hand computations and independent reads of the warehouse, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pandas as pd
import pytest
from _store import store, store_url  # noqa: F401
from _synth import generate_tables, write_tables
from _web import CSRF_RE, FAST, PASSWORD

from cxops.ingest.canonical_files import import_canonical
from cxops.policy.load import load_policy
from cxops.service import accounts
from cxops.service.evaluation import run_evaluation
from cxops.store import upsert_memberships
from cxops.warehouse import connect
from cxops.web import create_app
from cxops.web.config import web_settings

pytestmark = [pytest.mark.integration]
PROGRAM = "customer-excellence"
AS_OF = date(2026, 11, 1)
METRICS_DAY = date(2026, 10, 31)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A generated marketplace (6 sellers, 400 days) with a stored run as of 2026-11-01."""
    d = tmp_path_factory.mktemp("scorecard")
    write_tables(generate_tables(7, 6, 400), d / "data")
    wh = connect(str(d / "w.duckdb"))
    import_canonical(wh, d / "data", None)
    policy = load_policy(PROGRAM)
    ev = run_evaluation(wh, policy, AS_OF)
    statuses = ev.latest_statuses()
    defects = ev.frame("defects")
    wh.con.disconnect()
    return d / "w.duckdb", statuses, defects


def _seller_with_defects(defects: pd.DataFrame) -> tuple[str, str]:
    odr = defects[defects.metric == "order_defect_rate"]
    counts = odr.groupby(["seller_id", "marketplace_id"]).order_id.nunique().sort_values(kind="stable")
    return counts.index[-1]


class Site:
    def __init__(self, st, path, statuses, defects):
        self.seller, self.mp = _seller_with_defects(defects)
        members = statuses[["seller_id", "marketplace_id", "state", "since"]].copy()
        with st.unit_of_work() as s:
            upsert_memberships(s, PROGRAM, members)
        accounts.add_user(st, "admin", PASSWORD, role="operator-admin", actor="test", policy=FAST)
        accounts.add_user(
            st, "shop", PASSWORD, role="seller", actor="test", sellers=[(self.seller, "*")], policy=FAST
        )
        self.wh = connect(str(path), read_only=True)
        self.app = create_app(web_settings(store=st.url), store=st, policy=FAST, warehouse=self.wh)
        self.base = f"/sellers/{self.seller}/marketplaces/{self.mp}"

    def login(self, login):
        from fastapi.testclient import TestClient

        c = TestClient(self.app)
        c.__enter__()
        token = CSRF_RE.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token, "next": "/"})
        assert r.status_code == 200, r.text[:300]
        return c


@pytest.fixture
def site(store, evaluated):  # noqa: F811
    s = Site(store, *evaluated)
    yield s
    s.wh.con.disconnect()


def _orders_in_window(path, seller, mp, days: int) -> int:
    """Orders purchased in the ``days``-day window ending on the metrics day, counted from the raw
    orders table in the marketplace's local days (an independent count)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        zone = con.execute("select timezone from marketplaces where marketplace_id = ?", [mp]).fetchone()[0]
        df = con.execute(
            "select purchased_at from orders where seller_id = ? and marketplace_id = ?", [seller, mp]
        ).df()
    finally:
        con.close()
    local = pd.to_datetime(df.purchased_at, utc=True).dt.tz_convert(zone).dt.date
    lo = METRICS_DAY - timedelta(days=days - 1)
    return int(((local >= lo) & (local <= METRICS_DAY)).sum())


def test_scorecard_api_values_gaps_and_progress_by_hand(site, evaluated):
    c = site.login("shop")
    card = c.get(f"/api/v1{site.base}/scorecard").json()
    assert card["run"]["last_evaluation"] == "2026-11-01" and card["next_evaluation"] == "2026-12-01"
    crit = {(x["section"], x["criterion_id"]): x for x in card["criteria"]}
    vol = crit[("eligibility", "order_volume")]
    n = _orders_in_window(evaluated[0], site.seller, site.mp, 90)
    assert vol["value"] == n and vol["threshold"] == 1500 and vol["operator"] == ">"
    assert vol["progress"] == pytest.approx(min(1.0, n / 1500))
    if n <= 1500:  # "more than 1500": the gap is the orders up to 1501
        assert vol["result"] == "fail" and vol["gap"] == 1500 - n + 1
        assert vol["gap_text"] == f"needs {1500 - n + 1:,} more orders to get above 1,500"
    # the ODR criterion's numerator is the number of distinct orders listed as ODR defects (60 days)
    odr = crit[("admission", "odr")]
    d = evaluated[2]
    mine = d[(d.seller_id == site.seller) & (d.marketplace_id == site.mp)]
    listed = mine[(mine.metric == "order_defect_rate") & (mine.window_days == 60)].order_id.nunique()
    assert odr["numerator"] == listed > 0
    assert odr["value"] == pytest.approx(odr["numerator"] / odr["denominator"])
    assert odr["threshold"] == 0.0045 and odr["threshold_text"] == "< 0.45%"
    # a < bar: progress 1 − value / (2 × threshold), floored at 0
    assert odr["progress"] == pytest.approx(max(0.0, 1 - odr["value"] / 0.009))
    # a removal rule's comparison is the breach: "breach if > 0.60 %" progresses as "<= 0.60 %"
    removal = crit[("removal", "odr")]
    assert removal["threshold"] == 0.006 and removal["threshold_text"] == "breach if > 0.60%"
    assert removal["progress"] == pytest.approx(max(0.0, 1 - removal["value"] / 0.012))
    # in Chinese, the same numbers with the sentences translated
    zh = c.get(f"/api/v1{site.base}/scorecard", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    zvol = {(x["section"], x["criterion_id"]): x for x in zh["criteria"]}[("eligibility", "order_volume")]
    assert zvol["value"] == n and zvol["gap_text"] != vol["gap_text"] and "1,500" in zvol["gap_text"]


def test_defects_paged_equal_the_csv_and_the_run(site, evaluated):
    c = site.login("shop")
    d = evaluated[2]
    mine = d[(d.seller_id == site.seller) & (d.marketplace_id == site.mp)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = c.get(f"/api/v1{site.base}/defects", params=params).json()
        assert page["total"] == len(mine)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(mine) > 2  # every defect, not the first page
    keys = [(x["metric"], x["window_days"], x["drops_out_on"], x["order_id"], x["record_id"]) for x in seen]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for x in seen:  # drops out the day after the window's last day: anchor + window days
        assert date.fromisoformat(x["drops_out_on"]) == date.fromisoformat(x["anchor_date"]) + timedelta(
            days=x["window_days"]
        )
    r = c.get(f"/api/v1{site.base}/defects.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["order_id"], x["drops_out_on"]) for x in rows] == [
        (x["order_id"], x["drops_out_on"]) for x in seen
    ]
    odr = c.get(f"/api/v1{site.base}/defects", params={"metric": "order_defect_rate", "limit": 200}).json()
    assert {x["metric"] for x in odr["items"]} == {"order_defect_rate"}
    assert odr["total"] == int((mine.metric == "order_defect_rate").sum())
    bad = c.get(f"/api/v1{site.base}/defects", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


def test_trends_have_the_policy_lines_and_the_run_values(site):
    c = site.login("shop")
    year = c.get(f"/api/v1{site.base}/trends", params={"span": "12m"}).json()
    by = {t["metric"]: t for t in year}
    odr = by["order_defect_rate"]
    assert odr["lines"] == {"limit": 0.006, "bar": 0.0045}  # removal > 0.60 %, admission < 0.45 %
    assert by["on_time_delivery_rate"]["lines"] == {"bar": 0.95}
    days = [p["day"] for p in odr["points"]]
    assert days[-1] == "2026-10-31" and len(days) == 12  # the metrics day of each monthly evaluation
    card = c.get(f"/api/v1{site.base}/scorecard").json()
    last = {x["criterion_id"]: x for x in card["criteria"] if x["section"] == "admission"}["odr"]["value"]
    assert odr["points"][-1]["value"] == pytest.approx(last)
    spec = odr["spec"]
    assert spec["data"]["values"][-1] == {"day": "2026-10-31", "value": odr["points"][-1]["value"]}
    rules = spec["layer"][1]["data"]["values"]
    assert [(r["role"], r["threshold"]) for r in rules] == [("limit", 0.006), ("bar", 0.0045)]
    assert "$schema" not in json.dumps(spec)  # nothing to fetch
    days90 = c.get(f"/api/v1{site.base}/trends").json()
    pts = {t["metric"]: t["points"] for t in days90}["order_defect_rate"]
    assert len(pts) == 90 and pts[-1]["day"] == "2026-10-31" and pts[0]["day"] == "2026-08-03"  # − 89 days
    assert pts[-1]["value"] == pytest.approx(last)  # the daily series ends on the run's value


def test_seller_page_shows_the_scorecard_charts_and_defects(site):
    c = site.login("shop")
    page = c.get(f"/sellers/{site.seller}").text
    assert 'data-testid="criteria"' in page and 'data-testid="criterion-admission-odr"' in page
    assert 'data-testid="defects"' in page and f'href="/api/v1{site.base}/defects.csv"' in page
    assert "<progress" in page and "/static/js/charts.js" in page
    card = c.get(f"/api/v1{site.base}/scorecard").json()
    for x in card["criteria"]:
        if x["gap_text"]:
            assert x["gap_text"] in unescape(page)
    rows = page.count('data-testid="defect-row"')
    assert rows == min(20, c.get(f"/api/v1{site.base}/defects").json()["total"])
    frag = c.get(f"{site.base}/charts?span=12m", headers={"HX-Request": "true"}).text
    specs = [json.loads(unescape(s)) for s in re.findall(r'data-vega-spec="([^"]+)"', frag)]
    assert len(specs) == 4 and specs[0]["usermeta"]["metric"] == "order_defect_rate"
    zh = c.get(f"/sellers/{site.seller}?lang=zh").text
    assert "考核指标" in zh and "缺陷订单" in zh


def test_an_operator_sees_it_and_another_seller_does_not(site, evaluated):
    admin = site.login("admin")
    assert admin.get(f"/api/v1{site.base}/scorecard").status_code == 200
    st = evaluated[1]
    other = next((s, m) for s, m in zip(st.seller_id, st.marketplace_id, strict=True) if s != site.seller)
    shop = site.login("shop")
    for url in (f"/api/v1/sellers/{other[0]}/marketplaces/{other[1]}/scorecard",
                f"/api/v1/sellers/{other[0]}/marketplaces/{other[1]}/defects.csv",
                f"/sellers/{other[0]}/marketplaces/{other[1]}/charts"):  # fmt: skip
        assert shop.get(url).status_code == 404, url
    assert admin.get(f"/api/v1/sellers/{site.seller}/marketplaces/XX/scorecard").status_code == 404


def test_eligibility_inquiry_is_answered_from_the_stored_run(site):
    c = site.login("shop")
    csrf = CSRF_RE.search(c.get(f"/sellers/{site.seller}").text).group(1)
    card = c.get(f"/api/v1{site.base}/scorecard").json()
    r = c.post(
        f"/api/v1{site.base}/inquiries", json={"question": "Why not me?"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["kind"] == "inquiry" and case["status"] == "answered" and case["subject"] == "Why not me?"
    a = case["answer"]
    assert a["state"] == card["state"] and a["projected_state"] == card["projected_state"]
    assert a["next_evaluation"] == "2026-12-01" and a["as_of"] == "2026-10-31"
    asked = {(x["section"], x["criterion_id"]): x["value"] for x in a["criteria"]}
    shown = {(x["section"], x["criterion_id"]): x["value"] for x in card["criteria"]}
    assert {s for s, _ in asked} == {"eligibility", "admission"}
    assert all(asked[k] == shown[k] for k in asked)  # the same figures as the page
    listed = c.get(f"/api/v1{site.base}/cases", params={"kind": "inquiry"}).json()["items"]
    assert [x["id"] for x in listed] == [case["id"]]
    form = c.post(
        f"{site.base}/inquiries", data={"csrf_token": csrf, "question": "And now?"}, follow_redirects=False
    )
    assert form.status_code == 303
    page = c.get(form.headers["location"]).text
    assert page.count('data-testid="inquiry-row"') == 2 and "And now?" in page


def test_a_sellers_reads_of_a_stored_run_are_kept_per_run(evaluated, monkeypatch):
    """A registered run never changes, so the page reads each part of a seller once per run: the
    cached frame equals a fresh read, the caller gets a copy, and another run id reads again."""
    from dataclasses import replace

    from cxops.service import scorecard as sc

    path, _, defects = evaluated
    seller, mp = _seller_with_defects(defects)
    wh = connect(str(path), read_only=True)
    try:
        policy = load_policy(PROGRAM)
        ev = sc.evaluation(wh, policy, seller)
        fresh = {
            "statuses": ev.latest_statuses([seller]),
            "criteria": ev.frame("criteria", [seller]),
            "defects": ev.defects(seller),
        }
        reads = []
        original = type(ev).frame
        monkeypatch.setattr(
            type(ev), "frame", lambda self, *a, **k: reads.append(a[0]) or original(self, *a, **k)
        )
        monkeypatch.setattr(sc, "_FRAMES", type(sc._FRAMES)())
        for part, expected in fresh.items():
            first = sc.seller_frame(ev, part, seller)
            pd.testing.assert_frame_equal(first, expected)
            first.iloc[:, 0] = None  # the caller's copy: the cache keeps its own
            pd.testing.assert_frame_equal(sc.seller_frame(ev, part, seller), expected)
        assert sorted(reads) == ["criteria", "defects", "statuses"]  # one read each
        card = sc.scorecard(wh, policy, seller, mp)
        assert len(reads) == 4 and reads[-1] == "projected"  # statuses and criteria from memory
        assert card.status["state"] == fresh["statuses"].query("marketplace_id == @mp").state.iloc[0]
        other = replace(ev, run=replace(ev.run, run_id="another-run"))
        with pytest.raises(Exception, match="another-run"):  # not served from memory: read (no such run)
            sc.seller_frame(other, "criteria", seller)
        assert len(reads) == 5
    finally:
        wh.con.disconnect()
