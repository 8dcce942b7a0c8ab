"""Dates and times in Amazon reports, parsed per value without guessing the field order.

* **ISO 8601** (``2024-05-01T10:00:00+00:00``, ``2024-05-01 10:00:00 PDT``, ``2024-05-01``): the
  offset or zone abbreviation is applied; a value without one is marketplace local time.
* **Numeric day/month forms** (``5/4/24``, ``05.04.2024 10:00``): the field order and separator come
  from the marketplace (:data:`DATE_STYLES`, case C3; Airbyte's
  ``SellerFeedbackReportsTypeTransformer``: US ``M/D/YY``, DE ``D.M.YY``, JP ``YY/M/D``, SE ISO,
  others ``D/M/YY``), never from the value. Two-digit years are 20YY.
* **Month names** (``15-Apr-2024``, ``Apr 15, 2024``; English abbreviations): unambiguous.

Each value is classified on its own (vectorised regular expressions), so a column with mixed formats
parses every value that has one of the accepted forms; the others are reported invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxops.ingest.wallclock import local_to_utc


@dataclass(frozen=True)
class DateStyle:
    """A marketplace's numeric date form: ``order`` ``MDY``/``DMY``/``YMD``/``ISO``, ``sep``, ``label``."""

    order: str
    sep: str
    label: str


#: Marketplace → numeric date form of its reports (C3).
DATE_STYLES: dict[str, DateStyle] = {
    "US": DateStyle("MDY", "/", "M/D/YY"),
    "DE": DateStyle("DMY", ".", "D.M.YY"),
    "JP": DateStyle("YMD", "/", "YY/M/D"),
    "SE": DateStyle("ISO", "-", "YYYY-MM-DD"),
}
DEFAULT_STYLE = DateStyle("DMY", "/", "D/M/YY")

#: Zone abbreviations seen in Amazon reports → UTC offset.
ZONE_OFFSETS = {
    "Z": "+00:00",
    "UTC": "+00:00",
    "GMT": "+00:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "CST": "-06:00",
    "CDT": "-05:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "BST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "JST": "+09:00",
    "AEST": "+10:00",
    "AEDT": "+11:00",
}
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}

_TIME = r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?))?"
_ZONE = r"(?:\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{2,5}))?"
_ISO = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TIME + _ZONE + "$"
_MON_FIRST = r"^(?P<mon>[A-Za-z]{3})[A-Za-z]*\.? (?P<d>\d{1,2}),? (?P<y>\d{4})" + _TIME + _ZONE + "$"
_DAY_FIRST = r"^(?P<d>\d{1,2})[- ](?P<mon>[A-Za-z]{3})[A-Za-z]*\.?[- ](?P<y>\d{4})" + _TIME + _ZONE + "$"


def date_style(marketplace: str) -> DateStyle:
    """The numeric date form of ``marketplace`` (:data:`DATE_STYLES`, else ``D/M/YY``)."""
    return DATE_STYLES.get(marketplace, DEFAULT_STYLE)


def _numeric_pattern(style: DateStyle, with_time: bool) -> str | None:
    if style.order == "ISO":
        return None
    sep = "\\" + style.sep
    a, b, c = {"MDY": ("m", "d", "y"), "DMY": ("d", "m", "y"), "YMD": ("y", "m", "d")}[style.order]
    part = {"y": r"(?P<y>\d{2}|\d{4})", "m": r"(?P<m>\d{1,2})", "d": r"(?P<d>\d{1,2})"}
    tail = (_TIME + _ZONE) if with_time else ""
    return f"^{part[a]}{sep}{part[b]}{sep}{part[c]}{tail}$"


def _assemble(parts: pd.DataFrame) -> pd.Series:
    """ISO text ``YYYY-MM-DDTHH:MM:SS`` from extracted ``y, m, d[, mon][, time]`` columns."""
    y = parts["y"].astype("string")
    y = y.where(y.str.len() == 4, "20" + y)
    if "mon" in parts:
        m = parts["mon"].astype("string").str.lower().map(_MONTHS, na_action="ignore").astype("Int64")
        m = m.astype("string")
    else:
        m = parts["m"].astype("string")
    d = parts["d"].astype("string")
    t = (
        parts["time"].astype("string")
        if "time" in parts
        else pd.Series(pd.NA, index=parts.index, dtype="string")
    )
    t = t.str.replace(",", ".", regex=False)
    t = t.where(t.str.count(":") != 1, t + ":00").fillna("00:00:00")
    hh = t.str.split(":").str[0].str.zfill(2)
    rest = t.str.split(":", n=1).str[1]
    return y + "-" + m.str.zfill(2) + "-" + d.str.zfill(2) + "T" + hh + ":" + rest


