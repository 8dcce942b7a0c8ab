"""Rendering the handling-time advice and the holiday plan (:mod:`cxops.advisor.handling_time`,
:mod:`cxops.advisor.holiday`): JSON-ready dicts with every figure, and terminal tables in the language
asked for. Texts are the catalogs' ``advise.*`` messages."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxops.advisor.handling_time import NEVER, HandlingAdvice
from cxops.advisor.holiday import HolidayPlan
from cxops.report.i18n import Translator, get_translator


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def _pct(tr: Translator, rate: float | None) -> str:
    return "—" if rate is None else tr.number(rate * 100, 2) + " %"


def handling_dict(a: HandlingAdvice, lang: str | Translator = "en") -> dict:
    """Every figure of the advice (rates are fractions; days are business days), notes in ``lang``."""
    tr = _tr(lang)
    d = _plain(dataclasses.asdict(a))
    d["rate_had"], d["rate_would"] = a.rate_had, a.rate_would
    for s in d["skus"]:
        s["distribution"] = {("never" if int(k) == NEVER else k): v for k, v in s["distribution"].items()}
    d["notes"] = [tr(n, max=a.max_days) for n in a.notes]
    return d


def holiday_dict(p: HolidayPlan, lang: str | Translator = "en") -> dict:
    """Every figure of the plan (local instants without zone, ``*_utc`` in UTC), notes in ``lang``."""
    tr = _tr(lang)
    d = _plain(dataclasses.asdict(p))
    for e, w in zip(d["effects"], p.effects, strict=True):
        e["rate_nothing"], e["rate_planned"] = w.rate_nothing, w.rate_planned
    d["notes"] = [tr(n) for n in p.notes]
    return d


def _days_text(tr: Translator, dist: dict[int, int]) -> str:
    return ", ".join(f"{tr('advise.ht.never') if k == NEVER else k}: {v}" for k, v in sorted(dist.items()))


def handling_renderable(a: HandlingAdvice, lang: str | Translator = "en"):
    """Terminal view: the per-SKU table, the seller totals, the preview, notes."""
    tr = _tr(lang)
    parts: list[Any] = [
        Text(
            tr("advise.ht.title", seller=a.seller_id, first=tr.day(a.first_day), as_of=tr.day(a.as_of)),
            style="bold",
        ),
        Text(
            tr("advise.ht.target", op=a.target.operator, rate=_pct(tr, a.target.rate), source=a.target.source)
        ),
    ]
    t = Table(show_lines=False)
    for key in (
        "marketplace",
        "sku",
        "orders",
        "days",
        "p50",
        "p90",
        "current",
        "proposed",
        "rate_had",
        "rate_would",
    ):
        t.add_column(tr(f"advise.ht.col.{key}"), justify="right" if key not in ("sku", "days") else "left")
    for s in a.skus:
        cur = "—" if s.current is None else str(s.current)
        if s.current_source == "implied":
            cur = tr("advise.ht.implied", days=s.current)
        proposed = str(s.proposed) + ("" if s.reachable else " !")
        t.add_row(
            s.marketplace_id,
            s.sku,
            tr.number(s.orders),
            _days_text(tr, s.distribution),
            "—" if s.p50 is None else str(s.p50),
            "—" if s.p90 is None else str(s.p90),
            cur,
            Text(proposed, style="bold" if s.proposed != s.current else ""),
            f"{_pct(tr, s.rate_had)} ({s.late_had})",
            f"{_pct(tr, s.rate_would)} ({s.late_would})",
        )
    parts.append(t)
    parts.append(
        Text(
            tr(
                "advise.ht.total",
                orders=tr.number(a.orders),
                had=_pct(tr, a.rate_had),
                late_had=tr.number(a.late_had),
                would=_pct(tr, a.rate_would),
                late_would=tr.number(a.late_would),
            )
        )
    )
    if a.preview:
        p = Table(title=tr("advise.ht.preview.title", days=len({r.order_day for r in a.preview})))
        for key in ("marketplace", "order_day", "handling", "ship_by", "closed"):
            p.add_column(tr(f"advise.ht.preview.col.{key}"))
        for r in a.preview:
            closed = ", ".join(f"{tr.day(d)} {name}".strip() for d, name in r.closed)
            p.add_row(
                r.marketplace_id, tr.day(r.order_day), str(r.handling_days), tr.day(r.ship_by_day), closed
            )
        parts.append(p)
    parts += [Text(tr(n, max=a.max_days), style="dim") for n in a.notes]
    return Group(*parts)


def _local(tr: Translator, at: datetime | None) -> str:
    return "—" if at is None else f"{tr.day(at.date())} {at:%H:%M}"


def holiday_renderable(p: HolidayPlan, lang: str | Translator = "en"):
    """Terminal view: orders to ship before, holiday mode on/off, the windows' late shipment rate."""
    tr = _tr(lang)
    parts: list[Any] = [
        Text(
            tr(
                "advise.hol.title",
                seller=p.seller_id,
                start=tr.day(p.closed_from),
                end=tr.day(p.closed_to),
                as_of=tr.day(p.as_of),
            ),
            style="bold",
        )
    ]
    if p.ship_before:
        t = Table(title=tr("advise.hol.ship_before.title"))
        for key in ("marketplace", "order", "ship_by", "ship_on"):
            t.add_column(tr(f"advise.hol.col.{key}"))
        for o in p.ship_before:
            on = tr("advise.hol.ship_now") if o.ship_on_or_before is None else tr.day(o.ship_on_or_before)
            t.add_row(o.marketplace_id, o.order_id, tr.day(o.ship_by_day), on)
        parts.append(t)
    else:
        parts.append(Text(tr("advise.hol.ship_before.none")))
    for m in p.modes:
        hs = ", ".join(str(h) for h in m.handling_days) or "—"
        if not m.needed:
            parts.append(Text(tr("advise.hol.mode.not_needed", marketplace=m.marketplace_id, handling=hs)))
            continue
        key = "advise.hol.mode.now" if m.already_due else "advise.hol.mode.on"
        parts.append(
            Text(
                tr(
                    key,
                    marketplace=m.marketplace_id,
                    on=_local(tr, m.on_local),
                    on_utc=_local(tr, m.on_utc),
                    off=_local(tr, m.off_local),
                    off_utc=_local(tr, m.off_utc),
                    handling=hs,
                ),
                style="bold",
            )
        )
    e = Table(title=tr("advise.hol.effect.title", end=tr.day(p.closed_to)))
    for key in ("window", "nothing", "planned"):
        e.add_column(tr(f"advise.hol.col.{key}"))
    for w in p.effects:
        e.add_row(
            tr("advise.hol.window", days=w.days, first=tr.day(w.first_day), last=tr.day(w.last_day)),
            tr("advise.hol.rate", rate=_pct(tr, w.rate_nothing), late=tr.number(w.late_nothing, 1),
               orders=tr.number(w.orders_nothing, 1)),
            tr("advise.hol.rate", rate=_pct(tr, w.rate_planned), late=tr.number(w.late_planned, 1),
               orders=tr.number(w.orders_planned, 1)),
        )  # fmt: skip
    parts.append(e)
    parts.append(
        Text(
            tr(
                "advise.hol.expected",
                daily=tr.number(p.daily_orders, 2),
                days=p.rate_days,
                handling="—" if p.typical_handling is None else p.typical_handling,
            ),
            style="dim",
        )
    )
    parts += [Text(tr(n), style="dim") for n in p.notes]
    return Group(*parts)
