"""What an import did: rows read, loaded and quarantined per (file, table), the days each table's
changes fall on, what the source provides, and data-quality notes.

Counting rule: ``rows_read`` counts the *source* rows of ``file`` that map to ``table``;
each of them is either loaded (it produced at least one canonical row) or quarantined (with a
reason), so ``rows_read == rows_loaded + rows_quarantined`` always (checked on every entry).
``inserted`` and ``replaced`` count the *canonical* rows written by :meth:`Warehouse.upsert`; they can
exceed ``rows_loaded`` when one source row yields several canonical rows (an Olist order with items
from two sellers is two seller orders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from rich import box
from rich.markup import escape
from rich.table import Table

from cxops.canonical.validate import QUARANTINE_COLUMNS

#: Prefix of the ``reason`` of warning rows in quarantine files (loaded rows with a flag).
WARNING_PREFIX = "warning: "
#: At most this many quarantined (and as many warning) rows are kept in an :class:`ImportReport`
#: object; the quarantine files and the counts always hold all of them.
REPORT_ROWS = 100_000


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
        :mod:`cxops.ingest.changes`), sorted. Metrics of windows containing them may have changed.
    rows_restated : int
        Of ``rows_changed``, the keys that were stored already (their values changed).
    """

    table: str
    rows_changed: int
    days: list[date]
    rows_restated: int = 0

    def summary(self) -> str:
        """``orders: 12 rows changed; days affected 2024-05-01..2024-05-03, 2024-05-09``."""
        if not self.rows_changed:
            return f"{self.table}: no rows changed"
        days = format_days(self.days) if self.days else "none"
        return f"{self.table}: {self.rows_changed:,} rows changed; days affected {days}"


#: A list of days longer than this many runs of consecutive days is summarised (first, last, count).
MAX_RUNS = 6


def format_days(days: list[date], max_runs: int = MAX_RUNS) -> str:
    """Sorted days as comma-separated runs: ``2024-05-01..2024-05-03, 2024-05-09``; more than
    ``max_runs`` runs as a summary: ``312 days from 2018-02-09 to 2026-10-09 (298 spans)``."""
    runs: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if runs and d - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    if len(runs) > max_runs:
        n = len(set(days))
        return f"{n:,} days from {runs[0][0].isoformat()} to {runs[-1][1].isoformat()} ({len(runs):,} spans)"
    return ", ".join(a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in runs)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=QUARANTINE_COLUMNS)


