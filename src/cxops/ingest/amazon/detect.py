"""Recognise which Amazon report a file is, from its header (flat files) or its keys (JSON).

Report files carry no report type, so it is recognised from content (or given with
``--report-type``). Flat-file column names are from Amazon's report documentation
(``reporttype-values.md``) and the Airbyte connector's fixtures. The seller feedback report's header
is localized (airbytehq/airbyte PR #9212), so it is recognised by its first column's name in the
known languages and by its six columns (case C3).

A *no-data* document is not a failure: a report status document ``{"processingStatus":
"CANCELLED"}`` (Amazon cancels a report when there is no data) or ``DONE_NO_DATA``, an empty file,
or a short text saying there is no data. ``FATAL`` / ``IN_QUEUE`` / ``IN_PROGRESS`` are failures.
"""

from __future__ import annotations

import re

from cxops.ingest.files import IngestError

ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ARCHIVED_ORDERS = "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE"
ORDERS_API = "ORDERS_API"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_SHIPMENTS = "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"
ACCOUNT_HEALTH = "GET_V2_SELLER_PERFORMANCE_REPORT"
NO_DATA = "NO_DATA"

#: Supported report types, in import order (orders before the tables that refer to them).
REPORT_TYPES = (ALL_ORDERS, ORDERS_API, FBA_SHIPMENTS, RETURNS, FEEDBACK, ACCOUNT_HEALTH)
JSON_TYPES = (ORDERS_API, ACCOUNT_HEALTH)

_ALIASES = {
    ARCHIVED_ORDERS: ALL_ORDERS,
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": ALL_ORDERS,
    "GETORDERS": ORDERS_API,
    "ORDERS-API": ORDERS_API,
}

#: Flat-file reports recognised but not imported, by a subset of their header (names from Amazon's
#: report documentation): skipped with a note in a folder, an error when given alone.
UNSUPPORTED = {
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": {"order-id", "promise-date", "quantity-to-ship"},
    "GET_MERCHANT_LISTINGS_ALL_DATA": {"item-name", "listing-id", "seller-sku"},
    "GET_FLAT_FILE_OPEN_LISTINGS_DATA": {"sku", "asin", "price", "quantity"},
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": {"sku", "fnsku", "asin", "afn-fulfillable-quantity"},
    "GET_AFN_INVENTORY_DATA": {"seller-sku", "fulfillment-channel-sku", "asin", "condition-type"},
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": {"settlement-id", "settlement-start-date"},
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": {"return-date", "order-id", "fnsku", "detailed-disposition"},
    "GET_FBA_REIMBURSEMENTS_DATA": {"approval-date", "reimbursement-id"},
    "Detail Page Sales and Traffic (business report)": {"(parent) asin", "(child) asin"},
}
#: JSON reports recognised but not imported, by a top-level key.
UNSUPPORTED_JSON = {
    "GET_SALES_AND_TRAFFIC_REPORT": ("salesAndTrafficByDate", "salesAndTrafficByAsin"),
}


class UnsupportedReport(IngestError):
    """A report cxops recognises but does not read (``report_type`` names it)."""

    def __init__(self, file: str, report_type: str):
        super().__init__(
            f"{file}: {report_type} reports are not imported (supported: {', '.join(REPORT_TYPES)})"
        )
        self.report_type = report_type


#: First column of the seller feedback report in the languages Amazon uses ("Date").
FEEDBACK_DATE_WORDS = frozenset(
    {
        "date",
        "datum",
        "fecha",
        "data",
        "date de l'évaluation",
        "日付",
        "tarih",
        "dato",
        "تاريخ",
        "data da avaliação",
    }
)
FEEDBACK_COLUMNS = ("date", "rating", "comments", "response", "order id", "rater email")

NO_DATA_STATUSES = {"CANCELLED", "DONE_NO_DATA", "_DONE_NO_DATA_", "_CANCELLED_"}
_NO_DATA_TEXT = re.compile(
    r"\bno (data|records|orders|results)\b|\bkeine daten\b|aucune donn|nessun dato|no hay datos|sem dados|"
    r"geen gegevens|データ(が|は)?(ありません|なし)",
    re.IGNORECASE,
)


def normalize_report_type(name: str) -> str:
    """A supported report type from a user-given name (case-insensitive; aliases allowed).

    Raises
    ------
    IngestError
        For an unknown or unsupported name.
    """
    key = name.strip().upper()
    key = _ALIASES.get(key, key)
    if key in REPORT_TYPES:
        return key
    raise IngestError(
        f"unknown report type {name!r}; supported: {', '.join(REPORT_TYPES)} (and {ARCHIVED_ORDERS})"
    )


