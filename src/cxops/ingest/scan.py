"""Source files as relations of the staging area: every value as it is in the file, with its row number.

* **CSV**: UTF-8 (a byte-order mark is stripped), comma-separated, ``"`` quotes (doubled inside),
  header line first, quoted fields may span lines; every column is read as text, nothing guessed.
  The header is read first: a repeated column name (after trimming) or an unreadable header stops the
  import naming the file. A record with more or fewer fields than the header, invalid UTF-8 or a line
  longer than :data:`MAX_LINE_BYTES` stops it naming the file and the line. Row numbers count
  records: the first data record is row 2 (blank lines are skipped).
* **Parquet**: any file DuckDB reads; columns keep their types. A contract column that is a list,
  struct or map, or binary, stops the import with the column named (it is never flattened into text).
  The first row is row 1.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxops.canonical.rules import ident, literal, unreadable_type
from cxops.ingest.files import IngestError

#: Longest CSV line accepted (bytes). A longer one is refused with its line number.
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class Scan:
    """One source file as a relation.

    Attributes
    ----------
    path : pathlib.Path
    relation : str
        SQL relation with ``_row`` and the source columns (names trimmed).
    columns : list of (str, str)
        Source column names and SQL types, in file order.
    kind : str
        ``CSV`` or ``Parquet``.
    """

    path: Path
    relation: str
    columns: list[tuple[str, str]]
    kind: str

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]


def csv_header(path: Path) -> list[str]:
    """The header names of a CSV file, trimmed.

    Raises
    ------
    IngestError
        Empty file, undecodable header, or a repeated column name.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        # the rest of the file is decoded by the engine: here only the header must be UTF-8
        with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as f:
            header = next(csv.reader(f), None)
    except (csv.Error, OSError) as e:
        raise IngestError(f"{path}: cannot read as CSV: {e}") from None
    finally:
        csv.field_size_limit(limit)
    if header is None:
        raise IngestError(f"{path}: the file is empty (a CSV needs at least a header line)")
    if any(any("\udc80" <= ch <= "\udcff" for ch in h) for h in header):
        raise IngestError(f"{path}: the header is not UTF-8 text; save the file as UTF-8")
    names = [h.strip() or f"column{i + 1}" for i, h in enumerate(header)]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise IngestError(
            f"{path}: column(s) {', '.join(map(repr, dup))} appear more than once in the header",
            hint="rename or remove the repeated column: its values would otherwise be lost",
        )
    return names


def scan_file(con: duckdb.DuckDBPyConnection, path: str | Path) -> Scan:
    """The file as a relation of the staging connection ``con`` (see the module docstring).

    Raises
    ------
    IngestError
        Unreadable file or header, unsupported suffix (see :func:`csv_header`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        names = csv_header(path)
        cols = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
        rel = (
            f"(SELECT row_number() OVER () + 1 AS _row, * FROM read_csv({literal(str(path))}, header=true, "
            f"columns={cols}, auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true, "
            f"null_padding=false, all_varchar=true, max_line_size={MAX_LINE_BYTES}))"
        )
        return Scan(path, rel, [(n, "VARCHAR") for n in names], "CSV")
    if suffix == ".parquet":
        src = f"read_parquet({literal(str(path))}, file_row_number=true)"
        try:
            desc = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})").fetchall()
        except duckdb.Error as e:
            raise IngestError(f"{path}: cannot read as Parquet: {_first_line(e)}") from None
        raw = [(r[0], r[1]) for r in desc]
        names = [n.strip() for n, _ in raw]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise IngestError(f"{path}: column(s) {', '.join(map(repr, dup))} appear more than once")
        sel = ", ".join(f"{ident(n)} AS {ident(n.strip())}" for n, _ in raw)
        rel = f"(SELECT file_row_number + 1 AS _row{', ' + sel if sel else ''} FROM {src})"
        return Scan(path, rel, [(n.strip(), t) for n, t in raw], "Parquet")
    raise IngestError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")


def check_types(scan: Scan, contract: list[str]) -> list[str]:
    """Raise if a contract column of ``scan`` is nested or binary; return the other columns that are
    (dropped from the scan, they are not contract columns).

    Raises
    ------
    IngestError
        Naming the file and the column.
    """
    dropped = []
    for name, typ in scan.columns:
        problem = unreadable_type(typ)
        if problem and name in contract:
            raise IngestError(f"{scan.path}: column {name} {problem}; nothing was imported")
        if problem:
            dropped.append(name)
    if dropped:
        scan.columns = [(n, t) for n, t in scan.columns if n not in dropped]
    return dropped


_LINE = re.compile(r"on Line: (\d+)", re.IGNORECASE)
_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)", re.IGNORECASE)


def read_error(scan: Scan, e: Exception) -> IngestError:
    """A clear :class:`IngestError` for a DuckDB error raised while reading ``scan``."""
    msg = str(e)
    line = _LINE.search(msg)
    where = f" on line {line.group(1)}" if line else ""
    counts = _COUNTS.search(msg)
    if counts:
        return IngestError(
            f"{scan.path}: the header has {counts.group(1)} fields but the record{where} has "
            f"{counts.group(2)}: fix the file (a stray delimiter or quote?); nothing was imported"
        )
    if "unicode" in msg.lower() or "utf-8" in msg.lower():
        return IngestError(f"{scan.path}: not UTF-8 text{where}; save it as UTF-8; nothing was imported")
    if "maximum line size" in msg.lower():
        return IngestError(
            f"{scan.path}: a line{where} is longer than {MAX_LINE_BYTES // 2**20} MiB; nothing was imported"
        )
    if "unterminated quote" in msg.lower() or "quote" in msg.lower():
        return IngestError(f"{scan.path}: an unterminated quoted field{where}; nothing was imported")
    return IngestError(f"{scan.path}: cannot read as {scan.kind}: {_first_line(e)}; nothing was imported")


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
