"""The message check (cxops.advisor.message_check): exact spans, normalisation, detectors, the rule
table, and precision/recall on the labelled corpora (tests/data/messages/, see tests/_message_corpus.py)."""

from __future__ import annotations

import json

import pytest
from _message_corpus import CORPUS, HELDOUT, evaluate, load, total
from hypothesis import given, settings
from hypothesis import strategies as st

from cxops.advisor.message_check import check_message, load_table, rule_ids
from cxops.advisor.message_check.detect import card_number, iban_valid, luhn_valid
from cxops.advisor.message_check.normalize import normalize
from cxops.report.i18n import catalog_keys

pytestmark = pytest.mark.unit

LANGS = ("en", "zh", "de", "fr", "ja", "es", "pt")


def found(message: str, **kw) -> list[tuple[str, int, int, str]]:
    return [(f.rule, f.start, f.end, f.text) for f in check_message(message, **kw)]


# -- exact spans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Please update your review.", [("review_change", 7, 25, "update your review")]),
        # full-width letters read as ASCII (NFKC); offsets stay those of the original
        (
            "ＰＬＥＡＳＥ ｕｐｄａｔｅ ｙｏｕｒ ｒｅｖｉｅｗ",
            [("review_change", 7, 25, "ｕｐｄａｔｅ ｙｏｕｒ ｒｅｖｉｅｗ")],
        ),
        ("POR FAVOR, ELIMINE SU RESEÑA NEGATIVA", [("review_change", 11, 28, "ELIMINE SU RESEÑA")]),
        (
            "Könnten Sie bitte Ihre negative Bewertung entfernen?",
            [("review_change", 32, 51, "Bewertung entfernen")],
        ),
        ("レビューを削除していただけませんか。", [("review_change", 0, 7, "レビューを削除")]),
        ("Please remove your feedbak", [("review_change", 7, 26, "remove your feedbak")]),  # one typo
        # spaces between CJK characters do not hide a phrase; the span covers them
        (
            "好 评 返 现",
            [("review_incentive", 0, 7, "好 评 返 现"), ("review_positive", 0, 7, "好 评 返 现")],
        ),
        ("Write to shop@example.com today", [("off_platform_contact", 9, 25, "shop@example.com")]),
        ("Card 4111 1111 1111 1111 declined", [("personal_data", 5, 24, "4111 1111 1111 1111")]),
        (
            "See https://amazon.de.evil.example.com/x",
            [("external_link", 4, 40, "https://amazon.de.evil.example.com/x")],
        ),
        ("電話：０３－１２３４－５６７８", [("off_platform_contact", 3, 15, "０３－１２３４－５６７８")]),
        ("Add us on w h a t s a p p", [("off_platform_contact", 0, 25, "Add us on w h a t s a p p")]),
        # a zero-width space inside a word hides nothing
        ("Add us on What\u200bsApp", [("off_platform_contact", 0, 19, "Add us on What\u200bsApp")]),
    ],
)
def test_findings_have_exact_spans(message, expected):
    assert found(message) == expected
    for _, start, end, text in expected:
        assert message[start:end] == text


@pytest.mark.parametrize(
    "message",
    [
        "Please leave a review if you have a moment.",  # a neutral request is allowed
        "Leave feedback if you like.",
        "Don't hesitate to contact us through Buyer-Seller Messaging.",
        "We will never ask you to change your review.",
        "Order 112-3456789-1234567 ships today.",  # an Amazon order number is not a phone number
        "Card 4111 1111 1111 1112 declined",  # fails the Luhn check: not a card number
        "The manual is on https://www.amazon.de/dp/B0EXAMPLE and sellercentral.amazon.co.jp.",
        "Once the refund is processed, feel free to leave a review.",  # not in exchange
        "Thank you for your positive review!",
        "Protocolo: 2518020671748",  # passes Luhn, but no card network has that prefix and length
        "Sim.eu recebi e gostei",  # a sentence without its space, not a link
        "Due to Black Friday volumes, delivery is delayed.",  # an event named, no promotion
        "Assim que tivermos novidades sobre a entrega, avisaremos.",  # "news", not new products
    ],
)
def test_compliant_messages_have_no_findings(message):
    assert found(message) == []


def test_a_language_can_be_left_out_and_detectors_always_run():
    message = "Bitte ändern Sie Ihre Bewertung, schreiben Sie an a@b.de"
    assert {f[0] for f in found(message)} == {"review_change", "off_platform_contact"}
    assert found(message, languages=["en"]) == [("off_platform_contact", 50, 56, "a@b.de")]
    with pytest.raises(ValueError, match="unsupported message language xx"):
        check_message("hi", languages=["xx"])


# -- detectors -----------------------------------------------------------------------------------


