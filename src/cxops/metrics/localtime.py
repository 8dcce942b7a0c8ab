"""Marketplace-local calendar days of UTC instants, as a portable Ibis expression.

Deadlines and windows are judged in the marketplace's IANA time zone (``DESIGN.md``; field cases
C11 and C13). Ibis has no portable time-zone conversion, so the UTC offset in force at each instant is
computed from the zone's transitions (from :mod:`zoneinfo`) as a balanced tree of comparisons: about
``log2(number of transitions)`` comparisons per row, identical on DuckDB and Spark. Transitions are
taken for 1970–2045; outside that range the nearest known offset applies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

_FIRST_YEAR = 1970
_LAST_YEAR = 2045


def _offset_seconds(zone: ZoneInfo, instant: datetime) -> int:
    return int(instant.astimezone(zone).utcoffset().total_seconds())


@lru_cache(maxsize=64)
def offset_segments(tz: str) -> tuple[tuple[datetime | None, int], ...]:
    """UTC offset segments of a time zone.

    Returns
    -------
    tuple of (start, offset_seconds)
        ``start`` is a UTC-naive instant from which ``offset_seconds`` applies (``None`` for the first
        segment). Offsets are exact to the second.

    Raises
    ------
    zoneinfo.ZoneInfoNotFoundError
        For an unknown time zone name.
    """
    zone = ZoneInfo(tz)
    t = datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(_LAST_YEAR, 1, 1, tzinfo=UTC)
    current = _offset_seconds(zone, t)
    segments: list[tuple[datetime | None, int]] = [(None, current)]
    step = timedelta(days=1)
    while t < end:
        nxt = t + step
        off = _offset_seconds(zone, nxt)
        if off != current:
            lo, hi = t, nxt  # offset(lo) == current, offset(hi) != current
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    mid = lo + timedelta(seconds=1)
                if _offset_seconds(zone, mid) == current:
                    lo = mid
                else:
                    hi = mid
            segments.append((hi.replace(tzinfo=None), off))
            current = off
        t = nxt
    return tuple(segments)


def _tree(ts: ir.TimestampValue, segs: tuple[tuple[datetime | None, int], ...]) -> ir.IntegerValue:
    if len(segs) == 1:
        return ibis.literal(segs[0][1], type="int64")
    mid = len(segs) // 2
    boundary = segs[mid][0]
    left = _tree(ts, segs[:mid])
    right = _tree(ts, segs[mid:])
    return (ts < ibis.literal(boundary, type="timestamp")).ifelse(left, right)


def segments_within(
    tz: str, span: tuple[datetime, datetime] | None
) -> tuple[tuple[datetime | None, int], ...]:
    """The offset segments of ``tz`` that overlap ``span`` (UTC-naive ``(first, last)`` instants).

    Exact for every instant inside the span; keeps the comparison tree small (a two-year span of a
    zone with daylight saving has about five segments instead of ~150).
    """
    segs = offset_segments(tz)
    if span is None:
        return segs
    lo, hi = span
    keep: list[tuple[datetime | None, int]] = []
    for i, (start, off) in enumerate(segs):
        end = segs[i + 1][0] if i + 1 < len(segs) else None
        if (end is not None and end <= lo) or (start is not None and start > hi):
            continue
        keep.append((None if not keep else start, off))
    return tuple(keep) or (segs[-1],)


def offset_expr(
    ts: ir.TimestampValue,
    marketplace: ir.StringValue,
    zones: dict[str, str],
    span: tuple[datetime, datetime] | None = None,
) -> ir.IntegerValue:
    """UTC offset in seconds in force at ``ts`` in each row's marketplace time zone.

    Parameters
    ----------
    ts : timestamp column (UTC, tz-naive)
    marketplace : string column of marketplace ids
    zones : dict
        marketplace_id -> IANA time zone. Rows of other marketplaces get offset 0 (UTC).
    span : (datetime, datetime), optional
        The first and last instants the data holds; offsets are exact inside it (see
        :func:`segments_within`). Default: 1970–2045.
    """
    by_zone: dict[str, list[str]] = {}
    for mp, tz in sorted(zones.items()):
        by_zone.setdefault(tz, []).append(mp)
    branches = []
    for tz, mps in by_zone.items():
        segs = segments_within(tz, span)
        expr = _tree(ts, segs)
        cond = marketplace.isin(mps) if len(mps) > 1 else marketplace == mps[0]
        branches.append((cond, expr))
    if not branches:
        return ibis.literal(0, type="int64")
    if len(branches) == 1 and len(zones) > 0:
        cond, expr = branches[0]
        return cond.ifelse(expr, ibis.literal(0, type="int64"))
    return ibis.cases(*branches, else_=ibis.literal(0, type="int64"))


def local_date(
    ts: ir.TimestampValue,
    marketplace: ir.StringValue,
    zones: dict[str, str],
    span: tuple[datetime, datetime] | None = None,
) -> ir.DateValue:
    """Marketplace-local calendar date of a UTC instant (null stays null).

    Example: ``2024-03-01T07:30Z`` in US (America/Los_Angeles) is 2024-02-29; ``2024-03-11T07:30Z``
    is 2024-03-11 (PDT, after the DST change) — field case C13.
    """
    off = offset_expr(ts, marketplace, zones, span)
    return (ts + off.as_interval("s")).date()
