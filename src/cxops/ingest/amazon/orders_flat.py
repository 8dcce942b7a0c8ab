"""All-orders flat file → ``orders``, ``order_items``, ``cancellations``.

Report: ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL`` (tab-separated, one line per order
item; the archived-orders report ``GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE`` has the same
layout). Columns used (names from Amazon's report documentation; see SOURCE.md):

========================  =======================================================================
``amazon-order-id``       ``order_id`` (required)
``purchase-date``         ``purchased_at``: ISO 8601 with an offset (``2024-05-01T10:00:00+00:00``);
                          a value without one is marketplace local time (required)
``last-updated-date``     ``cancellations.cancelled_at`` of a cancelled order (else the purchase time)
``order-status``          ``Cancelled``/``Canceled`` → a cancellation (required)
``fulfillment-channel``   ``Amazon`` → ``AFN``, ``Merchant`` → ``MFN`` (required)
``sales-channel``         ``Non-Amazon`` lines are multi-channel-fulfilment orders, not marketplace
                          orders: quarantined
``sku``, ``asin``         ``order_items.sku``, ``product_id``; ``line_id`` = sku (else asin), with
                          ``#2``, ``#3`` … for repeats within an order
``quantity``              ``order_items.quantity``; ``orders.units`` = sum over the order's lines
``item-price``            the line total: ``order_items.unit_price`` = item-price / quantity;
                          ``orders.order_total`` = sum over the order's lines (currency units)
``currency``              ``orders.currency``
``is-business-order``     ``orders.is_business``
========================  =======================================================================

The flat file has no ship-by or deliver-by deadline, so it never provides ``latest_ship_at`` /
``latest_delivery_at`` (the Orders API does; see :mod:`.orders_api`). It does not say who cancelled,
so ``initiated_by`` is ``unknown`` and not recorded as provided. Order-level values come from the
order's first accepted line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, booleans, integers, numbers, text
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.flat import Flat, open_sheet, quote
from cxops.ingest.amazon.mapped import GRP, Mapped, build
from cxops.ingest.amazon.reading import ReportFile

REQUIRED = ["amazon-order-id", "purchase-date", "order-status", "fulfillment-channel"]
CHANNELS = {"amazon": "AFN", "afn": "AFN", "merchant": "MFN", "mfn": "MFN"}
NON_AMAZON = "a multi-channel fulfilment order (sales-channel Non-Amazon), not an Amazon marketplace order"


def is_cancelled(status: pd.Series) -> pd.Series:
    """``Cancelled`` (flat files) or ``Canceled`` (Orders API), any case."""
    return status.astype("string").str.lower().str.startswith("cancel").fillna(False).astype(bool)


def read_all_orders(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one all-orders flat file (see the module docstring).

    Returns
    -------
    list of Mapped
        ``orders``, ``order_items`` and ``cancellations``.

    Raises
    ------
    IngestError
        A required column is missing.
    """
    f = open_sheet(rf, ctx, REQUIRED, "all-orders")
    rows, mp = f.rows, ctx.marketplace_id
    oid = text(f.col("amazon-order-id"))
    rows.reject(oid.isna(), "amazon-order-id", "required value is missing")
    rows.reject(
        text(f.col("sales-channel")).astype("string").str.lower().eq("non-amazon"),
        "sales-channel",
        NON_AMAZON,
    )
    purchased, bad = parse_instants(f.col("purchase-date"), mp, ctx.tz)
    rows.reject(bad, "purchase-date", "not a valid timestamp: " + quote(f.col("purchase-date")))
    rows.reject(purchased.isna(), "purchase-date", "required value is missing")
    raw_ch = text(f.col("fulfillment-channel"))
    channel = raw_ch.astype("string").str.lower().map(CHANNELS)
    rows.reject(channel.isna(), "fulfillment-channel", "not Amazon or Merchant: " + quote(raw_ch))
    updated, ubad = parse_instants(f.col("last-updated-date"), mp, ctx.tz)
    rows.flag(ubad, "last-updated-date", "not a valid timestamp, taken as missing")
    status = text(f.col("order-status"))
    qty, qbad = integers(f.col("quantity"))
    price, pbad = numbers(f.col("item-price"), mp)

    ok = rows.ok
    grp = np.full(len(rows), -1, dtype=np.int64)
    grp[ok] = pd.factorize(oid[ok])[0]
    lines = pd.DataFrame(
        {
            GRP: grp,
            "order_id": oid,
            "purchased_at": purchased,
            "updated_at": updated,
            "fulfillment_channel": channel,
            "status": status,
            "qty": qty,
            "qbad": qbad,
            "price": price,
            "pbad": pbad,
            "currency": text(f.col("currency")),
            "is_business": booleans(f.col("is-business-order")),
        }
    )[ok]
    orders = _orders(lines, ctx)
    provided = ["seller_id", "order_id", "marketplace_id", "purchased_at", "fulfillment_channel"]
    provided += [c for c, src in (("units", "quantity"), ("order_total", "item-price")) if f.has(src)]
    provided += [
        c for c, src in (("currency", "currency"), ("is_business", "is-business-order")) if f.has(src)
    ]
    source = f"amazon:{detect.ALL_ORDERS}:{rf.file}"
    derived = orders[[c for c in orders.columns if c in provided or c == GRP]].assign(
        seller_id=ctx.seller_id, marketplace_id=mp
    )
    m_orders = build("orders", rows, np.ones(len(rows), dtype=bool), derived, grp, provided, source)
    m_orders.version = pd.Series(orders["updated_at"].to_numpy(), index=orders["order_id"].to_numpy())
    failed = m_orders.failed

    cancelled_grp = orders.loc[is_cancelled(orders["status"]), GRP].to_numpy()
    own = is_cancelled(pd.Series(status)).to_numpy()
    cancelled_scope = np.isin(grp, cancelled_grp) | (~ok & own)
    m_items = _items(f, rows.fork(), grp, failed, ctx, source, qbad, pbad)
    m_cancel = _cancellations(rows.fork(), cancelled_scope, orders, grp, failed, ctx, source)
    n_item_cancel = int((is_cancelled(text(f.col("item-status"))).to_numpy() & ~cancelled_scope).sum())
    if n_item_cancel:
        ctx.note(
            f"{rf.path.name}: {n_item_cancel:,} cancelled items in orders that were not cancelled "
            "(item-level cancellations are not order cancellations; not loaded as cancellations)"
        )
    return [m_orders, m_items, m_cancel]


