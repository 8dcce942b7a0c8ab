"""Importers: source files → canonical tables, with quarantine of bad rows, all or nothing.

* :func:`import_canonical` — a directory of ``<table>.csv`` / ``<table>.parquet`` files, checked and
  staged in the engine (:mod:`.canonical_files`, :mod:`.scan`).
* :func:`import_olist` — the Olist Brazilian e-commerce data set.
* :func:`cxops.ingest.amazon.import_amazon` — Amazon Seller Central / SP-API reports.

Every import stages its rows, then writes every table, its source's provenance and an import log in
one transaction (:mod:`.job`, :mod:`.staging`). Each returns an :class:`ImportReport` (rows read /
loaded / quarantined per file and table, the changed rows and local days per table, what the source
provides, data-quality notes) and writes the rejected rows to ``<quarantine_dir>/<table>.csv`` before
the commit (:mod:`.quarantine`).
"""

from cxops.ingest.canonical_files import import_canonical
from cxops.ingest.files import IngestError
from cxops.ingest.olist import discover_olist_files, import_olist
from cxops.ingest.report import ImportReport, TableImport

__all__ = [
    "ImportReport",
    "IngestError",
    "TableImport",
    "discover_olist_files",
    "import_canonical",
    "import_olist",
]
