"""Marketplace-local time for the generator: IANA offsets, deadline tables and the day-weight curve.

Everything here is computed once in Python (``zoneinfo``, ``holidays``, numpy) for a few thousand
days and handed to DuckDB as small tables or SQL expressions, so the per-order work in the engine is
arithmetic and hash joins:

* :func:`transitions` lists a zone's UTC-offset changes (DST) in a span; :func:`to_utc_sql` and
  :func:`to_local_sql` turn them into a ``CASE`` that converts epoch seconds between local wall-clock
  time and UTC. A local time in the spring-forward gap is taken with the offset after the change; an
  ambiguous one (fall back) as the first, daylight-saving, occurrence.
* :func:`deadline_table`: for every marketplace, base day and day count, the day reached by adding
  business days (weekend and the country's public holidays skipped; Monday–Friday for handling,
  Monday–Saturday for delivery) or calendar days, and the UTC instant of 23:59:59 local on that day.
* :func:`day_weights`: the purchase-day curve (Olist weekday mix times a yearly season) and its
  cumulative sum, with a bucket table that inverts it by a hash join.

Days are integers counted from the first day of the period (day 0); "local epoch" seconds are the
local wall-clock time written as if it were UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.synth.calibration import value

#: Deadline kinds of :func:`deadline_table`.
HANDLING, DELIVERY, CALENDAR = 0, 1, 2
#: Largest day count in the deadline table, and days of slack before / after the period.
MAX_COUNT = 15
_BEFORE, _AFTER = 2, 60
#: Buckets per unit of cumulative day weight (each bucket spans at most two days: weights >= 0.25).
BUCKETS = 4
_EPOCH = date(1970, 1, 1)


def epoch_day(d: date) -> int:
    """Days from 1970-01-01 to ``d``."""
    return (d - _EPOCH).days


def transitions(zone: str, first: date, last: date) -> tuple[int, list[tuple[int, int]]]:
    """UTC-offset changes of ``zone`` between two days.

    Returns
    -------
    tuple
        ``(offset at first, [(utc_epoch_of_change, offset_after), ...])``; offsets in seconds east of
        UTC, changes in time order.
    """
    tz = ZoneInfo(zone)

    def off(t: int) -> int:
        return int(datetime.fromtimestamp(t, UTC).astimezone(tz).utcoffset().total_seconds())

    t = epoch_day(first) * 86400
    end = epoch_day(last) * 86400
    first_off = current = off(t)
    out = []
    while t < end:
        nxt = t + 86400
        if off(nxt) != current:
            lo, hi = t, nxt  # the change is in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if off(mid) == current else (lo, mid)
            current = off(hi)
            out.append((hi, current))
        t = nxt
    return first_off, out


def _case(code: str, branches: list[str]) -> str:
    return f"(CASE {code} {' '.join(branches)} END)"


def to_utc_sql(code: str, local: str, mps: list[str], first: date, last: date) -> str:
    """SQL: UTC epoch seconds of the local epoch seconds ``local`` in marketplace number ``code``.

    ``mps[code]`` names the marketplace; offsets are exact for instants between ``first`` and
    ``last`` (outside, the nearest offset in that span is used).
    """
    branches = []
    for k, mp in enumerate(mps):
        off0, changes = transitions(BUILTIN_MARKETPLACES[mp][0], first, last)
        inner = [
            f"WHEN {local} < {t + prev} THEN {prev}"
            for (t, _), prev in zip(changes, _prev(off0, changes), strict=True)
        ]
        last_off = changes[-1][1] if changes else off0
        offset = f"(CASE {' '.join(inner)} ELSE {last_off} END)" if inner else str(last_off)
        branches.append(f"WHEN {k} THEN {local} - {offset}")
    return _case(code, branches)


def to_local_sql(code: str, utc: str, mps: list[str], first: date, last: date) -> str:
    """SQL: local epoch seconds of the UTC epoch seconds ``utc`` in marketplace number ``code``."""
    branches = []
    for k, mp in enumerate(mps):
        off0, changes = transitions(BUILTIN_MARKETPLACES[mp][0], first, last)
        inner = [
            f"WHEN {utc} < {t} THEN {prev}"
            for (t, _), prev in zip(changes, _prev(off0, changes), strict=True)
        ]
        last_off = changes[-1][1] if changes else off0
        offset = f"(CASE {' '.join(inner)} ELSE {last_off} END)" if inner else str(last_off)
        branches.append(f"WHEN {k} THEN {utc} + {offset}")
    return _case(code, branches)


def _prev(off0: int, changes: list[tuple[int, int]]) -> list[int]:
    """The offset in force before each change."""
    return [off0, *[o for _, o in changes[:-1]]] if changes else []


def local_midnight_utc(zone: str, day: date) -> int:
    """UTC epoch seconds of 00:00 local on ``day`` (the first instant of that local day)."""
    tz = ZoneInfo(zone)
    naive = datetime(day.year, day.month, day.day)
    local = naive.replace(tzinfo=tz, fold=0)
    t = int(local.timestamp())
    # 00:00 may not exist (a DST change at midnight): the day then starts at the change
    back = datetime.fromtimestamp(t, UTC).astimezone(tz).replace(tzinfo=None)
    return t if back >= naive else int(local.replace(fold=1).timestamp())


def _weekmask(mp: str, saturday_works: bool) -> str:
    weekend = {d.strip().upper() for d in BUILTIN_MARKETPLACES[mp][3].split(",") if d.strip()}
    if saturday_works:
        weekend.discard("SAT")
    names = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
    return "".join("0" if n in weekend else "1" for n in names)


def deadline_table(mps: list[str], start: date, days: int, pairs: list[tuple[int, int]]) -> pd.DataFrame:
    """Deadline days and their end-of-day UTC instants, per marketplace, kind, base day and count.

    Parameters
    ----------
    mps : list of str
        Marketplaces; row ``code`` is the position in this list.
    start : date
        Day 0 of the period.
    days : int
        Length of the period; base days run from -2 to ``days + 60``.
    pairs : list of (kind, count)
        The (kind, day count) combinations to tabulate (kinds :data:`HANDLING`, :data:`DELIVERY`,
        :data:`CALENDAR`; counts up to :data:`MAX_COUNT`).

    Returns
    -------
    pandas.DataFrame
        ``key`` (int64: :func:`deadline_key`), ``day`` (int64, day number of the deadline) and
        ``eod`` (int64, UTC epoch seconds of 23:59:59 local on that day). Business days roll forward
        first (``numpy.busday_offset(roll="forward")``): a base day on a weekend or holiday counts
        from the next business day.
    """
    base = np.arange(-_BEFORE, days + _AFTER)
    base_dates = np.datetime64(start, "D") + base
    first_year, last_year = start.year - 1, (start + timedelta(days=days + _AFTER + 60)).year + 1
    frames = []
    for code, mp in enumerate(mps):
        zone, country = BUILTIN_MARKETPLACES[mp][0], BUILTIN_MARKETPLACES[mp][1]
        hol = np.array(
            sorted(holidays_lib.country_holidays(country, years=range(first_year, last_year + 1))),
            dtype="datetime64[D]",
        )
        targets = []
        for kind, n in pairs:
            if kind == CALENDAR:
                target = base_dates + n
            else:
                mask = _weekmask(mp, saturday_works=kind == DELIVERY)
                target = np.busday_offset(base_dates, n, roll="forward", weekmask=mask, holidays=hol)
            tday = (target - np.datetime64(start, "D")).astype(np.int64)
            targets.append((deadline_key(code, kind, base, n), tday))
        lo = min(int(t.min()) for _, t in targets)
        hi = max(int(t.max()) for _, t in targets)
        # 23:59:59 local = the next local midnight minus one second
        eod = np.array(
            [local_midnight_utc(zone, start + timedelta(days=d + 1)) - 1 for d in range(lo, hi + 1)],
            dtype=np.int64,
        )
        for key, tday in targets:
            frames.append(pd.DataFrame({"key": key, "day": tday, "eod": eod[tday - lo]}))
    return pd.concat(frames, ignore_index=True)


def deadline_key(code, kind, base, n):
    """The join key of :func:`deadline_table` (works on ints, numpy arrays and SQL text)."""
    if isinstance(code, str) or isinstance(base, str):
        return f"((({code}) * 4 + ({kind})) * 1099511627776 + (({base}) + {_BEFORE}) * 16 + ({n}))"
    return ((np.int64(code) * 4 + kind) << 40) + (np.asarray(base, dtype=np.int64) + _BEFORE) * 16 + n


def _season(days: pd.DatetimeIndex) -> np.ndarray:
    s = value("season")
    doy = days.day_of_year.to_numpy()
    return (
        1.0
        + s["q4"] * np.cos(2 * np.pi * (doy - 355) / 365.25)
        + s["black_friday"] * np.exp(-0.5 * ((doy - 331) / 4.0) ** 2)
        + s["prime_day"] * np.exp(-0.5 * ((doy - 195) / 1.5) ** 2)
    )


def day_weights(start: date, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The purchase-day curve of the period and its inverse.

    Returns
    -------
    tuple of pandas.DataFrame
        ``days``: ``d`` (day number, 0 .. ``days``), ``cum`` (sum of the weights of the days before
        ``d``; the weights have mean 1, so ``cum`` at ``days`` equals ``days``). ``buckets``: ``b``,
        ``d0``, ``next_cum``: a cumulative weight ``s`` falls on day ``d0 + (s >= next_cum)`` where
        ``b = floor(s * BUCKETS)``.
    """
    idx = pd.date_range(start, periods=days, freq="D")
    weekday = np.asarray(value("weekday_mix"), dtype=float) * 7
    w = weekday[idx.day_of_week.to_numpy()] * _season(idx)
    w = w / w.mean()
    cum = np.concatenate([[0.0], np.cumsum(w)])
    cum[-1] = float(days)  # exact end despite rounding
    b = np.arange(int(np.ceil(days * BUCKETS)) + 1)
    lo = b / BUCKETS
    d0 = np.clip(np.searchsorted(cum, lo, side="right") - 1, 0, days - 1)
    buckets = pd.DataFrame({"b": b.astype(np.int64), "d0": d0.astype(np.int64), "next_cum": cum[d0 + 1]})
    return pd.DataFrame({"d": np.arange(days + 1, dtype=np.int64), "cum": cum}), buckets
