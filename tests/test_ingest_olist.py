"""`import_olist` on a hand-made mini Olist set (tests/data/olist_mini) and on the real shared data.

Expected UTC instants are computed by hand: São Paulo is UTC-3, and UTC-2 during daylight saving
(2016-10-16 .. 2017-02-19, 2017-10-15 .. 2018-02-18). 2017-10-15 00:30 does not exist (shifted to
01:00 = 03:00 UTC); 2018-02-17 23:xx occurs twice (the earlier, UTC-2 instant is taken).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxops.ingest import IngestError, discover_olist_files, import_olist
from cxops.ingest.files import read_raw
from cxops.ingest.wallclock import end_of_local_day_utc, local_to_utc, parse_wallclock
from cxops.warehouse import connect

MINI = Path(__file__).parent / "data" / "olist_mini"
T = pd.Timestamp


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


@pytest.fixture
def mini(wh, tmp_path):
    return import_olist(wh, MINI, tmp_path / "q")


def _table(wh, name, key=("seller_id", "order_id")):
    return wh.execute(wh.table(name)).set_index(list(key)).sort_index()


def _counts(rep, table, file_part=None):
    e = [x for x in rep.entries if x.table == table and (file_part is None or file_part in x.file)]
    assert len(e) == 1
    e = e[0]
    return e.rows_read, e.rows_loaded, e.rows_quarantined, e.rows_written


# -- time zone rule ----------------------------------------------------------------------------------
def test_wallclock_dst_rule():
    naive, bad = parse_wallclock(
        pd.Series(["2017-10-15 00:30:00", "2018-02-17 23:30:00", "2017-06-10 14:00:00", "", "garbage"])
    )
    assert list(bad) == [False, False, False, False, True]
    utc, stats = local_to_utc(naive, "America/Sao_Paulo")
    assert list(utc[:3]) == [T("2017-10-15 03:00"), T("2018-02-18 01:30"), T("2017-06-10 17:00")]
    assert utc[3:].isna().all()
    assert (stats.shifted, stats.ambiguous) == (1, 1)
    days = pd.Series(pd.to_datetime(["2018-02-17", "2018-01-10"]))
    end, _ = end_of_local_day_utc(days, "America/Sao_Paulo")
    assert list(end) == [T("2018-02-18 01:59:59.999999"), T("2018-01-11 01:59:59.999999")]


def test_wallclock_drops_a_wrong_utc_label():
    labelled = pd.Series(pd.to_datetime(["2017-09-19 09:45:35"])).dt.tz_localize("UTC")
    naive, _ = parse_wallclock(labelled)
    assert naive[0] == T("2017-09-19 09:45:35")


# -- the mini set -------------------------------------------------------------------------------------
def test_counts_and_invariant(mini):
    for e in mini.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined, e
    assert _counts(mini, "orders") == (9, 8, 1, 9)  # o8 has no items; o2 is two seller orders
    assert _counts(mini, "order_items") == (12, 11, 1, 11)  # the o99 item: order not in the file
    assert _counts(mini, "shipments") == (6, 6, 0, 7)
    assert _counts(mini, "cancellations") == (3, 2, 1, 2)  # o8 unavailable but no seller
    assert _counts(mini, "feedback") == (9, 5, 4, 6)
    assert _counts(mini, "sellers", "olist_sellers") == (5, 5, 0, 5)
    assert _counts(mini, "sellers", "closed_deals") == (2, 1, 1, 0)


def test_seller_orders(wh, mini):
    o = _table(wh, "orders")
    assert len(o) == 9
    r = o.loc[("s1", "o1")]
    assert r["purchased_at"] == T("2018-01-02 12:00")  # 10:00 local, UTC-2 (DST)
    assert r["latest_ship_at"] == T("2018-01-06 11:00")  # the LATEST item deadline (line 2)
    assert r["latest_delivery_at"] == T("2018-01-11 01:59:59.999999")
    assert (r["units"], r["order_total"], r["currency"]) == (2, 80.5, "BRL")
    assert r["category"] == "health_beauty"  # first item by order_item_id (line 1, p1)
    assert (r["marketplace_id"], r["fulfillment_channel"]) == ("BR", "MFN")
    # a multi-seller order is one seller order per seller
    a, b = o.loc[("s1", "o2")], o.loc[("s2", "o2")]
    assert (a["units"], a["order_total"], a["category"]) == (2, 40.0, "pc_gamer")  # untranslated kept
    assert a["latest_ship_at"] == T("2017-06-13 17:00")
    assert (b["units"], b["order_total"], b["category"]) == (1, 100.0, "computers_accessories")
    assert a["purchased_at"] == b["purchased_at"] == T("2017-06-10 17:00")  # UTC-3
    assert a["latest_delivery_at"] == T("2017-06-26 02:59:59.999999")
    assert pd.isna(o.loc[("s3", "o4"), "category"])  # product without a category
    assert ("s5", "o99") not in o.index  # never invented


def test_dst_gap_and_overlap(wh, mini):
    o = _table(wh, "orders")
    assert o.loc[("s4", "o6"), "purchased_at"] == T("2017-10-15 03:00")  # 00:30 does not exist
    o7 = o.loc[("s4", "o7")]
    assert o7["purchased_at"] == T("2018-02-18 01:30")  # 23:30 twice: the earlier (UTC-2)
    assert o7["latest_ship_at"] == T("2018-02-18 01:59")
    assert o7["latest_delivery_at"] == T("2018-02-18 01:59:59.999999")
    assert any("1 nonexistent times shifted forward, 4 ambiguous" in n for n in mini.notes)


def test_order_items(wh, mini):
    it = _table(wh, "order_items", ("seller_id", "order_id", "line_id"))
    assert len(it) == 11
    r = it.loc[("s1", "o1", "2")]
    assert (r["product_id"], r["category"], r["quantity"], r["unit_price"]) == (
        "p2",
        "computers_accessories",
        1,
        30.5,
    )
    q = mini.quarantined[mini.quarantined["table"] == "order_items"].iloc[0]
    assert (q["row"], q["column"], q["reason"]) == (13, "order_id", "order not in the orders file")
    assert any("1 orders referenced by items are missing from the orders file" in n for n in mini.notes)


def test_shipments(wh, mini):
    s = _table(wh, "shipments")
    assert len(s) == 7
    r = s.loc[("s1", "o1")]
    assert r["shipment_id"] == "o1"
    assert r["confirmed_at"] == r["first_scan_at"] == T("2018-01-04 14:00")
    assert r["delivered_at"] == T("2018-01-10 17:00")
    assert pd.isna(r["carrier"]) and pd.isna(r["tracking_id"])
    assert pd.isna(s.loc[("s2", "o3"), "delivered_at"])  # C25: delivered without a date
    assert len(s.loc[(slice(None), "o2"), :]) == 2


def test_c25_status_date_mismatch_is_flagged(mini):
    w = mini.warnings[mini.warnings["table"] == "orders"]
    assert list(w["row"]) == [4]  # o3
    assert "status delivered but order_delivered_customer_date is missing" in w.iloc[0]["reason"]
    assert any("status/date mismatch: 1 orders" in n for n in mini.notes)


def test_cancellations(wh, mini):
    c = _table(wh, "cancellations")
    assert list(c.index) == [("s3", "o4"), ("s3", "o5")]
    assert c.loc[("s3", "o4"), "initiated_by"] == "seller"  # unavailable
    assert c.loc[("s3", "o4"), "cancelled_at"] == T("2017-05-05 12:30")  # approval time
    assert c.loc[("s3", "o5"), "initiated_by"] == "unknown"  # canceled
    assert c.loc[("s3", "o5"), "cancelled_at"] == T("2017-07-01 23:00")  # no approval: purchase time
    assert any("no cancellation time" in n for n in mini.notes)


def test_feedback_c24_c26(wh, mini):
    f = _table(wh, "feedback")
    assert len(f) == 6
    # two reviews of o1: the latest answered wins
    assert f.loc[("s1", "o1"), "rating"] == 4
    assert f.loc[("s1", "o1"), "submitted_at"] == T("2018-01-14 11:00")
    sup = mini.quarantined[(mini.quarantined["table"] == "feedback") & (mini.quarantined["row"] == 2)]
    assert sup.iloc[0]["reason"] == "superseded by a later review of the same order (review r1b)"
    # C24: review rS shared by o3 and o9 (both seller s2): each order keeps it, not shared across sellers
    assert f.loc[("s2", "o3"), "rating"] == f.loc[("s2", "o9"), "rating"] == 1
    assert not f.loc[("s2", "o3"), "is_shared"] and not f.loc[("s2", "o9"), "is_shared"]
    assert "review rS shared by 2 orders (kept for each order)" in mini.notes
    # C26: a review of a two-seller order gives both sellers a row, marked shared
    assert f.loc[("s1", "o2"), "is_shared"] and f.loc[("s2", "o2"), "is_shared"]
    assert f.loc[("s1", "o2"), "comment"] == "Bom\nchegou\nrapido"
    assert not f.loc[("s1", "o1"), "is_shared"]
    # no answer timestamp: the creation date
    assert f.loc[("s4", "o7"), "submitted_at"] == T("2018-02-26 03:00")
    reasons = mini.quarantined[mini.quarantined["table"] == "feedback"].set_index("row")["reason"]
    assert reasons[7] == "order not in the orders file"
    assert "no seller" in reasons[8]
    assert "review_score" in reasons[10] and "'6'" in reasons[10]


def test_sellers(wh, mini):
    s = _table(wh, "sellers", ("seller_id",))
    assert list(s.index) == ["s1", "s2", "s3", "s4", "s5"]
    assert s.loc["s1", "registered_at"] == T("2018-01-15 12:00")
    assert s["registered_at"].isna().sum() == 4
    assert (s["marketplace_id"] == "BR").all() and (s["country"] == "BR").all()
    assert s.loc["s1", "primary_category"] == "pc_gamer"  # 2 of its 4 items
    assert s.loc["s4", "primary_category"] == "computers_accessories"  # 1-1 tie: alphabetical
    assert s.loc["s5", "primary_category"] == "health_beauty"  # from its item, though the order is missing
    q = mini.quarantined[mini.quarantined["file"].str.contains("closed_deals")]
    assert q.iloc[0]["reason"] == "seller not in the sellers file"


def test_provided_columns_and_absent_tables(wh, mini):
    assert wh.provided_columns("orders") >= {
        "purchased_at",
        "fulfillment_channel",
        "latest_ship_at",
        "latest_delivery_at",
        "units",
        "order_total",
        "currency",
        "category",
    }
    assert not {"is_premium", "is_business"} & wh.provided_columns("orders")
    ship = wh.provided_columns("shipments")
    assert {"confirmed_at", "first_scan_at", "delivered_at"} <= ship
    assert not {"carrier", "tracking_id", "units"} & ship
    assert "via_buyer_request" not in wh.provided_columns("cancellations")
    assert "reason" not in wh.provided_columns("cancellations")
    fb = wh.provided_columns("feedback")
    assert {"rating", "submitted_at", "is_shared", "comment"} <= fb and "removed_at" not in fb
    for t in ("claims", "buyer_messages", "returns", "violations"):
        assert not wh.has_table(t)
    assert wh.execute(wh.table("marketplaces"))["timezone"].tolist() == ["America/Sao_Paulo"]


def test_quarantine_files(mini, tmp_path):
    fb = pd.read_csv(tmp_path / "q" / "feedback.csv", dtype=str, keep_default_na=False)
    assert list(fb.columns) == ["table", "file", "row", "column", "reason", "record"]
    assert (fb["reason"].str.startswith("warning: ")).sum() == 2  # the two rS rows
    assert len(fb) == 6
    assert '"review_id":"r1a"' in fb.loc[fb["row"] == "2", "record"].iloc[0]


def test_reimport_does_not_double_count(wh, mini, tmp_path):
    before = {
        t: len(wh.execute(wh.table(t)))
        for t in ("orders", "order_items", "shipments", "cancellations", "feedback", "sellers")
    }
    q_before = (tmp_path / "q" / "feedback.csv").read_text()
    rep = import_olist(wh, MINI, tmp_path / "q")
    after = {t: len(wh.execute(wh.table(t))) for t in before}
    assert after == before
    assert all(e.inserted == 0 for e in rep.entries)
    assert rep.entry("orders").replaced == 9
    assert (tmp_path / "q" / "feedback.csv").read_text() == q_before


def test_parquet_items_with_a_wrong_utc_label(wh, tmp_path):
    """The shared Parquet labels local shipping deadlines as UTC: the wall clock is kept."""
    d = tmp_path / "olist"
    shutil.copytree(MINI, d)
    items = read_raw(d / "olist_order_items_dataset.csv")
    items["shipping_limit_date"] = pd.to_datetime(items["shipping_limit_date"]).dt.tz_localize("UTC")
    items["order_item_id"] = items["order_item_id"].astype("int32")
    items["price"] = items["price"].astype(float)
    (d / "olist_order_items_dataset.csv").unlink()
    items.to_parquet(d / "olist_order_items_dataset.parquet", index=False)
    rep = import_olist(wh, d)
    o = _table(wh, "orders")
    assert o.loc[("s1", "o1"), "latest_ship_at"] == T("2018-01-06 11:00")
    assert o.loc[("s4", "o7"), "latest_ship_at"] == T("2018-02-18 01:59")
    assert rep.entry("order_items").rows_read == 12
    q = rep.quarantined[rep.quarantined["table"] == "order_items"]
    assert list(q["row"]) == [12]  # Parquet rows count from 1


# -- discovery ---------------------------------------------------------------------------------------
def test_explicit_paths_and_prefix_discovery(wh, tmp_path):
    d = tmp_path / "olist"
    (d / "partial").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for f in MINI.iterdir():
        if f.name.startswith("olist_orders_dataset"):
            shutil.copy(f, d / "partial" / "olist_orders_dataset.UNION_9.csv")
        elif f.name.startswith("olist_order_reviews"):
            shutil.copy(f, elsewhere / "my_reviews.csv")
        elif not f.name.startswith("olist_closed_deals"):
            shutil.copy(f, d / f.name)
    found = discover_olist_files(d, {"reviews": elsewhere / "my_reviews.csv"})
    assert found["orders"] == d / "partial" / "olist_orders_dataset.UNION_9.csv"
    assert found["reviews"] == elsewhere / "my_reviews.csv"
    assert "closed_deals" not in found
    rep = import_olist(wh, d, paths={"reviews": elsewhere / "my_reviews.csv"})
    assert rep.entry("feedback").rows_read == 9
    assert wh.execute(wh.table("sellers"))["registered_at"].isna().all()  # no closed deals


def test_ambiguous_and_missing_files(tmp_path):
    d = tmp_path / "olist"
    shutil.copytree(MINI, d)
    shutil.copy(d / "olist_orders_dataset.csv", d / "olist_orders_dataset.v2.csv")
    (d / "olist_orders_dataset.csv").unlink()
    shutil.copy(d / "olist_orders_dataset.v2.csv", d / "olist_orders_dataset.v3.csv")
    with pytest.raises(IngestError, match=r"several Olist orders files.*--orders PATH"):
        discover_olist_files(d)
    assert discover_olist_files(d, {"orders": d / "olist_orders_dataset.v2.csv"})["orders"].name == (
        "olist_orders_dataset.v2.csv"
    )
    (d / "olist_sellers_dataset.csv").unlink()
    with pytest.raises(IngestError, match="sellers"):
        discover_olist_files(d, {"orders": d / "olist_orders_dataset.v2.csv"})
    with pytest.raises(IngestError, match="unknown Olist file"):
        discover_olist_files(d, {"order": d / "x.csv"})


def test_missing_source_column_names_file_and_column(wh, tmp_path):
    d = tmp_path / "olist"
    shutil.copytree(MINI, d)
    read_raw(d / "olist_order_items_dataset.csv").drop(columns=["price"]).to_csv(
        d / "olist_order_items_dataset.csv", index=False
    )
    with pytest.raises(IngestError, match=r"olist_order_items_dataset\.csv.*price"):
        import_olist(wh, d)


def test_without_products_categories_are_not_provided(wh, tmp_path):
    d = tmp_path / "olist"
    shutil.copytree(MINI, d)
    (d / "olist_products_dataset.csv").unlink()
    import_olist(wh, d)
    assert "category" not in wh.provided_columns("orders")
    assert "primary_category" not in wh.provided_columns("sellers")


# -- the real shared data ------------------------------------------------------------------------------
def test_real_olist_data(shared_data):
    base = shared_data / "olist-brazilian-ecommerce"
    paths = {
        "orders": base / "partial" / "olist_orders_dataset.UNION_42474.parquet",
        "reviews": base / "partial" / "olist_order_reviews_dataset.UNION_38466.parquet",
        "closed_deals": shared_data / "olist-marketing-funnel" / "olist_closed_deals_dataset.csv",
    }
    if not all(p.exists() for p in paths.values()) or not base.is_dir():
        pytest.skip(f"Olist files not found under {shared_data}")
    wh = connect("memory")
    start = time.perf_counter()
    rep = import_olist(wh, base, paths=paths)
    elapsed = time.perf_counter() - start
    for e in rep.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined, e

    # independent pandas counts
    items = pd.read_parquet(base / "olist_order_items_dataset.parquet")
    orders = pd.read_parquet(paths["orders"])
    in_file = items[items["order_id"].isin(orders["order_id"])]
    n_seller_orders = len(in_file[["order_id", "seller_id"]].drop_duplicates())
    assert len(wh.execute(wh.table("orders"))) == n_seller_orders
    assert rep.entry("orders").rows_written == n_seller_orders
    assert len(wh.execute(wh.table("order_items"))) == len(in_file)
    assert rep.entry("order_items").rows_quarantined == len(items) - len(in_file)
    assert rep.entry("order_items").rows_read == 112_650
    assert rep.entry("orders").rows_read == 42_474
    assert rep.entry("feedback").rows_read == 38_466
    assert len(wh.execute(wh.table("sellers"))) == 3095
    # one feedback row per (seller order) at most, and shared reviews marked
    fb = wh.execute(wh.table("feedback"))
    assert not fb.duplicated(["seller_id", "order_id"]).any()
    multi = in_file.groupby("order_id")["seller_id"].nunique()
    shared_orders = set(multi[multi > 1].index)
    assert fb["is_shared"].eq(fb["order_id"].isin(shared_orders)).all()
    # cancellations: statuses unavailable / canceled of orders with items
    so = in_file[["order_id", "seller_id"]].drop_duplicates().merge(orders, on="order_id")
    n_cancel = int(so["order_status"].isin(["unavailable", "canceled"]).sum())
    assert len(wh.execute(wh.table("cancellations"))) == n_cancel
    # instants are UTC: every purchase is 2 or 3 hours after its local wall clock
    o = wh.execute(wh.table("orders")).merge(orders[["order_id", "order_purchase_timestamp"]], on="order_id")
    diff = (o["purchased_at"] - pd.to_datetime(o["order_purchase_timestamp"])).dt.total_seconds() / 3600
    assert set(np.unique(diff)) <= {2.0, 3.0}
    assert elapsed < 60
