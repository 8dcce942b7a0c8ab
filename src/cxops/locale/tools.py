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


def import_toml(
    files: list[Path], lang: str | None = None, *, replace: bool = True, base: Path | None = None
) -> list[str]:
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
    base : Path, optional
        A folder with the same files as they were before the changes to import (a branch's starting
        point): only keys added or changed since then are imported, so a key removed from the
        catalogs meanwhile is not brought back.

    Returns
    -------
    list of str
        One line per added (``en + key``) or changed (``en ~ key``) key, and per key the file removed
        since ``base`` (``en - key``: listed, not removed from the catalogs).

    Raises
    ------
    ValueError
        For an unknown language, a file that is not TOML, or a key in a translation that English lacks.
    """
    tables = []
    for f in files:
        base_text = None
        if base is not None and (Path(base) / Path(f).name).exists():
            base_text = (Path(base) / Path(f).name).read_text("utf-8")
        tables.append((normalize_lang(lang or Path(f).stem), str(f), _read(f), base_text))
    return import_tables(tables, replace=replace)


def _read(path: Path) -> str:
    try:
        return Path(path).read_text("utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _parse(name: str, text: str, plural_keys: set[str]) -> dict:
    try:
        return flatten_toml(tomllib.loads(text), plural_keys=plural_keys)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def toml_changes(
    name: str, text: str, base_text: str | None, plural_keys: set[str]
) -> tuple[dict, list[str]]:
    """The messages of a TOML text added or changed since ``base_text``, and the keys it removed.

    Without a base every message counts as added.
    """
    incoming = _parse(name, text, plural_keys)
    if base_text is None:
        return incoming, []
    before = _parse(name + " (base)", base_text, plural_keys)
    changed = {k: v for k, v in incoming.items() if before.get(k) != v}
    return changed, sorted(set(before) - set(incoming))


def import_tables(tables: list[tuple[str, str, str, str | None]], *, replace: bool = True) -> list[str]:
    """Merge TOML texts ``(language, name, text, base text or None)`` into the catalogs.

    See :func:`import_toml`; with a base text only the keys added or changed since it are merged.
    """
    english = _load(DEFAULT_LANG)
    jobs = []
    log: list[str] = []
    for code, name, text, base_text in tables:
        incoming, removed = toml_changes(name, text, base_text, english.plural_keys)
        log += [f"{code} - {k}" for k in removed]
        jobs.append((code != DEFAULT_LANG, code, name, incoming))
    for _, code, name, incoming in sorted(jobs, key=lambda j: j[0]):
        if code == DEFAULT_LANG:
            data = english
        else:
            unknown = sorted(set(incoming) - set(english.messages))
            if unknown:
                raise ValueError(f"{name}: keys not in the English catalog: {', '.join(unknown)}")
            data = _load(code)
        added, changed = merge(data, incoming, replace=replace)
        log += [f"{code} + {k}" for k in added] + [f"{code} ~ {k}" for k in changed]
        if code == DEFAULT_LANG and changed:  # the other languages still hold the old text's translation
            log += [f"   review the translations of {k} (its English text changed)" for k in changed]
        if code != DEFAULT_LANG:
            write_language(data, english)
    write_language(english)
    update()
    return log


#: Where the TOML catalogs lived before the gettext catalogs.
TOML_CATALOGS = "src/cxops/report/catalogs"


def import_git(
    branch: str, base: str | None = None, repo: Path = Path("."), *, replace: bool = True
) -> list[str]:
    """Import the TOML catalog changes of a git branch written against the old catalogs.

    Parameters
    ----------
    branch : str
        The branch (or commit) whose ``src/cxops/report/catalogs/<lang>.toml`` hold the new keys.
    base : str, optional
        The commit the branch's changes are measured from; default ``git merge-base HEAD branch``
        (run it before merging the branch, on a checkout whose catalogs are the ``.po`` files).
    repo : Path
        The repository.

    Returns
    -------
    list of str
        As :func:`import_toml`.

    Raises
    ------
    ValueError
        If git fails, or the branch has no TOML catalogs.
    """
    import subprocess

    def git(*args: str) -> str:
        res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        if res.returncode != 0:
            raise ValueError(f"git {' '.join(args)}: {res.stderr.strip()}")
        return res.stdout

    start = base or git("merge-base", "HEAD", branch).strip()
    names = [
        n for n in git("ls-tree", "--name-only", f"{branch}:{TOML_CATALOGS}").split() if n.endswith(".toml")
    ]
    if not names:
        raise ValueError(f"{branch} has no TOML catalogs under {TOML_CATALOGS}")
    tables = []
    for name in names:
        path = f"{TOML_CATALOGS}/{name}"
        try:
            before = git("show", f"{start}:{path}")
        except ValueError:
            before = None  # a file the branch added
        tables.append(
            (normalize_lang(Path(name).stem), f"{branch}:{path}", git("show", f"{branch}:{path}"), before)
        )
    return import_tables(tables, replace=replace)
