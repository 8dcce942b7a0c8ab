"""``cxops reconcile``: every metric a marketplace reported, next to the same metric computed from raw data.

"Trust the number" (field cases, top ask 1): for each row of ``reported_metrics`` (Amazon's account
health report, imported by :mod:`cxops.ingest.amazon`, or any ``reported_metrics`` file) this computes
the same metric over the **same window** — ``window_from .. window_to``, however long and however
lagged — from the imported orders, shipments, feedback, claims …, gives both with their counts and the
difference, says whether they agree within the report's rounding, and names the likely causes of a
difference with the numbers behind them.

One job per module:

- :mod:`~cxops.reconcile.targets` — what each reported metric is computed as;
- :mod:`~cxops.reconcile.windows` — the report's own windows, report days and account states;
- :mod:`~cxops.reconcile.evidence` — the queries: window sums per family (by local and by UTC day,
  :mod:`cxops.metrics.windows`), the ODR evidence, the raw data's coverage;
- :mod:`~cxops.reconcile.compare` — verdicts;
- :mod:`~cxops.reconcile.causes` — likely causes;
- :mod:`~cxops.reconcile.results` — the typed result (no text: messages are catalog keys with their
  numbers, rendered by :mod:`cxops.report.reconcile`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from cxops.metrics.compute import load_inputs
from cxops.metrics.options import MetricOptions
from cxops.metrics.records import Inputs
from cxops.reconcile.compare import rows
from cxops.reconcile.evidence import gather
from cxops.reconcile.results import (
    ROW_COLUMNS,
    VERDICTS,
    Cause,
    Count,
    Counts,
    Listed,
    Message,
    Rate,
    Reconciliation,
    Term,
)
from cxops.reconcile.targets import ALIASES, NOT_COMPUTABLE, TARGETS, Target, resolve
from cxops.reconcile.windows import plan, reported_table


def _as_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def reconcile(
    wh,
    as_of: date | None = None,
    seller_ids=None,
    options: MetricOptions | None = None,
    *,
    inputs: Inputs | None = None,
    rate_decimals: int = 4,
    check_timezone: bool = True,
) -> Reconciliation:
    """Compare every reported metric with the same metric computed from the raw data, same window.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    as_of : date, optional
        Only reported rows whose ``window_to <= as_of``; ``None``: every reported row.
    seller_ids : iterable of str, optional
    options : MetricOptions, optional
        Metric semantics (a policy's ``[metric_options]``); defaults as in ``cxops metrics``.
    inputs : Inputs, optional
        Pre-loaded inputs.
    rate_decimals : int, default 4
        The precision a reported rate is assumed to carry at least (Amazon's rates have about four
        decimals): a rate agrees when it is within half a unit of the last decimal of the reported value
        (``max(decimals shown, rate_decimals)``). Counts must match exactly when both are given.
    check_timezone : bool, default True
        Also sum the facts by UTC day, to say when the report's UTC days explain a difference.

    Returns
    -------
    Reconciliation
        Its ``rows`` have one row per reported row (columns in
        :class:`~cxops.reconcile.results.Reconciliation`).

    Raises
    ------
    cxops.errors.NotFoundError
        If no ``reported_metrics`` table has been imported.
    """
    rm = reported_table(wh, as_of, seller_ids)
    rep = wh.execute(rm)
    if rep.empty:
        return Reconciliation(pd.DataFrame(columns=ROW_COLUMNS), as_of)
    rep = rep.reset_index(drop=True)
    for c in ("window_from", "window_to"):
        rep[c] = _as_date(rep[c])
    inp = inputs
    if inp is None and wh.has_table("orders"):
        inp = load_inputs(wh, options)
    if inp is not None and options is not None:
        inp.options = options
    p = plan(rep, inp)
    ctx = gather(wh, rm, rep, p, inp, seller_ids, check_timezone=check_timezone)
    return Reconciliation(rows(rep, p, ctx, rate_decimals, as_of), as_of)


__all__ = [
    "ALIASES",
    "NOT_COMPUTABLE",
    "ROW_COLUMNS",
    "TARGETS",
    "VERDICTS",
    "Cause",
    "Count",
    "Counts",
    "Listed",
    "Message",
    "Rate",
    "Reconciliation",
    "Target",
    "Term",
    "reconcile",
    "resolve",
]
