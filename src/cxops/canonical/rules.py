"""The contract's validation rules, compiled to one SQL query over a source relation (DuckDB dialect).

One declaration: the checks come from :mod:`cxops.canonical.schema` (required columns, types,
enumerations, numeric bounds, IANA zones, plausible instants, orderings). Every importer runs them
through :func:`compile_checks` — the canonical files importer on the file scans, the Olist and Amazon
importers on their mapped rows — so a rule is written once.

For each source row the query gives the typed contract columns and the **first** rejection reason
with its column (checked column by column in contract order: required value, relative time word,
type, enumeration, bounds, time zone, plausibility; then the known marketplaces, then the orderings
whose severity is ``error``), a boolean per warning ordering, and the source row as JSON when the
row is rejected (the quarantine ``record``). Key uniqueness needs every row at once and is resolved
after this query by the importer (one aggregation).

Parsing rules (text values are trimmed; an empty or blank text is null):

* ``timestamp``: ISO 8601 ``YYYY-MM-DD[( |T)HH:MM[:SS[.f]]]`` with an optional offset (``Z``,
  ``UTC``, ``+HH``, ``+HHMM``, ``+HH:MM``) converted to UTC; without one the value is UTC already
  (the contract). Typed instants: naive ones are UTC, zoned ones are converted.
* ``date``: the same forms; the calendar date as written.
* ``int``: whole numbers (``12``, ``1e3``, ``12.0``) below 2**62 in magnitude; ``float``: finite decimal
  numbers (``inf`` and ``nan`` are not values); ``bool``: ``true/false/t/f/1/0/yes/no/y/n`` (any case).
* ``now``, ``today``, ``yesterday``, ``tomorrow`` are rejected wherever an instant or a date is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cxops.canonical.schema import RELATIVE_TIME_WORDS, Column, TableSchema

#: Contract dtype -> SQL type of the stored column.
SQL_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
}
_WS = " \t\n\r\x0b\x0c"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_LOCAL = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_OFFSET = r"(?:Z|z|UTC|[+-]\d{2}(?::?\d{2})?)"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
         "UBIGINT", "UHUGEINT"}  # fmt: skip
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def type_family(sql_type: str) -> str:
    """Family of a source column's SQL type: ``text``, ``int``, ``float``, ``bool``, ``date``,
    ``timestamp``, ``timestamptz``, ``null``, ``binary``, ``nested`` or ``other`` (cast to text)."""
    t = sql_type.strip().upper()
    if t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION", "LIST")):
        return "nested"
    if t in ("BLOB", "BYTEA", "BINARY", "VARBINARY") or t.startswith("BLOB"):
        return "binary"
    if t.startswith("VARCHAR") or t.startswith("ENUM") or t in ("TEXT", "STRING"):
        return "text"
    if t in _INTS:
        return "int"
    if t in _FLOATS or t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        return "float"
    if t == "BOOLEAN":
        return "bool"
    if t == "DATE":
        return "date"
    if t in ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"):
        return "timestamptz"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t == '"NULL"' or t == "NULL":
        return "null"
    return "other"


def unreadable_type(sql_type: str) -> str | None:
    """Why a source column of this SQL type cannot feed a contract column, or ``None``.

    Lists, structs and maps are never flattened into text, and binary values are never guessed to be
    text: the whole file is refused with the column named.
    """
    fam = type_family(sql_type)
    if fam == "nested":
        return f"is a nested column ({sql_type}); canonical columns hold one value per row"
    if fam == "binary":
        return f"is binary ({sql_type}), not text; write it as a UTF-8 string column"
    return None


@dataclass(frozen=True)
class RuleContext:
    """What the rules need besides the schema.

    Attributes
    ----------
    imported_at : datetime.datetime
        The import's instant (UTC, naive): plausible instants end :data:`~cxops.canonical.schema.AHEAD`
        after it.
    marketplaces : tuple of str, optional
        Known marketplace ids; rows naming another are rejected. ``None``: not checked.
    zones : frozenset of str
        Valid IANA time zone names (for ``marketplaces.timezone``).
    builtin : tuple of str
        Built-in marketplace ids, named in the unknown-marketplace message.
    """

    imported_at: datetime
    marketplaces: tuple[str, ...] | None = None
    zones: frozenset[str] = field(default_factory=frozenset)
    builtin: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckQuery:
    """A compiled check query.

    Attributes
    ----------
    sql : str
        ``SELECT _row, <contract columns>, _reason, _column, _w0 … _wk, _record``.
    warnings : list of (str, str)
        ``(column, reason)`` of each ``_w<i>`` flag (warning orderings).
    """

    sql: str
    warnings: list[tuple[str, str]]


def _parse_instant(x: str) -> str:
    """SQL: trimmed text ``x`` -> UTC ``TIMESTAMP`` (null when not an accepted form)."""
    local = f"regexp_extract({x}, '^({_LOCAL})', 1)"
    off = f"regexp_extract({x}, '({_OFFSET})$', 1)"
    digits = f"replace(substr({off}, 2), ':', '')"
    minutes = (
        f"(CASE WHEN {off} IN ('Z', 'z', 'UTC') THEN 0 ELSE "
        f"(CASE WHEN substr({off}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({digits}, 1, 2) AS INTEGER) * 60 + "
        f"CASE WHEN length({digits}) = 4 THEN CAST(substr({digits}, 3, 2) AS INTEGER) ELSE 0 END) END)"
    )
    return (
        f"(CASE WHEN regexp_full_match({x}, '{_LOCAL}') THEN TRY_CAST({x} AS TIMESTAMP) "
        f"WHEN regexp_full_match({x}, '{_LOCAL}\\s*{_OFFSET}') THEN "
        f"TRY_CAST({local} AS TIMESTAMP) - to_minutes(CAST({minutes} AS BIGINT)) END)"
    )


def _parse_date(x: str) -> str:
    local = f"regexp_extract({x}, '^({_LOCAL})', 1)"
    return (
        f"(CASE WHEN regexp_full_match({x}, '{_LOCAL}(?:\\s*{_OFFSET})?') "
        f"THEN CAST(TRY_CAST({local} AS TIMESTAMP) AS DATE) END)"
    )


def _parse_int(x: str) -> str:
    d = f"TRY_CAST({x} AS DOUBLE)"
    return (
        f"(CASE WHEN regexp_full_match({x}, '[+-]?\\d{{1,18}}') THEN TRY_CAST({x} AS BIGINT) "
        f"WHEN regexp_full_match({x}, '{_NUMBER}') AND {d} = round({d}) AND abs({d}) < 4611686018427387904 "
        f"THEN CAST({d} AS BIGINT) END)"
    )


def _parse_float(x: str) -> str:
    d = f"TRY_CAST({x} AS DOUBLE)"
    return f"(CASE WHEN regexp_full_match({x}, '{_NUMBER}') AND isfinite({d}) THEN {d} END)"


def _typed(col: Column, fam: str, r: str, x: str) -> str:
    """SQL of the typed value of contract column ``col`` from raw ``r`` (trimmed text ``x``)."""
    d = col.dtype
    if fam == "null":
        return f"CAST(NULL AS {SQL_TYPES[d]})"
    if d == "string":
        v = x if fam == "text" else f"CAST({r} AS VARCHAR)"
        if col.enum is not None:
            v = f"upper({v})" if col.name == "fulfillment_channel" else f"lower({v})"
        return v
    if d == "timestamp":
        return {
            "text": _parse_instant(x),
            "timestamp": f"CAST({r} AS TIMESTAMP)",
            "timestamptz": f"timezone('UTC', {r})",
            "date": f"CAST({r} AS TIMESTAMP)",
        }.get(fam, "CAST(NULL AS TIMESTAMP)")
    if d == "date":
        return {
            "text": _parse_date(x),
            "timestamp": f"CAST({r} AS DATE)",
            "timestamptz": f"CAST(timezone('UTC', {r}) AS DATE)",
            "date": r,
        }.get(fam, "CAST(NULL AS DATE)")
    if d == "int":
        f = f"CAST({r} AS DOUBLE)"
        return {
            "text": _parse_int(x),
            "int": f"TRY_CAST({r} AS BIGINT)",
            "float": f"(CASE WHEN isfinite({f}) AND {f} = round({f}) AND abs({f}) < 4611686018427387904 "
            f"THEN CAST({f} AS BIGINT) END)",
        }.get(fam, "CAST(NULL AS BIGINT)")
    if d == "float":
        f = f"CAST({r} AS DOUBLE)"
        return {
            "text": _parse_float(x),
            "int": f,
            "float": f"(CASE WHEN isfinite({f}) THEN {f} END)",
        }.get(fam, "CAST(NULL AS DOUBLE)")
    if d == "bool":
        t = ", ".join(map(literal, _TRUE))
        fl = ", ".join(map(literal, _FALSE))
        return {
            "text": f"(CASE WHEN lower({x}) IN ({t}) THEN true WHEN lower({x}) IN ({fl}) THEN false END)",
            "bool": r,
            "int": f"(CASE WHEN {r} = 1 THEN true WHEN {r} = 0 THEN false END)",
        }.get(fam, "CAST(NULL AS BOOLEAN)")
    raise ValueError(f"unknown dtype {d}")


def _fmt(v: float) -> str:
    return f"{v:g}"


def compile_checks(
    schema: TableSchema, source: str, raw: list[tuple[str, str]], ctx: RuleContext
) -> CheckQuery:
    """The check query of ``schema`` over the relation ``source``.

    Parameters
    ----------
    schema : TableSchema
    source : str
        A SQL relation (table name or parenthesised query) with a ``_row`` column (the row number to
        report) and the raw source columns.
    raw : list of (str, str)
        The raw source columns ``(name, SQL type)`` other than ``_row``, in source order; contract
        columns are matched by name, others are only kept in the ``_record`` JSON.
    ctx : RuleContext

    Returns
    -------
    CheckQuery

    Raises
    ------
    ValueError
        If a contract column's type is nested or binary (see :func:`unreadable_type`); callers check
        this first to name the file.
    """
    names = {n: i for i, (n, _) in enumerate(raw)}
    raw_sel = ["_row"] + [f"{ident(n)} AS r{i}" for i, (n, _) in enumerate(raw)]
    typed_sel = ["_row"] + [f"r{i}" for i in range(len(raw))]
    checks: list[tuple[str, str, str]] = []  # (condition, reason SQL, column)
    out_cols: list[str] = []
    for col in schema.columns:
        if col.name not in names:
            out_cols.append(f"CAST(NULL AS {SQL_TYPES[col.dtype]}) AS {ident(col.name)}")
            continue
        i = names[col.name]
        fam = type_family(raw[i][1])
        problem = unreadable_type(raw[i][1])
        if problem:
            raise ValueError(f"column {col.name} {problem}")
        r = f"r{i}"
        x = f"x{i}"
        if fam == "text":
            typed_sel.append(f"NULLIF(trim({r}, {literal(_WS)}), '') AS {x}")
            blank = f"{x} IS NULL"
            shown = f"'''' || {r} || ''''"
        else:
            blank = f"{r} IS NULL"
            shown = f"CAST({r} AS VARCHAR)"
        typed_sel.append(f"{_typed(col, fam, r, x)} AS v{i}")
        v = f"v{i}"
        out_cols.append(f"{v} AS {ident(col.name)}")
        name = col.name
        if col.required:
            checks.append((blank, literal("required value is missing"), name))
        if fam == "text" and col.dtype in ("timestamp", "date"):
            words = ", ".join(map(literal, RELATIVE_TIME_WORDS))
            checks.append(
                (
                    f"lower({x}) IN ({words})",
                    f"'a relative time, not an instant: ' || {shown} || "
                    "' (give the date and time it happened)'",
                    name,
                )
            )
        checks.append((f"NOT ({blank}) AND {v} IS NULL", f"'not a valid {col.dtype}: ' || {shown}", name))
        if col.enum is not None:
            allowed = ", ".join(map(literal, col.enum))
            checks.append(
                (f"{v} NOT IN ({allowed})", f"'not one of {', '.join(col.enum)}: ' || {shown}", name)
            )
        if col.min is not None:
            checks.append((f"{v} < {col.min!r}", f"'below minimum {_fmt(col.min)}: ' || {shown}", name))
        if col.max is not None:
            checks.append((f"{v} > {col.max!r}", f"'above maximum {_fmt(col.max)}: ' || {shown}", name))
        if col.name == "timezone" and ctx.zones:
            zones = ", ".join(map(literal, sorted(ctx.zones)))
            checks.append((f"{v} NOT IN ({zones})", f"'not an IANA time zone: ' || {shown}", name))
        bounds = col.plausible_range(ctx.imported_at)
        if bounds is not None:
            lo, hi = bounds
            typ = SQL_TYPES[col.dtype]
            lo_s = lo.date().isoformat() if col.dtype == "date" else lo.isoformat(sep=" ")
            hi_s = hi.date().isoformat() if col.dtype == "date" else hi.isoformat(sep=" ", timespec="seconds")
            checks.append(
                (
                    f"{v} < CAST({literal(lo_s)} AS {typ})",
                    f"'implausible {col.dtype}, before {lo.date().isoformat()}: ' || CAST({v} AS VARCHAR)",
                    name,
                )
            )
            checks.append(
                (
                    f"{v} > CAST({literal(hi_s)} AS {typ})",
                    f"'implausible {col.dtype}, more than a year after the import "
                    f"({hi.date().isoformat()}): '"
                    f" || CAST({v} AS VARCHAR)",
                    name,
                )
            )
    if ctx.marketplaces is not None and "marketplace_id" in names and schema.name != "marketplaces":
        v = f"v{names['marketplace_id']}"
        known = ", ".join(map(literal, ctx.marketplaces)) or "NULL"
        shown = f"'''' || {v} || ''''"
        checks.append(
            (
                f"{v} IS NOT NULL AND {v} NOT IN ({known})",
                f"'unknown marketplace ' || {shown} || ': add it to marketplaces.csv (built in: "
                f"{', '.join(ctx.builtin)})'",
                "marketplace_id",
            )
        )
    warnings: list[tuple[str, str]] = []
    warn_sel: list[str] = []
    for o in schema.orderings:
        if o.left not in names or o.right not in names:
            continue
        cond = f"v{names[o.left]} > v{names[o.right]}"
        why = f"{o.left} is after {o.right}"
        if o.severity == "error":
            checks.append((cond, literal(why), o.right))
        else:
            warn_sel.append(f"COALESCE({cond}, false) AS _w{len(warnings)}")
            warnings.append((o.right, why))
    if checks:
        reason = "CASE " + " ".join(f"WHEN {c} THEN {w}" for c, w, _ in checks) + " END"
        column = "CASE " + " ".join(f"WHEN {c} THEN {literal(n)}" for c, _, n in checks) + " END"
    else:
        reason = column = "CAST(NULL AS VARCHAR)"
    record = "to_json(struct_pack(" + ", ".join(f"{ident(n)} := r{i}" for i, (n, _) in enumerate(raw)) + "))"
    if not raw:
        record = "'{}'"
    checked = (
        f"SELECT _row, {', '.join(out_cols)}, {reason} AS _reason, {column} AS _column"
        + "".join(f", {w}" for w in warn_sel)
        + f", {', '.join(f'r{i}' for i in range(len(raw))) or 'NULL AS _none'}"
        + " FROM typed"
    )
    names_out = ", ".join(ident(c.name) for c in schema.columns)
    wcols = "".join(f", _w{k}" for k in range(len(warnings)))
    sql = (
        f"WITH raw AS (SELECT {', '.join(raw_sel)} FROM {source}), "
        f"typed AS (SELECT {', '.join(typed_sel)} FROM raw), "
        f"checked AS ({checked}) "
        f"SELECT _row, {names_out}, _reason, _column{wcols}, "
        f"CASE WHEN _reason IS NOT NULL THEN CAST({record} AS VARCHAR) END AS _record FROM checked"
    )
    return CheckQuery(sql, warnings)


def column_defs(schema: TableSchema) -> str:
    """``"col" TYPE, …`` of the stored table (contract columns in contract order)."""
    return ", ".join(f"{ident(c.name)} {SQL_TYPES[c.dtype]}" for c in schema.columns)
