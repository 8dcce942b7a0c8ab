"""Bad input gives a clear message naming the file (row, column), and nothing is half-written.

One test per import-side cause listed in issue 8 (item 7), plus the plausibility bounds on instants
(item 3): each asserts the message and that the warehouse is unchanged (or, for a row-level problem,
that the row is quarantined with its file, row and column while the others load). The CLI tests
assert the one-line ``error:`` output and that no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cxops.cli import app
from cxops.errors import InputError, OutputError
from cxops.ingest import IngestError, import_canonical, import_olist
from cxops.ingest.amazon import import_amazon
from cxops.ingest.files import read_raw
from cxops.warehouse import connect

HERE = Path(__file__).parent
MINI = HERE / "data" / "canonical_mini"
OLIST = HERE / "data" / "olist_mini"
AMAZON = HERE / "data" / "amazon"
SELLERS = "seller_id,marketplace_id\nS1,US\n"
ORDERS_HEAD = "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n"


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def folder(tmp_path: Path, files: dict[str, str | bytes], name: str = "in") -> Path:
    d = tmp_path / name
    d.mkdir()
    for n, content in {"sellers.csv": SELLERS, **files}.items():
        (d / n).write_bytes(content if isinstance(content, bytes) else content.encode())
    return d


def q_rows(rep, table: str) -> dict[int, tuple[str, str]]:
    q = rep.quarantined[rep.quarantined["table"] == table]
    return {int(r): (c, why) for r, c, why in zip(q["row"], q["column"], q["reason"], strict=True)}


def cli(*args: str):
    res = CliRunner().invoke(app, list(args))
    out = res.output
    assert "Traceback" not in out and "internal error" not in out, out
    return res


# -- CSV -------------------------------------------------------------------------------------------


def test_a_field_over_128_kib_is_a_value(wh, tmp_path):
    """Python's csv module stops at 128 KiB ("field larger than field limit"); a long text is a value."""
    comment = "x" * (200 * 1024)
    d = folder(
        tmp_path,
        {
            "orders.csv": ORDERS_HEAD + "S1,O1,US,2024-03-01T10:00:00Z,MFN\n",
            "feedback.csv": "seller_id,order_id,rating,submitted_at,comment\n"
            f'S1,O1,2,2024-03-05T00:00:00Z,"{comment}"\n',
        },
    )
    rep = import_canonical(wh, d)
    assert rep.quarantined.empty
    got = wh.execute(wh.table("feedback"))
    assert len(got.loc[0, "comment"]) == 200 * 1024
    # the pandas reader of the Olist importer reads it too
    assert len(read_raw(d / "feedback.csv").loc[0, "comment"]) == 200 * 1024


def test_a_line_longer_than_the_limit_names_file_and_line(wh, tmp_path, monkeypatch):
    import cxops.ingest.scan as scan

    monkeypatch.setattr(scan, "MAX_LINE_BYTES", 1024 * 1024)
    long = "y" * (2 * 1024 * 1024)
    d = folder(
        tmp_path,
        {"orders.csv": ORDERS_HEAD + "S1,O1,US,2024-03-01T10:00:00Z,MFN\n" + f"S1,{long},US,x,MFN\n"},
    )
    with pytest.raises(
        IngestError, match=r"orders\.csv: a line on line 3 is longer than 1 MiB; nothing was imported"
    ):
        import_canonical(wh, d)
    assert not wh.tables_present()


def test_duplicate_csv_header_is_an_error_naming_the_column(wh, tmp_path):
    header = "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel,category,category\n"
    d = folder(tmp_path, {"orders.csv": header + "S1,O1,US,2024-03-01T10:00:00Z,MFN,toys,games\n"})
    with pytest.raises(IngestError, match=r"orders\.csv: column\(s\) 'category' appear more than once"):
        import_canonical(wh, d)
    assert not wh.tables_present()
    # Olist files are read by the same header check (pandas alone would rename the second column)
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    items = (o / "olist_order_items_dataset.csv").read_text().splitlines()
    items[0] = items[0] + ',"price"'
    (o / "olist_order_items_dataset.csv").write_text(
        "\n".join(x + ",1" if i else x for i, x in enumerate(items)) + "\n"
    )
    with pytest.raises(
        IngestError, match=r"olist_order_items_dataset\.csv: column\(s\) 'price' appear more than once"
    ):
        import_olist(wh, o)
    assert not wh.tables_present()


