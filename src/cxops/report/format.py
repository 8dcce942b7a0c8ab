"""Display formatting: metric values, thresholds, counts, dates, gap sentences and reasons.

Rounding is for display only (half-up on the decimal representation); computations never see these
strings. Rates are fractions and display as percent with two decimals (``0.0045`` → ``0.45%``),
counts as integers with thousands separators, hours and the 0–100 index with one decimal. A null
value displays as ``—`` followed by its status word when known (``— (no data)``).
"""

from __future__ import annotations

import datetime as dt
import math
import string
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from cxops.metrics.catalog import CATALOG
from cxops.metrics.catalog import DEFECT_METRICS as CATALOG_DEFECT_METRICS
from cxops.report.i18n import (
    OPERATOR_SYMBOLS,
    Translator,
    format_decimal_text,
    get_translator,
    normalize_lang,
    parse_params,
    render_unknown,
)

NULL = "—"

#: Display kind of every catalog metric (from :data:`cxops.metrics.catalog.CATALOG`).
METRIC_KINDS: dict[str, str] = {name: m.kind for name, m in CATALOG.items()}

#: Metrics where a higher value is better (their numerator counts good units; from the catalog).
HIGHER_IS_BETTER: frozenset[str] = frozenset(name for name, m in CATALOG.items() if m.higher_is_better)

#: Metrics whose numerator counts defective records listed by ``explain`` (from the catalog).
DEFECT_METRICS: tuple[str, ...] = CATALOG_DEFECT_METRICS


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def is_null(value: Any) -> bool:
    """Whether a scalar is null: None, NaN, ``pd.NA`` or ``NaT``."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, str | int | dt.date):
        return False
    try:
        out = pd.isna(value)
        return bool(out) if not hasattr(out, "shape") or out.shape == () else False
    except (TypeError, ValueError):
        return False


_isnull = is_null


def metric_kind(metric: Any) -> str:
    """Display kind of a metric: ``rate``, ``count``, ``hours``, ``index``, ``days`` or ``number``.

    Unknown metrics are classified by suffix (``*_rate`` → rate, ``*_hours`` → hours, ``*_days`` →
    days, ``*_count``/``*_index`` accordingly), else ``number``.
    """
    name = "" if _isnull(metric) else str(metric)
    if name in METRIC_KINDS:
        return METRIC_KINDS[name]
    for suffix, kind in (
        ("_rate", "rate"),
        ("_hours", "hours"),
        ("_days", "days"),
        ("_count", "count"),
        ("_index", "index"),
    ):
        if name.endswith(suffix):
            return kind
    return "number"


def higher_is_better(metric: Any) -> bool:
    """Whether a higher value of ``metric`` is better (its numerator counts good units)."""
    return str(metric) in HIGHER_IS_BETTER


def _decimal(value: Any) -> Decimal | None:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return d if d.is_finite() else None


def _code(lang: str | Translator) -> str:
    return lang.lang if isinstance(lang, Translator) else normalize_lang(lang)


def _round(value: Any, places: int, lang: str | Translator = "en") -> str:
    """Rounded half up, grouped for the language's locale (``1,234.5``; ``1.234,5`` in German)."""
    d = _decimal(value)
    if d is None:
        return str(value)
    return format_decimal_text(d, places, _code(lang))


def format_percent(fraction: Any, decimals: int = 2, *, lang: str | Translator = "en") -> str:
    """A fraction as percent: ``0.0045`` → ``"0.45%"`` (``"0,45%"`` in German); null → ``"—"``."""
    if _isnull(fraction):
        return NULL
    d = _decimal(fraction)
    if d is None:
        return str(fraction)
    return _round(d * 100, decimals, lang) + "%"


def format_count(value: Any, *, lang: str | Translator = "en") -> str:
    """A count as an integer with the locale's grouping: ``1234.0`` → ``"1,234"`` (``"1.234"`` in German)."""
    if _isnull(value):
        return NULL
    return _round(value, 0, lang)


