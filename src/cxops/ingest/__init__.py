"""Importers: source files → canonical tables, with quarantine of bad rows.

* :func:`import_canonical` — a directory of ``<table>.csv`` / ``<table>.parquet`` files.
* :func:`import_olist` — the Olist Brazilian e-commerce data set.

Both return an :class:`ImportReport` (rows read / loaded / quarantined per file and table, and
data-quality notes) and can write the rejected rows to ``<quarantine_dir>/<table>.csv``.
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
