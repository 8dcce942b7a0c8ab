"""The synthetic demo data set: contract, determinism, referential integrity, calibration, scenarios."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.demo.calibration import OLIST, measure_olist
from cxops.demo.synth import generate, write_tables

# the raw-data tables the demo generates (reported_metrics holds a marketplace's own figures)
DATA_TABLES = [t for t in TABLES if t != "reported_metrics"]

SMALL = {"seed": 11, "sellers": 40, "days": 200, "end": date(2026, 10, 31)}
KEY = ["seller_id", "order_id"]
# the data cut: end of 2026-10-31 in America/Los_Angeles (PDT), as UTC
CUT = pd.Timestamp("2026-11-01 07:00:00")


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate(**SMALL)


@pytest.fixture(scope="module")
def full() -> dict[str, pd.DataFrame]:
    t0 = time.perf_counter()
    tables = generate()
    tables["sellers"].attrs["seconds"] = time.perf_counter() - t0
    return tables


def _trailing_90(orders: pd.DataFrame) -> pd.Series:
    last = orders["purchased_at"] >= CUT - pd.Timedelta(days=90)
    return orders[last].groupby(["seller_id", "marketplace_id"]).size()


# ----------------------------------------------------------------------------------------- contract


def test_same_seed_gives_identical_frames(small):
    again = generate(**SMALL)
    assert list(again) == list(small)
    for name, df in small.items():
        pd.testing.assert_frame_equal(again[name], df, check_exact=True, obj=name)
    assert again["sellers"].attrs["scenario"] == small["sellers"].attrs["scenario"]


def test_other_seed_differs(small):
    other = generate(**{**SMALL, "seed": 12})
    assert not other["orders"]["order_id"].equals(small["orders"]["order_id"])
    assert not other["sellers"]["marketplace_id"].equals(small["sellers"]["marketplace_id"])


def test_every_table_has_the_contract_columns_and_types(small):
    assert set(small) == set(DATA_TABLES)
    for name, df in small.items():
        schema = TABLES[name]
        assert list(df.columns) == schema.column_names, name
        assert len(df) > 0, name
        for col in schema.columns:
            s = df[col.name]
            where = f"{name}.{col.name}"
            if col.dtype == "timestamp":
                assert s.dtype == "datetime64[us]", where  # UTC, timezone-naive
            elif col.dtype == "bool":
                assert s.dtype == bool, where
            elif col.dtype == "int":
                assert s.dtype == np.int64, where
            elif col.dtype == "float":
                assert s.dtype == np.float64, where
            else:
                assert pd.api.types.is_string_dtype(s), where
            if col.required:
                assert s.notna().all(), where
            if col.enum is not None:
                assert set(s.dropna().unique()) <= set(col.enum), where


@pytest.mark.parametrize("args", [SMALL, {"seed": 3, "sellers": 120, "days": 420, "end": date(2025, 3, 31)}])
def test_validates_with_nothing_quarantined_or_flagged(args, small):
    tables = small if args is SMALL else generate(**args)
    for name, df in tables.items():
        result = validate(df, TABLES[name], f"{name}.parquet", first_row_number=1)
        assert result.rows_quarantined == 0, (name, result.quarantined.head().to_dict("records"))
        assert len(result.warnings) == 0, (name, result.warnings.head().to_dict("records"))
        assert result.rows_loaded == len(df)


def test_keys_are_unique(full):
    for name, df in full.items():
        key = list(TABLES[name].key)
        assert not df.duplicated(key).any(), name
    # ids that are unique beyond their contract key
    assert full["orders"]["order_id"].is_unique
    assert full["shipments"]["shipment_id"].is_unique
    assert full["buyer_messages"]["message_id"].is_unique


def test_children_reference_existing_seller_orders(full):
    orders = full["orders"][KEY + ["marketplace_id"]]
    for name in ("order_items", "shipments", "cancellations", "feedback", "claims", "returns"):
        child = full[name][KEY].drop_duplicates()
        assert len(child.merge(orders, on=KEY)) == len(child), name
    msgs = full["buyer_messages"]
    with_order = msgs[msgs["order_id"].notna()]
    joined = with_order.merge(orders, on=KEY, suffixes=("", "_order"))
    assert len(joined) == len(with_order)
    assert (joined["marketplace_id"] == joined["marketplace_id_order"]).all()
    assert msgs["order_id"].isna().any()  # pre-sale questions without an order
    sellers = full["sellers"][["seller_id", "marketplace_id"]]
    for name in ("orders", "violations", "buyer_messages"):
        pairs = full[name][["seller_id", "marketplace_id"]].drop_duplicates()
        assert len(pairs.merge(sellers)) == len(pairs), name
    assert set(full["sellers"]["marketplace_id"]) <= set(full["marketplaces"]["marketplace_id"])


def test_cancelled_orders_have_no_shipment(full):
    both = full["cancellations"][KEY].merge(full["shipments"][KEY], on=KEY)
    assert both.empty


def test_units_and_totals_add_up(full):
    items = full["order_items"].assign(amount=lambda d: d["quantity"] * d["unit_price"])
    per_order = items.groupby(KEY).agg(units=("quantity", "sum"), total=("amount", "sum"))
    o = full["orders"].set_index(KEY)
    assert (per_order["units"] == o.loc[per_order.index, "units"]).all()
    assert np.allclose(per_order["total"], o.loc[per_order.index, "order_total"], atol=0.01)
    shipped = full["shipments"].groupby(KEY).agg(units=("units", "sum"), last=("confirmed_at", "max"))
    ordered = o.loc[shipped.index, "units"]
    assert (shipped["units"] <= ordered).all()
    # a second package may still be unshipped at the data cut, never earlier
    settled = shipped["last"] < CUT - pd.Timedelta(days=21)
    assert (shipped.loc[settled, "units"] == ordered[settled]).all()


def test_nothing_after_the_data_cut(full):
    deadlines = ("latest_ship_at", "latest_delivery_at")  # deadlines may lie after the cut
    for name, df in full.items():
        for col in TABLES[name].columns:
            if col.dtype == "timestamp" and col.name not in deadlines:
                assert not (df[col.name] >= CUT).any(), (name, col.name)
    # undelivered parcels remain near the end
    recent = full["shipments"]["confirmed_at"] > CUT - pd.Timedelta(days=2)
    assert full["shipments"].loc[recent, "delivered_at"].isna().any()


def test_deadlines_are_end_of_local_business_days(small):
    o = small["orders"]
    zones = small["marketplaces"].set_index("marketplace_id")["timezone"]
    for mp, g in o.groupby("marketplace_id"):
        local_ship = g["latest_ship_at"].dt.tz_localize("UTC").dt.tz_convert(zones[mp])
        local_deliver = g["latest_delivery_at"].dt.tz_localize("UTC").dt.tz_convert(zones[mp])
        assert (local_ship.dt.strftime("%H:%M:%S") == "23:59:59").all(), mp
        assert (local_deliver.dt.strftime("%H:%M:%S") == "23:59:59").all(), mp
        mfn = (g["fulfillment_channel"] == "MFN").to_numpy()
        assert (local_ship[mfn].dt.day_of_week < 5).all(), mp  # handling counts business days
        days = (g["latest_ship_at"] - g["purchased_at"]).dt.total_seconds() / 86400
        assert days[mfn].between(0, 12).all(), mp  # 1-3 business days (+ weekends, Golden Week)
        assert (g["latest_delivery_at"] >= g["latest_ship_at"]).all(), mp
    assert (o["purchased_at"] < o["latest_ship_at"]).all()


# ----------------------------------------------------------------------------------------- shape


def test_size_tail_and_eligible_volume(full, small):
    per_seller = full["orders"].groupby("seller_id").size().sort_values(ascending=False)
    top = per_seller.iloc[: len(per_seller) // 10].sum()
    assert top / per_seller.sum() > 0.5
    assert 300_000 <= len(full["orders"]) <= 650_000
    trailing = _trailing_90(full["orders"])
    assert (trailing > 1500).sum() >= 10
    assert (_trailing_90(small["orders"]) > 1500).sum() >= 1
    assert full["sellers"].attrs["seconds"] < 30


def test_tenure_spread(full):
    reg = full["sellers"]["registered_at"]
    assert (reg > CUT - pd.Timedelta(days=180)).sum() >= 3  # young sellers
    assert (reg < CUT - pd.Timedelta(days=730)).mean() > 0.5


def test_rough_calibration_bands(full):
    o = full["orders"]
    cols = KEY + ["fulfillment_channel", "latest_ship_at", "latest_delivery_at"]
    s = full["shipments"].merge(o[cols], on=KEY)
    per_order = s.groupby(KEY).agg(
        channel=("fulfillment_channel", "first"),
        late=("confirmed_at", "max"),
        ship_by=("latest_ship_at", "first"),
    )
    mfn = per_order[per_order["channel"] == "MFN"]
    late_handover = (mfn["late"] > mfn["ship_by"]).mean()
    assert 0.02 <= late_handover <= 0.06  # program platform average 3.5 % (Olist items: 9.65 %)
    tracked = s[s["tracking_id"].notna() & s["delivered_at"].notna()]
    late_delivery = (
        (tracked["delivered_at"] > tracked["latest_delivery_at"])
        .groupby(tracked["fulfillment_channel"])
        .mean()
    )
    assert 0.03 <= late_delivery["MFN"] <= 0.09  # Olist 6.76 %
    assert late_delivery["AFN"] < late_delivery["MFN"]
    cancel_share = len(full["cancellations"]) / len(o)
    assert 0.008 <= cancel_share <= 0.02  # Olist 1.37 %
    assert set(full["cancellations"]["initiated_by"]) == {"seller", "buyer", "system", "unknown"}
    afn = (o["fulfillment_channel"] == "AFN").mean()
    assert 0.2 <= afn <= 0.4
    mix = full["feedback"]["rating"].value_counts(normalize=True)
    assert 0.08 <= mix[1] <= 0.18 and 0.5 <= mix[5] <= 0.7  # Olist 12.0 % and 57.6 %
    assert 0.03 <= len(full["feedback"]) / len(o) <= 0.12
    assert full["feedback"]["removed_at"].notna().any()
    msgs = len(full["buyer_messages"]) / len(o)
    assert 0.2 <= msgs <= 0.5
    mfn_ship = s[s["fulfillment_channel"] == "MFN"]
    assert 0.005 <= mfn_ship["tracking_id"].isna().mean() <= 0.05
    claims = full["claims"]
    assert {"a_to_z", "chargeback"} == set(claims["kind"])
    assert claims.loc[claims["kind"] == "chargeback", "is_fraud"].any()
    assert {"granted", "denied", "withdrawn"} <= set(claims["decision"])


# ----------------------------------------------------------------------------------------- scenarios


def _scenario_units(tables: dict[str, pd.DataFrame], name: str) -> list[tuple[str, str]]:
    scen = tables["sellers"].attrs["scenario"]
    return [(s, mp) for s, by_mp in scen.items() for mp, v in by_mp.items() if v == name]


def _monthly(df: pd.DataFrame, col: str, value: pd.Series) -> pd.Series:
    return value.groupby(df[col].dt.to_period("M")).mean()


def test_scripted_program_scenarios(full):
    o, v = full["orders"], full["violations"]
    for name in (
        "star",
        "slip_odr_recover",
        "improver",
        "ip_complaint",
        "warnings",
        "slip_vtr",
        "slip_odr",
        "young_star",
        "grower",
        "small_warnings",
        "small_ip",
    ):
        assert len(_scenario_units(full, name)) == 1, name

    # three account-health warnings within 180 days
    for name in ("warnings", "small_warnings"):
        ((sid, mp),) = _scenario_units(full, name)
        w = v[(v["seller_id"] == sid) & v["is_warning"]]["reported_at"].sort_values()
        assert len(w) >= 3 and (w.iloc[2] - w.iloc[0]) <= pd.Timedelta(days=180), name
    # an IP complaint
    ((sid, mp),) = _scenario_units(full, "ip_complaint")
    assert ((v["seller_id"] == sid) & (v["kind"] == "ip_complaint")).any()
    # a young seller with eligible volume
    ((sid, mp),) = _scenario_units(full, "young_star")
    reg = full["sellers"].set_index(["seller_id", "marketplace_id"]).loc[(sid, mp), "registered_at"]
    assert reg > CUT - pd.Timedelta(days=180)
    assert _trailing_90(o).loc[(sid, mp)] > 1500

    # the tracking slip: some month below 95 % valid tracking, the last month above
    ((sid, mp),) = _scenario_units(full, "slip_vtr")
    s = full["shipments"].merge(o[KEY + ["fulfillment_channel"]], on=KEY)
    s = s[(s["seller_id"] == sid) & (s["fulfillment_channel"] == "MFN")]
    vtr = _monthly(s, "confirmed_at", s["tracking_id"].notna() & s["first_scan_at"].notna())
    vtr = vtr[s.groupby(s["confirmed_at"].dt.to_period("M")).size() >= 50]  # whole months
    assert vtr.min() < 0.95 and vtr.iloc[-1] > 0.95, vtr.round(3).to_dict()

    # order defects by purchase month: the recovering seller spikes above 0.6 % and comes back
    fb = full["feedback"]
    neg = fb[(fb["rating"] <= 2) & fb["removed_at"].isna()][KEY]
    cl = full["claims"]
    counted = cl[~cl["decision"].isin(["denied", "withdrawn", "reversed"])][KEY]
    defective = pd.concat([neg, counted]).drop_duplicates().assign(defect=True)
    od = o.merge(defective, on=KEY, how="left").fillna({"defect": False})
    for name, last_ok in (("slip_odr_recover", True), ("slip_odr", False), ("star", True)):
        ((sid, mp),) = _scenario_units(full, name)
        g = od[(od["seller_id"] == sid) & (od["marketplace_id"] == mp)]
        odr = _monthly(g, "purchased_at", g["defect"].astype(float)).iloc[:-1]  # last month: not yet rated
        over = odr > 0.006
        two_running = bool((over & over.shift(1, fill_value=False)).any())  # the removal rule, by month
        assert two_running == (name != "star"), (name, odr.round(4).to_dict())
        month = g["purchased_at"].dt.to_period("M")
        last_two = g.loc[month.isin(odr.index[-2:]), "defect"].mean()  # about a 60-day ODR
        assert (last_two < 0.0045) == last_ok, (name, odr.round(4).to_dict())


# ----------------------------------------------------------------------------------------- files


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_tables_and_import(small, tmp_path, fmt):
    from cxops.ingest import import_canonical
    from cxops.warehouse import connect

    paths = write_tables(small, tmp_path / "demo", fmt=fmt)
    assert sorted(p.name for p in paths) == sorted(f"{t}.{fmt}" for t in DATA_TABLES)
    if fmt == "parquet":
        back = pd.read_parquet(tmp_path / "demo" / "orders.parquet")
        pd.testing.assert_frame_equal(back, small["orders"], check_dtype=False)
    wh = connect("memory")
    try:
        report = import_canonical(wh, tmp_path / "demo")
        assert report.quarantined.empty
        orders = report.entry("orders")
        assert orders.rows_loaded == len(small["orders"])
    finally:
        wh.close()


def test_tiny_and_invalid_sizes():
    for args in ({"sellers": 1, "days": 1}, {"sellers": 3, "days": 20, "seed": 0}):
        tables = generate(**args)
        for name, df in tables.items():
            assert list(df.columns) == TABLES[name].column_names
            assert validate(df, TABLES[name], name).rows_quarantined == 0
    with pytest.raises(ValueError):
        generate(sellers=0)


def test_write_tables_rejects_unknown_format(small, tmp_path):
    with pytest.raises(ValueError, match="parquet"):
        write_tables(small, tmp_path, fmt="xlsx")


# ----------------------------------------------------------------------------------------- calibration


def test_calibration_constants_match_the_olist_data(shared_data):
    olist = shared_data / "olist-brazilian-ecommerce"
    if not olist.is_dir():
        pytest.skip(f"{olist} not found")
    measured = measure_olist(olist)
    assert set(measured) == set(OLIST)
    for key, value in measured.items():
        assert OLIST[key] == value, key
