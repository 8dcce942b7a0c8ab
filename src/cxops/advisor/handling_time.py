"""Handling-time advisor: the smallest handling time per SKU that would have kept the late shipment rate
at or under a target, from the seller's own ship confirmations (``cxops advise handling-time``).

Definitions (all business days are open days of the **seller's** calendar: the marketplace's working
week and holidays with the seller's overrides, :mod:`cxops.deadlines.calendars`):

* **days needed** by an order: the smallest handling time ``h`` (``0 … max_days``) whose derived ship-by
  deadline (:func:`cxops.deadlines.shipby.derive_ship_by`: cut-off, day-0/day-1, holidays, carrier
  pickup) is at or after the order's last ship confirmation — the marketplace's own arithmetic, so
  the distribution reads directly as "with a handling time of ``h`` this order would have been on
  time". An order late for a reason no deadline cures (still unconfirmed and undelivered, or short of
  units) needs "never" (:data:`NEVER`).
* the **rate they had**: the engine's late-shipment flag of each order (the deadline in force: corrected,
  else the source's, else derived) over the orders whose ship-by day is in the look-back window — the
  same population as the ``late_shipment_rate`` metric (:func:`cxops.metrics.records.late_shipments`).
* the **rate they would have had** with ``h`` for a SKU: the share of the SKU's orders needing more
  than ``h`` days. The **proposal** is the smallest ``h >= min_days`` whose rate meets the target
  (the policy's operator: ``<=`` or ``<``); where none does (orders that needed "never" or more than
  ``max_days``), the ``h`` with the lowest rate, flagged not reachable.
* an order of several SKUs gets the largest of its SKUs' handling times (the marketplace's rule, and
  :mod:`cxops.ingest.deadlines`); the seller's overall "would have" rate is computed that way, so it
  can differ from the per-SKU rates.

The same orders are judged before and after (the orders due in the window as they were): an order
whose new deadline would move it out of the window is still counted, so the two rates compare like
with like.

Everything is array arithmetic: one :func:`derive_ship_by` call over ``orders × (max_days + 1)``
candidate handling times, and group-bys — no loop over orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
import pandas as pd

from cxops.deadlines.calendars import Calendar, DeadlineRule
from cxops.deadlines.shipby import derive_ship_by

#: Days needed by an order no handling time would have made on time (stored as ``max_days + 1``).
NEVER = -1
#: Amazon's listing loader accepts a fulfillment latency of 1 to 30 days (same-day handling is a
#: programme of its own): the default bounds of a proposal.
DEFAULT_MIN_DAYS = 1
DEFAULT_MAX_DAYS = 30


@dataclass(frozen=True)
class Target:
    """The late shipment rate to stay within.

    Attributes
    ----------
    rate : float
        A fraction (1.2 % is 0.012).
    operator : {"<=", "<"}
        ``<=``: at or under; ``<``: strictly under (the policy criterion's operator).
    source : str
        Where it comes from, e.g. ``"customer-excellence 1.0.0, admission lsr"`` or ``"--target"``.
    """

    rate: float
    operator: str = "<="
    source: str = "--target"

    def met(self, rate):
        """Whether ``rate`` (scalar or array) meets the target."""
        return rate <= self.rate if self.operator == "<=" else rate < self.rate


@dataclass
class SkuAdvice:
    """One SKU's (or SKU group's) history and proposal on one marketplace.

    Attributes
    ----------
    marketplace_id, sku : str
        ``sku`` is the SKU, or the group's name (a category, ``"*"`` for the whole seller); ``"*"``
        with SKU grouping: orders without a SKU (the seller's default setting).
    orders : int
        MFN orders due in the window that hold the SKU.
    late_had, rate_had : int, float
        Late under the deadlines in force (the engine's flag); ``rate_had`` a fraction.
    current : int or None
        The setting in force at the as-of day (``handling_times``), else the handling time the
        deadlines in force imply (most common), else ``None``.
    current_source : {"setting", "implied", None}
    proposed : int
        The proposal (see the module docstring).
    late_would, rate_would : int, float
        Late, and the rate, had every order of the SKU had ``proposed`` days.
    reachable : bool
        Whether ``rate_would`` meets the target.
    distribution : dict
        Days needed -> orders (``NEVER``: no handling time cures them).
    p50, p90, p_max : int or None
        Days needed at the median, the 90th percentile (lower nearest rank) and the maximum
        (``None`` when that order needed "never").
    members : list of str
        The SKUs of the group (``[sku]`` with SKU grouping).
    """

    marketplace_id: str
    sku: str
    orders: int
    late_had: int
    rate_had: float
    current: int | None
    current_source: str | None
    proposed: int
    late_would: int
    rate_would: float
    reachable: bool
    distribution: dict[int, int]
    p50: int | None
    p90: int | None
    p_max: int | None
    members: list[str] = field(default_factory=list)


@dataclass
class PreviewRow:
    """A ship-by date of an order placed on ``order_day`` before the cut-off with ``handling_days``.

    ``closed`` lists the non-working weekdays between the order day and the ship-by day (holidays and
    the seller's non-operating days), as ``(day, name)``.
    """

    marketplace_id: str
    order_day: date
    handling_days: int
    received_day: date
    ship_by_day: date
    latest_ship_at: datetime
    closed: list[tuple[date, str]]


@dataclass
class HandlingAdvice:
    """The advisor's answer for one seller (see the module docstring).

    Attributes
    ----------
    seller_id : str
    as_of, first_day : date
        The window: ship-by days ``first_day … as_of`` (marketplace-local, inclusive).
    target : Target
    skus : list of SkuAdvice
    orders, late_had, late_would : int
        Seller totals (each order once; ``late_would`` with each order at the largest proposal of its SKUs).
    preview : list of PreviewRow
    notes : list of str
        Message ids (``advise.*``) of caveats.
    """

    seller_id: str
    as_of: date
    first_day: date
    target: Target
    min_days: int
    max_days: int
    group_by: str = "sku"
    skus: list[SkuAdvice] = field(default_factory=list)
    orders: int = 0
    late_had: int = 0
    late_would: int = 0
    preview: list[PreviewRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rate_had(self) -> float | None:
        return self.late_had / self.orders if self.orders else None

    @property
    def rate_would(self) -> float | None:
        return self.late_would / self.orders if self.orders else None

    def changes(self, all_skus: bool = False) -> pd.DataFrame:
        """The listing changes: ``marketplace_id, sku, current, proposed``, one row per SKU.

        With SKU grouping, the SKUs whose proposal differs from their current setting (every SKU with
        ``all_skus``); with a group (category, seller), every SKU of the group at the group's proposal.
        Orders without a SKU (``"*"``) are left out: they are not a listing.
        """
        rows = [
            (s.marketplace_id, m, s.current if self.group_by == "sku" else None, s.proposed)
            for s in self.skus
            for m in (s.members or [s.sku])
            if m != "*" and (all_skus or self.group_by != "sku" or s.proposed != s.current)
        ]
        out = pd.DataFrame(rows, columns=["marketplace_id", "sku", "current", "proposed"])
        return out.drop_duplicates(["marketplace_id", "sku"], keep="last").reset_index(drop=True)


def days_needed(
    orders: pd.DataFrame,
    rules: dict[str, DeadlineRule],
    calendar_days: pd.DataFrame | None,
    seller_days: pd.DataFrame | None,
    max_days: int = DEFAULT_MAX_DAYS,
) -> pd.DataFrame:
    """Days needed by each order, and the handling time its deadline in force implies.

    Parameters
    ----------
    orders : pandas.DataFrame
        ``seller_id, order_id, marketplace_id, purchased_at`` (UTC, tz-naive), ``last_confirmed_at``
        (UTC, tz-naive; may be null), ``stuck`` (bool: late whatever the deadline), ``latest_ship_at``
        (the deadline in force, UTC, tz-naive).
    rules, calendar_days, seller_days
        As :func:`cxops.deadlines.shipby.derive_ship_by`.
    max_days : int
        The largest handling time tried.

    Returns
    -------
    pandas.DataFrame
        ``orders`` (same index) with ``needed`` (``0 … max_days``, or :data:`NEVER`) and ``implied``
        (the smallest handling time whose deadline reaches the deadline in force; ``<NA>`` if none).
    """
    n, k = len(orders), max_days + 1
    out = orders.copy()
    if n == 0:
        out["needed"] = pd.Series(dtype="int64")
        out["implied"] = pd.Series(dtype="Int64")
        return out
    base = orders[["seller_id", "order_id", "marketplace_id", "purchased_at"]].reset_index(drop=True)
    rep = base.loc[np.repeat(np.arange(n), k)].reset_index(drop=True)
    rep["handling_days"] = np.tile(np.arange(k), n)
    due = derive_ship_by(rep, rules, calendar_days, seller_days)["latest_ship_at"]
    due = due.to_numpy().astype("datetime64[us]").reshape(n, k)
    confirmed = pd.to_datetime(orders["last_confirmed_at"]).to_numpy().astype("datetime64[us]")
    stuck = orders["stuck"].astype(bool).to_numpy()
    ok = (confirmed[:, None] <= due) & ~np.isnat(confirmed)[:, None] & ~stuck[:, None]
    out["needed"] = np.where(ok.any(axis=1), ok.argmax(axis=1), NEVER).astype(np.int64)
    current = pd.to_datetime(orders["latest_ship_at"]).to_numpy().astype("datetime64[us]")
    reach = (due >= current[:, None]) & ~np.isnat(current)[:, None]
    implied = pd.Series(np.where(reach.any(axis=1), reach.argmax(axis=1), -1), index=out.index, dtype="Int64")
    out["implied"] = implied.mask(implied < 0)
    return out


def advise(
    lines: pd.DataFrame,
    target: Target,
    settings: pd.DataFrame | None = None,
    min_days: int = DEFAULT_MIN_DAYS,
    max_days: int = DEFAULT_MAX_DAYS,
    by: str = "sku",
) -> tuple[list[SkuAdvice], dict[str, int]]:
    """Per-SKU proposals, and the seller's totals.

    Parameters
    ----------
    lines : pandas.DataFrame
        One row per (order, SKU): ``order_id, marketplace_id, sku`` (``"*"`` without a SKU),
        ``f_late`` (0/1, the engine's flag), ``needed`` and ``implied`` (:func:`days_needed`).
    target : Target
    settings : pandas.DataFrame, optional
        The setting in force per ``marketplace_id, sku`` (column ``handling_days``).
    min_days, max_days : int
        Bounds of a proposal.
    by : str
        The column of ``lines`` that names the group (``sku``, or e.g. ``group`` for SKU groups; the
        ``sku`` column then lists the members).

    Returns
    -------
    (list of SkuAdvice, dict)
        The SKUs sorted by marketplace and SKU; totals ``orders, late_had, late_would``.
    """
    if lines.empty:
        return [], {"orders": 0, "late_had": 0, "late_would": 0}
    lines = lines.assign(_group=lines[by])
    key = ["marketplace_id", "_group"]
    members = lines.groupby(key)["sku"].agg(lambda x: sorted(set(x))).to_dict()
    lines = lines.drop_duplicates(["order_id", *key]).reset_index(drop=True)  # an order once per group
    cand = np.arange(min_days, max_days + 1)
    need = lines["needed"].to_numpy()
    need_inf = np.where(need == NEVER, max_days + 1, need)
    # late_would[line, h] for every candidate h: one comparison, then sums per SKU
    late = need_inf[:, None] > cand[None, :]
    g = lines[key].copy()
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(g))
    n_groups = len(uniq)
    late_by = np.zeros((n_groups, len(cand)), np.int64)
    np.add.at(late_by, codes, late.astype(np.int64))
    count = np.bincount(codes, minlength=n_groups)
    had = np.bincount(codes, weights=lines["f_late"].to_numpy(), minlength=n_groups).astype(np.int64)
    rates = late_by / count[:, None]
    meets = target.met(rates)
    reachable = meets.any(axis=1)
    pick = np.where(reachable, meets.argmax(axis=1), rates.argmin(axis=1))
    proposed = cand[pick]
    late_would = late_by[np.arange(n_groups), pick]
    cur = _current(lines, key, uniq, settings if by == "sku" else None)
    out = []
    for i, (mp, sku) in enumerate(uniq):  # one row per SKU (a result, not a loop over orders)
        sel = need_inf[codes == i]
        dist = pd.Series(np.where(sel > max_days, NEVER, sel)).value_counts().sort_index()
        srt = np.sort(sel)
        pct = [int(srt[max(int(np.ceil(q * len(srt))) - 1, 0)]) for q in (0.5, 0.9, 1.0)]
        pct = [None if p > max_days else p for p in pct]
        out.append(
            SkuAdvice(
                marketplace_id=mp,
                sku=sku,
                orders=int(count[i]),
                late_had=int(had[i]),
                rate_had=float(had[i] / count[i]),
                current=cur[i][0],
                current_source=cur[i][1],
                proposed=int(proposed[i]),
                late_would=int(late_would[i]),
                rate_would=float(late_would[i] / count[i]),
                reachable=bool(reachable[i]),
                distribution={int(k): int(v) for k, v in dist.items()},
                p50=pct[0],
                p90=pct[1],
                p_max=pct[2],
                members=members[(mp, sku)],
            )
        )
    out.sort(key=lambda s: (s.marketplace_id, s.sku == "*", s.sku))
    # seller totals: each order once, at the largest proposal of its SKUs
    prop = pd.DataFrame([(s.marketplace_id, s.sku, s.proposed) for s in out], columns=[*key, "proposed"])
    per_line = lines.merge(prop, on=key, how="left")
    per_order = per_line.groupby("order_id").agg(
        needed=("needed", lambda x: max_days + 1 if (x == NEVER).any() else x.max()),
        proposed=("proposed", "max"),
        f_late=("f_late", "max"),
    )
    totals = {
        "orders": len(per_order),
        "late_had": int(per_order["f_late"].sum()),
        "late_would": int((per_order["needed"] > per_order["proposed"]).sum()),
    }
    return out, totals


def _current(lines, key, uniq, settings) -> list[tuple[int | None, str | None]]:
    known = {}
    if settings is not None and len(settings):
        known = {(r.marketplace_id, r.sku): int(r.handling_days) for r in settings.itertuples()}
    implied = (
        lines.dropna(subset=["implied"])
        .groupby(key)["implied"]
        .agg(lambda x: int(x.astype(int).mode().max()))
        .to_dict()
    )
    out = []
    for mp, sku in uniq:
        if (mp, sku) in known:
            out.append((known[(mp, sku)], "setting"))
        elif sku != "*" and (mp, "*") in known:
            out.append((known[(mp, "*")], "setting"))
        elif (mp, sku) in implied:
            out.append((implied[(mp, sku)], "implied"))
        else:
            out.append((None, None))
    return out


def preview(
    seller_id: str,
    rules: dict[str, DeadlineRule],
    calendars: dict[str, Calendar],
    calendar_days: pd.DataFrame | None,
    seller_days: pd.DataFrame | None,
    first_day: date,
    days: int,
    handling: dict[str, list[int]],
) -> list[PreviewRow]:
    """Ship-by dates of orders placed on each of ``days`` days from ``first_day``, before the cut-off.

    Parameters
    ----------
    handling : dict
        marketplace_id -> handling times to show (e.g. the current and proposed ones).
    calendars : dict
        marketplace_id -> the seller's calendar (to name the closed weekdays on the way).

    Returns
    -------
    list of PreviewRow
        Ordered by marketplace, handling time and order day.
    """
    frames = []
    for mp, hs in handling.items():
        rule = rules[mp]
        zone = ZoneInfo(rule.timezone)
        order_days = [first_day + timedelta(days=i) for i in range(days)]
        # one minute after local midnight: before any cut-off, on the order day
        instants = [
            datetime(d.year, d.month, d.day, 0, 1, tzinfo=zone)
            .astimezone(ZoneInfo("UTC"))
            .replace(tzinfo=None)
            for d in order_days
        ]
        grid = pd.DataFrame(
            [
                (seller_id, f"{d}/{h}", mp, t, h, d)
                for h in sorted(set(hs))
                for d, t in zip(order_days, instants, strict=True)
            ],
            columns=["seller_id", "order_id", "marketplace_id", "purchased_at", "handling_days", "order_day"],
        )
        frames.append(grid)
    if not frames:
        return []
    grid = pd.concat(frames, ignore_index=True)
    due = derive_ship_by(grid, rules, calendar_days, seller_days)
    names = holiday_names(rules, first_day, days + 7 * DEFAULT_MAX_DAYS)
    out = []
    for row, d in zip(
        grid.itertuples(), due.itertuples(), strict=True
    ):  # 14 days x a few settings: display rows
        cal = calendars[row.marketplace_id]
        lo = np.datetime64(row.order_day, "D")
        hi = np.datetime64(pd.Timestamp(d.ship_by_date).date(), "D")
        span = np.arange(lo, hi + 1)
        wd = (span.astype(np.int64) + 3) % 7
        closed = span[~cal.open_on(span) & ~np.isin(wd, list(rules[row.marketplace_id].weekend))]
        named = [(c.astype(object), names.get((row.marketplace_id, c.astype(object)), "")) for c in closed]
        out.append(
            PreviewRow(
                row.marketplace_id,
                row.order_day,
                int(row.handling_days),
                pd.Timestamp(d.received_date).date(),
                pd.Timestamp(d.ship_by_date).date(),
                pd.Timestamp(d.latest_ship_at).to_pydatetime(),
                named,
            )
        )
    return out


def holiday_names(rules: dict[str, DeadlineRule], first: date, days: int) -> dict[tuple[str, date], str]:
    """``(marketplace_id, day) -> name`` of the ``holidays`` library's days (observed included) from
    ``first`` for ``days`` days, for the marketplaces whose deadlines skip holidays."""
    out = {}
    last = first + timedelta(days=days)
    for mp, r in rules.items():
        if not r.skip_holidays:
            continue
        cal = holidays_lib.country_holidays(
            r.country, subdiv=r.subdivision, years=range(first.year, last.year + 1), observed=True
        )
        out.update({(mp, d): name for d, name in cal.items()})
    return out