def _orders(lines: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """One row per order group: first line's values, sums of quantities and prices."""
    g = lines.groupby(GRP, sort=True)
    first = g.first()
    qty_ok = ~g["qbad"].any()
    price_n = g["price"].count()
    out = pd.DataFrame(
        {
            "order_id": first["order_id"],
            "purchased_at": g["purchased_at"].first(),
            "fulfillment_channel": first["fulfillment_channel"],
            "units": g["qty"].sum(min_count=1).where(qty_ok).astype("Int64"),
            "order_total": g["price"].sum(min_count=1).where(price_n > 0).astype("Float64"),
            "currency": first["currency"],
            "is_business": g["is_business"].first(),
            "status": first["status"],
            "updated_at": g["updated_at"].max(),
        }
    )
    out.index.name = GRP
    return out.reset_index()


def _items(f: Flat, rows, grp, failed, ctx: Context, source: str, qbad, pbad) -> Mapped:
    rows.reject(np.isin(grp, failed.index.to_numpy()), "amazon-order-id", _order_rejected(grp, failed))
    rows.reject(qbad, "quantity", "not a whole number >= 0: " + quote(f.col("quantity")))
    rows.reject(pbad, "item-price", "not a number: " + quote(f.col("item-price")))
    sku, asin = text(f.col("sku")), text(f.col("asin"))
    base = sku.where(sku.notna(), asin).fillna("line")
    ok = rows.ok
    pos = np.flatnonzero(ok)
    oid = text(f.col("amazon-order-id"))
    qty, _ = integers(f.col("quantity"))
    price, _ = numbers(f.col("item-price"), ctx.marketplace_id)
    d = pd.DataFrame({"order_id": oid, "base": base, "sku": sku, "product_id": asin, "quantity": qty})
    d["unit_price"] = (price / qty.astype("Float64")).where(qty > 0)
    d = d.iloc[pos].copy()
    n = d.groupby(["order_id", "base"], sort=False).cumcount() + 1
    d["line_id"] = d["base"].where(n == 1, d["base"] + "#" + n.astype(str))
    d[GRP] = pos
    g = np.full(len(rows), -1, dtype=np.int64)
    g[pos] = pos
    provided = ["seller_id", "order_id", "line_id"]
    provided += [c for c, s in (("sku", "sku"), ("product_id", "asin"), ("quantity", "quantity")) if f.has(s)]
    provided += ["unit_price"] if f.has("item-price") and f.has("quantity") else []
    cols = ["order_id", "line_id", *provided[3:], GRP]
    derived = d[[c for c in cols if c in d.columns]].assign(seller_id=ctx.seller_id)
    every = np.ones(len(rows), dtype=bool)
    return build("order_items", rows, every, derived, g, provided, source)


def _order_rejected(grp: np.ndarray, failed: pd.Series) -> np.ndarray:
    reason = pd.Series(grp).map(failed).astype(object)
    return ("order rejected: " + reason.fillna("")).to_numpy(dtype=object)


def _cancellations(rows, scope, orders, grp, failed, ctx: Context, source: str) -> Mapped:
    rows.reject(np.isin(grp, failed.index.to_numpy()), "amazon-order-id", _order_rejected(grp, failed))
    c = orders[is_cancelled(orders["status"]) & ~orders[GRP].isin(failed.index)]
    at = c["updated_at"].where(c["updated_at"].notna(), c["purchased_at"])
    derived = pd.DataFrame(
        {
            "seller_id": ctx.seller_id,
            "order_id": c["order_id"],
            "cancelled_at": at,
            "initiated_by": "unknown",
            GRP: c[GRP],
        }
    )
    ctx.note(
        "cancellations from order status: cancelled_at is the order's last-updated time; the reports do "
        "not say who cancelled (initiated_by unknown, not recorded as provided)"
    )
    provided = ["seller_id", "order_id", "cancelled_at"]
    return build(
        "cancellations", rows, scope, derived, grp, provided, source, defaults={"initiated_by": "unknown"}
    )
