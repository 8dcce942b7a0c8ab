"""``cxops advise …``: the seller's tools (issue 13). ``advise costs``: the cost trade-offs of
carrier-integrated shipping, free return labels and marketplace fulfilment (:mod:`cxops.service.costs`).
``advise handling-time`` and ``advise holiday``: :mod:`cxops.cli_advise_deadlines`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from cxops.cli_advise_deadlines import LANG_HELP, check_lang
from cxops.cli_advise_deadlines import register as register_deadlines

advise_app = typer.Typer(
    help="Seller tools: what to change, and what it would cost and bring.", no_args_is_help=True
)
register_deadlines(advise_app)


class AdviseFmt(StrEnum):
    table = "table"
    json = "json"


@advise_app.command("costs")
def costs(
    seller_id: str = typer.Argument(..., help="Seller id."),
    costs_file: Path = typer.Option(
        None,
        "--costs",
        help="Your cost sheet (.toml or .csv; see examples/costs.toml). Default: reference figures.",
    ),
    marketplace: str = typer.Option(None, "--marketplace", help="Marketplace (if the seller is in several)."),
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Evaluate as of this day (computed, not stored). Default: the newest stored run.",
    ),
    policy: str = typer.Option(
        "customer-excellence", "--policy", "-p", help="Built-in pack name or a TOML file."
    ),
    fmt: AdviseFmt = typer.Option(AdviseFmt.table, "--format", "-f", help="table, or json (every figure)."),
    lang: str = typer.Option("en", "--lang", help=LANG_HELP),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Compute although the day is past the data."
    ),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """Each option's projected metrics, program status (admitted? still enrolled?), fee discount tier and
    its value, monthly cost, net effect and break-even, with every assumption and its source."""
    from cxops.cli import _date, _open, _policy, console, show
    from cxops.report.costs import advice_dict, advice_renderable
    from cxops.service.costs import seller_costs

    check_lang(lang)
    day = _date(as_of, "--as-of") if as_of else None
    pol = _policy(policy)
    wh = _open(warehouse, read_only=True)
    advice = seller_costs(
        wh, pol, seller_id, marketplace=marketplace, as_of=day, costs=costs_file, allow_stale=allow_stale
    )
    if fmt == AdviseFmt.json:
        sys.stdout.write(json.dumps(advice_dict(advice, lang), ensure_ascii=False, indent=2) + "\n")
        return
    show(advice_renderable(advice, lang))
    console.file.flush()
