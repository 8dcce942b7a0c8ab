"""Test helper: load hand-made canonical tables into an in-memory warehouse."""

from __future__ import annotations

import pandas as pd

from cxops.canonical.schema import COMPLETE_RATINGS, TABLES
from cxops.canonical.validate import validate
from cxops.warehouse import connect


def warehouse(
    tables: dict[str, list[dict] | pd.DataFrame],
    provided: dict[str, list[str]] | None = None,
    url: str = "memory",
):
    """A warehouse holding ``tables`` (validated; a quarantined row fails the test): in memory, or the
    DuckDB file ``url`` (for a server subprocess to read)."""
    wh = connect(url)
    for name in TABLES:
        if name not in tables:
            continue
        df = tables[name]
        df = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
        res = validate(df, TABLES[name], f"{name}.test")
        assert res.quarantined.empty, res.quarantined.to_dict("records")
        wh.upsert(TABLES[name], res.loaded)
        cols = (provided or {}).get(name, [c for c in df.columns if c in TABLES[name].column_names])
        if name == "feedback" and (provided or {}).get(name) is None:
            cols = [*cols, COMPLETE_RATINGS]  # hand-made ratings cover every star level
        wh.record_provided(name, cols, "test")
    return wh


def value(
    df: pd.DataFrame, metric: str, seller: str = "S1", window: int | None = None, channel: str | None = None
):
    """The single row of ``metric`` for ``seller`` (and window/channel) as a dict."""
    sel = (df.metric == metric) & (df.seller_id == seller)
    if window is not None:
        sel &= df.window_days == window
    if channel is not None:
        sel &= df.channel == channel
    rows = df[sel]
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()
