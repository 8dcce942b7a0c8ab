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

from cxops.metrics.records import Inputs
from cxops.metrics.unmeasured import Unmeasured, missing_inputs

RESPONSE_METRICS = ("late_response_rate", "median_first_response_hours")
#: What the response-time metrics need: buyer messages whose source provides the first human reply.
RESPONSE_NEEDS = [("buyer_messages", ("first_response_at",))]


def responses_unmeasured(inp: Inputs) -> Unmeasured | None:
    """Why the response-time metrics are not measured on ``inp``, or ``None`` when they are."""
    return missing_inputs(inp, RESPONSE_NEEDS)


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
    return m.group_by(keys).aggregate(
        messages=m.count(),
        late=m.f_late.sum(),
        replied=replied.ifelse(1, 0).sum(),
        median_hours=replied.ifelse(m.hours, ibis.null("float64")).median(),
    )
