"""Calibration figures for the demo generator, measured on the real Olist marketplace data.

The figures below were measured once on the Olist "Brazilian E-Commerce Public Dataset" copy described
in ``shared/data/olist-brazilian-ecommerce/SOURCE.md`` and are kept here as constants, so the demo
generator (:mod:`cxops.demo.synth`) needs no data at run time. :func:`measure_olist` recomputes them
from that directory (pandas only) and is what produced the constants; a test compares the two when the
data are present.

How they were measured
----------------------
* **Rates and delays** use the random orders subset ``partial/...thnsoliveira_random_20000.csv``
  (20,000 orders, the only random subset; the union file over-represents non-delivered orders), joined
  to the full ``olist_order_items_dataset.parquet`` for the per-item ``shipping_limit_date`` (the
  ship-by deadline). All Olist timestamps are naive Brazil local time on both sides, so differences
  need no time-zone handling.
* *Late hand-over*: an item is late when ``order_delivered_carrier_date > shipping_limit_date``
  (items of orders with a carrier date). *Hand-over delay* = carrier date − shipping limit, in days.
* *Late delivery*: a delivered order is late when ``order_delivered_customer_date`` falls after the
  end of the (date-only) ``order_estimated_delivery_date``; the delay is measured from that day's end.
* *Cancellation share*: orders with status ``canceled`` or ``unavailable``.
* *Review mix*: ``review_score`` of the random reviews subset (20,000 reviews).
* *Review mix by experience*: the union orders joined to the union reviews, split into on-time,
  late and not-delivered orders (the union over-samples not-delivered orders, which does not bias a
  mix measured *within* each group).
* *Seller size*: distinct orders per seller in the full items table (3,095 sellers, 100,010 seller
  orders, 2016-09 .. 2018-09); the ``log_*`` figures are the mean and standard deviation of
  ln(orders per seller).
* *Week and day shape*: purchase weekday and 3-hour bucket of the random orders subset.
* *Units and products*: item rows (one per unit) and distinct products per (order, seller) in
  the full items table; *prices*: item ``price`` (BRL) of the full items table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Figures measured by :func:`measure_olist` (rounded). Shares are fractions, delays are days.
OLIST: dict[str, object] = {
    # shipping: items handed to the carrier after shipping_limit_date (random subset, 22,477 items)
    "late_handover_share": 0.0965,
    "late_handover_gt_1d_share": 0.0488,
    # hand-over minus ship-by deadline, days: quantiles 5, 10, 25, 50, 75, 90, 95, 99 %
    "handover_delay_quantiles": (-7.68, -6.46, -5.20, -3.21, -1.50, -0.03, 0.96, 7.91),
    # among late items only: quantiles 50, 75, 90, 95 %
    "late_handover_delay_quantiles": (1.02, 4.08, 8.11, 12.72),
    # ship-by deadline minus purchase, days: quantiles 5, 10, 25, 50, 75, 90, 95 %
    "handling_window_quantiles": (3.01, 4.01, 5.01, 6.01, 7.21, 10.01, 12.07),
    # carrier hand-over to customer delivery, days: quantiles 10, 25, 50, 75, 90, 95 %
    "transit_quantiles": (1.86, 4.08, 7.07, 11.99, 18.87, 24.18),
    # delivery: delivered after the end of the estimated day (19,394 delivered orders)
    "late_delivery_share": 0.0676,
    # among late deliveries: days after the estimated day, quantiles 25, 50, 75, 90 %
    "late_delivery_delay_quantiles": (2.70, 5.98, 12.73, 20.88),
    # late delivery share given an on-time / a late hand-over
    "late_delivery_share_if_handover_on_time": 0.0523,
    "late_delivery_share_if_handover_late": 0.2030,
    # statuses of the random subset
    "cancel_share": 0.0137,  # canceled 0.69 % + unavailable 0.68 %
    "delivered_share": 0.9698,
    # review score shares 1..5 (random reviews subset)
    "review_mix": (0.1196, 0.0321, 0.0811, 0.1915, 0.5756),
    # review score shares 1..5 by delivery experience (union orders x union reviews)
    "review_mix_on_time": (0.067, 0.027, 0.081, 0.206, 0.619),
    "review_mix_late": (0.556, 0.091, 0.104, 0.089, 0.160),
    "review_mix_not_delivered": (0.705, 0.074, 0.077, 0.054, 0.090),
    # seller size (full items table)
    "sellers": 3095,
    "seller_orders": 100010,
    "top10_seller_share": 0.684,
    "top1_seller_share": 0.262,
    "orders_per_seller_quantiles": (1.0, 2.0, 6.0, 21.5, 69.6, 130.3, 402.24),  # 10,25,50,75,90,95,99 %
    "max_orders_per_seller": 1854,
    "log_orders_mean": 2.02,
    "log_orders_sd": 1.58,
    # purchase weekday shares Mon..Sun and 3-hour buckets 0-3 .. 21-24 (random subset)
    "weekday_mix": (0.1601, 0.1627, 0.1578, 0.1479, 0.1429, 0.1095, 0.1192),
    "hour_bucket_mix": (0.0415, 0.0063, 0.0465, 0.1761, 0.1895, 0.1952, 0.1824, 0.1626),
    # per seller order: distinct products 1, 2, 3+; units 1, 2, 3, 4, 5, 6+ (Olist repeats an item
    # row per unit, so item rows per (order, seller) are units)
    "products_per_seller_order": (0.9791, 0.0185, 0.0024),
    "units_per_seller_order": (0.911, 0.068, 0.012, 0.004, 0.002, 0.002),
    # item price (BRL): quantiles 10, 25, 50, 75, 90 %
    "price_quantiles": (23.8, 39.9, 74.99, 134.9, 229.8),
}


def _q(s: pd.Series, qs: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(float(v), 2) for v in s.quantile(list(qs)).to_numpy())


def _mix(s: pd.Series, values: tuple[int, ...] = (1, 2, 3, 4, 5)) -> tuple[float, ...]:
    shares = s.value_counts(normalize=True)
    return tuple(round(float(shares.get(v, 0.0)), 4) for v in values)


def measure_olist(directory: str | Path) -> dict[str, object]:
    """Recompute the :data:`OLIST` figures from an Olist data directory.

    Parameters
    ----------
    directory : str or Path
        The ``olist-brazilian-ecommerce`` directory (with ``partial/``), laid out as in its SOURCE.md.

    Returns
    -------
    dict
        A subset of the :data:`OLIST` keys with freshly measured values (same units and rounding).
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
    out["late_handover_gt_1d_share"] = round(float((delay > 1).mean()), 4)
    out["handover_delay_quantiles"] = _q(delay, (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99))
    out["late_handover_delay_quantiles"] = _q(delay[delay > 0], (0.5, 0.75, 0.9, 0.95))

    delivered = orders[
        (orders["order_status"] == "delivered") & orders["order_delivered_customer_date"].notna()
    ]
    due = delivered["order_estimated_delivery_date"] + pd.Timedelta(days=1)
    late_days = (delivered["order_delivered_customer_date"] - due).dt.total_seconds() / 86400
    out["late_delivery_share"] = round(float((late_days >= 0).mean()), 4)
    out["late_delivery_delay_quantiles"] = _q(late_days[late_days >= 0], (0.25, 0.5, 0.75, 0.9))

    status = orders["order_status"]
    out["cancel_share"] = round(float(status.isin(["canceled", "unavailable"]).mean()), 4)
    out["delivered_share"] = round(float((status == "delivered").mean()), 4)
    out["review_mix"] = _mix(reviews["review_score"])

    per_seller = items.groupby("seller_id")["order_id"].nunique().sort_values(ascending=False)
    n = len(per_seller)
    total = per_seller.sum()
    out["sellers"] = n
    out["seller_orders"] = int(total)
    out["top10_seller_share"] = round(float(per_seller.iloc[: int(n * 0.1)].sum() / total), 3)
    out["top1_seller_share"] = round(float(per_seller.iloc[: int(n * 0.01)].sum() / total), 3)
    out["orders_per_seller_quantiles"] = _q(per_seller, (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99))
    out["max_orders_per_seller"] = int(per_seller.iloc[0])
    logs = np.log(per_seller.to_numpy(dtype=float))
    out["log_orders_mean"] = round(float(logs.mean()), 2)
    out["log_orders_sd"] = round(float(logs.std(ddof=1)), 2)

    out["handling_window_quantiles"] = _q(
        (oi["shipping_limit"] - oi["order_purchase_timestamp"]).dt.total_seconds() / 86400,
        (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
    )
    both = orders.dropna(subset=["order_delivered_carrier_date", "order_delivered_customer_date"])
    out["transit_quantiles"] = _q(
        (both["order_delivered_customer_date"] - both["order_delivered_carrier_date"]).dt.total_seconds()
        / 86400,
        (0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
    )
    dl = oi[oi["order_delivered_customer_date"].notna()]
    dl_due = dl["order_estimated_delivery_date"] + pd.Timedelta(days=1)
    dl_late = dl["order_delivered_customer_date"] >= dl_due
    ho_late = dl["order_delivered_carrier_date"] > dl["shipping_limit"]
    out["late_delivery_share_if_handover_on_time"] = round(float(dl_late[~ho_late].mean()), 4)
    out["late_delivery_share_if_handover_late"] = round(float(dl_late[ho_late].mean()), 4)

    union = pd.read_parquet(d / "partial" / "olist_orders_dataset.UNION_42474.parquet")
    urev = pd.read_parquet(d / "partial" / "olist_order_reviews_dataset.UNION_38466.parquet")
    u = union.merge(urev[["order_id", "review_score"]], on="order_id")
    u["score"] = u["review_score"].astype(int)
    ud = pd.to_datetime(u["order_delivered_customer_date"].replace("", None))
    ue = pd.to_datetime(u["order_estimated_delivery_date"].replace("", None))
    is_deliv = u["order_status"] == "delivered"
    is_late = is_deliv & (ud >= ue + pd.Timedelta(days=1))
    r3 = lambda t: tuple(round(v, 3) for v in t)  # noqa: E731
    out["review_mix_on_time"] = r3(_mix(u.loc[is_deliv & ~is_late, "score"]))
    out["review_mix_late"] = r3(_mix(u.loc[is_late, "score"]))
    out["review_mix_not_delivered"] = r3(_mix(u.loc[~is_deliv, "score"]))

    so = items.groupby(["order_id", "seller_id"]).agg(
        lines=("order_item_id", "size"), products=("product_id", "nunique")
    )
    out["products_per_seller_order"] = _mix(so["products"].clip(upper=3), (1, 2, 3))
    out["units_per_seller_order"] = r3(_mix(so["lines"].clip(upper=6), (1, 2, 3, 4, 5, 6)))
    out["price_quantiles"] = _q(items["price"], (0.1, 0.25, 0.5, 0.75, 0.9))

    wd = orders["order_purchase_timestamp"].dt.day_of_week  # Monday = 0
    out["weekday_mix"] = _mix(wd, tuple(range(7)))
    out["hour_bucket_mix"] = _mix(orders["order_purchase_timestamp"].dt.hour // 3, tuple(range(8)))
    return out
