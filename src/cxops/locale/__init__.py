"""Message catalogs: gettext ``.po`` files per language, compiled with Babel, and their tools.

``catalog`` (languages, loading and compiling), ``pofiles`` (the canonical file form), ``tools`` and
``__main__`` (``python -m cxops.locale check | update | coverage``), ``import_toml`` (merging TOML message
tables). The translator the CLI, reports, web and e-mails share is :class:`cxops.report.i18n.Translator`.
This package imports no other cxops layer, so every layer may read the catalogs.
"""

from __future__ import annotations

from cxops.locale.catalog import (
    COMPLETE_LANGUAGES,
    DEFAULT_LANG,
    LANGUAGE_NAMES,
    LANGUAGE_TAGS,
    LANGUAGES,
    LOCALES,
    compiled,
    normalize_lang,
)

__all__ = [
    "COMPLETE_LANGUAGES",
    "DEFAULT_LANG",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LANGUAGE_TAGS",
    "LOCALES",
    "compiled",
    "normalize_lang",
]