def test_wrong_field_count_names_the_line(wh, tmp_path):
    d = folder(
        tmp_path,
        {"orders.csv": ORDERS_HEAD + "S1,O1,US,2024-03-01T10:00:00Z,MFN\nS1,O2,US,2024-03-01,MFN,extra\n"},
    )
    with pytest.raises(
        IngestError, match=r"orders\.csv: the header has 5 fields but the record on line 3 has 6"
    ):
        import_canonical(wh, d)
    assert not wh.tables_present()


def test_latin1_file_is_named(wh, tmp_path):
    d = folder(
        tmp_path,
        {
            "orders.csv": (ORDERS_HEAD + "S1,O1,US,2024-03-01T10:00:00Z,MFN\n").encode()
            + b"S1,caf\xe9,US,2024-03-01,MFN\n"
        },
    )
    with pytest.raises(IngestError, match=r"orders\.csv: not UTF-8 text"):
        import_canonical(wh, d)


# -- Parquet ---------------------------------------------------------------------------------------


def _orders_parquet(path: Path, **extra: pa.Array) -> None:
    cols = {
        "seller_id": pa.array(["S1", "S1"]),
        "order_id": pa.array(["O1", "O2"]),
        "marketplace_id": pa.array(["US", "US"]),
        "purchased_at": pa.array(["2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z"]),
        "fulfillment_channel": pa.array(["MFN", "MFN"]),
        **extra,
    }
    pq.write_table(pa.table(cols), path)


@pytest.mark.parametrize(
    "column,array,kind",
    [
        ("order_id", pa.array([b"O1", b"O2"], type=pa.binary()), "binary"),
        ("category", pa.array([["toys"], ["games", "books"]]), "a nested column"),
        ("category", pa.array([{"a": 1}, {"a": 2}]), "a nested column"),
    ],
)
def test_parquet_binary_and_nested_contract_columns_are_refused_with_the_column(
    wh, tmp_path, column, array, kind
):
    d = folder(tmp_path, {})
    _orders_parquet(d / "orders.parquet", **{column: array})
    with pytest.raises(
        IngestError, match=rf"orders\.parquet: column {column} is {kind}.*nothing was imported"
    ):
        import_canonical(wh, d)
    assert not wh.tables_present()


def test_nested_extra_column_is_ignored_and_said(wh, tmp_path):
    d = folder(tmp_path, {})
    _orders_parquet(d / "orders.parquet", tags=pa.array([["a"], []]), blob=pa.array([b"\x00", b"\x01"]))
    rep = import_canonical(wh, d)
    assert rep.entry("orders").rows_loaded == 2
    assert any("tags" in n and "blob" in n and "ignored" in n for n in rep.notes)


def test_olist_parquet_with_a_list_column_is_refused(wh, tmp_path):
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    sellers = read_raw(o / "olist_sellers_dataset.csv")
    (o / "olist_sellers_dataset.csv").unlink()
    t = pa.Table.from_pandas(sellers).append_column("tags", pa.array([["a"]] * len(sellers)))
    pq.write_table(t, o / "olist_sellers_dataset.parquet")
    with pytest.raises(IngestError, match=r"olist_sellers_dataset\.parquet: column\(s\) tags \(list"):
        import_olist(wh, o)
    assert not wh.tables_present()


# -- folders ---------------------------------------------------------------------------------------


