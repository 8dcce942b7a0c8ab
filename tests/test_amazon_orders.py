"""All-orders flat file, Orders API pages, FBA shipments and returns on hand-made fixtures."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from cxops.ingest.amazon import import_amazon
from cxops.ingest.files import IngestError
from cxops.warehouse import connect

T = pd.Timestamp
DATA = Path(__file__).parent / "data" / "amazon"
AO = DATA / "all_orders_us.txt"
API = DATA / "orders_api_page1.json"
HEADER = "\t".join(
    "amazon-order-id purchase-date order-status fulfillment-channel product-name sku quantity "
    "item-price".split()
)


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _tab(wh, name, key=("order_id",)):
    return wh.execute(wh.table(name)).sort_values(list(key)).reset_index(drop=True)


def _counts(rep, table, part):
    e = [x for x in rep.entries if x.table == table and part in x.file]
    assert len(e) == 1, e
    return e[0].rows_read, e[0].rows_loaded, e[0].rows_quarantined


def test_all_orders_fixture_exact(wh, tmp_path):
    rep = import_amazon(wh, "S1", "US", AO, quarantine_dir=tmp_path / "q")
    assert _counts(rep, "orders", "all_orders") == (8, 6, 2)
    assert _counts(rep, "order_items", "all_orders") == (8, 6, 2)
    assert _counts(rep, "cancellations", "all_orders") == (1, 1, 0)
    o = _tab(wh, "orders")
    assert o["order_id"].tolist() == [f"111-1000001-000000{i}" for i in (1, 2, 3, 4, 8)]
    assert o["purchased_at"].tolist() == [
        T("2024-05-01 10:00"),
        T("2024-05-02 01:30"),  # 18:30 -07:00
        T("2024-05-02 08:00"),
        T("2024-05-03 12:00"),
        T("2024-05-09 16:15"),  # naive: 09:15 Pacific daylight time
    ]
    assert o["fulfillment_channel"].tolist() == ["MFN", "MFN", "AFN", "MFN", "MFN"]
    assert o["units"].tolist() == [1, 3, 1, 0, 1]
    assert o["order_total"].tolist()[:3] == [19.99, 44.98, 24.5]
    assert pd.isna(o["order_total"][3])
    assert o["is_business"].tolist()[:2] == [False, True]
    assert o["latest_ship_at"].isna().all()  # the flat file has no ship-by deadline
    items = _tab(wh, "order_items", ("order_id", "line_id"))
    assert items[["order_id", "line_id", "quantity"]].values.tolist()[:3] == [
        ["111-1000001-0000001", "CAM-12", 1],
        ["111-1000001-0000002", "CST-01", 1],
        ["111-1000001-0000002", "MUG-01", 2],
    ]
    assert items["unit_price"].tolist()[:3] == [19.99, 5.0, 19.99]
    c = _tab(wh, "cancellations")
    assert c[["order_id", "cancelled_at", "initiated_by"]].values.tolist() == [
        ["111-1000001-0000004", T("2024-05-03 15:00"), "unknown"]
    ]
    prov = wh.provided_columns("orders")
    assert {"purchased_at", "units", "order_total", "currency", "is_business"} <= prov
    assert not {"latest_ship_at", "latest_delivery_at"} & prov
    assert "initiated_by" not in wh.provided_columns("cancellations")
    q = pd.read_csv(tmp_path / "q" / "orders.csv")
    assert q[["row", "column", "reason"]].values.tolist() == [
        [
            8,
            "sales-channel",
            "a multi-channel fulfilment order (sales-channel Non-Amazon), not an Amazon marketplace order",
        ],
        [9, "purchase-date", "not a valid timestamp: 'yesterday'"],
        [
            10,
            "product-name",
            "warning: '?' in place of characters: lossy upstream encoding, kept as is (not repaired)",
        ],
    ]
    # the stray quote of the product name (line 3) did not swallow the next line (C7)
    assert "111-1000001-0000002" in set(items["order_id"])


def test_c7_all_orders_with_stray_quotes(wh, tmp_path):
    rows = [
        '111-0000001\t2024-05-01T10:00:00+00:00\tShipped\tMerchant\tWebcam 1/2" Sensor\tA\t1\t1.00',
        '111-0000002\t2024-05-01T10:00:00+00:00\tShipped\tMerchant\t"Quoted start only\tB\t2\t2.00',
        "111-0000003\t2024-05-01T10:00:00+00:00\tShipped\tMerchant\tPlain name\tC\t3\t3.00",
    ]
    (tmp_path / "ao.txt").write_text("\n".join([HEADER, *rows]) + "\n")
    rep = import_amazon(wh, "S1", "US", tmp_path / "ao.txt")
    assert _counts(rep, "order_items", "ao.txt") == (3, 3, 0)
    assert _tab(wh, "order_items")["quantity"].tolist() == [1, 2, 3]
    assert _tab(wh, "orders")["units"].tolist() == [1, 2, 3]


def test_c7_fully_quoted_all_orders(wh, tmp_path):
    def q(line):
        return "\t".join(f'"{f}"' for f in line.split("\t"))

    rows = ['111-0000001\t2024-05-01T10:00:00+00:00\tShipped\tAmazon\tA ""big"" lamp\tA\t4\t8.00']
    (tmp_path / "aoq.txt").write_text("\n".join([q(HEADER), *map(q, rows)]) + "\n")
    rep = import_amazon(wh, "S1", "US", tmp_path / "aoq.txt")
    o = _tab(wh, "orders")
    assert o[["order_id", "fulfillment_channel", "units", "order_total"]].values.tolist() == [
        ["111-0000001", "AFN", 4, 8.0]
    ]
    assert any("fully quoted" in n for n in rep.notes)


def test_c6_bom_all_orders(wh, tmp_path):
    data = (
        codecs.BOM_UTF8
        + (HEADER + "\n111-0000001\t2024-05-01T10:00:00Z\tShipped\tMerchant\tx\tA\t2\t2\n").encode()
    )
    (tmp_path / "bom.txt").write_bytes(data)
    import_amazon(wh, "S1", "US", tmp_path / "bom.txt")
    assert _tab(wh, "orders")["order_id"].tolist() == ["111-0000001"]


def test_orders_api_adds_deadlines_and_flat_file_keeps_them(wh):
    rep = import_amazon(wh, "S1", "US", API)
    assert _counts(rep, "orders", "orders_api") == (5, 4, 1)
    assert rep.quarantined["reason"].tolist() == ["not MFN or AFN: 'XYZ'"]
    o = _tab(wh, "orders").set_index("order_id")
    assert o.loc["111-1000001-0000001", "latest_ship_at"] == T("2024-05-03 06:59:59")
    assert o.loc["111-1000001-0000001", "latest_delivery_at"] == T("2024-05-08 06:59:59")
    assert o.loc["111-1000001-0000003", "is_premium"]
    assert o.loc["111-1000001-0000002", "units"] == 3 and o.loc["111-1000001-0000002", "order_total"] == 44.98
    assert {"latest_ship_at", "latest_delivery_at", "is_premium"} <= wh.provided_columns("orders")
    c = _tab(wh, "cancellations")
    assert c[["order_id", "cancelled_at"]].values.tolist() == [["111-1000001-0000006", T("2024-05-06 02:00")]]
    # the flat file (no deadlines) imported afterwards keeps the API's deadlines
    import_amazon(wh, "S1", "US", AO)
    o = _tab(wh, "orders").set_index("order_id")
    assert o.loc["111-1000001-0000001", "latest_ship_at"] == T("2024-05-03 06:59:59")
    assert o.loc["111-1000001-0000002", "latest_delivery_at"] == T("2024-05-09 06:59:59")
    assert pd.isna(o.loc["111-1000001-0000008", "latest_ship_at"])  # only in the flat file
    assert o.loc["111-1000001-0000002", "is_business"]  # both sources agree
    # one provenance source per seller: the union of what its reports provide
    assert {"latest_ship_at", "latest_delivery_at", "units", "is_business"} <= wh.provided_columns("orders")
    rep = import_amazon(wh, "S1", "US", AO)
    # orders 4 and 8 are only in the flat file; 1, 2 and 6 came with the API deadlines
    assert "2 of 5 seller-fulfilled orders of S1 have no ship-by deadline" in " ".join(rep.notes)


def test_orders_api_page_shapes(wh, tmp_path):
    (tmp_path / "a.json").write_text(
        '{"Orders": [{"AmazonOrderId": "A1", "PurchaseDate": "2024-05-01T00:00:00Z", '
        '"FulfillmentChannel": "AFN", "MarketplaceId": "A1PA6795UKMFR9"}]}'
    )
    (tmp_path / "b.json").write_text(
        '[{"AmazonOrderId": "B1", "PurchaseDate": "2024-05-01T00:00:00Z", '
        '"FulfillmentChannel": "MFN", "MarketplaceId": "NOPE"}]'
    )
    (tmp_path / "c.json").write_text('{"payload": {"Orders": []}}')
    rep = import_amazon(wh, "S1", "US", tmp_path)
    o = _tab(wh, "orders")
    assert o[["order_id", "marketplace_id"]].values.tolist() == [["A1", "DE"]]
    assert rep.quarantined["reason"].tolist() == ["unknown Amazon marketplace id 'NOPE'"]
    assert "latest_ship_at" not in wh.provided_columns("orders")  # no page had LatestShipDate
    assert set(wh.execute(wh.table("sellers"))["marketplace_id"]) == {"DE", "US"}
    with pytest.raises(IngestError, match="the API returned errors, not data: InvalidInput: bad"):
        (tmp_path / "e.json").write_text('{"errors": [{"code": "InvalidInput", "message": "bad"}]}')
        import_amazon(wh, "S1", "US", tmp_path / "e.json")


def test_fba_shipments(wh):
    rep = import_amazon(wh, "S1", "US", [AO, DATA / "fba_shipments_us.txt"])
    assert _counts(rep, "shipments", "fba") == (3, 3, 0)
    s = _tab(wh, "shipments")
    assert s[
        ["order_id", "shipment_id", "confirmed_at", "carrier", "tracking_id", "units"]
    ].values.tolist() == [
        ["111-1000001-0000003", "DkShip001", T("2024-05-02 20:10"), "AMZN_US", "TBA000111", 3],
        ["111-1000001-0000099", "DkShip002", T("2024-05-04 21:00"), "UPS", "1Z999", 1],
    ]
    assert s["delivered_at"].isna().all()
    prov = wh.provided_columns("shipments")
    assert (
        {"carrier", "tracking_id", "units"} <= prov
        and "confirmed_at" not in prov
        and "delivered_at" not in prov
    )
    w = rep.warnings
    assert w[w.table == "shipments"][["row", "reason"]].values.tolist() == [
        [4, "seller order (seller_id, order_id) is not in orders (loaded anyway)"]
    ]


def test_returns(wh):
    rep = import_amazon(wh, "S1", "US", DATA / "returns_us.txt")
    assert _counts(rep, "returns", "returns") == (4, 3, 1)
    r = _tab(wh, "returns", ("return_id",))
    assert r[["order_id", "return_id", "requested_at", "reason", "free_return_label"]].values.tolist() == [
        ["111-1000001-0000002", "DxRMA0001", T("2024-05-10 14:00"), "DEFECTIVE", True],
        ["111-1000001-0000001", "DxRMA0002", T("2024-05-15 07:00"), "UNWANTED_ITEM", False],
    ]
    assert rep.quarantined[["row", "reason"]].values.tolist() == [
        [5, "no Amazon or merchant RMA id to identify the return"]
    ]


def test_missing_required_column_is_a_clear_error(wh, tmp_path):
    (tmp_path / "x.txt").write_text("amazon-order-id\tpurchase-date\torder-status\tfulfillment-channel\n")
    import_amazon(wh, "S1", "US", tmp_path / "x.txt")  # header-only: a valid empty import
    (tmp_path / "y.txt").write_text("amazon-order-id\tshipment-id\tshipment-date\n1\t2\t2024-05-01\n")
    rep = import_amazon(wh, "S1", "US", tmp_path / "y.txt")
    assert _counts(rep, "shipments", "y.txt") == (1, 1, 0)
    (tmp_path / "z.txt").write_text("Order ID\tReturn request date\n")
    with pytest.raises(
        IngestError, match=r"z.txt: a seller feedback report .* exactly 6 columns .* this file has 2"
    ):
        import_amazon(wh, "S1", "US", tmp_path / "z.txt", report_type="GET_SELLER_FEEDBACK_DATA")
