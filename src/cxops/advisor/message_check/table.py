"""The rule table (``rules.toml``): loaded, validated and compiled once per process.

The table is the only declaration of the rules, their term classes per language, the marketplace
domains a message may link to and the postal-address patterns. Term patterns are normalised like a
message (:func:`~cxops.advisor.message_check.normalize.normalize`) and compiled into one Aho-Corasick
automaton (``pyahocorasick``) shared by every language; Latin terms of five letters or more are also
matched fuzzily (``rapidfuzz``, one typo: ``reveiw``, ``feedbak``, ``whatsap``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxops.advisor.message_check.normalize import is_cjk, normalize

#: The language that goes with every language (brand names such as WhatsApp or WeChat).
ANY = "any"


class Alternative(BaseModel):
    """One way a rule matches inside a sentence (see the header of ``rules.toml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    any: tuple[str, ...] = ()
    clause: tuple[str, ...] = ()
    seq: tuple[str, ...] = ()
    near: float | None = Field(None, gt=0)
    sentence: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_kind(self):
        if sum(bool(x) for x in (self.any, self.clause, self.seq)) != 1:
            raise ValueError("an alternative has exactly one of any, clause, seq")
        return self

    @property
    def chain(self) -> tuple[str, ...]:
        return self.clause or self.seq

    def classes(self) -> set[str]:
        return {*self.any, *self.clause, *self.seq, *self.sentence, *self.unless}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Literal["low", "medium", "high"]
    when: tuple[Alternative, ...]


class Table(BaseModel):
    """``rules.toml`` as validated data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    rules: dict[str, Rule]
    terms: dict[str, dict[str, tuple[str, ...]]]
    address: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _consistent(self):
        known = set(self.languages) | {ANY}
        for name, by_lang in self.terms.items():
            if set(by_lang) - known:
                raise ValueError(f"terms.{name}: unknown languages {sorted(set(by_lang) - known)}")
        for rule_id, rule in self.rules.items():
            for alt in rule.when:
                missing = alt.classes() - set(self.terms)
                if missing:
                    raise ValueError(f"rules.{rule_id}: unknown term classes {sorted(missing)}")
        if set(self.address) - set(self.languages):
            raise ValueError("address: unknown languages")
        return self


@dataclass(frozen=True)
class Term:
    """One pattern of a term class in one language, normalised.

    ``left``/``right``: the match must start/end at a word boundary (Latin scripts; ``*`` lifts it).
    """

    lang: str
    cls: str
    key: str
    left: bool
    right: bool


@dataclass(frozen=True)
class Compiled:
    """The table ready for matching."""

    table: Table
    automaton: ahocorasick.Automaton
    #: Latin terms matched with one typo: normalised word → terms it stands for.
    fuzzy: dict[str, tuple[Term, ...]]
    address: dict[str, tuple[re.Pattern, ...]]


def _term(lang: str, cls: str, pattern: str) -> Term:
    left_open, right_open = pattern.startswith("*"), pattern.endswith("*")
    key = normalize(pattern.strip("*")).text
    if not key:
        raise ValueError(f"terms.{cls}.{lang}: empty pattern {pattern!r}")
    cjk = any(is_cjk(c) for c in key)
    left = not left_open and not cjk and key[0].isalnum()
    right = not right_open and not cjk and key[-1].isalnum()
    return Term(lang, cls, key, left, right)


def load_table(text: str | None = None) -> Table:
    """Read and validate the rule table.

    Parameters
    ----------
    text : str, optional
        TOML text (default: the packaged ``rules.toml``).

    Raises
    ------
    pydantic.ValidationError, tomllib.TOMLDecodeError
        The table is malformed (a packaging bug: the tests load it).
    """
    if text is None:
        text = resources.files(__package__).joinpath("rules.toml").read_text(encoding="utf-8")
    return Table.model_validate(tomllib.loads(text))


def compile_table(table: Table) -> Compiled:
    """Build the automaton, the fuzzy vocabulary and the address patterns of ``table``."""
    by_key: dict[str, list[Term]] = {}
    for cls, by_lang in table.terms.items():
        for lang, patterns in by_lang.items():
            for p in patterns:
                t = _term(lang, cls, p)
                by_key.setdefault(t.key, []).append(t)
    automaton = ahocorasick.Automaton()
    for key, terms in by_key.items():
        automaton.add_word(key, (key, tuple(terms)))
    automaton.make_automaton()
    fuzzy = {
        key: tuple(terms)
        for key, terms in by_key.items()
        if len(key) >= 6 and key.isalpha() and key.isascii() and all(t.left for t in terms)
    }
    address = {
        lang: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        for lang, patterns in table.address.items()
    }
    return Compiled(table, automaton, fuzzy, address)


@cache
def compiled() -> Compiled:
    """The packaged table, compiled (once per process)."""
    return compile_table(load_table())


def rule_ids() -> tuple[str, ...]:
    """The rule ids, in the table's order."""
    return tuple(compiled().table.rules)
