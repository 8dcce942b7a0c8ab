"""Building blocks for importers of source-specific formats (Olist, later others).

A :class:`SourceFile` is one read file with a per-row *first* rejection reason. A mapping derives
canonical rows from its valid rows (each derived row carries ``_src``, the source row number) and
:func:`load_derived` validates, stages (in the import's :class:`~cxops.ingest.job.ImportJob`, written
in its one commit) and accounts for them, so that every source row is either loaded (it produced at
least one canonical row) or quarantined with a reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.ingest.files import IngestError, first_row_number, read_raw
from cxops.ingest.job import ImportJob
from cxops.ingest.report import ImportReport, quarantine_rows, records_json

#: Reason for source rows about an order that has no (valid) item rows, hence no seller.
NO_SELLER = "order has no valid item rows, so no seller to attribute it to"


def text(s: pd.Series) -> pd.Series:
    """Stripped text as an object column, ``None`` where blank or null (object dtype: fast ``isin``)."""
    t = s.astype("string").str.strip()
    keep = (t.notna() & (t != "")).fillna(False).astype(bool)
    return t.astype(object).where(keep, None)


class SourceFile:
    """One source file read raw, with the first rejection reason of each row.

    Attributes
    ----------
    path : pathlib.Path
    file : str
        ``str(path)``, the name used in reports and quarantine files.
    df : pandas.DataFrame
        Raw rows (see :func:`cxops.ingest.files.read_raw`).
    row : numpy.ndarray
        Reported row number of each row (CSV: 2 for the first data row; Parquet: 1).
    warn : list of (mask, column, reason)
        Data-quality flags to report on the rows that end up loaded.
    """

    def __init__(self, path: str | Path, required: list[str], kind: str = ""):
        self.path = Path(path)
        self.file = str(path)
        self.df = read_raw(path)
        missing = [c for c in required if c not in self.df.columns]
        if missing:
            raise IngestError(
                f"{path}: {kind + ' ' if kind else ''}file is missing column(s) "
                f"{', '.join(missing)} (found: {', '.join(self.df.columns)})"
            )
        self.row = np.arange(len(self.df)) + first_row_number(path)
        self.reason = pd.Series(None, index=self.df.index, dtype=object)
        self.column = pd.Series(None, index=self.df.index, dtype=object)
        self.warn: list[tuple[pd.Series, str, str]] = []

    def __len__(self) -> int:
        return len(self.df)

    def text(self, col: str) -> pd.Series:
        """Column ``col`` as stripped text (all ``None`` if the column is absent)."""
        if col not in self.df.columns:
            return pd.Series(None, index=self.df.index, dtype=object)
        return text(self.df[col])

    def reject(self, mask, column: str, reason: str | pd.Series) -> None:
        """Reject rows in ``mask`` not rejected yet (the first reason wins)."""
        mask = pd.Series(mask, index=self.df.index).fillna(False).astype(bool) & self.reason.isna()
        if isinstance(reason, pd.Series):  # a reason is never missing: a missing one would load the row
            reason = reason.astype(object).where(reason.notna(), f"not a valid {column}")
            self.reason[mask] = reason[mask]
        else:
            self.reason[mask] = reason
        self.column[mask] = column

    def first_row_of(self, keys: pd.DataFrame) -> pd.Series:
        """Row number (as text) of the first row with the same ``keys`` (for duplicate messages)."""
        by = [keys[c].fillna("") for c in keys.columns]
        return pd.Series(self.row, index=self.df.index).groupby(by).transform("first").astype(str)

    def reject_duplicates(self, keys: pd.DataFrame, column: str, label: str) -> None:
        """Reject later rows repeating ``keys`` (rows with a null key are left to other checks)."""
        dup = keys.duplicated(keep="first") & keys.notna().all(axis=1)
        if dup.any():
            self.reject(dup, column, f"duplicate {label} (first at row " + self.first_row_of(keys) + ")")

    @property
    def ok(self) -> pd.Series:
        """True for rows not rejected so far."""
        return self.reason.isna()

    def positions(self, rows) -> np.ndarray:
        """0-based positions of reported row numbers."""
        return np.asarray(rows, dtype=int) - (self.row[0] if len(self.row) else 0)

    def quarantine(self, table: str) -> pd.DataFrame:
        """Quarantine rows (``table, file, row, column, reason, record``) for the rejected rows."""
        pos = np.flatnonzero(self.reason.notna().to_numpy(dtype=bool))
        return quarantine_rows(
            table,
            self.file,
            self.row[pos],
            list(self.column.iloc[pos]),
            list(self.reason.iloc[pos]),
            records_json(self.df, pos),
        )

    def quarantine_rows(self, table: str, rows, column: str, reason: str) -> pd.DataFrame:
        """Quarantine rows for reported row numbers ``rows`` with one reason."""
        records = records_json(self.df, self.positions(rows))
        return quarantine_rows(table, self.file, rows, column, reason, records)

    def warnings(self, table: str, loaded_rows) -> list[pd.DataFrame]:
        """Warning rows for the flags in :attr:`warn` that fall on ``loaded_rows`` (row numbers)."""
        loaded = np.isin(self.row, np.asarray(loaded_rows, dtype=int))
        out = []
        for mask, col, why in self.warn:
            pos = np.flatnonzero(loaded & pd.Series(mask, index=self.df.index).fillna(False).to_numpy(bool))
            if len(pos):
                out.append(quarantine_rows(table, self.file, self.row[pos], col, why))
        return out


def load_derived(
    job: ImportJob,
    report: ImportReport,
    table: str,
    src: SourceFile,
    rows_read: int,
    derived: pd.DataFrame,
    pre_quarantined: pd.DataFrame,
    warnings: list[pd.DataFrame] = (),
    provided: list[str] = (),
    source: str = "",
) -> None:
    """Validate derived canonical rows, stage them and record the (file, table) entry.

    Parameters
    ----------
    derived : pandas.DataFrame
        Canonical columns plus ``_src`` (the source row number each row comes from; several derived
        rows may share one).
    rows_read : int
        Source rows that map to this table; each must either have a derived row or be in
        ``pre_quarantined`` (one row each), else the report's invariant fails (AssertionError).
    pre_quarantined : pandas.DataFrame
        Source rows rejected before derivation.
    warnings : list of pandas.DataFrame
        Flags on loaded source rows.
    provided : list of str
        Canonical columns the source provides (recorded for the import's source).
    source : str
        Unused (the import's source labels the provenance); kept for compatibility.

    Notes
    -----
    A derived row rejected by :func:`cxops.canonical.validate.validate` quarantines its source row,
    unless a sibling derived row of the same source row was loaded; then it is a warning.
    """
    schema = TABLES[table]
    srow = derived["_src"].to_numpy(dtype=int)
    res = validate(derived.drop(columns="_src").reset_index(drop=True), schema, src.file, first_row_number=0)
    vq = res.quarantined.copy()
    bad_pos = vq["row"].to_numpy(dtype=int)
    vq["row"] = srow[bad_pos]
    vw = res.warnings.copy()
    vw["row"] = srow[vw["row"].to_numpy(dtype=int)]
    loaded = np.unique(np.delete(srow, bad_pos))
    sibling = vq["row"].isin(loaded)
    sib = vq[sibling].copy()
    sib["reason"] = "another canonical row of this source row was loaded; this one was rejected: " + sib[
        "reason"
    ].astype(str)
    parts = [x for x in (pre_quarantined, vq[~sibling].drop_duplicates("row")) if len(x)]
    q = pd.concat(parts, ignore_index=True) if parts else None
    w = [x for x in (*warnings, vw, sib) if len(x)]
    wf = pd.concat(w, ignore_index=True) if w else None
    n_q = len(q) if q is not None else 0
    n_w = int(wf["row"].nunique()) if wf is not None else 0
    entry = job.entry(src.file, table, rows_read, len(loaded), n_q, n_w, q, wf)
    job.frame_part(table, res.loaded, entry)
    job.provide(table, provided)
    job.quarantine_frame(table, q)
    job.quarantine_frame(table, wf, warning=True)
