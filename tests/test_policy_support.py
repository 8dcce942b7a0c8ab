"""Hand-built metric frames in the format of docs/interfaces.md, shared by the policy and lifecycle
tests (imported as a module; it holds no tests itself)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from cxops.policy.catalog import METRICS

AS_OF = date(2025, 1, 31)
COLUMNS = [
    "seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of", "window_start",
    "window_end", "numerator", "denominator", "value", "status", "note",
]  # fmt: skip


def row(
    seller: str,
    metric: str,
    value: float | None = None,
    numerator: float | None = None,
    denominator: float | None = None,
    *,
    window: int | None = None,
    channel: str | None = None,
    status: str | None = None,
    marketplace: str = "US",
    as_of: date = AS_OF,
) -> dict:
    """One metric row. For rates give ``numerator`` and ``denominator`` (value is their quotient, null
    when the denominator is 0); for counts, hours, index and days give ``value``."""
    spec = METRICS[metric]
    if window is None:
        window = spec.windows[0]
    if channel is None:
        channel = spec.channels[0]
    if spec.kind == "rate" and denominator is not None and value is None:
        value = numerator / denominator if denominator else None
    if spec.kind == "count" and value is not None and numerator is None:
        numerator = value
    if status is None:
        status = "ok" if value is not None else "no_data"
    return {
        "seller_id": seller,
        "marketplace_id": marketplace,
        "channel": channel,
        "metric": metric,
        "window_days": window,
        "as_of": as_of,
        "window_start": None,
        "window_end": as_of,
        "numerator": numerator,
        "denominator": denominator,
        "value": None if status == "not_measured" else value,
        "status": status,
        "note": "source absent" if status == "not_measured" else None,
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["window_days"] = df["window_days"].astype("Int64")
    for c in ("numerator", "denominator", "value"):
        df[c] = df[c].astype(float)
    return df


def good_seller(seller: str, marketplace: str = "US", as_of: date = AS_OF, **override) -> list[dict]:
    """Rows with which a seller passes every customer-excellence criterion.

    ``override`` maps a short name (tenure, volume, major, odr, lsr, csat, otdr, median, late_resp,
    vtr, warnings, ip) to a replacement row, or to ``None`` to drop it.
    """
    kw = {"marketplace": marketplace, "as_of": as_of}
    rows = {
        "tenure": row(seller, "tenure_days", 400, **kw),
        "volume": row(seller, "order_count", 1800, window=90, channel="all", **kw),
        "major": row(seller, "major_violations", 0, **kw),
        "odr": row(seller, "order_defect_rate", numerator=2, denominator=1000, channel="all", **kw),
        "lsr": row(seller, "late_shipment_rate", numerator=5, denominator=800, window=30, **kw),
        "csat": row(seller, "customer_satisfaction_index", 92.0, 18400, 200, **kw),
        "otdr": row(
            seller, "on_time_delivery_rate", numerator=990, denominator=1000, window=30, channel="all", **kw
        ),
        "median": row(seller, "median_first_response_hours", 5.0, None, 100, **kw),
        "late_resp": row(seller, "late_response_rate", numerator=3, denominator=100, **kw),
        "vtr": row(seller, "valid_tracking_rate", numerator=790, denominator=800, **kw),
        "warnings": row(seller, "account_health_warnings", 0, **kw),
        "ip": row(seller, "ip_complaints", 0, **kw),
    }
    for name, replacement in override.items():
        if name not in rows:
            raise KeyError(name)
        rows[name] = replacement
    return [r for r in rows.values() if r is not None]
