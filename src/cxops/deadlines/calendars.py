"""Which marketplace-local days are open for handling and carrier pickup, and business-day offsets.

A *calendar* is a run of local days with an open/closed flag, built from

1. the marketplace's working week (``marketplaces.weekend``, e.g. ``"SAT,SUN"``; ``"SUN"`` for a
   Monday–Saturday week);
2. the public holidays of its country and subdivision from the ``holidays`` library, **including
   observed days** (US Independence Day on Saturday 2026-07-04 is observed on Friday 2026-07-03) —
   only where the marketplace's rule says its deadlines skip holidays (some skip weekends only);
3. the marketplace's own extra days (``calendar_days``: a holiday the library lacks, or a library
   holiday that is a working day);
4. per seller, their overrides (``seller_calendar_days``: a non-operating day such as holiday mode,
   or a weekend day or holiday the seller works).

The carrier calendar (the days carriers pick up) is a separate calendar: the marketplace's carrier
weekend (default: its weekend), the same library holidays, and the ``calendar_days`` rows of calendar
``carrier``.

Offsets are vectorised: one cumulative sum over the calendar's days and one lookup per order, never a
loop per order (:meth:`Calendar.offset`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

import holidays as holidays_lib
import numpy as np
import pandas as pd

from cxops.errors import InputError

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
#: Day conventions: is the (business) day an order counts as received day 0 or day 1 of its handling time?
DAY_CONVENTIONS = ("day0", "day1")
#: Default cut-off time of same-day handling (marketplace local time) when a rule declares none.
DEFAULT_CUTOFF = time(14, 0)


def weekend_days(weekend: str | None) -> frozenset[int]:
    """Weekday numbers (Monday = 0) of a weekend string such as ``"SAT,SUN"``.

    ``None`` or an empty string means Saturday and Sunday (the contract's default).

    Raises
    ------
    InputError
        For a name that is not one of ``MON … SUN``.
    """
    if weekend is None or (isinstance(weekend, float) and np.isnan(weekend)) or not str(weekend).strip():
        return frozenset({5, 6})
    out = set()
    for part in str(weekend).split(","):
        name = part.strip().upper()[:3]
        if not name:
            continue
        if name not in WEEKDAYS:
            raise InputError(
                f"weekend {weekend!r}: {part.strip()!r} is not a weekday",
                hint="write days as MON,TUE,WED,THU,FRI,SAT,SUN separated by commas, e.g. SAT,SUN",
            )
        out.add(WEEKDAYS.index(name))
    return frozenset(out)


def parse_time(value, what: str) -> time | None:
    """A local time of day from ``"HH:MM"`` (or ``"HH:MM:SS"``); ``None`` for a missing value.

    Raises
    ------
    InputError
        Naming ``what`` (table, marketplace, column) when the value is not a time of day.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, time):
        return value
    text = str(value).strip()
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{what}: {text!r} is not a time of day", hint="write a local time as HH:MM, e.g. 14:00"
        ) from None


@dataclass(frozen=True)
class DeadlineRule:
    """How one marketplace computes ship-by deadlines (one ``deadline_rules`` row over the defaults).

    Attributes
    ----------
    marketplace_id, timezone, country : str
        From ``marketplaces``; ``country`` (ISO 3166 alpha-2) selects the ``holidays`` calendar.
    weekend : frozenset of int
        Closed weekdays (Monday = 0), from ``marketplaces.weekend``.
    subdivision : str, optional
        ``holidays`` subdivision (a state, province, Land), e.g. ``"BY"`` for Bavaria.
    skip_holidays : bool
        Whether deadlines skip public holidays (default ``True``); ``False``: weekends only.
    cutoff : datetime.time
        Local cut-off: an order placed at or after it counts as received the next day (default 14:00).
    deadline_time : datetime.time
        Local time of day of the deadline on the ship-by date (default: the cut-off).
    order_day : str
        ``"day0"`` (default): the day an order counts as received is day 0, so a handling time of
        ``n`` business days ends on the ``n``-th business day after it; ``"day1"``: it is day 1, so
        the deadline is the ``max(n - 1, 0)``-th business day after it.
    default_handling_days : int, optional
        Handling time of orders with no SKU or seller setting; ``None``: no deadline is derived.
    carrier_weekend : frozenset of int
        Weekdays carriers do not pick up (default: ``weekend``).
    """

    marketplace_id: str
    timezone: str
    country: str
    weekend: frozenset[int] = frozenset({5, 6})
    subdivision: str | None = None
    skip_holidays: bool = True
    cutoff: time = DEFAULT_CUTOFF
    deadline_time: time | None = None
    order_day: str = "day0"
    default_handling_days: int | None = None
    carrier_weekend: frozenset[int] | None = None

    @property
    def due_time(self) -> time:
        """The local time of day of a deadline."""
        return self.deadline_time or self.cutoff


