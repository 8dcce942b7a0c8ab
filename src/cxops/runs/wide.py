"""Metrics pivoted wide: the (metric, window, channel) a policy tests, as arrays per seller and day.

An evaluation reads, per evaluation date, only the metrics its criteria test, as arrays of shape
(sellers, specs) — never the long frame of every metric. :func:`pivot` keeps, in the engine, the rows of
a long metrics table (:data:`cxops.metrics.compute.OUTPUT_COLUMNS`) that the specs test, one row per
``(as_of, seller_id, marketplace_id, spec)``; :func:`wide_arrays` scatters a fetched slice of it into
the arrays :func:`cxops.policy.evaluate.prepare_wide` takes.

The pivot to columns happens in NumPy, not in the engine: a group-by with five filtered aggregates per
spec (65 for the reference policy) cost the engine more than the metrics themselves, while scattering
the rows of one evaluation day into ``(sellers, specs)`` arrays is one indexed assignment per column.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxops.days import date_objects

KEYS = ["seller_id", "marketplace_id"]
NO_WINDOW = -1  # window_days of metrics without one (tenure), in join keys
#: Status of each status code of :func:`pivot` (3: the seller has no row for the spec).
STATUS_CODES = np.array(["ok", "no_data", "not_measured", None, "provisional"], dtype=object)
#: Columns of :func:`pivot` that order the rows of one day as :func:`wide_arrays` expects them.
ORDER = [*KEYS, "_k"]


def pivot(m, specs: list[tuple]):
    """Metrics rows (``OUTPUT_COLUMNS``) of ``specs``, one row per ``(as_of, seller_id, marketplace_id,
    _k)``: spec index ``_k`` and its numerator ``n``, denominator ``d``, value ``v``, status code ``s``
    (0 ok / 1 no data / 2 not measured / 4 provisional) and coverage ``c``.

    Each row finds its spec by a join on ``(metric, window, channel)`` (the rows of other metrics drop
    out there). A metrics table has one row per seller, marketplace, day and ``(metric, window,
    channel)``, and ``specs`` are distinct, so each row is its key's only one: no aggregate (a group-by
    was a third of the pivot: 139 → 93 s at 500,000 sellers); :func:`in_order` refuses a fetched slice
    with a key twice. Without specs: the distinct ``(as_of, seller_id, marketplace_id)`` of ``m``. Read
    a slice ordered by ``as_of`` then :data:`ORDER` with :func:`wide_arrays`."""
    if not specs:
        return m.select("as_of", *KEYS).distinct()
    j = m.mutate(_w=m.window_days.fill_null(NO_WINDOW)).inner_join(
        _spec_table(specs), ["metric", "_w", "channel"]
    )
    code = j.status.cases(("ok", 0), ("no_data", 1), ("not_measured", 2), ("provisional", 4), else_=3).cast(
        "int8"
    )
    coverage = j.coverage if "coverage" in j.columns else ibis.null("float64")
    return j.select("as_of", *KEYS, "_k", n=j.numerator, d=j.denominator, v=j.value, s=code, c=coverage)


def _spec_table(specs) -> ibis.Table:
    """``(metric, _w, channel, _k)`` of ``specs`` (window None as :data:`NO_WINDOW`, ``_k`` the index)."""
    keyed = pd.DataFrame(
        [(metric, NO_WINDOW if w is None else int(w), ch, k) for k, (metric, w, ch) in enumerate(specs)],
        columns=["metric", "_w", "channel", "_k"],
    )
    return ibis.memtable(
        keyed, schema={"metric": "string", "_w": "int64", "channel": "string", "_k": "int64"}
    )


def only_specs(m, specs) -> ibis.Table:
    """The rows of metrics table ``m`` whose ``(metric, window_days, channel)`` is one of ``specs``."""
    cols = m.columns
    j = m.mutate(_w=m.window_days.fill_null(NO_WINDOW)).semi_join(
        _spec_table(specs), ["metric", "_w", "channel"]
    )
    return j.select(*cols)


def wide_arrays(rows: pa.Table, k: int) -> tuple[pd.DataFrame, tuple]:
    """Sellers (``seller_id, marketplace_id, as_of``) and the ``(numerator, denominator, value, status,
    coverage)`` arrays, shape (sellers, k), of fetched :func:`pivot` rows ordered by ``as_of`` (when
    several days) then :data:`ORDER`: one seller row per ``(as_of, seller_id, marketplace_id)``, in
    the order of the rows; a spec without a row is NaN (status ``None``).

    ``rows`` is an Arrow table (``con.to_pyarrow``): a day of a large program is sellers × specs rows,
    and only the first row of each seller becomes Python strings (a pandas frame would turn every
    row's ids into objects first)."""
    n_rows = rows.num_rows
    if n_rows == 0:
        sellers = pd.DataFrame(
            {
                "seller_id": np.zeros(0, object),
                "marketplace_id": np.zeros(0, object),
                "as_of": pd.Series([], dtype=object),
            }
        )
        nan = np.full((0, k), np.nan)
        return sellers, (nan, nan.copy(), nan.copy(), np.zeros((0, k), object), nan.copy())
    as_of = rows["as_of"].cast(pa.date32()).to_numpy().astype("datetime64[D]")
    if "_k" in rows.column_names:  # one row per spec: a new seller row where the key changes
        start = np.ones(n_rows, bool)
        start[1:] = (as_of[1:] != as_of[:-1]) | _changes(rows["seller_id"]) | _changes(rows["marketplace_id"])
        row = np.cumsum(start) - 1
        first = np.flatnonzero(start)
    else:  # no specs: one row per seller already
        row = first = np.arange(n_rows)
    sellers = pd.DataFrame(
        {
            "seller_id": _objects(rows["seller_id"], first),
            "marketplace_id": _objects(rows["marketplace_id"], first),
            "as_of": pd.Series(date_objects(as_of[first]), dtype=object),
        }
    )
    shape = (len(first), k)
    if not k:
        return sellers, (np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape, object),
                         np.full(shape, np.nan))  # fmt: skip
    col = _numbers(rows["_k"], 0).astype(np.int64)

    def block(name: str) -> np.ndarray:
        out = np.full(shape, np.nan)
        out[row, col] = _numbers(rows[name], np.nan)
        return out

    codes = np.full(shape, 3, np.int64)
    codes[row, col] = _numbers(rows["s"], 3).astype(np.int64)
    return sellers, (block("n"), block("d"), block("v"), STATUS_CODES[codes], block("c"))


