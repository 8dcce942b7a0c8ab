"""Reading source files (CSV or Parquet) into raw pandas DataFrames.

Values are kept raw: a CSV is read with every column as a string and no "NA" guessing, so an empty
field stays an empty string (distinguishable from the text ``"NA"``); a UTF-8 byte-order mark is
stripped. A Parquet file keeps its Arrow types (nulls become ``NaN``/``NaT``/``None``).
Typing and validation happen later (:mod:`cxops.canonical.validate` or a source mapping).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cxops.errors import InputError

#: File suffixes the importers read.
SUFFIXES = (".csv", ".parquet")


class IngestError(InputError):
    """An input cannot be imported as a whole.

    Raised for an unreadable or missing file, a missing required table or column, or an ambiguous
    choice of files. The message names the file(s) involved.
    """


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv`` or ``.parquet`` file into a DataFrame of raw values.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. CSV: UTF-8 (a BOM is stripped), comma-separated, header line first, quoted
        fields may span lines. Parquet: any file pyarrow reads.

    Returns
    -------
    pandas.DataFrame
        CSV: every column a string column, empty fields as ``""``. Parquet: Arrow types converted by
        pyarrow. Column names are stripped of surrounding white space. Rows keep file order.

    Raises
    ------
    IngestError
        If the file does not exist, has another suffix, cannot be parsed, has a record with more or
        fewer fields than its header, or repeats a column name; the message names the file (and the
        records).
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            from cxops.ingest.scan import csv_header

            csv_header(path)  # an empty file or a repeated column name: a clear error
            _check_field_counts(path)
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig", index_col=False
            )
        elif suffix == ".parquet":
            table = pq.read_table(path)
            odd = [
                f"{f.name} ({f.type})"
                for f in table.schema
                if pa.types.is_nested(f.type)
                or pa.types.is_binary(f.type)
                or pa.types.is_large_binary(f.type)
            ]
            if odd:
                raise IngestError(
                    f"{path}: column(s) {', '.join(odd)} hold lists, structs or binary values, not one text, "
                    "number or time per row; nothing was imported"
                )
            df = table.to_pandas()
        else:
            raise IngestError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")
    except IngestError:
        raise
    except pd.errors.EmptyDataError:
        raise IngestError(f"{path}: the file is empty (a CSV needs at least a header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pa.ArrowException, OSError, ValueError) as e:
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise IngestError(f"{path}: cannot read as {kind}: {e}") from e
    except csv.Error as e:
        raise IngestError(f"{path}: cannot read as CSV: {e}") from e
    df.columns = [str(c).strip() for c in df.columns]
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        names = ", ".join(map(repr, dup))
        raise IngestError(f"{path}: column(s) {names} appear more than once in the header")
    return df


def _check_field_counts(path: Path) -> None:
    """Raise if a CSV record has more or fewer fields than the header (pandas would shift or pad it)."""
    import sys

    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long text field is a value, not an error
    bad: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        n = len(header)
        for record, fields in enumerate(reader, start=2):
            if fields and len(fields) != n:
                bad.append(f"record {record} has {len(fields)} fields")
                if len(bad) == 5:
                    break
    if bad:
        raise IngestError(
            f"{path}: the header has {n} fields but {'; '.join(bad)}"
            f"{' (first 5 shown)' if len(bad) == 5 else ''}: fix the file (a stray delimiter or quote?)"
        )


def first_row_number(path: str | Path) -> int:
    """Number reported for a file's first data row: 2 for a CSV (line 1 is the header), 1 for Parquet.

    CSV numbers count records, not physical lines (a quoted field may span lines).
    """
    return 2 if Path(path).suffix.lower() == ".csv" else 1


def find_table_file(directory: str | Path, stem: str) -> Path | None:
    """The file ``<stem>.csv`` or ``<stem>.parquet`` in ``directory``, if any.

    Raises
    ------
    IngestError
        If both exist (the message names both).
    """
    directory = Path(directory)
    found = [directory / f"{stem}{s}" for s in SUFFIXES if (directory / f"{stem}{s}").is_file()]
    if len(found) > 1:
        raise IngestError(f"both {found[0]} and {found[1]} exist for table {stem!r}: keep only one of them")
    return found[0] if found else None
