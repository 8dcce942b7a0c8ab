"""Theme counts per window, monthly trends per SKU, and SKUs whose negative feedback or returns rise.

Inputs are frames the service layer reads from the warehouse; nothing here does I/O.

``voices`` — one row per buyer text and SKU: ``source`` (``feedback`` / ``return``), ``order_id``,
``sku``, ``day`` (marketplace-local date of the feedback's submission or the return's request),
``negative`` (feedback rated 1–2 stars, the marketplaces' definition of negative feedback; every
return), ``has_text`` and one boolean column per theme (:func:`cxops.advisor.voc.themes.classify`). A text on
an order of several SKUs is counted once for each of them.

``orders`` — one row per order and SKU: ``order_id``, ``sku``, ``day`` (local purchase date).

**The rise rule** (:class:`RiseRule`, defaults declared once there): for each SKU, the share of
negative feedback (negative ratings / ratings) and the return rate (returns / orders, each anchored on
its own day) in the **recent** window (the last 30 days to the as-of day) against the **baseline**
window (the 90 days before it). A SKU is flagged when the recent share is at least ``ratio`` times the
baseline share, at least ``min_increase`` above it (absolute), and rests on at least ``min_count``
negative ratings or returns in the recent window; a baseline with no records counts as a share of 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cxops.advisor.voc.keywords import COMPLAINTS, OTHER, THEMES

#: The windows of the theme table, in days ending at the as-of day.
WINDOWS: tuple[int, ...] = (30, 90, 365)
#: The two measures the rise rule watches.
MEASURES: tuple[str, ...] = ("negative_feedback", "returns")
#: Tolerance of the minimum-increase comparison (shares are floats: 0.3 - 0.25 < 0.05).
EPSILON = 1e-9


@dataclass(frozen=True)
class RiseRule:
    """When a SKU's share of negative feedback or of returns "rises" (see the module docstring).

    Attributes
    ----------
    recent_days, baseline_days : int
        The recent window (ending at the as-of day) and the baseline window just before it, in days.
    min_count : int
        Negative ratings (or returns) needed in the recent window.
    ratio : float
        Recent share / baseline share at least this.
    min_increase : float
        Recent share − baseline share at least this (a fraction, 0.05 = 5 points).
    """

    recent_days: int = 30
    baseline_days: int = 90
    min_count: int = 3
    ratio: float = 1.5
    min_increase: float = 0.05

    def __post_init__(self) -> None:
        if self.recent_days < 1 or self.baseline_days < 1:
            raise ValueError("recent_days and baseline_days must be at least 1")
        if self.min_count < 1 or self.ratio < 1 or not 0 <= self.min_increase <= 1:
            raise ValueError("min_count >= 1, ratio >= 1 and 0 <= min_increase <= 1")

    def as_dict(self) -> dict:
        """The rule's values (for outputs and the API)."""
        return asdict(self)


def _in(days: pd.Series, first: date, last: date) -> np.ndarray:
    d = pd.to_datetime(days)
    return ((d >= pd.Timestamp(first)) & (d <= pd.Timestamp(last))).to_numpy()


def theme_table(voices: pd.DataFrame, as_of: date, windows: tuple[int, ...] = WINDOWS) -> pd.DataFrame:
    """Theme counts and shares per window and source.

    Each text is counted once per window and source, whatever its SKUs.

    Returns
    -------
    pandas.DataFrame
        Long format: ``window_days, source, theme, count, texts, share`` — ``texts`` is the number of
        texts in the window and source, ``share = count / texts`` (a fraction, null when no texts).
        One row per window, source (``feedback``, ``return``) and theme (:data:`THEMES` and ``other``).
    """
    themes = (*THEMES, OTHER)
    texts = voices[voices["has_text"]].drop_duplicates(["source", "order_id", "text_id"])
    rows = []
    for w in windows:
        inside = texts[_in(texts["day"], as_of - timedelta(days=w - 1), as_of)]
        for source in ("feedback", "return"):
            part = inside[inside["source"] == source]
            n = len(part)
            counts = part[list(themes)].sum().astype(int)
            for t in themes:
                rows.append((w, source, t, int(counts[t]), n, counts[t] / n if n else None))
    return pd.DataFrame(rows, columns=["window_days", "source", "theme", "count", "texts", "share"])