def in_order(rows: pa.Table, columns: list[str]) -> pa.Table:
    """``rows`` ordered by ``columns`` (ascending, byte order as DuckDB's ``ORDER BY``): returned as they
    are when already in that order — a slice of a table stored in that order, fetched without an
    ``ORDER BY`` that would sort it again — else sorted in Arrow (an engine that returns them
    otherwise). ``columns`` are a key: two rows equal on all of them are refused.

    Checked pairwise: rows i and i + 1 differ, and row i is before on the first column where they do.

    Raises
    ------
    ValueError
        If two rows are equal on every column of ``columns``."""
    n = rows.num_rows
    if n < 2:
        return rows
    ordered = None  # pairs known to be in order so far, by an earlier column
    tied = None  # pairs equal on every column so far
    for name in columns:
        a, b = rows[name].slice(0, n - 1), rows[name].slice(1)
        less = pc.less(a, b)
        step = less if tied is None else pc.and_(tied, less)
        ordered = step if ordered is None else pc.or_(ordered, step)
        equal = pc.equal(a, b)
        tied = equal if tied is None else pc.and_(tied, equal)
    if pc.all(ordered).as_py():
        return rows
    rows = rows.sort_by([(c, "ascending") for c in columns])
    if rows.num_rows != rows.group_by(columns).aggregate([]).num_rows:
        raise ValueError(f"rows with the same {', '.join(columns)} twice")
    return rows


def _changes(column: pa.ChunkedArray) -> np.ndarray:
    """Row i + 1 differs from row i (length n - 1), compared in Arrow."""
    n = len(column)
    return pc.not_equal(column.slice(1), column.slice(0, n - 1)).to_numpy(zero_copy_only=False)


def _objects(column: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray:
    return column.take(rows).to_numpy(zero_copy_only=False).astype(object)


def _numbers(column: pa.ChunkedArray, missing: float) -> np.ndarray:
    return pc.fill_null(column.cast(pa.float64()), missing).to_numpy()
