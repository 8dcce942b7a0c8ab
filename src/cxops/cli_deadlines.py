"""``cxops compare-shipped``: the orders whose late-shipment result differs between two shipped events."""

from __future__ import annotations

import pandas as pd
import typer

from cxops.cli_daily import OutFormat, _emit
from cxops.cli_operations import _day

COLUMNS = ["seller_id", "marketplace_id", "order_id", "ship_by_date", "basis_result", "against_result"]
#: UTC instants of the differences (:func:`cxops.metrics.deadlines.shipped_differences`), written as ISO
#: 8601 with ``Z`` in CSV and JSON lines (empty / null when an event has none).
INSTANTS = ["latest_ship_at", "basis_at", "against_at"]


def compare_shipped(
    as_of: str = typer.Option(..., "--as-of", help="Last ship-by day of the window (YYYY-MM-DD, local)."),
    window: int = typer.Option(30, "--window", min=1, help="Days in the window."),
    basis: str = typer.Option("confirmation", "--basis", help="confirmation, first_scan or any."),
    against: str = typer.Option("first_scan", "--against", help="confirmation, first_scan or any."),
    seller: str = typer.Option(None, "--seller", "-s", help="Only this seller."),
    policy: str = typer.Option(None, "--policy", "-p", help="Take the other metric options from a policy."),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", "-f"),
    warehouse: str = typer.Option(None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL."),
):
    """Every MFN order due in the window that is late under one shipped event and not under the other
    (or left out of one), to reconcile with your own records (CSV / JSON lines for every order, with
    the ship-by deadline and the instant each event puts on the order, UTC)."""
    from cxops.cli import _open, _policy
    from cxops.service.shipped import compare_shipped_events

    day = _day(as_of, "--as-of")
    options = _policy(policy).metric_options if policy else None
    wh = _open(warehouse, read_only=True)
    df = compare_shipped_events(wh, day, window, basis, against, seller, options)
    for c in INSTANTS:
        t = pd.to_datetime(df[c])
        df[c] = t.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype(object).where(t.notna(), None)
    _emit(df, fmt, COLUMNS, f"{len(df)} order(s) whose result differs: {basis} vs {against}")
