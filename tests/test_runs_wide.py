"""The criteria's metrics pivoted wide (cxops.runs.wide) against a pandas pivot of the same long rows."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxops.runs.wide import ORDER, pivot, wide_arrays

SPECS = [("order_defect_rate", 60, "all"), ("late_shipment_rate", 10, "mfn"), ("tenure_days", None, "all")]
OTHER = ("chargeback_rate", 90, "all")  # a metric no spec tests: its rows drop out
STATUSES = ["ok", "no_data", "not_measured", "provisional"]
CODE = {"ok": 0, "no_data": 1, "not_measured": 2, "provisional": 4}

row = st.tuples(
    st.sampled_from(["S1", "S2", "S10"]),
    st.sampled_from(["US", "DE"]),
    st.integers(0, 2),  # day
    st.integers(0, len(SPECS)),  # spec (len: OTHER)
    st.one_of(st.none(), st.floats(0, 50, allow_nan=False)),
    st.sampled_from(STATUSES),
    st.one_of(st.none(), st.floats(0, 1)),
)


def _long(rows) -> pd.DataFrame:
    seen, out = set(), []
    for sid, mp, day, k, x, status, cov in rows:
        metric, window, channel = (SPECS + [OTHER])[k]
        key = (sid, mp, day, k)
        if key in seen:  # one row per seller, day and (metric, window, channel), as in a run
            continue
        seen.add(key)
        day = date(2026, 1, 1) + timedelta(days=day)
        den, val = (None, None) if x is None else (x + 1, x / (x + 1))
        out.append((sid, mp, channel, metric, window, day, x, den, val, status, cov))
    cols = ["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of", "numerator",
            "denominator", "value", "status", "coverage"]  # fmt: skip
    df = pd.DataFrame(out, columns=cols)
    df["window_days"] = df["window_days"].astype("Int64")
    for c in ("numerator", "denominator", "value", "coverage"):
        df[c] = df[c].astype("float64")
    return df


@settings(max_examples=40, deadline=None)
@given(st.lists(row, max_size=40))
def test_wide_arrays_are_the_pivot_of_the_long_rows(rows):
    df = _long(rows)
    con = ibis.duckdb.connect()
    schema = {"seller_id": "string", "marketplace_id": "string", "channel": "string", "metric": "string",
              "window_days": "int64", "as_of": "date", "numerator": "float64", "denominator": "float64",
              "value": "float64", "status": "string", "coverage": "float64"}  # fmt: skip
    m = ibis.memtable(df, schema=schema)
    sellers, (n, d, v, s, c) = wide_arrays(
        con.to_pyarrow(pivot(m, SPECS).order_by(["as_of", *ORDER])), len(SPECS)
    )
    assert all(type(x) is str for x in [*sellers.seller_id, *sellers.marketplace_id])
    assert all(type(x) is date for x in sellers.as_of)
    # the reference: each (day, seller) with a row of a spec, in order; its spec rows put in place by hand
    spec_of = [
        (r.metric, None if pd.isna(r.window_days) else r.window_days, r.channel) for r in df.itertuples()
    ]
    tested = df[np.array([x in SPECS for x in spec_of], dtype=bool)]
    keys = sorted(set(zip(tested.as_of, tested.seller_id, tested.marketplace_id, strict=True)))
    assert list(zip(sellers.as_of, sellers.seller_id, sellers.marketplace_id, strict=True)) == keys
    assert n.shape == (len(keys), len(SPECS))
    for i, (day, sid, mp) in enumerate(keys):
        for k, (metric, _window, channel) in enumerate(SPECS):
            w = tested[(tested.as_of == day) & (tested.seller_id == sid) & (tested.marketplace_id == mp)
                       & (tested.metric == metric) & (tested.channel == channel)]  # fmt: skip
            if w.empty:
                assert np.isnan(n[i, k]) and np.isnan(v[i, k]) and s[i, k] is None and np.isnan(c[i, k])
                continue
            r = w.iloc[0]
            for got, want in ((n[i, k], r.numerator), (d[i, k], r.denominator), (v[i, k], r.value),
                              (c[i, k], r.coverage)):  # fmt: skip
                assert (np.isnan(got) and pd.isna(want)) or got == want
            assert s[i, k] == r.status and CODE[r.status] >= 0


def test_no_rows_and_no_specs():
    con = ibis.duckdb.connect()
    df = _long([("S1", "US", 0, 0, 1.0, "ok", None), ("S1", "US", 1, 3, 2.0, "ok", None)])
    m = ibis.memtable(df)
    sellers, arrays = wide_arrays(con.to_pyarrow(pivot(m, []).order_by(["as_of", "seller_id"])), 0)
    assert len(sellers) == 2 and all(a.shape == (2, 0) for a in arrays)  # every (day, seller) of m
    sellers, arrays = wide_arrays(con.to_pyarrow(pivot(m.limit(0), SPECS)), len(SPECS))
    assert len(sellers) == 0 and all(a.shape == (0, 3) for a in arrays)


keys = st.lists(
    st.tuples(
        st.sampled_from(["S1", "S10", "S2", "Sé", "s1"]), st.sampled_from(["DE", "US"]), st.integers(0, 3)
    ),
    max_size=30,
)


@given(keys)
@settings(max_examples=200, deadline=None)
def test_in_order_returns_rows_in_order_and_sorts_only_when_they_are_not(rows):
    """``in_order`` equals DuckDB's ``ORDER BY`` of the rows; rows already in that order come back as
    they are (the same table: nothing sorted); a key twice is refused, wherever the two rows are."""
    import duckdb
    import pyarrow as pa

    from cxops.runs.wide import in_order

    keyed = pa.table(
        {
            "seller_id": pa.array([r[0] for r in rows], pa.string()),
            "marketplace_id": pa.array([r[1] for r in rows], pa.string()),
            "_k": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    expected = duckdb.sql("SELECT * FROM keyed ORDER BY seller_id, marketplace_id, _k").to_arrow_table()
    if len(set(rows)) < len(rows):
        with pytest.raises(ValueError, match="seller_id, marketplace_id, _k twice"):
            in_order(keyed, ORDER)
        with pytest.raises(ValueError, match="twice"):
            in_order(expected, ORDER)
        return
    got = in_order(keyed, ORDER)
    assert got.to_pylist() == expected.to_pylist()
    assert in_order(expected, ORDER) is expected
    if keyed.to_pylist() != expected.to_pylist():
        assert got is not keyed
