"""Machine-readable outputs: Parquet, CSV and JSON Lines, to files or to a stream.

Conventions (the same for every output frame):

- long format, one result per row, columns as given (no renaming, no rounding);
- dates and timestamps as ISO 8601 text in CSV and JSONL (``2024-06-30``, ``2024-06-30T13:05:00``);
  Parquet keeps native ``date32``/``timestamp`` types;
- columns holding dicts or lists (``reason_params``, ``detail`` …) become JSON strings in Parquet and
  CSV (keys sorted, UTF-8 kept); in JSONL they stay nested objects;
- nulls are empty cells in CSV, ``null`` in JSONL and Parquet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
DEFAULT_FILE_FORMATS: tuple[str, ...] = ("parquet", "csv")


def _is_nested(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return _iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    if hasattr(value, "tolist"):  # numpy array
        return value.tolist()
    return str(value)


def json_dumps(value: Any) -> str:
    """Serialise a value as compact JSON (sorted keys, UTF-8 kept, dates ISO)."""
    return json.dumps(
        _clean(value), ensure_ascii=False, sort_keys=True, default=_json_default, separators=(",", ":")
    )


def _iso(value: dt.datetime | pd.Timestamp) -> str:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if value.tzinfo is None and value.time() == dt.time(0):
        return value.date().isoformat()
    return value.isoformat()


def _clean(value: Any) -> Any:
    """A JSON-ready Python value: NaN/NA/NaT → None, numpy scalars → Python, dates → ISO."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return _iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def json_columns(df: pd.DataFrame) -> list[str]:
    """Object columns holding at least one dict or list."""
    out = []
    for col in df.columns:
        s = df[col]
        if s.dtype == object and s.map(_is_nested).any():
            out.append(col)
    return out


def _serialise_nested(df: pd.DataFrame) -> pd.DataFrame:
    cols = json_columns(df)
    if not cols:
        return df
    df = df.copy()
    for col in cols:
        df[col] = df[col].map(lambda v: json_dumps(v) if _is_nested(v) else (None if _null(v) else v))
    return df


def _null(value: Any) -> bool:
    if value is None:
        return True
    try:
        out = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(out) if isinstance(out, bool) else False


def _date_text(s: pd.Series) -> pd.Series:
    """A datetime64 column as ISO text (date only when every value is at midnight and tz-naive)."""
    if getattr(s.dt, "tz", None) is None:
        valid = s.dropna()
        if (valid == valid.dt.normalize()).all():
            return s.dt.strftime("%Y-%m-%d").where(s.notna(), None)
    return s.map(lambda v: None if pd.isna(v) else v.isoformat())


#: Columns that hold counts (whole numbers) whatever the metric: written ``9``, not ``9.0``, in CSV/JSONL.
COUNT_COLUMNS = ("numerator", "denominator", "min_denominator")
#: Columns that hold a count when the row's metric is of kind ``count`` or ``days``.
VALUE_COLUMNS = ("value", "threshold")