def format_number(value: Any, kind: str = "number", *, lang: str | Translator = "en") -> str:
    """Format a non-null number by display kind.

    Parameters
    ----------
    value : number
    kind : {"rate", "count", "hours", "index", "days", "number"}
    lang : str or Translator

    Returns
    -------
    str
        ``0.45%``, ``1,234``, ``5.5 h`` / ``5.5 小时``, ``86.2``, ``412 days`` / ``412 天``; other numbers
        with up to 2 decimals.
    """
    if _isnull(value):
        return NULL
    if isinstance(value, bool):
        return str(value).lower()
    if kind == "rate":
        return format_percent(value, lang=lang)
    if kind == "count":
        return format_count(value, lang=lang)
    if kind == "hours":
        return _tr(lang)("fmt.hours", value=_round(value, 1, lang))
    if kind == "index":
        return _round(value, 1, lang)
    if kind == "days":
        return _tr(lang)("fmt.days", value=_round(value, 0, lang))
    d = _decimal(value)
    if d is None:
        return str(value)
    if d == d.to_integral_value():
        return _round(d, 0, lang)
    text = _round(d, 2, lang)
    point = _tr(lang).locale.number_symbols["latn"]["decimal"]
    return text.rstrip("0").rstrip(point) if point in text else text


def null_text(status: Any = None, *, lang: str | Translator = "en") -> str:
    """The null display: ``—``, or ``— (no data)`` / ``— (not measured)`` when ``status`` says why."""
    tr = _tr(lang)
    if _isnull(status) or str(status) in ("", "ok"):
        return NULL
    return tr("fmt.null_with_status", status=tr.status(status))


def format_value(
    value: Any,
    metric: Any = None,
    *,
    kind: str | None = None,
    status: Any = None,
    lang: str | Translator = "en",
) -> str:
    """Format a metric value for display.

    Parameters
    ----------
    value : number or None
        Rates are fractions.
    metric : str, optional
        Metric name; decides the display kind unless ``kind`` is given.
    kind : str, optional
        Override of the display kind (see :func:`format_number`).
    status : str, optional
        Metric status (``ok``, ``no_data``, ``not_measured``); used for null values.
    lang : str or Translator, default "en"

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(0.0045, "order_defect_rate")
    '0.45%'
    >>> format_value(None, "order_defect_rate", status="no_data")
    '— (no data)'
    """
    if _isnull(value):
        return null_text(status, lang=lang)
    return format_number(value, kind or metric_kind(metric), lang=lang)


def tested_kind(metric: Any, test: Any = "value") -> str:
    """Display kind of the quantity a criterion tests: the metric's kind, or ``count`` for counts."""
    if str(test) in ("numerator", "denominator"):
        return "count"
    return metric_kind(metric)


def operator_symbol(op: Any) -> str:
    """Display symbol of a comparison operator (``<=`` → ``≤``)."""
    if _isnull(op):
        return ""
    return OPERATOR_SYMBOLS.get(str(op), str(op))


def format_threshold(
    threshold: Any,
    metric: Any = None,
    *,
    test: Any = "value",
    operator: Any = None,
    lang: str | Translator = "en",
) -> str:
    """Format a criterion threshold, optionally preceded by its operator symbol (``< 0.45%``)."""
    text = format_value(threshold, kind=tested_kind(metric, test), lang=lang)
    sym = operator_symbol(operator)
    return f"{sym} {text}" if sym and text != NULL else text


def format_counts(numerator: Any, denominator: Any, *, lang: str | Translator = "en") -> str:
    """``"3 / 1,000"`` (``"3 / 1.000"`` in German); ``"—"`` without a denominator.

    A missing numerator shows as ``—``.
    """
    if _isnull(denominator):
        return NULL
    return f"{format_count(numerator, lang=lang)} / {format_count(denominator, lang=lang)}"


