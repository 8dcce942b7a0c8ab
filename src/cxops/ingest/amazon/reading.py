"""Read one report file: bytes → text → JSON document or tab-separated sheet, with its report type."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cxops.ingest.amazon import detect
from cxops.ingest.amazon.decode import Decoded, decode_bytes
from cxops.ingest.amazon.tsv import Sheet, split_tsv
from cxops.ingest.files import IngestError


@dataclass
class ReportFile:
    """One decoded report.

    Attributes
    ----------
    path : pathlib.Path
    file : str
        ``str(path)``: the name in reports and quarantine files.
    decoded : Decoded
    report_type : str
        A supported type, or :data:`detect.NO_DATA`.
    no_data : str, optional
        Why the file holds no data (``processingStatus CANCELLED``, ``empty file`` …).
    doc : object, optional
        The parsed JSON document.
    sheet : Sheet, optional
        The split flat file.
    """

    path: Path
    file: str
    decoded: Decoded
    report_type: str
    no_data: str | None = None
    doc: object = None
    sheet: Sheet | None = None


#: JSON integers longer than this many digits are kept as their text (Python refuses to convert more
#: than 4,300 digits); the readers then report them as not a number, with row and field.
MAX_INT_DIGITS = 100


def _parse_int(text: str) -> int | str:
    return int(text) if len(text) <= MAX_INT_DIGITS else text


def load_json(decoded: Decoded, file: str) -> object:
    """Parse a JSON document.

    Raises
    ------
    IngestError
        For malformed JSON, naming the **byte** offset (and line/column) of the error; nothing is
        loaded from the file.
    """
    try:
        return json.loads(decoded.text, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        raise IngestError(
            f"{file}: malformed JSON at byte {decoded.byte_offset(e.pos)} (line {e.lineno}, column "
            f"{e.colno}): {e.msg}"
        ) from None
    except RecursionError:
        raise IngestError(f"{file}: JSON nested too deeply") from None


def read_report(
    path: str | Path,
    charset: str | None = None,
    marketplace: str | None = None,
    report_type: str | None = None,
) -> ReportFile:
    """Read, decode and classify one report file.

    Parameters
    ----------
    path : str or pathlib.Path
    charset : str, optional
        Declared charset (see :mod:`cxops.ingest.amazon.decode`).
    marketplace : str, optional
        Our marketplace id (legacy code page fallback).
    report_type : str, optional
        A supported type (already normalized); recognised from the content when ``None``.

    Returns
    -------
    ReportFile

    Raises
    ------
    IngestError
        Unreadable file, undecodable bytes, malformed JSON, an unrecognised or failed report, or a
        file that does not match the given ``report_type``.
    """
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(f"{file}: cannot read: {e.strerror or e}") from None
    dec = decode_bytes(data, file, charset, marketplace)
    why = detect.no_data_text(dec.text)
    if why is not None:
        return ReportFile(path, file, dec, detect.NO_DATA, no_data=why)
    if dec.text.lstrip().startswith(("{", "[")):
        doc = load_json(dec, file)
        found = detect.type_from_json(doc, file)
        if found == detect.NO_DATA:
            why = f"processingStatus {doc['processingStatus']}"
            return ReportFile(path, file, dec, found, no_data=why, doc=doc)  # its reportType, dates
        if report_type is not None and report_type != found:
            raise IngestError(f"{file}: given report type {report_type}, but the document is a {found}")
        return ReportFile(path, file, dec, found, doc=doc)
    if report_type in detect.JSON_TYPES:
        raise IngestError(f"{file}: given report type {report_type} (JSON), but the file is not JSON")
    sheet = split_tsv(dec.text, file)
    if report_type is None:
        found = detect.type_from_header(sheet.header, file)
    else:
        found = report_type
        if found == detect.FEEDBACK:
            detect.check_feedback_header(sheet.header, file)
    return ReportFile(path, file, dec, found, sheet=sheet)


def detect_report_type(path: str | Path, charset: str | None = None, marketplace: str | None = None) -> str:
    """The report type of a file: one of :data:`detect.REPORT_TYPES`, or ``"NO_DATA"``.

    The archived-orders report has the all-orders layout and is reported as
    ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL``; Orders API ``getOrders`` pages as
    ``ORDERS_API``.

    Raises
    ------
    IngestError
        Unreadable, malformed, failed or unrecognised (the message names the file).
    """
    return read_report(path, charset, marketplace).report_type
