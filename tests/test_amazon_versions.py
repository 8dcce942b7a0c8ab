"""Amazon folders as they are downloaded: overlapping files and report types cxops does not read.

* Two all-orders files holding the same order: the version with the later ``last-updated-date`` wins,
  whatever the file names (the older file is named to sort last, so name order would pick it).
* A folder with report types cxops does not read (actionable orders, sales and traffic) imports the
  reports it reads and skips the others with a note; given alone such a report is an error; an
  unreadable report of a type it does read still fails the whole import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cxops.ingest.amazon import import_amazon
from cxops.ingest.files import IngestError
from cxops.warehouse import connect

DATA = Path(__file__).parent / "data" / "amazon"
ORDER = "111-1000001-0000001"
ACTIONABLE = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\treporting-date\tpromise-date\t"
    "days-past-promise\tbuyer-email\tbuyer-name\tsku\tproduct-name\tquantity-purchased\tquantity-shipped\t"
    "quantity-to-ship\tship-service-level\n"
    "111-1000001-0000009\t1\t2024-05-05T10:00:00+00:00\t\t\t2024-05-07\t0\t\t\tCAM-12\tWebcam\t1\t0\t1\tStd\n"
)
SALES_TRAFFIC = (
    '{"reportSpecification": {"reportType": "GET_SALES_AND_TRAFFIC_REPORT"}, "salesAndTrafficByDate": []}'
)


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _versions(tmp_path: Path) -> Path:
    lines = (DATA / "all_orders_us.txt").read_text().splitlines()
    header, first = lines[0], lines[1]
    assert first.startswith(ORDER) and "2024-05-02T16:00:00+00:00\tShipped" in first
    newer = (
        first.replace("2024-05-02T16:00:00+00:00\tShipped", "2024-05-06T08:00:00+00:00\tCancelled")
        .replace("\t19.99\t", "\t9.99\t")
        .replace("CAM-12\tB000CAM012", "CAM-99\tB000CAM099")
    )
    d = tmp_path / "downloads"
    d.mkdir()
    (d / "a_newer.txt").write_text(header + "\n" + newer + "\n")  # sorts first
    (d / "z_older.txt").write_text("\n".join(lines) + "\n")  # sorts last, older version of the order
    return d


def test_the_later_last_updated_version_wins_whatever_the_file_names(wh, tmp_path):
    d = _versions(tmp_path)
    rep = import_amazon(wh, "S1", "US", d)
    o = wh.execute(wh.table("orders")).set_index("order_id")
    assert o.loc[ORDER, "order_total"] == pytest.approx(9.99)  # the newer file's value
    c = wh.execute(wh.table("cancellations")).set_index("order_id")
    assert c.loc[ORDER, "cancelled_at"] == pd.Timestamp(
        "2024-05-06 08:00:00"
    )  # cancelled in the newer version
    items = wh.execute(wh.table("order_items"))
    assert list(items.loc[items["order_id"] == ORDER, "sku"]) == ["CAM-99"]  # the items of that version only
    assert len(o) == 5  # the other orders (only in the older file) are loaded
    assert any("1 orders are in several" in n and "latest version" in n for n in rep.notes)
    for e in rep.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined
    # the same files given in the other order: the same result
    wh2 = connect("memory")
    import_amazon(wh2, "S1", "US", [d / "z_older.txt", d / "a_newer.txt"])
    pd.testing.assert_frame_equal(
        wh2.execute(wh2.table("orders")).sort_values("order_id").reset_index(drop=True),
        wh.execute(wh.table("orders")).sort_values("order_id").reset_index(drop=True),
    )


def test_folder_skips_report_types_it_does_not_read(wh, tmp_path):
    d = tmp_path / "downloads"
    d.mkdir()
    shutil.copy(DATA / "all_orders_us.txt", d)
    (d / "actionable.txt").write_text(ACTIONABLE)
    (d / "sales.json").write_text(SALES_TRAFFIC)
    rep = import_amazon(wh, "S1", "US", d)
    status = {Path(f.file).name: (f.report_type, f.status) for f in rep.files}
    assert status["actionable.txt"] == ("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", "skipped")
    assert status["sales.json"] == ("GET_SALES_AND_TRAFFIC_REPORT", "skipped")
    assert status["all_orders_us.txt"][1] == "loaded"
    assert any("actionable.txt: skipped" in n for n in rep.notes)
    assert len(wh.execute(wh.table("orders"))) == 5
    # given alone, it is an error (nothing else to import)
    with pytest.raises(IngestError, match="GET_SALES_AND_TRAFFIC_REPORT reports are not imported"):
        import_amazon(connect("memory"), "S1", "US", d / "sales.json")


def test_unreadable_report_of_a_read_type_still_fails_the_folder(wh, tmp_path):
    d = tmp_path / "downloads"
    d.mkdir()
    shutil.copy(DATA / "all_orders_us.txt", d)
    (d / "actionable.txt").write_text(ACTIONABLE)
    (d / "page.json").write_text(
        '{"payload": {"Orders": [ {"AmazonOrderId": "1", '
    )  # truncated getOrders page
    with pytest.raises(IngestError, match=r"page\.json: malformed JSON.*nothing was imported"):
        import_amazon(wh, "S1", "US", d)
    assert not wh.tables_present()
    (d / "page.json").unlink()
    (d / "feedback.txt").write_text("Date\tRating\tComments\tOrder ID\tRater Email\n5/3/24\t1\tx\t1\ta\n")
    with pytest.raises(
        IngestError, match=r"feedback\.txt: a seller feedback report .* has exactly 6 columns"
    ):
        import_amazon(wh, "S1", "US", d)
    assert not wh.tables_present()


def test_airbyte_fixture_folder_imports_what_it_reads(wh, shared_data):
    """The real fixture folder holds two report types cxops does not read: they are skipped."""
    d = shared_data / "amazon-sp-api-seller-performance" / "airbyte-fixtures"
    rep = import_amazon(wh, "S1", "US", d)
    skipped = sorted(f.report_type for f in rep.files if f.status == "skipped")
    assert skipped == [
        "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING",
        "GET_SALES_AND_TRAFFIC_REPORT",
        "a JSON Schema document (not a report)",
    ]
    assert wh.has_table("orders") and wh.has_table("reported_metrics")