def to_date(value: Any) -> dt.date | None:
    """Coerce a date-like value (date, datetime, Timestamp, ISO string) to :class:`datetime.date`."""
    if _isnull(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def format_date(value: Any) -> str:
    """A date as ISO ``YYYY-MM-DD`` (a datetime is cut to its date); null → ``—``."""
    if _isnull(value):
        return NULL
    d = to_date(value)
    return d.isoformat() if d is not None else str(value)


def format_datetime(value: Any) -> str:
    """A timestamp as ISO ``YYYY-MM-DD HH:MM`` with its UTC offset when it has one; null → ``—``."""
    if _isnull(value):
        return NULL
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
        if value.tzinfo is not None:
            off = value.utcoffset() or dt.timedelta(0)
            text += " UTC" if off == dt.timedelta(0) else value.strftime(" %z")
        return text
    return format_date(value)


def format_window(window_days: Any, *, lang: str | Translator = "en") -> str:
    """``"60 days"`` / ``"60 天"``; empty string for a null window."""
    if _isnull(window_days):
        return ""
    return _tr(lang)("fmt.window", days=_round(window_days, 0))


def criterion_name(row: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    """Localised name of a criterion from its metric, window, channel and test.

    ``Order defect rate (60 days, all)``; ``订单缺陷率（60 天，自配送）``. A test on the numerator or
    denominator is named (``count``/``volume``).
    """
    tr = _tr(lang)
    metric = row.get("metric")
    if _isnull(metric):
        named = tr.maybe(f"criterion_name.{row.get('criterion_id')}")
        if named is not None:
            return named
        label = row.get("label")
        return str(label if not _isnull(label) else row.get("criterion_id", NULL))
    parts = []
    window = format_window(row.get("window_days"), lang=tr)
    if window:
        parts.append(window)
    channel = row.get("channel")
    if not _isnull(channel) and not (not window and str(channel) == "all"):
        parts.append(tr.maybe(f"channel_short.{channel}") or str(channel))
    test = row.get("test")
    if not _isnull(test) and str(test) != "value":
        parts.append(tr.maybe(f"test.{test}") or str(test))
    name = tr.metric(metric)
    if not parts:
        return name
    return tr("fmt.name_with_details", name=name, details=tr("ui.detail_separator").join(parts))


def _compare(x: float, op: str, thr: float) -> bool | None:
    if op == "<":
        return x < thr
    if op == "<=":
        return x <= thr
    if op == ">":
        return x > thr
    if op == ">=":
        return x >= thr
    if op == "==":
        return x == thr
    if op == "!=":
        return x != thr
    return None


def _unit(tr: Translator, metric: str, which: str, n: int) -> str:
    for key in (f"unit.{metric}.{which}", f"unit.default.{which}"):
        if tr.knows(key):
            return tr.plural(key, n)
    return which


#: Where the tested quantity lands, relative to the bar, after the gap's change: moving up across
#: ``<`` or ``>=`` it reaches the bar or more; across ``<=`` or ``>`` it must exceed it; moving down
#: across ``>`` or ``<=`` it reaches the bar or less; across ``>=`` or ``<`` it must go under it.
_LANDS = {
    (True, "<"): "at_or_above",
    (True, ">="): "at_or_above",
    (True, "<="): "above",
    (True, ">"): "above",
    (False, ">"): "at_or_below",
    (False, "<="): "at_or_below",
    (False, ">="): "below",
    (False, "<"): "below",
}


def gap_sentence(
    gap: Any,
    *,
    metric: Any,
    operator: Any,
    threshold: Any,
    value: Any = None,
    numerator: Any = None,
    denominator: Any = None,
    test: Any = "value",
    lang: str | Translator = "en",
) -> str | None:
    """Explain a criterion's gap in words, exact at the bar.

    The gap is the smallest number of units that would flip the criterion's result
    (:mod:`cxops.policy.gap`). The sentence names the units that must change (defective orders,
    on-time deliveries, orders …), whether that change *would* flip a result the seller wants to keep
    (``would``) or is what it *needs* (``needs``), and where the tested quantity lands — which the
    operator decides exactly: ``order_count > 1500`` at 2,258 orders flips with 758 fewer, landing
    *on* 1,500 ("would take it to 1,500 or below"), while ``>= 1500`` flips with 759 fewer, landing
    *under* it ("would take it below 1,500"). Counts use the language's grouping (``1,500``,
    ``1.500``, ``1 500``).

    - up, bad units: ``2 more defective orders in the window would take it to 0.60% or above``
    - up, good units: ``needs 3 more on-time deliveries to get to 95.00% or above``
    - down, good-unit rate: ``2 more late deliveries in the window would take it below 95.00%``
    - down, bad units: ``needs 2 fewer defective orders in the window to get to 0.45% or below``
    - down, good units (a volume): ``758 fewer orders in the window would take it to 1,500 or below``

    Parameters
    ----------
    gap : int or None
        Signed change of the tested count that flips the result (:mod:`cxops.policy.gap`; an unsigned
        count works too: the direction comes from the value and the operator). Null or 0 → no sentence.
    metric, operator, threshold
        Of the criterion.
    value, numerator, denominator : optional
        Current values; the one named by ``test`` decides the direction.
    test : {"value", "numerator", "denominator"}, default "value"
    lang : str or Translator, default "en"

    Returns
    -------
    str or None
    """
    if _isnull(gap):
        return None
    tr = _tr(lang)
    try:
        signed = int(round(float(gap)))
    except (TypeError, ValueError):
        return tr("gap.generic", n=gap, threshold=format_threshold(threshold, metric, test=test, lang=tr))
    n = abs(signed)
    if n == 0:
        return None
    metric = "" if _isnull(metric) else str(metric)
    test = "value" if _isnull(test) else str(test)
    op = "" if _isnull(operator) else str(operator)
    thr_text = format_threshold(threshold, metric, test=test, lang=tr)
    current = {"value": value, "numerator": numerator, "denominator": denominator}.get(test, value)
    if op not in ("<", "<=", ">", ">="):
        return tr("gap.generic", n=tr.number(n), threshold=thr_text)

    satisfied: bool | None = None
    if not _isnull(current) and not _isnull(threshold):
        try:
            satisfied = _compare(float(current), op, float(threshold))
        except (TypeError, ValueError):
            satisfied = None
    if satisfied is None:
        up = signed > 0  # a signed gap (cxops.policy.gap) is the change of the tested count
    else:
        # a satisfied upper bound (<, <=) flips by going up, an unsatisfied one by going down
        up = satisfied == (op in ("<", "<="))

    kind = tested_kind(metric, test)
    if kind in ("hours", "index", "number"):
        return tr("gap.generic", n=tr.number(n), threshold=thr_text)
    lands = tr(f"gap.lands.{_LANDS[(up, op)]}", threshold=thr_text)
    good_units = higher_is_better(metric)
    if test == "denominator" or kind == "days":
        unit = _unit(tr, metric, "total", n)
        if up:
            return tr.plural("gap.needs_more", n, unit=unit, lands=lands)
        return None if kind == "days" else tr.plural("gap.would_fewer", n, unit=unit, lands=lands)
    if kind == "rate" and test == "value":
        if up and good_units:
            return tr.plural("gap.needs_more", n, unit=_unit(tr, metric, "good", n), lands=lands)
        bad = _unit(tr, metric, "bad", n)
        if up or good_units:  # more bad units push a defect rate up, or a good-unit rate down
            return tr.plural("gap.would_more", n, unit=bad, lands=lands)
        return tr.plural("gap.needs_fewer", n, unit=bad, lands=lands)
    # a count: the metric's own count, or the numerator of a rate
    unit = _unit(tr, metric, "good" if good_units else "bad", n)
    if up:
        return tr.plural("gap.needs_more" if good_units else "gap.would_more", n, unit=unit, lands=lands)
    return tr.plural("gap.would_fewer" if good_units else "gap.needs_fewer", n, unit=unit, lands=lands)


def criterion_gap(row: Mapping[str, Any], *, lang: str | Translator = "en") -> str | None:
    """:func:`gap_sentence` for one row of the criteria frame (a dict or pandas Series)."""
    return gap_sentence(
        row.get("gap"),
        metric=row.get("metric"),
        operator=row.get("operator"),
        threshold=row.get("threshold"),
        value=row.get("value"),
        numerator=row.get("numerator"),
        denominator=row.get("denominator"),
        test=row.get("test", "value"),
        lang=lang,
    )


def criterion_threshold(row: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    """The criterion's operator and threshold (``< 0.45%``); a removal criterion reads ``breach if …``
    because there the comparison is the breach condition, not the bar to meet."""
    text = format_threshold(
        row.get("threshold"),
        row.get("metric"),
        test=row.get("test", "value"),
        operator=row.get("operator"),
        lang=lang,
    )
    if str(row.get("section")) == "removal" and text != NULL:
        return _tr(lang)("ui.breach_if", threshold=text)
    return text


def provisional_text(value_text: str, row: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    """``value_text`` marked provisional with the row's ``coverage`` when the row is provisional (a
    metric row with ``status = "provisional"``, a criterion row with ``provisional`` true); else as is."""
    flag = row.get("provisional")
    provisional = (not _isnull(flag) and bool(flag)) or str(row.get("status")) == "provisional"
    if not provisional:
        return value_text
    tr = _tr(lang)
    return tr(
        "fmt.provisional_value",
        value=value_text,
        coverage=format_value(row.get("coverage"), kind="rate", lang=tr),
    )


def criterion_value(row: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    """The criterion's metric value for display; a null value shows its result word as the reason; a
    provisional value is marked with its coverage (:func:`provisional_text`)."""
    return provisional_text(_criterion_value(row, lang=lang), row, lang=lang)


def _criterion_value(row: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    value = row.get("value")
    if _isnull(value):
        result = row.get("result")
        status = row.get("status")
        why = status if not _isnull(status) and str(status) != "ok" else None
        if why is None and not _isnull(result) and str(result) in ("not_measured", "insufficient_data"):
            why = "not_measured" if str(result) == "not_measured" else "no_data"
        return null_text(why, lang=lang)
    return format_value(value, row.get("metric"), lang=lang)


def _format_param(tr: Translator, key: str, value: Any, metric: str | None, operator: Any) -> str:
    if isinstance(value, list | tuple | set):
        return tr.join(_format_param(tr, key, v, metric, None) for v in value)
    if isinstance(value, Mapping):
        if "key" in value:
            return criterion_reason_text(value, lang=tr)
        return render_unknown("", value).strip(" ()")
    if _isnull(value):
        return NULL
    if key == "metric":
        return tr.metric(value)
    if key in ("value", "threshold") and metric is not None:
        text = format_value(value, metric, lang=tr)
        if key == "threshold" and not _isnull(operator):
            text = f"{operator_symbol(operator)} {text}"
        return text
    if key in ("days", "count", "consecutive", "streak", "stable_days"):
        return format_count(value, lang=tr)
    if key in ("date", "day", "since", "as_of"):
        return format_date(value)
    if isinstance(value, float):
        return format_number(value, lang=tr)
    return str(value)


def _template_params(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def criterion_reason_text(reason: Mapping[str, Any], *, lang: str | Translator = "en") -> str:
    """Render a criterion reason ``{"key", "params"}`` of :mod:`cxops.policy.explain` in ``lang``.

    The criterion is named by its policy ``label`` in English (and in Chinese when the label is Chinese),
    otherwise by its localised metric name, window and channel; values and thresholds are formatted
    from the raw numbers (rates as percent), the operator as a symbol.
    """
    tr = _tr(lang)
    key = str(reason.get("key", ""))
    p = parse_params(reason.get("params"))
    metric = p.get("metric")
    test = p.get("test") or "value"
    label = p.get("label")
    if not _isnull(label) and label and (tr.lang == "en" or (tr.lang == "zh" and _has_cjk(str(label)))):
        name = str(label)
    elif not _isnull(metric):
        name = criterion_name(p, lang=tr)
    else:
        name = str(label) if not _isnull(label) and label else str(p.get("criterion_id") or NULL)
    kind = tested_kind(metric, test)
    shown = {
        "name": name,
        "value": format_value(p.get("value"), kind=kind, lang=tr),
        "threshold": format_value(p.get("threshold"), kind=kind, lang=tr),
        "op": operator_symbol(p.get("op") or p.get("operator")),
        "denominator": format_count(p.get("denominator"), lang=tr),
        "min_denominator": format_count(p.get("min_denominator"), lang=tr),
        "marketplace": str(p.get("marketplace_id") or p.get("marketplace") or NULL),
        "coverage": format_value(p.get("coverage"), kind="rate", lang=tr),
    }
    text = tr.maybe(f"criterion.{key}", None, **shown)
    if text is None:
        return render_unknown(key, {k: v for k, v in p.items() if not str(k).endswith("_text")})
    return text


def reason_text(
    reason_key: Any,
    reason_params: Any = None,
    *,
    lang: str | Translator = "en",
    fallback: str | None = None,
) -> str:
    """Render a lifecycle reason with its parameters.

    Two vocabularies are understood. The lifecycle's own keys (``lifecycle.<key>``: ``not_eligible``,
    ``at_risk``, ``removed_consecutive``, ``recovering`` … with ``details``, ``criteria``, ``count``,
    ``consecutive``, ``streak``, ``stable_days``, ``day``) and the report contract's keys
    (``reason.<key>``: ``warning_breach`` with ``rule``, ``metric``, ``value``, ``threshold`` …). For a
    key in both, the first template whose placeholders are all given wins. A ``criteria`` list of
    criterion reasons (``{"key", "params"}``) is rendered in ``lang`` and replaces the English
    ``details``; ``failed`` and ``details`` stand in for each other.

    Parameters
    ----------
    reason_key : str
        E.g. ``warning_breach`` or ``at_risk``.
    reason_params : dict or JSON str, optional
        E.g. ``{"rule": "odr_warning", "metric": "order_defect_rate", "value": 0.007,
        "threshold": 0.006}``. Values and thresholds are formatted by the metric's kind; a ``metric``
        is shown by its localised name; lists are joined.
    lang : str or Translator, default "en"
    fallback : str, optional
        Text to show for an unknown key (e.g. the English ``reason`` column of the lifecycle).

    Returns
    -------
    str
        The sentence; an unknown key without ``fallback`` renders as the key plus its parameters.
    """
    tr = _tr(lang)
    if _isnull(reason_key) or not str(reason_key):
        return fallback if fallback else NULL
    params = parse_params(reason_params)
    metric = params.get("metric")
    metric = None if _isnull(metric) else str(metric)
    operator = params.get("operator")
    shown = {k: _format_param(tr, k, v, metric, operator) for k, v in params.items() if k != "criteria"}
    criteria = params.get("criteria")
    if isinstance(criteria, list | tuple) and criteria:
        texts = [criterion_reason_text(c, lang=tr) if isinstance(c, Mapping) else str(c) for c in criteria]
        shown["details"] = tr("ui.reason_separator").join(texts)
    if "details" in shown and "failed" not in shown:
        shown["failed"] = shown["details"]
    if "failed" in shown and "details" not in shown:
        shown["details"] = shown["failed"]
    if "marketplace_id" in shown and "marketplace" not in shown:
        shown["marketplace"] = shown["marketplace_id"]
    if "rules" in shown and "rule" not in shown:
        shown["rule"] = shown["rules"]
    candidates = [
        (k, t) for k in (f"lifecycle.{reason_key}", f"reason.{reason_key}") if (t := tr.maybe(k)) is not None
    ]
    if not candidates:
        if fallback:
            return fallback
        return render_unknown(str(reason_key), {k: v for k, v in shown.items() if k != "failed"})
    for key, template in candidates:
        if _template_params(template) <= set(shown):
            return tr(key, **shown)
    return tr(candidates[0][0], **shown)


def note_text(note: Any, *, lang: str | Translator = "en") -> str:
    """A note of an evaluation run (``{"key", "params"}``) in ``lang``; a plain string as it is.

    Day parameters (ISO strings) are shown as they are; counts with the language's grouping.
    """
    if not isinstance(note, Mapping):
        return str(note)
    tr = _tr(lang)
    params = {
        k: format_count(v, lang=tr) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in parse_params(note.get("params")).items()
    }
    return tr(str(note.get("key", "")), **params)
