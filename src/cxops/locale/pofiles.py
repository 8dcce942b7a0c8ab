"""Reading, merging and writing the ``.po`` files in one canonical form (the catalog tools' core).

A catalog file is canonical when it is what :func:`write_language` writes: messages sorted by key,
lines not wrapped, a fixed header, and in every language but English an extracted comment (``#.``)
with the English text of the message, so a translator (or a reviewer of a diff) sees what to translate.
Every language's file holds every English key; an untranslated message has an empty ``msgstr`` and
falls back to English. ``python -m cxops.locale check`` fails when a file is not canonical.

Counted messages are written with one form per gettext plural index of the language; converting from a
table of CLDR categories (``one``, ``few``, ``other`` …) goes through :func:`plural_categories`.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from cxops.locale.catalog import DEFAULT_LANG, DOMAIN, LOCALES, normalize_lang, po_resource

#: CLDR plural categories (the keys of a counted message in a TOML table).
CLDR_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
#: The date written in every header, so that rewriting a file changes only what changed.
_FIXED_DATE = datetime(2026, 12, 5, tzinfo=UTC)
_HEADER = """cxops messages — {name}.
Message ids are dotted keys; the English catalog's msgstr is the English text. Edit with any PO editor
or by hand, then run `python -m cxops.locale check` (the README's "Languages" section)."""


#: A message: a template, or one template per gettext plural form of the language.
Text = str | tuple[str, ...]


@dataclass
class LanguageFile:
    """One language's messages, as read from or written to its ``.po`` file.

    Attributes
    ----------
    lang : str
    messages : dict of str to Text
        Key → template (``""`` or a tuple with an empty form: untranslated).
    plural_keys : set of str
        Keys that are counted messages (also when untranslated).
    """

    lang: str
    messages: dict[str, Text] = field(default_factory=dict)
    plural_keys: set[str] = field(default_factory=set)

    def translated(self, key: str) -> bool:
        value = self.messages.get(key)
        if isinstance(value, tuple):
            return all(value)
        return bool(value)


def source_path(lang: str) -> Path:
    """The ``.po`` file of ``lang`` in the source tree (the files the tools rewrite)."""
    return Path(str(po_resource(normalize_lang(lang))))


def num_plurals(lang: str) -> int:
    """Number of gettext plural forms of ``lang`` (Babel's CLDR-derived rule)."""
    return get_plural(LOCALES[normalize_lang(lang)]).num_plurals


def plural_categories(lang: str) -> list[str]:
    """The CLDR plural category of each gettext plural form of ``lang``.

    Each form is matched with the category of the smallest count that gettext's ``Plural-Forms``
    expression sends to it (English: ``["one", "other"]``; French: ``["one", "many", "other"]``;
    Chinese and Japanese: ``["other"]``).
    """
    import gettext

    code = normalize_lang(lang)
    rule = get_plural(LOCALES[code])
    index_of = gettext.c2py(rule.plural_expr)
    locale = Locale.parse(LOCALES[code])
    out: list[str | None] = [None] * rule.num_plurals
    for n in [*range(0, 200), 1_000_000, 2_000_000]:
        i = index_of(n)
        if out[i] is None:
            out[i] = locale.plural_form(n)
    return [c or "other" for c in out]


def forms_from_categories(lang: str, table: Mapping[str, str]) -> tuple[str, ...]:
    """A counted message's forms for ``lang`` from a table of CLDR categories (missing → ``other``)."""
    return tuple(table.get(c, table.get("other", "")) for c in plural_categories(lang))


def read_language(lang: str, path: Path | None = None) -> LanguageFile:
    """Read a language's ``.po`` file (default: its source file)."""
    code = normalize_lang(lang)
    with (path or source_path(code)).open("rb") as fh:
        catalog = read_po(fh, locale=LOCALES[code], domain=DOMAIN)
    out = LanguageFile(code)
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            out.messages[message.id[0]] = tuple(message.string)
            out.plural_keys.add(message.id[0])
        else:
            out.messages[message.id] = message.string
    return out


def placeholders(text: Text) -> set[str]:
    """The ``str.format`` placeholder names of a template (of every form of a counted message)."""
    texts = text if isinstance(text, tuple) else (text,)
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name}


