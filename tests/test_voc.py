"""Voice of the customer: themes in seven languages, the rise rule, the per-seller service and the CLI.

The multilingual cases are our own sentences; the measurement against real Olist reviews is in
``test_voc_olist.py``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from _wh import warehouse
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cxops.advisor.voc.keywords import KEYWORDS, LANGUAGES, RETURN_CODES, THEMES
from cxops.advisor.voc.text import detect, latin_readings
from cxops.advisor.voc.themes import classify, matcher
from cxops.advisor.voc.trends import RiseRule, rising_skus
from cxops.cli import app

# (language, text, themes) — one or more cases per theme and language, our own words
CASES = [
    ("en", "The mug arrived broken and the box was crushed.", {"damaged"}),
    (
        "en",
        "Still waiting, it never arrived. The seller did not respond to my messages.",
        {"late", "service"},
    ),
    (
        "en",
        "Not as described: the colour is nothing like the picture, and it looks used.",
        {"not_as_described"},
    ),
    ("en", "They sent the wrong size and one of the two cables is missing.", {"wrong_item"}),
    ("en", "Poor quality, stopped working after a week.", {"quality"}),
    ("en", "Runs small, way too tight on the shoulders.", {"size_fit"}),
    ("en", "Great product, arrived early, would recommend.", {"positive"}),
    ("en", "I would not recommend this, no delay though.", {"other"}),
    ("pt", "Produto chegou quebrado e a caixa amassada.", {"damaged"}),
    ("pt", "Ainda não recebi o produto, já passou do prazo.", {"late"}),
    ("pt", "Comprei duas unidades e só recebi uma.", {"wrong_item"}),
    ("pt", "Muito bom, chegou antes do prazo e sem atraso. Recomendo!", {"positive"}),
    ("pt", "Não recomendo: péssima qualidade, parou de funcionar.", {"quality"}),
    ("pt", "A loja não respondeu, quero o reembolso.", {"service"}),
    ("pt", "Veio diferente da foto e o tamanho é muito pequeno.", {"not_as_described", "size_fit"}),
    ("es", "El paquete llegó roto y tarde.", {"damaged", "late"}),
    ("es", "Mala calidad, dejó de funcionar a los dos días.", {"quality"}),
    ("es", "La talla es muy pequeña, no me queda.", {"size_fit"}),
    ("es", "No es como en la foto, parece usado.", {"not_as_described"}),
    ("es", "Me enviaron otro modelo y falta el cargador.", {"wrong_item"}),
    ("es", "Excelente, llegó a tiempo. Lo recomiendo.", {"positive"}),
    ("fr", "Colis reçu abîmé, le verre est cassé.", {"damaged"}),
    ("fr", "Toujours pas reçu ma commande, aucune réponse du vendeur.", {"late", "service"}),
    ("fr", "Article non conforme à la description.", {"not_as_described"}),
    ("fr", "Taille trop petite, je dois le renvoyer.", {"size_fit"}),
    ("fr", "Mauvaise qualité, ne fonctionne plus.", {"quality"}),
    ("fr", "Très bien, livraison rapide, je recommande.", {"positive"}),
    ("fr", "Je ne le recommande pas.", {"other"}),
    ("de", "Die Lieferung kam mit zwei Wochen Verspätung an.", {"late"}),
    ("de", "Das Paket war beschädigt und das Glas zerbrochen.", {"damaged"}),
    ("de", "Falscher Artikel geliefert, und das Zubehör fehlt.", {"wrong_item"}),
    ("de", "Schlechte Qualität, funktioniert nicht.", {"quality"}),
    ("de", "Die Schuhe sind zu klein.", {"size_fit"}),
    ("de", "Sieht anders aus als auf dem Bild.", {"not_as_described"}),
    ("de", "Super, schnelle Lieferung, sehr zufrieden.", {"positive"}),
    ("de", "Nicht zu empfehlen.", {"other"}),
    ("zh", "收到的时候包装破损，杯子碎了。", {"damaged"}),
    ("zh", "等了很久还没收到货，客服也不回复。", {"late", "service"}),
    ("zh", "质量太差，用了两天就坏了。", {"quality"}),
    ("zh", "发错货了，颜色不对。", {"wrong_item"}),
    ("zh", "衣服偏小，尺码不对。", {"size_fit"}),
    ("zh", "和图片不一样，感觉是假货。", {"not_as_described"}),
    ("zh", "物流很快，质量很好，非常满意！", {"positive"}),
    ("zh", "不推荐，不满意。", {"other"}),
    ("ja", "商品が壊れていました。箱もつぶれていました。", {"damaged"}),
    ("ja", "注文してから二週間たっても届かない。", {"late"}),
    ("ja", "写真と違う色の商品が届きました。", {"not_as_described"}),
    ("ja", "サイズが小さすぎて着られません。", {"size_fit"}),
    ("ja", "すぐ壊れた。品質が悪い。", {"quality"}),
    ("ja", "部品が足りない。", {"wrong_item"}),
    ("ja", "返信がない。", {"service"}),
    ("ja", "迅速な対応で満足です。", {"positive"}),
]


@pytest.mark.unit
def test_every_language_and_theme_has_keywords_and_compiles():
    for lang in LANGUAGES:
        assert set(THEMES) <= set(KEYWORDS[lang]), lang
        m = matcher(lang)  # raises on a malformed pattern or a key under two themes
        assert m.automaton.kind != 0
    assert {lang for lang, _, _ in CASES} == set(LANGUAGES)
    assert {t for _, _, ts in CASES for t in ts} >= set(THEMES)


@pytest.mark.unit
@pytest.mark.parametrize(("lang", "text", "want"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hand_written_cases(lang, text, want):
    got = classify([text])
    assert got.at[0, "lang"] == lang
    assert set(got.at[0, "themes"]) == want


@pytest.mark.unit
def test_a_batch_gives_each_text_the_themes_it_gets_alone():
    texts = [c[1] for c in CASES]
    together = classify(texts)
    alone = [classify([t]).at[0, "themes"] for t in texts]
    assert list(together["themes"]) == alone
    # one boolean column per theme agrees with the tuples
    for t in (*THEMES, "other"):
        assert together[t].tolist() == [t in ts for ts in together["themes"]]


@pytest.mark.unit
def test_longest_phrase_wins_so_negations_hide_theme_words():
    got = classify(["sem atraso nenhum", "chegou com atraso", "não recomendo", "recomendo"], hint="pt")
    assert [set(t) for t in got["themes"]] == [{"other"}, {"late"}, {"other"}, {"positive"}]


@pytest.mark.unit
def test_accent_stripped_olist_text_and_typing_mistakes():
    # 7,334 Olist reviews have every non-ASCII character replaced by a space
    assert latin_readings("Não recebi")[1] == ["n", "o", "recebi"]
    texts = ["N o recebi o produto", "p ssima qualidade", "pedido nao foi entegue", "reclamacao aberta"]
    got = classify(texts, langs=["pt"] * 4)
    assert [set(t) for t in got["themes"]] == [{"late"}, {"quality"}, {"late"}, {"other"}]


@pytest.mark.unit
def test_language_detection_uses_the_hint_only_when_unsure():
    assert detect("Recomendo", hint="pt") == "pt"
    assert detect("ok", hint="de") == "de"
    assert detect("The parcel arrived broken and late, very disappointing.", hint="pt") == "en"
    assert detect("还没收到货") == "zh"
    assert detect("まだ届かない") == "ja"  # kana: Japanese even with Han characters
    assert detect("12345", hint=None) == "und"
    # a short text taken in the hint's language is also matched with the detector's own guess
    got = classify(["Jamais reçu.", "Recomendo", "ok"], hint="en")
    assert list(got["lang"]) == ["en", "en", "en"]
    assert [set(t) for t in got["themes"]] == [{"late"}, {"positive"}, {"other"}]


@pytest.mark.unit
def test_return_reason_codes():
    got = classify(["DEFECTIVE", "SWITCHEROO", "APPAREL_TOO_SMALL", "NOT_AS_DESCRIBED", "ORDERED_WRONG_ITEM",
                    "DAMAGED_BY_CARRIER", "Item arrived too late"])  # fmt: skip
    assert [set(t) for t in got["themes"]] == [
        {"quality"}, {"wrong_item"}, {"size_fit"}, {"not_as_described"}, {"other"}, {"damaged"}, {"late"},
    ]  # fmt: skip
    assert set(RETURN_CODES.values()) <= {*THEMES, "other"}


@pytest.mark.unit
def test_empty_texts_have_no_language_and_no_theme():
    got = classify([None, "", "   ", float("nan")])
    assert got["lang"].isna().all() and all(t == () for t in got["themes"])


_LATIN = [c for c in CASES if c[0] in ("en", "pt", "es", "fr", "de")]


@pytest.mark.unit
@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(_LATIN), min_size=1, max_size=6), st.sampled_from(["upper", "lower", "title"])
)
def test_case_does_not_change_themes(cases, how):
    texts = [c[1] for c in cases]
    langs = [c[0] for c in cases]
    base = classify(texts, langs=langs)["themes"].tolist()
    changed = classify([getattr(t, how)() for t in texts], langs=langs)["themes"].tolist()
    assert changed == base


# -- the rise rule -------------------------------------------------------------------------------


def _voices(rows):
    df = pd.DataFrame(rows, columns=["sku", "source", "day", "negative"])
    df["day"] = pd.to_datetime(df["day"]).dt.date
    for t in (*THEMES, "other"):
        df[t] = False
    return df.assign(order_id="o", has_text=False, text_id="t")


def _orders(rows):
    df = pd.DataFrame(rows, columns=["sku", "day"])
    return df.assign(day=pd.to_datetime(df["day"]).dt.date, order_id="o")


@pytest.mark.unit
def test_rise_rule_boundaries():
    as_of = date(2026, 3, 31)  # recent: 03-02..03-31, baseline: 2025-12-02..03-01
    fb = []
    # SKU-X: baseline 2 negative of 10 (0.2), recent 3 of 10 (0.3): exactly ×1.5 and +10 points → flagged
    fb += [("X", "feedback", "2026-01-15", i < 2) for i in range(10)]
    fb += [("X", "feedback", "2026-03-15", i < 3) for i in range(10)]
    # SKU-Y: 2 of 2 recent, none before: share 1.0 but only 2 negatives (< min_count 3) → not flagged
    fb += [("Y", "feedback", "2026-03-20", True)] * 2
    # SKU-Z: 3 of 12 recent (0.25) vs 2 of 10 before (0.2): ×1.25 < 1.5 → not flagged
    fb += [("Z", "feedback", "2026-02-01", i < 2) for i in range(10)]
    fb += [("Z", "feedback", "2026-03-10", i < 3) for i in range(12)]
    # SKU-W: first day of the recent window and last day of the baseline
    fb += [("W", "feedback", "2026-03-02", True)] * 3 + [("W", "feedback", "2026-03-01", False)] * 3
    # returns of SKU-R: 3 of 20 orders recent, 0 of 20 before → flagged (empty baseline share is 0)
    rt = [("R", "return", "2026-03-30", True)] * 3
    orders = [("R", "2026-03-05")] * 20 + [("R", "2026-02-05")] * 20
    out = rising_skus(_voices(fb + rt), _orders(orders), as_of, RiseRule())
    got = out.set_index(["sku", "measure"])
    assert got.loc[("X", "negative_feedback"), "flagged"]
    assert got.loc[("X", "negative_feedback"), "ratio"] == pytest.approx(1.5)
    assert not got.loc[("Y", "negative_feedback"), "flagged"]
    assert not got.loc[("Z", "negative_feedback"), "flagged"]
    w = got.loc[("W", "negative_feedback")]
    assert (w.recent_count, w.recent_base, w.baseline_count, w.baseline_base) == (3, 3, 0, 3)
    assert w.flagged and pd.isna(w.ratio)
    r = got.loc[("R", "returns")]
    assert (r.recent_count, r.recent_base, r.recent_share, r.baseline_share) == (3, 20, 0.15, 0.0)
    assert r.flagged
    assert list(out["flagged"]) == sorted(out["flagged"], reverse=True)  # flagged rows first
    # a stricter rule: Y flagged with min_count 2; X not with ratio 2
    loose = rising_skus(_voices(fb), _orders(orders), as_of, RiseRule(min_count=2, ratio=2.0))
    loose = loose.set_index(["sku", "measure"])["flagged"]
    assert loose[("Y", "negative_feedback")] and not loose[("X", "negative_feedback")]


@pytest.mark.unit
def test_rise_rule_rejects_nonsense():
    with pytest.raises(ValueError):
        RiseRule(ratio=0.5)
    with pytest.raises(ValueError):
        RiseRule(recent_days=0)


# -- one seller end to end -------------------------------------------------------------------------

TS = pd.Timestamp


def _seller_warehouse():
    orders, items, fb, rt = [], [], [], []

    def order(oid, at, skus, seller="S1"):
        orders.append({"seller_id": seller, "order_id": oid, "marketplace_id": "US", "purchased_at": TS(at),
                       "fulfillment_channel": "MFN"})  # fmt: skip
        for i, s in enumerate(skus):
            items.append({"seller_id": seller, "order_id": oid, "line_id": str(i), "sku": s, "quantity": 1})

    def feedback(oid, rating, at, comment=None, seller="S1"):
        fb.append({"seller_id": seller, "order_id": oid, "rating": rating, "submitted_at": TS(at),
                   "comment": comment})  # fmt: skip

    order("O1", "2026-01-10 18:00", ["SKU-A"])
    feedback("O1", 1, "2026-03-20 18:00", "Arrived broken")
    order("O2", "2026-03-01 20:00", ["SKU-A", "SKU-B"])  # 12:00 in Los Angeles: the baseline's last day
    feedback("O2", 2, "2026-03-25 18:00", "Too small, and it came late")
    order("O3", "2026-03-05 18:00", ["SKU-A"])
    rt.append({"seller_id": "S1", "order_id": "O3", "return_id": "R3", "requested_at": TS("2026-03-28 18:00"),
               "reason": "DEFECTIVE"})  # fmt: skip
    order("O4", "2026-03-10 18:00", ["SKU-B"])
    feedback("O4", 5, "2026-04-01 03:00", "Great, arrived early")  # 2026-03-31 20:00 in Los Angeles
    order("O5", "2025-12-20 18:00", ["SKU-A"])
    feedback("O5", 5, "2025-12-30 18:00", "Great")
    order("O6", "2026-01-05 18:00", ["SKU-A"])
    feedback("O6", 4, "2026-01-15 18:00")  # a rating without a comment: no text
    order("X1", "2026-03-01 18:00", ["SKU-X"], seller="S2")
    feedback("X1", 1, "2026-03-20 18:00", "never arrived, SECRET", seller="S2")
    return warehouse({"sellers": [{"seller_id": s, "marketplace_id": "US"} for s in ("S1", "S2")],
                      "orders": orders, "order_items": items, "feedback": fb, "returns": rt})  # fmt: skip


@pytest.fixture
def seller_wh():
    wh = _seller_warehouse()
    yield wh
    wh.close()


@pytest.mark.integration
def test_seller_voice_hand_computed(seller_wh):
    from cxops.service.voice import voice

    v = voice(seller_wh, "S1", date(2026, 3, 31))
    th = v.themes.set_index(["window_days", "source", "theme"])
    # 30 days (03-02..03-31, Los Angeles days): O1 damaged, O2 size_fit + late, O4 positive (on 03-31 in
    # Los Angeles, 04-01 in UTC); O2 has two SKUs but is one text
    assert th.loc[(30, "feedback", "damaged"), ["count", "texts"]].tolist() == [1, 3]
    assert th.loc[(30, "feedback", "size_fit"), "share"] == pytest.approx(1 / 3)
    assert th.loc[(30, "feedback", "late"), "count"] == 1
    assert th.loc[(30, "feedback", "positive"), "count"] == 1
    assert th.loc[(30, "return", "quality"), ["count", "texts", "share"]].tolist() == [1, 1, 1.0]
    # 365 days: O5's "Great" too; O6's bare rating is no text
    assert th.loc[(365, "feedback", "positive"), ["count", "texts"]].tolist() == [2, 4]
    assert "SECRET" not in v.texts["text"].str.cat()
    assert v.texts["day"].iloc[0] == date(2026, 3, 31)

    months = v.skus.set_index(["sku", "month"])
    a = months.loc[("SKU-A", date(2026, 3, 1))]
    assert (a.orders, a.ratings, a.negative, a.returns) == (2, 2, 2, 1)  # O2 (03-01 local), O3; O1, O2; R3
    assert (a.negative_share, a.return_rate) == (1.0, 0.5)
    assert (a.damaged, a.late, a.size_fit, a.quality, a.service) == (1, 1, 1, 1, 0)

    r = v.rising.set_index(["sku", "measure"])
    neg = r.loc[("SKU-A", "negative_feedback")]
    # recent: O1 (1★), O2 (2★) → 2 of 2; baseline (12-02..03-01): O5 (5★), O6 (4★) → 0 of 2
    assert (neg.recent_count, neg.recent_base, neg.baseline_count, neg.baseline_base) == (2, 2, 0, 2)
    assert not neg.flagged  # 2 < min_count 3
    assert neg.top_theme == "damaged"  # damaged, late, size_fit, quality once each: the first in order
    ret = r.loc[("SKU-A", "returns")]
    assert (ret.recent_count, ret.recent_base, ret.baseline_base) == (1, 1, 4)  # O3; O1, O2, O5, O6
    assert v.flagged.empty

    loose = voice(seller_wh, "S1", date(2026, 3, 31), rule=RiseRule(min_count=1))
    assert set(map(tuple, loose.flagged[["sku", "measure"]].to_numpy())) == {
        ("SKU-A", "negative_feedback"), ("SKU-A", "returns"), ("SKU-B", "negative_feedback"),
    }  # fmt: skip


@pytest.mark.integration
def test_seller_voice_errors_and_defaults(seller_wh):
    from cxops.errors import InputError, NotFoundError
    from cxops.service.voice import voice

    with pytest.raises(NotFoundError):
        voice(seller_wh, "NOBODY")
    with pytest.raises(NotFoundError):
        voice(seller_wh, "S1", marketplace_id="DE")
    with pytest.raises(InputError):
        voice(seller_wh, "S1", language="xx")
    assert voice(seller_wh, "S1").as_of == date(2026, 3, 31)  # the newest day of the seller's data
    early = voice(seller_wh, "S1", date(2026, 1, 31))
    assert set(early.texts["id"]) == {"O5"}


@pytest.mark.e2e
def test_cli_voc(seller_wh, tmp_path):
    path = tmp_path / "wh.duckdb"
    seller_wh.con.raw_sql(f"ATTACH '{path}' AS f; COPY FROM DATABASE memory TO f; DETACH f")
    runner = CliRunner()
    r = runner.invoke(app, ["voc", "S1", "--as-of", "2026-03-31", "-w", str(path)])
    assert r.exit_code == 0, r.output
    assert "Damaged" in r.output and "Size or fit" in r.output and "SKU-A" in r.output
    assert "No SKU's negative feedback or returns rose." in r.output
    r = runner.invoke(app, ["--lang", "zh", "voc", "S1", "--as-of", "2026-03-31", "-w", str(path)])
    assert r.exit_code == 0 and "破损" in r.output and "买家之声" in r.output
    r = runner.invoke(
        app, ["voc", "S1", "-w", str(path), "--min-count", "1", "--part", "rising", "-f", "csv"]
    )
    rows = pd.read_csv(pd.io.common.StringIO(r.output))
    assert rows["flagged"].sum() == 3
    r = runner.invoke(app, ["voc", "S1", "--as-of", "2026-06-30", "-w", str(path)])
    assert r.exit_code == 0 and "past the seller's newest data (Mar 31, 2026)" in r.output
    r = runner.invoke(app, ["voc", "NOBODY", "-w", str(path)])
    assert r.exit_code != 0 and "no orders of seller NOBODY" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["voc", "S1", "-w", str(path), "--text-lang", "xx"])
    assert r.exit_code != 0 and "no theme keywords for language 'xx'" in r.output
    r = runner.invoke(app, ["voc", "S1", "--as-of", "2026-03-31", "--lang", "de", "-w", str(path)])
    assert r.exit_code == 0 and "Beschädigt" in r.output and "Größe oder Passform" in r.output
    r = runner.invoke(app, ["voc", "S1", "-w", str(path), "--lang", "xx"])
    assert r.exit_code == 2 and "unsupported language 'xx'" in r.output and "Traceback" not in r.output
