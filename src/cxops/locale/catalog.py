"""The gettext message catalogs of cxops: one ``.po`` file per language, compiled with Babel.

Every text cxops shows a person — the CLI, the HTML report, the web pages and the e-mails — is a
message of ``cxops/locale/<lang>/LC_MESSAGES/cxops.po``. The message ids are dotted keys
(``metric.order_defect_rate``, ``mail.invitation.subject``); the English catalog holds the English
text as the translation of each key, so no text lives in code. A message with counted forms is a
gettext plural entry (``msgid_plural`` equal to the key) whose forms follow the language's gettext
plural rule (Babel's CLDR data: English and German two forms, French three, Chinese and Japanese one).

The ``.po`` files are the single source. They are compiled with Babel (:func:`babel.messages.mofile.
write_mo`) in memory the first time a language is used in a process and read by the standard library's
:class:`gettext.GNUTranslations`, so an editable install or a fresh checkout needs no build step and a
compiled file can never be stale. Compiling all five catalogs takes about a tenth of a second.

English and Chinese are complete (a test fails on a key missing from either). German, French and
Japanese fall back to English for an untranslated message (an empty ``msgstr``), through gettext's own
fallback chain.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: The gettext domain (file name of every catalog).
DOMAIN = "cxops"
#: The language every other one falls back to.
DEFAULT_LANG = "en"
#: Every catalog language, in the order the web's language switch lists them.
LANGUAGES: tuple[str, ...] = ("en", "zh", "de", "fr", "ja")
#: Languages whose catalogs must hold every key (a test enforces it); the others fall back to English.
COMPLETE_LANGUAGES: tuple[str, ...] = ("en", "zh")
#: The Babel (CLDR) locale of each catalog language: number, date and plural rules.
LOCALES: dict[str, str] = {"en": "en", "zh": "zh_Hans_CN", "de": "de", "fr": "fr", "ja": "ja"}
#: The BCP 47 tag of each catalog language (HTML ``lang``, e-mail ``Content-Language``).
LANGUAGE_TAGS: dict[str, str] = {"en": "en", "zh": "zh-Hans", "de": "de", "fr": "fr", "ja": "ja"}
#: Each language's name in itself (the web's language switch, the CLI's ``--lang`` help).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "zh": "中文",
    "de": "Deutsch",
    "fr": "Français",
    "ja": "日本語",
}

_ALIASES = {
    "english": "en",
    "cn": "zh",
    "chinese": "zh",
    "zh-hans": "zh",
    "zh-cn": "zh",
    "zh-sg": "zh",
    "zh-hans-cn": "zh",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "japanese": "ja",
    "jp": "ja",
}
#: Region variants that keep their language (``de-AT`` is German); Traditional Chinese is not ``zh``.
_NOT_SIMPLIFIED = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def normalize_lang(lang: str | None) -> str:
    """Map a language tag to a catalog language.

    Parameters
    ----------
    lang : str or None
        A catalog language (``en``, ``zh``, ``de``, ``fr``, ``ja``), a BCP 47 tag with a region or
        script (``zh-CN``, ``zh_Hans``, ``en-US``, ``de-AT``, ``fr-CA``, ``ja-JP``) or an English name
        (``chinese``); ``None`` → ``en``.

    Returns
    -------
    str
        One of :data:`LANGUAGES`.

    Raises
    ------
    ValueError
        For an unsupported language (the message lists the supported ones). Traditional Chinese
        (``zh-TW``, ``zh-Hant``) is not the Simplified Chinese catalog and is refused.
    """
    if lang is None:
        return DEFAULT_LANG
    tag = str(lang).strip().lower().replace("_", "-")
    if tag in LANGUAGES:
        return tag
    if tag in _ALIASES:
        return _ALIASES[tag]
    base = tag.split("-")[0]
    if base in LANGUAGES and not tag.startswith(_NOT_SIMPLIFIED):
        return base
    raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(LANGUAGES)}")


def po_resource(lang: str):
    """The packaged ``.po`` file of ``lang`` (an :mod:`importlib.resources` traversable)."""
    return resources.files("cxops.locale").joinpath(lang, "LC_MESSAGES", f"{DOMAIN}.po")


@dataclass(frozen=True)
class Compiled:
    """One language's catalog, compiled.

    Attributes
    ----------
    lang : str
    translations : gettext.GNUTranslations
        The compiled catalog (for the complete languages: alone; for the others: with the English
        catalog as its gettext fallback).
    singular : dict of str to str
        Translated single-form messages, key → template.
    plural : dict of str to tuple of str
        Translated counted messages, key → one template per gettext plural form.
    plural_forms : str
        The catalog's ``Plural-Forms`` header.
    """

    lang: str
    translations: gettext.GNUTranslations
    singular: dict[str, str]
    plural: dict[str, tuple[str, ...]]
    plural_forms: str

    def keys(self) -> set[str]:
        """Every translated key (single and counted)."""
        return set(self.singular) | set(self.plural)


def read_catalog(lang: str) -> Catalog:
    """The Babel :class:`~babel.messages.catalog.Catalog` of ``lang``, read from its ``.po`` file."""
    code = normalize_lang(lang)
    with po_resource(code).open("rb") as fh:
        return read_po(fh, locale=LOCALES[code], domain=DOMAIN)


@cache
def compiled(lang: str) -> Compiled:
    """Compile the catalog of ``lang`` with Babel and load it with :mod:`gettext` (cached per process).

    Parameters
    ----------
    lang : str
        A catalog language or alias (:func:`normalize_lang`).

    Returns
    -------
    Compiled
        Untranslated messages (empty ``msgstr``) are not in it; lookups fall back to English.
    """
    code = normalize_lang(lang)
    return compile_catalog(code, read_catalog(code))


def compile_catalog(code: str, catalog: Catalog) -> Compiled:
    """Compile a Babel catalog of language ``code`` (:func:`compiled` does it for the packaged files)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translations = gettext.GNUTranslations(buffer)
    if code != DEFAULT_LANG:
        translations.add_fallback(compiled(DEFAULT_LANG).translations)
    singular: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if message.pluralizable:
            forms = tuple(message.string)
            if all(forms):
                plural[message.id[0]] = forms
        elif message.string:
            singular[message.id] = message.string
    return Compiled(code, translations, singular, plural, catalog.plural_forms)
