"""Group buyer comments and return reasons into themes (:mod:`cxops.advisor.voc.keywords` declares them).

Each language's patterns are compiled once into an Aho–Corasick automaton (``pyahocorasick``) over
word sequences: a text is its words wrapped as ``<w1><w2>…``, a whole-word pattern is ``<a><b>`` and a
prefix pattern ``<a><st`` (``*`` at the end), so one left-to-right pass finds every pattern with
**leftmost-longest** semantics — the longer phrase wins, which is how negations ("sem atraso",
"not recommend") hide the shorter theme words they contain.

Typing mistakes ("entegue", "reclamacao") are repaired before matching with ``rapidfuzz``: every
distinct word of a batch that is not a keyword word is compared at once (``process.cdist``) with the
keyword words and stems of its language, and replaced by the nearest within one edit (words of 7 to
10 letters) or two (11 letters or more).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from cxops.advisor.voc import text as tx
from cxops.advisor.voc.keywords import KEYWORDS, LANGUAGES, OTHER, RETURN_CODES, THEMES

#: Fuzzy repair: (shortest word, longest word, edits allowed) bands.
FUZZY_BANDS: tuple[tuple[int, int, int], ...] = ((7, 10, 1), (11, 99, 2))


@dataclass(frozen=True)
class _Pattern:
    key: str  # the automaton key
    theme: str | None
    words: tuple[str, ...]
    prefix: bool  # the last word is a stem
    infix: bool  # the first word may start inside a word


def _parse(pattern: str, theme: str | None, lang: str) -> list[_Pattern]:
    raw = pattern.strip()
    if not raw or raw == "*":
        raise ValueError(f"keywords[{lang}][{theme}]: empty pattern")
    infix = raw.startswith("*") and lang not in ("zh", "ja")
    prefix = raw.endswith("*") and lang not in ("zh", "ja")
    core = raw.strip("*")
    if "*" in core:
        raise ValueError(f"keywords[{lang}][{theme}]: '*' only at the start or end of {pattern!r}")
    readings = tx.words(core, lang)
    out = []
    for ws in readings:
        if not ws:
            continue
        key = "".join(f"<{w}>" for w in ws)
        if prefix:
            key = key[:-1]
        if infix:
            key = key[1:]
        out.append(_Pattern(key, theme, tuple(ws), prefix, infix))
    if not out:
        raise ValueError(f"keywords[{lang}][{theme}]: {pattern!r} has no words")
    return out


@dataclass(frozen=True)
class Matcher:
    """The compiled patterns of one language."""

    lang: str
    automaton: object
    words: frozenset[str]  # every whole keyword word
    stems: frozenset[str]  # every keyword stem (prefix patterns' last words)

    def themes(self, word_lists: Sequence[list[str]]) -> set[str]:
        """The themes found in the readings of one text (the union over readings)."""
        found: set[str] = set()
        for ws in word_lists:
            if not ws:
                continue
            for _, theme in self.automaton.iter_long("".join(f"<{w}>" for w in ws)):
                if theme is not None:
                    found.add(theme)
        return found


@cache
def matcher(lang: str) -> Matcher:
    """The compiled matcher of ``lang`` (one of :data:`cxops.advisor.voc.keywords.LANGUAGES`).

    Raises
    ------
    ValueError
        A pattern is malformed, or one key is declared under two themes.
    """
    import ahocorasick

    auto = ahocorasick.Automaton()
    seen: dict[str, str | None] = {}
    words, stems = set(), set()
    for theme, patterns in KEYWORDS[lang].items():
        if theme is not None and theme not in THEMES:
            raise ValueError(f"keywords[{lang}]: unknown theme {theme!r}")
        for pattern in patterns:
            for p in _parse(pattern, theme, lang):
                if p.key in seen and seen[p.key] != theme:
                    raise ValueError(f"keywords[{lang}]: {pattern!r} is under {theme!r} and {seen[p.key]!r}")
                seen[p.key] = theme
                auto.add_word(p.key, theme)
                words.update(p.words[:-1] if p.prefix else p.words)
                if p.prefix:
                    stems.add(p.words[-1])
    auto.make_automaton()
    return Matcher(lang, auto, frozenset(words), frozenset(stems))


def repair(vocab: Iterable[str], m: Matcher) -> dict[str, str]:
    """Typing mistakes among ``vocab`` → the keyword word or stem they are nearest to (see the module
    docstring); words already known, too short, or not near any keyword are left out."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    cand = sorted(
        w
        for w in vocab
        if w not in m.words and not any(w.startswith(s) for s in m.stems) and w.isalpha() and len(w) >= 7
    )
    if not cand:
        return {}
    out: dict[str, str] = {}
    for lo, hi, edits in FUZZY_BANDS:
        group = [w for w in cand if lo <= len(w) <= hi]
        if not group:
            continue
        best_d = np.full(len(group), edits + 1)
        best_t = np.full(len(group), "", dtype=object)
        # whole words: full distance; stems: the word cut to the stem's length (the ending is free);
        # never repair onto a keyword much shorter than the word
        pools = [(None, sorted(w for w in m.words if len(w) >= lo - 1))]
        pools += [(n, sorted(s for s in m.stems if len(s) == n)) for n in sorted({len(s) for s in m.stems})]
        for n, targets in pools:
            if not targets or (n is not None and n < lo - 2):
                continue
            queries = group if n is None else [w[:n] for w in group]
            d = process.cdist(queries, targets, scorer=Levenshtein.distance, dtype=np.int32, workers=1)
            j = d.argmin(axis=1)
            dj = d[np.arange(len(group)), j]
            better = dj < best_d
            best_d = np.where(better, dj, best_d)
            best_t[better] = np.asarray(targets, dtype=object)[j[better]]
        for w, d, t in zip(group, best_d, best_t, strict=True):
            if d <= edits:
                out[w] = t
    return out