def deadline_rules(marketplaces: pd.DataFrame, rules: pd.DataFrame | None) -> dict[str, DeadlineRule]:
    """The deadline rule of each marketplace: its ``marketplaces`` row and its ``deadline_rules`` row.

    Parameters
    ----------
    marketplaces : pandas.DataFrame
        ``marketplace_id, timezone, country[, weekend]``.
    rules : pandas.DataFrame, optional
        Canonical ``deadline_rules`` rows (absent: every marketplace uses the defaults).

    Raises
    ------
    InputError
        A bad weekend, cut-off or deadline time (named by marketplace and column), an unknown
        day convention, or a country / subdivision the ``holidays`` library does not know.
    """
    by_mp = {}
    if rules is not None and len(rules):
        by_mp = {r["marketplace_id"]: r for r in rules.to_dict("records")}
    out = {}
    for m in marketplaces.to_dict("records"):
        mp = m["marketplace_id"]
        r = by_mp.get(mp, {})
        weekend = weekend_days(m.get("weekend"))
        where = f"deadline_rules, marketplace {mp}"
        order_day = _value(r.get("order_day")) or "day0"
        if order_day not in DAY_CONVENTIONS:
            raise InputError(f"{where}, order_day: {order_day!r} is not one of {', '.join(DAY_CONVENTIONS)}")
        skip = _value(r.get("skip_holidays"))
        handling = _value(r.get("default_handling_days"))
        carrier = _value(r.get("carrier_weekend"))
        rule = DeadlineRule(
            marketplace_id=mp,
            timezone=m["timezone"],
            country=str(m["country"]).upper(),
            weekend=weekend,
            subdivision=_value(r.get("holiday_subdivision")),
            skip_holidays=True if skip is None else bool(skip),
            cutoff=parse_time(r.get("cutoff"), f"{where}, cutoff") or DEFAULT_CUTOFF,
            deadline_time=parse_time(r.get("deadline_time"), f"{where}, deadline_time"),
            order_day=order_day,
            default_handling_days=None if handling is None else int(handling),
            carrier_weekend=None if carrier is None else weekend_days(carrier),
        )
        if rule.skip_holidays:
            public_holidays(rule.country, rule.subdivision, 2024, 2024)  # fail early on an unknown country
        out[mp] = rule
    return out


