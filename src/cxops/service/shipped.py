"""Which orders change result between two "shipped" events (seller confirmation, first scan, any signal).

The use case behind ``cxops compare-shipped``: a seller whose marketplace judges shipping on the
carrier's first scan (or on any signal) reconciles, order by order, with the confirmations in their
own records.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cxops.errors import InputError
from cxops.metrics.compute import load_inputs
from cxops.metrics.deadlines import shipped_differences
from cxops.metrics.options import MetricOptions

EVENTS = ("confirmation", "first_scan", "any")


def compare_shipped_events(
    wh,
    as_of: date,
    window_days: int = 30,
    basis: str = "confirmation",
    against: str = "first_scan",
    seller_id: str | None = None,
    options: MetricOptions | None = None,
) -> pd.DataFrame:
    """Every MFN order due in the window whose late-shipment result differs between ``basis`` and ``against``.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    as_of : datetime.date
        Last marketplace-local ship-by day of the window (inclusive).
    window_days : int
        Days in the window (``as_of - (window_days - 1)`` … ``as_of``).
    basis, against : {"confirmation", "first_scan", "any"}
    seller_id : str, optional
        One seller (default: every seller).
    options : MetricOptions, optional
        The policy's other metric options (cancelled orders in the population …).

    Returns
    -------
    pandas.DataFrame
        See :func:`cxops.metrics.deadlines.shipped_differences`.

    Raises
    ------
    InputError
        An unknown event or a window shorter than one day.
    cxops.errors.NotFoundError
        No orders in the warehouse.
    """
    for e in (basis, against):
        if e not in EVENTS:
            raise InputError(f"unknown shipped event {e!r}", hint=f"use one of {', '.join(EVENTS)}")
    if window_days < 1:
        raise InputError(f"window of {window_days} days: use at least 1")
    try:
        inp = load_inputs(wh, options)
    except KeyError as e:
        from cxops.errors import NotFoundError

        raise NotFoundError(str(e.args[0])) from None
    if "shipments" not in inp.tables:
        raise InputError("no shipments in the warehouse: nothing to compare", hint="import shipments first")
    if seller_id is not None:
        inp.tables = {
            t: (v.filter(v.seller_id == seller_id) if "seller_id" in v.columns else v)
            for t, v in inp.tables.items()
        }
    first = as_of - timedelta(days=window_days - 1)
    return shipped_differences(inp, first, as_of, basis, against, wh.execute)


def seller_shipped_differences(
    wh,
    policy,
    seller_id: str,
    marketplace_id: str,
    as_of: date | None = None,
    window_days: int = 30,
    basis: str = "confirmation",
    against: str = "first_scan",
) -> tuple[date, pd.DataFrame]:
    """:func:`compare_shipped_events` for one seller on one marketplace, with the policy's metric
    options, as of ``as_of`` or the last complete day of data (the seller's page and API).

    Returns
    -------
    (datetime.date, pandas.DataFrame)
        The window's last day and the differing orders (columns as :func:`compare_shipped_events`).

    Raises
    ------
    NotFoundError
        No orders in the warehouse.
    StaleDataError
        ``as_of`` past the last complete day of data.
    InputError
        As :func:`compare_shipped_events`.
    """
    from cxops.service.diagnose import checked_day

    day = checked_day(wh, as_of, "shipped events")
    df = compare_shipped_events(wh, day, window_days, basis, against, seller_id, policy.metric_options)
    return day, df[df["marketplace_id"] == marketplace_id].reset_index(drop=True)
