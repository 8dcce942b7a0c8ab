"""In a real browser: Playwright driving Debian's Chromium (headless) against ``cxops serve`` on 127.0.0.1.

The server runs as a subprocess over a generated marketplace (``tests/_market.py``) in a store on
SQLite, or on PostgreSQL when ``CXOPS_TEST_PG_URL`` is set. A seller logs in, reads the status and the
failing criterion of each account, switches to Chinese, downloads the evidence bundle of a dispute (the
zip is opened and checked: that dispute's order, case and manifest, nothing of another dispute) and
uploads a document from the checklist's form (a real file), which the page then lists as submitted and
the operator finds in the document review queue; an operator filters at-risk sellers, reinstates a
removed seller under immunity and sees the request in the audit log. The server reads a DuckDB
warehouse file holding the disputed orders (``CXOPS_WAREHOUSE``); uploads go to a temporary folder.
Every page is checked with axe-core (``tests/vendor/axe-core``, injected into the page) for serious or
critical violations, and must log no browser error (a script or style the Content-Security-Policy
blocks is one). Screenshots and axe reports are kept in ``tests/artifacts/`` (ignored by git).

Without Chromium or Playwright the tests skip — unless ``CXOPS_REQUIRE_BROWSER=1`` (set by CI), which
makes them fail. ``CXOPS_CHROMIUM`` names another browser binary.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest
from _market import PASSWORD, SELLER, Server, seed_market

from cxops.report.i18n import get_translator

pytestmark = [pytest.mark.e2e]

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
AXE = HERE / "vendor" / "axe-core"
EN, ZH = get_translator("en"), get_translator("zh")


def _require(problem: str):
    if os.environ.get("CXOPS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CXOPS_REQUIRE_BROWSER=1 but {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}")


def chromium_path() -> str:
    """Debian's Chromium (or ``$CXOPS_CHROMIUM``); skip or fail when there is none."""
    path = os.environ.get("CXOPS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        _require("no chromium on PATH (apt-get install chromium)")
    return path


def axe_source() -> str:
    """axe-core's script, checked against the SHA-256 recorded in its VENDOR.md."""
    data = (AXE / "axe.min.js").read_bytes()
    recorded = re.search(r"^([0-9a-f]{64})  axe\.min\.js$", (AXE / "VENDOR.md").read_text(), re.M)
    assert recorded and hashlib.sha256(data).hexdigest() == recorded.group(1), (
        "axe.min.js differs from VENDOR.md"
    )
    return data.decode()


# -- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    """A SQLite file, or a new schema of the test PostgreSQL (dropped afterwards)."""
    from _store import PG_ENV, require_pg

    if not os.environ.get(PG_ENV):
        yield f"sqlite:///{tmp_path_factory.mktemp('browser') / 'store.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = require_pg()
    schema = f"cxops_browser_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def served(store_url, tmp_path_factory):
    """The generated marketplace and ``cxops serve`` on it: ``(base url, market)``."""
    from cxops.store import open_store, upgrade

    work = tmp_path_factory.mktemp("server")
    wh_path = work / "warehouse.duckdb"
    store = open_store(store_url, check=False, must_exist=False)
    try:
        upgrade(store)
        market = seed_market(store, n=60)
        market.disputes = open_disputes(store, market, wh_path)
    finally:
        store.dispose()
    env = {"CXOPS_WAREHOUSE": str(wh_path), "CXOPS_DOCUMENTS_URL": str(work / "documents")}
    with Server(store_url, work / "server.log", env=env) as server:
        yield server.url, market


#: The orders of the disputes (:func:`open_disputes`): two of the seller's on US, one of another seller.
DISPUTED = {"mine": f"O-{SELLER}-US-1", "mine_too": f"O-{SELLER}-US-2"}


def open_disputes(store, market, wh_path: Path) -> dict[str, int]:
    """A DuckDB warehouse file with three orders on US (two of :data:`SELLER`, one of another seller)
    and a buyer dispute about each; returns ``{key: case id}`` (``other``: the other seller's)."""
    import pandas as pd
    from _wh import warehouse

    from cxops.service.cases import open_dispute

    other = market.members[(market.members.seller_id != SELLER) & (market.members.marketplace_id == "US")]
    other = other.seller_id.iloc[0]
    orders = {**DISPUTED, "other": f"O-{other}-US-1"}
    owner = {"mine": SELLER, "mine_too": SELLER, "other": other}
    ts = pd.Timestamp
    rows = [
        {"seller_id": owner[k], "order_id": o, "marketplace_id": "US", "purchased_at": ts("2026-11-20 10:00"),
         "fulfillment_channel": "MFN", "latest_ship_at": ts("2026-11-23 07:59"),
         "latest_delivery_at": ts("2026-12-02 07:59"), "units": 1, "order_total": 25.0, "currency": "USD"}
        for k, o in orders.items()
    ]  # fmt: skip
    ships = [
        {"seller_id": owner[k], "order_id": o, "shipment_id": f"SH-{o}",
         "confirmed_at": ts("2026-11-22 18:00"), "carrier": "UPS", "tracking_id": f"1Z{o}",
         "delivered_at": ts("2026-11-26 18:00")}
        for k, o in orders.items()
    ]  # fmt: skip
    sellers = [{"seller_id": s, "marketplace_id": "US"} for s in sorted(set(owner.values()))]
    wh = warehouse({"sellers": sellers, "orders": rows, "shipments": ships}, url=str(wh_path))
    try:
        market.disputes_of = owner
        return {
            k: open_dispute(store, wh, owner[k], o, reason="item not received", actor="carla").id
            for k, o in orders.items()
        }
    finally:
        wh.con.disconnect()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield b
        b.close()


def new_page(browser, base: str):
    """A page in a fresh browser context (no cookies) that collects browser errors in ``page.errors``."""
    context = browser.new_context(
        base_url=base, locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    p = context.new_page()
    p.set_default_timeout(10_000)
    errors: list[str] = []
    p.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    p.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    p.errors = errors  # a test expecting an error (a 404 page) clears it
    return p


@pytest.fixture
def page(browser, served):
    """A fresh browser context (no cookies) and page; browser errors are collected and must be none."""
    p = new_page(browser, served[0])
    yield p
    p.context.close()
    assert not p.errors, p.errors


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_axe(page, name: str) -> None:
    """No serious or critical axe-core violation on the page (WCAG 2.x A/AA and best practices)."""
    page.evaluate(axe_source())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result["violations"], indent=1))
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in bad
    ]
    assert not report, f"{name}: " + "; ".join(report)
    assert result["testEngine"]["version"] == "4.14.1"