def classify(texts: Sequence[str | None], hint: str | None = None, langs: Sequence[str] | None = None):
    """Themes of each text.

    Parameters
    ----------
    texts : sequence of str or None
        Comments or return reasons; ``None`` / empty gives no themes and language ``None``.
    hint : str, optional
        The language to assume for a text too short to detect (e.g. ``"pt"`` on Olist); such a text
        is also matched with the keywords of the detector's own guess ("Jamais reçu" on a US
        marketplace is English by the hint, and matches the French "jamais recu").
    langs : sequence of str, optional
        The language of each text, when known (skips detection).

    Returns
    -------
    pandas.DataFrame
        One row per text, in order: ``lang`` (ISO 639-1 or ``"und"``), ``themes`` (a tuple in
        :data:`~cxops.advisor.voc.keywords.THEMES` order, ``("other",)`` when a text matches none) and one
        boolean column per theme and ``other``.
    """
    n = len(texts)
    lang_out: list[str | None] = [None] * n
    found: list[set[str]] = [set() for _ in range(n)]
    readings: dict[int, list[list[str]]] = {}
    also: dict[int, str] = {}  # a short text's unsure second language: its keywords are matched too
    for i, t in enumerate(texts):
        if t is None or (isinstance(t, float) and np.isnan(t)) or not str(t).strip():
            continue
        t = str(t)
        code = RETURN_CODES.get("_".join(t.strip().upper().split()))
        if code is not None:
            lang_out[i] = "en"
            found[i].add(code)
            continue
        lang, second = (langs[i], None) if langs is not None else _language(t, hint)
        lang_out[i] = lang
        if second in LANGUAGES:
            also[i] = second
        if lang in LANGUAGES:
            readings[i] = tx.words(t.replace("_", " ") if _is_code(t) else t, lang)
    by_lang: dict[str, list[int]] = {}
    for i in readings:
        by_lang.setdefault(lang_out[i], []).append(i)
    for lang, idx in by_lang.items():
        m = matcher(lang)
        if lang not in ("zh", "ja"):
            fix = repair(tx.vocabulary(ws for i in idx for ws in readings[i]), m)
            if fix:
                for i in idx:
                    readings[i] = [[fix.get(w, w) for w in ws] for ws in readings[i]]
        for i in idx:
            found[i] |= m.themes(readings[i])
    for i, second in also.items():
        if i in readings and lang_out[i] not in ("zh", "ja"):  # Latin readings serve every Latin table
            found[i] |= matcher(second).themes(readings[i])
    return _frame(lang_out, found)


def _language(text: str, hint: str | None) -> tuple[str, str | None]:
    """The language of a text and its unsure second language (:func:`cxops.advisor.voc.text.detect_both`); a
    reason code is English."""
    return ("en", None) if _is_code(text) else tx.detect_both(text, hint)


def _is_code(text: str) -> bool:
    """A reason code such as ``DAMAGED_BY_CARRIER`` or ``item_not_received`` (one word with underscores)."""
    return "_" in text and " " not in text.strip()


def _frame(lang_out: list[str | None], found: list[set[str]]) -> pd.DataFrame:
    order = (*THEMES, OTHER)
    themes = []
    for lang, f in zip(lang_out, found, strict=True):
        if lang is None:
            themes.append(())
            continue
        f = f - {OTHER} if len(f) > 1 else f
        themes.append(tuple(t for t in order if t in f) or (OTHER,))
    df = pd.DataFrame({"lang": lang_out, "themes": themes})
    for t in order:
        df[t] = np.fromiter((t in ts for ts in themes), dtype=bool, count=len(themes))
    return df
