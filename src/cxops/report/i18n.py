"""The one translator of cxops: catalog keys to text, plural forms and locale formatting.

The CLI, the HTML report, the web pages and the e-mails all translate through :class:`Translator`
(``get_translator(lang)``). The texts are the gettext catalogs of :mod:`cxops.locale`
(``cxops/locale/<lang>/LC_MESSAGES/cxops.po``, compiled with Babel); message ids are dotted keys
(``metric.order_defect_rate``, ``reason.warning_breach``, ``ui.title`` …). Templates use ``str.format``
placeholders (``{threshold}``). A counted message is a gettext plural entry, rendered with
:meth:`Translator.plural` (the language's gettext plural rule picks the form). Numbers and dates are
formatted for the language's locale with Babel (:meth:`Translator.number`, :meth:`Translator.day`).

Lookup order: the requested language, then English (gettext's fallback). A key found only in English
is a *missing key*: it is logged once and recorded in :func:`missing_keys` (English and Chinese are
complete — a test holds them so; German, French and Japanese fall back by design). A key found in no
catalog renders as the key followed by its parameters (``some_key (rule=R1)``) so that nothing is
hidden. A placeholder without a parameter is left as ``{name}``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import string
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

from cxops.locale.catalog import DEFAULT_LANG, LANGUAGE_NAMES, LANGUAGES, LOCALES, compiled
from cxops.locale.catalog import normalize_lang as _normalize

log = logging.getLogger(__name__)

#: Every catalog language (English and Chinese complete; German, French, Japanese fall back to English).
SUPPORTED_LANGS: tuple[str, ...] = LANGUAGES

__all__ = [
    "DEFAULT_LANG",
    "LANGUAGE_NAMES",
    "LOCALES",
    "SUPPORTED_LANGS",
    "Translator",
    "catalog_keys",
    "get_translator",
    "load_catalog",
    "missing_keys",
    "normalize_lang",
    "t",
]

_MISSING: set[tuple[str, str]] = set()


def normalize_lang(lang: str | None) -> str:
    """Map a language tag to a catalog language (:func:`cxops.locale.catalog.normalize_lang`).

    Parameters
    ----------
    lang : str or None
        ``en``, ``zh``, ``de``, ``fr``, ``ja`` or a tag/alias (``zh-CN``, ``zh_Hans``, ``de-AT`` …);
        ``None`` → ``en``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unsupported language (the message lists the supported ones).
    """
    return _normalize(lang)


def load_catalog(lang: str) -> dict[str, str]:
    """The messages ``lang`` translates, as ``{key: template}`` (no English fallback).

    A counted message appears with its last gettext form (English and German: the plural; Chinese
    and Japanese: the only form); :meth:`Translator.plural` renders every form.
    """
    c = compiled(normalize_lang(lang))
    return {**c.singular, **{k: forms[-1] for k, forms in c.plural.items()}}


def catalog_keys(lang: str) -> set[str]:
    """All keys the catalog of ``lang`` translates."""
    return compiled(normalize_lang(lang)).keys()


def missing_keys() -> set[tuple[str, str]]:
    """``(lang, key)`` pairs looked up so far that fell back to English or to the raw key."""
    return set(_MISSING)


def _report_missing(lang: str, key: str) -> None:
    if (lang, key) not in _MISSING:
        _MISSING.add((lang, key))
        if lang in ("en", "zh"):
            log.warning("message key %r missing from the %r catalog", key, lang)
        else:
            log.debug("message key %r not translated into %r; English shown", key, lang)


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
    """Translate catalog keys for one language and format numbers and dates for its locale.

    Parameters
    ----------
    lang : str, default "en"
        A catalog language (aliases accepted, see :func:`normalize_lang`).

    Attributes
    ----------
    lang : str
        The normalised language code.
    locale : babel.Locale
        The language's CLDR locale (number symbols, date patterns, plural rules).
    missing : set of str
        Keys this translator could not find in ``lang`` (fell back to English or rendered raw).

    Examples
    --------
    >>> t = Translator("zh")
    >>> t("state.enrolled")
    '已入选'
    >>> Translator("de").plural("reconcile.count.order", 1500)
    '1.500 Bestellungen'
    """

    def __init__(self, lang: str = DEFAULT_LANG):
        self.lang = normalize_lang(lang)
        self.locale = Locale.parse(LOCALES[self.lang])
        self._c = compiled(self.lang)
        self._en = compiled(DEFAULT_LANG)
        self.missing: set[str] = set()

    def has(self, key: str) -> bool:
        """Whether ``key`` is translated in this language (single or counted message)."""
        return key in self._c.singular or key in self._c.plural

    def _miss(self, key: str) -> None:
        self.missing.add(key)
        _report_missing(self.lang, key)

    def template(self, key: str) -> str | None:
        """The raw template for ``key`` (falling back to English, reporting a miss), or ``None``.

        For a counted message: its general (last) form.
        """
        if key in self._c.singular:
            return self._c.singular[key]
        if key in self._c.plural:
            return self._c.plural[key][-1]
        self._miss(key)
        if key in self._en.plural:
            return self._en.plural[key][-1]
        return self._en.singular.get(key)

    def __call__(self, key: str, /, **params: Any) -> str:
        """Render ``key`` with ``params``; see the module docstring for fallbacks."""
        template = self.template(key)
        if template is None:
            return render_unknown(key, params)
        return format_template(template, **params)

    def plural(self, key: str, count: Any, /, **params: Any) -> str:
        """Render the counted message ``key`` in the form gettext's plural rule gives ``count``.

        Parameters
        ----------
        key : str
            A counted message (a ``msgid_plural`` entry), e.g. ``"reconcile.count.order"``.
        count : int
            Selects the form (its absolute value, rounded).
        **params
            Placeholder values; ``n`` defaults to ``count`` with the locale's grouping (``1,500``,
            ``1.500``, ``1 500``).

        Returns
        -------
        str
            The raw key with its parameters if no catalog has ``key``.
        """
        n = abs(int(round(float(count))))
        params.setdefault("n", self.number(n))
        if key in self._c.plural:
            return format_template(self._c.translations.ngettext(key, key, n), **params)
        self._miss(key)
        if key in self._en.plural:
            return format_template(self._en.translations.ngettext(key, key, n), **params)
        if key in self._c.singular or key in self._en.singular:
            return self(key, **params)
        return render_unknown(key, params)

    def knows(self, key: str) -> bool:
        """Whether this language or English has ``key`` (single or counted)."""
        return self.has(key) or key in self._en.singular or key in self._en.plural

    def maybe(self, key: str, default: str | None = None, /, **params: Any) -> str | None:
        """Render ``key`` if this language or English has it, else ``default``; never reports a miss.

        Use for open vocabularies (defect kinds, benefit names) where a raw value is a fine fallback.
        """
        template = self._c.singular.get(key, self._en.singular.get(key))
        if template is None:
            return default
        return format_template(template, **params)

    # Numbers and dates in this language's locale (Babel) -----------------------------------------
    def number(self, value: Any, decimals: int = 0) -> str:
        """A number rounded half up to ``decimals`` places with the locale's grouping and decimal sign.

        ``1234.5`` → ``1,234.5`` (en, zh, ja), ``1.234,5`` (de), ``1 234,5`` (fr, narrow no-break
        space); ``"—"`` for a null or non-numeric value.
        """
        return format_decimal_text(value, decimals, self.lang)

    def day(self, value: dt.date | None, format: str = "medium") -> str:
        """A calendar day in the locale's ``format`` (``Dec 4, 2026``, ``2026年12月4日``, ``04.12.2026``)."""
        if value is None:
            return "—"
        return _babel_date(value, format=format, locale=self.locale)

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
        parts = str(name).split()
        if len(parts) > 1:  # an order with several defects: "negative_feedback a_to_z_claim"
            return self.join(self.kind(p) for p in parts)
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


def format_decimal_text(value: Any, decimals: int, lang: str = DEFAULT_LANG) -> str:
    """``value`` rounded half up to ``decimals`` places, grouped for the locale of ``lang`` (``—``: null).

    English, Chinese and Japanese share the ``1,234.5`` symbols and take a fast path; German and French
    are formatted by Babel from the already-rounded decimal, so every language shows the same digits.
    """
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return "—" if value is None else str(value)
    if not d.is_finite():
        return "—" if d.is_nan() else str(value)
    out = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if out == 0:
        out = abs(out)
    if lang in ("en", "zh", "ja"):
        return f"{out:,.{decimals}f}"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(out, format=pattern, locale=LOCALES[lang], decimal_quantization=False)


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
