"""Rendering the cost trade-offs (:class:`cxops.advisor.costs.CostAdvice`): a JSON-ready dict with every
figure and its text in the language asked for, and the terminal tables. Texts are the catalogs'
``costs.*`` messages."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxops.advisor.costs import STATUS_QUO, CostAdvice, OptionResult
from cxops.metrics.catalog import CATALOG
from cxops.report.i18n import Translator, get_translator


def _tr(lang: str | Translator) -> Translator:
    return lang if isinstance(lang, Translator) else get_translator(lang)


def option_label(option: str, lang: str | Translator = "en") -> str:
    """``carrier_integrated+afn`` → "Carrier-integrated shipping + Marketplace fulfilment (AFN)"."""
    tr = _tr(lang)
    return " + ".join(tr(f"costs.option.{o}") for o in option.split("+"))


def _quantity(tr: Translator, metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    if CATALOG[metric].kind == "rate":
        return tr.number(value * 100, 2) + " %"
    return tr.number(value, 1)


def _percent(tr: Translator, x: float) -> str:
    return tr.number(x * 100, 2).rstrip("0").rstrip(".,") + " %"


def money(tr: Translator, value: float | None, currency: str) -> str:
    """An amount a month in the sheet's currency ("—" when unknown)."""
    return "—" if value is None else f"{tr.number(value, 2)} {currency}"


_PARAM = {"increase": "percent", "rate": "percent", "share": "percent", "points": "number", "fee": "money"}


def assumption_text(a, currency: str, lang: str | Translator = "en") -> str:
    """One assumption: what changes, by how much, the sheet field and its source."""
    tr = _tr(lang)
    params = {}
    for k, v in a.params.items():
        kind = _PARAM.get(k)
        params[k] = (
            _percent(tr, v)
            if kind == "percent"
            else money(tr, v, currency)
            if kind == "money"
            else tr.number(v, 1)
        )
    return tr("costs.assume.line", text=tr(a.key, **params), field=a.field, source=a.source)


def break_even_text(r: OptionResult, currency: str, lang: str | Translator = "en") -> str:
    """The break-even of an option in words (volume and, where the discount decides, storage fees)."""
    tr = _tr(lang)
    if r.option == STATUS_QUO:
        return ""
    parts = []
    if r.break_even_note == "costs.breakeven.missing":
        return tr("costs.breakeven.missing", fields=", ".join(r.missing))
    if r.break_even_orders is not None:
        key = "costs.breakeven.policy_floor" if r.break_even_note else "costs.breakeven.orders"
        parts.append(tr(key, orders=tr.number(r.break_even_orders, 0)))
    elif r.break_even_note:
        parts.append(tr(r.break_even_note))
    if r.break_even_storage is not None:
        parts.append(tr("costs.breakeven.storage", fees=money(tr, r.break_even_storage, currency)))
    return "; ".join(parts)


def _metrics_text(tr: Translator, r: OptionResult) -> list[str]:
    return [
        tr(
            "costs.change",
            metric=tr.metric(m["metric"]),
            before=_quantity(tr, m["metric"], m["before"]),
            after=_quantity(tr, m["metric"], m["after"]),
        )
        for m in r.metrics
    ]


def _volume(tr: Translator, advice: CostAdvice, name: str) -> str:
    value = getattr(advice.volumes, name)
    if value is None:
        return tr("costs.not_measured")
    text = tr.number(value, 0)
    return tr("costs.origin.sheet", value=text) if advice.volumes.origin.get(name) == "sheet" else text