def test_luhn_and_iban_checks():
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("79927398710")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33") and not iban_valid("DE8937040044")
    assert card_number("5555555555554444") and card_number("378282246310005") and card_number("4222222222222")
    assert not card_number("2518020671748")  # Luhn-valid, 13 digits starting 25: no network
    assert not card_number("378282246310005" + "0")  # American Express has 15 digits


def test_the_marketplace_domains_can_be_given():
    message = "Manual: https://help.example.com/guide"
    assert [f[0] for f in found(message)] == ["external_link"]
    assert found(message, allowed_domains=["example.com"]) == []


# -- normalisation and invariants ----------------------------------------------------------------


def test_normalisation_maps_back_to_the_original():
    n = normalize("Avaliação  5-estrelas，好 评")
    assert n.text == "avaliacao 5 estrelas,好评"
    assert n.original[slice(*n.span(0, 9))] == "Avaliação"
    assert n.original[slice(*n.span(21, 23))] == "好 评"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_every_span_is_a_slice_of_the_message(message):
    norm = normalize(message)
    assert len(norm.starts) == len(norm.text) == len(norm.ends)
    assert all(0 <= s < e <= len(message) for s, e in zip(norm.starts, norm.ends, strict=True))
    assert list(norm.starts) == sorted(norm.starts)
    for f in check_message(message):
        assert 0 <= f.start < f.end <= len(message) and message[f.start : f.end] == f.text


_FULLWIDTH = {
    c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
}


@pytest.mark.parametrize("m", load(CORPUS), ids=lambda m: m["id"])
def test_full_width_and_upper_case_change_nothing(m):
    """Typing a message in full-width letters or in capitals finds the same rules at the same spans."""
    plain = [(f.rule, f.start, f.end) for f in check_message(m["text"])]
    wide = "".join(_FULLWIDTH.get(c, c) for c in m["text"])
    assert [(f.rule, f.start, f.end) for f in check_message(wide)] == plain
    upper = m["text"].upper()
    if len(upper) == len(m["text"]):
        assert {f.rule for f in check_message(upper)} == {f.rule for f in check_message(m["text"])}


# -- the rule table and its texts ----------------------------------------------------------------


def test_every_rule_is_explained_in_english_and_chinese():
    for lang in ("en", "zh"):
        keys = catalog_keys(lang)
        for rule in rule_ids():
            assert f"msgcheck.rule.{rule}" in keys and f"msgcheck.why.{rule}" in keys, (lang, rule)
        for kind in ("terms", "email", "phone", "url", "card", "iban", "address"):
            assert f"msgcheck.kind.{kind}" in keys


def test_every_language_has_the_core_term_classes():
    table = load_table()
    assert table.languages == LANGS
    for cls in ("review", "change", "request", "incentive", "positive_review", "negative_review", "promo"):
        assert set(table.terms[cls]) >= set(LANGS), cls


def test_the_table_refuses_an_unknown_term_class():
    text = """languages = ["en"]\nallowed_domains = []\naddress = {}\n[rules.x]\nseverity = "high"
when = [{ any = ["nope"] }]\n[terms.review]\nen = ["review"]\n"""
    with pytest.raises(ValueError, match="unknown term classes"):
        load_table(text)


# -- the labelled corpora ------------------------------------------------------------------------


def test_the_corpus_is_labelled_with_known_rules_in_every_language():
    for path in (CORPUS, HELDOUT):
        messages = load(path)
        assert len({m["id"] for m in messages}) == len(messages)
        for m in messages:
            assert m["lang"] in LANGS and set(m["rules"]) <= set(rule_ids()), m["id"]
    corpus = load(CORPUS)
    for lang in LANGS:
        mine = [m for m in corpus if m["lang"] == lang]
        assert len(mine) >= 20, lang
        assert sum(not m["rules"] for m in mine) >= 9, lang  # hard negatives: compliant messages


def test_precision_and_recall_on_the_development_corpus():
    by_rule, by_lang, clean, _ = evaluate(load(CORPUS))
    for rule, s in by_rule.items():
        assert s.tp + s.fn >= 7, rule  # every rule has examples
        assert s.precision >= 0.9 and s.recall >= 0.9, (rule, s)
    for lang, s in by_lang.items():
        assert s.precision >= 0.9 and s.recall >= 0.9, (lang, s)
        assert clean[lang][0] / clean[lang][1] >= 0.9, lang


def test_precision_and_recall_on_the_held_out_set():
    """Messages written after the rules were frozen (never used to change them): floors just under the
    measured values in the README (precision 100 %, recall 64 %, no false alarm on a compliant message)."""
    by_rule, by_lang, clean, _ = evaluate(load(HELDOUT))
    t = total(by_rule)
    assert t.precision >= 0.95 and t.recall >= 0.6, t
    assert sum(c[0] for c in clean.values()) == sum(c[1] for c in clean.values())  # no false alarm


def test_the_corpus_file_is_json_lines():
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) <= {"id", "lang", "text", "rules", "note"}