def login(page, who: str) -> None:
    page.goto("/")
    assert "/login" in page.url  # anonymous: sent to the login page
    page.get_by_label(EN("web.login.login")).fill(who)
    page.get_by_label(EN("web.login.password")).fill(PASSWORD)
    page.get_by_role("button", name=EN("web.login.submit")).click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def account(page, marketplace: str, tr=EN):
    """The section of one seller account (a region named by its heading)."""
    name = tr("web.seller.marketplace", marketplace=marketplace)
    return page.get_by_role("region", name=re.compile("^" + re.escape(name)))


def fact(section, tr, key: str):
    """The value (``dd``) of a fact (``dt``) in a section's fact list."""
    return section.locator(f"dl.facts dt:text-is('{tr(key)}') + dd")


# -- the seller ----------------------------------------------------------------------------------------


def test_seller_reads_status_and_criteria_then_switches_to_chinese(page, served):
    base, market = served
    login(page, "seller")
    assert page.url == f"{base}/sellers/{SELLER}"  # one seller: straight to its page
    assert page.get_by_role("heading", level=1).inner_text() == EN("web.seller.title")
    mine = market.of(SELLER)
    assert page.locator("section.account").count() == len(mine) == 3

    us = account(page, "US")
    assert fact(us, EN, "web.field.status").inner_text() == "At risk · since Oct 1, 2026"
    # the failing criterion with its value and threshold, as the lifecycle wrote it
    assert fact(us, EN, "web.field.reason").inner_text() == (
        "Warning: order defect rate under 1 % (1.23% > 1.00%) "
        "(breach 1 of 2 consecutive evaluations before removal)."
    )
    manager = mine[mine.marketplace_id == "US"].account_manager_id.iloc[0]
    assert fact(us, EN, "web.field.manager").inner_text().endswith(f"{manager}@example.com")
    de = account(page, "DE")
    assert fact(de, EN, "web.field.status").inner_text() == "Removed · since Sep 1, 2026"
    assert fact(de, EN, "web.field.reason").inner_text() == (
        "Removed: order defect rate under 1 % (1.87% > 1.00%) at 2 consecutive evaluations."
    )
    jp = account(page, "JP")
    assert fact(jp, EN, "web.field.status").inner_text() == "Enrolled · since Jun 1, 2025"
    assert jp.locator("ul.benefits li").inner_text().startswith("Traffic support — top")
    # the history: the transition into today's state
    history = us.get_by_test_id("history")
    assert history.locator("tbody tr").count() == 1
    assert "Enrolled → At risk" in history.locator("tbody tr").inner_text()
    # the seller sees no operator's navigation and no other seller
    assert page.get_by_role("link", name=EN("web.nav.sellers")).count() == 0
    shot(page, "seller-en")
    check_axe(page, "seller-en")

    page.get_by_role("group", name=EN("web.language")).get_by_role("link", name="中文").click()
    page.wait_for_url(f"{base}/sellers/{SELLER}")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == ZH("web.seller.title")
    us = account(page, "US", ZH)
    status = fact(us, ZH, "web.field.status").inner_text()
    assert status.startswith(ZH.state("at_risk")) and "2026年10月1日" in status
    assert "1.23%" in fact(us, ZH, "web.field.reason").inner_text()
    shot(page, "seller-zh")
    check_axe(page, "seller-zh")
    # the choice is remembered: the next page is in Chinese too
    page.goto(f"/sellers/{SELLER}")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"


