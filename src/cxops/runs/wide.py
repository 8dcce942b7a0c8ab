"""Metrics pivoted wide: the (metric, window, channel) a policy tests, one row per seller and day.

An evaluation reads, per evaluation date, only the metrics its criteria test, as arrays of shape
(sellers, specs) — never the long frame of every metric. :func:`pivot` builds the wide table in the
engine from a long metrics table (:data:`cxops.metrics.compute.OUTPUT_COLUMNS`); :func:`wide_arrays`
turns a fetched slice of it into the arrays :func:`cxops.policy.evaluate.prepare_wide` takes.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from cxops.days import date_objects

KEYS = ["seller_id", "marketplace_id"]
NO_WINDOW = -1  # window_days of metrics without one (tenure), in join keys
#: Status of each status code of :func:`pivot` (3: the seller has no row for the spec).
STATUS_CODES = np.array(["ok", "no_data", "not_measured", None, "provisional"], dtype=object)


def pivot(m, specs: list[tuple]):
    """Metrics rows (``OUTPUT_COLUMNS``) of ``specs`` pivoted wide: one row per ``(as_of, seller_id,
    marketplace_id)``, columns ``n<k>, d<k>, v<k>, s<k>, c<k>`` (numerator, denominator, value, status
    code 0 ok / 1 no data / 2 not measured / 4 provisional, null where the seller has no row; coverage)
    per spec ``k``.

    Each row finds its spec by a join on ``(metric, window, channel)`` (the rows of other metrics drop
    out there), so the aggregates compare one integer."""
    keyed = pd.DataFrame(
        [(metric, NO_WINDOW if w is None else int(w), ch, k) for k, (metric, w, ch) in enumerate(specs)],
        columns=["metric", "_w", "channel", "_k"],
    )
    sp = ibis.memtable(keyed, schema={"metric": "string", "_w": "int64", "channel": "string", "_k": "int64"})
    j = m.mutate(_w=m.window_days.fill_null(NO_WINDOW)).inner_join(sp, ["metric", "_w", "channel"])
    code = j.status.cases(("ok", 0), ("no_data", 1), ("not_measured", 2), ("provisional", 4), else_=3).cast(
        "int8"
    )
    coverage = j.coverage if "coverage" in j.columns else ibis.null("float64")
    aggs = {}
    for k in range(len(specs)):
        this = j._k == k
        aggs[f"n{k}"] = j.numerator.max(where=this)
        aggs[f"d{k}"] = j.denominator.max(where=this)
        aggs[f"v{k}"] = j.value.max(where=this)
        aggs[f"s{k}"] = code.max(where=this)
        aggs[f"c{k}"] = coverage.max(where=this)
    if not aggs:
        return m.select("as_of", *KEYS).distinct()
    return j.group_by(["as_of", *KEYS]).aggregate(**aggs)


def wide_arrays(df: pd.DataFrame, k: int) -> tuple[pd.DataFrame, tuple]:
    """Sellers (``seller_id, marketplace_id, as_of``) and the ``(numerator, denominator, value, status,
    coverage)`` arrays, shape (rows, k), of a fetched :func:`pivot`."""
    as_of = pd.to_datetime(df["as_of"]).to_numpy("datetime64[D]") if len(df) else np.zeros(0, "datetime64[D]")
    sellers = pd.DataFrame(
        {
            "seller_id": df["seller_id"].astype(object).to_numpy(),
            "marketplace_id": df["marketplace_id"].astype(object).to_numpy(),
            "as_of": pd.Series(date_objects(as_of), dtype=object),
        }
    )

    def block(prefix: str) -> np.ndarray:
        if not k:
            return np.zeros((len(df), 0))
        return df[[f"{prefix}{j}" for j in range(k)]].to_numpy(float, na_value=np.nan)

    codes = block("s")
    status = (
        STATUS_CODES[np.where(np.isnan(codes), 3, codes).astype(np.int64)]
        if k
        else np.zeros((len(df), 0), object)
    )
    coverage = block("c") if all(f"c{j}" in df for j in range(k)) else np.full((len(df), k), np.nan)
    return sellers, (block("n"), block("d"), block("v"), status, coverage)
