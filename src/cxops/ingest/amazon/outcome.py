"""The Amazon import report: the generic :class:`ImportReport` plus per-file outcomes and changed days."""

from __future__ import annotations

from dataclasses import dataclass, field

from cxops.ingest.report import ImportReport, TableChanges, format_days

__all__ = ["AmazonImportReport", "FileOutcome", "TableChanges", "format_days"]


@dataclass
class FileOutcome:
    """What happened to one file: ``status`` is ``loaded`` or ``no_data`` (with ``detail``)."""

    file: str
    report_type: str
    status: str
    detail: str = ""
    encoding: str = ""


@dataclass
class AmazonImportReport(ImportReport):
    """:class:`ImportReport` of ``cxops import amazon``.

    Attributes
    ----------
    files : list of FileOutcome
        One per input file, in import order.
    """

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def no_data_files(self) -> list[FileOutcome]:
        """Files that hold no data (a cancelled report, an empty file …): not failures."""
        return [f for f in self.files if f.status == "no_data"]
