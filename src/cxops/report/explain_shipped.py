"""``explain --compare-shipped A,B``: the orders whose late-shipment result differs between two shipped
events, as text lines (English, Chinese … through the catalogs, msgids ``explainship.*``) or as rows.

The orders are :func:`cxops.service.shipped.seller_shipped_differences` (the page's, API's and CSV's);
this module only lays them out: order id, ship-by deadline, each event's instant and result, instants
in the marketplace's local time.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from rich.cells import cell_len

from cxops.report.i18n import get_translator

#: Result words of :data:`cxops.metrics.deadlines.RESULTS` -> catalog keys.
RESULT_KEYS = {"late": "late", "on time": "on_time", "left out": "left_out"}
NONE = "—"


def local_times(values: pd.Series, zone: str | None) -> list[str]:
    """UTC instants (naive) as ``YYYY-MM-DD HH:MM TZ`` in ``zone`` (UTC when ``None``); ``—`` for none."""
    t = pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(zone or "UTC")
    return [NONE if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M %Z") for v in t]


def shipped_lines(
    df: pd.DataFrame,
    marketplace_id: str,
    first: dt.date,
    last: dt.date,
    basis: str,
    against: str,
    zone: str | None,
    lang: str = "en",
) -> list[str]:
    """The differing orders of one marketplace as text lines: a heading, one aligned line per order
    (all of them) and a note on the times and results.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`cxops.service.shipped.seller_shipped_differences` for ``marketplace_id``.
    first, last : datetime.date
        The window's ship-by days.
    basis, against : str
        The two events (``confirmation``, ``first_scan``, ``any``).
    zone : str, optional
        The marketplace's IANA time zone.
    """
    tr = get_translator(lang)
    ev = {e: tr(f"explainship.event.{e}") for e in (basis, against)}
    params = {"first": tr.day(first), "last": tr.day(last), "marketplace": marketplace_id}
    params |= {"basis": ev[basis], "against": ev[against]}
    if df.empty:
        return [tr("explainship.none", **params)]
    lines = [tr.plural("explainship.title", len(df), n=len(df), **params)]
    header = [tr("explainship.col.order"), tr("explainship.col.ship_by")]
    for e in (basis, against):
        header += [tr("explainship.col.at", event=ev[e]), tr("explainship.col.result", event=ev[e])]
    cols = [
        df["order_id"].astype(str).tolist(),
        local_times(df["latest_ship_at"], zone),
        local_times(df["basis_at"], zone),
        [tr(f"explainship.result.{RESULT_KEYS[r]}") for r in df["basis_result"]],
        local_times(df["against_at"], zone),
        [tr(f"explainship.result.{RESULT_KEYS[r]}") for r in df["against_result"]],
    ]
    widths = [max(cell_len(h), *(cell_len(v) for v in c)) for h, c in zip(header, cols, strict=True)]

    def line(cells) -> str:
        padded = (c + " " * (w - cell_len(c)) for c, w in zip(cells, widths, strict=True))
        return ("  " + "  ".join(padded)).rstrip()

    lines.append(line(header))
    lines += [line(row) for row in zip(*cols, strict=True)]
    lines.append(tr("explainship.times", zone=zone or "UTC"))
    return lines


#: Columns :func:`shipped_rows` adds to ``explain``'s rows (record ``shipped_difference``).
SHIPPED_COLUMNS = [
    "latest_ship_at",
    "basis",
    "basis_at",
    "basis_result",
    "against",
    "against_at",
    "against_result",
]


def shipped_rows(df: pd.DataFrame, seller_id: str, basis: str, against: str) -> pd.DataFrame:
    """The differing orders as ``explain`` rows (``--format jsonl|csv``): record ``shipped_difference``,
    ``order_id``, ``anchor_date`` = ship-by day, and :data:`SHIPPED_COLUMNS` (instants UTC, ISO 8601)."""
    iso = {
        c: [None if pd.isna(v) else v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in pd.to_datetime(df[c])]
        for c in ("latest_ship_at", "basis_at", "against_at")
    }
    return pd.DataFrame(
        {
            "record": "shipped_difference",
            "seller_id": seller_id,
            "marketplace_id": df["marketplace_id"].to_numpy(),
            "order_id": df["order_id"].to_numpy(),
            "anchor_date": df["ship_by_date"].to_numpy(),
            "latest_ship_at": iso["latest_ship_at"],
            "basis": basis,
            "basis_at": iso["basis_at"],
            "basis_result": df["basis_result"].to_numpy(),
            "against": against,
            "against_at": iso["against_at"],
            "against_result": df["against_result"].to_numpy(),
        }
    )
