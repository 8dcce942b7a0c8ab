"""The gettext catalogs: complete in English and Chinese, no unused key, coverage of German, French and
Japanese, gettext plural rules, locale numbers, gap sentences exact at the bar, the TOML importer, and
``--lang zh`` command output without English words."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxops.canonical.schema import TABLES
from cxops.cli import app
from cxops.locale import pofiles, tools
from cxops.locale.catalog import COMPLETE_LANGUAGES, LANGUAGES, compiled
from cxops.report.format import gap_sentence
from cxops.report.i18n import Translator

SRC = Path(__file__).resolve().parents[1] / "src" / "cxops"

#: Catalog groups a seller reads (e-mails, the seller's page, the report's vocabulary): translated in
#: every language, not left to the English fallback.
#: Texts every catalog language translates (the others fall back to English): the seller's e-mails and
#: vocabulary, and the seller's tools (issue 13) in the CLI, the API and the seller's pages.
SELLER_FACING = (
    *("mail.", "metric.", "state.", "kind.", "benefit.", "gap.", "unit."),
    *("advise.", "costs.", "diagnose.", "msgcheck.", "shipped.", "voc."),
)


def test_catalogs_are_clean():
    """Every file parses, is canonical, has the English keys and placeholders; en and zh complete."""
    assert tools.check() == []


def test_coverage_of_every_language():
    cov = {c.lang: c for c in tools.coverage()}
    assert set(cov) == set(LANGUAGES)
    for lang in COMPLETE_LANGUAGES:
        assert cov[lang].missing == (), (lang, cov[lang].missing[:10])
    listing = {lang: f"{c.translated}/{c.total}" for lang, c in cov.items()}
    for lang in set(LANGUAGES) - set(COMPLETE_LANGUAGES):
        missing = [k for k in cov[lang].missing if k.startswith(SELLER_FACING)]
        assert missing == [], (lang, listing, missing[:10])
    print("catalog coverage:", listing)


def _code_texts() -> str:
    parts = []
    for path in SRC.rglob("*"):
        if path.suffix in (".py", ".html", ".j2") and "locale" not in path.relative_to(SRC).parts[:1]:
            parts.append(path.read_text("utf-8"))
    return "\n".join(parts)


def _key_patterns(code: str) -> list[re.Pattern]:
    """What the code names: literal keys, and prefixes it completes at run time.

    ``"metric.order_count"`` names a key; ``f"metric.{name}"``, ``f"unit.{metric}.{which}"``,
    ``"web.done." ~ done``, ``"removal.subject_" ~ c.action``, ``self._vocab("state", name)`` and a
    vocabulary group named as a literal (``("metric", "reconcile.metric")``) name every key they can
    complete. The e-mail translator prefixes ``mail.`` (``tr.t("greeting")``, ``tr.vocab("document", …)``).
    """
    literal = set(re.findall(r"""["']([a-z][a-z_]*(?:\.[\w\-]+)+)["']""", code))
    mail = set(re.findall(r"""\.(?:t|n)\(\s*["']([a-z_]+(?:\.[a-z_]+)*)["']""", code))
    prefixes = set(re.findall(r"""f["']([a-z_]+(?:\.(?:[a-z_]+|\{[^}]*\}))*[._])\{""", code))
    prefixes |= set(re.findall(r"""["']([a-z_]+(?:\.[a-z_]+)*[._])["']\s*(?:~|\+)""", code))
    prefixes |= {g + "." for g in re.findall(r"""vocab\(\s*["']([a-z_]+)["']""", code)}
    prefixes |= {g + "." for g in literal}  # a vocabulary group named as a literal
    exact = literal | {"mail." + k for k in literal | mail}
    patterns = [re.compile(re.escape(k) + "$") for k in exact]
    for p in prefixes | {"mail." + p for p in prefixes}:
        patterns.append(re.compile(re.sub(r"\\\{[^}]*\\\}", r"[^.]+", re.escape(p))))
    return patterns


def test_no_unused_key():
    """Every catalog key is named in the code, literally or under a prefix the code completes."""
    patterns = _key_patterns(_code_texts())
    unused = sorted(k for k in compiled("en").keys() if not any(p.match(k) for p in patterns))
    assert unused == []


def test_plural_forms_follow_gettext_rules():
    assert Translator("en").plural("reconcile.count.order", 1) == "1 order"
    assert Translator("en").plural("reconcile.count.order", 1500) == "1,500 orders"
    assert Translator("de").plural("mail.unit.days", 1) == "1 Tag"
    assert Translator("de").plural("mail.unit.days", 1500) == "1.500 Tage"
    # French: 0 and 1 take the singular; the thousands separator is a narrow no-break space
    assert Translator("fr").plural("mail.unit.days", 0) == "0 jour"
    assert Translator("fr").plural("mail.unit.days", 2500) == "2\u202f500 jours"
    assert Translator("ja").plural("mail.unit.days", 1500) == "1,500日"
    assert Translator("zh").plural("mail.unit.days", 1) == "1 天"


def test_an_untranslated_message_falls_back_to_english_through_gettext():
    """A key added in English and not yet translated (an empty msgstr) shows the English text."""
    import io

    from babel.messages.pofile import read_po

    from cxops.locale.catalog import compile_catalog, po_resource

    key = "web.seller.no_history"
    text = po_resource("de").read_text("utf-8")
    text = re.sub(rf'(msgid "{re.escape(key)}"\nmsgstr )"[^"]*"', r'\1""', text)
    catalog = read_po(io.BytesIO(text.encode()), locale="de", domain="cxops")
    partial = compile_catalog("de", catalog)
    assert key not in partial.singular
    assert partial.translations.gettext(key) == "No status changes yet."  # gettext's fallback chain
    tr = Translator("de")
    tr._c = partial
    assert tr(key) == "No status changes yet." and key in tr.missing
    assert tr("web.seller.no_benefits") == "Derzeit keine Vorteile."


# --- gap sentences, exact at the bar (hand-computed) ----------------------------------------------


def test_gap_sentence_lands_on_the_bar_for_a_strict_operator():
    # order_count > 1500 at 2,258 orders: 758 fewer leave 1,500, which is not more than 1,500 —
    # the criterion flips *at* the bar, not below it
    args = {"metric": "order_count", "operator": ">", "threshold": 1500, "value": 2258}
    assert gap_sentence(-758, **args) == "758 fewer orders in the window would take it to 1,500 or below"
    assert gap_sentence(-758, lang="zh", **args) == "窗口内减少 758 笔订单将使其降至 1,500 或以下"
    assert gap_sentence(-758, lang="de", **args) == (
        "758 Bestellungen weniger im Zeitfenster würden sie auf 1.500 oder darunter bringen"
    )


def test_gap_sentence_goes_under_the_bar_for_an_inclusive_operator():
    # order_count >= 1500 at 2,258: 759 fewer leave 1,499 < 1,500
    args = {"metric": "order_count", "operator": ">=", "threshold": 1500, "value": 2258}
    assert gap_sentence(-759, **args) == "759 fewer orders in the window would take it below 1,500"
    assert gap_sentence(-759, lang="fr", **args) == (
        "759 commandes de moins dans la période la feraient passer sous 1\u202f500"
    )


def test_gap_sentence_for_a_defect_rate_and_a_missing_volume():
    # ODR < 1% with 7 of 1,000: 3 more defective orders make 10/1,000 = 1.00%, which is not below 1%
    odr = {
        "metric": "order_defect_rate",
        "operator": "<",
        "threshold": 0.01,
        "numerator": 7,
        "denominator": 1000,
    }
    assert gap_sentence(3, value=0.007, **odr) == (
        "3 more defective orders in the window would take it to 1.00% or above"
    )
    # ODR <= 1% with 12 of 1,000: 2 fewer make 10/1,000 = 1.00%, within the bar
    odr["operator"] = "<="
    assert gap_sentence(-2, value=0.012, **{**odr, "numerator": 12}) == (
        "needs 2 fewer defective orders in the window to get to 1.00% or below"
    )
    # order_count > 1500 at 1,400: 101 more make 1,501
    vol = {"metric": "order_count", "operator": ">", "threshold": 1500, "value": 1400}
    assert gap_sentence(101, **vol) == "needs 101 more orders to get above 1,500"
    assert gap_sentence(1101, **{**vol, "threshold": 2500}) == "needs 1,101 more orders to get above 2,500"
    assert (
        gap_sentence(1101, lang="ja", **{**vol, "threshold": 2500})
        == "2,500を超える値になるには注文があと1,101件必要です"
    )


# --- the TOML importer ----------------------------------------------------------------------------


def test_import_toml_turns_tables_into_messages_and_plural_entries():
    table = tomllib.loads(
        '[alerts.daily]\nsubject = "Daily alerts for {seller}"\n'
        '[alerts.daily.count]\none = "{n} alert"\nother = "{n} alerts"\n'
        '[unit.x]\nbad_one = "bad x"\nbad_other = "bad xs"\n'
    )
    flat = pofiles.flatten_toml(table)
    assert flat == {
        "alerts.daily.subject": "Daily alerts for {seller}",
        "alerts.daily.count": {"one": "{n} alert", "other": "{n} alerts"},
        "unit.x.bad": {"one": "bad x", "other": "bad xs"},
    }
    data = pofiles.LanguageFile("fr")
    added, changed = pofiles.merge(data, flat)
    assert sorted(added) == sorted(flat) and changed == []
    # French has three gettext forms (one, many, other): "many" falls back to "other"
    assert data.messages["alerts.daily.count"] == ("{n} alert", "{n} alerts", "{n} alerts")
    text = pofiles.render_language(data)
    assert 'msgid_plural "alerts.daily.count"' in text and 'msgstr[2] "{n} alerts"' in text
    assert pofiles.plural_categories("en") == ["one", "other"]
    assert pofiles.plural_categories("ja") == ["other"]


# --- --lang zh output holds no English -----------------------------------------------------------

#: The policy's rule and criterion ids (shown as ids in every language).
POLICY_IDS = re.findall(r'^id = "([^"]+)"', (SRC / "policy/packs/customer-excellence.toml").read_text(), re.M)
ALLOWED = re.compile(
    r"\bS\d+\b|\b[a-z]+(?:_[a-z0-9]+)+\b|\d{4}-\d{2}-\d{2}|--[a-z\-]+|`[^`]*`|\S*/\S+|\.(?:parquet|csv)\b"
    r"|\b(?:manifest\.json|cxops|A-to-z|AFN|MFN|UTC|US|JP|UK|DE|FR|IT|ES|CA|MX|AU|h|d)\b"
    r"|\b(?:" + "|".join(map(re.escape, POLICY_IDS)) + r")\b"
)
LATIN = re.compile(r"[A-Za-z]{2,}")


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})  # no wrapped cells
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    _run("synth", "--sellers", "30", "--days", "150", "--orders-per-seller", "300", "--out", str(d / "data"))
    url = str(d / "s.duckdb")
    _run("import", "canonical", str(d / "data"), "-w", url, "--quarantine", str(d / "q"))
    return url


