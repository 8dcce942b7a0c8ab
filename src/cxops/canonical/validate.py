"""Validation of canonical tables on load.

Every row read ends up either *loaded* or *quarantined* with the file, row, column and reason;
nothing is dropped or coerced silently. Checks: required columns present, required values non-null,
types parse, enumerations, numeric bounds, key uniqueness within the input, and row-level orderings
(``received_at <= first_response_at`` …; see :class:`cxops.canonical.schema.Ordering`).
Unknown extra columns are kept (passed through unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxops.canonical.schema import TableSchema
from cxops.errors import InputError

QUARANTINE_COLUMNS = ["table", "file", "row", "column", "reason", "record"]

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


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
        strings as ``object``/``string``. Extra columns are kept.
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


def _iana_zones() -> set[str]:
    from zoneinfo import available_timezones

    return available_timezones()


def _blank(s: pd.Series) -> pd.Series:
    """True where a value is null or an empty / whitespace-only string."""
    isnull = s.isna()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        txt = s.astype("string").str.strip()
        return isnull | (txt == "").fillna(False).astype(bool)
    return isnull


def parse_timestamp_utc(s: pd.Series) -> pd.Series:
    """Parse a column of instants to UTC-naive ``datetime64[us]``.

    Tz-aware values are converted to UTC; naive values and strings without an offset are taken to be
    UTC already (the canonical contract). Unparseable values become ``NaT`` (the caller compares with
    the input's null mask to report them).
    """
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        txt = s.astype("string").str.strip()
        out = pd.to_datetime(txt, errors="coerce", utc=True, format="ISO8601")
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[us]")


def _parse(col_dtype: str, s: pd.Series) -> pd.Series:
    if col_dtype == "string":
        blank = _blank(s)
        return pd.Series(
            [None if b else str(v).strip() for v, b in zip(s.tolist(), blank.tolist(), strict=False)],
            index=s.index,
            dtype=object,
        )
    if col_dtype == "timestamp":
        return parse_timestamp_utc(s)
    if col_dtype == "date":
        if pd.api.types.is_datetime64_any_dtype(s):
            return pd.to_datetime(s).dt.tz_localize(None).dt.normalize().astype("datetime64[us]")
        txt = s.astype("string").str.strip()
        return pd.to_datetime(txt, errors="coerce", format="ISO8601").dt.normalize().astype("datetime64[us]")
    if col_dtype in ("int", "float"):
        if pd.api.types.is_bool_dtype(s):
            # a true/false column is not a number: every value is invalid (never True -> 1)
            return pd.Series(pd.NA, index=s.index, dtype="Int64" if col_dtype == "int" else "Float64")
        if pd.api.types.is_numeric_dtype(s):
            num = s.astype("Float64")
        else:
            num = pd.to_numeric(s.astype("string").str.strip(), errors="coerce").astype("Float64")
        finite = num.isna() | np.isfinite(num.astype(float).fillna(0.0))
        num = num.where(finite.astype(bool), np.nan)  # inf / -inf are not values
        if col_dtype == "int":
            integral = num.isna() | ((num == num.round()) & (num.abs() < 2**62))
            num = num.where(integral.fillna(True).astype(bool), np.nan)  # fractions, overflow
            return num.round().astype("Int64")
        return num
    if col_dtype == "bool":
        if pd.api.types.is_bool_dtype(s):
            return s.astype("boolean")
        txt = s.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[txt.isin(_TRUE).fillna(False).astype(bool)] = True
        out[txt.isin(_FALSE).fillna(False).astype(bool)] = False
        return out
    raise ValueError(f"unknown dtype {col_dtype}")


def _records(df: pd.DataFrame, idx: pd.Index) -> list[str]:
    sub = df.loc[idx]
    return (
        [
            r
            for r in sub.astype(object)
            .where(sub.notna(), None)
            .apply(lambda row: pd.Series(row).to_json(date_format="iso"), axis=1)
        ]
        if len(sub)
        else []
    )


def validate(
    df: pd.DataFrame,
    schema: TableSchema,
    file: str,
    first_row_number: int = 2,
    known_keys: pd.DataFrame | None = None,
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
        Not used for uniqueness (re-imports replace by key); reserved for referential checks.

    Returns
    -------
    ValidationResult

    Raises
    ------
    SchemaError
        When a required column is missing from the input (nothing is loaded from it).
    """
    missing = [c for c in schema.required_columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{file}: table {schema.name} is missing required column(s) {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns))})"
        )
    df = df.reset_index(drop=True)
    rows = pd.Series(np.arange(len(df)) + first_row_number, index=df.index)
    reason = pd.Series(pd.NA, index=df.index, dtype="string")
    column = pd.Series(pd.NA, index=df.index, dtype="string")

    def flag(mask: pd.Series, col: str, why: str) -> None:
        mask = mask.fillna(False).astype(bool) & reason.isna()
        reason[mask] = why
        column[mask] = col

    out = pd.DataFrame(index=df.index)
    for col in schema.columns:
        if col.name not in df.columns:
            continue
        raw = df[col.name]
        blank = _blank(raw)
        parsed = _parse(col.dtype, raw)
        if col.required:
            flag(blank, col.name, "required value is missing")
        flag(~blank & parsed.isna(), col.name, f"not a valid {col.dtype}: {{value}}")
        if col.enum is not None:
            case = str.upper if col.name == "fulfillment_channel" else str.lower
            parsed = parsed.map(lambda v, case=case: None if v is None else case(v))
            bad = parsed.notna() & ~parsed.isin(col.enum)
            flag(bad, col.name, f"not one of {', '.join(col.enum)}: {{value}}")
        if col.min is not None:
            flag(parsed.notna() & (parsed < col.min), col.name, f"below minimum {col.min:g}: {{value}}")
        if col.max is not None:
            flag(parsed.notna() & (parsed > col.max), col.name, f"above maximum {col.max:g}: {{value}}")
        if col.name == "timezone":
            zones = _iana_zones()
            flag(parsed.notna() & ~parsed.isin(zones), col.name, "not an IANA time zone: {value}")
        out[col.name] = parsed
    for extra in df.columns:
        if extra not in out.columns:
            out[extra] = df[extra]

    warn_rows: list[dict] = []
    for o in schema.orderings:
        if o.left in out.columns and o.right in out.columns:
            bad = out[o.left].notna() & out[o.right].notna() & (out[o.left] > out[o.right])
            why = f"{o.left} is after {o.right}"
            if o.severity == "error":
                flag(bad, o.right, why)
            else:
                for i in bad[bad.fillna(False).astype(bool)].index:
                    warn_rows.append({"row": int(rows[i]), "column": o.right, "reason": why})

    # Key uniqueness within this input: the first occurrence is loaded, later ones quarantined.
    key_ok = reason.isna()
    keyed = out.loc[key_ok, list(schema.key)]
    dup = keyed.duplicated(keep="first")
    if dup.any():
        first_row = {}
        for i, k in zip(keyed.index, map(tuple, keyed.itertuples(index=False, name=None)), strict=False):
            first_row.setdefault(k, int(rows[i]))
        for i in keyed.index[dup.to_numpy()]:
            k = tuple(keyed.loc[i])
            reason[i] = f"duplicate key {schema.key}={k} (first at row {first_row[k]})"
            column[i] = ",".join(schema.key)

    bad_idx = reason[reason.notna()].index
    # Fill the {value} placeholders with the offending value.
    msgs = []
    for i in bad_idx:
        why = str(reason[i])
        col = str(column[i])
        if "{value}" in why:
            why = why.replace("{value}", repr(df.at[i, col]) if col in df.columns else "")
        msgs.append(why)
    quarantined = pd.DataFrame(
        {
            "table": schema.name,
            "file": file,
            "row": rows[bad_idx].astype(int).to_numpy(),
            "column": column[bad_idx].astype(str).to_numpy(),
            "reason": msgs,
            "record": _records(df, bad_idx),
        },
        columns=QUARANTINE_COLUMNS,
    )
    warnings = pd.DataFrame(
        [{"table": schema.name, "file": file, **w, "record": None} for w in warn_rows],
        columns=QUARANTINE_COLUMNS,
    )
    loaded = out.loc[reason.isna()].reset_index(drop=True)
    return ValidationResult(schema.name, file, len(df), loaded, quarantined, warnings)
