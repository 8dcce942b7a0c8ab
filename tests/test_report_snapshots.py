"""Reported snapshots keep their history (issue 10): account health reports per fetch date and window,
the requested window against the returned one, and "no data" answers that show 0, not "not measured"."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from cxops.ingest.amazon import import_amazon
from cxops.ingest.amazon.account_health import REPORTED_RATES
from cxops.ingest.amazon.snapshots import (
    NO_DATA,
    NOT_MEASURED,
    REPORTED,
    parse_requested,
    reported_view,
    snapshots,
)
from cxops.ingest.files import IngestError
from cxops.warehouse import connect

ACCOUNT_HEALTH = "GET_V2_SELLER_PERFORMANCE_REPORT"


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _doc(lo: str, hi: str, defects: int, orders: int) -> dict:
    """An account health document with one metric: the MFN order defect rate over ``lo .. hi``."""
    return {
        "performanceMetrics": [
            {
                "marketplaceId": "ATVPDKIKX0DER",
                "orderDefectRate": {
                    "mfn": {
                        "reportingDateRange": {
                            "reportingDateFrom": f"{lo}T00:00:00Z",
                            "reportingDateTo": f"{hi}T00:00:00Z",
                        },
                        "orderCount": orders,
                        "orderWithDefects": {"count": defects},
                        "rate": defects / orders,
                        "status": "GOOD",
                    }
                },
            }
        ]
    }


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _snaps(wh) -> pd.DataFrame:
    s = snapshots(wh, "S1")
    for c in ("window_from", "window_to", "fetched_on", "requested_from", "requested_to"):
        s[c] = pd.to_datetime(s[c]).dt.date
    return s


def test_two_fetches_of_different_windows_keep_both(wh, tmp_path):
    a = _write(tmp_path / "ah_1.json", _doc("2024-03-07", "2024-05-05", 3, 400))
    b = _write(tmp_path / "ah_2.json", _doc("2024-03-08", "2024-05-06", 4, 410))
    import_amazon(wh, "S1", "US", a, fetched_on=date(2024, 5, 20))
    import_amazon(wh, "S1", "US", b, fetched_on=date(2024, 5, 21))
    s = _snaps(wh)
    assert s[["window_from", "window_to", "fetched_on", "status", "rows"]].values.tolist() == [
        [date(2024, 3, 7), date(2024, 5, 5), date(2024, 5, 20), "data", 1],
        [date(2024, 3, 8), date(2024, 5, 6), date(2024, 5, 21), "data", 1],
    ]
    rm = wh.execute(wh.table("reported_metrics").order_by("window_to"))
    assert rm[["numerator", "denominator"]].values.tolist() == [[3, 400], [4, 410]]
    # the view reads the latest snapshot fetched by the day asked
    v = reported_view(wh, "S1", "US", date(2024, 5, 20))
    assert v[["metric", "channel", "numerator", "denominator", "provenance"]].values.tolist() == [
        ["order_defect_rate", "mfn", 3, 400, REPORTED]
    ]
    v = reported_view(wh, "S1", "US", date(2024, 5, 31))
    assert (v.iloc[0]["numerator"], v.iloc[0]["value"], v.iloc[0]["fetched_on"]) == (
        4,
        4 / 410,
        date(2024, 5, 21),
    )


def test_same_window_fetched_on_two_days_is_two_snapshots_and_reimport_is_not(wh, tmp_path):
    a = _write(tmp_path / "ah.json", _doc("2024-03-07", "2024-05-05", 3, 400))
    for day in (date(2024, 5, 20), date(2024, 5, 22), date(2024, 5, 22)):
        import_amazon(wh, "S1", "US", a, fetched_on=day)
    assert _snaps(wh)["fetched_on"].tolist() == [date(2024, 5, 20), date(2024, 5, 22)]


def test_fetch_date_defaults_to_the_file_modification_date(wh, tmp_path):
    a = _write(tmp_path / "ah.json", _doc("2024-03-07", "2024-05-05", 3, 400))
    t = datetime(2024, 5, 19, 23, 30, tzinfo=UTC).timestamp()
    os.utime(a, (t, t))
    import_amazon(wh, "S1", "US", a)
    assert _snaps(wh)["fetched_on"].tolist() == [date(2024, 5, 19)]


def test_a_returned_window_other_than_requested_is_stored_under_the_returned_one(wh, tmp_path):
    a = _write(tmp_path / "ah.json", _doc("2024-03-07", "2024-05-05", 3, 400))
    rep = import_amazon(
        wh, "S1", "US", a, fetched_on=date(2024, 5, 20), requested=(date(2024, 3, 1), date(2024, 4, 30))
    )
    s = _snaps(wh).iloc[0]
    assert (s.window_from, s.window_to) == (date(2024, 3, 7), date(2024, 5, 5))
    assert (s.requested_from, s.requested_to) == (date(2024, 3, 1), date(2024, 4, 30))
    assert any(
        "returned the window 2024-03-07..2024-05-05, not the requested 2024-03-01..2024-04-30" in n
        for n in rep.notes
    )


def test_no_data_report_shows_zero_with_provenance_no_data(wh, tmp_path):
    status = {
        "reportType": ACCOUNT_HEALTH,
        "processingStatus": "DONE_NO_DATA",
        "dataStartTime": "2024-04-01T00:00:00Z",
        "dataEndTime": "2024-05-31T00:00:00Z",
    }
    f = _write(tmp_path / "none.json", status)
    rep = import_amazon(wh, "S1", "US", f, fetched_on=date(2024, 6, 1))
    assert [x.status for x in rep.files] == ["no_data"]
    s = _snaps(wh).iloc[0]
    assert (s.status, s.window_from, s.window_to, s.rows) == (
        "no_data",
        date(2024, 4, 1),
        date(2024, 5, 31),
        0,
    )
    assert s.detail == "processingStatus DONE_NO_DATA"
    v = reported_view(wh, "S1", "US", date(2024, 6, 1)).set_index(["metric", "channel"])
    odr = v.loc[("order_defect_rate", "mfn")]
    assert (odr.value, odr.numerator, odr.denominator, odr.provenance) == (0.0, 0.0, 0.0, NO_DATA)
    assert len(v) == len(REPORTED_RATES) and set(v["provenance"]) == {NO_DATA}
    # before the fetch, and for another seller: not measured (null), not 0
    before = reported_view(wh, "S1", "US", date(2024, 5, 31))
    assert set(before["provenance"]) == {NOT_MEASURED} and before["value"].isna().all()
    assert set(reported_view(wh, "S2", "US", date(2024, 6, 1))["provenance"]) == {NOT_MEASURED}


def test_no_data_without_a_window_needs_the_requested_one(wh, tmp_path):
    f = tmp_path / "empty.txt"
    f.write_text("", encoding="utf-8")
    rep = import_amazon(wh, "S1", "US", f, report_type=ACCOUNT_HEALTH, fetched_on=date(2024, 6, 1))
    assert not wh.has_table("report_snapshots")
    assert any("give --requested" in n for n in rep.notes)
    import_amazon(
        wh, "S1", "US", f, report_type=ACCOUNT_HEALTH, fetched_on=date(2024, 6, 1),
        requested=(date(2024, 4, 1), date(2024, 5, 31)),
    )  # fmt: skip
    s = _snaps(wh).iloc[0]
    assert (s.status, s.window_from, s.window_to, s.detail) == (
        "no_data",
        date(2024, 4, 1),
        date(2024, 5, 31),
        "empty file",
    )


def test_requested_window_is_parsed_strictly():
    assert parse_requested("2024-04-01..2024-05-31") == (date(2024, 4, 1), date(2024, 5, 31))
    for bad in ("2024-04-01", "2024-05-31..2024-04-01", "x..y"):
        with pytest.raises(IngestError):
            parse_requested(bad)
