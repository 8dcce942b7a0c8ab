"""`import_canonical`: directory of canonical CSV/Parquet tables → warehouse, with quarantine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxops.canonical.validate import SchemaError
from cxops.ingest import ImportReport, IngestError, import_canonical
from cxops.ingest.files import read_raw
from cxops.warehouse import connect

MINI = Path(__file__).parent / "data" / "canonical_mini"


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    shutil.copytree(MINI, d)
    return d


def _table(wh, name: str) -> pd.DataFrame:
    return wh.execute(wh.table(name))


def _check_invariant(report: ImportReport) -> None:
    for e in report.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined


def test_csv_import_counts_values_and_quarantine(wh, tmp_path):
    qdir = tmp_path / "q"
    rep = import_canonical(wh, MINI, qdir)
    _check_invariant(rep)
    orders = rep.entry("orders")
    assert (orders.rows_read, orders.rows_loaded, orders.rows_quarantined) == (5, 3, 2)
    assert (orders.inserted, orders.replaced) == (3, 0)
    # bad values quarantined with file, row (CSV line) and column
    q = rep.quarantined.set_index(["table", "row"])
    assert q.loc[("orders", 5), "column"] == "purchased_at"
    assert "not-a-date" in q.loc[("orders", 5), "reason"]
    assert q.loc[("orders", 6), "column"] == "fulfillment_channel"
    assert q.loc[("feedback", 3), "column"] == "rating"
    assert q.loc[("orders", 5), "file"].endswith("orders.csv")
    # values: an offset is honoured, channels are upper-cased
    o = _table(wh, "orders").set_index("order_id")
    assert o.loc["200", "purchased_at"] == pd.Timestamp("2024-03-02 08:00:00")
    assert o.loc["101", "fulfillment_channel"] == "AFN"
    assert o.loc["100", "order_total"] == pytest.approx(19.99)
    # built-in marketplaces for the ids used
    mp = _table(wh, "marketplaces").set_index("marketplace_id")
    assert sorted(mp.index) == ["DE", "US"]
    assert mp.loc["US", "timezone"] == "America/Los_Angeles"
    assert rep.entry("marketplaces").file == "(built-in)"
    # quarantine files
    written = pd.read_csv(qdir / "orders.csv", dtype=str)
    assert list(written.columns) == ["table", "file", "row", "column", "reason", "record"]
    assert list(written["row"]) == ["5", "6"]
    assert '"order_id":"201"' in written.loc[0, "record"]


def test_header_only_file_is_present_with_no_rows(wh):
    rep = import_canonical(wh, MINI)
    v = rep.entry("violations")
    assert (v.rows_read, v.rows_loaded, v.rows_quarantined) == (0, 0, 0)
    assert wh.has_table("violations")
    assert len(_table(wh, "violations")) == 0
    assert "kind" in wh.provided_columns("violations")
    assert not wh.has_table("claims")  # absent optional table: not created


def test_provided_columns_are_the_file_columns_in_the_contract(wh):
    import_canonical(wh, MINI)
    prov = wh.provided_columns("orders")
    assert {"latest_ship_at", "order_total", "category"} <= prov
    assert "is_premium" not in prov and "note" not in prov
    assert "tracking_id" in wh.provided_columns("shipments")


def test_extra_column_is_ignored_without_error(wh):
    rep = import_canonical(wh, MINI)
    assert "note" not in _table(wh, "orders").columns
    assert any("note" in n and "orders.csv" in n for n in rep.notes)


def test_orphan_child_rows_are_loaded_with_a_warning(wh):
    rep = import_canonical(wh, MINI)
    s = rep.entry("shipments")
    assert (s.rows_loaded, s.rows_warned) == (2, 1)
    w = rep.warnings[rep.warnings["table"] == "shipments"]
    assert list(w["row"]) == [3]
    assert "999" in set(_table(wh, "shipments")["order_id"])
    assert not (_table(wh, "orders")["order_id"] == "999").any()


def test_parquet_input_gives_the_same_result(wh, tmp_path):
    d = tmp_path / "pq"
    d.mkdir()
    for f in MINI.glob("*.csv"):
        read_raw(f).to_parquet(d / f"{f.stem}.parquet", index=False)
    rep = import_canonical(wh, d)
    _check_invariant(rep)
    o = rep.entry("orders")
    assert (o.rows_read, o.rows_loaded, o.rows_quarantined) == (5, 3, 2)
    q = rep.quarantined[rep.quarantined["table"] == "orders"]
    assert list(q["row"]) == [4, 5]  # Parquet rows count from 1
    assert len(_table(wh, "violations")) == 0


def test_typed_parquet_is_accepted(wh, tmp_path):
    d = _copy(tmp_path)
    orders = pd.DataFrame(
        {
            "seller_id": ["A1"],
            "order_id": ["100"],
            "marketplace_id": ["US"],
            "purchased_at": pd.to_datetime(["2024-03-01 10:00:00"]).tz_localize("UTC"),
            "fulfillment_channel": ["MFN"],
            "units": [3],
            "order_total": [9.5],
        }
    )
    (d / "orders.csv").unlink()
    orders.to_parquet(d / "orders.parquet", index=False)
    rep = import_canonical(wh, d)
    assert rep.entry("orders").rows_loaded == 1
    row = _table(wh, "orders").iloc[0]
    assert row["purchased_at"] == pd.Timestamp("2024-03-01 10:00:00") and row["units"] == 3


def test_missing_required_column_names_file_and_column(wh, tmp_path):
    d = _copy(tmp_path)
    df = read_raw(d / "orders.csv").drop(columns=["purchased_at"])
    df.to_csv(d / "orders.csv", index=False)
    with pytest.raises(SchemaError, match=r"orders\.csv.*purchased_at"):
        import_canonical(wh, d)
    assert not wh.has_table("sellers")  # nothing written


def test_missing_required_table_is_an_error(wh, tmp_path):
    d = _copy(tmp_path)
    (d / "sellers.csv").unlink()
    with pytest.raises(IngestError, match="sellers.csv or sellers.parquet"):
        import_canonical(wh, d)


def test_csv_and_parquet_for_one_table_is_an_error(wh, tmp_path):
    d = _copy(tmp_path)
    read_raw(d / "feedback.csv").to_parquet(d / "feedback.parquet", index=False)
    with pytest.raises(IngestError, match=r"feedback\.csv.*feedback\.parquet"):
        import_canonical(wh, d)


def test_unreadable_file_is_named(wh, tmp_path):
    d = _copy(tmp_path)
    (d / "shipments.csv").unlink()
    (d / "shipments.parquet").write_bytes(b"not parquet")
    with pytest.raises(IngestError, match="shipments.parquet"):
        import_canonical(wh, d)


def test_reimport_is_idempotent(wh, tmp_path):
    qdir = tmp_path / "q"
    import_canonical(wh, MINI, qdir)
    counts = {t: len(_table(wh, t)) for t in ("sellers", "orders", "shipments", "feedback")}
    first_q = (qdir / "orders.csv").read_text()
    rep = import_canonical(wh, MINI, qdir)
    assert {t: len(_table(wh, t)) for t in counts} == counts
    o = rep.entry("orders")
    assert (o.inserted, o.replaced) == (0, 3)
    assert (qdir / "orders.csv").read_text() == first_q  # quarantine rows replaced, not appended


def test_quarantine_keeps_rows_of_other_files(wh, tmp_path):
    qdir = tmp_path / "q"
    import_canonical(wh, MINI, qdir)
    other = _copy(tmp_path)
    import_canonical(wh, other, qdir)
    files = set(pd.read_csv(qdir / "orders.csv", dtype=str)["file"])
    assert files == {str(MINI / "orders.csv"), str(other / "orders.csv")}


def test_unknown_marketplace_is_quarantined(wh, tmp_path):
    d = _copy(tmp_path)
    with open(d / "orders.csv", "a") as f:
        f.write("Z9,900,ZZ,2024-03-01T10:00:00Z,MFN,,,1,5,USD,toys,\n")
    rep = import_canonical(wh, d)
    q = rep.quarantined[(rep.quarantined["table"] == "orders") & (rep.quarantined["row"] == 7)]
    assert q.iloc[0]["column"] == "marketplace_id"
    assert "unknown marketplace 'ZZ'" in q.iloc[0]["reason"]
    assert rep.entry("orders").rows_quarantined == 3
    assert "900" not in set(_table(wh, "orders")["order_id"])


def test_marketplaces_file_overrides_builtins_and_declares_new_ids(wh, tmp_path):
    d = _copy(tmp_path)
    (d / "marketplaces.csv").write_text(
        "marketplace_id,timezone,country,currency,weekend\n"
        'US,America/New_York,US,USD,"SAT,SUN"\n'
        'ZZ,Europe/Zurich,CH,CHF,"SAT,SUN"\n'
    )
    with open(d / "orders.csv", "a") as f:
        f.write("A1,900,ZZ,2024-03-01T10:00:00Z,MFN,,,1,5,CHF,toys,\n")
    rep = import_canonical(wh, d)
    mp = _table(wh, "marketplaces").set_index("marketplace_id")
    assert mp.loc["US", "timezone"] == "America/New_York"
    assert sorted(mp.index) == ["DE", "US", "ZZ"]  # DE from the built-ins: used, not in the file
    assert "900" in set(_table(wh, "orders")["order_id"])
    assert rep.entry("marketplaces", str(d / "marketplaces.csv")).rows_loaded == 2


def test_report_renders_as_rich_table(wh):
    from rich.console import Console

    rep = import_canonical(wh, MINI)
    console = Console(record=True, width=160)
    console.print(rep.rich_table())
    text = console.export_text()
    assert "orders.csv" in text and "quarantined" in text and "total" in text


def test_invariant_is_enforced():
    from cxops.ingest.report import TableImport

    with pytest.raises(AssertionError):
        TableImport("f.csv", "orders", rows_read=3, rows_loaded=1, rows_quarantined=1)
