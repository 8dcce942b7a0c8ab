"""Cost trade-offs for one seller (``cxops advise costs``, the API and the seller's page).

Gathers what :func:`cxops.advisor.costs.advise_costs` needs from the warehouse — the seller's metrics
as of the evaluation's as-of day and its lifecycle state then, from the newest stored run
(:func:`cxops.service.scorecard.evaluation`) or, given an as-of day, an evaluation computed for the
seller (:func:`cxops.service.evaluation.explain_seller`, nothing stored); its primary category; its
returns requested in the 30 marketplace-local days to the as-of day — and the cost sheet
(:func:`cxops.advisor.cost_sheet.load_cost_sheet`). Nothing here writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from datetime import date as Date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from cxops.advisor.cost_sheet import CostSheet, load_cost_sheet
from cxops.advisor.costs import CostAdvice, Volumes, advise_costs
from cxops.canonical.marketplaces import timezone_of
from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.lifecycle.replay import STATE_COLUMNS
from cxops.policy.model import Policy

#: Days of the monthly volumes (the 30-day order counts and the returns in the same window).
MONTH_DAYS = 30


def _evaluation(wh, policy: Policy, seller_id: str, as_of: Date | None, allow_stale: bool):
    if as_of is not None:
        from cxops.service.evaluation import explain_seller

        return explain_seller(wh, policy, seller_id, as_of, allow_stale=allow_stale)[0]
    from cxops.service import scorecard as sc

    ev = sc.evaluation(wh, policy, seller_id)
    if ev is None:
        raise ConflictError(
            "no evaluation is stored yet: the cost trade-offs start from the seller's last evaluation",
            hint="run the daily job (cxops run) or cxops evaluate first, or pass --as-of DAY",
        )
    return ev


def _pick_marketplace(final: pd.DataFrame, seller_id: str, marketplace: str | None) -> str:
    known = sorted(final["marketplace_id"].unique()) if len(final) else []
    if not known:
        raise NotFoundError(f"seller {seller_id!r} has no evaluation (unknown id, or no data before then)")
    if marketplace is None:
        if len(known) > 1:
            raise InputError(
                f"seller {seller_id} sells on several marketplaces ({', '.join(known)})",
                hint="pass --marketplace",
            )
        return known[0]
    if marketplace not in known:
        raise NotFoundError(
            f"seller {seller_id} has no evaluation on marketplace {marketplace} (it has {', '.join(known)})"
        )
    return marketplace


def monthly_returns(wh, seller_id: str, marketplace_id: str, as_of: Date) -> float | None:
    """Returns requested in the :data:`MONTH_DAYS` marketplace-local days to ``as_of`` on orders of the
    seller on the marketplace; ``None`` when the warehouse has no returns table (not measured)."""
    if not (wh.has_table("returns") and wh.has_table("orders")):
        return None
    zone = ZoneInfo(timezone_of(marketplace_id))
    first = datetime.combine(as_of - timedelta(days=MONTH_DAYS - 1), time(), zone).astimezone(UTC)
    end = datetime.combine(as_of + timedelta(days=1), time(), zone).astimezone(UTC)
    r, o = wh.table("returns"), wh.table("orders")
    naive = r.requested_at.type().timezone is None
    lo, hi = (first.replace(tzinfo=None), end.replace(tzinfo=None)) if naive else (first, end)
    r = r.filter((r.seller_id == seller_id) & (r.requested_at >= lo) & (r.requested_at < hi))
    o = o.filter((o.seller_id == seller_id) & (o.marketplace_id == marketplace_id)).select("order_id")
    return float(wh.execute(r.semi_join(o, "order_id").count()))


def _volume(metrics: pd.DataFrame, channel: str) -> float:
    m = metrics[
        (metrics["metric"] == "order_count")
        & (metrics["channel"] == channel)
        & (metrics["window_days"].astype("Int64").fillna(-1) == MONTH_DAYS)
    ]
    return 0.0 if m.empty or pd.isna(m["value"].iloc[0]) else float(m["value"].iloc[0])


def volumes_of(metrics: pd.DataFrame, returns: float | None, sheet: CostSheet) -> Volumes:
    """Monthly volumes: the 30-day order counts per channel and the returns, unless the sheet gives them."""
    given = sheet.volumes
    measured = {
        "orders_mfn": _volume(metrics, "mfn"),
        "orders_afn": _volume(metrics, "afn"),
        "returns": returns,
    }
    values, origin = {}, {}
    for name, value in measured.items():
        over = getattr(given, name)
        values[name] = over if over is not None else value
        origin[name] = "sheet" if over is not None else ("measured" if value is not None else "none")
    return Volumes(values["orders_mfn"], values["orders_afn"], values["returns"], origin)


def seller_costs(
    wh,
    policy: Policy,
    seller_id: str,
    *,
    marketplace: str | None = None,
    as_of: Date | None = None,
    costs: str | Path | CostSheet | None = None,
    allow_stale: bool = False,
) -> CostAdvice:
    """The cost trade-offs of a seller on one marketplace (:func:`cxops.advisor.costs.advise_costs`).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    policy : Policy
    seller_id : str
    marketplace : str, optional
        Needed when the seller sells on several.
    as_of : datetime.date, optional
        Evaluate as of this day (computed for the seller, nothing stored); default: the newest stored
        run of the policy.
    costs : str, Path or CostSheet, optional
        The seller's cost sheet (a ``.toml`` / ``.csv`` file, or a sheet already built, e.g. by
        :func:`cxops.advisor.cost_sheet.cost_sheet_from`); default: the reference figures alone.
    allow_stale : bool

    Raises
    ------
    InputError
        A bad cost sheet (file, field, reason), several marketplaces and none chosen.
    NotFoundError
        The seller (or the marketplace) has no evaluation.
    ConflictError
        No stored run and no ``as_of``.
    StaleDataError
        As :func:`cxops.service.evaluation.run_evaluation`.
    """
    sheet = costs if isinstance(costs, CostSheet) else load_cost_sheet(costs)  # fails before computing
    ev = _evaluation(wh, policy, seller_id, as_of, allow_stale)
    try:
        final = ev.frame("final", [seller_id])
        mp = _pick_marketplace(final, seller_id, marketplace)
        day = ev.as_of
        metrics = ev.frame("metrics", [seller_id], lambda t: t.as_of == day)
        metrics = metrics[metrics["marketplace_id"] == mp].reset_index(drop=True)
        if metrics.empty:
            raise NotFoundError(f"seller {seller_id} has no metrics on {mp} as of {day}")
        state = final[final["marketplace_id"] == mp][STATE_COLUMNS].reset_index(drop=True)
        sellers = None
        if wh.has_table("sellers"):
            s = wh.table("sellers")
            s = s.filter((s.seller_id == seller_id) & (s.marketplace_id == mp))
            sellers = wh.execute(s.select("seller_id", "marketplace_id", "primary_category"))
        vols = volumes_of(metrics, monthly_returns(wh, seller_id, mp, day), sheet)
        notes = list(ev.notes)
    finally:
        ev.discard()
    advice = advise_costs(policy, metrics, state, sheet, vols, sellers)
    advice.notes.extend(notes)
    return advice


def rates_sheet(currency: str | None, rates: dict[str, float | None]) -> CostSheet:
    """A sheet of the reference figures with the rates given (``None`` left out), e.g. from a web form.

    Raises
    ------
    InputError
        As :func:`cxops.advisor.cost_sheet.cost_sheet_from`.
    """
    from cxops.advisor.cost_sheet import cost_sheet_from

    data: dict = {"rates": {k: v for k, v in rates.items() if v is not None}}
    if currency:
        data["currency"] = currency
    return cost_sheet_from(data, "request")
