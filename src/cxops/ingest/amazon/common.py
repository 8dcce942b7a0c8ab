"""Shared pieces of the Amazon readers: the import context and vectorised value parsers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import AMAZON_MARKETPLACE_IDS

#: Marketplaces whose reports may write decimal commas (``12,99``) — accepted only there.
DECIMAL_COMMA = frozenset({"DE", "FR", "IT", "ES", "SE", "NL", "PL", "TR", "BR", "BE"})

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class Context:
    """What every reader of one import needs.

    Attributes
    ----------
    seller_id : str
        Given by the user (report files carry no seller id).
    marketplace_id : str
        Our marketplace id (``US``, ``DE`` …) given by the user.
    zones : dict
        marketplace_id → IANA time zone (warehouse ``marketplaces`` rows over the built-ins).
    charset : str, optional
        Declared charset of the files.
    notes : list of str
        Notes the readers add (copied into the import report).
    """

    seller_id: str
    marketplace_id: str
    zones: dict[str, str]
    charset: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def tz(self) -> str:
        return self.zones[self.marketplace_id]

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def text(s: pd.Series) -> pd.Series:
    """Stripped text as object dtype; ``None`` where blank, null or not a scalar string/number.

    JSON values that are objects, arrays or booleans are not text (``None``; see :func:`not_text`).
    """
    s = pd.Series(s)
    kind = s.map(type)
    scalar = kind.isin([str, int, float]).to_numpy()
    t = s.where(scalar).astype("string").str.strip()
    keep = (t.notna() & (t != "")).fillna(False).astype(bool)
    return t.astype(object).where(keep, None)


def not_text(s: pd.Series) -> pd.Series:
    """True where a (JSON) value is present but is an object, array or boolean."""
    s = pd.Series(s)
    kind = s.map(type)
    return (~kind.isin([str, int, float, type(None)])).fillna(False).astype(bool)


def numbers(s: pd.Series, marketplace: str = "") -> tuple[pd.Series, pd.Series]:
    """Parse numbers (``Float64``); returns ``(values, invalid)`` where invalid = present but not a number.

    Accepts plain decimals (``12.99``, ``-1``, ``1e3``), JSON numbers, and — only for marketplaces in
    :data:`DECIMAL_COMMA` — a decimal comma without a dot (``12,99``). Thousands separators are not
    guessed.
    """
    t = text(s)
    ts = t.astype("string")
    if marketplace in DECIMAL_COMMA:
        comma = ts.str.fullmatch(r"-?\d+,\d+").fillna(False).astype(bool)
        ts = ts.where(~comma, ts.str.replace(",", ".", regex=False))
    plain = ts.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?").fillna(False).astype(bool)
    out = pd.to_numeric(ts.where(plain), errors="coerce").astype("Float64")
    out = out.where(np.isfinite(out.to_numpy(dtype=float, na_value=np.nan)), pd.NA)
    bad = (t.notna() & out.isna()) | not_text(s)
    return out, bad.fillna(False).astype(bool)


def integers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse non-negative whole numbers (``Int64``); ``(values, invalid)``."""
    v, bad = numbers(s)
    whole = v.isna() | ((v == v.round()) & (v >= 0) & (v < 2**53))
    whole = whole.fillna(False).astype(bool)
    bad = bad | ~whole
    return v.where(whole).round().astype("Int64"), bad.astype(bool)


def booleans(s: pd.Series) -> pd.Series:
    """``true/false/yes/no/y/n/1/0`` (any case; JSON booleans too) → ``boolean``; others null."""
    s = pd.Series(s)
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    isbool = s.map(type).eq(bool).to_numpy()
    if isbool.any():
        out[isbool] = s[isbool].astype(bool).to_numpy()
    t = text(s.where(~isbool)).astype("string").str.lower()
    out[t.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[t.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    return out


def amazon_marketplaces(ids: pd.Series, default: str) -> tuple[pd.Series, pd.Series]:
    """Amazon marketplace ids (``ATVPDKIKX0DER``) → ours (``US``); blank → ``default``.

    Our own ids are accepted as they are. Returns ``(marketplace, unknown)``.
    """
    t = text(ids)
    lookup = {**AMAZON_MARKETPLACE_IDS, **{v: v for v in AMAZON_MARKETPLACE_IDS.values()}}
    mapped = t.map(lookup)
    unknown = (t.notna() & mapped.isna()).astype(bool)
    return mapped.where(t.notna(), default).astype(object), unknown