def test_symlink_loop_in_a_canonical_folder_is_named(wh, tmp_path):
    d = folder(tmp_path, {})
    os.symlink(d / "orders.csv", d / "orders.csv")  # points at itself
    with pytest.raises(IngestError, match=r"orders\.csv: a symbolic link that loops; nothing was imported"):
        import_canonical(wh, d)
    assert not wh.tables_present()


def test_symlink_loop_in_an_amazon_folder_is_named_and_folder_links_are_noted(wh, tmp_path):
    d = tmp_path / "reports"
    d.mkdir()
    shutil.copy(AMAZON / "feedback_us.txt", d)
    os.symlink(d, d / "again")  # a link to a folder: not followed, said
    rep = import_amazon(wh, "S1", "US", d)
    assert any("links to folders are not followed: again" in n for n in rep.notes)
    os.symlink(d / "b.txt", d / "a.txt")
    os.symlink(d / "a.txt", d / "b.txt")
    wh2 = connect("memory")
    with pytest.raises(IngestError, match=r"a\.txt: a symbolic link that loops; nothing was imported"):
        import_amazon(wh2, "S1", "US", d)
    assert not wh2.tables_present()


# -- Olist -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["inf", "nan", "-inf"])
def test_olist_non_finite_price_is_quarantined_with_file_row_column(wh, tmp_path, bad):
    """Was "Cannot convert non-finite values (NA or inf) to integer" after writing marketplaces and
    sellers; now the item row is quarantined and everything else loads."""
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    items = read_raw(o / "olist_order_items_dataset.csv")
    items["price"] = items["price"].astype(float)
    items.loc[0, "price"] = float(bad)
    (o / "olist_order_items_dataset.csv").unlink()
    items.to_parquet(o / "olist_order_items_dataset.parquet", index=False)
    rep = import_olist(wh, o)
    q = rep.quarantined[(rep.quarantined["table"] == "order_items") & (rep.quarantined["row"] == 1)]
    assert list(q["column"]) == ["price"] and q.iloc[0]["file"].endswith("olist_order_items_dataset.parquet")
    assert "not a non-negative number" in q.iloc[0]["reason"]
    for e in rep.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined


def test_olist_failure_writes_nothing(wh, tmp_path):
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    reviews = read_raw(o / "olist_order_reviews_dataset.csv").drop(columns=["review_score"])
    reviews.to_csv(o / "olist_order_reviews_dataset.csv", index=False)
    with pytest.raises(IngestError, match="review_score"):
        import_olist(wh, o)
    assert not wh.tables_present()  # not even marketplaces or sellers


# -- Amazon ----------------------------------------------------------------------------------------


def test_json_number_of_5001_digits_is_a_row_problem_not_a_crash(wh, tmp_path):
    text = (AMAZON / "orders_api_page1.json").read_text()
    big = "9" * 5001
    text = text.replace('"NumberOfItemsShipped": 1,', f'"NumberOfItemsShipped": {big},', 1)
    text = text.replace('"Amount": "19.99"', f'"Amount": {big}', 1)
    (tmp_path / "page.json").write_text(text)
    rep = import_amazon(wh, "S1", "US", tmp_path / "page.json")
    w = rep.warnings[rep.warnings["row"] == 1]
    assert set(w["column"]) >= {"NumberOfItemsShipped", "OrderTotal.Amount"}
    o = wh.execute(wh.table("orders")).set_index("order_id").loc["111-1000001-0000001"]
    assert pd.isna(o["units"]) and pd.isna(o["order_total"])  # taken as missing, said per row
    res = cli("import", "amazon", "--seller", "S1", "--marketplace", "US", str(tmp_path / "page.json"),
              "-w", str(tmp_path / "w.duckdb"), "--quarantine", str(tmp_path / "q"))  # fmt: skip
    assert res.exit_code == 0


