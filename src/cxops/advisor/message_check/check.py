"""Checking a draft buyer message against the rule table: findings with rule, kind and span.

Nothing is sent anywhere: the check reads a string and returns findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from cxops.advisor.message_check.detect import detect
from cxops.advisor.message_check.normalize import Normalized, normalize
from cxops.advisor.message_check.table import ANY, Alternative, Compiled, compiled

#: The rule each detector's matches belong to.
DETECTOR_RULES = {
    "email": "off_platform_contact",
    "phone": "off_platform_contact",
    "url": "external_link",
    "card": "personal_data",
    "iban": "personal_data",
    "address": "personal_data",
}
#: Fuzzy matching: at least this Damerau-Levenshtein similarity (one typo in a word of five letters or more).
FUZZY_CUTOFF = 0.8


@dataclass(frozen=True)
class Finding:
    """One thing in a message that breaks a rule.

    Attributes
    ----------
    rule : str
        The rule id (a key of ``rules.toml``: ``review_change``, ``review_incentive``, ``review_positive``,
        ``off_platform_contact``, ``external_link``, ``marketing``, ``personal_data``).
    start, end : int
        The span in the message as given: Python string indices (code points), end exclusive.
    text : str
        ``message[start:end]``.
    kind : str
        What found it: ``terms`` (words of the rule table), or a detector (``email``, ``phone``, ``url``,
        ``card``, ``iban``, ``address``).
    language : str or None
        The language whose terms matched (``None`` for a detector).
    severity : str
        ``high`` or ``medium`` (the rule's).
    """

    rule: str
    start: int
    end: int
    text: str
    kind: str
    language: str | None
    severity: str


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    lang: str
    cls: str


_WORD = re.compile(r"[a-z]{5,}")


def _boundary(text: str, i: int) -> bool:
    return i <= 0 or i >= len(text) or not text[i].isalnum()


def term_hits(norm: Normalized, table: Compiled) -> list[Hit]:
    """Every term of the table in the normalised text (exact, then one-typo fuzzy for Latin words);
    hits inside a ``shadow`` term (``don't hesitate``) are dropped."""
    text = norm.text
    hits: set[Hit] = set()
    for end_idx, (key, terms) in table.automaton.iter(text):
        start, end = end_idx - len(key) + 1, end_idx + 1
        for t in terms:
            if t.left and not _boundary(text, start - 1):
                continue
            if t.right and not _boundary(text, end):
                continue
            hits.add(Hit(start, end, t.lang, t.cls))
    covered = {h.start for h in hits}
    keys = list(table.fuzzy)
    for m in _WORD.finditer(text):
        if m.start() in covered:
            continue
        word = m.group(0)
        best = process.extractOne(
            word, keys, scorer=DamerauLevenshtein.normalized_similarity, score_cutoff=FUZZY_CUTOFF
        )
        if best is None or best[0][0] != word[0] or abs(len(best[0]) - len(word)) > 1:
            continue
        for t in table.fuzzy[best[0]]:
            hits.add(Hit(m.start(), m.end(), t.lang, t.cls))
    shadows = [h for h in hits if h.cls == "shadow"]
    return sorted(
        (
            h
            for h in hits
            if h.cls != "shadow"
            and not any(
                s.start <= h.start and h.end <= s.end and (s.start, s.end) != (h.start, h.end)
                for s in shadows
            )
        ),
        key=lambda h: (h.start, h.end, h.cls),
    )


def _units(spans: tuple[tuple[int, int], ...], start: int, end: int) -> list[tuple[int, int]]:
    return [(s, e) for s, e in spans if s >= start and e <= end]


def _chains(alt: Alternative, by_cls: dict[str, list[Hit]], unit: tuple[int, int], pos) -> list[list[Hit]]:
    """Chains of hits of ``alt.chain`` in order inside ``unit``, consecutive gaps within ``alt.near``."""
    lo, hi = unit
    inside = [[h for h in by_cls.get(c, ()) if lo <= h.start and h.end <= hi] for c in alt.chain]
    out, after = [], lo
    for first in inside[0]:
        if first.start < after:
            continue
        chain = [first]
        for hits in inside[1:]:
            prev = chain[-1]
            nxt = next(
                (
                    h
                    for h in hits
                    if h.start >= prev.end and (alt.near is None or pos[h.start] - pos[prev.end] <= alt.near)
                ),
                None,
            )
            if nxt is None:
                break
            chain.append(nxt)
        if len(chain) == len(alt.chain):
            out.append(chain)
            after = chain[-1].end
    return out


def _language_findings(norm: Normalized, hits: list[Hit], lang: str, table: Compiled):
    mine = [h for h in hits if h.lang in (lang, ANY)]
    if not mine:
        return
    pos = norm.token_positions
    for s_start, s_end in norm.sentences:
        in_sentence = [h for h in mine if s_start <= h.start and h.end <= s_end]
        if not in_sentence:
            continue
        by_cls: dict[str, list[Hit]] = {}
        for h in sorted(in_sentence, key=lambda h: (h.start, -h.end)):  # the longest hit first at a place
            by_cls.setdefault(h.cls, []).append(h)
        for rule_id, rule in table.table.rules.items():
            for alt in rule.when:
                if any(c in by_cls for c in alt.unless):
                    continue
                if not all(c in by_cls for c in alt.sentence):
                    continue
                if alt.any:
                    for c in alt.any:
                        for h in by_cls.get(c, ()):
                            yield rule_id, h.start, h.end, lang
                    continue
                units = _units(norm.clauses, s_start, s_end) if alt.clause else [(s_start, s_end)]
                for unit in units:
                    for chain in _chains(alt, by_cls, unit, pos):
                        yield rule_id, chain[0].start, chain[-1].end, lang


def _merge(findings: list[Finding], message: str) -> list[Finding]:
    """One finding per rule and stretch of text: overlapping spans of one rule are joined."""
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.rule, f.start, -f.end)):
        last = out[-1] if out else None
        if last is not None and last.rule == f.rule and f.start < last.end:
            end = max(last.end, f.end)
            out[-1] = Finding(last.rule, last.start, end, message[last.start : end], last.kind,
                              last.language, last.severity)  # fmt: skip
        else:
            out.append(f)
    return sorted(out, key=lambda f: (f.start, f.end, f.rule))