def _leaks(text: str) -> set[str]:
    return {w for line in text.splitlines() for w in LATIN.findall(ALLOWED.sub("", line))}


def test_chinese_evaluate_and_explain_hold_no_english(synth_wh, tmp_path):
    out = _run(
        "evaluate", "--as-of", "2026-11-01", "--lang", "zh", "--out", str(tmp_path / "o"), "-w", synth_wh
    )
    texts = {"evaluate": out}
    rows = (tmp_path / "o" / "statuses.csv").read_text().splitlines()[1:]
    by_state = {r.split(",")[4]: r.split(",")[0] for r in rows}  # one seller of each state reached
    assert len(by_state) >= 2, by_state
    for seller in by_state.values():
        texts[f"explain {seller}"] = _run(
            "explain", seller, "--as-of", "2026-11-01", "--lang", "zh", "-w", synth_wh
        )
    leaks = {name: sorted(_leaks(t)) for name, t in texts.items() if _leaks(t)}
    assert leaks == {}


def test_chinese_reconcile_holds_no_english(tmp_path):
    url = str(tmp_path / "a.duckdb")
    data = Path(__file__).parent / "data" / "amazon"
    _run(
        "import",
        "amazon",
        "--seller",
        "A1B2C3",
        "--marketplace",
        "US",
        str(data),
        "-w",
        url,
        "--quarantine",
        str(tmp_path / "q"),
    )
    out = _run("reconcile", "--lang", "zh", "-w", url)
    assert "正常" in out  # the reported account status, in Chinese
    tables = "|".join(TABLES)  # canonical table names are ids
    allowed = re.compile(ALLOWED.pattern + rf"|\bA1B2C3\b|\b(?:{tables})\b")
    leaks = {w for line in out.splitlines() for w in LATIN.findall(allowed.sub("", line))}
    assert leaks == set()