def integral_counts(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with counts as integers for text outputs (CSV, JSONL): ``9``, not ``9.0``.

    Float columns :data:`COUNT_COLUMNS` whose values are all whole become nullable integers; in
    :data:`VALUE_COLUMNS`, the cells of rows whose ``metric`` is a count or a number of days (catalog
    kind) become Python ints. Parquet keeps the frame's types.
    """
    from cxops.report.format import METRIC_KINDS

    out = None
    for col in COUNT_COLUMNS:
        if col in df.columns and pd.api.types.is_float_dtype(df[col]):
            s = df[col]
            vals = s.dropna()
            if len(vals) and (vals == vals.round()).all() and vals.abs().max() < 2**53:
                out = df.copy() if out is None else out
                out[col] = s.astype("Int64")
    if "metric" in df.columns:
        kinds = df["metric"].map(lambda m: METRIC_KINDS.get(m) in ("count", "days"))
        counted = kinds.fillna(False).astype(bool)
        for col in VALUE_COLUMNS:
            if col in df.columns and counted.any() and pd.api.types.is_numeric_dtype(df[col]):
                out = df.copy() if out is None else out
                whole = (counted & df[col].notna() & (df[col] == df[col].round())).tolist()
                vals = df[col].tolist()
                cells = [int(v) if w else v for v, w in zip(vals, whole, strict=True)]
                out[col] = pd.Series(cells, index=df.index, dtype=object)
    return df if out is None else out


def prepare_for_text(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as written to CSV: nested values as JSON strings, dates as ISO text, counts as integers
    (:func:`integral_counts`)."""
    df = _serialise_nested(integral_counts(df))
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = _date_text(s)
        elif s.dtype == object:  # a list, not Series.map: that would make the ints of a mixed column floats
            out[col] = pd.Series(
                [
                    _iso(v)
                    if isinstance(v, dt.datetime | pd.Timestamp)
                    else (v.isoformat() if isinstance(v, dt.date) else v)
                    for v in s.tolist()
                ],
                index=s.index,
                dtype=object,
            )
    return out


def prepare_for_parquet(df: pd.DataFrame) -> pa.Table:
    """The frame as written to Parquet: nested values as JSON strings, mixed object columns as text.

    Returns
    -------
    pyarrow.Table
    """
    df = _serialise_nested(df)
    arrays = []
    names = []
    for col in df.columns:
        s = df[col]
        try:
            arr = pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            arr = pa.array(s.map(lambda v: None if _null(v) else str(v)), type=pa.string(), from_pandas=True)
        arrays.append(arr)
        names.append(str(col))
    return pa.Table.from_arrays(arrays, names=names)


def to_csv(df: pd.DataFrame) -> str:
    """The frame as CSV text (header row, ``\\n`` line ends, UTF-8 text, nulls empty)."""
    return prepare_for_text(df).to_csv(index=False, lineterminator="\n")


def iter_jsonl(df: pd.DataFrame) -> Iterator[str]:
    """Yield one JSON line (without newline) per row; nested values stay objects; counts are integers
    (:func:`integral_counts`)."""
    df = integral_counts(df)
    cols = [str(c) for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        record = {c: _clean(v) for c, v in zip(cols, row, strict=True)}
        yield json.dumps(record, ensure_ascii=False, default=_json_default)


def to_jsonl(df: pd.DataFrame) -> str:
    """The frame as JSON Lines text (one object per row, ``\\n`` after each)."""
    return "".join(line + "\n" for line in iter_jsonl(df))


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    """The frame as a Parquet file in memory."""
    buf = io.BytesIO()
    pq.write_table(prepare_for_parquet(df), buf)
    return buf.getvalue()


def write_frame(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """Write one frame to ``path`` in ``fmt`` (default: from the file extension).

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path
    fmt : {"parquet", "csv", "jsonl"}, optional

    Returns
    -------
    Path
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(prepare_for_parquet(df), path)
    elif fmt == "csv":
        path.write_text(to_csv(df), encoding="utf-8")
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for line in iter_jsonl(df):
                fh.write(line + "\n")
    else:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return path


def write_outputs(
    out_dir: str | Path,
    frames: Mapping[str, pd.DataFrame],
    formats: tuple[str, ...] | list[str] = DEFAULT_FILE_FORMATS,
) -> dict[str, list[Path]]:
    """Write each frame as ``<out_dir>/<name>.<format>`` for every format.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    frames : mapping of str to DataFrame
        E.g. ``{"metrics": ..., "criteria": ..., "statuses": ..., "transitions": ..., "benefits": ...}``;
        ``None`` values are skipped.
    formats : sequence of str, default ("parquet", "csv")

    Returns
    -------
    dict
        Frame name → written paths, in ``formats`` order.
    """
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for name, df in frames.items():
        if df is None:
            continue
        written[name] = [write_frame(df, out / f"{name}.{fmt}", fmt) for fmt in formats]
    return written


def dump(df: pd.DataFrame, fmt: str, stream: IO | None = None) -> None:
    """Write a frame to a stream (stdout by default) as ``jsonl``, ``csv`` or ``parquet``.

    Parquet is binary: it goes to ``stream.buffer`` when the stream is a text stream.
    """
    fmt = fmt.lower()
    stream = stream if stream is not None else sys.stdout
    if fmt == "jsonl":
        for line in iter_jsonl(df):
            stream.write(line + "\n")
    elif fmt == "csv":
        stream.write(to_csv(df))
    elif fmt == "parquet":
        data = to_parquet_bytes(df)
        target = getattr(stream, "buffer", stream)
        target.write(data)
    else:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if hasattr(stream, "flush"):
        stream.flush()


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read back a file written by :func:`write_frame` (Parquet, CSV or JSONL) as text-faithful data.

    CSV and JSONL cells come back as strings/numbers as parsed by pandas; JSON columns stay strings in
    CSV/Parquet.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt == "parquet":
        return pq.read_table(path).to_pandas()
    if fmt == "csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    raise ValueError(f"unknown output format {fmt!r}")


# -- atomic outputs ------------------------------------------------------------------------------

MANIFEST = "manifest.json"
_STAGING = ".cxops-tmp-"
_RETIRED = ".cxops-old-"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def count_rows(path: Path) -> int | None:
    """Data rows of an output file: Parquet from its footer, CSV and JSONL by counting lines (a CSV
    header is not a row; a quoted field spanning lines is followed); None for other files."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "jsonl":
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    if fmt == "csv":
        import csv

        with path.open(newline="", encoding="utf-8") as fh:
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    return None


def write_manifest(
    folder: str | Path,
    extra: Mapping[str, Any] | None = None,
    rows: Mapping[str, int] | None = None,
    digests: Mapping[str, str] | None = None,
) -> Path:
    """Write ``manifest.json`` listing every file of ``folder`` (recursively) with its size, rows and
    SHA-256.

    Parameters
    ----------
    folder : str or Path
    extra : mapping, optional
        More top-level fields (run id, policy …).
    rows : mapping, optional
        Rows of files already known (relative path -> rows), e.g. counted by the engine that wrote
        them; the others are counted (:func:`count_rows`).
    digests : mapping, optional
        SHA-256 (hex) of files already known (relative path -> digest), e.g. computed by the thread
        that wrote them; the others are read (:func:`sha256_file`).

    Returns
    -------
    Path
        The manifest.
    """
    folder = Path(folder)
    files = []
    rows, digests = rows or {}, digests or {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        name = path.relative_to(folder).as_posix()
        files.append(
            {
                "path": name,
                "bytes": path.stat().st_size,
                "rows": rows.get(name, None) or count_rows(path),
                "sha256": digests.get(name) or sha256_file(path),
            }
        )
    doc = {"manifest_version": 1, **(dict(extra) if extra else {}), "files": files}
    out = folder / MANIFEST
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return out


def verify_manifest(folder: str | Path) -> list[str]:
    """Problems of ``folder`` against its manifest (empty when every file is there, complete and
    unchanged, and no file is unlisted)."""
    folder = Path(folder)
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"no readable {MANIFEST} in {folder}: {e}"]
    problems = []
    listed = set()
    for f in doc.get("files", []):
        path = folder / f["path"]
        listed.add(f["path"])
        if not path.is_file():
            problems.append(f"{f['path']}: missing")
        elif path.stat().st_size != f["bytes"] or sha256_file(path) != f["sha256"]:
            problems.append(f"{f['path']}: changed (size or SHA-256 differs)")
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and path.name != MANIFEST and rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    return problems


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import os

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot swap
            return False
        raise OSError(err, os.strerror(err), str(b))
    return True


def check_output_folder(target: str | Path) -> Path:
    """``target`` as an output folder: fails early when it is a file or its parent cannot be written.

    Raises
    ------
    cxops.errors.OutputError
    """
    from cxops.errors import OutputError

    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"--out {target} is a file, not a folder",
            hint="give a folder name (it is created, or replaced when complete)",
        )
    parent = target.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"--out {target}: {parent} is not a folder")
    return target


class AtomicFolder:
    """Write a folder of outputs all-or-nothing.

    Files are written into a temporary folder beside ``target`` (same file system); :meth:`commit`
    adds ``manifest.json`` (every file, its rows and SHA-256) and puts the folder in place: an atomic
    swap with the old folder where the system has one (Linux), else two renames. The old folder is
    replaced only after the new one is complete; a process killed at any point leaves ``target`` as
    the old complete folder or the new complete one (plus a hidden leftover beside it, removed by the
    next write). Used as a context manager, an exception discards the temporary folder.

    Raises
    ------
    cxops.errors.OutputError
        When ``target`` is a file, or the folder cannot be written (no space, no permission).
    """

    def __init__(self, target: str | Path):
        import uuid

        self.target = check_output_folder(target).absolute()
        parent = self.target.parent
        self._cleanup(parent)
        self.path = parent / f"{_STAGING}{self.target.name}-{uuid.uuid4().hex[:8]}"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()
        except OSError as e:
            raise _output_error(e, self.target) from None

    def _cleanup(self, parent: Path) -> None:
        """Remove leftovers of earlier killed writes of this target (never another target's)."""
        import shutil

        if not parent.is_dir():
            return
        for p in parent.iterdir():
            for prefix in (_STAGING, _RETIRED):
                if p.name.startswith(f"{prefix}{self.target.name}-") and p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)

    def commit(
        self,
        extra: Mapping[str, Any] | None = None,
        rows: Mapping[str, int] | None = None,
        digests: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the manifest (see :func:`write_manifest`) and put the folder in place; returns ``target``."""
        import os
        import shutil
        import uuid

        try:
            write_manifest(self.path, extra, rows, digests)
            _fsync_tree(self.path)
            if not self.target.exists():
                os.rename(self.path, self.target)
            elif _exchange(self.path, self.target):
                shutil.rmtree(self.path, ignore_errors=True)  # now the old folder
            else:
                retired = self.target.parent / f"{_RETIRED}{self.target.name}-{uuid.uuid4().hex[:8]}"
                os.rename(self.target, retired)
                os.rename(self.path, self.target)
                shutil.rmtree(retired, ignore_errors=True)
        except OSError as e:
            self.discard()
            raise _output_error(e, self.target) from None
        return self.target

    def discard(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> AtomicFolder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()


def _fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` to disk before it is renamed into place."""
    import os

    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())