def check_message(
    message: str,
    *,
    languages: Iterable[str] | None = None,
    allowed_domains: Iterable[str] | None = None,
    table: Compiled | None = None,
) -> list[Finding]:
    """Check a draft buyer message against the marketplace communication rules.

    Parameters
    ----------
    message : str
        The draft, as the seller wrote it (any of the table's languages, mixed is fine).
    languages : iterable of str, optional
        The languages whose terms are used (default: every language of the table: en, zh, de, fr, ja,
        es, pt). Detectors (e-mail, phone, links, card numbers, IBANs, addresses) always run.
    allowed_domains : iterable of str, optional
        Domains a link may point to (default: the table's marketplace domains).
    table : Compiled, optional
        Another rule table (tests); default the packaged one.

    Returns
    -------
    list of Finding
        In order of position; empty when the message breaks no rule.

    Raises
    ------
    ValueError
        A language the table does not have.
    """
    table = table or compiled()
    langs = tuple(languages) if languages is not None else table.table.languages
    unknown = set(langs) - set(table.table.languages)
    if unknown:
        raise ValueError(
            f"unsupported message language {', '.join(sorted(unknown))}; "
            f"supported: {', '.join(table.table.languages)}"
        )
    severity = {rid: r.severity for rid, r in table.table.rules.items()}
    norm = normalize(message)
    hits = term_hits(norm, table)
    found: list[Finding] = []
    for lang in langs:
        for rule_id, start, end, lg in _language_findings(norm, hits, lang, table):
            s, e = norm.span(start, end)
            found.append(Finding(rule_id, s, e, message[s:e], "terms", lg, severity[rule_id]))
    domains = table.table.allowed_domains if allowed_domains is None else tuple(allowed_domains)
    address = {k: v for k, v in table.address.items() if k in langs}
    for d in detect(message, domains, address):
        rule_id = DETECTOR_RULES[d.kind]
        found.append(
            Finding(rule_id, d.start, d.end, message[d.start : d.end], d.kind, None, severity[rule_id])
        )
    return _merge(found, message)


__all__ = ["DETECTOR_RULES", "Finding", "Hit", "check_message", "term_hits"]