def _norm(h: str) -> str:
    return re.sub(r"\s+", " ", h.strip().strip('"').strip().lower())


def type_from_header(header: list[str], file: str) -> str:
    """The report type of a flat file from its header names.

    Raises
    ------
    IngestError
        Unrecognised header, a recognised but unsupported report, or a feedback report whose column
        count is not 6.
    """
    h = [_norm(x) for x in header]
    s = set(h)
    if {"amazon-order-id", "shipment-id", "shipment-date"} <= s:
        return FBA_SHIPMENTS
    if {"amazon-order-id", "purchase-date", "order-status", "fulfillment-channel"} <= s:
        return ALL_ORDERS
    if {"order id", "return request date"} <= s:
        return RETURNS
    for name, cols in UNSUPPORTED.items():
        if cols <= s:
            raise UnsupportedReport(file, name)
    if h and h[0] in FEEDBACK_DATE_WORDS:
        check_feedback_header(header, file)
        return FEEDBACK
    shown = ", ".join(header[:6]) + (" …" if len(header) > 6 else "")
    raise IngestError(
        f"{file}: not a recognised Amazon report (header: {shown}); pass --report-type "
        f"({', '.join(REPORT_TYPES)})"
    )


def check_feedback_header(header: list[str], file: str) -> None:
    """Raise :class:`IngestError` unless the feedback report has exactly 6 columns (C3)."""
    if len(header) != 6:
        raise IngestError(
            f"{file}: a seller feedback report ({FEEDBACK}) has exactly 6 columns in this order: "
            f"{', '.join(FEEDBACK_COLUMNS)} (names vary by language); this file has {len(header)}: "
            + ", ".join(header)
        )


def type_from_json(doc: object, file: str) -> str:
    """The report type of a JSON document, or :data:`NO_DATA` for a no-data status document.

    Raises
    ------
    IngestError
        An API error response, a failed or unfinished report status, a document pointer, or an
        unrecognised document.
    """
    if isinstance(doc, list):
        if all(isinstance(x, dict) and "AmazonOrderId" in x for x in doc):
            return ORDERS_API
    elif isinstance(doc, dict):
        if "performanceMetrics" in doc or "accountStatuses" in doc:
            return ACCOUNT_HEALTH
        for name, keys in UNSUPPORTED_JSON.items():
            if any(k in doc for k in keys):
                raise UnsupportedReport(file, name)
        if "$schema" in doc or ("properties" in doc and doc.get("type") == "object"):
            raise UnsupportedReport(file, "a JSON Schema document (not a report)")
        spec = doc.get("reportSpecification")
        if isinstance(spec, dict) and isinstance(spec.get("reportType"), str):
            if spec["reportType"] not in (ACCOUNT_HEALTH,):
                raise UnsupportedReport(file, spec["reportType"])
        payload = doc.get("payload")
        if isinstance(payload, dict) and "Orders" in payload or "Orders" in doc:
            return ORDERS_API
        if isinstance(doc.get("errors"), list) and doc["errors"]:
            msgs = "; ".join(
                f"{e.get('code', '?')}: {e.get('message', '')}" if isinstance(e, dict) else str(e)
                for e in doc["errors"]
            )
            raise IngestError(f"{file}: the API returned errors, not data: {msgs}")
        status = doc.get("processingStatus")
        if isinstance(status, str):
            st = status.strip().upper()
            if st in NO_DATA_STATUSES:
                return NO_DATA
            if st == "FATAL":
                raise IngestError(f"{file}: the report failed (processingStatus FATAL); request it again")
            if st in ("IN_QUEUE", "IN_PROGRESS"):
                raise IngestError(
                    f"{file}: the report is not ready (processingStatus {st}); download it later"
                )
            raise IngestError(
                f"{file}: a report status (processingStatus {status}), not the report document: download "
                f"reportDocumentId {doc.get('reportDocumentId', '?')}"
            )
        if "reportDocumentId" in doc and "url" in doc:
            raise IngestError(f"{file}: a report document pointer; download the document from its url")
    raise IngestError(
        f"{file}: a JSON document that is neither an account health report ({ACCOUNT_HEALTH}) nor an "
        "Orders API getOrders response"
    )


def no_data_text(text: str) -> str | None:
    """Why a text file is a no-data document (``"empty file"`` / its message), else ``None``."""
    body = text.strip()
    if not body:
        return "empty file"
    if len(body) <= 2048 and "\t" not in body and not body.startswith(("{", "[")):
        if _NO_DATA_TEXT.search(body):
            return body.splitlines()[0][:200]
    return None