def render_language(data: LanguageFile, english: LanguageFile | None = None) -> str:
    """The canonical ``.po`` text of ``data``; ``english`` supplies the ``#.`` comments and the keys.

    With ``english`` given, the file holds exactly the English keys: a key English lacks is dropped,
    a key the language lacks is added untranslated.
    """
    code = data.lang
    catalog = Catalog(
        locale=LOCALES[code],
        domain=DOMAIN,
        project="cxops",
        version="1",
        header_comment="\n".join("# " + line for line in _HEADER.format(name=_name(code)).splitlines()),
        creation_date=_FIXED_DATE,
        revision_date=_FIXED_DATE,
        msgid_bugs_address="https://github.com/cxops/cxops/issues",
        last_translator="cxops contributors",
        language_team=f"{_name(code)} <https://github.com/cxops>",
        fuzzy=False,
    )
    keys = sorted(english.messages) if english is not None else sorted(data.messages)
    n_forms = num_plurals(code)
    for key in keys:
        plural = key in (english.plural_keys if english is not None else data.plural_keys)
        value = data.messages.get(key)
        comments: list[str] = []
        if english is not None and code != DEFAULT_LANG:
            source = english.messages[key]
            comments = [" | ".join(source)] if isinstance(source, tuple) else [str(source)]
        if plural:
            forms = tuple(value) if isinstance(value, tuple) else ((value,) if value else ())
            forms = (forms + ("",) * n_forms)[:n_forms] if forms else ("",) * n_forms
            catalog.add((key, key), forms, auto_comments=comments)
        else:
            catalog.add(key, value if isinstance(value, str) else "", auto_comments=comments)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, sort_output=True, ignore_obsolete=True)
    text = buffer.getvalue().decode("utf-8")
    # the Babel version is not part of the catalog (a Babel upgrade must not make every file stale)
    return re.sub(r'^"Generated-By: [^"]*"\n', "", text, count=1, flags=re.M)


def _name(code: str) -> str:
    return Locale.parse(LOCALES[code]).get_display_name("en")


def write_language(data: LanguageFile, english: LanguageFile | None = None, path: Path | None = None) -> bool:
    """Write ``data`` in canonical form; returns whether the file changed."""
    target = path or source_path(data.lang)
    text = render_language(data, english)
    if target.exists() and target.read_text("utf-8") == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".po.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(target)  # all or nothing
    return True


def flatten_toml(
    table: Mapping, prefix: str = "", plural_keys: frozenset[str] | set[str] = frozenset()
) -> dict[str, str | dict[str, str]]:
    """Flatten a TOML message table to ``{key: template}``, counted messages as ``{key: {category: …}}``.

    A table whose keys are CLDR categories (``one``/``other`` …) is one counted message; so is a pair
    of keys ``<name>_one`` / ``<name>_other`` in one table (the old catalogs' two spellings), and a
    table of categories at a key of ``plural_keys`` (a language with one form writes only ``other``).
    """
    out: dict[str, str | dict[str, str]] = {}
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            categories = "other" in value and set(value) <= set(CLDR_CATEGORIES)
            if categories and (len(value) >= 2 or full in plural_keys):
                out[full] = {str(c): str(t) for c, t in value.items()}
            else:
                out.update(flatten_toml(value, full + ".", plural_keys))
            continue
        stem, _, category = str(key).rpartition("_")
        if stem and category in CLDR_CATEGORIES and f"{stem}_other" in scalars:
            forms = out.setdefault(f"{prefix}{stem}", {})
            assert isinstance(forms, dict)
            forms[category] = str(value)
        else:
            out[full] = str(value)
    return out


def merge(
    data: LanguageFile, incoming: Mapping[str, str | Mapping[str, str]], *, replace: bool = True
) -> tuple[list[str], list[str]]:
    """Merge flattened TOML messages into a language; returns ``(added, changed)`` keys.

    Parameters
    ----------
    data : LanguageFile
        Changed in place.
    incoming : mapping
        From :func:`flatten_toml`.
    replace : bool, default True
        Overwrite a translated message whose text differs (else keep the ``.po`` text).
    """
    added: list[str] = []
    changed: list[str] = []
    for key, value in incoming.items():
        if isinstance(value, Mapping):
            new: Text = forms_from_categories(data.lang, value)
            data.plural_keys.add(key)
        else:
            new = value
        old = data.messages.get(key)
        if old == new:
            continue
        if not data.translated(key):
            added.append(key)
        elif replace:
            changed.append(key)
        else:
            continue
        data.messages[key] = new
    return added, changed


def untranslated(data: LanguageFile, keys: Iterable[str]) -> list[str]:
    """The keys among ``keys`` that ``data`` does not translate."""
    return sorted(k for k in keys if not data.translated(k))
