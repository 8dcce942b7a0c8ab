"""The one object message templates translate and format through: ``t``, plural-aware ``n``, and
Babel for numbers, percentages and dates in the recipient's locale.

Sentences are catalog keys under ``mail.`` (``t("invitation.subject")`` reads ``mail.invitation.subject``),
looked up through :mod:`cxops.report.i18n` — the project's one translator over the gettext catalogs of
:mod:`cxops.locale`.
Plurals are gettext plural entries (``msgid_plural``); :meth:`MailTranslator.n` renders the form the
language's gettext plural rule picks (:meth:`cxops.report.i18n.Translator.plural`).

Every key looked up and not found in the recipient's language is recorded in
:attr:`MailTranslator.missing` (the test of every kind in every language asserts none is).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from cxops.notify.messages import Alert, BenefitLine, DefectOrder, DocumentItem, Finding, Manager
from cxops.report.format import tested_kind
from cxops.report.i18n import OPERATOR_KEYS, SUPPORTED_LANGS, Translator, normalize_lang

PREFIX = "mail."
NULL = "—"


def message_language(lang: str | None) -> str:
    """A supported catalog language for ``lang`` (English when it is unknown or unsupported)."""
    try:
        return normalize_lang(lang)
    except ValueError:
        base = str(lang).replace("_", "-").split("-")[0]
        try:
            return normalize_lang(base)
        except ValueError:
            return SUPPORTED_LANGS[0]


class MailTranslator:
    """Translate and format for one language.

    Parameters
    ----------
    lang : str
        A catalog language (``en``, ``zh`` …; aliases as :func:`cxops.report.i18n.normalize_lang`).

    Attributes
    ----------
    lang : str
    locale : babel.Locale
    missing : set of str
        Full keys not found in this language (rendered from English, or as the raw key).
    """

    def __init__(self, lang: str):
        self.lang = normalize_lang(lang)
        self._tr = Translator(self.lang)
        self.locale = self._tr.locale
        self.missing = self._tr.missing

    # -- sentences ----------------------------------------------------------------------------
    def t(self, key: str, /, **params: Any) -> str:
        """The sentence ``mail.<key>`` with ``params`` (already formatted text)."""
        return self._tr(PREFIX + key, **params)

    def n(self, key: str, count: int, /, **params: Any) -> str:
        """The plural form of ``mail.<key>`` for ``count`` (placeholder ``{n}``: the count, formatted)."""
        return self._tr.plural(PREFIX + key, count, n=self.num(count), **params)

    def vocab(self, group: str, name: Any) -> str:
        """An open vocabulary word ``mail.<group>.<name>`` (the raw name when no catalog has it)."""
        if name is None:
            return NULL
        text = self._tr.maybe(f"{PREFIX}{group}.{name}")
        return text if text is not None else str(name).replace("_", " ")

    # -- vocabulary shared with the reports ------------------------------------------------------
    def metric(self, name: str) -> str:
        return self._tr.metric(name)

    def defect(self, kind: str) -> str:
        return self._tr.kind(kind)

    def benefit(self, name: str) -> str:
        return self._tr.benefit(name)

    def operator(self, op: str | None) -> str:
        if op is None:
            return ""
        return self._tr(f"operator.{OPERATOR_KEYS.get(op, op)}")

    # -- numbers and dates ---------------------------------------------------------------------
    def num(self, value: Any, decimals: int = 0) -> str:
        """A number with the locale's grouping and decimal sign."""
        if value is None:
            return NULL
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=fmt, locale=self.locale)

    def pct(self, fraction: Any, decimals: int = 2) -> str:
        """A fraction as a percentage (``0.0045`` → ``0.45%``, ``0,45 %`` in German)."""
        if fraction is None:
            return NULL
        return format_percent(
            fraction, format="#,##0." + "0" * decimals + "%", locale=self.locale, decimal_quantization=True
        )

    def value(self, metric: str, value: Any, test: str = "value") -> str:
        """A tested quantity in its kind: rates as percentages, counts whole, hours and days with units."""
        if value is None:
            return NULL
        kind = tested_kind(metric, test)
        if kind == "rate":
            return self.pct(value)
        if kind in ("count", "days"):
            text = self.num(round(float(value)))
            return self.n("unit.days", int(round(float(value)))) if kind == "days" else text
        if kind == "hours":
            return self.t("unit.hours", value=self.num(value, 1))
        return self.num(value, 1)

    def day(self, value: date | None) -> str:
        """A calendar day in the locale's long format (``December 4, 2026``, ``2026年12月4日``)."""
        if value is None:
            return NULL
        return format_date(value, format="long", locale=self.locale)

    def instant(self, value: datetime | None) -> str:
        """A UTC instant in the locale's medium format, marked UTC."""
        if value is None:
            return NULL
        return format_datetime(value, format="medium", tzinfo=UTC, locale=self.locale) + " UTC"

    def join(self, items) -> str:
        return self._tr.join(items)

    # -- sentences of message parts (shared by the templates) -------------------------------------
    def finding(self, f: Finding) -> str:
        """One criterion with its numbers: value, window, counts and the bar."""
        params = {
            "metric": self.metric(f.metric),
            "value": self.value(f.metric, f.value, f.test),
            "operator": self.operator(f.operator),
            "threshold": self.value(f.metric, f.threshold, f.test),
            "window": self.n("window", f.window_days) if f.window_days else self.t("window_unknown"),
        }
        if f.test == "value" and f.numerator is not None and f.denominator is not None:
            return self.t(
                "finding_counts",
                numerator=self.num(f.numerator),
                denominator=self.num(f.denominator),
                **params,
            )
        return self.t("finding", **params)

    def benefit_line(self, b: BenefitLine) -> str:
        name = self.benefit(b.benefit)
        same = b.tier and str(b.tier).strip().lower() in (name.lower(), str(b.benefit).lower(), "yes", "true")
        return self.t("benefit_tier", benefit=name, tier=b.tier) if b.tier and not same else name

    def manager(self, m: Manager | None) -> str:
        if m is None:
            return self.t("no_manager")
        if m.email:
            return self.t("manager_email", name=m.name, email=m.email)
        return m.name

    def defect_order(self, o: DefectOrder) -> str:
        params = {"order": o.order_id, "kind": self.defect(o.kind), "date": self.day(o.day)}
        if o.drops_out_on is not None:
            return self.t("defect_order_drops", drops=self.day(o.drops_out_on), **params)
        return self.t("defect_order", **params)

    def clearing_lines(self, w) -> list[str]:
        """What would clear each finding of a warning (:class:`~cxops.notify.messages.Warning`)."""
        out = []
        for f, c in zip(w.findings, w.clearing, strict=False):
            if c is None:
                continue
            metric = self.metric(f.metric)
            if c.fewer_defects:
                line = self.n("clear_fewer", c.fewer_defects, metric=metric)
                if c.leaving is not None:
                    line += " " + self.n("clear_leaving", c.leaving)
                out.append(line)
            if c.more_orders:
                out.append(self.n("clear_more", c.more_orders, metric=metric))
        return out

    def alert_subject(self, a: Alert) -> str:
        metric = self.metric(a.finding.metric) if a.finding else ""
        return self.t(
            f"alert.subject_{a.alert}",
            order=a.order_id or "",
            rating=self.num(a.rating),
            metric=metric,
            date=self.day(a.projected_date),
        )

    def alert_lines(self, a: Alert) -> list[str]:
        """The sentences of an alert (an alert message's body, or its section of a digest)."""
        lines = [
            self.t(
                f"alert.{a.alert}",
                order=a.order_id or "",
                rating=self.num(a.rating),
                date=self.day(a.alert_date),
                metric=self.metric(a.finding.metric) if a.finding else "",
                projected=self.day(a.projected_date),
            )
        ]
        if a.finding is not None:
            lines.append(self.finding(a.finding))
        if a.alert == "projected_breach" and a.orders_needed:
            lines.append(self.n("alert.orders_needed", a.orders_needed, date=self.day(a.projected_date)))
        if a.provisional:
            lines.append(self.t("alert.provisional"))
        return lines

    def document_name(self, document: str) -> str:
        return self.vocab("document", document)

    def document_line(self, d: DocumentItem) -> str:
        params = {"document": self.vocab("document", d.document), "date": self.day(d.expires_on)}
        if d.status == "rejected":
            return self.t("document_status.rejected", reason=d.reason or "—", **params)
        return self.t(f"document_status.{d.status}", **params)
