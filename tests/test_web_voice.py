"""The voice-of-the-customer API route and page on the seeded web app (``_web``): each seller has one
commented 1-star rating; a seller sees only its own (every route's isolation is test_web_isolation)."""

from __future__ import annotations

from _web import SECRET_REASON, SELLER_A, SELLER_B, web  # noqa: F401


def test_voice_api_counts_the_sellers_own_comment(web):  # noqa: F811
    c = web.login("seller-a")
    r = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/voice")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == "2026-02-27"  # the comment's day in Los Angeles
    themes = {(t["window_days"], t["source"], t["theme"]): t for t in body["themes"]}
    damaged = themes[(30, "feedback", "damaged")]
    assert (damaged["count"], damaged["texts"], damaged["share"], damaged["label"]) == (1, 1, 1.0, "Damaged")
    assert themes[(30, "feedback", "late")]["count"] == 0
    assert [t["themes"] for t in body["texts"]] == [["damaged"]]
    assert body["texts_total"] == 1 and body["texts"][0]["rating"] == 1
    assert body["rising"] == []  # nothing flagged: one negative rating is under the minimum count
    assert [(m["sku"], m["month"], m["negative"], m["themes"]) for m in body["sku_months"]] == [
        (f"SKU-{SELLER_A}", "2026-02-01", 1, {"damaged": 1})
    ]
    one = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/voice?sku=NO-SUCH-SKU").json()
    assert one["sku_months"] == [] and one["themes"] == body["themes"]
    every = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/voice?every_sku=true").json()
    neg = [x for x in every["rising"] if x["measure"] == "negative_feedback"]
    assert neg == [
        {"sku": f"SKU-{SELLER_A}", "measure": "negative_feedback", "recent_count": 1, "recent_base": 1,
         "recent_share": 1.0, "baseline_count": 0, "baseline_base": 0, "baseline_share": None, "ratio": None,
         "flagged": False, "top_theme": "damaged"}
    ]  # fmt: skip
    assert body["rule"] == {"recent_days": 30, "baseline_days": 90, "min_count": 3, "ratio": 1.5,
                            "min_increase": 0.05}  # fmt: skip
    assert SECRET_REASON not in r.text and SELLER_B not in r.text
    zh = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/voice", headers={"Accept-Language": "zh-CN"})
    assert {t["label"] for t in zh.json()["themes"] if t["theme"] == "damaged"} == {"破损"}
    assert c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/voice?texts=500").status_code == 422
    assert c.get(f"/api/v1/sellers/{SELLER_B}/marketplaces/US/voice").status_code == 404


def test_voice_page_in_english_and_chinese(web):  # noqa: F811
    c = web.login("seller-a")
    home = c.get(f"/sellers/{SELLER_A}").text
    assert f'href="/sellers/{SELLER_A}/marketplaces/US/voice"' in home
    page = c.get(f"/sellers/{SELLER_A}/marketplaces/US/voice")
    assert page.status_code == 200
    assert 'data-testid="voice-themes-feedback"' in page.text and "Arrived broken" in page.text
    assert "Voice of the customer" in page.text and "No SKU&#39;s negative feedback" in page.text
    assert SECRET_REASON not in page.text
    zh = c.get(f"/sellers/{SELLER_A}/marketplaces/US/voice?lang=zh").text
    assert "买家之声" in zh and "破损" in zh
    admin = web.login("admin")
    other = admin.get(f"/sellers/{SELLER_B}/marketplaces/US/voice")
    assert other.status_code == 200 and SECRET_REASON in other.text  # an operator sees B's comment


def test_voice_page_in_german_and_japanese(web):  # noqa: F811
    c = web.login("seller-a")
    url = f"/sellers/{SELLER_A}/marketplaces/US/voice"
    de = c.get(url + "?lang=de").text
    assert "<h1>Kundenstimmen</h1>" in de and "Beschädigt" in de and "Arrived broken" in de
    assert "Bei keiner SKU sind negative Bewertungen oder Rücksendungen gestiegen." in de
    ja = c.get(url + "?lang=ja").text
    assert "<h1>お客様の声</h1>" in ja and "破損" in ja
    assert "否定的な評価や返品が増えたSKUはありません。" in ja
    for page in (de, ja):
        assert "Voice of the customer" not in page and "Damaged" not in page