# -- quarantine ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/sys/cxops-quarantine", "/dev/full", "FILE"])
def test_unwritable_quarantine_stops_the_import_before_anything_is_written(wh, tmp_path, target):
    if target == "FILE":
        target = str(tmp_path / "a-file")
        Path(target).write_text("x")
    with pytest.raises(OutputError, match="cannot write the quarantine files.*nothing was imported"):
        import_canonical(wh, MINI, target)
    assert not wh.tables_present()


def test_full_disk_while_writing_the_quarantine_writes_nothing(wh, tmp_path, monkeypatch):
    import errno

    import cxops.ingest.quarantine as quarantine

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(quarantine.os, "fsync", full)
    qdir = tmp_path / "q"
    with pytest.raises(OutputError, match="No space left on device; nothing was imported"):
        import_canonical(wh, MINI, qdir)
    assert not wh.tables_present()
    assert not list(qdir.iterdir())  # no temporary file left behind


def test_cli_unwritable_quarantine_is_one_clear_error(tmp_path):
    w = tmp_path / "w.duckdb"
    res = cli("import", "canonical", str(MINI), "-w", str(w), "--quarantine", "/sys/cxops-q")
    assert res.exit_code == 1
    assert "error: cannot write the quarantine files in /sys/cxops-q" in res.output
    res = cli("import", "canonical", str(MINI), "-w", str(w), "--quarantine", "/dev/full")
    assert res.exit_code == 1 and "not a folder" in res.output


# -- plausible instants ----------------------------------------------------------------------------


def test_implausible_and_relative_instants_are_quarantined_with_the_column(wh, tmp_path):
    rows = [
        ("O1", "2024-03-01T10:00:00Z"),  # row 2: fine
        ("O2", "9999-12-31T00:00:00Z"),
        ("O3", "0001-01-01"),
        ("O4", "1900-01-01 00:00:00"),
        ("O5", "now"),
        ("O6", "Today"),
        ("O7", " yesterday "),
        ("O8", "infinity"),
        ("O9", "2024-03-01T10:00:00Z"),
    ]
    orders = ORDERS_HEAD + "".join(f"S1,{o},US,{t},MFN\n" for o, t in rows)
    shipments = "seller_id,order_id,shipment_id,confirmed_at\nS1,O1,1,2999-01-01T00:00:00Z\n"
    d = folder(
        tmp_path, {"orders.csv": orders, "shipments.csv": shipments + "S1,O9,1,2024-03-02T00:00:00Z\n"}
    )
    rep = import_canonical(wh, d)
    q = q_rows(rep, "orders")
    assert set(q) == {3, 4, 5, 6, 7, 8, 9}
    assert all(c == "purchased_at" for c, _ in q.values())
    assert "more than a year after the import" in q[3][1] and "9999-12-31" in q[3][1]
    assert "before 2000-01-01" in q[4][1] and "before 2000-01-01" in q[5][1]
    for r in (6, 7, 8):
        assert "a relative time, not an instant" in q[r][1]
    assert "not a valid timestamp" in q[9][1]
    assert q_rows(rep, "shipments") == {2: ("confirmed_at", q_rows(rep, "shipments")[2][1])}
    stored = wh.execute(wh.table("orders"))
    assert sorted(stored["order_id"]) == ["O1", "O9"]
    assert stored["purchased_at"].dt.year.between(2000, 2030).all()


def test_implausible_typed_parquet_instants(wh, tmp_path):
    d = folder(tmp_path, {})
    ts = pa.array([9999, 1, 1900, 2024], type=pa.int64())
    years = pa.compute.strptime(pa.compute.cast(ts, pa.string()), format="%Y", unit="us")
    pq.write_table(
        pa.table(
            {
                "seller_id": ["S1"] * 4,
                "order_id": ["A", "B", "C", "D"],
                "marketplace_id": ["US"] * 4,
                "purchased_at": years,
                "fulfillment_channel": ["MFN"] * 4,
            }
        ),
        d / "orders.parquet",
    )
    rep = import_canonical(wh, d)
    assert set(q_rows(rep, "orders")) == {1, 2, 3}
    assert list(wh.execute(wh.table("orders"))["order_id"]) == ["D"]


