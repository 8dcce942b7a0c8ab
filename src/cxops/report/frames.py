"""Frame selection shared by the renderers: latest rows, per-seller grouping, date coercion."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

SELLER_KEY = ("seller_id", "marketplace_id")


def frame(df: pd.DataFrame | None) -> pd.DataFrame:
    """``df``, or an empty frame for ``None``."""
    return pd.DataFrame() if df is None else df


def latest_rows(df: pd.DataFrame, date_col: str) -> pd.DataFrame:
    """Rows at the latest ``date_col`` per (seller_id, marketplace_id); ``df`` unchanged if not applicable."""
    keys = [c for c in SELLER_KEY if c in df]
    if df.empty or date_col not in df or not keys or df[date_col].isna().all():
        return df
    dates = as_timestamps(df[date_col])
    last = dates.groupby([df[k] for k in keys], sort=False, dropna=False).transform("max")
    return df[(dates == last) | last.isna()]


def as_timestamps(s: pd.Series) -> pd.Series:
    """A date-like column as ``datetime64`` (dates, ISO strings and timestamps accepted)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            return s.dt.tz_convert(None)
        return s
    return pd.to_datetime(s, errors="coerce")


def by_seller(df: pd.DataFrame) -> dict[tuple[Hashable, Hashable], pd.DataFrame]:
    """Split ``df`` into one frame per (seller_id, marketplace_id) (missing marketplace → ``None``)."""
    if df.empty or "seller_id" not in df:
        return {}
    if "marketplace_id" in df:
        return {
            (k[0], None if pd.isna(k[1]) else k[1]): g
            for k, g in df.groupby(["seller_id", "marketplace_id"], sort=False, dropna=False)
        }
    return {(k[0] if isinstance(k, tuple) else k, None): g for k, g in df.groupby("seller_id", sort=False)}


def seller_rows(df: pd.DataFrame, seller_id: Any, marketplace_id: Any = None) -> pd.DataFrame:
    """Rows of one seller (and marketplace when given and the column exists)."""
    if df.empty or "seller_id" not in df:
        return df.iloc[0:0]
    mask = df["seller_id"] == seller_id
    if marketplace_id is not None and "marketplace_id" in df:
        mask &= (df["marketplace_id"] == marketplace_id) | df["marketplace_id"].isna()
    return df[mask]


def records_by_seller(df: pd.DataFrame) -> dict[tuple[Hashable, Hashable], list[dict[str, Any]]]:
    """Rows as dicts grouped by (seller_id, marketplace_id), in frame order (one ``to_dict`` call)."""
    if df.empty or "seller_id" not in df:
        return {}
    out: dict[tuple[Hashable, Hashable], list[dict[str, Any]]] = {}
    has_mp = "marketplace_id" in df
    for row in df.to_dict("records"):
        mp = row.get("marketplace_id") if has_mp else None
        if mp is not None and not isinstance(mp, str) and pd.isna(mp):
            mp = None
        out.setdefault((row["seller_id"], mp), []).append(row)
    return out