def test_seller_cannot_open_another_seller(page, served):
    base, market = served
    other = market.members[market.members.seller_id != SELLER].seller_id.iloc[0]
    login(page, "seller")
    response = page.goto(f"/sellers/{other}")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == EN.maybe("web.error.404", "Not Found")
    response = page.goto(f"/console/sellers/{other}/US")
    assert response.status == 404
    # Chromium logs each 404 document as a failed resource load: expected here, and only that
    assert all("status of 404" in e or e.startswith("HTTP 404") for e in page.errors), page.errors
    page.errors.clear()


def test_seller_checks_a_draft_message_and_sees_each_span(page, served):
    base, _ = served
    login(page, "seller")
    page.get_by_test_id("message-check-link").click()
    page.wait_for_url(f"{base}/sellers/{SELLER}/message-check")
    draft = "Please update your review. Email me: a@b.com"
    box = page.get_by_label(EN("msgcheck.web.label"))
    box.fill(draft)
    page.get_by_role("button", name=EN("msgcheck.web.submit")).click()
    page.wait_for_load_state()
    marks = page.get_by_test_id("highlighted").locator("mark")
    assert marks.all_inner_texts() == ["update your review", "Email me", "a@b.com"]
    rows = page.get_by_test_id("findings").locator("tbody tr")
    spans = [(r.get_attribute("data-rule"), r.get_attribute("data-start"), r.get_attribute("data-end"))
             for r in rows.all()]  # fmt: skip
    assert spans == [("review_change", "7", "25"), ("off_platform_contact", "27", "35"),
                     ("off_platform_contact", "37", "44")]  # fmt: skip
    assert page.get_by_label(EN("msgcheck.web.label")).input_value() == draft  # the draft stays
    shot(page, "message-check")
    check_axe(page, "message-check")


