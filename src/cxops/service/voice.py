"""Voice of the customer for one seller: what buyers say in feedback comments and return reasons,
grouped into themes (:mod:`cxops.advisor.voc`), with trends per SKU and the SKUs whose negative feedback or
returns rise.

Reads the canonical ``feedback``, ``returns``, ``orders`` and ``order_items`` tables of one seller
(the warehouse may be read-only). Days are marketplace-local: a feedback is placed on the day it was
submitted, a return on the day it was requested, an order on the day it was placed. A feedback or
return on an order of several SKUs counts for each SKU of the order; an order without SKUs (and
without product ids) is under SKU ``"(none)"``. Removed feedback is kept: it is still what the buyer
said (it no longer counts in the order defect rate, which is another matter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from cxops.advisor.voc.keywords import OTHER, THEMES
from cxops.advisor.voc.text import MARKETPLACE_LANGUAGE
from cxops.advisor.voc.themes import classify
from cxops.advisor.voc.trends import WINDOWS, RiseRule, rising_skus, sku_months, theme_table
from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.errors import InputError, NotFoundError

NO_SKU = "(none)"
#: A rating at or below this is negative feedback (1–2 stars: Amazon's and the program's definition).
NEGATIVE_MAX_RATING = 2


@dataclass
class Voice:
    """What :func:`voice` returns (frames are described in :mod:`cxops.advisor.voc.trends`).

    Attributes
    ----------
    seller_id : str
    as_of : datetime.date or None
        The last day considered (``None``: the seller has no feedback, returns or orders).
    last_day : datetime.date or None
        The newest day of the seller's feedback, returns and orders (an as-of day past it leaves the
        recent windows without records for the days after it).
    rule : RiseRule
    themes : pandas.DataFrame
        :func:`cxops.advisor.voc.trends.theme_table`.
    skus : pandas.DataFrame
        :func:`cxops.advisor.voc.trends.sku_months`.
    rising : pandas.DataFrame
        :func:`cxops.advisor.voc.trends.rising_skus`.
    texts : pandas.DataFrame
        Every text (a comment or return reason, not a bare rating) to the as-of day, newest first:
        ``source, id, order_id, marketplace_id, day, rating, negative, lang, themes`` (a tuple),
        ``text``, ``skus`` (the order's SKUs, comma-separated).
    """

    seller_id: str
    as_of: date | None
    last_day: date | None
    rule: RiseRule
    themes: pd.DataFrame
    skus: pd.DataFrame
    rising: pd.DataFrame
    texts: pd.DataFrame = field(repr=False)

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged rows of :attr:`rising`."""
        return self.rising[self.rising["flagged"]]


def _zones(wh) -> dict[str, str]:
    zones = {mp: v[0] for mp, v in BUILTIN_MARKETPLACES.items()}
    if wh.has_table("marketplaces"):
        m = wh.execute(wh.table("marketplaces").select("marketplace_id", "timezone"))
        zones.update(dict(zip(m["marketplace_id"], m["timezone"], strict=True)))
    return zones


def _local_day(at: pd.Series, mp: pd.Series, zones: dict[str, str]) -> pd.Series:
    """Marketplace-local calendar day of UTC instants (vectorised per marketplace)."""
    at = pd.to_datetime(at, utc=True)
    out = pd.Series(pd.NaT, index=at.index, dtype="datetime64[ns]")
    for m in mp.dropna().unique():
        sel = (mp == m).to_numpy()
        out[sel] = at[sel].dt.tz_convert(zones.get(m, "UTC")).dt.tz_localize(None).dt.normalize()
    return out.dt.date


def _read(wh, table: str, seller_id: str, cols: list[str]) -> pd.DataFrame:
    if not wh.has_table(table):
        return pd.DataFrame(columns=cols)
    t = wh.table(table)
    present = [c for c in cols if c in t.columns]
    df = wh.execute(t.filter(t.seller_id == seller_id).select(*present))
    for c in cols:
        if c not in df.columns:
            df[c] = None
    return df[cols]


def voice(
    wh,
    seller_id: str,
    as_of: date | None = None,
    *,
    marketplace_id: str | None = None,
    rule: RiseRule | None = None,
    language: str | None = None,
) -> Voice:
    """Themes, SKU trends and rising SKUs of one seller's feedback comments and return reasons.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    seller_id : str
    as_of : datetime.date, optional
        The last day (marketplace-local) to consider; default: the newest day of the seller's
        feedback, returns or orders.
    marketplace_id : str, optional
        Only this marketplace's orders.
    rule : RiseRule, optional
        The rise rule (default :class:`cxops.advisor.voc.trends.RiseRule`).
    language : str, optional
        The language of the texts (ISO 639-1) when known; default: detected per text, with the
        marketplace's language for texts too short to tell.

    Raises
    ------
    NotFoundError
        The warehouse has no orders of the seller (on that marketplace).
    InputError
        ``language`` has no keyword table.
    """
    from cxops.advisor.voc.keywords import LANGUAGES

    if language is not None and language not in LANGUAGES:
        raise InputError(
            f"no theme keywords for language {language!r}", hint=f"use one of {', '.join(LANGUAGES)}"
        )
    rule = rule or RiseRule()
    zones = _zones(wh)
    orders = _read(wh, "orders", seller_id, ["order_id", "marketplace_id", "purchased_at"])
    if marketplace_id is not None:
        orders = orders[orders["marketplace_id"] == marketplace_id]
    if orders.empty:
        where = f" on marketplace {marketplace_id}" if marketplace_id else ""
        raise NotFoundError(f"no orders of seller {seller_id}{where} in the warehouse")
    orders = orders.assign(day=_local_day(orders["purchased_at"], orders["marketplace_id"], zones))
    items = _read(wh, "order_items", seller_id, ["order_id", "sku", "product_id"])
    items = items.assign(sku=items["sku"].fillna(items["product_id"]))[["order_id", "sku"]]
    items = items.dropna().drop_duplicates()
    order_skus = orders[["order_id", "marketplace_id", "day"]].merge(items, on="order_id", how="left")
    order_skus["sku"] = order_skus["sku"].fillna(NO_SKU)

    fb = _read(wh, "feedback", seller_id, ["order_id", "rating", "submitted_at", "comment"])
    fb = pd.DataFrame(
        {
            "source": "feedback",
            "id": fb["order_id"],
            "order_id": fb["order_id"],
            "at": fb["submitted_at"],
            "rating": pd.to_numeric(fb["rating"]).astype("Int64"),
            "negative": (pd.to_numeric(fb["rating"]) <= NEGATIVE_MAX_RATING).to_numpy(),
            "text": fb["comment"],
        }
    )
    rt = _read(wh, "returns", seller_id, ["order_id", "return_id", "requested_at", "reason"])
    rt = pd.DataFrame(
        {
            "source": "return",
            "id": rt["return_id"],
            "order_id": rt["order_id"],
            "at": rt["requested_at"],
            "rating": pd.array([pd.NA] * len(rt), dtype="Int64"),
            "negative": True,
            "text": rt["reason"],
        }
    )
    texts = pd.concat([fb, rt], ignore_index=True)
    texts = texts.merge(orders[["order_id", "marketplace_id"]], on="order_id", how="inner")
    texts["day"] = _local_day(texts["at"], texts["marketplace_id"], zones)
    days = pd.concat([texts["day"], orders["day"]]).dropna()
    last_day = max(days) if len(days) else None
    if as_of is None:
        as_of = last_day
    texts = texts[pd.to_datetime(texts["day"]) <= pd.Timestamp(as_of)].reset_index(drop=True)
    order_skus = order_skus[pd.to_datetime(order_skus["day"]) <= pd.Timestamp(as_of)]

    texts = _classify(texts, language)
    skus_of = order_skus.groupby("order_id")["sku"].agg(lambda s: ", ".join(sorted(set(s))))
    texts["skus"] = texts["order_id"].map(skus_of)
    voices = texts.merge(order_skus[["order_id", "sku"]], on="order_id", how="left")
    voices["sku"] = voices["sku"].fillna(NO_SKU)
    voices["text_id"] = voices["id"]
    voices = voices.assign(has_text=voices["lang"].notna())

    texts = texts[texts["lang"].notna()]
    texts = texts.sort_values(["day", "source", "id"], ascending=[False, True, True], ignore_index=True)
    return Voice(
        seller_id=seller_id,
        as_of=as_of,
        last_day=last_day,
        rule=rule,
        themes=theme_table(voices, as_of, WINDOWS),
        skus=sku_months(voices, order_skus[["order_id", "sku", "day"]]),
        rising=rising_skus(voices, order_skus[["order_id", "sku", "day"]], as_of, rule),
        texts=texts[
            ["source", "id", "order_id", "marketplace_id", "day", "rating", "negative", "lang", "themes"]
            + ["text", "skus"]
        ],
    )


def _classify(texts: pd.DataFrame, language: str | None) -> pd.DataFrame:
    """Add ``lang``, ``themes`` and a column per theme, classifying each marketplace's texts with its
    language as the hint."""
    parts = []
    for mp, part in texts.groupby("marketplace_id", sort=True):
        hint = MARKETPLACE_LANGUAGE.get(mp)
        got = classify(
            list(part["text"]), hint=hint, langs=None if language is None else [language] * len(part)
        )
        got.index = part.index
        parts.append(got)
    cols = ["lang", "themes", *THEMES, OTHER]
    if not parts:
        return texts.assign(**{c: pd.Series(dtype=bool if c in (*THEMES, OTHER) else object) for c in cols})
    return texts.join(pd.concat(parts)[cols])
