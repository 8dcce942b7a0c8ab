"""Message catalogs and translation for reports (English and Simplified Chinese).

Catalogs live in ``report/catalogs/<lang>.toml`` as nested TOML tables; they are flattened to dotted
keys (``metric.order_defect_rate``, ``reason.warning_breach``, ``ui.title`` …). Templates use
``str.format`` placeholders (``{threshold}``).

Lookup order: the requested language, then English. A key found only in English is a *missing key*:
it is logged once and recorded in :func:`missing_keys`. A key found in no catalog renders as the key
followed by its parameters (``some_key (rule=R1)``) so that nothing is hidden. A placeholder without a
parameter is left as ``{name}``.
"""

from __future__ import annotations

import json
import logging
import string
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_LANG = "en"
SUPPORTED_LANGS: tuple[str, ...] = ("en", "zh")

_ALIASES = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "english": "en",
    "zh": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-hans-cn": "zh",
    "zh-sg": "zh",
    "cn": "zh",
    "chinese": "zh",
}

_MISSING: set[tuple[str, str]] = set()


def normalize_lang(lang: str | None) -> str:
    """Map a language tag to a supported catalog code.

    Parameters
    ----------
    lang : str or None
        ``en``, ``zh`` or a common alias (``zh-CN``, ``zh_Hans``, ``en-US`` …); ``None`` → ``en``.

    Returns
    -------
    str
        ``"en"`` or ``"zh"``.

    Raises
    ------
    ValueError
        For an unsupported language (the message lists the supported ones).
    """
    if lang is None:
        return DEFAULT_LANG
    code = _ALIASES.get(str(lang).strip().lower().replace("_", "-"))
    if code is None:
        raise ValueError(f"unsupported language {lang!r}; supported: {', '.join(SUPPORTED_LANGS)}")
    return code


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


@cache
def load_catalog(lang: str) -> dict[str, str]:
    """Load one catalog as a flat ``{dotted key: template}`` dict.

    Parameters
    ----------
    lang : str
        A supported language code or alias.

    Returns
    -------
    dict
        Flattened catalog (cached; do not mutate).
    """
    code = normalize_lang(lang)
    text = resources.files("cxops.report").joinpath("catalogs", f"{code}.toml").read_text("utf-8")
    return _flatten(tomllib.loads(text))


def catalog_keys(lang: str) -> set[str]:
    """All dotted keys of the catalog for ``lang``."""
    return set(load_catalog(lang))


def missing_keys() -> set[tuple[str, str]]:
    """``(lang, key)`` pairs looked up so far that fell back to English or to the raw key."""
    return set(_MISSING)


def _report_missing(lang: str, key: str) -> None:
    if (lang, key) not in _MISSING:
        _MISSING.add((lang, key))
        log.warning("message key %r missing from the %r catalog", key, lang)


class _SafeFormatter(string.Formatter):
    """``str.format`` that leaves unknown placeholders in place instead of raising."""

    def get_value(self, key, args, kwargs):  # noqa: D102
        if isinstance(key, str):
            if key in kwargs:
                return kwargs[key]
            return _Placeholder(key)
        return super().get_value(key, args, kwargs)

    def format_field(self, value, format_spec):  # noqa: D102
        if isinstance(value, _Placeholder):
            return str(value)
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


class _Placeholder:
    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return "{" + self.name + "}"


_FORMATTER = _SafeFormatter()