def test_counts_and_rates_follow_the_locale():
    from cxops.report.format import format_counts, format_value

    assert format_counts(3, 1000) == "3 / 1,000"
    assert format_counts(3, 1000, lang="de") == "3 / 1.000"
    assert format_counts(3, 1000, lang="fr") == "3 / 1\u202f000"
    assert format_value(0.0045, "order_defect_rate", lang="de") == "0,45%"
    assert format_value(0.0045, "order_defect_rate", lang="ja") == "0.45%"
    assert format_value(5.25, "median_first_response_hours", lang="fr") == "5,3 h"  # half up


def test_only_a_branch_s_own_toml_changes_are_imported():
    base = '[gap]\nadd_bad = "old sentence"\n[mail.window]\none = "{n} day"\nother = "{n} days"\n'
    branch = (
        '[mail.window]\none = "{n} day"\nother = "{n} days"\n'  # unchanged: not imported
        '[jobs.daily]\nsubject = "Daily alerts for {seller}"\n'  # added
        '[jobs.daily.count]\none = "{n} alert"\nother = "{n} alerts"\n'
    )  # gap.add_bad was removed on the branch: listed, never re-added
    changes, removed = tools.toml_changes("en.toml", branch, base, {"mail.window"})
    assert changes == {
        "jobs.daily.subject": "Daily alerts for {seller}",
        "jobs.daily.count": {"one": "{n} alert", "other": "{n} alerts"},
    }
    assert removed == ["gap.add_bad"]
    everything, _ = tools.toml_changes("en.toml", branch, None, {"mail.window"})
    assert set(everything) == {"mail.window", "jobs.daily.subject", "jobs.daily.count"}
