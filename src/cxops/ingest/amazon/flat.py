"""A split flat file as source rows: good lines and bad lines (wrong field count) in line order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxops.ingest.amazon.common import Context
from cxops.ingest.amazon.decode import lossy_mask
from cxops.ingest.amazon.mapped import Rows, frame_records
from cxops.ingest.amazon.reading import ReportFile
from cxops.ingest.amazon.tsv import Sheet
from cxops.ingest.files import IngestError

#: Reason of a data-quality flag for ``?`` in place of characters (C5c).
LOSSY = "'?' in place of characters: lossy upstream encoding, kept as is (not repaired)"


@dataclass
class Flat:
    """A flat file's rows: ``df`` (every column text, good and bad lines in line order), ``rows``."""

    df: pd.DataFrame
    rows: Rows
    sheet: Sheet

    def col(self, name: str) -> pd.Series:
        """Column ``name`` (header matched case-insensitively); empty strings if absent."""
        c = self.sheet.find(name)
        if c is None:
            return pd.Series("", index=self.df.index, dtype=object)
        return self.df[c]

    def has(self, name: str) -> bool:
        """Whether the report has column ``name``."""
        return self.sheet.find(name) is not None


def open_sheet(rf: ReportFile, ctx: Context, required: list[str], label: str) -> Flat:
    """The sheet of ``rf`` as a :class:`Flat` (every column text) with its :class:`Rows`.

    Bad lines are rows with empty fields, rejected with their reason (their quarantine ``record`` is
    ``{"line": raw text}``). Adds notes on quoting, blank lines, repeated headers, the charset used
    and lossy values (each flagged on its row).

    Raises
    ------
    IngestError
        If a column in ``required`` is missing (the message names the file and the columns found).
    """
    sh = rf.sheet
    assert sh is not None
    missing = [c for c in required if sh.find(c) is None]
    if missing:
        raise IngestError(
            f"{rf.file}: {label} report is missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(sh.header)})"
        )
    good = sh.df.copy()
    lines = sh.line
    raw = pd.Series([None] * len(good), dtype=object)
    if len(sh.bad):
        filler = pd.DataFrame("", index=range(len(sh.bad)), columns=sh.names, dtype=object)
        good = pd.concat([good, filler], ignore_index=True)
        lines = np.concatenate([lines, sh.bad["line"].to_numpy(dtype=np.int64)])
        raw = pd.concat([raw, sh.bad["text"].astype(object)], ignore_index=True)
    order = np.argsort(lines, kind="stable")
    df = good.iloc[order].reset_index(drop=True)
    raw = raw.iloc[order].reset_index(drop=True)
    rows = Rows(rf.file, lines[order], frame_records(df, raw))
    is_bad = raw.notna().to_numpy()
    if is_bad.any():
        reasons = pd.Series(dict(zip(sh.bad["line"], sh.bad["reason"], strict=True)))
        rows.reject(is_bad, "(line)", reasons.reindex(lines[order]).to_numpy())
        ctx.note(f"{rf.path.name}: {int(is_bad.sum()):,} lines with a wrong number of fields quarantined")
    _notes(rf, ctx)
    _flag_lossy(df, rows, ctx, rf)
    return Flat(df, rows, sh)


def _notes(rf: ReportFile, ctx: Context) -> None:
    sh, dec, name = rf.sheet, rf.decoded, rf.path.name
    if sh.quoted:
        ctx.note(f"{name}: fully quoted report: the wrapping quotes were removed (C7)")
    if sh.blank_lines:
        ctx.note(f"{name}: {sh.blank_lines:,} blank lines skipped")
    if sh.repeated_headers:
        ctx.note(f"{name}: {sh.repeated_headers:,} repeated header lines skipped (concatenated reports)")
    if dec.how == "fallback":
        ctx.note(f"{name}: not valid UTF-8 and no charset given: decoded as {dec.encoding}")


def _flag_lossy(df: pd.DataFrame, rows: Rows, ctx: Context, rf: ReportFile) -> None:
    total = 0
    for col in df.columns:
        hit = lossy_mask(df[col]).to_numpy()
        if hit.any():
            rows.flag(hit, str(col), LOSSY)
            total += int(hit.sum())
    if total:
        ctx.note(
            f"{rf.path.name}: {total:,} values with '?' in place of characters (lossy upstream encoding; C5)"
        )


def quote(values: pd.Series) -> pd.Series:
    """``'value'`` texts for messages."""
    return "'" + values.astype("string").fillna("") + "'"
