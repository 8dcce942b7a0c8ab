"""Language detection, normalisation and word segmentation of buyer comments.

* **Language**: by script first (any kana: Japanese; Han characters without kana: Chinese), else
  ``py3langid`` (its Naive Bayes model ships inside the wheel; nothing is downloaded) restricted to
  :data:`DETECTABLE`. A short text is ambiguous ("Recomendo" is Portuguese or Spanish): when the
  model's probability is below :data:`MIN_CONFIDENCE` the caller's hint (the marketplace's language)
  is taken instead.
* **Latin-script text** is case-folded and accent-folded (NFKD, combining marks dropped), so "Não" and
  "nao" are one word. A second reading replaces every non-ASCII character by a space, which is how
  7,334 Olist reviews were stored ("N o recebi", "p ssima"); patterns are compiled in both readings.
* **Chinese** is segmented with ``jieba`` (a private tokenizer, the keyword phrases added to its
  dictionary so they stay whole); **Japanese** with MeCab (``fugashi`` + ``ipadic``), each word read
  as its base form (壊れて → 壊れる), so inflection does not matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Languages the detector chooses from: the keyword languages plus neighbours that would otherwise be
#: forced into one of them (an Italian comment is "it", which has no keywords, rather than "es").
DETECTABLE: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "it", "nl")
#: Below this probability (normalised over :data:`DETECTABLE`) the hint language is used.
MIN_CONFIDENCE = 0.75
#: The language of a marketplace's buyers, used as the hint (marketplace id -> ISO 639-1).
MARKETPLACE_LANGUAGE: dict[str, str] = {
    "US": "en", "CA": "en", "UK": "en", "AU": "en", "IN": "en", "DE": "de", "FR": "fr", "ES": "es",
    "MX": "es", "IT": "it", "JP": "ja", "BR": "pt", "CN": "zh",
}  # fmt: skip

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(DETECTABLE))
    return ident


def detect(text: str, hint: str | None = None) -> str:
    """The language of ``text`` (ISO 639-1), or ``hint`` when the text is too short to tell
    (:func:`detect_both` without the model's own guess)."""
    return detect_both(text, hint)[0]


def detect_both(text: str, hint: str | None = None) -> tuple[str, str | None]:
    """The language of ``text`` (ISO 639-1), or ``hint`` when the text is too short to tell; and, when
    the hint was taken, the model's own (unsure) guess if it differs, else ``None``.

    Parameters
    ----------
    text : str
        A comment or return reason.
    hint : str, optional
        The language to assume when detection is not confident (e.g. the marketplace's).

    Returns
    -------
    (str, str or None)
        ``"ja"``, ``"zh"``, one of :data:`DETECTABLE`, or ``"und"`` for a text with no letters and no
        hint; and the model's guess the hint replaced.
    """
    if _KANA.search(text):
        return "ja", None
    if _HAN.search(text):
        return "zh", None
    if not any(ch.isalpha() for ch in text):
        return hint or "und", None
    lang, prob = _identifier().classify(text)
    if hint and prob < MIN_CONFIDENCE:
        return hint, (lang if lang != hint else None)
    return lang, None


def fold(text: str) -> str:
    """Case- and accent-folded text: ``"Não É"`` → ``"nao e"`` (``ß`` → ``ss``, ``ñ`` → ``n``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def latin_readings(text: str) -> tuple[list[str], list[str]]:
    """The words of a Latin-script text in its two readings: accent-folded, and with every non-ASCII
    character read as a space (see the module docstring)."""
    folded = _WORD.findall(fold(text))
    cleaned = _ASCII_WORD.findall("".join(ch if ch.isascii() else " " for ch in text.casefold()))
    return folded, cleaned


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    from cxops.advisor.voc.keywords import KEYWORDS

    jieba.setLogLevel(60)  # its "Building prefix dict" lines are not the user's business
    tok = jieba.Tokenizer()
    for patterns in KEYWORDS["zh"].values():
        for p in patterns:
            tok.add_word(p.strip("*"), freq=2_000_000)
    return tok


@lru_cache(maxsize=1)
def _mecab():
    import fugashi
    import ipadic

    return fugashi.GenericTagger(ipadic.MECAB_ARGS)


def words_zh(text: str) -> list[str]:
    """Chinese words of ``text`` (jieba, precise mode); punctuation and spaces dropped."""
    return [w for w in _jieba().lcut(fold(text)) if _WORD.search(w)]


def words_ja(text: str) -> list[str]:
    """Japanese words of ``text`` as base forms (MeCab, IPAdic); punctuation dropped."""
    out = []
    for w in _mecab()(unicodedata.normalize("NFKC", text)):
        base = w.feature[6] if len(w.feature) > 6 and w.feature[6] != "*" else w.surface
        if _WORD.search(base):
            out.append(base.casefold())
    return out


def words(text: str, lang: str) -> list[list[str]]:
    """The readings of ``text`` as word lists, for matching in ``lang``."""
    if lang == "zh":
        return [words_zh(text)]
    if lang == "ja":
        return [words_ja(text)]
    folded, cleaned = latin_readings(text)
    return [folded] if folded == cleaned else [folded, cleaned]


def vocabulary(word_lists: Iterable[list[str]]) -> set[str]:
    """Every distinct word of some word lists."""
    return {w for ws in word_lists for w in ws}
