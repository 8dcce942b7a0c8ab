"""import_amazon as a whole: detection, no-data reports, failures, idempotency, changed days."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cxops.ingest.amazon import (
    ACCOUNT_HEALTH,
    ALL_ORDERS,
    FBA_SHIPMENTS,
    FEEDBACK,
    NO_DATA,
    ORDERS_API,
    RETURNS,
    detect_report_type,
    import_amazon,
)
from cxops.ingest.amazon.outcome import format_days
from cxops.ingest.files import IngestError
from cxops.warehouse import connect

DATA = Path(__file__).parent / "data" / "amazon"
AIRBYTE = ("amazon-sp-api-seller-performance", "airbyte-fixtures")


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _snapshot(wh) -> dict[str, pd.DataFrame]:
    out = {}
    for t in (
        "orders",
        "order_items",
        "shipments",
        "cancellations",
        "feedback",
        "returns",
        "reported_metrics",
    ):
        if wh.has_table(t):
            df = wh.execute(wh.table(t))
            out[t] = df.sort_values(list(df.columns[:4])).reset_index(drop=True)
    return out


def test_detect_every_fixture():
    got = {p.name: detect_report_type(p) for p in sorted(DATA.iterdir())}
    assert got == {
        "account_health_us.json": ACCOUNT_HEALTH,
        "all_orders_us.txt": ALL_ORDERS,
        "fba_shipments_us.txt": FBA_SHIPMENTS,
        "feedback_us.txt": FEEDBACK,
        "orders_api_page1.json": ORDERS_API,
        "report_cancelled.json": NO_DATA,
        "returns_us.txt": RETURNS,
    }


def test_detect_airbyte_headers(shared_data):
    d = shared_data.joinpath(*AIRBYTE)
    assert detect_report_type(d / "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE.tsv") == ALL_ORDERS
    assert detect_report_type(d / "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL.tsv") == FBA_SHIPMENTS
    assert detect_report_type(d / "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE.tsv") == RETURNS
    assert detect_report_type(d / "GET_SELLER_FEEDBACK_DATA.tsv") == FEEDBACK
    assert detect_report_type(d / "GET_V2_SELLER_PERFORMANCE_REPORT.json") == ACCOUNT_HEALTH
    with pytest.raises(
        IngestError, match="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING reports are not imported"
    ):
        detect_report_type(d / "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING.tsv")
    # recognised (issue 8: a folder import skips it with a note), not read
    with pytest.raises(IngestError, match="GET_SALES_AND_TRAFFIC_REPORT reports are not imported"):
        detect_report_type(d / "GET_SALES_AND_TRAFFIC_REPORT.json")


def test_header_only_airbyte_files_are_valid_empty_imports(wh, shared_data, tmp_path):
    d = shared_data.joinpath(*AIRBYTE)
    names = [
        "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE.tsv",
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL.tsv",
        "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE.tsv",
    ]
    rep = import_amazon(wh, "S1", "US", [d / n for n in names])
    files = [e for e in rep.entries if e.file.endswith(".tsv")]
    assert {e.table for e in files} == {"orders", "order_items", "cancellations", "shipments", "returns"}
    assert all((e.rows_read, e.rows_loaded, e.rows_quarantined) == (0, 0, 0) for e in files)
    assert sum("2 repeated header lines skipped" in n for n in rep.notes) == 3
    assert wh.has_table("orders") and wh.execute(wh.table("orders").count()) == 0


def test_no_data_documents_are_not_failures(wh, tmp_path):
    (tmp_path / "cancelled.json").write_text('{"processingStatus": "CANCELLED"}')
    (tmp_path / "done_no_data.json").write_text('{"processingStatus": "DONE_NO_DATA", "reportId": "1"}')
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "says.txt").write_text("No data available for the selected date range.\n")
    (tmp_path / "keine.txt").write_text("Keine Daten verfügbar\n")
    rep = import_amazon(wh, "S1", "US", tmp_path, report_type="GET_SELLER_FEEDBACK_DATA")
    assert [(Path(f.file).name, f.status) for f in rep.files] == [
        ("cancelled.json", "no_data"),
        ("done_no_data.json", "no_data"),
        ("empty.txt", "no_data"),
        ("keine.txt", "no_data"),
        ("says.txt", "no_data"),
    ]
    assert [f.detail for f in rep.no_data_files][:3] == [
        "processingStatus CANCELLED",
        "processingStatus DONE_NO_DATA",
        "empty file",
    ]
    assert rep.entries == [] and not wh.tables_present()  # nothing written
    assert any("cancelled.json: no data (processingStatus CANCELLED)" in n for n in rep.notes)


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ('{"processingStatus": "FATAL"}', "the report failed"),
        ('{"processingStatus": "IN_PROGRESS"}', "not ready"),
        ('{"processingStatus": "DONE", "reportDocumentId": "D1"}', "download reportDocumentId D1"),
    ],
)
def test_failed_report_status_is_an_error(wh, tmp_path, doc, match):
    (tmp_path / "s.json").write_text(doc)
    with pytest.raises(IngestError, match=match):
        import_amazon(wh, "S1", "US", tmp_path / "s.json")


def test_malformed_json_fails_with_byte_offset_and_loads_nothing(wh, tmp_path):
    shutil.copy(DATA / "all_orders_us.txt", tmp_path / "a.txt")
    # the error is at character 16 (the quote before Orders); "é" is 2 bytes and the BOM 3: byte 20
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf" + '{"payload": "é" "Orders": []}'.encode())
    with pytest.raises(IngestError) as err:
        import_amazon(wh, "S1", "US", tmp_path)
    msg = str(err.value)
    assert "b.json: malformed JSON at byte 20 (line 1, column 17)" in msg
    assert msg.endswith("nothing was imported")
    assert not wh.has_table("orders")  # the good file was not loaded either


def test_bad_arguments(wh, tmp_path):
    with pytest.raises(IngestError, match="a seller id is required"):
        import_amazon(wh, " ", "US", DATA)
    with pytest.raises(IngestError, match="unknown marketplace 'SE'"):
        import_amazon(wh, "S1", "SE", DATA)
    with pytest.raises(IngestError, match="unknown report type 'NOPE'"):
        import_amazon(wh, "S1", "US", DATA, report_type="NOPE")
    with pytest.raises(IngestError, match="no such file"):
        import_amazon(wh, "S1", "US", tmp_path / "missing.txt")
    with pytest.raises(IngestError, match="given report type .* but the document is a ORDERS_API"):
        import_amazon(wh, "S1", "US", DATA / "orders_api_page1.json", report_type=ACCOUNT_HEALTH)
    rep = import_amazon(wh, "S1", "ATVPDKIKX0DER", DATA / "feedback_us.txt")  # Amazon's id accepted
    assert set(wh.execute(wh.table("sellers"))["marketplace_id"]) == {"US"}
    assert rep.entry("feedback").rows_loaded == 3


def test_folder_import_accounts_every_row_and_is_idempotent(wh, tmp_path):
    shutil.copytree(DATA, tmp_path / "reports")
    (tmp_path / "reports" / "notes.md").write_text("not a report")
    (tmp_path / "reports" / ".DS_Store").write_bytes(b"\x00\x01")
    q = tmp_path / "q"
    first = import_amazon(wh, "S1", "US", tmp_path / "reports", quarantine_dir=q)
    for e in first.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined
    assert any("files skipped (not report files): notes.md" in n for n in first.notes)
    assert [f.status for f in first.files].count("loaded") == 6
    before = _snapshot(wh)
    qfiles = {p.name: p.read_text() for p in q.iterdir()}
    second = import_amazon(wh, "S1", "US", tmp_path / "reports", quarantine_dir=q)
    after = _snapshot(wh)
    assert before.keys() == after.keys()
    for t in before:
        pd.testing.assert_frame_equal(before[t], after[t], check_dtype=False)
    assert {p.name: p.read_text() for p in q.iterdir()} == qfiles  # replaced, not appended
    assert all(e.inserted == 0 for e in second.entries)
    assert all(c.rows_changed == 0 for c in second.changes.values())
    assert "orders: no rows changed" in second.notes
    assert [(e.table, e.rows_read, e.rows_loaded) for e in first.entries if e.table != "marketplaces"] == [
        (e.table, e.rows_read, e.rows_loaded) for e in second.entries
    ]


def test_late_shipment_restates_past_days(wh, tmp_path):
    import_amazon(wh, "S1", "US", [DATA / "orders_api_page1.json", DATA / "fba_shipments_us.txt"])
    late = (
        (DATA / "fba_shipments_us.txt")
        .read_text()
        .replace("2024-05-02T20:10:00+00:00", "2024-05-09T18:00:00+00:00")
    )
    (tmp_path / "fba_later.txt").write_text(late)
    rep = import_amazon(wh, "S1", "US", tmp_path / "fba_later.txt")
    # old confirmation day 05-02 (13:10 PDT), new 05-09, the order's ship-by day 05-02 (23:59:59 PDT)
    # and promised-delivery day 05-05 (2024-05-06 06:59:59 UTC)
    assert (
        rep.changes["shipments"].summary()
        == "shipments: 1 rows changed; days affected 2024-05-02, 2024-05-05, 2024-05-09"
    )
    assert rep.changes["shipments"].days == [date(2024, 5, 2), date(2024, 5, 5), date(2024, 5, 9)]
    e = rep.entry("shipments")
    assert (e.inserted, e.replaced) == (0, 2)


def test_changed_days_of_orders(wh, tmp_path):
    import_amazon(wh, "S1", "US", DATA / "all_orders_us.txt")
    rep = import_amazon(wh, "S1", "US", DATA / "orders_api_page1.json")
    # orders 1-3 gain deadlines (purchase / ship-by / promise, Pacific days): 1: 05-01 / 05-02 / 05-07,
    # 2: 05-01 / 05-03 / 05-08, 3: 05-02 / 05-02 / 05-05; order 6 is new: 05-05 / 05-06 / 05-10
    assert rep.changes["orders"].rows_changed == 4
    assert (
        format_days(rep.changes["orders"].days)
        == "2024-05-01..2024-05-03, 2024-05-05..2024-05-08, 2024-05-10"
    )
    assert (
        rep.changes["cancellations"].summary()
        == "cancellations: 1 rows changed; days affected 2024-05-05..2024-05-06"
    )


def test_format_days():
    d = [date(2024, 5, 9), date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3), date(2024, 5, 2)]
    assert format_days(d) == "2024-05-01..2024-05-03, 2024-05-09"
    # more than six spans: a summary (9 single days two days apart, 1-17 May)
    apart = [date(2024, 5, 1) + timedelta(days=2 * i) for i in range(9)]
    assert format_days(apart) == "9 days from 2024-05-01 to 2024-05-17 (9 spans)"
    assert format_days(apart[:6]).count(", ") == 5


def test_quarantine_file_columns(wh, tmp_path):
    import_amazon(wh, "S1", "US", DATA / "feedback_us.txt", quarantine_dir=tmp_path)
    q = pd.read_csv(tmp_path / "feedback.csv")
    assert list(q.columns) == ["table", "file", "row", "column", "reason", "record"]
    rec = json.loads(q["record"][0])
    assert rec["Date"] == "13/5/24" and rec["Order ID"] == "111-1000001-0000008"
