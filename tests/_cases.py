"""Test helper for cases and documents: a small warehouse of orders and a store with members."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from _wh import warehouse

from cxops import store as st

P = "customer-excellence"

#: Orders by seller: S1 and S2 sell on US, S3 on DE. Order ids are unique across sellers except "X1",
#: which both S1 and S2 use (seller orders are keyed by seller and order).
ORDERS = [
    ("S1", "O1", "US"),
    ("S1", "O2", "US"),
    ("S1", "O3", "US"),
    ("S1", "O4", "US"),
    ("S1", "O5", "US"),
    ("S1", "O6", "US"),
    ("S1", "X1", "US"),
    ("S2", "P1", "US"),
    ("S2", "P2", "US"),
    ("S2", "P3", "US"),
    ("S2", "X1", "US"),
    ("S3", "Q1", "DE"),
    ("S3", "Q2", "DE"),
    ("S4", "R1", "US"),
]


def ts(text: str) -> pd.Timestamp:
    """A naive UTC timestamp, as the warehouse stores instants."""
    return pd.Timestamp(text)


def utc(text: str) -> datetime:
    """A UTC-aware instant."""
    return pd.Timestamp(text).tz_localize("UTC").to_pydatetime()


def make_warehouse():
    """An in-memory warehouse of :func:`tables`."""
    return warehouse(tables())


def tables() -> dict[str, list[dict]]:
    """The orders above with one shipment, items and messages each, and some claims."""
    orders, items, ships, msgs = [], [], [], []
    for i, (seller, order, mp) in enumerate(ORDERS):
        orders.append(
            {
                "seller_id": seller,
                "order_id": order,
                "marketplace_id": mp,
                "purchased_at": ts("2026-02-20 10:00") + pd.Timedelta(hours=i),
                "fulfillment_channel": "MFN",
                "latest_ship_at": ts("2026-02-23 07:59"),
                "latest_delivery_at": ts("2026-03-02 07:59"),
                "units": 1,
                "order_total": 20.0 + i,
                "currency": "USD",
            }
        )
        items.append(
            {
                "seller_id": seller,
                "order_id": order,
                "line_id": "1",
                "sku": f"SKU-{order}",
                "quantity": 1,
                "unit_price": 20.0 + i,
            }
        )
        ships.append(
            {
                "seller_id": seller,
                "order_id": order,
                "shipment_id": f"SH-{seller}-{order}",
                "confirmed_at": ts("2026-02-22 18:00"),
                "carrier": "UPS",
                "tracking_id": f"1Z{seller}{order}",
                "first_scan_at": ts("2026-02-22 22:00"),
                "delivered_at": ts("2026-02-26 18:00"),
            }
        )
        msgs.append(
            {
                "seller_id": seller,
                "message_id": f"M-{seller}-{order}",
                "order_id": order,
                "thread_id": f"T-{seller}-{order}",
                "received_at": ts("2026-02-27 09:00"),
                "first_response_at": ts("2026-02-27 13:00"),
            }
        )
    # a follow-up without an order id in O1's thread (belongs with O1), and one in another thread
    msgs.append(
        {
            "seller_id": "S1",
            "message_id": "M-S1-O1-b",
            "thread_id": "T-S1-O1",
            "received_at": ts("2026-02-28 09:00"),
        }
    )
    msgs.append(
        {
            "seller_id": "S1",
            "message_id": "M-S1-loose",
            "thread_id": "T-S1-other",
            "received_at": ts("2026-02-28 10:00"),
        }
    )
    claims = [
        {
            "seller_id": "S1",
            "order_id": "O1",
            "claim_id": "C-O1",
            "kind": "a_to_z",
            "filed_at": ts("2026-03-01 12:00"),
        },
        {
            "seller_id": "S1",
            "order_id": "O2",
            "claim_id": "C-O2",
            "kind": "chargeback",
            "filed_at": ts("2026-03-01 12:00"),
        },
    ]
    sellers = [{"seller_id": s, "marketplace_id": m} for s, m in sorted({(s, m) for s, _, m in ORDERS})]
    return {
        "sellers": sellers,
        "orders": orders,
        "order_items": items,
        "shipments": ships,
        "buyer_messages": msgs,
        "claims": claims,
    }


def seed(store) -> None:
    """Memberships: S1 enrolled with manager ana; S2 removed; S3 enrolled (DE) with bo; S4 suspended."""
    with store.unit_of_work() as s:
        st.add_manager(s, "ana", "Ana", capacity=10)
        st.add_manager(s, "bo", "Bo", capacity=10)
        st.upsert_memberships(
            s,
            P,
            pd.DataFrame(
                {
                    "seller_id": ["S1", "S2", "S3", "S4"],
                    "marketplace_id": ["US", "US", "DE", "US"],
                    "state": ["enrolled", "removed", "enrolled", "enrolled"],
                    "account_manager_id": ["ana", None, "bo", None],
                    "primary_category": ["Home & Kitchen", "toys", "electronics", "books"],
                }
            ),
        )


def events(store, kinds=None) -> pd.DataFrame:
    with store.unit_of_work(write=False) as s:
        return st.load_events(s, kinds=kinds)


def count(store, table: str) -> int:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar())


NOW = datetime(2026, 3, 10, tzinfo=UTC)