@dataclass
class TableImport:
    """Counts for one (source file, canonical table) pair.

    Attributes
    ----------
    file, table : str
    rows_read, rows_loaded, rows_quarantined : int
        Source rows; ``rows_read == rows_loaded + rows_quarantined``.
    rows_warned : int
        Distinct source rows loaded with a data-quality flag.
    inserted, replaced : int
        Canonical rows written (new keys / existing keys replaced).
    """

    file: str
    table: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_warned: int = 0
    inserted: int = 0
    replaced: int = 0

    def __post_init__(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise AssertionError(
                f"{self.file} -> {self.table}: rows read ({self.rows_read}) != loaded "
                f"({self.rows_loaded}) + quarantined ({self.rows_quarantined})"
            )

    @property
    def rows_written(self) -> int:
        """Canonical rows written (``inserted + replaced``)."""
        return self.inserted + self.replaced


@dataclass
class ImportReport:
    """Outcome of one import run.

    Attributes
    ----------
    source : str
        The importer: ``canonical``, ``olist`` or ``amazon``.
    entries : list of TableImport
    quarantined : pandas.DataFrame
        Rejected rows, columns ``table, file, row, column, reason, record`` (at most
        :data:`REPORT_ROWS`; the quarantine files have all of them).
    warnings : pandas.DataFrame
        Loaded rows carrying a data-quality flag, same columns (at most :data:`REPORT_ROWS`).
    notes : list of str
        Free-text data-quality notes and stated mapping policies.
    quarantine_files : list of pathlib.Path
        Files written by :meth:`write_quarantine` (or by the import itself).
    seconds : float
        Wall time of the import.
    changes : dict of str to TableChanges
        Per canonical table written: rows changed and the local days they fall on.
    source_id : str
        The provenance label of the source (``canonical:/data/x``, ``olist:…``, ``amazon:SELLER``).
    provided : dict of str to list of str
        Table -> the contract columns (and markers) this source provides.
    measurable : dict of str to list of str
        Metric -> why it is not measured from this source alone, or ``None`` when it is measurable;
        filled by the caller that knows the metric catalog (the CLI), empty otherwise.
    import_id : int, optional
        The id of the import in the warehouse's import log (DuckDB warehouses).
    declared : tuple of str, optional
        The deadline inputs a source of this kind can hold (its importer's ``DEADLINE_INPUTS``, see
        :mod:`cxops.canonical.deadline_inputs`); ``None``: every input (canonical files).
    deadline_inputs : dict
        Deadline input -> ``provided``, ``not in these files`` or ``not held by the source``, filled
        at the commit from :attr:`provided` (:func:`cxops.canonical.deadline_inputs.deadline_inputs`).
    """

    source: str
    entries: list[TableImport] = field(default_factory=list)
    quarantined: pd.DataFrame = field(default_factory=_empty)
    warnings: pd.DataFrame = field(default_factory=_empty)
    notes: list[str] = field(default_factory=list)
    quarantine_files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    changes: dict[str, TableChanges] = field(default_factory=dict)
    source_id: str = ""
    provided: dict[str, list[str]] = field(default_factory=dict)
    measurable: dict[str, str | None] = field(default_factory=dict)
    import_id: int | None = None
    declared: tuple[str, ...] | None = None
    deadline_inputs: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        file: str,
        table: str,
        rows_read: int,
        rows_loaded: int,
        quarantined: pd.DataFrame | None = None,
        warnings: pd.DataFrame | None = None,
        inserted: int = 0,
        replaced: int = 0,
        n_quarantined: int | None = None,
        n_warned: int | None = None,
    ) -> TableImport:
        """Record one (file, table) entry with its quarantined and warning rows.

        ``n_quarantined`` / ``n_warned`` give the counts when ``quarantined`` / ``warnings`` hold only
        a sample (the canonical importer keeps at most :data:`REPORT_ROWS` rows in memory).

        Raises
        ------
        AssertionError
            If ``rows_read != rows_loaded + quarantined rows``.
        """
        q = quarantined if quarantined is not None else _empty()
        w = warnings if warnings is not None else _empty()
        entry = TableImport(
            file,
            table,
            int(rows_read),
            int(rows_loaded),
            int(n_quarantined) if n_quarantined is not None else len(q),
            rows_warned=int(n_warned) if n_warned is not None else (int(w["row"].nunique()) if len(w) else 0),
            inserted=int(inserted),
            replaced=int(replaced),
        )
        self.entries.append(entry)
        if len(q) and len(self.quarantined) < REPORT_ROWS:
            self.quarantined = _concat(self.quarantined, q.head(REPORT_ROWS - len(self.quarantined)))
        if len(w) and len(self.warnings) < REPORT_ROWS:
            self.warnings = _concat(self.warnings, w.head(REPORT_ROWS - len(self.warnings)))
        return entry

    def change_lines(self) -> list[str]:
        """One :meth:`TableChanges.summary` line per table written."""
        return [c.summary() for c in self.changes.values()]

    def note(self, text: str) -> None:
        """Add a data-quality note (kept once)."""
        if text not in self.notes:
            self.notes.append(text)

    def entry(self, table: str, file: str | None = None) -> TableImport:
        """The entry for ``table`` (and ``file``, needed when several files fed the table).

        Raises
        ------
        KeyError
            If there is no such entry, or several match.
        """
        found = [e for e in self.entries if e.table == table and (file is None or e.file == file)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} entries for table {table!r} file {file!r}")
        return found[0]

    def write_quarantine(self, quarantine_dir: str | Path) -> list[Path]:
        """Write quarantined and warning rows to ``<quarantine_dir>/<table>.csv``.

        Columns ``table, file, row, column, reason, record``; warning rows have a reason starting
        with ``"warning: "``. Rows of other files already in a table's file are kept; rows of the
        files imported in this run are replaced, so re-importing a file is idempotent. A table
        whose file does not exist yet and has nothing to write gets no file.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        qdir = Path(quarantine_dir)
        warn = self.warnings.copy()
        warn["reason"] = WARNING_PREFIX + warn["reason"].astype(str)
        rows = _concat(self.quarantined, warn)
        written = []
        for table in dict.fromkeys(e.table for e in self.entries):
            files = {e.file for e in self.entries if e.table == table}
            new = rows[rows["table"] == table]
            target = qdir / f"{table}.csv"
            if target.exists():
                old = pd.read_csv(target, dtype=str, keep_default_na=False)
                old = old[~old["file"].isin(files)]
            elif not len(new):
                continue
            else:
                old = _empty()
            out = _concat(old.astype(str), _as_text(new))
            qdir.mkdir(parents=True, exist_ok=True)
            out.to_csv(target, index=False, columns=QUARANTINE_COLUMNS)
            written.append(target)
        self.quarantine_files = written
        return written

    def rich_table(self, title: str | None = None, notes: bool = False) -> Table:
        """A summary table for the terminal: one line per entry plus a total.

        With ``notes=True`` the data-quality notes are added as the table's caption.
        """
        t = Table(title=title or f"cxops import {self.source}", title_justify="left", box=box.SIMPLE_HEAD)
        t.add_column("table / file", overflow="fold", min_width=14)
        for name in ("read", "loaded", "quarantined", "warnings", "inserted", "replaced"):
            t.add_column(name, justify="right", no_wrap=True)
        for e in self.entries:
            t.add_row(
                f"{e.table}\n[dim]{escape(Path(e.file).name or e.file)}[/dim]",
                f"{e.rows_read:,}",
                f"{e.rows_loaded:,}",
                _hl(e.rows_quarantined),
                f"{e.rows_warned:,}",
                f"{e.inserted:,}",
                f"{e.replaced:,}",
            )
        tot = [
            sum(getattr(e, a) for e in self.entries)
            for a in ("rows_read", "rows_loaded", "rows_quarantined", "rows_warned", "inserted", "replaced")
        ]
        t.add_section()
        t.add_row("total", *(f"{n:,}" for n in tot), style="bold")
        if notes and self.notes:
            t.caption = "\n".join(f"• {n}" for n in self.notes)
            t.caption_justify = "left"
        return t


def _hl(n: int) -> str:
    return f"[yellow]{n:,}[/yellow]" if n else "0"


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    parts = [x[QUARANTINE_COLUMNS] for x in (a, b) if len(x)]
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("int64")
    return out


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    out = df[QUARANTINE_COLUMNS].copy()
    out["row"] = out["row"].astype("Int64").astype(str)
    for c in ("table", "file", "column", "reason", "record"):
        out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
    return out


def records_json(df: pd.DataFrame, positions) -> list[str]:
    """Rows ``positions`` (0-based) of ``df`` as JSON objects (the ``record`` quarantine column)."""
    sub = df.iloc[np.asarray(list(positions), dtype=int)]
    if not len(sub):
        return []
    # JSON escapes control characters, so "\n" only separates records.
    text = sub.to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
    return text.rstrip("\n").split("\n")


def quarantine_rows(
    table: str, file: str, rows, column: str | list, reason: str | list, records: list | None = None
) -> pd.DataFrame:
    """Build quarantine/warning rows (columns ``table, file, row, column, reason, record``)."""
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    return pd.DataFrame(
        {
            "table": [table] * n,
            "file": [file] * n,
            "row": rows,
            "column": column if isinstance(column, list) else [column] * n,
            "reason": reason if isinstance(reason, list) else [reason] * n,
            "record": records if records is not None else [None] * n,
        },
        columns=QUARANTINE_COLUMNS,
    )