def advice_dict(advice: CostAdvice, lang: str | Translator = "en") -> dict[str, Any]:
    """Every figure of the advice (fractions as fractions, money per month in ``currency``) with its text."""
    tr = _tr(lang)
    options = []
    for r in advice.options:
        options.append(
            {
                "option": r.option,
                "label": option_label(r.option, tr),
                "applicable": r.applicable,
                "assumptions": [
                    {
                        "key": a.key,
                        "params": a.params,
                        "field": a.field,
                        "source": a.source,
                        "text": assumption_text(a, advice.currency, tr),
                    }
                    for a in r.assumptions
                ],
                "metrics": [dict(m, text=t) for m, t in zip(r.metrics, _metrics_text(tr, r), strict=True)],
                "next_state": r.next_state,
                "steady_state": r.steady_state,
                "next_reason": r.next_reason,
                "steady_reason": r.steady_reason,
                "admission": r.admission,
                "failing": r.failing,
                "benefits": r.benefits,
                "discount": r.discount,
                "benefit_value": r.benefit_value,
                "extra_cost": r.extra_cost,
                "fixed_cost": r.fixed_cost,
                "net": r.net,
                "break_even_orders": r.break_even_orders,
                "break_even_storage": r.break_even_storage,
                "break_even": break_even_text(r, advice.currency, tr),
                "missing": r.missing,
            }
        )
    v = advice.volumes
    return {
        "seller_id": advice.seller_id,
        "marketplace_id": advice.marketplace_id,
        "as_of": advice.as_of.isoformat(),
        "current_state": advice.current_state,
        "evaluation_dates": [d.isoformat() for d in advice.evaluation_dates],
        "currency": advice.currency,
        "cost_sheet": advice.sheet_source,
        "volumes": {
            "orders_mfn": v.orders_mfn,
            "orders_afn": v.orders_afn,
            "returns": v.returns,
            "origin": v.origin,
        },
        "options": options,
        "notes": notes(advice, tr),
    }


def notes(advice: CostAdvice, lang: str | Translator = "en") -> list[str]:
    """How the projection was made (and what the money figures need)."""
    tr = _tr(lang)
    out = [
        tr(
            "costs.note.horizon",
            n=len(advice.evaluation_dates),
            dates=", ".join(tr.day(d) for d in advice.evaluation_dates),
        ),
        tr("costs.note.volume"),
    ]
    if any(r.missing for r in advice.options):
        out.append(tr("costs.note.money"))
    return out


def header(advice: CostAdvice, lang: str | Translator = "en") -> list[str]:
    tr = _tr(lang)
    source = tr("costs.sheet.reference") if advice.sheet_source == "reference" else advice.sheet_source
    return [
        tr(
            "costs.title",
            seller=advice.seller_id,
            marketplace=advice.marketplace_id,
            as_of=tr.day(advice.as_of),
            state=tr.state(advice.current_state),
        ),
        tr(
            "costs.volumes",
            as_of=tr.day(advice.as_of),
            mfn=_volume(tr, advice, "orders_mfn"),
            afn=_volume(tr, advice, "orders_afn"),
            returns=_volume(tr, advice, "returns"),
        ),
        tr("costs.sheet", source=source, currency=advice.currency),
    ]


def advice_renderable(advice: CostAdvice, lang: str | Translator = "en") -> Group:
    """The terminal view: header, one row per option, the assumptions of each option, the notes."""
    tr = _tr(lang)
    n = len(advice.evaluation_dates)
    table = Table(show_lines=True)
    for col in ("option", "next", "steady", "metrics", "discount", "benefit", "cost", "net", "break_even"):
        table.add_column(tr(f"costs.col.{col}", n=n), overflow="fold")
    for r in advice.options:
        label = option_label(r.option, tr)
        if not r.applicable:
            label += "\n" + tr("costs.not_applicable")
        steady = tr.state(r.steady_state)
        if r.failing:
            steady += "\n" + tr("costs.failing", criteria=", ".join(r.failing))
        table.add_row(
            label,
            tr.state(r.next_state),
            steady,
            "\n".join(_metrics_text(tr, r)) or tr("costs.unchanged"),
            _percent(tr, r.discount) if r.discount else "—",
            money(tr, r.benefit_value, advice.currency),
            money(tr, r.extra_cost, advice.currency) if r.option != STATUS_QUO else "—",
            money(tr, r.net, advice.currency) if r.option != STATUS_QUO else "—",
            break_even_text(r, advice.currency, tr),
        )
    parts: list[Any] = [Text(line) for line in header(advice, tr)]
    parts.append(table)
    for r in advice.options:
        if r.assumptions:
            parts.append(Text(tr("costs.assumptions", option=option_label(r.option, tr)), style="bold"))
            parts.extend(Text("  • " + assumption_text(a, advice.currency, tr)) for a in r.assumptions)
    parts.extend(Text(line) for line in notes(advice, tr))
    return Group(*parts)
