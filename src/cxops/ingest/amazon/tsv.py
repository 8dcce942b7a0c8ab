"""A tolerant splitter for Amazon's tab-separated flat-file reports.

Amazon flat files hold one record per line and do not escape double quotes in values, so a generic CSV
reader merges or shifts rows at the first stray ``"`` (case C7: Python's default dialect folds order
111-0000003 into the product name of 111-0000002; airbytehq/airbyte #38465, fixed with
``QUOTE_NONE``). Some reports are instead *fully* quoted (amzn/selling-partner-api-models #1068).
So quoting is detected **per file**:

* **plain** (the default): each line is split on tabs; quotes are kept literally;
* **quoted**: when every field of the header line (or of every sampled data line) is wrapped in
  ``"…"``, the wrapping quotes are stripped and ``""`` becomes ``"``, field by field. A line is still
  one record, so a damaged line can only damage itself.

Other tolerances: ``\\r\\n`` / ``\\r`` line ends; blank (or all-tab) lines skipped and counted;
trailing empty header names and trailing empty fields (a trailing tab) dropped; lines repeating the
header (reports concatenated by a downloader) skipped and counted. A line whose field count still
differs from the header's is a *bad line*: quarantined by the readers with its line number, never
padded or merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_SAMPLE = 20


@dataclass
class Sheet:
    """One tab-separated report split into fields.

    Attributes
    ----------
    file : str
    header : list of str
        Header names as in the file (unquoted, stripped).
    names : list of str
        Unique column names of :attr:`df` (a repeated header name gets a ``.2``, ``.3`` suffix).
    df : pandas.DataFrame
        One row per good data line, every column a string.
    line : numpy.ndarray
        Physical line number (1-based; the header is usually line 1) of each row of :attr:`df`.
    bad : pandas.DataFrame
        Lines with a wrong field count: ``line`` (int), ``reason`` (str), ``text`` (the raw line).
    quoted : bool
        Whether the file was detected as fully quoted.
    blank_lines, repeated_headers : int
    """

    file: str
    header: list[str]
    names: list[str]
    df: pd.DataFrame
    line: np.ndarray
    bad: pd.DataFrame
    quoted: bool = False
    blank_lines: int = 0
    repeated_headers: int = 0
    notes: list[str] = field(default_factory=list)

    def find(self, name: str) -> str | None:
        """The column of :attr:`df` whose header is ``name`` (case- and space-insensitive), if any."""
        want = _norm(name)
        for n, h in zip(self.names, self.header, strict=True):
            if _norm(h) == want:
                return n
        return None

    def column(self, name: str) -> pd.Series:
        """Column ``name`` (see :meth:`find`); all-empty strings when the report has no such column."""
        col = self.find(name)
        if col is None:
            return pd.Series("", index=self.df.index, dtype=object)
        return self.df[col]


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with ``\\r\\n``, ``\\n`` or ``\\r`` line ends (a lone ``\\r`` only in a file
    without ``\\n``)."""
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    lines = text.split("\n")
    return [s[:-1] if s.endswith("\r") else s for s in lines]


def _wrapped(f: str) -> bool:
    return len(f) >= 2 and f[0] == '"' and f[-1] == '"'


def _fully_quoted(fields: list[str]) -> bool:
    return bool(fields) and all(_wrapped(f) for f in fields)


def _unquote(fields: list[str]) -> list[str]:
    return [f[1:-1].replace('""', '"') if _wrapped(f) else f for f in fields]


def is_blank(line: str) -> bool:
    """A line with nothing but white space and tabs."""
    return not line.strip()


def split_tsv(text: str, file: str) -> Sheet:
    """Split a tab-separated report (see the module docstring).

    Parameters
    ----------
    text : str
        Decoded text (BOM already stripped).
    file : str
        Name used in messages.

    Returns
    -------
    Sheet
        With no data rows for a header-only file.

    Raises
    ------
    ValueError
        If there is no header line (an empty file); callers treat that as "no data" earlier.
    """
    lines = split_lines(text)
    idx = [i for i, s in enumerate(lines) if not is_blank(s)]
    if not idx:
        raise ValueError(f"{file}: no header line")
    h = idx[0]
    raw_header = lines[h].split("\t")
    data_idx = idx[1:]
    sample = [lines[i].split("\t") for i in data_idx[:_SAMPLE]]
    quoted = _fully_quoted(raw_header) or (bool(sample) and all(_fully_quoted(f) for f in sample))
    header = [x.strip() for x in (_unquote(raw_header) if quoted else raw_header)]
    while header and header[-1] == "":
        header.pop()
    n = len(header)
    rows: list[list[str]] = []
    line_no: list[int] = []
    bad: list[tuple[int, str, str]] = []
    repeated = 0
    header_line = lines[h]
    for i in data_idx:
        s = lines[i]
        if s == header_line:
            repeated += 1
            continue
        fields = s.split("\t")
        if quoted:
            fields = _unquote(fields)
        if len(fields) > n and not any(fields[n:]):
            fields = fields[:n]
        if len(fields) != n:
            bad.append((i + 1, f"line has {len(fields)} tab-separated fields, the header has {n}", s))
            continue
        rows.append(fields)
        line_no.append(i + 1)
    names = _unique(header)
    df = (
        pd.DataFrame(rows, columns=names, dtype=object) if rows else pd.DataFrame(columns=names, dtype=object)
    )
    return Sheet(
        file=file,
        header=header,
        names=names,
        df=df.reset_index(drop=True),
        line=np.asarray(line_no, dtype=np.int64),
        bad=pd.DataFrame(bad, columns=["line", "reason", "text"]),
        quoted=quoted,
        blank_lines=len(lines) - len(idx) - (1 if lines and lines[-1] == "" else 0),
        repeated_headers=repeated,
    )


def _unique(names: list[str]) -> list[str]:
    taken: set[str] = set()
    out = []
    for name in names:
        new, k = name, 1
        while new in taken:
            k += 1
            new = f"{name}.{k}"
        taken.add(new)
        out.append(new)
    return out
