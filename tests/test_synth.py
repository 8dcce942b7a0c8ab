"""The generator at any size (cxops.synth.generate): every table, the contract, determinism, bounded
chunks, the manifest, and the metrics straight on its Parquet files."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from cxops.canonical.schema import DEADLINE_TABLES, TABLES
from cxops.canonical.validate import validate
from cxops.errors import InputError
from cxops.metrics.compute import compute_metrics, compute_series
from cxops.synth import attach_parquet, generate, open_parquet
from cxops.synth.generate import MANIFEST, WRITTEN
from cxops.warehouse import connect

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    stats = generate(out, 40, 150, seed=11, orders_per_seller=60, end=END, threads=1)
    return out, stats


def _read(path) -> pd.DataFrame:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").df()


def test_every_canonical_table_written_with_contract_columns(tiny):
    out, stats = tiny
    # every table but the marketplace's reports (reported metrics, report snapshots: imported, not
    # generated) and the optional deadline tables (contract v2: the generator gives ship-by dates itself)
    not_generated = {"reported_metrics", "report_snapshots", *DEADLINE_TABLES}
    assert set(stats.rows) == set(WRITTEN) == {t for t in TABLES if t not in not_generated}
    for name in WRITTEN:
        df = _read(out / f"{name}.parquet")
        assert len(df) == stats.rows[name] > 0, name
        assert list(df.columns) == TABLES[name].column_names, name
        assert stats.files[name] == out / f"{name}.parquet"
    # 40 sellers x 60 orders expected; split packages add shipments, cancellations remove some
    assert abs(stats.rows["orders"] - 40 * 60) < 60
    assert 0.95 * stats.rows["orders"] < stats.rows["shipments"] < 1.1 * stats.rows["orders"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["provided"]["orders"] == TABLES["orders"].column_names
    assert manifest["rows"] == stats.rows and manifest["seed"] == 11 and manifest["start"] == "2026-06-04"
    assert not list(out.glob(".synth-*"))


def test_rows_pass_the_contract(tiny):
    out, stats = tiny
    for name in WRITTEN:
        df = _read(out / f"{name}.parquet")
        res = validate(df, TABLES[name], f"{name}.parquet", 1)
        assert res.rows_quarantined == 0, (name, res.quarantined.head().to_dict("records"))
        assert len(res.warnings) == 0, (name, res.warnings.head().to_dict("records"))
        assert res.rows_loaded == len(df) == stats.rows[name]


def test_keys_unique_and_children_reference_orders(tiny):
    out, _ = tiny
    con = duckdb.connect()
    for name in WRITTEN:
        key = ", ".join(TABLES[name].key)
        dup = con.sql(f"SELECT count(*) - count(DISTINCT ({key})) FROM read_parquet('{out}/{name}.parquet')")
        assert dup.fetchall()[0][0] == 0, name
    for name in ("order_items", "shipments", "cancellations", "feedback", "claims", "returns"):
        orphans = con.sql(
            f"SELECT count(*) FROM read_parquet('{out}/{name}.parquet') c ANTI JOIN "
            f"read_parquet('{out}/orders.parquet') o USING (seller_id, order_id)"
        ).fetchall()[0][0]
        assert orphans == 0, name
    last = con.sql(f"SELECT max(purchased_at) FROM read_parquet('{out}/orders.parquet')").fetchall()[0][0]
    assert last.date() <= date(2026, 11, 1)  # the last local day's evening, in UTC


def test_rows_keep_seller_order_and_do_not_depend_on_chunks_or_threads(tiny, tmp_path):
    out, stats = tiny
    again = generate(tmp_path / "b", 40, 150, seed=11, orders_per_seller=60, end=END, chunk_orders=500)
    assert again.rows == stats.rows
    for name in WRITTEN:
        assert (tmp_path / "b" / f"{name}.parquet").read_bytes() == (out / f"{name}.parquet").read_bytes(), (
            name
        )
    ids = _read(out / "orders.parquet")["seller_id"]
    assert ids.is_monotonic_increasing  # written seller by seller
    other = generate(tmp_path / "c", 40, 150, seed=12, orders_per_seller=60, end=END)
    assert not _read(other.files["orders"]).equals(_read(out / "orders.parquet"))


def test_seller_ids_widen_with_the_population(tmp_path):
    generate(tmp_path, 12_000, 3, seed=1, orders_per_seller=0.5, end=END)
    ids = _read(tmp_path / "sellers.parquet")["seller_id"]
    assert ids.str.len().eq(6).all() and ids.min() == "S00001" and "S12000" in set(ids)


def test_metrics_run_on_the_parquet_files(tiny):
    out, _ = tiny
    wh = open_parquet(out, threads=1)
    df = compute_metrics(wh, END)
    assert set(df["status"]) <= {"ok", "no_data", "provisional"}  # everything the catalog needs is there
    # provisional only where the catalog has a coverage rule: orders due in the last days of data whose
    # shipment or delivery is not recorded yet (the data ends mid-fulfilment, as a real feed does)
    from cxops.metrics.catalog import CATALOG

    covered = {name for name, m in CATALOG.items() if m.coverage is not None}
    assert set(df.loc[df["status"] == "provisional", "metric"]) <= covered
    assert {
        "order_defect_rate",
        "late_shipment_rate",
        "valid_tracking_rate",
        "late_response_rate",
        "customer_satisfaction_index",
        "major_violations",
        "tenure_days",
    } <= set(df["metric"])
    lsr = df[(df.metric == "late_shipment_rate") & (df.window_days == 30)]
    assert lsr["denominator"].sum() > 0
    # the as-of numbers equal the same day's row of the daily series
    ser = compute_series(wh, END, END, metrics=["order_defect_rate", "late_shipment_rate"])
    m = df.merge(ser, on=["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of"])
    assert len(m) == len(ser) > 0
    assert (m["numerator_x"] == m["numerator_y"]).all() and (m["denominator_x"] == m["denominator_y"]).all()


def test_attach_records_provided_columns(tiny):
    out, _ = tiny
    wh = connect("memory")
    found = attach_parquet(wh, out)
    assert set(found) == set(WRITTEN)
    assert wh.has_table("shipments") and wh.has_table("returns")
    assert "tracking_id" in wh.provided_columns("shipments")
    assert "category" in wh.provided_columns("orders")  # the generator writes every contract column


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(InputError):
        generate(tmp_path, 0, 10)
    with pytest.raises(InputError):
        generate(tmp_path, 10, 0)
    with pytest.raises(InputError):
        generate(tmp_path, 10, 10, orders_per_seller=0)
    with pytest.raises(FileNotFoundError):
        attach_parquet(connect("memory"), tmp_path / "nothing")