def _value(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


@lru_cache(maxsize=256)
def public_holidays(country: str, subdivision: str | None, first_year: int, last_year: int) -> np.ndarray:
    """Public holidays of a country (and subdivision) from the ``holidays`` library, observed days included.

    Returns
    -------
    numpy.ndarray of datetime64[D]
        Sorted, unique local dates of ``first_year`` … ``last_year`` (inclusive).

    Raises
    ------
    InputError
        If the library does not know the country or subdivision.
    """
    try:
        cal = holidays_lib.country_holidays(
            country, subdiv=subdivision, years=range(first_year, last_year + 1), observed=True
        )
    except NotImplementedError as e:  # the library's error for an unknown country or subdivision
        what = f"country {country!r}" + (f", subdivision {subdivision!r}" if subdivision else "")
        raise InputError(
            f"the holidays library has no calendar for {what}: {e}",
            hint="fix marketplaces.country or deadline_rules.holiday_subdivision (a code of the holidays "
            "library, e.g. US states CA, NY; DE: BY), or set skip_holidays = false for this marketplace",
        ) from None
    return np.array(sorted(cal.keys()), dtype="datetime64[D]")


@dataclass(frozen=True)
class Calendar:
    """Open / closed local days from ``start`` on: the basis of business-day offsets.

    Attributes
    ----------
    start : numpy.datetime64
        First day (``datetime64[D]``).
    is_open : numpy.ndarray of bool
        ``is_open[i]`` is day ``start + i``.
    """

    start: np.datetime64
    is_open: np.ndarray

    @property
    def end(self) -> np.datetime64:
        """The day after the last day covered."""
        return self.start + len(self.is_open)

    def open_on(self, days: np.ndarray) -> np.ndarray:
        """Whether each of ``days`` (``datetime64[D]``) is open."""
        return self.is_open[self._index(days)]

    def offset(self, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The ``n``-th open day after the first open day on or after each of ``days``.

        Like ``numpy.busday_offset(days, n, roll="forward")`` but on this calendar (which may open a
        weekend day or close a weekday per seller): a day that is closed counts as the next open day.

        Parameters
        ----------
        days : numpy.ndarray of datetime64[D]
        n : int or numpy.ndarray of int
            Open days to add (``>= 0``).

        Returns
        -------
        numpy.ndarray of datetime64[D]

        Raises
        ------
        InputError
            If a day is outside the calendar, or no open day follows within it.
        """
        idx = self._index(days)
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), idx.shape)
        if (n < 0).any():
            raise InputError("a handling time is negative")
        opens = np.flatnonzero(self.is_open)
        before = np.concatenate([[0], np.cumsum(self.is_open)])[idx]  # open days strictly before each day
        k = before + n
        if len(opens) == 0 or (k >= len(opens)).any():
            raise InputError(
                "no open day within the calendar after an order's received day",
                hint="check seller_calendar_days: a seller closed for the whole period has no deadline",
            )
        return self.start + opens[k]

    def _index(self, days: np.ndarray) -> np.ndarray:
        i = (np.asarray(days, dtype="datetime64[D]") - self.start).astype(np.int64)
        if len(i) and (i.min() < 0 or i.max() >= len(self.is_open)):
            raise InputError(f"a day is outside the calendar {self.start} … {self.end - 1}")
        return i


def build_calendar(
    start: date | np.datetime64,
    end: date | np.datetime64,
    weekend: frozenset[int],
    holidays: np.ndarray | None = None,
    closed: np.ndarray | None = None,
    opened: np.ndarray | None = None,
) -> Calendar:
    """A calendar of the days ``start`` … ``end`` (inclusive).

    Parameters
    ----------
    weekend : frozenset of int
        Closed weekdays (Monday = 0).
    holidays : datetime64[D] array, optional
        Closed days (public holidays).
    closed, opened : datetime64[D] arrays, optional
        Overrides applied last, in this order: days closed, then days opened (an override that
        opens a day wins over one that closes it).
    """
    s = np.datetime64(start, "D")
    days = np.arange(s, np.datetime64(end, "D") + 1)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    is_open = ~np.isin(weekday, list(weekend))
    for arr, value in ((holidays, False), (closed, False), (opened, True)):
        if arr is not None and len(arr):
            i = (np.asarray(arr, dtype="datetime64[D]") - s).astype(np.int64)
            i = i[(i >= 0) & (i < len(days))]
            is_open[i] = value
    return Calendar(s, is_open)


def marketplace_calendar(
    rule: DeadlineRule,
    start: date,
    end: date,
    days: pd.DataFrame | None = None,
    calendar: str = "public",
) -> Calendar:
    """The marketplace's calendar (``calendar="public"``) or its carrier calendar (``"carrier"``).

    Parameters
    ----------
    rule : DeadlineRule
    start, end : datetime.date
        Inclusive span.
    days : pandas.DataFrame, optional
        Canonical ``calendar_days`` rows (any marketplaces and calendars; the rule's are used).
    calendar : {"public", "carrier"}

    Notes
    -----
    Library holidays apply only when ``rule.skip_holidays``; the marketplace's own ``calendar_days``
    rows always apply (a declared closure is a closure). The carrier calendar closes the carrier
    weekend and the same library holidays, then its own rows.
    """
    weekend = rule.weekend if calendar == "public" else (rule.carrier_weekend or rule.weekend)
    hol = None
    if rule.skip_holidays:
        hol = public_holidays(rule.country, rule.subdivision, start.year, end.year)
    closed = opened = None
    if days is not None and len(days):
        mine = days[(days["marketplace_id"] == rule.marketplace_id) & (days["calendar"] == calendar)]
        closed, opened = _split(mine)
    return build_calendar(start, end, weekend, hol, closed, opened)


def seller_calendar(base: Calendar, overrides: pd.DataFrame) -> Calendar:
    """``base`` with a seller's ``seller_calendar_days`` rows applied (closed days, then opened days)."""
    closed, opened = _split(overrides)
    is_open = base.is_open.copy()
    for arr, value in ((closed, False), (opened, True)):
        i = (arr - base.start).astype(np.int64)
        is_open[i[(i >= 0) & (i < len(is_open))]] = value
    return Calendar(base.start, is_open)


def _split(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    day = pd.to_datetime(rows["day"]).to_numpy().astype("datetime64[D]")
    closed = rows["closed"].astype(bool).to_numpy()
    return day[closed], day[~closed]
