"""Command-line commands of the daily job: ``cxops run``, ``cxops alerts``, ``cxops seller events``.

Each parses its options, calls one service function and renders the result; errors are domain errors
(:mod:`cxops.errors`) printed by the top-level group.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxops.cli_operations import MARKETPLACE, PROGRAM, STORE, _day
from cxops.cli_output import show as show_table

console = Console()
err = Console(stderr=True)

#: Columns ``cxops alerts`` shows in a table (every column in JSON lines / CSV).
ALERT_TABLE = ["alert_date", "seller_id", "marketplace_id", "kind", "rule_id", "metric", "value", "threshold",
               "order_id", "rating", "projected_date", "orders_needed"]  # fmt: skip


class OutFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


def run(
    as_of: str = typer.Option(..., "--as-of", help="The day to run (YYYY-MM-DD, marketplace-local)."),
    policy: str = typer.Option("customer-excellence", "--policy", "-p", help="Built-in pack or TOML file."),
    rebuild_from: str = typer.Option(
        None, "--rebuild-from", help="Replay from the first data day and log the events from this day on."
    ),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Run although the day is past the last complete day of data."
    ),
    memory_limit: str = typer.Option(
        None,
        "--memory-limit",
        envvar="CXOPS_MEMORY_LIMIT",
        help="DuckDB's memory cap, e.g. 6GB (default: DuckDB's, 80 % of RAM); past it the engine spills "
        "to disk beside the warehouse.",
    ),
    store: str = STORE,
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """Advance the program to --as-of from its stored state (a missed day is filled; rerunning is a no-op).

    The first run (and --rebuild-from) replays the history in chunks of sellers
    (CXOPS_BUILD_CHUNK_SELLERS, default 5000)."""
    from cxops.cli import _bar, _open, _policy, _progress
    from cxops.service.daily import run_daily
    from cxops.service.stores import open_configured
    from cxops.warehouse import default_url

    day = _day(as_of, "--as-of")
    frm = _day(rebuild_from, "--rebuild-from")
    pol = _policy(policy)
    wh = _open(warehouse, memory_limit=memory_limit)
    with open_configured(store, warehouse=warehouse or default_url()) as s:
        with _progress() as bar:
            result = run_daily(wh, s, pol, day, allow_stale=allow_stale, rebuild_from=frm, progress=_bar(bar))
    for note in result.notes:
        err.print(f"note: {escape(note)}")
    if result.noop:
        return
    t = Table("day", "run", "memberships", "events", "alerts", "messages", "actions", "seconds",
              title=f"{pol.name}: {len(result.days)} run(s)"
              + (f", rebuilt from {result.rebuilt_from}" if result.rebuilt_from else ""))  # fmt: skip
    for d in result.days:
        c = d.counts
        t.add_row(str(d.day), str(d.run_id), str(c.get("memberships", 0)), str(c.get("events", 0)),
                  str(c.get("alerts", 0)), str(c.get("messages", 0)),
                  f"{c.get('actions_applied', 0)} applied, {c.get('actions_rejected', 0)} refused",
                  f"{d.timings.get('total', 0):.1f}")  # fmt: skip
    show_table(t, console)


def alerts(
    seller: str = typer.Option(None, "--seller", "-s", help="Only this seller."),
    marketplace: str = typer.Option(None, "--marketplace", help="Only this marketplace."),
    since: str = typer.Option(None, "--since", help="Alerts dated on or after this day."),
    kind: list[str] = typer.Option(None, "--kind", help="Only these kinds (repeatable)."),
    limit: int = typer.Option(200, "--limit", min=1, help="Newest N alerts."),
    program: str = PROGRAM,
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
    store: str = STORE,
):
    """Alerts of the daily job, newest first, with their evidence (JSON lines / CSV)."""
    from cxops.errors import InputError
    from cxops.service.stores import open_configured
    from cxops.store import ALERT_KINDS, load_alerts

    bad = sorted(set(kind or ()) - set(ALERT_KINDS))
    if bad:
        raise InputError(f"unknown alert kind {bad[0]!r}; known: {', '.join(ALERT_KINDS)}")
    with open_configured(store) as s:
        with s.unit_of_work(write=False) as session:
            df = load_alerts(
                session,
                program=program,
                seller_id=seller,
                marketplace_id=marketplace,
                kinds=list(kind or ()) or None,
                since=_day(since, "--since"),
                limit=limit,
            )
    _emit(df, fmt, ALERT_TABLE, f"{len(df)} alert(s) of {program}")


def seller_events(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    since: str = typer.Option(None, "--since", help="Events dated on or after this day."),
    kind: list[str] = typer.Option(None, "--kind", help="Only these kinds (repeatable)."),
    program: str = PROGRAM,
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
    store: str = STORE,
):
    """A seller's event log in order: transitions with the deciding metric, actions, alerts crossed."""
    from cxops.service.stores import open_configured
    from cxops.store import load_events

    with open_configured(store) as s:
        with s.unit_of_work(write=False) as session:
            df = load_events(session, program=program, seller_id=seller_id, marketplace_id=marketplace,
                             kinds=list(kind or ()) or None, on_or_after=_day(since, "--since"))  # fmt: skip
    cols = ["event_date", "kind", "from_state", "to_state", "rule_id", "metric", "value", "threshold",
            "actor", "reason"]  # fmt: skip
    _emit(df, fmt, cols, f"{len(df)} event(s) of {seller_id} on {marketplace}")


def _emit(df, fmt: OutFormat, columns: list[str], title: str) -> None:
    if fmt == OutFormat.jsonl:
        for rec in df.to_dict("records"):
            sys.stdout.write(json.dumps(rec, default=_plain, ensure_ascii=False) + "\n")
        return
    if fmt == OutFormat.csv:
        df.to_csv(sys.stdout, index=False)
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c.replace("_", " "))
    for rec in df[columns].itertuples(index=False):
        table.add_row(
            *["—" if v is None or (isinstance(v, float) and v != v) else escape(_short(v)) for v in rec]
        )
    show_table(table, console)


def _short(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _plain(v):
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return str(v)
