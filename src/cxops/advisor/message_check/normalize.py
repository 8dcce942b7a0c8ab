"""Normalising a message for matching, with a map back to the characters of the original.

Matching runs on a normalised copy of the message: NFKC (full-width letters and digits become ASCII,
half-width kana become full-width), case folded, accents dropped from Latin letters (``avaliação`` →
``avaliacao``, what people type without a keyboard layout), curly quotes straightened, dashes and
underscores turned into spaces (``5-star`` → ``5 star``, ``e-mail`` → ``e mail``), runs of spaces
collapsed, spaces between two CJK characters removed (``好 评`` → ``好评``) and letters spaced out one by
one joined (``w h a t s a p p`` → ``whatsapp``); zero-width characters and direction marks (Unicode
format characters) are dropped. Every character of the normalised text remembers the
span of the original it came from, so a finding is reported on the original text.

Offsets are Python string indices (Unicode code points), end exclusive.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

#: Characters that end a sentence (after normalisation); ``.`` only before a space, a non-ASCII
#: character or the end (not in ``amazon.com`` or ``5.5``).
SENTENCE_ENDS = frozenset("!?。\n")
#: Characters that end a clause (a sentence end ends a clause too).
CLAUSE_ENDS = frozenset(",;:、")
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u00b4": "'", "`": "'"}
_DASHES = frozenset("-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\u30fb")
#: The long vowel mark ``ー`` and the middle dot are part of Japanese words: never spaces.
_KEEP_IN_WORDS = frozenset("\u30fc\u30fb")


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a Han, kana or Hangul character (words are not separated by spaces)."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= o <= 0xFAFF
        or 0xAC00 <= o <= 0xD7AF  # hangul
        or 0x20000 <= o <= 0x2FFFF
    )


def is_word(ch: str) -> bool:
    """A character of a word (letters, digits, CJK)."""
    return ch.isalnum()


def _clusters(text: str):
    """``(start, end)`` of each base character with the combining marks that follow it."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        yield i, j
        i = j


def _fold(cluster: str) -> str:
    s = unicodedata.normalize("NFKC", cluster).casefold()
    if s and all(ord(c) < 0x250 or unicodedata.combining(c) for c in unicodedata.normalize("NFD", s)):
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    out = []
    for c in s:
        if unicodedata.category(c) == "Cf":  # zero-width and direction marks hide nothing
            continue
        if c in _QUOTES:
            c = _QUOTES[c]
        elif c in _DASHES and c not in _KEEP_IN_WORDS:
            c = " "
        elif c.isspace() and c != "\n":
            c = " "
        out.append(c)
    return "".join(out)


_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_] ){2,}[^\W\d_](?![^\W\d_])")


@dataclass(frozen=True)
class Normalized:
    """A message normalised for matching.

    Attributes
    ----------
    original : str
        The message as given.
    text : str
        The normalised text.
    starts, ends : tuple of int
        For each character of :attr:`text`, the span of :attr:`original` it comes from.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that normalised characters ``[start, end)`` come from."""
        return self.starts[start], self.ends[end - 1]

    @cached_property
    def token_positions(self) -> tuple[float, ...]:
        """For each character (and one past the end), how many words come before it: a Latin word
        counts 1, a CJK character 0.5 (so distances are comparable across scripts)."""
        out, pos, prev_word = [], 0.0, False
        for ch in self.text:
            out.append(pos)
            if is_cjk(ch):
                pos += 0.5
                prev_word = False
            elif is_word(ch):
                if not prev_word:
                    pos += 1
                prev_word = True
            else:
                prev_word = False
        out.append(pos)
        return tuple(out)

    @cached_property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` of each sentence of :attr:`text`."""
        return _split(self.text, clause=False)

    @cached_property
    def clauses(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` of each clause of :attr:`text` (sentences cut at commas, colons …)."""
        return _split(self.text, clause=True)


def _ends_here(text: str, i: int, clause: bool) -> bool:
    ch = text[i]
    if ch in SENTENCE_ENDS or (clause and ch in CLAUSE_ENDS and not _inside_number(text, i)):
        return True
    if ch == ".":
        nxt = text[i + 1] if i + 1 < len(text) else " "
        return nxt == " " or nxt == "\n" or (ord(nxt) > 0x250 and not nxt.isdigit())
    return False


def _inside_number(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def _split(text: str, clause: bool) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for i in range(len(text)):
        if _ends_here(text, i, clause):
            if i > start:
                out.append((start, i))
            start = i + 1
    if start < len(text):
        out.append((start, len(text)))
    return tuple(out)


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for matching (see the module docstring).

    Parameters
    ----------
    text : str
        The message.

    Returns
    -------
    Normalized
        The normalised text with the map back to ``text``.
    """
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, j in _clusters(text):
        for c in _fold(text[i:j]):
            if c == " " and (not chars or chars[-1] in " \n"):
                continue
            if c == "\n" and chars and chars[-1] == " ":
                chars[-1] = "\n"
                ends[-1] = j
                continue
            if c == "\n" and chars and chars[-1] == "\n":
                continue
            chars.append(c)
            starts.append(i)
            ends.append(j)
    # spaces between two CJK characters go
    keep = [
        not (c == " " and 0 < k < len(chars) - 1 and is_cjk(chars[k - 1]) and is_cjk(chars[k + 1]))
        for k, c in enumerate(chars)
    ]
    s = "".join(c for c, k in zip(chars, keep, strict=True) if k)
    st = [x for x, k in zip(starts, keep, strict=True) if k]
    en = [x for x, k in zip(ends, keep, strict=True) if k]
    # letters spaced out one by one are joined
    for m in reversed(list(_SPACED.finditer(s))):
        drop = {p for p in range(m.start(), m.end()) if s[p] == " "}
        s = s[: m.start()] + s[m.start() : m.end()].replace(" ", "") + s[m.end() :]
        st = (
            st[: m.start()]
            + [x for p, x in enumerate(st[m.start() : m.end()], m.start()) if p not in drop]
            + st[m.end() :]
        )
        en = (
            en[: m.start()]
            + [x for p, x in enumerate(en[m.start() : m.end()], m.start()) if p not in drop]
            + en[m.end() :]
        )
    while s and s[-1] in " \n":
        s, st, en = s[:-1], st[:-1], en[:-1]
    return Normalized(text, s, tuple(st), tuple(en))
