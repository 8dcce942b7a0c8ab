"""Charsets, BOMs, quoting and blank/trailing/repeated lines of Amazon reports (cases C4-C7)."""

from __future__ import annotations

import codecs
import gzip

import pandas as pd
import pytest

from cxops.ingest.amazon.decode import decode_bytes, lossy_mask
from cxops.ingest.amazon.tsv import split_tsv
from cxops.ingest.files import IngestError

C4 = bytes.fromhex("4E C3 BA 6D 65 72 6F 20 64 65 20 70 65 64 69 64 6F")
C5A = bytes.fromhex("84 53 75 70 65 72 93")
C5B = bytes.fromhex("83 7A 83 8F 83 43 83 67 87 40")


# -- C4: valid UTF-8 is never read as Latin-1 ---------------------------------------------------------
def test_c4_utf8_without_charset_is_utf8():
    d = decode_bytes(C4, "f.txt")
    assert d.text == "Número de pedido"
    assert (d.encoding, d.how) == ("utf-8", "utf-8")
    assert "Ã" not in d.text


def test_invalid_utf8_falls_back_to_cp1252_then_cp932_for_jp():
    d = decode_bytes(b"Caf\xe9", "f.txt")
    assert (d.text, d.encoding, d.how) == ("Café", "cp1252", "fallback")
    d = decode_bytes(C5B, "f.txt", marketplace="JP")
    assert (d.text, d.encoding) == ("ホワイト①", "cp932")


# -- C5: cp1252 for Latin-1 labels, cp932 for Shift_JIS -----------------------------------------------
@pytest.mark.parametrize("charset", ["Cp1252", "windows-1252", "ISO-8859-1", "latin1"])
def test_c5a_cp1252_quotes_not_c1_controls(charset):
    d = decode_bytes(C5A, "f.txt", charset=charset)
    assert d.text == "„Super“"
    assert not any(0x80 <= ord(ch) <= 0x9F for ch in d.text)


@pytest.mark.parametrize("charset", ["Shift_JIS", "shift-jis", "SJIS", "cp932", "Windows-31J"])
def test_c5b_shift_jis_is_cp932(charset):
    assert decode_bytes(C5B, "f.txt", charset=charset).text == "ホワイト①"
    with pytest.raises(UnicodeDecodeError):
        C5B.decode("shift_jis")  # why: Python's shift_jis fails on 0x87


def test_c5c_lossy_question_marks_are_flagged_not_repaired():
    s = pd.Series(["Se?or M?ller", "????", "What?", "https://x.invalid/a?b=1", "fine", None])
    assert lossy_mask(s).tolist() == [True, True, False, False, False, False]


def test_declared_charset_mismatch_names_byte_offset():
    with pytest.raises(
        IngestError, match=r"f.txt: declared charset 'UTF-8' is utf-8, but byte 0x84 at offset 3"
    ):
        decode_bytes(b"abc" + C5A, "f.txt", charset="UTF-8")
    with pytest.raises(IngestError, match="f.txt: unknown charset .klingon."):
        decode_bytes(b"abc", "f.txt", charset="klingon")


# -- C6: BOM ------------------------------------------------------------------------------------------
def test_c6_bom_is_stripped_and_header_found_by_name():
    d = decode_bytes(codecs.BOM_UTF8 + b"order-id\tqty\n111-0000001\t2\n", "f.txt", charset="cp1252")
    assert d.how == "bom" and d.prefix == 3  # a BOM wins over a declared charset (WHATWG)
    sh = split_tsv(d.text, "f.txt")
    assert sh.header == ["order-id", "qty"]
    assert sh.df.to_dict("records") == [{"order-id": "111-0000001", "qty": "2"}]
    assert sh.find("order-id") == "order-id"


def test_utf16_bom_and_gzip():
    d = decode_bytes(codecs.BOM_UTF16_LE + "a\tb\n".encode("utf-16-le"), "f.txt")
    assert (d.text, d.encoding) == ("a\tb\n", "utf-16-le")
    d = decode_bytes(gzip.compress("Número".encode()), "f.txt.gz")
    assert d.text == "Número" and d.gzipped
    with pytest.raises(IngestError, match="corrupt gzip"):
        decode_bytes(b"\x1f\x8b\x08garbage", "f.gz")


# -- C7: stray quotes, fully quoted reports -----------------------------------------------------------
C7 = (
    "order-id\tproduct-name\tquantity\n"
    '111-0000001\tWebcam 1/2" Sensor\t1\n'
    '111-0000002\t"Quoted start only\t2\n'
    "111-0000003\tPlain name\t3\n"
)


def test_c7_stray_quotes_do_not_merge_or_shift_rows():
    sh = split_tsv(C7, "c7.txt")
    assert not sh.quoted
    assert sh.df["quantity"].tolist() == ["1", "2", "3"]
    assert sh.df["product-name"].tolist() == ['Webcam 1/2" Sensor', '"Quoted start only', "Plain name"]
    assert sh.line.tolist() == [2, 3, 4]


def test_c7_fully_quoted_report_is_unquoted():
    text = (
        '"order-id"\t"product-name"\t"quantity"\r\n'
        '"111-0000001"\t"Webcam 1/2"" Sensor"\t"1"\r\n'
        '"111-0000002"\t""\t"2"\r\n'
    )
    sh = split_tsv(text, "q.txt")
    assert sh.quoted
    assert sh.header == ["order-id", "product-name", "quantity"]
    assert sh.df.to_dict("records") == [
        {"order-id": "111-0000001", "product-name": 'Webcam 1/2" Sensor', "quantity": "1"},
        {"order-id": "111-0000002", "product-name": "", "quantity": "2"},
    ]


def test_blank_trailing_repeated_and_bad_lines():
    text = (
        "a\tb\tc\t\n"  # trailing empty header name
        "1\t2\t3\t\t\n"  # trailing empty fields
        "\n   \n\t\t\n"  # blank lines (incl. all tabs)
        "a\tb\tc\t\n"  # repeated header (concatenated download)
        "4\t5\n"  # too few fields
        "6\t7\t8\t9\n"  # an extra non-empty field
        "10\t11\t12"  # no final newline
    )
    sh = split_tsv(text, "t.txt")
    assert sh.header == ["a", "b", "c"]
    assert sh.df.to_dict("records") == [{"a": "1", "b": "2", "c": "3"}, {"a": "10", "b": "11", "c": "12"}]
    assert sh.line.tolist() == [2, 9]
    assert sh.blank_lines == 3 and sh.repeated_headers == 1
    assert sh.bad["line"].tolist() == [7, 8]
    assert sh.bad["reason"].tolist() == [
        "line has 2 tab-separated fields, the header has 3",
        "line has 4 tab-separated fields, the header has 3",
    ]


def test_header_only_and_cr_line_ends():
    sh = split_tsv("x\ty\r\n", "h.txt")
    assert sh.header == ["x", "y"] and sh.df.empty and len(sh.line) == 0
    sh = split_tsv("x\ty\r1\t2\r", "mac.txt")
    assert sh.df.to_dict("records") == [{"x": "1", "y": "2"}]


def test_duplicate_header_names_are_made_unique():
    sh = split_tsv("a\ta\ta.2\n1\t2\t3\n", "d.txt")
    assert sh.names == ["a", "a.2", "a.2.2"]
    assert sh.df.iloc[0].tolist() == ["1", "2", "3"]