def test_seller_downloads_the_evidence_bundle_of_a_dispute(page, served, tmp_path):
    base, market = served
    login(page, "seller")
    us = account(page, "US")
    disputes = us.get_by_test_id("disputes").locator("tbody tr")
    assert disputes.count() == 2  # the seller's two, not the other seller's
    row = disputes.filter(has_text=DISPUTED["mine"])
    assert row.count() == 1
    assert row.get_by_test_id("dispute-clock").inner_text().endswith(")")  # time left (due …)
    check_axe(page, "seller-disputes")
    with page.expect_download() as info:
        row.get_by_role("link", name=EN("web.desk.download")).click()
    download = info.value
    case_id = market.disputes["mine"]
    assert download.suggested_filename == f"dispute-{case_id}-order-{DISPUTED['mine']}.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        expected = {"order.json", "shipments.csv", "case.json", "policy.json", "timeline.txt"}
        expected |= {"manifest.json"}
        assert expected <= names
        order = json.loads(z.read("order.json"))["order"]
        assert (order["order_id"], order["seller_id"]) == (DISPUTED["mine"], SELLER)
        case = json.loads(z.read("case.json"))
        assert (case["id"], case["kind"], case["order_id"]) == (case_id, "dispute", DISPUTED["mine"])
        shipments = z.read("shipments.csv").decode()
        assert f"SH-{DISPUTED['mine']}" in shipments and DISPUTED["mine_too"] not in shipments
        manifest = json.loads(z.read("manifest.json"))
        assert (manifest["case_id"], manifest["seller_id"], manifest["order_id"]) == (
            case_id,
            SELLER,
            DISPUTED["mine"],
        )
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        assert all(listed[n] == hashlib.sha256(z.read(n)).hexdigest() for n in listed)
        everything = b"".join(z.read(n) for n in names)
    # nothing of the seller's other dispute, nor of another seller's
    other_order = f"O-{market.disputes_of['other']}-US-1".encode()
    assert DISPUTED["mine_too"].encode() not in everything and other_order not in everything


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_seller_uploads_a_document_and_the_operator_sees_it_for_review(browser, served, tmp_path):
    base, _ = served
    seller = new_page(browser, base)
    login(seller, "seller")
    us = account(seller, "US")
    w8 = us.get_by_test_id("document-w8ben")
    assert w8.locator("td").nth(2).inner_text() == EN("web.desk.doc.missing")
    form = us.get_by_test_id("upload-form")
    form.get_by_label(EN("web.desk.requirement")).select_option("w8ben")
    form.get_by_label(EN("web.desk.signed_on")).fill("2026-03-01")
    pdf = tmp_path / "w8ben-signed.pdf"
    pdf.write_bytes(PDF)
    form.get_by_label(EN("web.desk.file")).set_input_files(str(pdf))
    form.get_by_role("button", name=EN("web.desk.upload")).click()
    seller.wait_for_url(re.compile(r"done=upload"))
    assert seller.get_by_test_id("form-done").first.inner_text() == EN("web.desk.done.upload")
    w8 = account(seller, "US").get_by_test_id("document-w8ben")
    cells = w8.locator("td").all_inner_texts()
    assert cells[2] == EN("web.desk.doc.submitted") and cells[3] == "w8ben-signed.pdf"
    # the other marketplaces' checklists are untouched
    de_w8 = account(seller, "DE").get_by_test_id("document-w8ben")
    assert de_w8.locator("td").nth(2).inner_text() == EN("web.desk.doc.missing")
    shot(seller, "seller-document-submitted")
    check_axe(seller, "seller-document-submitted")
    assert not seller.errors, seller.errors
    seller.context.close()

    operator = new_page(browser, base)
    login(operator, "admin")
    operator.goto("/console/documents")
    queue = operator.get_by_test_id("document-queue")
    row = queue.locator("tbody tr").filter(has_text="w8ben-signed.pdf")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == f"{SELLER} · US"
    assert cells[1].startswith(EN.maybe("web.desk.req.w8ben", "w8ben"))
    assert f"({'application/pdf'}, {len(PDF)} B)" in cells[2]
    assert cells[3].endswith("· seller")
    assert row.get_by_role("button", name=EN("web.ops.accept")).count() == 1
    shot(operator, "console-documents")
    check_axe(operator, "console-documents")
    assert not operator.errors, operator.errors
    operator.context.close()


