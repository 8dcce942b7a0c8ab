"""The report's own windows: which reported rows, the day each report was produced, what each row is.

A reported row carries its window (``window_from .. window_to``, however long and however lagged); the
report's day — ``reported_at``, else the newest window end of the same seller and file (Amazon's newest
windows end on the report date), else the as-of date — places the row in time (what the report could
have known, which account status it came with).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxops.errors import NotFoundError
from cxops.metrics.records import Inputs
from cxops.metrics.windows import WINDOW_KEYS
from cxops.reconcile.results import Message
from cxops.reconcile.targets import Target, canonical_name, computed_channel, no_orders, not_measured, resolve

#: Reported rows that are states of the account, not metrics: canonical name → output column.
ACCOUNT_STATES = {"account_status": "account_status", "ahr_status": "ahr_status"}


def reported_table(wh, as_of: date | None, seller_ids) -> ir.Table:
    """The ``reported_metrics`` rows to reconcile: windows ending by ``as_of``, of ``seller_ids``.

    Raises
    ------
    NotFoundError
        If no ``reported_metrics`` table has been imported.
    """
    if not wh.has_table("reported_metrics"):
        raise NotFoundError(
            f"no reported metrics in the warehouse {wh.url}: import a marketplace report first "
            "(for example Amazon's account health report)",
            hint="cxops import amazon --seller ID --marketplace US <account health report>.json",
        )
    rm = wh.table("reported_metrics")
    if as_of is not None:
        rm = rm.filter(rm.window_to <= as_of)
    if seller_ids is not None:
        rm = rm.filter(rm.seller_id.isin(list(seller_ids)))
    return rm


def report_instants(rm: ir.Table) -> ir.Table:
    """``rm`` with ``_at``: ``reported_at``, else the end of the report's day (the latest ``window_to``
    of the same seller and source file; see :func:`report_days`)."""
    latest = rm.window_to.max().over(ibis.window(group_by=[rm.seller_id, rm.source_file]))
    end_of_day = (latest + ibis.interval(days=1)).cast("timestamp")
    at = rm.reported_at.fill_null(rm.source_file.notnull().ifelse(end_of_day, ibis.null("timestamp")))
    return rm.mutate(_at=at)


def _nan(x) -> bool:
    return x is None or x is pd.NaT or x is pd.NA or (isinstance(x, float) and x != x)


def report_days(rep: pd.DataFrame, as_of: date | None) -> list[date | None]:
    """The day each report was produced: ``reported_at``'s date, else the latest ``window_to`` of the
    same seller and source file (Amazon's newest windows end on the report date), else ``as_of``."""
    at = pd.to_datetime(rep["reported_at"]).dt.date
    source = rep["source_file"].astype(object).where(rep["source_file"].notna(), None)
    latest = pd.Series(rep["window_to"].to_numpy(), index=rep.index)
    grouped = latest.groupby([rep["seller_id"], source], dropna=True).transform("max")
    out = []
    for a, src, g in zip(at, source, grouped.reindex(rep.index), strict=True):
        if not _nan(a):
            out.append(a)
        elif src is not None and not _nan(g):
            out.append(g)
        else:
            out.append(as_of)
    return out


def plan(rep: pd.DataFrame, inp: Inputs | None) -> pd.DataFrame:
    """What each reported row is computed as.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``rep``: ``WINDOW_KEYS``, ``metric, channel`` and ``target`` (the cxops metric),
        ``family`` (null when not computable), ``num_col, den_col, kind`` (:class:`Target`), ``reason``
        (:class:`Message` or None), ``no_orders`` (no orders imported at all), ``computable`` and
        ``used_channel`` (the channel cxops computes, :func:`computed_channel`).
    """
    resolved = [resolve(m, inp) for m in rep.metric]
    targets = [t for t, _ in resolved]
    reasons: list[Message | None] = [r for _, r in resolved]
    measured: dict[Target, Message | None] = {}
    for i, t in enumerate(targets):
        if reasons[i] is not None:
            continue
        if inp is None:
            reasons[i] = no_orders()
        else:
            if t not in measured:
                measured[t] = not_measured(t, inp)
            reasons[i] = measured[t]
    p = rep[[*WINDOW_KEYS, "metric", "channel"]].copy()
    p["target"] = [t.metric if t else None for t in targets]
    p["num_col"] = [t.numerator if t else None for t in targets]
    p["den_col"] = [t.denominator if t else None for t in targets]
    p["kind"] = [t.kind if t else None for t in targets]
    p["reason"] = pd.Series(reasons, index=rep.index, dtype=object)
    p["no_orders"] = inp is None
    p["computable"] = [r is None for r in reasons]
    p["family"] = [t.family if (t and r is None) else None for t, r in zip(targets, reasons, strict=True)]
    p["used_channel"] = [
        computed_channel(f, ch) if isinstance(f, str) else None
        for f, ch in zip(p.family, p.channel, strict=True)
    ]
    return p


def reported_account(rep: pd.DataFrame, days: list[date | None]) -> pd.DataFrame:
    """Per reported row, the account states reported with it (see :data:`ACCOUNT_STATES`).

    The state of a row is the latest one reported for the same seller and marketplace on or before the
    row's report day (``days``); without a report day, the latest one reported.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``rep``: one column per state (``account_status``, ``ahr_status``), the reported
        ``status`` verbatim or None.
    """
    n = len(rep)
    out = pd.DataFrame(index=rep.index)
    rows = pd.DataFrame(
        {
            "seller_id": rep.seller_id.to_numpy(),
            "marketplace_id": rep.marketplace_id.to_numpy(),
            "_i": range(n),
            "_day": pd.Series(days, dtype=object).to_numpy(),
        }
    )
    names = rep.metric.map(canonical_name)
    for metric, col in ACCOUNT_STATES.items():
        st = rep.loc[
            (names == metric) & rep.status.notna(), ["seller_id", "marketplace_id", "window_to", "status"]
        ]
        found = pd.Series([None] * n, dtype=object)
        if len(st):
            m = rows.merge(st, on=["seller_id", "marketplace_id"], how="inner")
            m = m[[_nan(d) or w <= d for d, w in zip(m._day, m.window_to, strict=True)]]
            m = m.sort_values(["_i", "window_to"], kind="stable").groupby("_i").tail(1)
            found.loc[m._i.to_numpy()] = m.status.astype(object).to_numpy()
        out[col] = found.to_numpy()
    return out
