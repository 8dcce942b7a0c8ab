"""The catalog checks and maintenance behind ``python -m cxops.locale`` (``check``, ``update``,
``coverage``) and ``python -m cxops.locale.import_toml``.

- ``check``: every ``.po`` file parses, is canonical (:mod:`cxops.locale.pofiles`), holds exactly the
  English keys; English and Chinese translate every key; every translation has the English
  placeholders. Exit status 1 with one line per problem.
- ``update``: rewrite every file canonically with the English keys (new keys appear untranslated in
  the other languages, keys removed from English disappear everywhere).
- ``coverage``: translated messages per language.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from cxops.locale.catalog import COMPLETE_LANGUAGES, DEFAULT_LANG, LANGUAGES, normalize_lang
from cxops.locale.pofiles import (
    LanguageFile,
    flatten_toml,
    merge,
    placeholders,
    read_language,
    render_language,
    source_path,
    untranslated,
    write_language,
)


@dataclass(frozen=True)
class Coverage:
    """Translated messages of one language."""

    lang: str
    translated: int
    total: int
    missing: tuple[str, ...]

    @property
    def fraction(self) -> float:
        """Translated share, 0–1."""
        return self.translated / self.total if self.total else 1.0


def _load(lang: str) -> LanguageFile:
    path = source_path(lang)
    return read_language(lang) if path.exists() else LanguageFile(lang)


def coverage() -> list[Coverage]:
    """Coverage of every language against the English keys."""
    english = _load(DEFAULT_LANG)
    out = []
    for lang in LANGUAGES:
        data = english if lang == DEFAULT_LANG else _load(lang)
        missing = untranslated(data, english.messages)
        out.append(
            Coverage(lang, len(english.messages) - len(missing), len(english.messages), tuple(missing))
        )
    return out


def check() -> list[str]:
    """Every problem of the catalogs, one sentence each (empty: all good)."""
    problems: list[str] = []
    english = _load(DEFAULT_LANG)
    for lang in LANGUAGES:
        path = source_path(lang)
        if not path.exists():
            problems.append(f"{path}: missing (run `python -m cxops.locale update`)")
            continue
        data = english if lang == DEFAULT_LANG else read_language(lang)
        extra = sorted(set(data.messages) - set(english.messages))
        absent = sorted(set(english.messages) - set(data.messages))
        if extra:
            problems.append(f"{path}: keys not in English: {', '.join(extra)}")
        if absent:
            problems.append(f"{path}: English keys absent: {', '.join(absent)}")
        if render_language(data, None if lang == DEFAULT_LANG else english) != path.read_text("utf-8"):
            problems.append(f"{path}: not in canonical form (run `python -m cxops.locale update`)")
        if lang in COMPLETE_LANGUAGES:
            for key in untranslated(data, english.messages):
                problems.append(f"{path}: {key} is not translated ({lang} must be complete)")
        for key, text in data.messages.items():
            if key not in english.messages or not data.translated(key):
                continue
            if (key in english.plural_keys) != (key in data.plural_keys):
                problems.append(f"{path}: {key} is counted in one language and not in the other")
            elif placeholders(text) != placeholders(english.messages[key]):
                problems.append(
                    f"{path}: {key} has placeholders {sorted(placeholders(text))}, "
                    f"English {sorted(placeholders(english.messages[key]))}"
                )
    return problems


def update() -> list[Path]:
    """Rewrite every catalog canonically with the English keys; returns the files that changed."""
    english = _load(DEFAULT_LANG)
    changed = []
    for lang in LANGUAGES:
        data = english if lang == DEFAULT_LANG else _load(lang)
        if write_language(data, None if lang == DEFAULT_LANG else english):
            changed.append(source_path(lang))
    return changed


def import_toml(files: list[Path], lang: str | None = None, *, replace: bool = True) -> list[str]:
    """Merge TOML message files (the old ``report/catalogs/<lang>.toml`` layout) into the ``.po`` files.

    Parameters
    ----------
    files : list of Path
        TOML files of nested tables; the language is the file's stem (``en.toml``) unless ``lang``.
        English files are merged first, so a new key exists in English before its translations.
    lang : str, optional
        The language of every file.
    replace : bool, default True
        Overwrite translations that differ (else only add untranslated keys).

    Returns
    -------
    list of str
        One line per added or changed key (``en + mail.alert.new_kind``).

    Raises
    ------
    ValueError
        For an unknown language, a file that is not TOML, or a key in a translation that English lacks.
    """
    jobs = []
    english = _load(DEFAULT_LANG)
    for f in files:
        code = normalize_lang(lang or Path(f).stem)
        try:
            table = tomllib.loads(Path(f).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{f}: {exc}") from exc
        jobs.append((code != DEFAULT_LANG, code, f, flatten_toml(table, plural_keys=english.plural_keys)))
    log: list[str] = []
    for _, code, f, incoming in sorted(jobs, key=lambda j: j[0]):
        if code == DEFAULT_LANG:
            data = english
        else:
            unknown = sorted(set(incoming) - set(english.messages))
            if unknown:
                raise ValueError(f"{f}: keys not in the English catalog: {', '.join(unknown)}")
            data = _load(code)
        added, changed = merge(data, incoming, replace=replace)
        log += [f"{code} + {k}" for k in added] + [f"{code} ~ {k}" for k in changed]
        if code != DEFAULT_LANG:
            write_language(data, english)
    write_language(english)
    update()
    return log
