"""``cxops diagnose SELLER``: the root cause of the metrics that fail or are near their bar, and
``cxops diagnose SELLER --log FILE``: the performance log.

Parses its options, calls one service function (:mod:`cxops.service.diagnose`) and renders the result
(:mod:`cxops.report.diagnose`); errors are domain errors printed by the top-level group.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from cxops.locale import LANGUAGES

console = Console()
err = Console(stderr=True)

Lang = StrEnum("Lang", {code: code for code in LANGUAGES})


class DiagnoseFormat(StrEnum):
    table = "table"
    json = "json"


#: Performance log file formats, by the file's suffix.
LOG_SUFFIXES = (".csv", ".parquet")


def diagnose(
    seller_id: str = typer.Argument(..., help="Seller id."),
    as_of: str = typer.Option(
        None, "--as-of", help="Last day of every window (YYYY-MM-DD; default: the last complete day of data)."
    ),
    marketplace: str = typer.Option(None, "--marketplace", help="Only this marketplace."),
    metric: str = typer.Option(
        None, "--metric", help="Break down this metric whatever its standing (e.g. late_shipment_rate)."
    ),
    near: float = typer.Option(
        None, "--near", help="'Near its bar': within this fraction of the bar (0.2 = 20 %, the default)."
    ),
    offset: int = typer.Option(0, "--offset", help="Skip this many groups per dimension (paging)."),
    limit: int = typer.Option(None, "--limit", help="Groups shown per dimension (default 10)."),
    log: Path = typer.Option(
        None,
        "--log",
        help="Write the performance log instead: every order in each window with its defect flags and "
        "reasons (.csv or .parquet).",
    ),
    fmt: DiagnoseFormat = typer.Option(DiagnoseFormat.table, "--format", "-f", help="table or json."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the text."),
    policy: str = typer.Option("customer-excellence", "--policy", "-p", help="Built-in pack or TOML file."),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Compute although the day is past the last complete day of data."
    ),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """Why a metric slips: for each metric that fails or is near its bar, the seller's defects by SKU,
    category, carrier, weekday and channel, each group's share and the rate without it (a Pareto).
    With --log FILE: every order of each window with its defect flags and reasons."""
    from cxops.cli import _date, _open, _policy
    from cxops.errors import InputError
    from cxops.service import diagnose as svc

    day: date | None = _date(as_of, "--as-of") if as_of else None
    pol = _policy(policy)
    if log is not None:
        if log.suffix.lower() not in LOG_SUFFIXES:
            raise InputError(f"--log {log}: name the file .csv or .parquet")
        wh = _open(warehouse, read_only=True)
        df = svc.log_frame(wh, pol, seller_id, day, marketplace_id=marketplace, allow_stale=allow_stale)
        path = svc.write_log(df, log)
        defects = int(df["is_defect"].sum())
        err.print(f"wrote {len(df):,} rows ({defects:,} defective) to {path}")
        return
    wh = _open(warehouse, read_only=True)
    diag = svc.diagnose(
        wh, pol, seller_id, day, marketplace_id=marketplace, metric=metric, offset=offset,
        near=svc.NEAR_FRACTION if near is None else near, limit=svc.DEFAULT_LIMIT if limit is None else limit,
        allow_stale=allow_stale,
    )  # fmt: skip
    _show(diag, fmt, lang.value)


def _show(diag, fmt: DiagnoseFormat, lang: str) -> None:
    from cxops.report.diagnose import diagnosis_dict, pareto_tables, sentences

    if fmt == DiagnoseFormat.json:
        sys.stdout.write(json.dumps(diagnosis_dict(diag, lang=lang), ensure_ascii=False, indent=2) + "\n")
        return
    for line in sentences(diag, lang=lang):
        console.print(line, highlight=False, markup=False, soft_wrap=not console.is_terminal)
    from cxops.cli_output import show

    for _, table, more in pareto_tables(diag, lang=lang):
        console.print()
        show(table, console)
        if more:
            console.print(more, highlight=False, markup=False)
