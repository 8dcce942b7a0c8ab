"""The message check on the web: ``POST /api/v1/check-message`` for any logged-in principal (session
with its CSRF token, or an API token) and the seller's page ``/sellers/{seller_id}/message-check`` (a
form; findings shown with their spans highlighted). Who may call what is also walked route by route in
``tests/test_web_isolation.py``."""

from __future__ import annotations

import re

import pytest
from _web import SELLER_A, web  # noqa: F401

from cxops.service.message_check import MAX_CHARS

pytestmark = [pytest.mark.integration]
API = "/api/v1/check-message"
PAGE = f"/sellers/{SELLER_A}/message-check"
DRAFT = "Please update your review. Email me: a@b.com"


def test_api_for_a_seller_session_and_an_operator_token(web):  # noqa: F811
    seller = web.login("seller-a")
    r = seller.post(API, json={"message": DRAFT}, headers={"X-CSRF-Token": seller.csrf})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["clean"] is False and body["length"] == len(DRAFT)
    assert [(f["rule"], f["start"], f["end"], f["text"], f["kind"]) for f in body["findings"]] == [
        ("review_change", 7, 25, "update your review", "terms"),
        ("off_platform_contact", 27, 35, "Email me", "terms"),
        ("off_platform_contact", 37, 44, "a@b.com", "email"),
    ]
    assert body["findings"][0]["title"] == "Asks to change or remove a review"
    viewer = web.client(headers={"Authorization": f"Bearer {web.token('operator-viewer')}"})
    r = viewer.post(API, json={"message": "谢谢您的购买", "lang": "zh"})
    assert r.status_code == 200 and r.json() == {"clean": True, "lang": "zh", "length": 6, "findings": []}


def test_api_refuses_without_csrf_and_bad_bodies(web):  # noqa: F811
    seller = web.login("seller-a")
    assert seller.post(API, json={"message": DRAFT}).status_code == 403
    h = {"X-CSRF-Token": seller.csrf}
    empty = seller.post(API, json={"message": "   "}, headers=h)
    assert empty.status_code == 400 and empty.headers["content-type"].startswith("application/problem+json")
    assert "empty" in empty.json()["detail"]
    assert seller.post(API, json={"message": "x" * (MAX_CHARS + 1)}, headers=h).status_code == 422
    assert seller.post(API, json={"message": "hi", "languages": ["xx"]}, headers=h).status_code == 422
    assert seller.post(API, json={"message": "hi", "lang": "xx"}, headers=h).status_code == 400
    assert seller.post(API, json={"message": "hi", "send": True}, headers=h).status_code == 422
    assert web.client().post(API, json={"message": DRAFT}).status_code == 401


def test_the_page_highlights_each_span(web):  # noqa: F811
    c = web.login("seller-a")
    assert 'data-testid="message-check-link"' in c.get(f"/sellers/{SELLER_A}").text
    form = c.get(PAGE)
    assert form.status_code == 200 and 'name="csrf_token"' in form.text and "<textarea" in form.text
    draft = "<b>Hi</b> please update your review"
    r = c.post(PAGE, data={"message": draft, "csrf_token": c.csrf})
    assert r.status_code == 200, r.text
    assert '<mark class="msgcheck-high" data-findings="1" title="1">update your review</mark>' in r.text
    assert "&lt;b&gt;Hi&lt;/b&gt; please " in r.text and "<b>Hi</b>" not in r.text  # escaped
    rows = re.findall(r'<tr data-rule="([^"]+)" data-start="(\d+)" data-end="(\d+)">', r.text)
    assert rows == [("review_change", "17", "35")] and draft[17:35] == "update your review"
    zh = c.post(PAGE + "?lang=zh", data={"message": "好评返现", "csrf_token": c.csrf})
    assert "以利益换取评价" in zh.text and "只要求好评" in zh.text
    clean = c.post(PAGE, data={"message": "Your parcel ships today.", "csrf_token": c.csrf})
    assert 'data-testid="message-clean"' in clean.text


def test_the_page_shows_an_empty_draft_as_an_error_and_needs_csrf(web):  # noqa: F811
    c = web.login("seller-a")
    r = c.post(PAGE, data={"message": "", "csrf_token": c.csrf})
    assert r.status_code == 400 and 'data-testid="form-error"' in r.text and "the draft is empty" in r.text
    assert c.post(PAGE, data={"message": DRAFT}).status_code == 403
    assert c.post(PAGE, data={"message": DRAFT, "csrf_token": "forged"}).status_code == 403
