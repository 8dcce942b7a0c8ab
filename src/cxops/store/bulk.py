"""Set-based writes of many rows in the caller's transaction, without an ORM object per row.

- SQLite: Core ``INSERT`` (``ON CONFLICT DO NOTHING / DO UPDATE``) run as ``executemany`` in chunks.
- PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``; a plain
  append ``COPY``\\ s straight into the table.

Input is a :class:`pandas.DataFrame` whose columns are table columns (absent nullable columns are
written as NULL). Values are converted column by column: dates to ``datetime.date``, instants to
UTC-aware ``datetime`` (naive instants are refused), missing values to ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Column, Date, Float, Integer, Table, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, NullType

from cxops.errors import InputError
from cxops.store.types import UTCDateTime

CHUNK = 20_000


def _py_list(s: pd.Series, col, sqlite: bool = False) -> list[Any]:
    """One column as Python values of the column's type, ``None`` where missing.

    With ``sqlite``, values are already in SQLAlchemy's SQLite storage form (dates as
    ``YYYY-MM-DD``, instants as naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``, JSON as text), so rows can
    go to the driver without a per-value type processor.
    """
    t = col.type
    missing = s.isna().to_numpy()
    if isinstance(t, UTCDateTime):
        if s.dtype == object:
            naive = any(getattr(v, "tzinfo", None) is None for v in s[~missing])
            ts = pd.to_datetime(s, utc=not naive)
        else:
            ts = pd.to_datetime(s)
        if ts.dt.tz is None and ts.notna().any():
            raise InputError(f"column {col.name}: instants must be UTC-aware timestamps")
        ts = ts.dt.tz_convert(UTC) if ts.dt.tz is not None else ts.dt.tz_localize(UTC)
        if sqlite:
            text = np.char.replace(
                np.datetime_as_string(ts.dt.tz_localize(None).to_numpy("datetime64[us]")), "T", " "
            )
            values = text.tolist()
        else:
            values = [None if m else v.to_pydatetime() for v, m in zip(ts, missing, strict=True)]
    elif isinstance(t, Date):
        if sqlite:
            values = np.datetime_as_string(pd.to_datetime(s).to_numpy("datetime64[D]")).tolist()
        elif s.dtype == object:
            values = [None if m else (v if type(v) is date else pd.Timestamp(v).date())
                      for v, m in zip(s, missing, strict=True)]  # fmt: skip
        else:
            values = pd.to_datetime(s).dt.date.tolist()
    elif isinstance(t, Integer):
        values = s.astype(object).tolist()
        return [None if m else int(v) for v, m in zip(values, missing, strict=True)]
    elif isinstance(t, Float):
        values = pd.to_numeric(s).astype(float).tolist()
    elif isinstance(t, JSON):
        values = s.tolist()
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
        if sqlite:
            values = [None if m else json.dumps(v) for v, m in zip(values, missing, strict=True)]
    elif isinstance(t, Boolean):
        values = [bool(v) for v in s.astype(object).tolist()]
    else:
        values = s.astype(object).tolist()
    if missing.any():
        values = [None if m else v for v, m in zip(values, missing, strict=True)]
    return values


def columns_of(table: Table, df: pd.DataFrame, fixed: dict[str, Any] | None = None) -> list[str]:
    """The table columns written from ``df`` (and ``fixed``), refusing unknown columns."""
    names = set(table.c.keys())
    unknown = [c for c in df.columns if c not in names]
    if unknown:
        raise InputError(f"{table.name}: unknown column(s) {', '.join(map(str, unknown))}")
    return [c for c in table.c.keys() if c in df.columns or (fixed and c in fixed)]


def _rows(
    table: Table, df: pd.DataFrame, names: list[str], fixed: dict[str, Any] | None, sqlite: bool = False
):
    """Row tuples in ``names`` order (an iterator; chunks are materialised by the callers)."""
    n = len(df)
    cols = []
    for name in names:
        if fixed and name in fixed:
            value = _py_list(pd.Series([fixed[name]], dtype=object), table.c[name], sqlite)[0]
            cols.append([value] * n)
        else:
            cols.append(_py_list(df[name].reset_index(drop=True), table.c[name], sqlite))
    return zip(*cols, strict=True)


def _chunks(it, size: int):
    while chunk := list(islice(it, size)):
        yield chunk


def write(
    session: Session,
    table: Table,
    df: pd.DataFrame,
    *,
    fixed: dict[str, Any] | None = None,
    conflict: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
) -> int:
    """Insert the rows of ``df`` into ``table`` in the session's transaction.

    Parameters
    ----------
    session : Session
    table : sqlalchemy.Table
    df : pandas.DataFrame
        One row per row to write; columns are table columns.
    fixed : dict, optional
        Values for every row (e.g. ``{"run_id": 7}``).
    conflict : sequence of str, optional
        Unique key columns: a row whose key exists is skipped (``update`` None) or updated.
    update : sequence of str, optional
        Columns to overwrite on a key conflict (an upsert).

    Returns
    -------
    int
        Rows inserted or updated (skipped duplicates are not counted).

    Raises
    ------
    InputError
        Unknown columns or naive instants.
    """
    if df.empty:
        return 0
    session.flush()
    names = columns_of(table, df, fixed)
    if session.get_bind().dialect.name == "postgresql":
        return _pg_copy(session, table, names, lambda: _rows(table, df, names, fixed), conflict, update)
    return _sqlite(session, table, names, _rows(table, df, names, fixed, sqlite=True), conflict, update)


def _sqlite(session, table, names, rows, conflict, update) -> int:
    """``executemany`` of rows already in storage form: the statement is compiled once by SQLAlchemy
    and the rows go to the driver as they are (no per-value processing)."""
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    stmt = sqlite_insert(table)
    if conflict and update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update}
        )
    elif conflict:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    order = [names.index(compiled.binds[p].key) for p in compiled.positiontup]
    same = order == list(range(len(names)))
    cursor = conn.connection.driver_connection.cursor()
    total = 0
    try:
        for chunk in _chunks(rows, CHUNK):
            cursor.executemany(
                compiled.string, chunk if same else [tuple(r[i] for i in order) for r in chunk]
            )
            total += cursor.rowcount
    finally:
        cursor.close()
    return total


def _copy(cur, dest, table: Table, names: list[str], rows) -> int:
    """``COPY dest (names) FROM STDIN`` the row tuples (JSON values wrapped for psycopg); returns rows."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    json_at = [i for i, n in enumerate(names) if isinstance(table.c[n].type, JSON)]
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    copied = 0
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(dest, cols)) as copy:
        for r in rows:
            if json_at:
                r = list(r)
                for i in json_at:
                    if r[i] is not None:
                        r[i] = Jsonb(r[i])
            copy.write_row(r)
            copied += 1
    return copied