def sku_months(voices: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Monthly figures per SKU.

    Returns
    -------
    pandas.DataFrame
        ``sku, month`` (first day of the month), ``orders``, ``ratings``, ``negative``,
        ``negative_share`` (negative / ratings), ``returns``, ``return_rate`` (returns / orders), and a
        count per complaint theme (texts of feedback and returns together); shares are fractions, null
        on a zero denominator. Sorted by SKU and month.
    """

    def month(s: pd.Series) -> pd.Series:
        return pd.to_datetime(s).dt.to_period("M").dt.to_timestamp().dt.date

    o = orders.assign(month=month(orders["day"])).groupby(["sku", "month"]).size().rename("orders")
    v = voices.assign(month=month(voices["day"]))
    fb = v[v["source"] == "feedback"]
    agg = pd.concat(
        [
            o,
            fb.groupby(["sku", "month"]).size().rename("ratings"),
            fb.groupby(["sku", "month"])["negative"].sum().rename("negative"),
            v[v["source"] == "return"].groupby(["sku", "month"]).size().rename("returns"),
            v.groupby(["sku", "month"])[list(COMPLAINTS)].sum(),
        ],
        axis=1,
    )
    agg = agg.fillna(0).astype(int).reset_index()
    agg["negative_share"] = (agg["negative"] / agg["ratings"].where(agg["ratings"] > 0)).astype(float)
    agg["return_rate"] = (agg["returns"] / agg["orders"].where(agg["orders"] > 0)).astype(float)
    cols = ["sku", "month", "orders", "ratings", "negative", "negative_share", "returns", "return_rate"]
    return agg[cols + list(COMPLAINTS)].sort_values(["sku", "month"], ignore_index=True)


def _shares(voices: pd.DataFrame, orders: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    v = voices[_in(voices["day"], first, last)]
    fb = v[v["source"] == "feedback"]
    ret = v[v["source"] == "return"]
    o = orders[_in(orders["day"], first, last)]
    out = pd.concat(
        [
            fb.groupby("sku").size().rename("ratings"),
            fb.groupby("sku")["negative"].sum().rename("negative"),
            o.groupby("sku").size().rename("orders"),
            ret.groupby("sku").size().rename("returns"),
        ],
        axis=1,
    )
    return out.fillna(0).astype(int)


def rising_skus(
    voices: pd.DataFrame, orders: pd.DataFrame, as_of: date, rule: RiseRule | None = None
) -> pd.DataFrame:
    """SKUs whose share of negative feedback or return rate rises (:class:`RiseRule`).

    Returns
    -------
    pandas.DataFrame
        One row per SKU and measure (``negative_feedback``, ``returns``) with any record in either
        window: ``sku, measure, recent_count, recent_base, recent_share, baseline_count, baseline_base,
        baseline_share, ratio, flagged, top_theme`` — counts are negative ratings (or returns) over
        ratings (or orders); shares are fractions (null on a zero base); ``ratio`` is null when the
        baseline share is 0; ``top_theme`` is the most frequent complaint theme of the SKU's negative
        texts in the recent window (null if none). Flagged rows first, then by recent share.
    """
    rule = rule or RiseRule()
    recent_first = as_of - timedelta(days=rule.recent_days - 1)
    base_last = recent_first - timedelta(days=1)
    base_first = base_last - timedelta(days=rule.baseline_days - 1)
    recent = _shares(voices, orders, recent_first, as_of)
    base = _shares(voices, orders, base_first, base_last)
    both = recent.add_suffix("_r").join(base.add_suffix("_b"), how="outer").fillna(0).astype(int)
    top = _top_theme(voices[_in(voices["day"], recent_first, as_of) & voices["negative"].to_numpy()])
    frames = []
    for measure, num, den in (("negative_feedback", "negative", "ratings"), ("returns", "returns", "orders")):
        f = pd.DataFrame(
            {
                "sku": both.index,
                "measure": measure,
                "recent_count": both[f"{num}_r"].to_numpy(),
                "recent_base": both[f"{den}_r"].to_numpy(),
                "baseline_count": both[f"{num}_b"].to_numpy(),
                "baseline_base": both[f"{den}_b"].to_numpy(),
            }
        )
        f = f[(f["recent_count"] + f["baseline_count"]) > 0]
        rs = f["recent_count"] / f["recent_base"].where(f["recent_base"] > 0)
        bs = f["baseline_count"] / f["baseline_base"].where(f["baseline_base"] > 0)
        f["recent_share"] = rs.astype(float)
        f["baseline_share"] = bs.astype(float)
        b0 = bs.fillna(0.0)
        f["ratio"] = (rs / bs.where(bs > 0)).astype(float)
        # compared on counts (rc/rb >= ratio * bc/bb  <=>  rc*bb >= ratio * bc*rb), so a share exactly at
        # the ratio is not lost to rounding; an empty baseline is a share of 0
        rc, rb, bc, bb = (f[c].astype(float) for c in ("recent_count", "recent_base", "baseline_count",
                                                         "baseline_base"))  # fmt: skip
        f["flagged"] = (
            (f["recent_count"] >= rule.min_count)
            & (rb > 0)
            & ((bb == 0) | (rc * bb >= rule.ratio * bc * rb))
            & (rs.fillna(0) - b0 >= rule.min_increase - EPSILON)
        ).astype(bool)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out["top_theme"] = out["sku"].map(top)
    out = out.sort_values(["flagged", "recent_share", "sku", "measure"], ascending=[False, False, True, True])
    cols = [
        "sku", "measure", "recent_count", "recent_base", "recent_share", "baseline_count", "baseline_base",
        "baseline_share", "ratio", "flagged", "top_theme",
    ]  # fmt: skip
    return out[cols].reset_index(drop=True)


def _top_theme(v: pd.DataFrame) -> pd.Series:
    """The most frequent complaint theme per SKU (ties: the first in :data:`COMPLAINTS` order)."""
    if v.empty:
        return pd.Series(dtype=object)
    counts = v.groupby("sku")[list(COMPLAINTS)].sum()
    counts = counts[counts.sum(axis=1) > 0]
    return counts.idxmax(axis=1)
