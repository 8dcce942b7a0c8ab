"""Validation of canonical rows held in a DataFrame (the mapped rows of a source-specific importer).

Every row read ends up either *loaded* or *quarantined* with the file, row, column and reason;
nothing is dropped or coerced silently. The checks are the contract's rules compiled once
(:mod:`cxops.canonical.rules`): required columns present, required values non-null, types parse,
enumerations, numeric bounds, IANA zones, plausible instants, row-level orderings
(``received_at <= first_response_at`` …; see :class:`cxops.canonical.schema.Ordering`), and key
uniqueness within the input (the first occurrence is kept). Unknown extra columns are kept (passed
through unchanged). The canonical files importer runs the same compiled rules on the file scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from cxops.canonical.rules import RuleContext, compile_checks, ident, literal, unreadable_type
from cxops.canonical.schema import TableSchema
from cxops.errors import InputError

QUARANTINE_COLUMNS = ["table", "file", "row", "column", "reason", "record"]


class SchemaError(InputError):
    """A whole input does not fit its table (for example a required column is missing).

    The message names the file and the column(s).
    """


@dataclass
class ValidationResult:
    """Outcome of validating one input of one canonical table.

    Attributes
    ----------
    table : str
        Canonical table name.
    file : str
        Source file (or a description of the source).
    rows_read : int
    loaded : pandas.DataFrame
        Valid rows in canonical dtypes: timestamps as UTC-naive ``datetime64[us]``, dates as
        ``datetime64`` at midnight, ints as ``Int64``, floats as ``Float64``, bools as ``boolean``,
        strings as ``object``. Extra columns are kept.
    quarantined : pandas.DataFrame
        Columns ``table, file, row, column, reason, record`` (``record`` is the original row as JSON).
        One row per rejected input row (the first reason found).
    warnings : pandas.DataFrame
        Same columns; rows that were loaded but carry a data-quality flag.
    """

    table: str
    file: str
    rows_read: int
    loaded: pd.DataFrame
    quarantined: pd.DataFrame
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUARANTINE_COLUMNS))

    @property
    def rows_loaded(self) -> int:
        return len(self.loaded)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantined)


def iana_zones() -> frozenset[str]:
    """Valid IANA time zone names (``zoneinfo``)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def duplicate_reason(key: tuple[str, ...], alias: str, first_sql: str) -> str:
    """SQL of the reason of a row repeating an earlier row's key (``first_sql``: that row's number):
    ``duplicate key ('seller_id', 'order_id')=('S1', 'O1') (first at row 2)``."""
    return (
        f"{literal(f'duplicate key {key!r}=(')} || {key_text_sql(key, alias)} || ') (first at row ' || "
        f"CAST({first_sql} AS VARCHAR) || ')'"
    )


def key_text_sql(key: tuple[str, ...], alias: str = "") -> str:
    """SQL text of a key tuple, e.g. ``'S1', 'O1'``."""
    pre = f"{alias}." if alias else ""
    return " || ', ' || ".join(f"'''' || CAST({pre}{ident(k)} AS VARCHAR) || ''''" for k in key)


