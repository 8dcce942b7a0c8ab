"""The response-time metrics' one aggregation: late response rate and median first response time.

Both metrics read the buyer messages of :func:`cxops.metrics.records.messages`. A message counts in a
window once its outcome is known by the window's end (answered, or its response limit passed; a message
still inside its limit is pending, case C18); it is *replied* when its first human reply came by then.
:func:`response_sums` is the aggregation every query uses — as of a day, as a daily series
(:mod:`cxops.metrics.compute`) and over arbitrary windows (:mod:`cxops.metrics.windows`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxops.metrics.catalog import MetricDef, family_metrics
from cxops.metrics.records import Inputs
from cxops.metrics.unmeasured import Unmeasured, missing_inputs

MESSAGES = "messages"
"""The buyer-message population (catalog ``family``)."""

#: The catalog metrics of the buyer-message population (late response rate, median first response time).
RESPONSE_METRICS: tuple[str, ...] = tuple(m.name for m in family_metrics(MESSAGES))

#: What the response-time metrics need (their catalog ``requires``): buyer messages whose source
#: provides the first human reply.
RESPONSE_NEEDS = [
    (n.tables, n.columns) for n in dict.fromkeys(r for m in family_metrics(MESSAGES) for r in m.requires)
]

#: The response-time metrics' window lengths (days), from the catalog.
RESPONSE_WINDOWS: tuple[int, ...] = tuple(sorted({w for m in family_metrics(MESSAGES) for w in m.windows}))


def responses_unmeasured(inp: Inputs) -> Unmeasured | None:
    """Why the response-time metrics are not measured on ``inp``, or ``None`` when they are."""
    return missing_inputs(inp, RESPONSE_NEEDS)


def median_column(m: MetricDef) -> str:
    """Name of the sum column holding a ``median`` metric's median (``median_hours``)."""
    return f"median_{m.median_of}"


def response_sums(m: ir.Table, keys: list[str], replied: ir.BooleanValue) -> ir.Table:
    """Per group of ``keys``: the sums behind the response-time metrics.

    Parameters
    ----------
    m : ibis.Table
        Messages (:func:`cxops.metrics.records.messages` rows, with ``f_late`` and ``hours``) already
        restricted to those resolved by the end of each group's window.
    keys : list of str
        Grouping columns (seller, marketplace, and the as-of day or window).
    replied : boolean column of ``m``
        Whether the message's first human reply came by the end of its window (null: not replied).

    Returns
    -------
    ibis.Table
        ``keys`` + ``messages`` (count), ``late`` (messages without a reply within the limit),
        ``replied`` (count) and ``median_hours`` (median clock hours to the first reply of the replied
        messages; null when none).
    """
    replied = replied.fill_null(False)
    aggs: dict[str, ir.Value] = {}
    for d in family_metrics(MESSAGES):
        if d.aggregation == "median":  # over the messages replied to by the window's end
            aggs[d.denominator.name] = replied.ifelse(1, 0).sum()
            aggs[median_column(d)] = replied.ifelse(m[d.median_of], ibis.null("float64")).median()
        else:
            for s in d.sums:
                aggs.setdefault(s.name, m.count() if s.column is None else m[s.column].sum())
    return m.group_by(keys).aggregate(**aggs)
