"""How far the data in a warehouse goes: the last day of each table, and the last complete day.

Every answer cxops gives is "as of" a day. A window that reaches past the end of the data holds no
records for those days, so a seller's counts fall — an operator whose feed stalled would see every
seller lose its volume and be removed. This module derives, in the engine and from the stored tables
only (nothing is recorded at import), how far each table goes, so that commands can refuse an as-of
day the data does not cover.

Definitions (``DESIGN.md``, "data has a freshness"):

- A table's **event instant** is the UTC instant at which a row happened (:data:`EVENT_INSTANTS`:
  ``orders.purchased_at``, ``shipments.confirmed_at``, …).
- Its **last day** is the latest marketplace-local day holding a row, by that instant: per
  marketplace for tables with a ``marketplace_id`` column (orders, buyer messages, violations); for
  the others (their rows belong to an order) per table: the earliest calendar day its latest instant
  falls on in the marketplaces of the data, so a table is never reported fresher than it is.
- The **required feeds** are the tables every order metric's population comes from: ``orders`` in
  each marketplace, and ``shipments`` when imported. The other tables record events that happen on
  some days only (feedback, claims, cancellations, returns, messages, violations): a day without one
  is normal, so they never hold the data back; their last days are reported.
- The **last data day** is the latest day with orders in any marketplace: past it, every window
  holds days with no data at all because the data ends.
- A required feed is **behind** when its last day is ``k ≥ 1`` days before the last data day and a
  gap that long is implausible for it: with ``λ`` rows per day on average between its first and
  last day, ``λ·k > ln 1000`` — fewer than one chance in a thousand that a working feed had no row
  on those ``k`` days. (A marketplace with a few orders a week is not behind for a quiet day; one with
  thirty orders a day is, after one day without.)
- The **last complete day** is the earliest last day of the feeds behind, else the last data day.

Assumption: a feed delivers whole days (an import in the middle of a day makes that day look
complete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from cxops.errors import StaleDataError

#: Canonical table -> the UTC instant that places a row on a day (when it happened).
EVENT_INSTANTS: dict[str, str] = {
    "orders": "purchased_at",
    "shipments": "confirmed_at",
    "cancellations": "cancelled_at",
    "feedback": "submitted_at",
    "claims": "filed_at",
    "returns": "requested_at",
    "buyer_messages": "received_at",
    "violations": "reported_at",
}
#: Tables whose last day bounds the last complete day (see the module docstring).
REQUIRED_FEEDS: tuple[str, ...] = ("orders", "shipments")
#: ``λ·k`` past which ``k`` days without a row are implausible for a feed (ln 1000: below 1 in 1,000).
_IMPLAUSIBLE = math.log(1000)


@dataclass(frozen=True)
class TableFreshness:
    """The last day of one table (in one marketplace, or in all when ``marketplace_id`` is None).

    Attributes
    ----------
    table, column : str
        Canonical table and its event instant.
    marketplace_id : str or None
    rows : int
        Rows of the table (in that marketplace).
    last_at : datetime or None
        Latest event instant (UTC, tz-naive); None when no row has one.
    last_day : date or None
        Marketplace-local day of ``last_at`` (see the module docstring).
    required : bool
        Whether the table is a required feed.
    """

    table: str
    column: str
    marketplace_id: str | None
    rows: int
    last_at: datetime | None
    last_day: date | None
    required: bool
    first_day: date | None = None

    @property
    def daily_rows(self) -> float:
        """Rows per day on average between the first and the last day (0 without both)."""
        if self.first_day is None or self.last_day is None:
            return 0.0
        return self.rows / max((self.last_day - self.first_day).days + 1, 1)

    def behind_by(self, end: date | None) -> int:
        """Days by which the feed ends before ``end`` when that gap is implausible for it (else 0)."""
        if end is None or self.last_day is None or self.last_day >= end:
            return 0
        k = (end - self.last_day).days
        return k if self.daily_rows * k > _IMPLAUSIBLE else 0

    @property
    def label(self) -> str:
        """``orders`` or ``orders (JP)``."""
        return self.table if self.marketplace_id is None else f"{self.table} ({self.marketplace_id})"


@dataclass(frozen=True)
class Freshness:
    """How far the data goes (see the module docstring).

    Attributes
    ----------
    tables : list of TableFreshness
    complete_day : date or None
        Last complete day; None when there are no orders.
    last_day : date or None
        Last day with orders in any marketplace.
    first_day : date or None
        First marketplace-local day with orders (an evaluation cadence starts after it).
    """

    tables: list[TableFreshness] = field(default_factory=list)
    complete_day: date | None = None
    last_day: date | None = None
    first_day: date | None = None

    @property
    def behind(self) -> list[TableFreshness]:
        """The required feeds that end implausibly early (see the module docstring), latest first."""
        out = [t for t in self.tables if t.required and t.behind_by(self.last_day)]
        return sorted(out, key=lambda t: (t.last_day, t.label))

    def frame(self) -> pd.DataFrame:
        """One row per table (and marketplace): ``table, marketplace_id, column, rows, last_at, last_day,
        required``."""
        return pd.DataFrame(
            [
                {
                    "table": t.table,
                    "marketplace_id": t.marketplace_id,
                    "column": t.column,
                    "rows": t.rows,
                    "last_at": t.last_at,
                    "last_day": t.last_day,
                    "required": t.required,
                }
                for t in self.tables
            ],
            columns=["table", "marketplace_id", "column", "rows", "last_at", "last_day", "required"],
        )

    def as_dict(self) -> dict:
        """JSON-ready summary (stored with an evaluation run)."""
        return {
            "complete_day": None if self.complete_day is None else self.complete_day.isoformat(),
            "last_day": None if self.last_day is None else self.last_day.isoformat(),
            "tables": {t.label: None if t.last_day is None else t.last_day.isoformat() for t in self.tables},
        }

    def why(self) -> str:
        """One sentence: how far the data goes and, when a required feed is behind, which."""
        if self.complete_day is None:
            return "the warehouse holds no orders"
        behind = self.behind
        if behind:
            ends = "; ".join(f"{t.label} ends on {t.last_day}" for t in behind)
            return (
                f"the data is complete only to {self.complete_day} ({ends}, while orders go to "
                f"{self.last_day})"
            )
        return f"the data ends on {self.complete_day} (the last day of orders)"

    def check(self, day: date, what: str, allow_stale: bool = False) -> None:
        """Refuse ``day`` when it is past the last complete day.

        Parameters
        ----------
        day : date
            The latest marketplace-local day the request judges (for an evaluation on ``E``: the
            metrics day ``E - metrics_lag_days``).
        what : str
            What needs that day, for the message (``"metrics as of 2030-01-01"``).
        allow_stale : bool
            Do not refuse (``--allow-stale``).

        Raises
        ------
        StaleDataError
            Naming the day asked, the last complete day and the table(s) behind.
        """
        if allow_stale or self.complete_day is None or day <= self.complete_day:
            return
        raise StaleDataError(
            f"{what} needs data up to {day}, but {self.why()}",
            hint="import newer data, ask for an earlier day, or pass --allow-stale to compute anyway "
            "(windows past the end of the data then hold no records for those days)",
        )


def _first_day(at, zone: str | None) -> date | None:
    """Local day of the UTC instant ``at`` in ``zone`` (UTC's without one)."""
    if at is None or pd.isna(at):
        return None
    ts = pd.Timestamp(at).to_pydatetime().replace(tzinfo=UTC)
    return ts.astimezone(ZoneInfo(zone)).date() if zone else ts.date()


def _earliest_day(at: datetime | None, zones: list[str]) -> date | None:
    """The earliest local calendar day of the UTC instant ``at`` among ``zones`` (UTC's without one)."""
    if at is None or pd.isna(at):
        return None
    ts = pd.Timestamp(at).to_pydatetime().replace(tzinfo=UTC)
    if not zones:
        return ts.date()
    return min(ts.astimezone(ZoneInfo(z)).date() for z in set(zones))


def data_freshness(wh, zones: dict[str, str], extremes: dict[str, pd.DataFrame] | None = None) -> Freshness:
    """The last day of every table with an event instant, and the last complete day.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    zones : dict
        marketplace_id -> IANA time zone for the marketplaces in the data
        (:attr:`cxops.metrics.records.Inputs.zones`).
    extremes : dict, optional
        Table -> frame with ``rows``, ``lo_<column>``, ``hi_<column>`` (and ``marketplace_id`` for
        tables that have one) from a scan already made (:func:`cxops.runs.fingerprint.scan_tables`);
        default: one aggregate query per table.

    Returns
    -------
    Freshness
    """
    tables: list[TableFreshness] = []
    firsts: list[date] = []
    present = set(wh.con.list_tables()) if extremes is None else set(extremes)
    for name, column in EVENT_INSTANTS.items():
        if name not in present:
            continue
        if extremes is not None:
            df = extremes[name]
            if f"hi_{column}" not in df.columns:
                continue
        else:
            t = wh.table(name)
            if column not in t.columns:
                continue
            aggs = {"rows": t.count(), f"lo_{column}": t[column].min(), f"hi_{column}": t[column].max()}
            grouped = "marketplace_id" in t.columns
            df = wh.execute(
                t.group_by("marketplace_id").aggregate(**aggs) if grouped else t.aggregate(**aggs)
            )
        required = name in REQUIRED_FEEDS
        if "marketplace_id" in df.columns:
            df = df.sort_values("marketplace_id")
            for mp, rows, first, last in zip(
                df["marketplace_id"], df["rows"], df[f"lo_{column}"], df[f"hi_{column}"], strict=True
            ):
                if mp is None or pd.isna(mp):
                    continue
                last = None if pd.isna(last) else pd.Timestamp(last).to_pydatetime()
                in_zone = [zones[mp]] if mp in zones else list(zones.values())
                day = _earliest_day(last, in_zone)
                start = _earliest_day(None if pd.isna(first) else first, in_zone)
                tables.append(TableFreshness(name, column, mp, int(rows), last, day, required, start))
                if name == "orders" and not pd.isna(first):
                    firsts.append(_first_day(first, zones.get(mp)))
        else:
            first, last = df[f"lo_{column}"].iloc[0], df[f"hi_{column}"].iloc[0]
            last = None if pd.isna(last) else pd.Timestamp(last).to_pydatetime()
            day = _earliest_day(last, list(zones.values()))
            start = _earliest_day(None if pd.isna(first) else first, list(zones.values()))
            rows = int(df["rows"].iloc[0])
            tables.append(TableFreshness(name, column, None, rows, last, day, required, start))
    orders = [t.last_day for t in tables if t.table == "orders" and t.last_day is not None]
    last_day = max(orders) if orders else None
    behind = [t.last_day for t in tables if t.required and t.behind_by(last_day)]
    return Freshness(
        tables=tables,
        complete_day=min(behind) if behind else last_day,
        last_day=last_day,
        first_day=min(firsts) if firsts else None,
    )