def validate(
    df: pd.DataFrame,
    schema: TableSchema,
    file: str,
    first_row_number: int = 2,
    known_keys: pd.DataFrame | None = None,
    imported_at: datetime | None = None,
) -> ValidationResult:
    """Validate and type one input of a canonical table.

    Parameters
    ----------
    df : pandas.DataFrame
        Raw rows (strings or already-typed values), in input order.
    schema : TableSchema
        The canonical table.
    file : str
        Name of the source, used in every message.
    first_row_number : int
        Row number reported for ``df``'s first row (2 for a CSV with a header line; 1 for Parquet).
    known_keys : pandas.DataFrame, optional
        Not used (re-imports replace by key); kept for compatibility.
    imported_at : datetime.datetime, optional
        The import's instant (UTC, naive) for the plausibility bounds; default now.

    Returns
    -------
    ValidationResult

    Raises
    ------
    SchemaError
        When a required column is missing from the input, or a contract column holds nested or
        binary values (nothing is loaded from it).
    """
    missing = [c for c in schema.required_columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{file}: table {schema.name} is missing required column(s) {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns))})"
        )
    df = df.reset_index(drop=True)
    con = ibis.duckdb.connect()
    raw = con.con
    raw.execute("SET TimeZone='UTC'")
    contract = [c for c in df.columns if c in schema.column_names]
    arrow = _to_arrow(df[contract], file)
    raw.register("src", arrow)
    types = {r[0]: r[1] for r in raw.execute("DESCRIBE src").fetchall()}
    cols = [(c, types[c]) for c in contract]
    for c, t in cols:
        problem = unreadable_type(t)
        if problem:
            raise SchemaError(f"{file}: column {c} {problem}")
    source = f"(SELECT row_number() OVER () - 1 + {int(first_row_number)} AS _row, * FROM src)"
    ctx = RuleContext(imported_at or datetime.now(UTC).replace(tzinfo=None), zones=iana_zones())
    q = compile_checks(schema, source, cols, ctx)
    raw.execute(f"CREATE TEMP TABLE checked AS {q.sql}")
    key = schema.key
    keys = ", ".join(ident(k) for k in key)
    on = " AND ".join(f"c.{ident(k)} = d.{ident(k)}" for k in key)
    raw.execute(
        f"CREATE TEMP TABLE dups AS SELECT {keys}, min(_row) AS _first FROM checked WHERE _reason IS NULL "
        f"GROUP BY {keys} HAVING count(*) > 1"
    )
    why = duplicate_reason(key, "c", "d._first")
    raw.execute(
        f"UPDATE checked AS c SET _reason = {why}, _column = {literal(','.join(key))} FROM dups AS d "
        f"WHERE {on} AND c._row > d._first AND c._reason IS NULL"
    )
    out = raw.execute("SELECT * FROM checked ORDER BY _row").arrow().read_all()
    con.disconnect()
    full = _to_pandas(out)
    rows = full["_row"].to_numpy(dtype=np.int64)
    bad = full["_reason"].notna().to_numpy()
    pos = rows - int(first_row_number)
    records = full["_record"].to_numpy(dtype=object)
    # a duplicate has no JSON record yet (its reason came after the checks): build it here
    need = bad & pd.isna(full["_record"]).to_numpy()
    if need.any():
        records = records.copy()
        records[need] = _records_json(df, pos[need])
    quarantined = pd.DataFrame(
        {
            "table": schema.name,
            "file": file,
            "row": rows[bad],
            "column": full["_column"].to_numpy(dtype=object)[bad],
            "reason": full["_reason"].to_numpy(dtype=object)[bad],
            "record": records[bad],
        },
        columns=QUARANTINE_COLUMNS,
    )
    warn_parts = []
    for i, (column, reason) in enumerate(q.warnings):
        flag = full[f"_w{i}"].to_numpy(dtype=bool) & ~bad
        if flag.any():
            warn_parts.append(
                pd.DataFrame(
                    {
                        "table": schema.name,
                        "file": file,
                        "row": rows[flag],
                        "column": column,
                        "reason": reason,
                        "record": None,
                    },  # fmt: skip
                    columns=QUARANTINE_COLUMNS,
                )
            )
    warnings = (
        pd.concat(warn_parts, ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
        if warn_parts
        else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    )
    loaded = full.loc[~bad, [c.name for c in schema.columns if c.name in df.columns]].reset_index(drop=True)
    extra = [c for c in df.columns if c not in schema.column_names]
    for c in extra:
        loaded[c] = df[c].to_numpy()[pos[~bad]]
    return ValidationResult(schema.name, file, len(df), loaded, quarantined, warnings)


def _to_arrow(df: pd.DataFrame, file: str) -> pa.Table:
    """The frame as Arrow; object columns mixing types become text (as a CSV would hold them)."""
    arrays, names = [], []
    for c in df.columns:
        s = df[c]
        try:
            arr = pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arr = pa.array([None if _isna(v) else str(v) for v in s.tolist()], type=pa.string())
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        arrays.append(arr)
        names.append(str(c))
    return pa.Table.from_arrays(arrays, names=names)


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


_PANDAS = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}


def _to_pandas(t: pa.Table) -> pd.DataFrame:
    df = t.to_pandas(types_mapper=_PANDAS.get, date_as_object=False)
    for name, typ in zip(t.column_names, t.schema.types, strict=True):
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            df[name] = df[name].astype(object).where(df[name].notna(), None)
        elif pa.types.is_timestamp(typ) or pa.types.is_date(typ):
            df[name] = df[name].astype("datetime64[us]")
    return df


def _records_json(df: pd.DataFrame, positions: np.ndarray) -> list[str]:
    sub = df.iloc[np.asarray(positions, dtype=int)]
    if not len(sub):
        return []
    text = sub.to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
    return text.rstrip("\n").split("\n")
