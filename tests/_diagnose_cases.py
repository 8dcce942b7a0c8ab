"""A small warehouse where it is known which SKU, carrier and weekday cause which late shipment.

Seller S1 on US (ship-by judged in Pacific time), ten MFN orders due to ship by Thu May 9 2024 (local),
as of May 31 (30-day late shipment window May 2 .. May 31):

====  ========  =======  ========  ==============================
order  SKUs     carrier  weekday   late?
====  ========  =======  ========  ==============================
O1    A         UPS      Friday    late (confirmed May 10)
O2    A         UPS      Friday    late
O3    A         USPS     Friday    late (bought Sat 05:00 UTC = Fri 22:00 PDT)
O4    B         UPS      Monday    on time
O5    B         USPS     Monday    on time
O6    A, B      UPS      Monday    late
O7    C         USPS     Monday    on time
O8    C         USPS     Monday    on time
O9    C         UPS      Monday    on time
O10   B         —        Monday    late (never shipped)
====  ========  =======  ========  ==============================

Late shipment rate 5 / 10. By SKU: A 4 of 4 late, B 2 of 4 (O6, O10), C 0 of 3.
"""

from __future__ import annotations

from datetime import date

AS_OF = date(2024, 5, 31)
FRIDAY, FRIDAY_LATE, MONDAY = "2024-05-03T18:00:00", "2024-05-04T05:00:00", "2024-05-06T18:00:00"
SHIP_BY = "2024-05-10T06:59:59"  # 23:59:59 PDT Thu May 9
ON_TIME, LATE = "2024-05-09T20:00:00", "2024-05-10T20:00:00"

ORDERS = [
    # order, purchased, skus, carrier, confirmed
    ("O1", FRIDAY, ["A"], "UPS", LATE),
    ("O2", FRIDAY, ["A"], "UPS", LATE),
    ("O3", FRIDAY_LATE, ["A"], "USPS", LATE),
    ("O4", MONDAY, ["B"], "UPS", ON_TIME),
    ("O5", MONDAY, ["B"], "USPS", ON_TIME),
    ("O6", MONDAY, ["A", "B"], "UPS", LATE),
    ("O7", MONDAY, ["C"], "USPS", ON_TIME),
    ("O8", MONDAY, ["C"], "USPS", ON_TIME),
    ("O9", MONDAY, ["C"], "UPS", ON_TIME),
    ("O10", MONDAY, ["B"], None, None),
]
CATEGORY = {"A": "toys", "B": "toys", "C": "garden"}


def tables(seller: str = "S1") -> dict[str, list[dict]]:
    """The canonical tables of the case (``seller``: the seller id, for a second seller)."""
    orders, items, ships = [], [], []
    for oid, bought, skus, carrier, confirmed in ORDERS:
        orders.append(
            {
                "seller_id": seller, "order_id": oid, "marketplace_id": "US", "purchased_at": bought,
                "fulfillment_channel": "MFN", "latest_ship_at": SHIP_BY,
            }
        )  # fmt: skip
        for i, sku in enumerate(skus, 1):
            items.append(
                {
                    "seller_id": seller,
                    "order_id": oid,
                    "line_id": str(i),
                    "sku": sku,
                    "category": CATEGORY[sku],
                }
            )
        if carrier is not None:
            ships.append(
                dict(
                    seller_id=seller, order_id=oid, shipment_id=oid + "-1", confirmed_at=confirmed,
                    carrier=carrier, tracking_id="T" + oid, first_scan_at=confirmed,
                )
            )  # fmt: skip
    return {
        "sellers": [{"seller_id": seller, "marketplace_id": "US", "registered_at": "2023-01-01T00:00:00"}],
        "orders": orders,
        "order_items": items,
        "shipments": ships,
    }
