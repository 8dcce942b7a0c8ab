"""Measure the generator's Olist figures on the real data (the script behind :data:`OLIST`).

:func:`measure_olist` recomputes every figure of :data:`cxops.synth.calibration.OLIST` from the Olist
"Brazilian E-Commerce Public Dataset" copy described in ``shared/data/olist-brazilian-ecommerce/SOURCE.md``
(pandas only). The generator needs no data at run time: the figures are kept as constants and a test
compares them with a fresh measurement when the data are present. Run it by hand with::

    python -m cxops.synth.measure ../shared/data/olist-brazilian-ecommerce

How each figure is measured
---------------------------
* **Rates and delays** use the random orders subset ``partial/...thnsoliveira_random_20000.csv``
  (20,000 orders, the only random subset; the union file over-represents non-delivered orders), joined
  to the full ``olist_order_items_dataset.parquet`` for the per-item ``shipping_limit_date`` (the
  ship-by deadline). All Olist timestamps are naive Brazil local time on both sides, so differences
  need no time-zone handling.
* *Late hand-over*: an item is late when ``order_delivered_carrier_date > shipping_limit_date``
  (items of orders with a carrier date). *Hand-over delay* = carrier date − shipping limit, in days.
  Per seller order (the unit of the late shipment rate) an order is late if any of its items is; the
  *per-seller* spread is a logit-normal fitted by the method of moments to the per-seller late shares
  of the sellers with at least 20 seller orders in the subset, the binomial noise of each seller's
  share subtracted from the observed variance (:func:`logit_normal_fit`).
* *On-time hand-over position*: for seller orders handed over on time, (hand-over − purchase) /
  (shipping limit − purchase), the fraction of the handling window used.
* *Late delivery*: a delivered order is late when ``order_delivered_customer_date`` falls after the
  end of the (date-only) ``order_estimated_delivery_date``; the delay is measured from that day's end;
  also split by whether the hand-over was late.
* *Lost*: orders handed over to the carrier (carrier date present) that were never delivered.
* *Cancellation share*: orders with status ``canceled`` or ``unavailable``.
* *Review mix*: ``review_score`` of the random reviews subset (20,000 reviews); *by experience*: the
  union orders joined to the union reviews, split into on-time, late and not-delivered orders (the union
  over-samples not-delivered orders, which does not bias a mix measured *within* each group). The
  *per-seller* spread of the 1–2★ share is a logit-normal fitted like the late hand-over one (random
  reviews joined to the items' sellers, sellers with at least 20 reviews).
* *Seller size*: distinct orders per seller in the full items table (3,095 sellers, 100,010 seller
  orders, 2016-09 .. 2018-09); ``log_orders_sd`` is the standard deviation of ln(orders per seller).
* *Week and day shape*: purchase weekday and 3-hour bucket of the random orders subset.
* *Units and products*: item rows (one per unit) and distinct products per (order, seller) in the full
  items table; *price spread*: standard deviation of ln(item ``price``) in the full items table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: Smallest number of seller orders (reviews) for a seller's share to enter a per-seller fit.
MIN_PER_SELLER = 20


def _q(s: pd.Series, qs: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(float(v), 3) for v in s.quantile(list(qs)).to_numpy())


def _mix(s: pd.Series, values: tuple[int, ...] = (1, 2, 3, 4, 5), digits: int = 4) -> tuple[float, ...]:
    shares = s.value_counts(normalize=True)
    return tuple(round(float(shares.get(v, 0.0)), digits) for v in values)


def logit_normal_fit(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Logit-normal ``(mu, sd)`` of per-unit probabilities from counts ``k`` of ``n`` trials each.

    The method of moments: the mean of the fitted distribution equals the pooled share ``sum(k) /
    sum(n)`` and its variance equals the variance of the observed shares ``k / n`` minus their mean
    binomial variance ``p (1 - p) / n`` (the part of the spread that is sampling noise). Moments of
    the logit-normal are computed by Gauss–Hermite quadrature (deterministic).

    Returns
    -------
    tuple of float
        ``mu`` and ``sd`` of the normal on the logit scale, rounded to 2 decimals.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    pooled = k.sum() / n.sum()
    target_var = max(float(np.var(k / n, ddof=1) - np.mean(pooled * (1 - pooled) / n)), 1e-8)
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()

    def moments(mu: float, sd: float) -> tuple[float, float]:
        p = 1 / (1 + np.exp(-(mu + sd * x)))
        m = float(w @ p)
        return m, float(w @ (p - m) ** 2)

    def mu_for(sd: float) -> float:
        lo, hi = -15.0, 15.0
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if moments(mid, sd)[0] < pooled else (lo, mid)
        return (lo + hi) / 2

    lo, hi = 0.0, 5.0
    for _ in range(60):
        sd = (lo + hi) / 2
        lo, hi = (sd, hi) if moments(mu_for(sd), sd)[1] < target_var else (lo, sd)
    sd = (lo + hi) / 2
    return round(mu_for(sd), 2), round(sd, 2)


def _per_seller_fit(flags: pd.DataFrame, col: str) -> tuple[float, float]:
    g = flags.groupby("seller_id")[col].agg(["sum", "size"])
    g = g[g["size"] >= MIN_PER_SELLER]
    return logit_normal_fit(g["sum"].to_numpy(), g["size"].to_numpy())


def measure_olist(directory: str | Path) -> dict[str, object]:
    """Recompute the :data:`cxops.synth.calibration.OLIST` figures from an Olist data directory.

    Parameters
    ----------
    directory : str or Path
        The ``olist-brazilian-ecommerce`` directory (with ``partial/``), laid out as in its SOURCE.md.

    Returns
    -------
    dict
        The same keys as ``OLIST`` with freshly measured values (same units and rounding): shares are
        fractions, delays and windows days.

    Raises
    ------
    FileNotFoundError
        If a file named above is missing.
    """
    d = Path(directory)
    orders = pd.read_csv(d / "partial" / "olist_orders_dataset.thnsoliveira_random_20000.csv")
    for c in orders.columns:
        if c.endswith(("_timestamp", "_date", "_at")):
            orders[c] = pd.to_datetime(orders[c])
    items = pd.read_parquet(d / "olist_order_items_dataset.parquet")
    # the parquet writer labelled naive Brazil local times as UTC (SOURCE.md): drop the label
    items["shipping_limit"] = items["shipping_limit_date"].dt.tz_localize(None)
    reviews = pd.read_csv(d / "partial" / "olist_order_reviews_dataset.thnsoliveira_random_20000.csv")

    out: dict[str, object] = {}
    oi = items.merge(orders, on="order_id")
    oi = oi[oi["order_delivered_carrier_date"].notna()]
    delay = (oi["order_delivered_carrier_date"] - oi["shipping_limit"]).dt.total_seconds() / 86400
    out["late_handover_share"] = round(float((delay > 0).mean()), 4)
    out["late_handover_delay_quantiles"] = _q(delay[delay > 0], (0.5, 0.75, 0.9, 0.95))
    so = (
        oi.assign(late=delay > 0)
        .groupby(["seller_id", "order_id"])
        .agg(
            late=("late", "max"),
            purchased=("order_purchase_timestamp", "first"),
            limit=("shipping_limit", "min"),
            handover=("order_delivered_carrier_date", "first"),
        )
        .reset_index()
    )
    out["late_handover_seller_logit"] = _per_seller_fit(so, "late")
    on_time = so[~so["late"]]
    used = (on_time["handover"] - on_time["purchased"]) / (on_time["limit"] - on_time["purchased"])
    out["handover_window_fraction_quantiles"] = _q(used.clip(0, 1), (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95))

    status = orders["order_status"]
    handed = orders[orders["order_delivered_carrier_date"].notna()]
    out["lost_share"] = round(float(handed["order_delivered_customer_date"].isna().mean()), 4)
    out["cancel_share"] = round(float(status.isin(["canceled", "unavailable"]).mean()), 4)

    delivered = orders[(status == "delivered") & orders["order_delivered_customer_date"].notna()]
    due = delivered["order_estimated_delivery_date"] + pd.Timedelta(days=1)
    late_days = (delivered["order_delivered_customer_date"] - due).dt.total_seconds() / 86400
    out["late_delivery_share"] = round(float((late_days >= 0).mean()), 4)
    out["late_delivery_delay_quantiles"] = _q(late_days[late_days >= 0], (0.25, 0.5, 0.75, 0.9))
    dl = oi[oi["order_delivered_customer_date"].notna()]
    dl_late = dl["order_delivered_customer_date"] >= dl["order_estimated_delivery_date"] + pd.Timedelta(
        days=1
    )
    ho_late = dl["order_delivered_carrier_date"] > dl["shipping_limit"]
    out["late_delivery_share_if_handover_on_time"] = round(float(dl_late[~ho_late].mean()), 4)
    out["late_delivery_share_if_handover_late"] = round(float(dl_late[ho_late].mean()), 4)

    out["review_mix"] = _mix(reviews["review_score"])
    union = pd.read_parquet(d / "partial" / "olist_orders_dataset.UNION_42474.parquet")
    urev = pd.read_parquet(d / "partial" / "olist_order_reviews_dataset.UNION_38466.parquet")
    u = union.merge(urev[["order_id", "review_score"]], on="order_id")
    u["score"] = u["review_score"].astype(int)
    ud = pd.to_datetime(u["order_delivered_customer_date"].replace("", None))
    ue = pd.to_datetime(u["order_estimated_delivery_date"].replace("", None))
    is_deliv = u["order_status"] == "delivered"
    is_late = is_deliv & (ud >= ue + pd.Timedelta(days=1))
    out["review_mix_on_time"] = _mix(u.loc[is_deliv & ~is_late, "score"], digits=3)
    out["review_mix_late"] = _mix(u.loc[is_late, "score"], digits=3)
    out["review_mix_not_delivered"] = _mix(u.loc[~is_deliv, "score"], digits=3)
    rs = reviews.merge(items[["order_id", "seller_id"]].drop_duplicates(), on="order_id")
    out["negative_review_seller_logit"] = _per_seller_fit(rs.assign(neg=rs["review_score"] <= 2), "neg")

    per_seller = items.groupby("seller_id")["order_id"].nunique().sort_values(ascending=False)
    n = len(per_seller)
    total = per_seller.sum()
    out["sellers"] = n
    out["seller_orders"] = int(total)
    out["top10_seller_share"] = round(float(per_seller.iloc[: int(n * 0.1)].sum() / total), 3)
    out["log_orders_sd"] = round(float(np.log(per_seller.to_numpy(dtype=float)).std(ddof=1)), 2)

    wd = orders["order_purchase_timestamp"].dt.day_of_week  # Monday = 0
    out["weekday_mix"] = _mix(wd, tuple(range(7)))
    out["hour_bucket_mix"] = _mix(orders["order_purchase_timestamp"].dt.hour // 3, tuple(range(8)))

    per_order = items.groupby(["order_id", "seller_id"]).agg(
        lines=("order_item_id", "size"), products=("product_id", "nunique")
    )
    out["products_per_seller_order"] = _mix(per_order["products"].clip(upper=3), (1, 2, 3))
    out["units_per_seller_order"] = _mix(per_order["lines"].clip(upper=6), (1, 2, 3, 4, 5, 6), digits=3)
    out["log_price_sd"] = round(float(np.log(items["price"]).std(ddof=1)), 2)
    return out


if __name__ == "__main__":  # pragma: no cover
    for key, value in measure_olist(sys.argv[1]).items():
        print(f"{key} = {value!r}")
