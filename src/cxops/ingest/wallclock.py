"""Turning naive local wall-clock times of a source into UTC instants.

One rule, used by every importer of naive local times:

* a **nonexistent** local time (clocks jumped forward; e.g. 2017-10-15 00:30 in São Paulo) is
  shifted forward to the first valid instant (``nonexistent="shift_forward"``: 01:00 local);
* an **ambiguous** local time (clocks fell back; e.g. 2018-02-17 23:30 in São Paulo occurs twice) is
  taken as the *earlier* instant, the daylight-saving one (``ambiguous=True``).

It never raises on a DST edge. Results are UTC, timezone-naive ``datetime64[us]`` (the canonical
convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxops.canonical.schema import RELATIVE_TIME_WORDS

_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


@dataclass
class LocalizeStats:
    """How many values hit a DST edge: ``shifted`` (nonexistent), ``ambiguous`` (earlier taken)."""

    shifted: int = 0
    ambiguous: int = 0

    def __iadd__(self, other: LocalizeStats) -> LocalizeStats:
        self.shifted += other.shifted
        self.ambiguous += other.ambiguous
        return self


def parse_wallclock(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse raw values to naive wall-clock ``datetime64[us]``.

    A timezone label (a tz-aware Arrow/pandas column, or an offset suffix in text) is dropped
    *without converting*: the wall-clock reading is kept. Use only for sources whose labels are known
    to be wrong (the shared Olist Parquet labels local times as UTC).

    Returns
    -------
    parsed : pandas.Series
        ``datetime64[us]``, ``NaT`` where blank or unparseable; relative words (``now``, ``today`` …)
        are unparseable.
    invalid : pandas.Series of bool
        True where a non-blank value could not be parsed.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_localize(None)
        return parsed.astype("datetime64[us]"), pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]"), pd.Series(False, index=values.index)
    txt = values.astype("string").str.strip()
    blank = (txt.isna() | (txt == "")).fillna(True).astype(bool)
    # "now", "today" … name the moment of reading, not of the event: never parsed (pandas would)
    relative = txt.str.lower().isin(RELATIVE_TIME_WORDS).fillna(False).astype(bool)
    txt = txt.mask(blank | relative)
    try:
        parsed = pd.to_datetime(txt, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):  # mixed offsets: drop them, keep the wall clock
        parsed = pd.to_datetime(txt.str.replace(_OFFSET, "", regex=True), errors="coerce", format="ISO8601")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    parsed = parsed.astype("datetime64[us]")
    return parsed, (~blank & parsed.isna()) | relative


def local_to_utc(naive: pd.Series, tz: str) -> tuple[pd.Series, LocalizeStats]:
    """Localize naive wall-clock times in ``tz`` with the module's DST rule, then convert to UTC.

    Parameters
    ----------
    naive : pandas.Series
        ``datetime64`` without time zone (``NaT`` allowed).
    tz : str
        IANA time zone.

    Returns
    -------
    utc : pandas.Series
        UTC instants, timezone-naive ``datetime64[us]``.
    stats : LocalizeStats
        Counts of nonexistent (shifted) and ambiguous (earlier instant taken) values.
    """
    naive = naive.astype("datetime64[us]")
    n = len(naive)
    local = naive.dt.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="shift_forward")
    stats = LocalizeStats()
    if n:
        gap = naive.dt.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
        later = naive.dt.tz_localize(tz, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
        stats.shifted = int((gap.isna() & naive.notna()).sum())
        stats.ambiguous = int((gap.notna() & (gap != later)).sum())
    utc = local.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return utc, stats


def end_of_local_day_utc(naive: pd.Series, tz: str) -> tuple[pd.Series, LocalizeStats]:
    """The last microsecond (23:59:59.999999 local) of each value's local calendar day, in UTC.

    The time of day of the input is ignored. The DST rule of :func:`local_to_utc` applies (an
    ambiguous 23:59:59.999999 is taken as the earlier, daylight-saving instant).
    """
    day = naive.astype("datetime64[us]").dt.normalize()
    return local_to_utc(day + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1), tz)
