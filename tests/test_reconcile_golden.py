"""Every output of ``cxops reconcile`` is what it was before reconcile became a package, in English;
the same outputs in Chinese hold no English sentence; every sentence of the catalogs is exercised.

The snapshots in ``tests/data/reconcile_golden`` were written by the code before the split (see
``tests/reconcile_golden.py``). Changes made on purpose, and only those, are allowed:

- the columns ``account_status`` and ``ahr_status`` (the account states reported with each row) in the
  frame, and the ``account status`` column of the table;
- the old frame leaked an internal ``_dim`` key into the ``definition`` and ``unexplained`` causes of
  ``likely_causes``; each cause is now exactly ``{"cause", "text"}``.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from reconcile_golden import GOLDEN, outputs, result, scenarios

from cxops.canonical.schema import TABLES
from cxops.report.i18n import Translator, catalog_keys

ADDED_COLUMNS = {"account_status", "ahr_status"}
ADDED_HEADERS = {"account status"}
NAMES = list(scenarios())


@pytest.fixture(scope="module")
def results():
    return {name: result(name) for name in NAMES}


def _csv(text: str) -> tuple[list[str], list[dict]]:
    """Header and rows of a CSV output, ``likely_causes`` parsed (and without the old ``_dim``)."""
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for r in reader:
        if r.get("likely_causes"):
            r["likely_causes"] = _old_causes(json.loads(r["likely_causes"]))
        rows.append(r)
    return list(reader.fieldnames or []), rows


def _old_causes(causes):
    return [{k: v for k, v in c.items() if k != "_dim"} for c in causes]


@pytest.mark.parametrize("name", NAMES)
def test_english_outputs_are_unchanged(results, name):
    old = json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))
    new = outputs(results[name])
    assert len(new["jsonl"]) == len(old["jsonl"])
    for a, b in zip(old["jsonl"], new["jsonl"], strict=True):
        assert set(b) - set(a) == ADDED_COLUMNS
        a = {**a, "likely_causes": _old_causes(a["likely_causes"])}
        assert {k: b[k] for k in a} == a
    old_csv, new_csv = _csv(old["csv"]), _csv(new["csv"])
    assert list(new_csv[0]) == list(old_csv[0]) + sorted(ADDED_COLUMNS, key=list(new_csv[0]).index)
    assert [{k: r[k] for k in old_csv[0]} for r in new_csv[1]] == old_csv[1]
    assert new["summary"] == old["summary"]
    old_cols = {c["header"]: c["cells"] for c in old["table"]["columns"]}
    new_cols = {c["header"]: c["cells"] for c in new["table"]["columns"]}
    assert set(new_cols) - set(old_cols) == ADDED_HEADERS
    assert {h: new_cols[h] for h in old_cols} == old_cols
    assert (new["table"]["caption"], new["table"]["title"]) == (
        old["table"]["caption"],
        old["table"]["title"],
    )


# -- Chinese ---------------------------------------------------------------------------------------

#: What may stay in Latin letters inside Chinese sentences: identifiers of the data (sellers,
#: marketplaces, tables, columns, time zones, unknown metric names), commands and option values, and
#: the field's abbreviations.
ALLOWED = re.compile(
    r"`cxops [^`]*`|shared_feedback = \"include\"|[A-Za-z]+/[A-Za-z_]+|[a-z]+(?:_[a-z]+)+|shipments\.units"
    r"|\b(?:cxops|A-to-z|AFN|MFN|UTC|S\d|A1B2C3|US|JP|units|" + "|".join(TABLES) + r")\b"
)
LATIN = re.compile(r"[A-Za-z]{2,}")


def _texts(snap: dict, frame_rows: list[dict]) -> list[str]:
    out = [snap["summary"]]
    for r in frame_rows:
        out += [r["reason"] or "", r["computed_as"] or ""] + [c["text"] for c in r["likely_causes"]]
    skip = {"卖家", "站点", "窗口"}  # identifier and date columns
    for col in snap["table"]["columns"]:
        if col["header"] not in skip:
            out += col["cells"] + [col["header"]]
    return out


def test_chinese_outputs_hold_no_english(results):
    leaks = set()
    for name in NAMES:
        snap = outputs(results[name], "zh")
        for text in _texts(snap, snap["jsonl"]):
            rest = ALLOWED.sub("", text)
            leaks |= {(name, w, text[:80]) for w in LATIN.findall(rest)}
    assert not leaks, sorted({w for _, w, _ in leaks}) + sorted(leaks)[:20]


def test_chinese_outputs_keep_every_number(results):
    # the same rows, verdicts and numbers in both languages; only the text differs
    for name in ("odr_lagged", "missing_claims", "amazon_reports"):
        en, zh = outputs(results[name]), outputs(results[name], "zh")
        strip = ("reason", "likely_causes", "computed_as")
        assert [{k: v for k, v in r.items() if k not in strip} for r in en["jsonl"]] == [
            {k: v for k, v in r.items() if k not in strip} for r in zh["jsonl"]
        ]
        assert [[c["cause"] for c in r["likely_causes"]] for r in en["jsonl"]] == [
            [c["cause"] for c in r["likely_causes"]] for r in zh["jsonl"]
        ]


# -- every sentence is used ------------------------------------------------------------------------


class _Recording(Translator):
    """A translator that records every key it is asked for."""

    def __init__(self, lang, seen):
        super().__init__(lang)
        self.seen = seen

    def template(self, key):
        self.seen.add(key)
        return super().template(key)

    def maybe(self, key, default=None, /, **params):
        self.seen.add(key)
        return super().maybe(key, default, **params)

    def plural(self, key, count, /, **params):
        self.seen.add(key)
        return super().plural(key, count, **params)


#: Vocabulary entries looked up by value (any value a report may carry), not all in the scenarios.
VOCABULARIES = (
    "reconcile.metric.",
    "reconcile.account_status.",
    "reconcile.ahr_status.",
    "reconcile.cause_name.",
)
#: Sentences for inputs the scenarios cannot produce.
UNREACHED = {
    "not_measured.other",  # a family whose reason has no message key (none today)
    "reconcile.cause.timezone_unknown",  # a marketplace without a time zone (the import refuses it)
    "reconcile.population.records",  # a rate family without a named population (none today)
    "reconcile.count.record",  # … and its counted nouns
    "reconcile.count.more_record",
}


def _sentence(key: str) -> str:
    """A counted noun is one gettext plural entry (``reconcile.count.order``), whatever its form."""
    return key


def test_every_reconcile_sentence_is_exercised(results):
    seen: set[str] = set()
    for lang in ("en", "zh"):
        tr = _Recording(lang, seen)
        for name in NAMES:
            outputs(results[name], tr)
    keys = {k for k in catalog_keys("en") if k.startswith(("reconcile.", "not_measured."))}
    sentences = {_sentence(k) for k in keys if not k.startswith(VOCABULARIES)}
    used = {_sentence(k) for k in seen}
    assert not sentences - used - UNREACHED, sorted(sentences - used - UNREACHED)
    assert not (UNREACHED & used), sorted(UNREACHED & used)  # keep the list honest
