"""``cxops advise handling-time`` and ``cxops advise holiday``: the handling-time advisor and the holiday
planner (:mod:`cxops.service.deadline_advice`), registered on the ``advise`` sub-app by :func:`register`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from cxops.locale import LANGUAGES

#: The ``--lang`` help of the advise commands (every catalog language).
LANG_HELP = f"Language: {', '.join(LANGUAGES)}."


class AdviseFormat(StrEnum):
    table = "table"
    json = "json"


def check_lang(lang: str) -> None:
    """Refuse a ``--lang`` that is not a catalog language (a usage error naming the choices)."""
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"{lang!r} is not one of {', '.join(LANGUAGES)}", param_hint="--lang")


def handling_time(
    seller_id: str = typer.Argument(..., help="Seller id."),
    target: str = typer.Option(
        None,
        "--target",
        help="Late shipment rate to stay within, e.g. 1.2% or 0.012. Default: the policy's admission bar.",
    ),
    days: int = typer.Option(
        90, "--days", help="Look-back: orders whose ship-by day is in the last DAYS days."
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="Last day of the look-back. Default: the data's last complete day."
    ),
    marketplace: str = typer.Option(None, "--marketplace", help="Only this marketplace."),
    group_by: str = typer.Option(
        "sku",
        "--group-by",
        help="One proposal per sku, per category (a SKU group), or one for the whole seller.",
    ),
    min_days: int = typer.Option(1, "--min-days", help="Smallest handling time to propose (business days)."),
    max_days: int = typer.Option(30, "--max-days", help="Largest handling time to propose (business days)."),
    export: Path = typer.Option(
        None,
        "--export",
        help="Write the change as a listing upload file: .txt/.tsv (tab) or .csv, columns "
        "sku, fulfillment-latency.",
    ),
    export_all: bool = typer.Option(
        False, "--export-all", help="Export every SKU, not only the changed ones."
    ),
    policy: str = typer.Option(
        "customer-excellence", "--policy", "-p", help="Built-in pack name or a TOML file."
    ),
    fmt: AdviseFormat = typer.Option(
        AdviseFormat.table, "--format", "-f", help="table, or json (every figure)."
    ),
    lang: str = typer.Option("en", "--lang", help=LANG_HELP),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Compute although the day is past the data."
    ),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """The business days each SKU needed from order to ship confirmation (seller calendar, MFN), the smallest
    handling time per SKU that would have kept the late shipment rate within the target, the rate had
    and would have had, and the ship-by dates of the next two weeks under the new setting."""
    from cxops.cli import _date, _open, _policy, console, show
    from cxops.report.deadline_advice import handling_dict, handling_renderable
    from cxops.report.i18n import get_translator
    from cxops.service.deadline_advice import handling_time_advice, parse_target, write_latency_file

    check_lang(lang)
    day = _date(as_of, "--as-of") if as_of else None
    tgt = parse_target(target) if target is not None else None
    pol = _policy(policy)
    wh = _open(warehouse, read_only=True)
    advice = handling_time_advice(
        wh, pol, seller_id, as_of=day, days=days, target=tgt, marketplace=marketplace,
        min_days=min_days, max_days=max_days, group_by=group_by, allow_stale=allow_stale,
    )  # fmt: skip
    written = None if export is None else write_latency_file(advice, export, all_skus=export_all)
    if fmt == AdviseFormat.json:
        d = handling_dict(advice, lang)
        if export is not None:
            d["export"] = {"path": str(export), "skus": written}
        sys.stdout.write(json.dumps(d, ensure_ascii=False, indent=2) + "\n")
        return
    show(handling_renderable(advice, lang))
    if export is not None:
        show(get_translator(lang)("advise.ht.export", n=written, path=str(export)))
    console.file.flush()


def holiday(
    seller_id: str = typer.Argument(..., help="Seller id."),
    closed: str = typer.Option(
        ..., "--closed", help="The closure, local days FROM..TO inclusive, e.g. 2026-12-21..2027-01-01."
    ),
    as_of: str = typer.Option(
        None, "--as-of", help="Plan from this day. Default: the data's last complete day."
    ),
    marketplace: str = typer.Option(None, "--marketplace", help="Only this marketplace."),
    policy: str = typer.Option(
        "customer-excellence", "--policy", "-p", help="Built-in pack name or a TOML file."
    ),
    fmt: AdviseFormat = typer.Option(
        AdviseFormat.table, "--format", "-f", help="table, or json (every figure)."
    ),
    lang: str = typer.Option("en", "--lang", help=LANG_HELP),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Compute although the day is past the data."
    ),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """The open orders due during a closure and the day to ship each before it, when to switch holiday
    mode on and off so that no new order is due inside, and the 10- and 30-day late shipment rate if
    nothing is done."""
    from cxops.advisor.holiday import parse_closure
    from cxops.cli import _date, _open, _policy, console, show
    from cxops.report.deadline_advice import holiday_dict, holiday_renderable
    from cxops.service.deadline_advice import holiday_plan

    check_lang(lang)
    lo, hi = parse_closure(closed)
    day = _date(as_of, "--as-of") if as_of else None
    pol = _policy(policy)
    wh = _open(warehouse, read_only=True)
    plan = holiday_plan(
        wh, pol, seller_id, lo, hi, as_of=day, marketplace=marketplace, allow_stale=allow_stale
    )
    if fmt == AdviseFormat.json:
        sys.stdout.write(json.dumps(holiday_dict(plan, lang), ensure_ascii=False, indent=2) + "\n")
        return
    show(holiday_renderable(plan, lang))
    console.file.flush()


def register(advise_app: typer.Typer) -> None:
    """Add ``handling-time`` and ``holiday`` to the ``advise`` sub-app."""
    advise_app.command("handling-time")(handling_time)
    advise_app.command("holiday")(holiday)
