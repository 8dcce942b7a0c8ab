"""Message texts: every kind renders in every supported language with no missing key; the [mail]
catalogs match across languages; numbers, percentages, dates and plurals follow the locale."""

from __future__ import annotations

import string
from datetime import date

import pytest

from cxops.notify.messages import KINDS, Finding, Warning, from_params, to_params
from cxops.notify.render import Links, render
from cxops.notify.samples import samples
from cxops.notify.translate import MailTranslator
from cxops.report.i18n import SUPPORTED_LANGS, load_catalog

pytestmark = pytest.mark.unit


def _placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.mark.parametrize("lang", SUPPORTED_LANGS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_renders_in_every_language_without_a_missing_key(kind, lang):
    tr = MailTranslator(lang)
    r = render(
        samples()[kind], lang, links=Links("https://x/sellers/S-1001", "https://x/u?token=t"), translator=tr
    )
    assert tr.missing == set(), f"{kind} in {lang}: missing {sorted(tr.missing)}"
    assert r.subject and r.language == lang and f'<html lang="{lang}">' in r.html
    assert "{" not in r.text and "{" not in r.subject  # no placeholder left unfilled
    assert "mail." not in r.text  # no raw key


def test_every_mail_key_exists_in_every_language_with_the_same_placeholders():
    en = {k: v for k, v in load_catalog("en").items() if k.startswith("mail.")}
    assert len(en) > 100
    for lang in SUPPORTED_LANGS:
        cat = load_catalog(lang)
        missing = sorted(set(en) - set(cat))
        assert missing == [], f"{lang} lacks {missing}"
        bad = [k for k in en if _placeholders(en[k]) != _placeholders(cat[k])]
        assert bad == [], f"{lang}: placeholders differ in {bad}"


def test_every_sample_survives_its_json_round_trip():
    for kind, ctx in samples().items():
        assert from_params(kind, to_params(ctx)) == ctx


def test_numbers_dates_and_plurals_follow_the_locale():
    en, zh = MailTranslator("en"), MailTranslator("zh")
    assert en.pct(0.0045) == "0.45%" and en.pct(0.012) == "1.20%"
    assert en.num(12345) == "12,345" and zh.num(12345) == "12,345"
    assert en.day(date(2026, 12, 4)) == "December 4, 2026" and zh.day(date(2026, 12, 4)) == "2026年12月4日"
    assert en.n("window", 1) == "the last 1 day" and en.n("window", 60) == "the last 60 days"
    assert zh.n("window", 1) == "近 1 天"
    assert en.n("warning.orders_more", 1).startswith("… and 1 more order ")
    assert en.n("warning.orders_more", 1200).startswith("… and 1,200 more orders ")
    f = Finding("late_shipment_rate", 0.05, 0.04, ">", 20, 400, 30)
    assert en.finding(f) == (
        "Late shipment rate: 5.00% over the last 30 days (20 of 400); "
        "a value more than 4.00% breaches the bar."
    )
    assert zh.finding(f) == "迟发率：近 30 天为 5.00%（400 中的 20）；高于 4.00% 即未达标。"
    assert en.finding(Finding("order_count", 80, 100, "<", test="value")).startswith("Orders: 80 over")


def test_html_escapes_what_sellers_and_operators_wrote():
    s = samples()["case_update"]
    from dataclasses import replace

    r = render(replace(s, note="<script>alert(1)</script> & more", seller_name="A<b>"), "en")
    assert "<script>" not in r.html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in r.html
    assert "A&lt;b&gt;" in r.html and "<script>alert(1)</script> & more" in r.text


def test_warning_lists_orders_and_what_clears_it():
    r = render(samples()["warning"], "en")
    assert (
        "Order 114-1001: negative feedback on October 8, 2026; it leaves the window on December 7, 2026."
        in r.text
    )
    assert "… and 4 more orders" in r.text
    assert "What would clear it by the next evaluation on January 1, 2027" in r.text
    assert (
        "2 defective orders fewer in the window" in r.text and "or 101 more orders without a defect" in r.text
    )
    w = Warning(seller_id="S", marketplace_id="US", findings=(Finding("order_defect_rate", 0.02, 0.01, ">"),))
    assert "What would clear it by the next evaluation" in render(w, "en").text


def test_a_benefit_whose_tier_repeats_its_name_is_named_once():
    from cxops.notify.messages import BenefitLine

    tr = MailTranslator("en")
    name = tr.benefit("account_manager")
    assert tr.benefit_line(BenefitLine("account_manager", name)) == name
    assert tr.benefit_line(BenefitLine("account_manager", "yes")) == name
    assert tr.benefit_line(BenefitLine("fee_discount", "7.5%")) == f"{tr.benefit('fee_discount')}: 7.5%"


def test_the_daily_job_asks_new_members_for_the_checklist_documents():
    from cxops.service.daily import _required_documents

    # the default checklist: W-8BEN, business licence and three months of address proof always; the brand
    # authorisation only when the seller submits one
    assert _required_documents() == ("w8ben", "business_licence", "address_proof")