# -- the operator ---------------------------------------------------------------------------------------


def status_filter(page):
    """The status filter (a label wrapping its select: the name starts with the label's text)."""
    return page.get_by_role("combobox", name=re.compile("^" + re.escape(EN("web.field.status"))))


def members_table(page):
    return page.get_by_role("table", name=EN("web.console.sellers_caption"))


def test_operator_filters_at_risk_and_reinstates_under_immunity(page, served):
    base, market = served
    login(page, "admin")
    assert page.url.startswith(f"{base}/console/sellers")
    check_axe(page, "console-all")

    status_filter(page).select_option("at_risk")  # htmx replaces the table
    page.wait_for_url(re.compile(r"state=at_risk"))
    table = members_table(page)
    at_risk = market.in_state("at_risk")
    rows = table.locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(at_risk)
    shown = {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}
    assert shown == set(at_risk.seller_id)
    assert set(table.locator("tbody .state").all_inner_texts()) == {"At risk"}
    shot(page, "console-at-risk")
    check_axe(page, "console-at-risk")

    status_filter(page).select_option("removed")
    page.wait_for_url(re.compile(r"state=removed"))
    removed = market.in_state("removed")
    target = removed[removed.seller_id != SELLER].iloc[0]
    page.get_by_role("link", name=target.seller_id, exact=True).click()
    page.wait_for_url(re.compile(f"/console/sellers/{target.seller_id}/{target.marketplace_id}"))
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith(
            EN("web.console.seller_title", seller=target.seller_id, marketplace=target.marketplace_id)
        )
    )
    check_axe(page, "console-seller")

    form = page.get_by_role("group", name=EN("web.action.reinstate"), exact=True)
    reason = "Plan of action accepted: new carrier from 15 Nov"
    form.get_by_label(re.compile("^" + EN("web.field.until"))).fill("2027-02-01")
    form.get_by_label(EN("web.field.reason")).fill(reason)
    form.get_by_role("button", name=EN("web.action.reinstate")).click()
    page.wait_for_url(re.compile(r"done=reinstate"))
    assert page.get_by_role("status").inner_text() == EN("web.done.reinstate")

    pending = page.locator("table.pending tbody tr")
    assert pending.count() == 1
    cells = pending.first.locator("td").all_inner_texts()
    assert (
        cells[1:3] == [EN("web.action.reinstate"), "admin"]
        and cells[4] == "Feb 1, 2027"
        and cells[5] == reason
    )
    audit = page.locator("h2#audit + table tbody tr").first  # newest first
    audit_cells = audit.locator("td").all_inner_texts()
    assert audit_cells[1].startswith(f"{EN('web.event.action_requested')} · {EN('web.action.reinstate')}")
    assert audit_cells[3:] == ["admin", reason]
    shot(page, "console-seller-reinstate")

    # the same request through the API, with the session (another path to the store)
    api = page.request.get(
        f"/api/v1/sellers/{target.seller_id}/marketplaces/{target.marketplace_id}/actions?status=pending"
    )
    assert api.ok
    (item,) = api.json()["items"]
    assert (item["kind"], item["actor"], item["reason"], item["until"]) == (
        "reinstate",
        "admin",
        reason,
        "2027-02-01",
    )


def test_viewer_reads_but_is_offered_no_action(page, served):
    base, market = served
    login(page, "viewer")
    target = market.in_state("removed").iloc[0]
    page.goto(f"/console/sellers/{target.seller_id}/{target.marketplace_id}")
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_role("button", name=EN("web.action.reinstate")).count() == 0
    assert page.locator("form.action").count() == 0


def test_axe_check_finds_violations(browser):
    """The check can fail: axe reports an image without text and a field without a label as serious or
    critical on a page made for it."""
    p = browser.new_page()
    try:
        p.set_content(
            '<html lang="en"><title>t</title><main><img src="x.png"><input type="text"></main></html>'
        )
        with pytest.raises(AssertionError, match=r"image-alt \(critical\).*label \((critical|serious)\)"):
            check_axe(p, "negative-control")
    finally:
        p.close()