def render_unknown(key: str, params: Mapping[str, Any]) -> str:
    """Render a key that no catalog knows: the key, then its parameters in parentheses."""
    if not params:
        return key
    inner = ", ".join(f"{k}={_plain(v)}" for k, v in params.items())
    return f"{key} ({inner})"


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        try:
            return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class Translator:
    """Translate catalog keys for one language.

    Parameters
    ----------
    lang : str, default "en"
        ``en`` or ``zh`` (aliases accepted, see :func:`normalize_lang`).

    Attributes
    ----------
    lang : str
        The normalised language code.
    missing : set of str
        Keys this translator could not find in ``lang`` (fell back to English or rendered raw).

    Examples
    --------
    >>> t = Translator("zh")
    >>> t("state.enrolled")
    '已入选'
    """

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = normalize_lang(lang)
        self._cat = load_catalog(self.lang)
        self._en = load_catalog(DEFAULT_LANG)
        self.missing: set[str] = set()

    def has(self, key: str) -> bool:
        """Whether ``key`` exists in this language's catalog."""
        return key in self._cat

    def template(self, key: str) -> str | None:
        """The raw template for ``key`` (falling back to English, reporting a miss), or ``None``."""
        if key in self._cat:
            return self._cat[key]
        self.missing.add(key)
        _report_missing(self.lang, key)
        return self._en.get(key)

    def __call__(self, key: str, /, **params: Any) -> str:
        """Render ``key`` with ``params``; see the module docstring for fallbacks."""
        template = self.template(key)
        if template is None:
            return render_unknown(key, params)
        return format_template(template, **params)

    def maybe(self, key: str, default: str | None = None, /, **params: Any) -> str | None:
        """Render ``key`` if this language or English has it, else ``default``; never reports a miss.

        Use for open vocabularies (defect kinds, benefit names) where a raw value is a fine fallback.
        """
        template = self._cat.get(key, self._en.get(key))
        if template is None:
            return default
        return format_template(template, **params)

    # Convenience names for closed vocabularies -------------------------------------------------
    def _vocab(self, group: str, name: Any) -> str:
        if name is None or (isinstance(name, float) and name != name):
            return "—"
        text = self.maybe(f"{group}.{name}")
        return text if text is not None else str(name)

    def metric(self, name: Any) -> str:
        """Display name of a metric (raw name if unknown)."""
        return self._vocab("metric", name)

    def metric_short(self, name: Any) -> str:
        """Short name (abbreviation) of a metric, falling back to the display name."""
        text = self.maybe(f"metric_short.{name}")
        return text if text is not None else self.metric(name)

    def state(self, name: Any) -> str:
        """Display name of a lifecycle state."""
        return self._vocab("state", name)

    def section(self, name: Any) -> str:
        """Display name of a policy section (eligibility/admission/removal)."""
        return self._vocab("section", name)

    def result(self, name: Any) -> str:
        """Display name of a criterion result."""
        return self._vocab("result", name)

    def status(self, name: Any) -> str:
        """Display name of a metric status (ok/no_data/not_measured)."""
        return self._vocab("status", name)

    def channel(self, name: Any) -> str:
        """Display name of a fulfilment channel (all/mfn/afn)."""
        return self._vocab("channel", name)

    def operator(self, op: Any) -> str:
        """Operator in words (``less than`` …)."""
        return self._vocab("operator", OPERATOR_KEYS.get(str(op), op))

    def kind(self, name: Any) -> str:
        """Display name of a defect kind (raw name with underscores as spaces if unknown)."""
        text = self.maybe(f"kind.{name}")
        return text if text is not None else str(name).replace("_", " ")

    def benefit(self, name: Any) -> str:
        """Display name of a benefit (raw name if unknown)."""
        return self._vocab("benefit", name)

    def join(self, items: Iterable[Any]) -> str:
        """Join list items with the language's list separator."""
        return self("ui.list_separator").join(str(i) for i in items)


#: Operator symbol → catalog key under ``operator.`` (and its display symbol).
OPERATOR_KEYS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
OPERATOR_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


def format_template(template: str, /, **params: Any) -> str:
    """``template.format(**params)`` that leaves missing placeholders as ``{name}``."""
    if "{" not in template:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return _FORMATTER.vformat(template, (), params)


@lru_cache(maxsize=8)
def get_translator(lang: str = DEFAULT_LANG) -> Translator:
    """A shared :class:`Translator` per language."""
    return Translator(lang)


def t(key: str, /, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Translate ``key`` into ``lang`` with ``params``.

    Parameters
    ----------
    key : str
        Dotted catalog key, e.g. ``"state.enrolled"``.
    lang : str, default "en"
    **params
        Values for the template's placeholders.

    Returns
    -------
    str
    """
    return get_translator(lang)(key, **params)


def parse_params(params: Any) -> dict[str, Any]:
    """Reason parameters as a dict, from a dict, a JSON string, ``None`` or NaN."""
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return dict(params)
    if isinstance(params, float) and params != params:
        return {}
    if isinstance(params, bytes):
        params = params.decode("utf-8")
    if isinstance(params, str):
        text = params.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return {"detail": text}
        return dict(value) if isinstance(value, Mapping) else {"detail": value}
    return {"detail": params}