def _output_error(e: OSError, target: Path):
    from cxops.errors import OutputError

    return OutputError(f"cannot write {target}: {e.strerror or e}")


def write_frame_atomic(df: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    """:func:`write_frame` all-or-nothing: to a temporary name beside ``path``, then renamed over it.

    A path that is not a regular file (``/dev/stdout``, a pipe, a device) is written in place.

    Raises
    ------
    cxops.errors.OutputError
        When ``path`` is a folder, or cannot be written (no space, no permission).
    """
    import os
    import uuid

    from cxops.errors import OutputError

    path = Path(path)
    if path.is_dir():
        raise OutputError(f"--out {path} is a folder; give a file name (.parquet, .csv or .jsonl)")
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    try:
        if path.exists() and not path.is_file():  # a device or a pipe: no rename over it
            return write_frame(df, path, fmt)
        tmp = path.with_name(f"{_STAGING}{path.name}-{uuid.uuid4().hex[:8]}")
        try:
            write_frame(df, tmp, fmt)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise _output_error(e, path) from None
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` all-or-nothing (a temporary name beside it, then a rename).

    Raises
    ------
    cxops.errors.OutputError
        When ``path`` is a folder, or cannot be written.
    """
    import os
    import uuid

    from cxops.errors import OutputError

    path = Path(path)
    if path.is_dir():
        raise OutputError(f"--out {path} is a folder; give a file name")
    try:
        if path.exists() and not path.is_file():
            path.write_text(text, encoding="utf-8")
            return path
        tmp = path.with_name(f"{_STAGING}{path.name}-{uuid.uuid4().hex[:8]}")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as e:
        raise _output_error(e, path) from None
    return path
