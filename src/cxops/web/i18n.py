"""The web's one adapter to the message catalogs, and the choice of language per request.

Every text of a page is a catalog key (``web.*`` and the shared ``state.*``, ``benefit.*``,
``reason.*`` …) looked up through :func:`translator` (the shared
:class:`cxops.report.i18n.Translator` over the gettext catalogs of :mod:`cxops.locale`). The
language is, in order: ``?lang=`` (the switch in the page header, remembered
in a cookie), the cookie, the user's stored preference, the browser's ``Accept-Language``, English.
Dates and numbers are formatted for the language with Babel.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any

from babel.core import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

from cxops.locale.catalog import LANGUAGE_NAMES, LANGUAGE_TAGS, LOCALES
from cxops.report.i18n import SUPPORTED_LANGS, Translator, get_translator, normalize_lang

#: Cookie that remembers the language picked in the page header.
LANG_COOKIE = "cxops_lang"
__all__ = [
    "LANGUAGE_NAMES",
    "LANGUAGE_TAGS",
    "LANG_COOKIE",
    "LOCALES",
    "format_day",
    "format_instant",
    "format_int",
    "from_accept_language",
    "pick_language",
    "supported",
    "translator",
]


def translator(lang: str) -> Translator:
    """The translator of a supported language (the one call the web makes into the catalogs)."""
    return get_translator(lang)


def supported(lang: str | None) -> str | None:
    """``lang`` as a supported code, or ``None``."""
    if not lang:
        return None
    try:
        return normalize_lang(lang)
    except ValueError:
        base = lang.split("-")[0].split("_")[0]
        try:
            return normalize_lang(base) if base != lang else None
        except ValueError:
            return None


def from_accept_language(header: str | None) -> str | None:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 §12.5.4), or ``None``."""
    if not header:
        return None
    choices = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            choices.append((-q, i, tag.strip()))
    for _, _, tag in sorted(choices):
        code = supported(tag)
        if code:
            return code
    return None


def pick_language(
    query: str | None, cookie: str | None, preference: str | None, accept_language: str | None
) -> str:
    """The language of a response (see the module docstring for the order)."""
    for candidate in (query, cookie, preference):
        code = supported(candidate)
        if code:
            return code
    return from_accept_language(accept_language) or SUPPORTED_LANGS[0]


@cache
def _locale(lang: str) -> Locale:
    """The Babel locale of a supported language, parsed once per process (parsing it on every call
    was a third of a console page's formatting time)."""
    return Locale.parse(LOCALES[lang])


@lru_cache(maxsize=16_384)
def format_day(value: date | None, lang: str) -> str:
    """A calendar day in the language's medium format (``Dec 4, 2026``, ``2026年12月4日``); ``—``: none.
    (Cached: a list shows the same few hundred days again and again.)"""
    if value is None:
        return "—"
    return _babel_date(value, format="medium", locale=_locale(lang))


def format_instant(value: datetime | None, lang: str) -> str:
    """A UTC instant in the language's medium format, in UTC (marked ``UTC``); ``—`` for none."""
    if value is None:
        return "—"
    return _babel_datetime(value, format="medium", tzinfo=UTC, locale=_locale(lang)) + " UTC"


def format_int(value: Any, lang: str) -> str:
    """A whole number with the language's grouping; ``—`` for none."""
    if value is None:
        return "—"
    return format_decimal(int(value), locale=_locale(lang))
