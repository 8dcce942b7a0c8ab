"""Verdicts: does a computed number agree with the reported one, and if not, is there anything to compare.

- **agrees** — every count the report gives matches exactly, and the rate matches to the report's
  rounding (half a unit of its last decimal, at least ``rate_decimals`` decimals);
- **differs** — the raw data has numbers for the window, and they do not agree;
- **no_raw_data** — the report has a population, a count or a rate, and the raw data has no orders for
  that seller and marketplace, or none of the metric's population in the window;
- **not_computable** — cxops does not reproduce the figure, or its source was not imported
  (:func:`cxops.reconcile.targets.resolve`, :func:`cxops.reconcile.targets.not_measured`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from cxops.metrics.catalog import CATALOG
from cxops.reconcile.causes import coverage, likely_causes
from cxops.reconcile.results import ROW_COLUMNS, Message, Term
from cxops.reconcile.windows import report_days, reported_account


def _nan(x) -> bool:
    try:
        return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and math.isnan(x))
    except TypeError:
        return False


def decimals(x: float) -> int:
    """The number of decimals ``x`` is written with (at most 13)."""
    for d in range(0, 13):
        if abs(round(x, d) - x) <= 1e-12 * max(1.0, abs(x)):
            return d
    return 13


def agree(row: Mapping[str, Any], rate_decimals: int) -> bool:
    """Whether the computed numbers of ``row`` agree with the reported ones (see the module doc)."""
    for rep, cmp_ in (
        ("reported_numerator", "computed_numerator"),
        ("reported_denominator", "computed_denominator"),
    ):
        r = row[rep]
        if not _nan(r):
            c = row[cmp_]
            if _nan(c) or abs(c - r) > 1e-9 * max(1.0, abs(r)):
                return False
    rr = row["reported_rate"]
    if _nan(rr):
        return True
    cr = row["computed_rate"]
    if _nan(cr):
        return False
    d = max(decimals(rr), rate_decimals)
    return abs(cr - rr) <= 0.5 * 10.0**-d + 1e-12


#: The population each family's rate is over (``reconcile.population.<family>``).
POPULATIONS = (
    "order_defects",
    "late_shipments",
    "cancellations",
    "tracking",
    "deliveries",
    "unit_deliveries",
    "ratings",
    "orders",
    "messages",
)


def no_raw_data(row: Mapping[str, Any]) -> Message | None:
    """Why the raw data has nothing to compare for this row, or None.

    Only when the report has something (a population, a count or a rate): the seller has no orders in
    the marketplace, or none of the metric's population in the window. Other counts (violations,
    overdue shipments) are compared whatever they are.
    """
    kind = row["kind"]
    rep_den, rep_num, rep_rate = row["reported_denominator"], row["reported_numerator"], row["reported_rate"]
    if kind == "count":
        reported = not _nan(rep_num) and rep_num > 0
    else:
        reported = (not _nan(rep_den) and rep_den > 0) or (_nan(rep_den) and not _nan(rep_rate))
    if not reported:
        return None
    if _nan(row.get("first_day")):
        return Message(
            "reconcile.no_raw_data.no_orders",
            {"seller": row["seller_id"], "marketplace": row["marketplace_id"]},
        )
    if kind == "count" and row["family"] != "orders":
        return None  # a count of 0 is a value (violations, overdue shipments): compared as such
    computed = row["computed_numerator"] if kind == "count" else row["computed_denominator"]
    if _nan(computed) or computed == 0:
        family = row.get("family")
        population = family if family in POPULATIONS else "records"
        return Message(
            "reconcile.no_raw_data.no_population",
            {
                "population": Message(f"reconcile.population.{population}"),
                "seller": row["seller_id"],
                "marketplace": row["marketplace_id"],
                "start": row["window_from"],
                "end": row["window_to"],
                "coverage": coverage(row),
            },
        )
    return None


def computed_as(target: str, family: str, channel: str) -> Message:
    """The cxops metric and channel a row is computed as (units counted as shipments said so)."""
    params = {"metric": Term("metric", target), "channel": Term("channel", channel)}
    if target == "unit_on_time_delivery_rate" and family == "deliveries":
        return Message(
            "reconcile.computed_as_shipments", {**params, "metric": Term("metric", "on_time_delivery_rate")}
        )
    return Message("reconcile.computed_as", params)


def rows(rep: pd.DataFrame, plan: pd.DataFrame, ctx: pd.DataFrame, rate_decimals: int, as_of) -> pd.DataFrame:
    """The typed rows of :class:`cxops.reconcile.results.Reconciliation` (columns ``ROW_COLUMNS``)."""
    out = pd.DataFrame(
        {
            "seller_id": rep.seller_id,
            "marketplace_id": rep.marketplace_id,
            "metric": rep.metric,
            "channel": rep.channel,
            "window_from": rep.window_from,
            "window_to": rep.window_to,
        }
    )
    out["window_days"] = pd.Series(
        [(t - f).days + 1 for f, t in zip(rep.window_from, rep.window_to, strict=True)], dtype="Int64"
    )
    out["reported_numerator"] = pd.to_numeric(rep.numerator).astype("float64")
    out["reported_denominator"] = pd.to_numeric(rep.denominator).astype("float64")
    out["reported_rate"] = pd.to_numeric(rep.rate).astype("float64")
    for c in ("computed_numerator", "computed_denominator", "computed_rate"):
        out[c] = ctx[c].astype("float64").where(plan.computable)
    ref_rate = out.reported_rate.where(
        out.reported_rate.notna(),
        (out.reported_numerator / out.reported_denominator).where(out.reported_denominator > 0),
    )
    out["diff_rate"] = out.computed_rate - ref_rate
    out["diff_numerator"] = out.computed_numerator - out.reported_numerator
    out["diff_denominator"] = out.computed_denominator - out.reported_denominator
    days = report_days(rep, as_of)
    verdicts, reasons, causes = [], [], []
    for i, (row, c, r) in enumerate(
        zip(out.to_dict("records"), ctx.to_dict("records"), rep.to_dict("records"), strict=True)
    ):
        ctx_row = {
            **c,
            **row,
            "window_days_reported": r.get("window_days"),
            "reported_at": r.get("reported_at"),
        }
        ctx_row["as_of"] = as_of
        ctx_row["report_day"] = days[i]
        if not c["computable"]:
            verdict = "no_raw_data" if c.get("no_orders") and c["target"] else "not_computable"
            reason = c["reason"]
        else:
            reason = no_raw_data(ctx_row)
            verdict = "no_raw_data" if reason else ("agrees" if agree(ctx_row, rate_decimals) else "differs")
        ctx_row["verdict"] = verdict
        verdicts.append(verdict)
        reasons.append(reason)
        causes.append(likely_causes(ctx_row) if verdict in ("agrees", "differs") else [])
    out["agrees"] = pd.Series([v == "agrees" for v in verdicts], dtype="bool")
    out["verdict"] = verdicts
    out["reason"] = pd.Series(reasons, dtype=object)
    out["likely_causes"] = pd.Series(causes, dtype=object)
    out["computed_as"] = pd.Series(
        [
            computed_as(t, f, ch) if ok else None
            for t, f, ch, ok in zip(plan.target, plan.family, plan.used_channel, plan.computable, strict=True)
        ],
        dtype=object,
    )
    out["reported_status"] = rep.status
    for c in ("target_value", "target_condition", "source_metric", "source_file", "reported_at"):
        out[c] = rep[c]
    account = reported_account(rep, days)
    for c in account.columns:
        out[c] = account[c].to_numpy()
    order = {m: i for i, m in enumerate(CATALOG)}
    out["_o"] = [order.get(t, len(order)) for t in plan.target]
    out = out.sort_values(
        ["seller_id", "marketplace_id", "_o", "metric", "window_to", "channel"], kind="stable"
    )
    return out.drop(columns="_o").reset_index(drop=True)[ROW_COLUMNS]