def _offsets(zone: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalised ``±HH:MM`` offsets and a mask of unknown zone labels."""
    z = zone.astype("string").str.upper()
    num = z.str.match(r"^[+-]\d{2}(:?\d{2})?$").fillna(False).astype(bool)
    norm = z.where(~num, z.str[:3] + ":" + z.str[-2:].where(z.str.len() > 3, "00"))
    norm = norm.where(num, z.map(ZONE_OFFSETS, na_action="ignore"))
    unknown = (z.notna() & norm.isna()).fillna(False).astype(bool)
    return norm.astype("string"), unknown


def _parse(values: pd.Series, style: DateStyle, with_time: bool, names: bool) -> pd.DataFrame:
    """Per value: ``iso`` (naive local ISO text), ``offset`` (or NA), ``bad`` (non-blank, no form)."""
    txt = values.astype("string").str.strip()
    blank = (txt.isna() | (txt == "")).fillna(True).astype(bool)
    iso = pd.Series(pd.NA, index=values.index, dtype="string")
    off = pd.Series(pd.NA, index=values.index, dtype="string")
    bad_zone = pd.Series(False, index=values.index)
    patterns = [_ISO if with_time else r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"]
    num = _numeric_pattern(style, with_time)
    if num:
        patterns.append(num)
    if names:
        patterns += [_MON_FIRST, _DAY_FIRST]
    for pat in patterns:
        todo = (~blank & iso.isna()).to_numpy()
        if not todo.any():
            break
        ex = txt[todo].str.extract(pat)
        hit = ex["y"].notna()
        if not hit.any():
            continue
        ex = ex[hit]
        iso.loc[ex.index] = _assemble(ex)
        if "zone" in ex:
            o, unknown = _offsets(ex["zone"])
            off.loc[ex.index] = o
            bad_zone.loc[ex.index] = unknown
    return pd.DataFrame({"iso": iso, "offset": off, "blank": blank, "bad_zone": bad_zone})


def parse_instants(values: pd.Series, marketplace: str, tz: str) -> tuple[pd.Series, pd.Series]:
    """Parse report timestamps to UTC instants.

    Parameters
    ----------
    values : pandas.Series
        Raw text.
    marketplace : str
        Our marketplace id (numeric date form, :func:`date_style`).
    tz : str
        IANA zone for values without an offset (the DST rule of :mod:`cxops.ingest.wallclock`).

    Returns
    -------
    utc : pandas.Series
        UTC, timezone-naive ``datetime64[us]``; ``NaT`` where blank or invalid.
    invalid : pandas.Series of bool
        Non-blank values with no accepted form, an impossible date, or an unknown zone label.
    """
    p = _parse(values, date_style(marketplace), with_time=True, names=True)
    naive = pd.to_datetime(p["iso"], errors="coerce", format="ISO8601").astype("datetime64[us]")
    zoned = p["offset"].notna() & ~p["bad_zone"]
    utc = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if zoned.any():
        shift = _offset_delta(p.loc[zoned, "offset"])
        utc[zoned] = (naive[zoned] - shift).astype("datetime64[us]")
    local = (~zoned & p["offset"].isna()).to_numpy()
    if local.any():
        utc[local], _ = local_to_utc(naive[local], tz)
    invalid = ~p["blank"] & (utc.isna() | p["bad_zone"])
    utc = utc.where(~p["bad_zone"])
    return utc.astype("datetime64[us]"), invalid.astype(bool)


def _offset_delta(offset: pd.Series) -> pd.Series:
    sign = offset.str[0].map({"+": 1, "-": -1}).astype("int64")
    hours = offset.str[1:3].astype("int64")
    minutes = offset.str[4:6].astype("int64")
    return pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")


def parse_local_dates(values: pd.Series, marketplace: str) -> tuple[pd.Series, pd.Series]:
    """Parse calendar dates in the marketplace's numeric form (or ISO ``YYYY-MM-DD``), strictly (C3).

    Returns
    -------
    dates : pandas.Series
        ``datetime64[us]`` at midnight (naive, a local calendar date); ``NaT`` where blank/invalid.
    invalid : pandas.Series of bool
        Non-blank values not in the marketplace's form or ISO, or impossible dates (``31/2/24``).
    """
    p = _parse(values, date_style(marketplace), with_time=False, names=False)
    dates = pd.to_datetime(p["iso"], errors="coerce", format="%Y-%m-%dT%H:%M:%S").astype("datetime64[us]")
    return dates, (~p["blank"] & dates.isna()).astype(bool)