def test_amazon_and_olist_implausible_dates_are_quarantined(wh, tmp_path):
    text = (AMAZON / "orders_api_page1.json").read_text()
    doc = json.loads(text)
    doc["payload"]["Orders"][0]["PurchaseDate"] = "9999-05-01T10:00:00Z"
    (tmp_path / "p.json").write_text(json.dumps(doc))
    rep = import_amazon(wh, "S1", "US", tmp_path / "p.json")
    q = rep.quarantined[(rep.quarantined["table"] == "orders") & (rep.quarantined["row"] == 1)]
    assert "more than a year after the import" in q.iloc[0]["reason"]
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    orders = read_raw(o / "olist_orders_dataset.csv")
    orders.loc[0, "order_purchase_timestamp"] = "1900-01-02 10:00:00"
    orders.to_csv(o / "olist_orders_dataset.csv", index=False)
    rep = import_olist(connect("memory"), o)
    q = rep.quarantined[(rep.quarantined["table"] == "orders") & (rep.quarantined["row"] == 2)]
    assert q.iloc[0]["column"] == "purchased_at" and "before 2000-01-01" in q.iloc[0]["reason"]


def test_many_duplicate_keys_are_resolved_in_one_pass(wh, tmp_path):
    """80 k rows repeating earlier keys: each names the first row of its key."""
    n = 40_000
    body = "".join(f"S1,O{i},US,2024-03-01T10:00:00Z,MFN\n" for i in range(n))
    d = folder(tmp_path, {"orders.csv": ORDERS_HEAD + body + body + body})
    rep = import_canonical(wh, d)
    e = rep.entry("orders")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (3 * n, n, 2 * n)
    q = rep.quarantined.set_index("row")
    assert (
        q.loc[2 + n + 7, "reason"] == "duplicate key ('seller_id', 'order_id')=('S1', 'O7') (first at row 9)"
    )
    assert q.loc[2 + 2 * n + 7, "column"] == "seller_id,order_id"


def test_cli_bad_inputs_print_one_error_line(tmp_path):
    d = folder(tmp_path, {"orders.csv": "seller_id,order_id,order_id\n"})
    res = cli("import", "canonical", str(d), "-w", str(tmp_path / "w.duckdb"))
    assert res.exit_code == 1 and "error:" in res.output and "'order_id' appear more than once" in res.output
    d2 = folder(tmp_path, {}, "pq")
    _orders_parquet(d2 / "orders.parquet", order_id=pa.array([b"O1", b"O2"]))
    res = cli("import", "canonical", str(d2), "-w", str(tmp_path / "w.duckdb"))
    assert res.exit_code == 1 and "column order_id is binary" in res.output


def test_input_errors_are_domain_errors():
    assert issubclass(IngestError, InputError)


def test_olist_relative_words_are_not_the_moment_of_import(wh, tmp_path):
    o = tmp_path / "olist"
    shutil.copytree(OLIST, o)
    orders = read_raw(o / "olist_orders_dataset.csv")
    orders.loc[0, "order_purchase_timestamp"] = "now"
    orders.loc[1, "order_delivered_customer_date"] = "today"
    orders.to_csv(o / "olist_orders_dataset.csv", index=False)
    rep = import_olist(wh, o)
    q = rep.quarantined[(rep.quarantined["table"] == "orders") & (rep.quarantined["row"] == 2)]
    assert q.iloc[0]["column"] == "order_purchase_timestamp" and "'now'" in q.iloc[0]["reason"]
    w = rep.warnings[(rep.warnings["table"] == "orders") & (rep.warnings["row"] == 3)]
    assert "order_delivered_customer_date" in set(w["column"])  # taken as missing, said
    stored = wh.execute(wh.table("shipments"))
    assert (stored["delivered_at"].dropna().dt.year < 2026).all()
