"""Orders API ``getOrders`` responses (pages saved as JSON files) → ``orders``, ``cancellations``.

The flat files lack the ship-by and deliver-by deadlines that late shipment and on-time delivery
need; the Orders API (``/orders/v0/orders``, ``Order`` object) has them. A page is
``{"payload": {"Orders": [...], "NextToken": ...}}`` (also accepted: ``{"Orders": [...]}`` or a bare
list of orders). Fields used:

==============================================  ==========================================================
``AmazonOrderId``                               ``order_id`` (required)
``PurchaseDate``                                ``purchased_at`` (ISO 8601 UTC, required)
``OrderStatus``                                 ``Canceled`` → a cancellation at ``LastUpdateDate``
``FulfillmentChannel``                          ``MFN`` / ``AFN`` (required)
``MarketplaceId``                               ``marketplace_id`` via ``AMAZON_MARKETPLACE_IDS``
                                                (blank: the given marketplace)
``SalesChannel``                                ``Non-Amazon`` (multi-channel fulfilment): quarantined
``LatestShipDate`` / ``LatestDeliveryDate``     ``latest_ship_at`` / ``latest_delivery_at``
``NumberOfItemsShipped`` + ``…Unshipped``       ``units``
``OrderTotal.Amount`` / ``.CurrencyCode``       ``order_total`` / ``currency``
``IsBusinessOrder`` / ``IsPremiumOrder``        ``is_business`` / ``is_premium``
==============================================  ==========================================================

A column is recorded as provided only when its field occurs in the page, so a page without
``LatestDeliveryDate`` leaves on-time delivery "not measured" rather than 0 %. Row numbers in the
quarantine are 1-based positions in the page's ``Orders`` array.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, amazon_marketplaces, booleans, integers, numbers, text
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.flat import quote
from cxops.ingest.amazon.mapped import Mapped, Rows, build, one_to_one
from cxops.ingest.amazon.orders_flat import NON_AMAZON, is_cancelled
from cxops.ingest.amazon.reading import ReportFile
from cxops.ingest.files import IngestError

CHANNELS = {"mfn": "MFN", "afn": "AFN"}
FIELDS = {
    "latest_ship_at": "LatestShipDate",
    "latest_delivery_at": "LatestDeliveryDate",
    "units": "NumberOfItemsShipped",
    "order_total": "OrderTotal.Amount",
    "currency": "OrderTotal.CurrencyCode",
    "is_business": "IsBusinessOrder",
    "is_premium": "IsPremiumOrder",
}


def order_list(doc: object, file: str) -> list:
    """The orders array of a getOrders page.

    Raises
    ------
    IngestError
        If ``Orders`` is not an array.
    """
    if isinstance(doc, list):
        return doc
    payload = doc.get("payload") if isinstance(doc.get("payload"), dict) else doc
    orders = payload.get("Orders")
    if not isinstance(orders, list):
        raise IngestError(f"{file}: getOrders page whose Orders is not an array")
    return orders


def _records(orders: list):
    def build_records(pos: np.ndarray) -> list[str]:
        return [json.dumps(orders[i], ensure_ascii=False, default=str) for i in pos]

    return build_records


def read_orders_api(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one getOrders page (see the module docstring).

    Returns
    -------
    list of Mapped
        ``orders`` and ``cancellations``.
    """
    orders = order_list(rf.doc, rf.file)
    is_obj = np.array([isinstance(o, dict) for o in orders], dtype=bool)
    df = pd.json_normalize([o if isinstance(o, dict) else {} for o in orders], max_level=1)
    df = df.reindex(range(len(orders)))
    present = set(df.columns)

    def field(name: str) -> pd.Series:
        return df[name] if name in df.columns else pd.Series(None, index=df.index, dtype=object)

    rows = Rows(rf.file, np.arange(1, len(orders) + 1), _records(orders))
    rows.reject(~is_obj, "(order)", "not a JSON object")
    oid = text(field("AmazonOrderId"))
    rows.reject(oid.isna(), "AmazonOrderId", "required value is missing")
    rows.reject(
        text(field("SalesChannel")).astype("string").str.lower().eq("non-amazon"), "SalesChannel", NON_AMAZON
    )
    mp, unknown = amazon_marketplaces(field("MarketplaceId"), ctx.marketplace_id)
    rows.reject(unknown, "MarketplaceId", "unknown Amazon marketplace id " + quote(field("MarketplaceId")))
    zones_ok = mp.isin(list(ctx.zones))
    rows.reject(~zones_ok, "MarketplaceId", "marketplace without a time zone: " + quote(mp))
    ts = {}
    for col, name in (
        ("purchased_at", "PurchaseDate"),
        ("updated_at", "LastUpdateDate"),
        *[(c, FIELDS[c]) for c in ("latest_ship_at", "latest_delivery_at")],
    ):
        ts[col], bad = parse_instants(text(field(name)), ctx.marketplace_id, ctx.tz)
        bad = bad | not_scalar(field(name))
        if col == "purchased_at":
            rows.reject(bad, name, "not a valid timestamp: " + quote(text(field(name))))
            rows.reject(ts[col].isna(), name, "required value is missing")
        else:
            rows.flag(bad, name, "not a valid timestamp, taken as missing")
    raw_ch = text(field("FulfillmentChannel"))
    channel = raw_ch.astype("string").str.lower().map(CHANNELS)
    rows.reject(channel.isna(), "FulfillmentChannel", "not MFN or AFN: " + quote(raw_ch))
    shipped, sbad = integers(field("NumberOfItemsShipped"))
    unshipped, ubad = integers(field("NumberOfItemsUnshipped"))
    rows.flag(sbad | ubad, "NumberOfItemsShipped", "not a whole number, units taken as missing")
    units = (shipped.fillna(0) + unshipped.fillna(0)).where(shipped.notna() | unshipped.notna())
    total, tbad = numbers(field("OrderTotal.Amount"))
    rows.flag(tbad, "OrderTotal.Amount", "not a number, taken as missing")
    status = text(field("OrderStatus"))
    derived = pd.DataFrame(
        {
            "seller_id": ctx.seller_id,
            "order_id": oid,
            "marketplace_id": mp,
            "purchased_at": ts["purchased_at"],
            "fulfillment_channel": channel,
            "latest_ship_at": ts["latest_ship_at"],
            "latest_delivery_at": ts["latest_delivery_at"],
            "units": units.where(~(sbad | ubad)).astype("Int64"),
            "order_total": total,
            "currency": text(field("OrderTotal.CurrencyCode")),
            "is_business": booleans(field("IsBusinessOrder")),
            "is_premium": booleans(field("IsPremiumOrder")),
        }
    )
    provided = ["seller_id", "order_id", "marketplace_id", "purchased_at", "fulfillment_channel"]
    provided += [
        c
        for c, name in FIELDS.items()
        if name in present or (c == "units" and "NumberOfItemsUnshipped" in present)
    ]
    source = f"amazon:{detect.ORDERS_API}:{rf.file}"
    every = np.ones(len(rows), dtype=bool)
    d, grp = one_to_one(rows, every, derived[provided])
    m_orders = build("orders", rows, every, d, grp, provided, source)
    ok = rows.ok & oid.notna().to_numpy()
    m_orders.version = pd.Series(ts["updated_at"][ok].to_numpy(), index=oid[ok].to_numpy())

    crow = rows.fork()
    crow.reject(np.isin(grp, m_orders.failed.index.to_numpy()), "AmazonOrderId", "order rejected")
    cancelled = is_cancelled(status).to_numpy()
    at = ts["updated_at"].where(ts["updated_at"].notna(), ts["purchased_at"])
    cand = pd.DataFrame(
        {"seller_id": ctx.seller_id, "order_id": oid, "cancelled_at": at, "initiated_by": "unknown"}
    )
    cd, cgrp = one_to_one(crow, cancelled, cand)
    cprov = ["seller_id", "order_id", "cancelled_at"]
    m_cancel = build(
        "cancellations", crow, cancelled, cd, cgrp, cprov, source, defaults={"initiated_by": "unknown"}
    )
    if "LatestShipDate" not in present:
        ctx.note(f"{rf.path.name}: no LatestShipDate in this page: ship-by deadlines not provided by it")
    return [m_orders, m_cancel]


def not_scalar(s: pd.Series) -> pd.Series:
    """True where a JSON value is an object or array (never a timestamp)."""
    kind = pd.Series(s).map(type)
    return kind.isin([dict, list]).fillna(False).astype(bool)
