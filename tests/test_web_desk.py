"""The seller's desk on the web: disputes with the time left on the 24-hour clock and the evidence
bundle, the documents checklist with upload, notifications and contact preferences — through the API
and the page forms, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from _web import SELLER_A, SELLER_B, web  # noqa: F401

from cxops.service.cases import open_dispute

pytestmark = [pytest.mark.integration]
BASE = f"/sellers/{SELLER_A}/marketplaces/US"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _dispute(web, hours_ago: float, dispute_id: str):  # noqa: F811
    opened = datetime.now(UTC) - timedelta(hours=hours_ago)
    return open_dispute(
        web.store, web.app.state.runs.opened, SELLER_A, f"O-{SELLER_A}", reason="late", actor="carla",
        opened_at=opened, dispute_id=dispute_id,
    )  # fmt: skip


def test_dispute_clock_counts_down_24_hours_and_marks_overdue(web):  # noqa: F811
    soon = _dispute(web, 20.5, "D-soon")  # 3 h 30 min left
    late = _dispute(web, 25.25, "D-late")  # overdue by 1 h 15 min
    c = web.login("seller-a")
    items = {x["id"]: x for x in c.get(f"/api/v1{BASE}/cases", params={"kind": "dispute"}).json()["items"]}
    assert items[soon.id]["seconds_left"] == pytest.approx(3.5 * 3600, abs=120)
    assert items[late.id]["seconds_left"] == pytest.approx(-1.25 * 3600, abs=120)
    due = datetime.fromisoformat(items[soon.id]["due_at"]) - datetime.fromisoformat(
        items[soon.id]["opened_at"]
    )
    assert due == timedelta(hours=24)
    page = c.get(f"/sellers/{SELLER_A}").text
    cells = re.findall(
        r'data-testid="dispute-clock" data-seconds-left="([^"]*)"(?: class="([^"]*)")?>([^<]*)', page
    )
    by_left = {round(float(s) / 60): (cls, text.strip()) for s, cls, text in cells if s}
    left = by_left[round(items[soon.id]["seconds_left"] / 60)]
    assert left[0] == "clock-soon" and re.fullmatch(r"3 h (29|30) min left", left[1])
    over = by_left[round(items[late.id]["seconds_left"] / 60)]
    assert over[0] == "clock-overdue" and re.fullmatch(r"overdue by 1 h (14|15) min", over[1])
    zh = c.get(f"/sellers/{SELLER_A}?lang=zh").text
    assert "剩余 3 小时" in zh and "已逾期 1 小时" in zh


def test_evidence_bundle_downloads_for_the_seller_only(web):  # noqa: F811
    c = web.login("seller-a")
    r = c.get(f"/api/v1{BASE}/cases/{web.ids['case_a']}/bundle")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(z.namelist())
    assert {"order.json", "case.json"} <= names and any("manifest" in n for n in names)
    assert f"O-{SELLER_A}".encode() in z.read("order.json")
    # another seller's case through one's own path is not found
    assert c.get(f"/api/v1{BASE}/cases/{web.ids['case_b']}/bundle").status_code == 404
    assert c.get(f"/api/v1{BASE}/cases/{web.ids['case_b']}").status_code == 404
    assert SELLER_B not in c.get(f"/api/v1{BASE}/cases").text


def test_upload_a_document_through_the_api_and_the_form(web):  # noqa: F811
    c = web.login("seller-a")
    before = c.get(f"/api/v1{BASE}/documents").json()
    assert before["complete"] is False
    w8 = [i for i in before["items"] if i["requirement"] == "w8ben"]
    assert w8 and w8[0]["status"] == "missing"
    r = c.post(
        f"/api/v1{BASE}/documents",
        data={"kind": "w8ben", "signed_on": "2026-03-01"},
        files={"file": ("w8.pdf", PDF, "application/pdf")},
        headers={"X-CSRF-Token": c.csrf},
    )
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "application/pdf" and r.json()["size"] == len(PDF)
    after = {i["requirement"]: i for i in c.get(f"/api/v1{BASE}/documents").json()["items"]}
    assert after["w8ben"]["status"] == "submitted" and after["w8ben"]["filename"] == "w8.pdf"
    # a text file named .pdf is refused for its content, with a problem document
    bad = c.post(
        f"/api/v1{BASE}/documents",
        data={"kind": "business_licence"},
        files={"file": ("x.pdf", b"hello", "application/pdf")},
        headers={"X-CSRF-Token": c.csrf},
    )
    assert bad.status_code in (400, 415, 422) and bad.headers["content-type"].startswith(
        "application/problem"
    )
    # the page's form: a redirect to the page, which says it was received
    form = c.post(
        f"{BASE}/documents",
        data={"kind": "business_licence", "csrf_token": c.csrf},
        files={"file": ("licence.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert form.status_code == 303, re.findall(r"form-error\">([^<]*)", form.text)
    page = c.get(form.headers["location"]).text
    assert 'data-testid="form-done"' in page and "licence.pdf" in page
    viewer = web.login("viewer")
    r = viewer.post(
        f"/api/v1{BASE}/documents", data={"kind": "w8ben"}, files={"file": ("w.pdf", PDF)},
        headers={"X-CSRF-Token": viewer.csrf},
    )  # fmt: skip
    assert r.status_code == 403


def test_preferences_and_notifications(web):  # noqa: F811
    c = web.login("seller-a")
    contact = web.ids["contact_a"]
    (mine,) = c.get(f"/api/v1{BASE}/contacts").json()
    assert mine["id"] == contact and mine["muted"] == [] and mine["digest"] is False
    r = c.post(
        f"/api/v1{BASE}/contacts/{contact}/preferences",
        json={"muted": ["alert", "invitation"], "digest": True, "language": "zh"},
        headers={"X-CSRF-Token": c.csrf},
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["muted"]) == ["alert", "invitation"] and r.json()["language"] == "zh"
    refused = c.post(
        f"/api/v1{BASE}/contacts/{contact}/preferences", json={"muted": ["warning"]},
        headers={"X-CSRF-Token": c.csrf},
    )  # fmt: skip
    assert refused.status_code == 400 and "cannot be turned off" in refused.json()["detail"]
    other = c.post(
        f"/api/v1{BASE}/contacts/{web.ids['contact_b']}/preferences", json={"digest": True},
        headers={"X-CSRF-Token": c.csrf},
    )  # fmt: skip
    assert other.status_code == 404
    form = c.post(
        f"{BASE}/contacts/{contact}/preferences",
        data={"csrf_token": c.csrf, "muted": ["document_reminder"], "language": "en"},
        follow_redirects=False,
    )
    assert form.status_code == 303
    (mine,) = c.get(f"/api/v1{BASE}/contacts").json()
    assert mine["muted"] == ["document_reminder"] and mine["digest"] is False and mine["language"] == "en"
    # messages queued for the seller (a warning, then a case update) are listed newest first, with
    # the recipient; another seller's message is not
    from cxops.notify.messages import CaseUpdate, Warning
    from cxops.notify.outbox import enqueue

    with web.store.unit_of_work() as s:
        enqueue(s, [("w-a", Warning(SELLER_A, "US", "customer-excellence"))])
        enqueue(s, [("c-a", CaseUpdate(SELLER_A, "US", "customer-excellence", case_id="1", status="open"))])
        enqueue(s, [("w-b", Warning(SELLER_B, "US", "customer-excellence"))])
    notes = c.get(f"/api/v1{BASE}/notifications").json()["items"]
    assert [(n["kind"], n["recipient"]) for n in notes] == [
        ("case_update", "ops@a.example.com"),
        ("warning", "ops@a.example.com"),
    ]
    first = c.get(f"/api/v1{BASE}/notifications", params={"limit": 1}).json()
    rest = c.get(f"/api/v1{BASE}/notifications", params={"cursor": first["next_cursor"]}).json()
    assert [n["kind"] for n in first["items"] + rest["items"]] == ["case_update", "warning"]
    page = c.get(f"/sellers/{SELLER_A}").text
    assert page.count('data-testid="notification-row"') == 2


def test_an_inquiry_without_a_stored_run_is_refused_with_why(web):  # noqa: F811
    c = web.login("seller-a")
    r = c.post(f"/api/v1{BASE}/inquiries", json={}, headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == 409 and "no evaluation is stored yet" in r.json()["detail"]
    page = c.post(f"{BASE}/inquiries", data={"csrf_token": c.csrf}, follow_redirects=False)
    assert page.status_code == 409 and 'data-testid="form-error"' in page.text


def test_the_pages_desk_overview_equals_the_per_marketplace_reads(web):  # noqa: F811
    """The seller's page reads every marketplace's desk at once (:func:`sellerdesk.overview`); it must
    show exactly what the one-marketplace functions (the API's) return, with the same limits."""
    from cxops.service import sellerdesk as desk
    from cxops.store.notify_models import OutboxMessage

    _dispute(web, 3, "D-1")
    _dispute(web, 30, "D-2")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    with web.store.unit_of_work() as s:
        for i in range(4):  # messages on both marketplaces: the per-marketplace limit cuts them
            for mp in ("US", "DE"):
                s.add(OutboxMessage(idempotency_key=f"overview:{mp}:{i}", message_id=f"<{mp}{i}@x>",
                                    program="customer-excellence", seller_id=SELLER_A, marketplace_id=mp,
                                    kind="document.reminder", channel="email", recipient="ops@a.example.com",
                                    language="en", params={}, subject=f"{mp} {i}", created_at=at,
                                    available_at=at))  # fmt: skip
    now = datetime.now(UTC)
    got = desk.overview(web.store, SELLER_A, ["US", "DE"], program="customer-excellence", limit=2, now=now)
    assert list(got) == ["US", "DE"]
    for mp in ("US", "DE"):
        for kind, key in (("inquiry", "inquiries"), ("dispute", "disputes"), ("appeal", "appeals")):
            assert got[mp][key] == desk.cases(web.store, SELLER_A, mp, kind=kind, limit=2, now=now).rows
        assert got[mp]["notifications"] == desk.notifications(web.store, SELLER_A, mp, limit=2).rows
        assert [m["subject"] for m in got[mp]["notifications"]] == [f"{mp} 3", f"{mp} 2"]
        assert got[mp]["contacts"] == desk.contacts(web.store, SELLER_A, mp)
        one = desk.checklist(web.store, SELLER_A, mp, "customer-excellence")
        assert got[mp]["checklist"] == {"complete": one.complete, "items": desk._records(one.items)}
    assert len(got["US"]["disputes"]) == 2  # three on US, the newest two
    assert got["US"]["contacts"] and not got["DE"]["contacts"]  # the contact is on US only
    # a marketplace without a membership in the program has no checklist (and is not an error)
    other = desk.overview(web.store, SELLER_A, ["US", "FR"], program="customer-excellence", now=now)
    assert other["FR"]["checklist"] is None and other["US"]["checklist"] == got["US"]["checklist"]
