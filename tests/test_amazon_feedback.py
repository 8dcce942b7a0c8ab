"""Seller feedback report: localized headers, dates per marketplace (C3), charsets (C4, C5), partial
ratings (C8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.ingest.amazon import COMPLETE_RATINGS, FEEDBACK, detect_report_type, import_amazon
from cxops.ingest.amazon.dates import parse_instants, parse_local_dates
from cxops.ingest.files import IngestError
from cxops.metrics.compute import compute_metrics
from cxops.warehouse import connect

T = pd.Timestamp
DATA = Path(__file__).parent / "data" / "amazon"
HEADERS = {
    "DE": "Datum\tBewertung\tKommentar\tIhre Antwort\tTransaktionsnummer\tE-Mail des Bewertenden",
    "US": "Date\tRating\tComments\tResponse\tOrder ID\tRater Email",
    "JP": "日付\t評価\tコメント\t回答\t注文番号\t評価者のEメール",
    "SE": "Datum\tBetyg\tKommentarer\tDitt svar\tOrder-ID\tBedömarens e-post",
}
C3_DATES = {"DE": "05.04.24", "US": "5/4/24", "JP": "24/5/4", "SE": "2024-05-04"}


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _add_sweden(wh):
    mp = pd.DataFrame(
        [{"marketplace_id": "SE", "timezone": "Europe/Stockholm", "country": "SE", "currency": "SEK"}]
    )
    wh.upsert(TABLES["marketplaces"], validate(mp, TABLES["marketplaces"], "t").loaded)


def _feedback(wh, mp, *, rows=None, header=None, name="fb.txt", tmp, charset=None, data: bytes | None = None):
    path = tmp / name
    if data is None:
        lines = [header or HEADERS.get(mp, HEADERS["US"]), *(rows or [])]
        data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return import_amazon(wh, "S1", mp, [path], charset=charset), path


# -- C3 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mp", ["DE", "US", "JP", "SE"])
def test_c3_date_format_comes_from_the_marketplace(wh, tmp_path, mp):
    if mp == "SE":
        _add_sweden(wh)
    row = f"{C3_DATES[mp]}\t2\tlate\t\t028-0000000-0000001\tbuyer1@example.invalid"
    rep, path = _feedback(wh, mp, rows=[row], tmp=tmp_path)
    assert detect_report_type(path) == FEEDBACK
    assert (rep.entry("feedback").rows_read, rep.entry("feedback").rows_loaded) == (1, 1)
    fb = wh.execute(wh.table("feedback"))
    tz = {"DE": "Europe/Berlin", "US": "America/Los_Angeles", "JP": "Asia/Tokyo", "SE": "Europe/Stockholm"}[
        mp
    ]
    local = T(fb["submitted_at"][0]).tz_localize("UTC").tz_convert(tz)
    expected = date(2024, 4, 5) if mp == "DE" else date(2024, 5, 4)
    assert (local.date(), local.hour, local.minute) == (expected, 0, 0)
    assert fb["rating"].tolist() == [2] and fb["order_id"].tolist() == ["028-0000000-0000001"]


def test_c3_parse_local_dates_exact():
    cases = {
        "DE": "05.04.24",
        "US": "5/4/24",
        "JP": "24/5/4",
        "SE": "2024-05-04",
        "UK": "5/4/24",
        "FR": "05/04/2024",
    }
    got = {mp: parse_local_dates(pd.Series([v]), mp)[0][0] for mp, v in cases.items()}
    assert got == {
        "DE": T("2024-04-05"),
        "US": T("2024-05-04"),
        "JP": T("2024-05-04"),
        "SE": T("2024-05-04"),
        "UK": T("2024-04-05"),
        "FR": T("2024-04-05"),
    }


def test_c3_never_guessed_from_the_value():
    # a US-style value in a DE report, a day > 12 in a US report, an impossible date: all invalid
    for mp, v in (("DE", "5/4/24"), ("US", "13/5/24"), ("JP", "5/4/24"), ("SE", "5/4/24"), ("US", "2/30/24")):
        dates, bad = parse_local_dates(pd.Series([v]), mp)
        assert bad.tolist() == [True] and dates.isna().all(), (mp, v)


def test_c3_mixed_formats_in_one_column(wh, tmp_path):
    rows = [
        "5/4/24\t1\ta\t\tO-1\te",
        "2024-05-05\t2\tb\t\tO-2\te",  # ISO is unambiguous: accepted
        "05.06.24\t3\tc\t\tO-3\te",  # the DE form in a US report: quarantined
        "",
        "5/7/2024\t2\td\t\tO-4\te",  # four-digit year, same field order
    ]
    rep, _ = _feedback(wh, "US", rows=rows, tmp=tmp_path)
    e = rep.entry("feedback")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (4, 3, 1)
    q = rep.quarantined.iloc[0]
    assert (q["row"], q["column"]) == (4, "Date")
    assert q["reason"] == "not a US feedback date (M/D/YY, or YYYY-MM-DD): '05.06.24'"
    fb = wh.execute(wh.table("feedback")).sort_values("order_id")
    assert fb["submitted_at"].tolist() == [
        T("2024-05-04 07:00"),
        T("2024-05-05 07:00"),
        T("2024-05-07 07:00"),
    ]


def test_c3_wrong_column_count_is_a_clear_error(wh, tmp_path):
    with pytest.raises(IngestError, match=r"exactly 6 columns .* this file has 5"):
        _feedback(
            wh,
            "US",
            header="Date\tRating\tComments\tOrder ID\tRater Email",
            rows=["5/4/24\t2\tx\tO\te"],
            tmp=tmp_path,
        )
    with pytest.raises(IngestError, match="this file has 7"):
        _feedback(
            wh,
            "US",
            header=HEADERS["US"] + "\tExtra",
            rows=["5/4/24\t2\tx\t\tO\te\tz"],
            tmp=tmp_path,
            name="f7.txt",
        )
    assert not wh.has_table("feedback")


def test_instants_with_offsets_zones_and_local_times():
    v = pd.Series(
        [
            "2024-05-01T10:00:00+00:00",
            "2024-05-01T10:00:00-07:00",
            "2024-05-01 10:00:00 PDT",
            "2024-03-10 02:30:00",
            "x",
        ]
    )
    utc, bad = parse_instants(v, "US", "America/Los_Angeles")
    assert utc[:4].tolist() == [
        T("2024-05-01 10:00"),
        T("2024-05-01 17:00"),
        T("2024-05-01 17:00"),
        T("2024-03-10 10:00"),
    ]
    assert bad.tolist() == [False, False, False, False, True]


# -- C4 / C5 through whole files -----------------------------------------------------------------------
def test_c4_spanish_header_utf8(wh, tmp_path):
    header = (
        "Fecha\tPuntuación\tComentarios\tTu respuesta\tNúmero de pedido\tCorreo electrónico del evaluador"
    )
    data = (header + "\n05/04/24\t1\tNo llegó\t\t402-1\tx@example.invalid\n").encode("utf-8")
    rep, path = _feedback(wh, "ES", tmp=tmp_path, data=data)
    assert rep.files[0].encoding == "utf-8"
    q = wh.execute(wh.table("feedback"))
    assert q["comment"].tolist() == ["No llegó"]
    from cxops.ingest.amazon.reading import read_report

    assert read_report(path).sheet.header[4] == "Número de pedido"


def test_c5_cp1252_and_shift_jis_comments(wh, tmp_path):
    de = (
        HEADERS["DE"].encode("cp1252")
        + b"\n05.04.24\t2\t"
        + bytes.fromhex("84 53 75 70 65 72 93")
        + b"\t\tO-DE\te\n"
    )
    _feedback(wh, "DE", tmp=tmp_path, data=de, charset="Cp1252", name="de.txt")
    jp = (
        HEADERS["JP"].encode("cp932")
        + b"\n24/5/4\t1\t"
        + bytes.fromhex("83 7A 83 8F 83 43 83 67 87 40")
        + b"\t\tO-JP\te\n"
    )
    _feedback(wh, "JP", tmp=tmp_path, data=jp, charset="Shift_JIS", name="jp.txt")
    fb = wh.execute(wh.table("feedback")).set_index("order_id")
    assert fb.loc["O-DE", "comment"] == "„Super“"
    assert fb.loc["O-JP", "comment"] == "ホワイト①"


def test_c5c_lossy_comment_is_kept_and_flagged(wh, tmp_path):
    rep, _ = _feedback(wh, "US", rows=["5/4/24\t1\tSe?or ??? bad\t\tO-1\te"], tmp=tmp_path)
    fb = wh.execute(wh.table("feedback"))
    assert fb["comment"].tolist() == ["Se?or ??? bad"]
    w = rep.warnings
    assert w[["row", "column"]].to_dict("records") == [
        {"row": 2, "column": "Comments"},
        {"row": 2, "column": "order_id"},  # and no order O-1 in the warehouse: an orphan, loaded anyway
    ]
    assert "lossy upstream encoding" in w["reason"][0]
    assert any("lossy upstream encoding" in n for n in rep.notes)


# -- the fixture and C8 --------------------------------------------------------------------------------
def test_feedback_fixture_exact(wh):
    rep = import_amazon(wh, "S1", "US", DATA / "feedback_us.txt")
    e = rep.entry("feedback")
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (5, 3, 2)
    assert rep.quarantined[["row", "column", "reason"]].to_dict("records") == [
        {"row": 5, "column": "Date", "reason": "not a US feedback date (M/D/YY, or YYYY-MM-DD): '13/5/24'"},
        {"row": 6, "column": "Rating", "reason": "not a rating 1-5: '9'"},
    ]
    fb = wh.execute(wh.table("feedback")).sort_values("order_id").reset_index(drop=True)
    assert fb[["order_id", "rating", "comment"]].to_dict("records") == [
        {"order_id": "111-1000001-0000001", "rating": 1, "comment": "Never arrived"},
        {"order_id": "111-1000001-0000002", "rating": 3, "comment": "OK but slow"},
        {"order_id": "111-1000001-0000003", "rating": 2, "comment": "Damaged box"},
    ]
    # 00:00 PDT = 07:00 UTC
    assert fb["submitted_at"].tolist() == [
        T("2024-05-03 07:00"),
        T("2024-05-04 07:00"),
        T("2024-05-06 07:00"),
    ]


def test_c8_report_is_partial_marker_and_note(wh):
    rep = import_amazon(wh, "S1", "US", DATA / "feedback_us.txt")
    prov = wh.provided_columns("feedback")
    assert prov == {"seller_id", "order_id", "rating", "submitted_at", "comment"}
    assert COMPLETE_RATINGS not in prov  # not a complete rating source: no satisfaction index from it
    assert any("only 1-3 star" in n and "satisfaction index cannot be computed" in n for n in rep.notes)


def test_c8_negative_feedback_rate_from_the_report(wh, tmp_path):
    """100 orders; feedback A 3*, B 2*, C 1*: negative-feedback defects = 2 -> 2.0 % (3* is neutral)."""
    header = "\t".join(
        (
            "amazon-order-id purchase-date last-updated-date order-status fulfillment-channel "
            "sku quantity item-price"
        ).split()
    )
    lines = [header] + [
        f"O-{i:03d}\t2024-05-{1 + i % 20:02d}T12:00:00+00:00\t\tShipped\tMerchant\tSKU\t1\t10.00"
        for i in range(100)
    ]
    (tmp_path / "orders.txt").write_text("\n".join(lines) + "\n")
    fb = [
        HEADERS["US"],
        "5/25/24\t3\tmeh\t\tO-000\te",
        "5/25/24\t2\tbad\t\tO-001\te",
        "5/26/24\t1\tawful\t\tO-002\te",
    ]
    (tmp_path / "fb.txt").write_text("\n".join(fb) + "\n")
    rep = import_amazon(wh, "S1", "US", tmp_path)
    assert [f.report_type for f in rep.files] == [
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        FEEDBACK,
    ]
    m = compute_metrics(wh, date(2024, 6, 20))  # 60 days: 2024-04-22 .. 06-20
    row = m[(m.metric == "negative_feedback_rate") & (m.channel == "all")].iloc[0]
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 100, 0.02)


def test_airbyte_feedback_fixture(wh, shared_data):
    path = (
        shared_data / "amazon-sp-api-seller-performance" / "airbyte-fixtures" / "GET_SELLER_FEEDBACK_DATA.tsv"
    )
    rep = import_amazon(wh, "S1", "US", path)
    e = rep.entry("feedback")
    # two placeholder rows whose rating is the text "Rating": read, quarantined, nothing lost
    assert (e.rows_read, e.rows_loaded, e.rows_quarantined) == (2, 0, 2)
    assert set(rep.quarantined["reason"]) == {"not a rating 1-5: 'Rating'"}
