"""Metrics over arbitrary windows: any ``[window_from, window_to]`` per seller, not only N days to an as-of.

A marketplace reports each metric over its own window (Amazon's order defect rate: 60 days ending about
two weeks before the report). The sums here are the catalog's own — each family's seller-day facts
(:meth:`cxops.metrics.families.Family.facts`) and the response-time aggregation
(:func:`cxops.metrics.responses.response_sums`) — joined to a table of windows on ``seller_id,
marketplace_id`` and ``day BETWEEN window_from AND window_to``: one query for every window of a family,
on any engine. :func:`utc_day_inputs` recounts the same facts by UTC day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import ibis.expr.types as ir

from cxops.metrics import records
from cxops.metrics.families import Family
from cxops.metrics.records import Inputs
from cxops.metrics.responses import response_sums

#: Columns that identify a window (``window_from``, ``window_to``: inclusive local dates).
WINDOW_KEYS = ["seller_id", "marketplace_id", "window_from", "window_to"]


def window_join(windows: ir.Table, rows: ir.Table) -> ir.Table:
    """``rows`` joined to each window of their seller and marketplace that contains their ``day``.

    Parameters
    ----------
    windows : ibis.Table
        ``seller_id, marketplace_id, window_from, window_to`` (dates, inclusive) and any other columns.
    rows : ibis.Table
        Records or facts with ``seller_id, marketplace_id, day``.

    Returns
    -------
    ibis.Table
        One row per (window, row) pair with the row's day in the window; the columns of both (the
        join keys once).
    """
    return windows.join(
        rows,
        [
            windows.seller_id == rows.seller_id,
            windows.marketplace_id == rows.marketplace_id,
            rows.day >= windows.window_from,
            rows.day <= windows.window_to,
        ],
    )


def window_sums(facts: ir.Table, windows: ir.Table, sums) -> ir.Table:
    """Sum seller-day facts over arbitrary inclusive windows, one row per window and channel.

    Parameters
    ----------
    facts : ibis.Table
        ``seller_id, marketplace_id, channel, day`` + sum columns (a family's facts; other columns
        such as a ``basis`` label are kept as grouping keys).
    windows : ibis.Table
        ``seller_id, marketplace_id, window_from, window_to`` (dates, inclusive), distinct.
    sums : iterable of str
        Sum columns of ``facts``.

    Returns
    -------
    ibis.Table
        ``seller_id, marketplace_id, window_from, window_to, channel`` (+ extra keys) + one column per
        sum. Windows with no facts have no rows (their sums are 0).
    """
    sums = list(sums)
    keys = [c for c in facts.columns if c not in ("day", *sums)]
    j = window_join(windows, facts)
    return j.group_by(["window_from", "window_to", *keys]).aggregate(**{c: j[c].sum() for c in sums})


def family_facts(inp: Inputs, fam: Family, first_day: date, last_day: date, seller_ids=None) -> ir.Table:
    """A family's seller-day facts on the local days ``[first_day, last_day]``, optionally of some sellers.

    The facts are the catalog's (:meth:`Family.facts`, materialised once when ``inp.reuse`` is on).
    """
    f = inp.cached(fam.name, fam.facts)
    f = f.filter((f.day >= first_day) & (f.day <= last_day))
    if seller_ids is not None:
        f = f.filter(f.seller_id.isin(list(seller_ids)))
    return f


def utc_day_inputs(inp: Inputs) -> Inputs:
    """``inp`` with every record placed on its **UTC** day instead of its marketplace-local day.

    Reports date their windows in UTC days (Amazon's ``reportingDateRange``); recounting by UTC day
    tells whether the time zone explains a difference. The copy shares the tables, never the facts
    cache, and is not reused.
    """
    return replace(inp, zones={}, reuse=False, _cache={})


def response_window_sums(inp: Inputs, windows: ir.Table) -> ir.Table:
    """Response-time sums over arbitrary windows (:func:`cxops.metrics.responses.response_sums`).

    A message counts in a window when received on one of its local days and resolved by its last day;
    it is replied when its first human reply came by then (the as-of semantics with
    ``as_of = window_to``).

    Returns
    -------
    ibis.Table
        ``seller_id, marketplace_id, window_from, window_to, channel`` (``all``) + ``messages, late,
        replied, median_hours``.
    """
    j = window_join(windows, records.messages(inp))
    j = j.filter(j.resolved_day <= j.window_to)
    return response_sums(j, [*WINDOW_KEYS, "channel"], j.responded_day <= j.window_to)