def _pg_copy(session, table, names, rows, conflict, update) -> int:
    """``COPY`` ``rows()`` into ``table``; with a conflict key, through a temporary table and one
    ``INSERT … ON CONFLICT``. Rows that should only be skipped when they exist (``conflict`` without
    ``update``: events) are first copied straight into the table under a savepoint — the common case,
    all new, costs one ``COPY`` — and only on a duplicate key go the temporary-table way."""
    from psycopg import errors, sql

    conn = session.connection()
    raw = conn.connection.driver_connection
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    target = sql.Identifier(table.name)
    with raw.cursor() as cur:
        if not conflict:
            return _copy(cur, target, table, names, rows())
        if not update:
            cur.execute("SAVEPOINT cxops_copy")
            try:
                copied = _copy(cur, target, table, names, rows())
            except errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT cxops_copy")
            else:
                cur.execute("RELEASE SAVEPOINT cxops_copy")
                return copied
        dest = sql.Identifier(f"_cxops_tmp_{table.name}")
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(dest))
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                dest, cols, target
            )
        )
        _copy(cur, dest, table, names, rows())
        action = sql.SQL("DO NOTHING")
        if update:
            action = sql.SQL("DO UPDATE SET {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in update
                )
            )
        cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
                target, cols, cols, dest, sql.SQL(", ").join(sql.Identifier(c) for c in conflict), action
            )
        )
        n = cur.rowcount
        cur.execute(sql.SQL("DROP TABLE {}").format(dest))
        return n


def _from_driver(values: list, typ, dialect: str) -> pd.Series:
    """A column fetched without SQLAlchemy's per-value processing, converted in one go."""
    s = pd.Series(values, dtype=object)
    if isinstance(typ, UTCDateTime):
        return pd.to_datetime(s, utc=True, format="ISO8601" if dialect == "sqlite" else None)
    if isinstance(typ, Date) and dialect == "sqlite":
        d = pd.to_datetime(s, format="%Y-%m-%d")
        return d.dt.date.astype(object).where(d.notna(), None)
    if isinstance(typ, JSON) and dialect == "sqlite":
        return pd.Series([None if v is None else json.loads(v) for v in values], dtype=object)
    if isinstance(typ, Boolean) and dialect == "sqlite":
        return s.map(lambda v: None if v is None else bool(v)).astype(object)
    if isinstance(typ, Date | JSON | Boolean):
        return s
    return pd.Series(values)


