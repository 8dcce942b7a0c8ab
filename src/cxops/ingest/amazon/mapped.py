"""Accounting between source rows and canonical rows, for one (file, table).

A report row can feed several canonical rows and several report rows can feed one canonical row (the
all-orders flat file has one line per item: *n* lines → one order and *n* order items). Each canonical
row carries a group id ``_grp``; each source row in the table's scope is either rejected before
mapping (with a reason) or a *member* of exactly one group. After validation
(:func:`cxops.canonical.validate.validate`) a member is loaded when its group's canonical row was
loaded, else quarantined with the validation's reason, so ``rows_read == loaded + quarantined``
holds for every entry by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import QUARANTINE_COLUMNS, validate
from cxops.ingest.report import quarantine_rows, records_json

GRP = "_grp"


def group_lines(lines: pd.DataFrame, ok: np.ndarray, keys: list[str]):
    """Group the kept lines of a report by their canonical key.

    Parameters
    ----------
    lines : DataFrame
        The mapped lines of the source rows where ``ok`` (one line per kept source row); gains a
        :data:`GRP` column.
    ok : ndarray of bool
        Per source row: kept (not rejected before mapping).
    keys : list of str
        Columns of ``lines`` that identify one canonical row (e.g. ``["order_id", "shipment_id"]``).

    Returns
    -------
    (ndarray, DataFrameGroupBy)
        The group id of every source row (-1 for rejected rows), for the accounting, and ``lines``
        grouped by it (groups in order of first appearance).
    """
    grp = np.full(len(ok), -1, dtype=np.int64)
    grp[ok] = pd.MultiIndex.from_frame(lines[keys]).factorize()[0]
    lines[GRP] = grp[ok]
    return grp, lines.groupby(GRP, sort=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=QUARANTINE_COLUMNS)


class Rows:
    """The source rows of one file, each with its first rejection reason (the first reason wins).

    Parameters
    ----------
    file : str
    row : numpy.ndarray
        Reported row number of each source row (a line number for flat files, a 1-based record index
        for JSON documents).
    records : callable
        ``positions -> list of str``: the JSON text of source rows (the quarantine ``record``).
    """

    def __init__(self, file: str, row: np.ndarray, records: Callable[[np.ndarray], list[str]]):
        self.file = file
        self.row = np.asarray(row, dtype=np.int64)
        n = len(self.row)
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.warn: list[tuple[np.ndarray, str, str]] = []
        self._records = records

    def __len__(self) -> int:
        return len(self.row)

    def fork(self) -> Rows:
        """A copy whose rejections no longer affect this one (for table-specific checks)."""
        new = Rows(self.file, self.row, self._records)
        new.reason, new.column, new.warn = self.reason.copy(), self.column.copy(), list(self.warn)
        return new

    def reject(self, mask, column: str, reason) -> None:
        """Reject rows in ``mask`` that are not rejected yet; ``reason`` is a str or per-row texts."""
        m = np.asarray(pd.Series(mask).fillna(False), dtype=bool) & self.ok
        if not m.any():
            return
        why = np.asarray(reason, dtype=object) if not isinstance(reason, str) else reason
        if not isinstance(why, str):  # a reason is never missing: a missing one would load the row
            why = np.where(pd.isna(why), f"not a valid {column}", why)
        self.reason[m] = why[m] if not isinstance(why, str) else why
        self.column[m] = column

    def flag(self, mask, column: str, reason: str) -> None:
        """A data-quality warning on rows in ``mask`` (reported for the rows that get loaded)."""
        m = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if m.any():
            self.warn.append((m, column, reason))

    @property
    def ok(self) -> np.ndarray:
        return np.asarray(pd.isna(self.reason), dtype=bool)

    def records(self, pos: np.ndarray) -> list[str]:
        return self._records(np.asarray(pos, dtype=np.int64)) if len(pos) else []


def frame_records(df: pd.DataFrame, raw_lines: pd.Series | None = None) -> Callable[[np.ndarray], list[str]]:
    """Record builder for a DataFrame source; ``raw_lines`` (text or None per row) overrides it."""

    def build(pos: np.ndarray) -> list[str]:
        out = records_json(df, pos)
        if raw_lines is not None:
            raw = raw_lines.to_numpy()[pos]
            out = [
                json.dumps({"line": r}, ensure_ascii=False) if isinstance(r, str) else o
                for o, r in zip(out, raw, strict=True)
            ]
        return out

    return build


@dataclass
class Mapped:
    """Canonical rows of one table derived from one file, validated, with their accounting.

    Attributes
    ----------
    table, file : str
    loaded : pandas.DataFrame
        Validated canonical rows (typed, see ``validate``) plus ``_grp``.
    quarantined, warnings : pandas.DataFrame
        ``table, file, row, column, reason, record`` rows on *source* rows.
    rows_read, rows_loaded : int
    provided : list of str
        Canonical columns this source provides (``wh.record_provided``).
    writes : list of str
        Canonical columns whose values this source sets; the warehouse keeps its values of the other
        columns for existing keys (usually ``provided``).
    defaults : dict
        Values for columns not written, where the warehouse has none (``initiated_by = "unknown"``).
    source : str
        The report type and file (``amazon:<type>:<file>``), for messages; the provenance is recorded
        per seller (:func:`cxops.ingest.amazon.write.provenance_label`).
    failed : pandas.Series
        Validation reason by ``_grp`` for canonical rows that were rejected.
    first_row : pandas.Series
        First loaded source row number by ``_grp`` (where warnings on canonical rows are reported).
    version : pandas.Series, optional
        For ``orders`` of a report with last-updated times: ``order_id`` -> last-updated instant
        (the latest version of an order wins across files; :func:`cxops.ingest.amazon.write.supersede`).
    """

    table: str
    file: str
    loaded: pd.DataFrame
    quarantined: pd.DataFrame
    warnings: pd.DataFrame
    rows_read: int
    rows_loaded: int
    provided: list[str]
    source: str
    writes: list[str] = field(default_factory=list)
    defaults: dict = field(default_factory=dict)
    failed: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    first_row: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    version: pd.Series | None = None


def build(
    table: str,
    rows: Rows,
    scope,
    derived: pd.DataFrame,
    grp_of_row: np.ndarray,
    provided: list[str],
    source: str,
    writes: list[str] | None = None,
    defaults: dict | None = None,
) -> Mapped:
    """Validate ``derived`` and account every source row in ``scope``.

    Parameters
    ----------
    table : str
        Canonical table.
    rows : Rows
        Source rows with their rejections (rejected rows in scope are quarantined as they are).
    scope : array of bool
        Source rows that map to ``table``.
    derived : pandas.DataFrame
        Canonical columns plus ``_grp`` (unique per row).
    grp_of_row : numpy.ndarray
        Group of each source row (``-1`` for none); every accepted row in scope must have one.
    provided : list of str
    source : str
    writes : list of str, optional
        Columns whose values the source sets (default: ``provided``).
    defaults : dict, optional
        See :attr:`Mapped.defaults`.

    Returns
    -------
    Mapped

    Raises
    ------
    AssertionError
        If an accepted source row in scope has no group (a bug in a reader).
    """
    schema = TABLES[table]
    scope = np.asarray(scope, dtype=bool)
    grp_of_row = np.asarray(grp_of_row, dtype=np.int64)
    pre = scope & ~rows.ok
    member = scope & rows.ok
    if (grp_of_row[member] < 0).any():
        raise AssertionError(f"{rows.file} -> {table}: accepted source rows without a canonical row")
    derived = derived.reset_index(drop=True)
    res = validate(derived.drop(columns=GRP), schema, rows.file, first_row_number=0)
    bad_idx = res.quarantined["row"].to_numpy(dtype=np.int64)
    grp = derived[GRP].to_numpy(dtype=np.int64)
    failed = pd.Series(res.quarantined["reason"].to_numpy(), index=grp[bad_idx], dtype=object)
    fcol = pd.Series(res.quarantined["column"].to_numpy(), index=grp[bad_idx], dtype=object)
    loaded = res.loaded.copy()
    loaded[GRP] = np.delete(grp, bad_idx)

    mpos = np.flatnonzero(member)
    mgrp = grp_of_row[mpos]
    fail_m = np.isin(mgrp, failed.index.to_numpy())
    q_parts = []
    ppos = np.flatnonzero(pre)
    if len(ppos):
        q_parts.append(
            quarantine_rows(
                table,
                rows.file,
                rows.row[ppos],
                list(rows.column[ppos]),
                list(rows.reason[ppos]),
                rows.records(ppos),
            )
        )
    fpos = mpos[fail_m]
    if len(fpos):
        fg = grp_of_row[fpos]
        q_parts.append(
            quarantine_rows(
                table, rows.file, rows.row[fpos], list(fcol.loc[fg]), list(failed.loc[fg]), rows.records(fpos)
            )
        )
    quarantined = pd.concat(q_parts, ignore_index=True) if q_parts else _empty()
    quarantined = quarantined.sort_values("row", kind="stable").reset_index(drop=True)

    lpos = mpos[~fail_m]
    lmask = np.zeros(len(rows), dtype=bool)
    lmask[lpos] = True
    w_parts = [
        quarantine_rows(table, rows.file, rows.row[m & lmask], col, why)
        for m, col, why in rows.warn
        if (m & lmask).any()
    ]
    first_member = pd.Series(lpos, index=grp_of_row[lpos], dtype="int64").groupby(level=0).min()
    if len(res.warnings):
        wg = grp[res.warnings["row"].to_numpy(dtype=np.int64)]
        ok = np.isin(wg, first_member.index.to_numpy())
        w = res.warnings[ok].copy()
        w["row"] = rows.row[first_member.loc[wg[ok]].to_numpy()]
        w_parts.append(w)
    warnings = pd.concat(w_parts, ignore_index=True) if w_parts else _empty()
    return Mapped(
        table=table,
        file=rows.file,
        loaded=loaded,
        quarantined=quarantined,
        warnings=warnings,
        rows_read=int(scope.sum()),
        rows_loaded=len(lpos),
        provided=list(provided),
        source=source,
        writes=list(writes if writes is not None else provided),
        defaults=dict(defaults or {}),
        failed=failed,
        first_row=pd.Series(rows.row[first_member.to_numpy()], index=first_member.index, dtype="int64"),
    )


def one_to_one(rows: Rows, scope, derived: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Group ids when each accepted source row in ``scope`` yields one canonical row.

    ``derived`` has one row per source row (same order); returns the accepted rows with ``_grp`` =
    source position and the ``grp_of_row`` array for :func:`build`.
    """
    take = np.asarray(scope, dtype=bool) & rows.ok
    pos = np.flatnonzero(take)
    out = derived.iloc[pos].copy()
    out[GRP] = pos
    g = np.full(len(rows), -1, dtype=np.int64)
    g[pos] = pos
    return out.reset_index(drop=True), g
