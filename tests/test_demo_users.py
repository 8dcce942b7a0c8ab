"""Demo users: created with generated passwords that work (logged in through the web), replaced on a
second demo run, the seller bound to the demo seller picked by state — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from _store import store, store_url  # noqa: F401
from _web import CSRF_RE, FAST
from fastapi.testclient import TestClient

from cxops.errors import NotFoundError
from cxops.service import accounts
from cxops.service.demo_users import create_demo_users, pick_demo_seller
from cxops.web import create_app
from cxops.web.config import web_settings


def test_pick_demo_seller_prefers_an_enrolled_one():
    rows = [("S9", "not_eligible"), ("S5", "at_risk"), ("S7", "enrolled"), ("S2", "enrolled")]
    assert pick_demo_seller(rows) == "S2"
    assert pick_demo_seller([("S9", "not_eligible"), ("S3", "candidate")]) == "S3"
    with pytest.raises(NotFoundError):
        pick_demo_seller([])


def _login(app, login, password) -> int:
    with TestClient(app) as c:
        token = CSRF_RE.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"login": login, "password": password, "csrf_token": token, "next": "/"},
                   follow_redirects=False)  # fmt: skip
        return r.status_code


def test_demo_users_log_in_and_are_replaced_on_a_second_run(store):  # noqa: F811
    first = create_demo_users(store, "S2", policy=FAST)
    assert [(u.login, u.role, u.seller_id) for u in first] == [
        ("demo-admin", "operator-admin", None),
        ("demo-viewer", "operator-viewer", None),
        ("demo-seller", "seller", "S2"),
    ]
    assert len({u.password for u in first}) == 3 and all(len(u.password) == 20 for u in first)
    second = create_demo_users(store, "S7", policy=FAST)
    users = {u.login: u for u in accounts.list_users(store)}
    assert set(users) == {"demo-admin", "demo-viewer", "demo-seller"}
    assert users["demo-seller"].grants == (("S7", "*"),)
    app = create_app(web_settings(store=store.url), store=store, policy=FAST)
    for old, new in zip(first, second, strict=True):
        assert old.password != new.password
        assert _login(app, new.login, new.password) == 303
        assert _login(app, old.login, old.password) != 303  # the first run's password no longer works


@pytest.mark.integration
def test_cxops_demo_prints_users_that_log_in(tmp_path, monkeypatch):
    import re

    from typer.testing import CliRunner

    from cxops.cli import app
    from cxops.service.stores import open_configured

    for name in ("CXOPS_STORE", "CXOPS_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--sellers", "30", "--days", "120", "--out", str(out)])
    assert res.exit_code == 0, res.output
    found = dict(re.findall(r"(demo-(?:admin|viewer|seller))\s+│\s+\S+\s+│\s+(\S{20})", res.output))
    assert set(found) == {"demo-admin", "demo-viewer", "demo-seller"}, res.output
    s = open_configured(warehouse=str(out / "demo.duckdb"))
    try:
        app_ = create_app(web_settings(store=s.url), store=s)
        assert _login(app_, "demo-admin", found["demo-admin"]) == 303
        _check_demo_mail(res.output, out, s)
        _check_demo_cases(out, s)
    finally:
        s.dispose()


def _check_demo_mail(output: str, out, s) -> None:
    """The outbox was delivered as .eml files: readable, in the contact's language, nothing left pending."""
    import email
    import email.policy
    import re

    from cxops.notify.contacts import list_contacts
    from cxops.notify.outbox import kind_counts, status_counts
    from cxops.warehouse import connect

    with s.unit_of_work(write=False) as session:
        contacts = list_contacts(session)
        statuses = status_counts(session)
        kinds = kind_counts(session, "sent")
    wh = connect(str(out / "demo.duckdb"), read_only=True)
    try:
        sellers = wh.execute(wh.table("sellers"))
    finally:
        wh.close()
    # one contact per seller and marketplace, at the seller's RFC 2606 address, in the marketplace's language
    assert len(contacts) == len(sellers)
    assert (contacts["email"] == contacts["seller_id"].str.lower() + "@sellers.example").all()
    lang = contacts.merge(sellers, on=["seller_id", "marketplace_id"])
    expected = lang["marketplace_id"].map(
        {"US": "en", "UK": "en", "CA": "en", "DE": "de", "FR": "fr", "JP": "ja"}
    )
    zh = lang["language"] == "zh"
    assert (lang.loc[~zh, "language"] == expected[~zh]).all()
    assert 1 <= zh.sum() <= 2 and (lang.loc[zh, "country"] == "CN").all() and (expected[zh] == "en").all()
    # every message was sent, none is left pending; one .eml file each
    sent = statuses.pop("sent")
    assert statuses == {} and sent == sum(kinds.values()) and kinds.get("invitation", 0) >= 2
    files = sorted((out / "mail").rglob("*.eml"))
    assert len(files) == sent
    line = re.search(r"mail: (\d+) message\(s\) written \((.*?)\) as \.eml files in (\S+)", output)
    assert line and int(line.group(1)) == sent and line.group(3).endswith("mail"), output
    assert f"{kinds['invitation']} invitation" in line.group(2)
    mails = {}
    for f in files:
        m = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        assert m.get_content_type() == "multipart/alternative"
        text, html = m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content()
        seller = str(m["To"]).split("@")[0].upper()
        assert seller in text and seller in html and html.lstrip().lower().startswith(("<!doctype", "<html"))
        mails[(str(m["To"]), str(m["Subject"]))] = (m["Content-Language"], text)
    en = mails[("s0025@sellers.example", "Unlock benefits for high-performing sellers")]
    assert en[0] == "en" and "is enrolled in the Customer Excellence program on marketplace US" in en[1]
    de = mails[("s0012@sellers.example", "Schalten Sie Vorteile für leistungsstarke Verkäufer frei")]
    assert de[0] == "de" and de[1].startswith("Hallo S0012,") and "auf dem Marktplatz DE" in de[1]


def _check_demo_cases(out, s) -> None:
    """The inquiry is answered from the evaluation, the dispute is on one of the demo seller's orders and
    due in 24 hours, the demo seller's W-8BEN is accepted and its business licence awaits review."""
    from datetime import timedelta

    from cxops.service import cases, documents

    c = cases.list_cases(s).set_index("kind")
    assert set(c.index) >= {"inquiry", "dispute"}
    inquiry = cases.get_case(s, int(c.loc["inquiry", "id"]))
    assert inquiry.status == "answered" and inquiry.answer["state"] == "not_eligible"
    assert inquiry.answer["seller_id"] == inquiry.seller_id and inquiry.answer["criteria"]
    dispute = cases.get_case(s, int(c.loc["dispute", "id"]))
    assert (dispute.status, dispute.seller_id, dispute.marketplace_id) == ("open", "S0012", "DE")
    assert dispute.due_at - dispute.opened_at == timedelta(hours=24) and dispute.order_id
    docs = documents.list_documents(s, seller_id="S0012")
    assert dict(zip(docs["kind"], docs["status"], strict=True)) == {
        "w8ben": "accepted",
        "business_licence": "submitted",
    }
    files = documents.FileStore.configured(s)
    for digest in docs["sha256"]:
        assert documents.sniff(files.get(digest)).kind == "pdf"
