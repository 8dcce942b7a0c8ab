"""The Amazon import report: the generic :class:`ImportReport` plus per-file outcomes and changed days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from cxops.ingest.report import ImportReport


@dataclass
class FileOutcome:
    """What happened to one file: ``status`` is ``loaded`` or ``no_data`` (with ``detail``)."""

    file: str
    report_type: str
    status: str
    detail: str = ""
    encoding: str = ""


@dataclass
class TableChanges:
    """Rows of a table inserted or changed by the import and the local anchor days they fall on.

    Attributes
    ----------
    table : str
    rows_changed : int
        Distinct keys inserted or whose stored values changed (a re-import of the same data: 0).
    days : list of datetime.date
        Marketplace-local anchor days of the changed rows, old and new values (see
        :mod:`cxops.ingest.amazon.changes`), sorted.
    """

    table: str
    rows_changed: int
    days: list[date]

    def summary(self) -> str:
        """``orders: 12 rows changed; days affected 2024-05-01..2024-05-03, 2024-05-09``."""
        if not self.rows_changed:
            return f"{self.table}: no rows changed"
        days = format_days(self.days) if self.days else "none"
        return f"{self.table}: {self.rows_changed:,} rows changed; days affected {days}"


def format_days(days: list[date]) -> str:
    """Sorted days as comma-separated runs: ``2024-05-01..2024-05-03, 2024-05-09``."""
    runs: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if runs and d - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in runs)


@dataclass
class AmazonImportReport(ImportReport):
    """:class:`ImportReport` of ``cxops import amazon``.

    Attributes
    ----------
    files : list of FileOutcome
        One per input file, in import order.
    changes : dict of str to TableChanges
        Per canonical table written.
    """

    files: list[FileOutcome] = field(default_factory=list)
    changes: dict[str, TableChanges] = field(default_factory=dict)

    @property
    def no_data_files(self) -> list[FileOutcome]:
        """Files that hold no data (a cancelled report, an empty file …): not failures."""
        return [f for f in self.files if f.status == "no_data"]

    def change_lines(self) -> list[str]:
        """One :meth:`TableChanges.summary` line per table written."""
        return [c.summary() for c in self.changes.values()]
