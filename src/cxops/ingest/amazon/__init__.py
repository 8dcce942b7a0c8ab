"""Importers of Amazon Seller Central / Selling Partner API reports (``cxops import amazon``).

Public API
----------
* :func:`import_amazon` ``(wh, seller_id, marketplace_id, paths, quarantine_dir=None, report_type=None,
  charset=None) -> AmazonImportReport``
* :func:`detect_report_type` ``(path) -> str``

Report types (:data:`REPORT_TYPES`): the all-orders flat file (and the archived-orders one), Orders API
``getOrders`` pages, FBA fulfilled shipments, returns, seller feedback, and the account health JSON.
Module map: :mod:`.decode` (charsets), :mod:`.tsv` (tolerant splitter), :mod:`.detect` (report
types, no-data documents), :mod:`.dates`, one module per report type, :mod:`.write` (staging,
versions), :mod:`.importer` (orchestration), :mod:`.fuzz` (fuzz targets); merging by key, changed days
and the one-transaction commit are :mod:`cxops.ingest.job`'s.
"""

from cxops.ingest.amazon.detect import (
    ACCOUNT_HEALTH,
    ALL_ORDERS,
    ARCHIVED_ORDERS,
    FBA_SHIPMENTS,
    FEEDBACK,
    NO_DATA,
    ORDERS_API,
    REPORT_TYPES,
    RETURNS,
)
from cxops.ingest.amazon.feedback import COMPLETE_RATINGS
from cxops.ingest.amazon.importer import import_amazon
from cxops.ingest.amazon.outcome import AmazonImportReport, FileOutcome, TableChanges
from cxops.ingest.amazon.reading import detect_report_type

__all__ = [
    "ACCOUNT_HEALTH",
    "ALL_ORDERS",
    "ARCHIVED_ORDERS",
    "FBA_SHIPMENTS",
    "FEEDBACK",
    "NO_DATA",
    "ORDERS_API",
    "COMPLETE_RATINGS",
    "REPORT_TYPES",
    "RETURNS",
    "AmazonImportReport",
    "FileOutcome",
    "TableChanges",
    "detect_report_type",
    "import_amazon",
]