def where_equal(stmt, table: Table, **values: Any):
    """``stmt`` filtered on ``table.<column> == value`` for every keyword whose value is not ``None``
    (the optional filters of the repositories' list functions)."""
    for col, value in values.items():
        if value is not None:
            stmt = stmt.where(table.c[col] == value)
    return stmt


def frame(session: Session, stmt) -> pd.DataFrame:
    """Run a Core ``select`` and return its rows as a DataFrame (column names from the statement).

    Table columns are fetched as the driver returns them and converted a column at a time (instants
    to ``datetime64[us, UTC]``, dates to ``datetime.date``, JSON to Python objects), not value by
    value through SQLAlchemy's type processors — a million rows load in seconds.
    """
    selected = list(stmt.selected_columns)
    raw = [isinstance(c, Column) for c in selected]
    fetch = stmt.with_only_columns(
        *[type_coerce(c, NullType()).label(c.key) if r else c for c, r in zip(selected, raw, strict=True)],
        maintain_column_froms=True,
    )
    res = session.execute(fetch)
    keys = list(res.keys())
    rows = res.all()
    if not rows:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    dialect = session.get_bind().dialect.name
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame(
        {
            k: _from_driver(list(v), c.type, dialect) if r else pd.Series(list(v))
            for k, v, c, r in zip(keys, columns, selected, raw, strict=True)
        }
    )


def records(session: Session, stmt) -> list[dict[str, Any]]:
    """Run a Core ``select`` and return its rows as dicts, values through SQLAlchemy's types (instants
    tz-aware UTC, dates, JSON as Python objects): for a page's handful of rows, where building a
    DataFrame (:func:`frame`) costs more than the query."""
    res = session.execute(stmt)
    keys = list(res.keys())  # once, not per row (a row mapping's keys are rebuilt on every access)
    return [dict(zip(keys, r, strict=True)) for r in res]


#: Up to this many sellers, reads are narrowed to them with ``IN``; above, the whole program is read.
FEW = 5_000


def for_sellers(stmt, table: Table, sellers) -> Any:
    """``stmt`` narrowed to ``sellers`` (ids) when they are few; unchanged otherwise (one scan is then
    cheaper than a huge ``IN``). The caller still joins on the full key."""
    ids = sorted(set(sellers))
    return stmt.where(table.c.seller_id.in_(ids)) if len(ids) <= FEW else stmt


def count(session: Session, table: Table, *where) -> int:
    """Number of rows of ``table`` matching ``where``."""
    return session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def update_by_key(
    session: Session,
    table: Table,
    df: pd.DataFrame,
    key: Sequence[str],
    *,
    fixed: dict[str, Any] | None = None,
) -> int:
    """Set the non-key columns of ``df`` (and ``fixed``) on the rows whose ``key`` matches.

    Returns the number of rows updated.

    SQLite: one ``UPDATE … WHERE key = …`` run as ``executemany``; PostgreSQL: ``COPY`` into a
    temporary table and one ``UPDATE … FROM``.
    """
    if df.empty:
        return 0
    session.flush()
    names = columns_of(table, df)
    values = [c for c in names if c not in key]
    rows = _rows(table, df, names, None)
    fixed = fixed or {}
    if session.get_bind().dialect.name == "postgresql":
        from psycopg import sql

        raw = session.connection().connection.driver_connection
        tmp = sql.Identifier(f"_cxops_upd_{table.name}")
        target = sql.Identifier(table.name)
        cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
        sets = [sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in values]
        sets += [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Literal(v)) for c, v in fixed.items()]
        match = sql.SQL(" AND ").join(
            sql.SQL("t.{} = s.{}").format(sql.Identifier(k), sql.Identifier(k)) for k in key
        )
        with raw.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tmp))
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                    tmp, cols, target
                )
            )
            _copy(cur, tmp, table, names, rows)
            cur.execute(
                sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(
                    target, sql.SQL(", ").join(sets), tmp, match
                )
            )
            n = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(tmp))
            return n
    from sqlalchemy import bindparam, update

    stmt = (
        update(table)
        .where(*[table.c[k] == bindparam(f"k_{k}") for k in key])
        .values({c: bindparam(f"v_{c}") for c in values}, **fixed)
    )
    total = 0
    for chunk in _chunks(rows, CHUNK):
        params = [
            {(f"k_{n}" if n in key else f"v_{n}"): v for n, v in zip(names, r, strict=True)} for r in chunk
        ]
        total += session.execute(stmt, params).rowcount
    return total
