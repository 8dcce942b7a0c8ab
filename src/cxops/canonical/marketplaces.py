"""Built-in marketplaces (overridable by a ``marketplaces`` table).

Source: ``DESIGN.md`` (canonical table ``marketplaces``). US deadlines are judged in Pacific time
(reference case C11), so the US time zone is America/Los_Angeles.
"""

from __future__ import annotations

import pandas as pd

#: marketplace_id -> (IANA time zone, ISO 3166 country, currency, weekend days)
BUILTIN_MARKETPLACES: dict[str, tuple[str, str, str, str]] = {
    "US": ("America/Los_Angeles", "US", "USD", "SAT,SUN"),
    "CA": ("America/Toronto", "CA", "CAD", "SAT,SUN"),
    "MX": ("America/Mexico_City", "MX", "MXN", "SAT,SUN"),
    "UK": ("Europe/London", "GB", "GBP", "SAT,SUN"),
    "DE": ("Europe/Berlin", "DE", "EUR", "SAT,SUN"),
    "FR": ("Europe/Paris", "FR", "EUR", "SAT,SUN"),
    "IT": ("Europe/Rome", "IT", "EUR", "SAT,SUN"),
    "ES": ("Europe/Madrid", "ES", "EUR", "SAT,SUN"),
    "JP": ("Asia/Tokyo", "JP", "JPY", "SAT,SUN"),
    "IN": ("Asia/Kolkata", "IN", "INR", "SUN"),
    "AU": ("Australia/Sydney", "AU", "AUD", "SAT,SUN"),
    "BR": ("America/Sao_Paulo", "BR", "BRL", "SAT,SUN"),
}


#: Amazon's marketplace ids (Selling Partner API ``marketplaceId``) -> our marketplace id.
AMAZON_MARKETPLACE_IDS: dict[str, str] = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1VC38T7YXB528": "JP",
    "A21TJRUUN4KGV": "IN",
    "A39IBJ37TRP1C6": "AU",
    "A2Q3Y263D00KWC": "BR",
}


def builtin_marketplaces() -> pd.DataFrame:
    """The built-in marketplaces as a canonical ``marketplaces`` table.

    Returns
    -------
    pandas.DataFrame
        Columns ``marketplace_id, timezone, country, currency, weekend``; one row per marketplace.
    """
    rows = [
        {"marketplace_id": mp, "timezone": tz, "country": cc, "currency": cur, "weekend": wk}
        for mp, (tz, cc, cur, wk) in BUILTIN_MARKETPLACES.items()
    ]
    return pd.DataFrame(rows)


def timezone_of(marketplace_id: str, overrides: dict[str, str] | None = None) -> str:
    """IANA time zone of a marketplace.

    Raises
    ------
    KeyError
        If the marketplace is neither built in nor in ``overrides``.
    """
    if overrides and marketplace_id in overrides:
        return overrides[marketplace_id]
    if marketplace_id in BUILTIN_MARKETPLACES:
        return BUILTIN_MARKETPLACES[marketplace_id][0]
    raise KeyError(
        f"unknown marketplace {marketplace_id!r}: add it to the marketplaces table "
        f"(built in: {', '.join(BUILTIN_MARKETPLACES)})"
    )
