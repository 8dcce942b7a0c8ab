"""Synthetic demo data set: canonical tables for a marketplace "Customer Excellence" program.

:func:`generate` returns every canonical table (contract v1, :mod:`cxops.canonical.schema`) for a
population of sellers on the US, CA, DE, UK, FR and JP marketplaces over a period of days ending on
``end``; :func:`write_tables` writes them as one ``<table>.parquet`` or ``<table>.csv`` per table,
the layout the canonical importer reads. Generation is vectorised (numpy / pandas, one
``numpy.random.default_rng(seed)`` stream), so the same arguments give identical frames.

Calibration
-----------
Shapes come from the real Olist marketplace data (figures in :data:`cxops.demo.calibration.OLIST`,
measured by :func:`cxops.demo.calibration.measure_olist`, which documents how); levels that the
program judges are set around the reference program's platform averages (``program.md``: ODR about
1.0 %, LSR about 3.5 %), because Olist is one Brazilian marketplace with much longer handling windows
and delivery promises than the marketplaces the program covers. "Here" figures are for the defaults
(seed 7, 300 sellers, 730 days); other seeds differ by a few per cent.

* **Seller size.** Olist: ln(orders per seller) has mean 2.02 and sd 1.58, the top 10 % of sellers
  hold 68.4 % of seller orders (top 1 %: 26.2 %), median 6 orders, largest 1,854 in two years (at
  most ~280 a month). Here the tail is heavier so that some sellers clear the program's > 1,500
  orders per 90 days: "big" sellers (10 % of sellers, at least 3) sell 560 + lognormal(median 80,
  sd 1.0) orders a month at mid-period (capped at 2,500; scripted ones at least 650); the others
  lognormal(median 3, sd 1.5) a month (clipped 0.3..420; the Olist log-sd), with a per-seller
  trend, a 45-day ramp-up after registration and 6 % churn. Here: 522,166 seller orders (seeds 1-10:
  487k-595k), the top 10 % of sellers hold 88 %, 29 seller-marketplaces sell more than 1,500 orders
  in the last 90 days (the largest 3,938).
* **Week and day shape.** Olist purchase weekday shares Mon..Sun 16.0, 16.3, 15.8, 14.8, 14.3,
  11.0, 11.9 % and 3-hour buckets 4.2, 0.6, 4.7, 17.6, 19.0, 19.5, 18.2, 16.3 % are used as they are
  (local time of the marketplace), times a yearly season (+-8 %, Q4 high, a Black-Friday and a
  mid-July peak).
* **Late hand-over.** Olist: 9.65 % of items reach the carrier after ``shipping_limit_date``
  (4.9 % more than a day late); among late items the delay has median 1.0 day, p75 4.1, p90 8.1,
  p95 12.7 days, which a lognormal(median 1 day, sd 1.6) reproduces (p75 2.9, p90 7.8, p95 13.9).
  Here the *share* is per seller (logistic in a seller quality score, 3.5 % at the average score)
  and the *delay* of a late confirmation uses that lognormal; on-time confirmations fall at a
  Beta(2, 2.5) fraction of the purchase-to-deadline window (Olist hands over a median 3.2 days before
  a 6-day window ends; ours are 1-3 business days). A second package of a split order (2.3 % of
  orders) is late twice as often. Here: 3.2 % of MFN orders confirmed after ship-by, AFN ~0.
* **Delivery.** Olist: 6.76 % of delivered orders arrive after the estimated day (5.2 % if handed
  over on time, 20.3 % if late); late ones by a median 6 days. Here transit is lognormal (sd 0.45)
  per marketplace and carrier quality, promises are 2-5 business days after ship-by domestic (10
  cross-border direct from China), 1-2 calendar days AFN; 0.2 % of MFN parcels are lost. Here:
  5.5 % of tracked delivered MFN orders and 1.1 % of AFN orders arrive after ``latest_delivery_at``.
* **Cancellations.** Olist: 1.37 % of orders canceled or unavailable. Here seller 0.5 % (scaled
  by quality; 20 % of them after the ship-by day), buyer 0.6 % (65 % through the official request
  flow), system 0.2 % (unconfirmed-shipment auto-cancel or failed payment), unknown 0.03 %.
  Here: 1.26 % of orders.
* **Ratings.** Olist review mix 1..5 = 12.0, 3.2, 8.1, 19.2, 57.6 % (CSAT 76.9 on 1★=0 … 5★=100);
  by experience: on time 6.7, 2.7, 8.1, 20.6, 61.9 %; late 55.6, 9.1, 10.4, 8.9, 16.0 %; not
  delivered 70.5, 7.4, 7.7, 5.4, 9.0 %. A rating is drawn from the mix of its order's experience,
  tilted by exp(0.3 z (k - 3)) for the seller's quality score z. Unlike Olist (a survey after every
  order) only 4-10 % of orders get seller feedback, 2-2.5 times more often after a bad experience;
  negative feedback on late AFN orders is mostly struck through (``removed_at``). Here: 7.1 % of
  orders, mix 12.1, 3.0, 6.9, 17.7, 60.4 %, CSAT 77.8.
* **Units and prices.** Olist: 97.9 % of seller orders hold one product, 1.85 % two; 91.1 % one
  unit, 6.8 % two, 1.2 % three. Item prices (BRL) 23.8 / 39.9 / 75 / 135 / 230 at 10/25/50/75/90 %;
  here lognormal per product with the same log-spread (sd 0.88) around a category median of USD
  18-60, converted to the marketplace currency.
* Figures Olist lacks are set from the reference program and metric definitions. Here: A-to-z
  claims 0.20 % and chargebacks 0.05 % of orders (lost parcels and late orders draw most claims);
  0.41 buyer messages per order with a seller-specific lognormal response time (median 12 h at the
  average score; overall median 11.0 h, 73 % within 24 h, 3 % never answered, 8 % no response
  needed); 1.5 % of MFN packages without tracking and 3.2 % without a first carrier scan; 4.7 %
  of orders returned; 33 % of orders AFN (per seller 0 to ~90 %).

Program scenarios
-----------------
Every seller has a quality score per dimension (shipping, customer experience, tracking, delivery,
response), constant plus a linear drift for most sellers. The big sellers are given, in this order
and as far as there are big sellers: a *star* (all bars met throughout), a seller whose order
defect rate rises above 0.6 % for about 75 days at 55 % of the period and then *recovers*, an
*improver* who reaches the bars in the last third, a star with an *IP complaint* at 62 %, a star
with *three account-health warnings* within 100 days from 60 %, a star whose *valid tracking rate*
falls below 95 % from 55 % for 120 days, a star who *slips* at 70 % for good, and a *young star*
registered 130 days before the end (tenure < 180 days); the other big sellers are average (score
around -0.2: median ODR 1.0 %, LSR 3.1 %, CSAT 77). So at the monthly evaluations of the defaults
17-28 % (5 to 8 of 28-29) of the sellers above the volume bar meet every admission bar. One
mid-size seller grows about ninefold to ~600 orders a month, one small seller gets three warnings and
one an IP complaint; about 6 % of sellers also sell on a second marketplace.
``sellers.attrs["scenario"]`` names each seller's scenario.

Events after the data cut (the end of ``end`` in every demo marketplace, i.e. ``end + 1 day``
00:00 America/Los_Angeles) are not in the data: shipments not yet confirmed are absent, later
scans, deliveries, replies, decisions and removals are null, later feedback, claims, returns,
messages and violations are absent.

The defaults take about 2-4 s and 0.4 GB of peak memory and give about 1.9 million rows in all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import holidays as holidays_lib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.canonical.schema import TABLES
from cxops.demo.calibration import OLIST

#: Demo marketplaces and the share of sellers whose main marketplace each one is.
MARKETPLACE_MIX: dict[str, float] = {"US": 0.34, "DE": 0.24, "JP": 0.22, "UK": 0.07, "CA": 0.07, "FR": 0.06}

_MPS = tuple(MARKETPLACE_MIX)
_SECOND_MP = {"US": ("CA",), "CA": ("US",), "DE": ("UK", "FR"), "UK": ("DE",), "FR": ("DE",), "JP": ("US",)}
_ORDER_PREFIX = {"US": "111", "CA": "701", "DE": "302", "UK": "203", "FR": "404", "JP": "503"}
_FX = {"US": 1.0, "CA": 1.37, "DE": 0.92, "UK": 0.79, "FR": 0.92, "JP": 150.0}
_LANG = {"US": "en", "CA": "en", "UK": "en", "DE": "de", "FR": "fr", "JP": "ja"}
# MFN promise after the ship-by day, business days (Mon-Sat delivery), domestic
_PROMISE_DAYS = {"US": 4, "CA": 5, "DE": 2, "UK": 2, "FR": 3, "JP": 2}
_CROSS_BORDER_PROMISE = 10
# median transit, days: MFN domestic, MFN cross-border (direct from China), AFN
_TRANSIT = {"US": 3.0, "CA": 3.7, "DE": 1.6, "UK": 1.6, "FR": 2.2, "JP": 1.35}
_TRANSIT_CROSS_BORDER = 10.0
_TRANSIT_AFN = {"US": 0.8, "CA": 1.0, "DE": 0.7, "UK": 0.7, "FR": 0.8, "JP": 0.45}
_CARRIERS = {
    "US": ("UPS", "USPS", "FedEx", "OnTrac"),
    "CA": ("Canada Post", "Purolator", "UPS", "Canpar"),
    "DE": ("DHL", "Hermes", "DPD", "GLS"),
    "UK": ("Royal Mail", "Evri", "DPD", "Parcelforce"),
    "FR": ("Colissimo", "Chronopost", "Mondial Relay", "DPD"),
    "JP": ("Yamato", "Sagawa", "Japan Post", "Seino"),
}
_CROSS_BORDER_CARRIERS = ("YunExpress", "Yanwen", "4PX", "Cainiao")
_AFN_CARRIER = "Marketplace Logistics"

# category -> (median price in USD, return rate)
_CATEGORIES: dict[str, tuple[float, float]] = {
    "large_appliances": (60.0, 0.03),
    "precision_instruments": (55.0, 0.04),
    "baby_products": (28.0, 0.05),
    "electronics": (45.0, 0.06),
    "home": (30.0, 0.04),
    "kitchen": (26.0, 0.05),
    "toys": (22.0, 0.04),
    "sports": (30.0, 0.05),
    "beauty": (18.0, 0.03),
    "apparel": (24.0, 0.12),
    "office": (20.0, 0.03),
    "automotive": (32.0, 0.04),
    "pet_supplies": (21.0, 0.03),
}
_CATEGORY_WEIGHTS = np.array([4, 3, 6, 14, 14, 10, 8, 7, 7, 10, 5, 6, 6], dtype=float)

_NAME_A = (
    "Blue",
    "North",
    "Bright",
    "Golden",
    "Swift",
    "Green",
    "Silver",
    "Sunny",
    "Urban",
    "Maple",
    "Alpine",
    "Coral",
    "Harbor",
    "Nova",
    "Pine",
    "Lotus",
    "Cedar",
    "Orbit",
    "River",
    "Summit",
)
_NAME_B = (
    "Goods",
    "Trading",
    "Supply",
    "Home",
    "Gear",
    "Works",
    "Outfitters",
    "Direct",
    "Store",
    "Market",
    "Labs",
    "Depot",
    "Living",
    "Essentials",
    "Crafts",
)
_NAME_CN = ("Shenzhen", "Guangzhou", "Yiwu", "Ningbo", "Hangzhou", "Xiamen", "Dongguan", "Suzhou")

_COMMENTS = {
    "en": (
        "Never arrived, very disappointed.",
        "Item was damaged and late.",
        "It's okay.",
        "Good product, arrived on time.",
        "Excellent seller, fast delivery!",
    ),
    "de": (
        "Nie angekommen.",
        "Ware beschädigt und verspätet.",
        "In Ordnung.",
        "Gutes Produkt, pünktlich.",
        "Top Verkäufer, schnelle Lieferung!",
    ),
    "fr": (
        "Jamais reçu.",
        "Article abîmé et en retard.",
        "Correct.",
        "Bon produit, livré à temps.",
        "Vendeur excellent, livraison rapide !",
    ),
    "ja": (
        "届きませんでした。",
        "商品が破損していました。",
        "普通です。",
        "良い商品でした。時間通りに届きました。",
        "素晴らしい対応、迅速な配送でした！",
    ),
}

# quality-score dimensions
_SHIP, _CX, _TRACK, _DELIV, _RESP = range(5)
_NDIM = 5

# scenarios
AVERAGE, STAR, SLIP_ODR_RECOVER, IMPROVER, IP_COMPLAINT, WARNINGS, SLIP_VTR, SLIP_ODR, YOUNG_STAR = range(9)
GROWER, SMALL_WARNINGS, SMALL_IP = 9, 10, 11
SCENARIO_NAMES = {
    AVERAGE: "average",
    STAR: "star",
    SLIP_ODR_RECOVER: "slip_odr_recover",
    IMPROVER: "improver",
    IP_COMPLAINT: "ip_complaint",
    WARNINGS: "warnings",
    SLIP_VTR: "slip_vtr",
    SLIP_ODR: "slip_odr",
    YOUNG_STAR: "young_star",
    GROWER: "grower",
    SMALL_WARNINGS: "small_warnings",
    SMALL_IP: "small_ip",
}
_BIG_ROSTER = (STAR, SLIP_ODR_RECOVER, IMPROVER, IP_COMPLAINT, WARNINGS, SLIP_VTR, SLIP_ODR, YOUNG_STAR)
_STAR_Z = 2.4

_NAT = np.datetime64("NaT", "s")

# row order of each output table
_SORT = {
    "sellers": ("seller_id", "marketplace_id"),
    "orders": (),  # generated in seller, marketplace, purchase order
    "order_items": (),  # follows orders
    "shipments": (),  # generated in seller, confirmation order
    "cancellations": ("seller_id", "cancelled_at"),
    "feedback": ("seller_id", "submitted_at"),
    "claims": ("seller_id", "filed_at"),
    "buyer_messages": (),  # generated in seller, receipt order
    "returns": ("seller_id", "requested_at"),
    "violations": ("seller_id", "reported_at"),
    "marketplaces": (),
}


# --------------------------------------------------------------------------------------------- helpers


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _seconds(x: np.ndarray) -> np.ndarray:
    """Float seconds -> ``timedelta64[s]``."""
    return np.rint(np.asarray(x, dtype=float)).astype("int64").astype("timedelta64[s]")


def _days(x: np.ndarray) -> np.ndarray:
    return _seconds(np.asarray(x, dtype=float) * 86400.0)


def _hours(x: np.ndarray) -> np.ndarray:
    return _seconds(np.asarray(x, dtype=float) * 3600.0)


def _lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median, dtype=float) * np.exp(sigma * rng.standard_normal(n))


def _pick(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` category indices from the probabilities ``p`` (normalised)."""
    p = np.asarray(p, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of a (n, k) probability matrix (rows need not be normalised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1)


def _str(a: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """A pyarrow string array as pandas' default string dtype (no copy)."""
    return pd.array(a, dtype="str")


def _take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """``values[idx]`` as a pyarrow string array."""
    return pa.array(list(values), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def _digits(numbers: np.ndarray, width: int) -> pa.Array:
    """Integers as decimal strings, left-padded with zeros to ``width``."""
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and constants."""
    return pc.binary_join_element_wise(*parts, "")


def _mask(a: pa.Array, keep: np.ndarray) -> pa.Array:
    """``a`` where ``keep``, else null."""
    return pc.if_else(pa.array(np.asarray(keep, dtype=bool)), a, pa.scalar(None, pa.string()))


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 for ``datetime64[D]`` values."""
    return (days.astype("int64") + 3) % 7


@dataclass
class _Ctx:
    rng: np.random.Generator
    start: np.datetime64  # first local day, datetime64[D]
    n_days: int
    cut: np.datetime64  # data cut, UTC datetime64[s]
    zones: tuple[str, ...] = ()
    holidays: list[np.ndarray] = field(default_factory=list)

    def to_utc(self, local: np.ndarray, mp: np.ndarray) -> np.ndarray:
        """Local wall-clock ``datetime64[s]`` of marketplace ``mp`` -> UTC ``datetime64[s]``."""
        out = np.full(local.shape, _NAT, dtype="datetime64[s]")
        for k, tz in enumerate(self.zones):
            m = mp == k
            if not m.any():
                continue
            idx = pd.DatetimeIndex(local[m].astype("datetime64[s]")).tz_localize(
                tz, ambiguous=np.ones(int(m.sum()), dtype=bool), nonexistent="shift_forward"
            )
            out[m] = idx.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")
        return out

    def to_local(self, utc: np.ndarray, mp: np.ndarray) -> np.ndarray:
        """UTC ``datetime64[s]`` -> local wall clock of marketplace ``mp``."""
        out = np.full(utc.shape, _NAT, dtype="datetime64[s]")
        for k, tz in enumerate(self.zones):
            m = mp == k
            if not m.any():
                continue
            idx = pd.DatetimeIndex(utc[m]).tz_localize("UTC").tz_convert(tz).tz_localize(None)
            out[m] = idx.to_numpy().astype("datetime64[s]")
        return out

    def end_of_day_utc(self, days: np.ndarray, mp: np.ndarray) -> np.ndarray:
        """23:59:59 local on ``days`` (``datetime64[D]``) as UTC."""
        nxt = (days + np.timedelta64(1, "D")).astype("datetime64[s]")
        return self.to_utc(nxt, mp) - np.timedelta64(1, "s")

    def busday(self, days: np.ndarray, offsets: np.ndarray, mp: np.ndarray, weekmask: str) -> np.ndarray:
        """``numpy.busday_offset`` with each marketplace's weekend and public holidays."""
        out = np.empty(days.shape, dtype="datetime64[D]")
        for k in range(len(self.zones)):
            m = mp == k
            if m.any():
                out[m] = np.busday_offset(
                    days[m], offsets[m], roll="forward", weekmask=weekmask, holidays=self.holidays[k]
                )
        return out


# --------------------------------------------------------------------------------------------- sellers


@dataclass
class _Units:
    """Per (seller, marketplace) parameters; index = unit."""

    seller: np.ndarray
    mp: np.ndarray
    main: np.ndarray
    scenario: np.ndarray
    size: np.ndarray  # orders a month at mid-period
    growth: np.ndarray  # per year
    reg_day: np.ndarray  # registration, days after start (may be negative)
    reg_sec: np.ndarray  # local second of the registration day
    active_from: np.ndarray
    active_to: np.ndarray
    afn_share: np.ndarray
    handling: np.ndarray
    cutoff_hour: np.ndarray
    works_weekends: np.ndarray
    auto_reply: np.ndarray
    feedback_rate: np.ndarray
    message_rate: np.ndarray
    carrier: np.ndarray  # primary carrier index (global list)
    early_confirmer: np.ndarray
    free_returns: np.ndarray
    premium_mfn: np.ndarray
    promise_extra: np.ndarray
    cross_border: np.ndarray  # ships MFN directly from China
    z: np.ndarray  # (n_units, _NDIM) base quality
    drift: np.ndarray  # (n_units,) change of z over the whole period


@dataclass
class _Sellers:
    n: int
    country: np.ndarray  # ISO country codes
    name: list[str]
    category: np.ndarray  # index into _CATEGORIES
    catalog_size: np.ndarray
    catalog_start: np.ndarray


def _carrier_table() -> tuple[list[str], dict[str, list[int]], list[int]]:
    names: list[str] = [_AFN_CARRIER]
    by_mp: dict[str, list[int]] = {}
    for mp in _MPS:
        by_mp[mp] = []
        for c in _CARRIERS[mp]:
            if c not in names:
                names.append(c)
            by_mp[mp].append(names.index(c))
    cross = []
    for c in _CROSS_BORDER_CARRIERS:
        names.append(c)
        cross.append(names.index(c))
    return names, by_mp, cross


def _make_units(ctx: _Ctx, n_sellers: int) -> tuple[_Sellers, _Units]:
    """Sellers, their (seller, marketplace) units, sizes, scenarios and per-unit parameters."""
    rng = ctx.rng
    n_days = ctx.n_days
    mp_main = _pick(rng, np.array(list(MARKETPLACE_MIX.values())), n_sellers)
    cn_p = np.where(np.isin(mp_main, [_MPS.index("US"), _MPS.index("JP")]), 0.45, 0.35)
    is_cn = rng.random(n_sellers) < cn_p
    country = np.array([BUILTIN_MARKETPLACES[_MPS[m]][1] for m in mp_main], dtype=object)
    country[is_cn] = "CN"
    category = _pick(rng, _CATEGORY_WEIGHTS, n_sellers)
    a = rng.integers(0, len(_NAME_A), n_sellers)
    b = rng.integers(0, len(_NAME_B), n_sellers)
    c = rng.integers(0, len(_NAME_CN), n_sellers)
    names = [
        f"{_NAME_CN[c[i]]} {_NAME_A[a[i]]} {_NAME_B[b[i]]} Co., Ltd."
        if is_cn[i]
        else f"{_NAME_A[a[i]]} {_NAME_B[b[i]]}"
        for i in range(n_sellers)
    ]

    n_big = min(n_sellers, max(3, int(round(0.10 * n_sellers))))
    order = rng.permutation(n_sellers)
    big = order[:n_big]
    scen = np.full(n_sellers, AVERAGE, dtype=np.int16)
    roster = list(_BIG_ROSTER[:n_big])
    scen[big[: len(roster)]] = roster
    small = order[n_big:]
    for k, s in enumerate((GROWER, SMALL_WARNINGS, SMALL_IP)):
        if len(small) > 10 * (k + 1):
            scen[small[k]] = s
    is_big = np.zeros(n_sellers, dtype=bool)
    is_big[big] = True

    size = np.where(
        is_big,
        np.minimum(560 + 80 * np.exp(1.0 * rng.standard_normal(n_sellers)), 2500),
        np.clip(3.0 * np.exp(1.5 * rng.standard_normal(n_sellers)), 0.3, 420),
    )
    growth = np.where(is_big, 0.12, 0.35) * rng.standard_normal(n_sellers) + np.where(is_big, 0.0, 0.15)
    size[big[: len(roster)]] = np.maximum(size[big[: len(roster)]], 650)
    size[scen == GROWER] = 250
    growth[scen == GROWER] = 2.2 * 365 / n_days  # exp(2.2), about x9 over the period
    scripted_small = np.isin(scen, (SMALL_WARNINGS, SMALL_IP))
    size[scripted_small] = np.maximum(size[scripted_small], 20)

    # registration (days after start) and activity
    before = rng.random(n_sellers) < np.where(is_big, 0.95, 0.65)
    reg_day = np.where(
        before, -rng.integers(30, 2500, n_sellers), rng.integers(0, max(1, n_days - 20), n_sellers)
    )
    reg_day = np.where(
        np.isin(scen, (GROWER, SMALL_WARNINGS, SMALL_IP)) | (is_big & (scen != AVERAGE)),
        -rng.integers(400, 2500, n_sellers),
        reg_day,
    )
    reg_day = np.where(scen == YOUNG_STAR, n_days - 130, reg_day)
    active_from = np.maximum(0, reg_day + rng.integers(0, 21, n_sellers))
    churn = (~is_big) & (scen == AVERAGE) & (rng.random(n_sellers) < 0.06)
    active_to = np.where(churn, rng.integers(n_days // 2, n_days, n_sellers), n_days)

    # quality
    z0 = np.where(is_big, -0.2 + 0.7 * rng.standard_normal(n_sellers), rng.standard_normal(n_sellers))
    z = z0[:, None] + 0.5 * rng.standard_normal((n_sellers, _NDIM))
    drift = 0.6 * rng.standard_normal(n_sellers)
    starlike = np.isin(scen, (STAR, SLIP_ODR_RECOVER, IP_COMPLAINT, WARNINGS, SLIP_VTR, SLIP_ODR, YOUNG_STAR))
    z[starlike] = _STAR_Z + 0.1 * rng.standard_normal((int(starlike.sum()), _NDIM))
    z[scen == GROWER] = 2.0 + 0.1 * rng.standard_normal((int((scen == GROWER).sum()), _NDIM))
    drift[starlike | (scen == GROWER) | (scen == IMPROVER)] = 0.0

    # second marketplaces
    second = (rng.random(n_sellers) < 0.06) & (scen == AVERAGE)
    sec_idx = np.flatnonzero(second)
    options = [_SECOND_MP[_MPS[mp_main[i]]] for i in sec_idx]
    pick = rng.integers(0, 2, len(sec_idx))
    sec_mp = np.array(
        [_MPS.index(opt[k % len(opt)]) for opt, k in zip(options, pick, strict=True)], dtype=np.int64
    )

    seller = np.concatenate([np.arange(n_sellers), sec_idx])
    n_units = len(seller)
    mp = np.concatenate([mp_main, sec_mp]).astype(np.int64)
    main = np.concatenate([np.ones(n_sellers, bool), np.zeros(len(sec_idx), bool)])
    u_scen = np.concatenate([scen, np.full(len(sec_idx), AVERAGE, np.int16)])
    u_size = np.concatenate([size, np.minimum(size[sec_idx] * rng.uniform(0.1, 0.4, len(sec_idx)), 300)])
    u_growth = np.concatenate([growth, growth[sec_idx] + 0.2])
    sec_reg = np.minimum(
        np.maximum(reg_day[sec_idx], 0) + rng.integers(0, max(1, n_days // 2), len(sec_idx)), n_days - 1
    )
    u_reg = np.concatenate([reg_day, sec_reg])
    u_from = np.concatenate([active_from, np.maximum(0, sec_reg + rng.integers(0, 21, len(sec_idx)))])
    u_to = np.concatenate([active_to, active_to[sec_idx]])
    u_z = np.concatenate([z, z[sec_idx] + 0.3 * rng.standard_normal((len(sec_idx), _NDIM))])
    u_drift = np.concatenate([drift, drift[sec_idx]])
    u_cn = is_cn[seller]
    u_big = is_big[seller] & main
    u_star = np.isin(
        u_scen,
        (STAR, SLIP_ODR_RECOVER, IMPROVER, IP_COMPLAINT, WARNINGS, SLIP_VTR, SLIP_ODR, YOUNG_STAR, GROWER),
    )

    afn = np.where(rng.random(n_units) < 0.4, 0.0, rng.beta(1.5, 2.0, n_units))
    afn = np.where(u_big, rng.uniform(0.1, 0.6, n_units), afn)
    afn = np.where(u_star, rng.uniform(0.1, 0.35, n_units), afn)  # scripted: mostly MFN
    names_c, by_mp, cross = _carrier_table()
    del names_c
    cross_border = u_cn & (rng.random(n_units) < 0.5) & ~u_big & ~u_star
    carrier = np.array([by_mp[m] for m in _MPS])[mp, rng.integers(0, 4, n_units)]
    carrier = np.where(cross_border, np.array(cross)[rng.integers(0, len(cross), n_units)], carrier)
    cutoff = np.array([12, 14, 16, 24])[_pick(rng, np.array([0.2, 0.35, 0.25, 0.2]), n_units)]
    units = _Units(
        seller=seller,
        mp=mp,
        main=main,
        scenario=u_scen,
        size=u_size,
        growth=u_growth,
        reg_day=u_reg,
        reg_sec=rng.integers(8 * 3600, 20 * 3600, n_units),
        active_from=u_from,
        active_to=u_to,
        afn_share=afn,
        handling=np.where(u_star, 2, 1 + _pick(rng, np.array([0.35, 0.4, 0.25]), n_units)),
        cutoff_hour=cutoff,
        works_weekends=u_star | (rng.random(n_units) < 0.4),
        auto_reply=rng.random(n_units) < 0.3,
        feedback_rate=rng.uniform(0.04, 0.10, n_units),
        message_rate=rng.uniform(0.2, 0.5, n_units),
        carrier=carrier,
        early_confirmer=(~u_star) & (rng.random(n_units) < 0.1),
        free_returns=rng.random(n_units) < 0.25,
        premium_mfn=u_star | (rng.random(n_units) < 0.1),
        promise_extra=_pick(rng, np.array([0.5, 0.35, 0.15]), n_units),
        cross_border=cross_border,
        z=u_z,
        drift=u_drift,
    )
    catalog = np.clip(np.rint(4 + 2.5 * np.sqrt(size * 24)), 4, 600).astype(np.int64)
    sellers = _Sellers(
        n=n_sellers,
        country=country,
        name=names,
        category=category,
        catalog_size=catalog,
        catalog_start=np.concatenate([[0], np.cumsum(catalog)[:-1]]),
    )
    return sellers, units


def _quality(ctx: _Ctx, units: _Units) -> np.ndarray:
    """Quality score per dimension, unit and day: array (_NDIM, n_units, n_days), float32."""
    n_days = ctx.n_days
    t = (np.arange(n_days) + 0.5) / n_days
    z = units.z.T[:, :, None] + (units.drift[:, None] * (t - 0.5))[None, :, :]
    z = z.astype(np.float32)
    day = np.arange(n_days)

    def window(start: float, length: int, ramp: int = 10) -> np.ndarray:
        s = int(start * n_days)
        up = np.clip((day - s) / ramp, 0, 1)
        down = np.clip((s + length - day) / ramp, 0, 1)
        return np.minimum(up, down)

    for u in np.flatnonzero(units.scenario != AVERAGE):
        sc = units.scenario[u]
        if sc == IMPROVER:
            ramp = _sigmoid((t - 0.6) / 0.06)
            z[:, u, :] = -0.2 + (_STAR_Z + 0.2) * ramp
        elif sc == SLIP_ODR_RECOVER:
            w = window(0.55, 75)
            z[_CX, u, :] -= (_STAR_Z + 1.5) * w
            z[_SHIP, u, :] -= (_STAR_Z - 0.3) * w
        elif sc == SLIP_ODR:
            w = np.clip((day - int(0.7 * n_days)) / 15, 0, 1)
            z[_CX, u, :] -= (_STAR_Z + 1.5) * w
            z[_SHIP, u, :] -= (_STAR_Z - 0.5) * w
            z[_RESP, u, :] -= 1.5 * w
        elif sc == SLIP_VTR:
            w = window(0.55, 120)
            z[_TRACK, u, :] -= (_STAR_Z + 2.6) * w
    return z


# --------------------------------------------------------------------------------------------- orders


def _season(days: np.ndarray) -> np.ndarray:
    doy = (days - days.astype("datetime64[Y]")).astype("int64")
    s = (
        1.0
        + 0.08 * np.cos(2 * np.pi * (doy - 355) / 365.25)
        + 0.5 * np.exp(-0.5 * ((doy - 331) / 4.0) ** 2)
        + 0.3 * np.exp(-0.5 * ((doy - 195) / 1.5) ** 2)
    )
    return s / s.mean()


def _orders(ctx: _Ctx, units: _Units) -> dict[str, np.ndarray]:
    """Seller orders: unit, day, purchase instant, channel, ship-by and deliver-by deadlines."""
    rng = ctx.rng
    n_days = ctx.n_days
    days = ctx.start + np.arange(n_days).astype("timedelta64[D]")
    dow = np.asarray(OLIST["weekday_mix"], dtype=float) * 7
    day_factor = dow[_weekday(days)] * _season(days)
    d = np.arange(n_days)
    years = (d[None, :] - n_days / 2) / 365.0
    trend = np.exp(units.growth[:, None] * years)
    ramp = np.clip((d[None, :] - units.active_from[:, None] + 1) / 45.0, 0, 1)
    active = (d[None, :] >= units.active_from[:, None]) & (d[None, :] < units.active_to[:, None])
    lam = units.size[:, None] / 30.44 * day_factor[None, :] * trend * ramp * active
    counts = rng.poisson(lam)
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    u = flat // n_days
    di = flat % n_days
    n = len(u)
    mp = units.mp[u]

    bucket = _pick(rng, np.asarray(OLIST["hour_bucket_mix"], dtype=float), n)
    sec = bucket * 10800 + rng.integers(0, 10800, n)
    local_day = days[di]
    local = local_day.astype("datetime64[s]") + sec.astype("timedelta64[s]")
    purchased = ctx.to_utc(local, mp)
    keep = purchased < ctx.cut
    idx = np.lexsort((purchased, units.mp[u], units.seller[u]))  # seller, marketplace, time
    idx = idx[keep[idx]]
    u, di, mp, sec, local_day, purchased = u[idx], di[idx], mp[idx], sec[idx], local_day[idx], purchased[idx]
    n = len(u)

    afn = rng.random(n) < units.afn_share[u]
    # orders after the cut-off hour (the seller's for MFN, noon for AFN) count from the next day
    cutoff = np.where(afn, 12, units.cutoff_hour[u])
    eff = local_day + (sec >= cutoff * 3600).astype("timedelta64[D]")
    ship_by = np.where(
        afn,
        eff + np.timedelta64(1, "D"),
        ctx.busday(eff, units.handling[u], mp, "1111100"),
    )
    promise = np.array([_PROMISE_DAYS[m] for m in _MPS])[mp] + units.promise_extra[u]
    promise = np.where(units.cross_border[u], _CROSS_BORDER_PROMISE + units.promise_extra[u], promise)
    deliver_by = np.where(
        afn,
        eff + np.where(mp == _MPS.index("JP"), 1, 2).astype("timedelta64[D]"),
        ctx.busday(ship_by, promise, mp, "1111110"),
    )
    latest_ship = ctx.end_of_day_utc(ship_by, mp)
    latest_delivery = ctx.end_of_day_utc(deliver_by, mp)

    # lines and items
    s = units.seller[u]
    n_lines = 1 + _pick(rng, np.asarray(OLIST["products_per_seller_order"], dtype=float), n)
    return {
        "u": u,
        "day": di,
        "mp": mp,
        "seller": s,
        "purchased": purchased,
        "afn": afn,
        "latest_ship": latest_ship,
        "latest_delivery": latest_delivery,
        "n_lines": n_lines,
    }


def _items(ctx: _Ctx, sellers: _Sellers, o: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Order lines: products from the seller's catalogue (popular ones first), quantity, price."""
    rng = ctx.rng
    n = len(o["u"])
    oi = np.repeat(np.arange(n), o["n_lines"])
    line = np.arange(len(oi)) - np.repeat(np.cumsum(o["n_lines"]) - o["n_lines"], o["n_lines"])
    s = o["seller"][oi]
    k = np.floor(sellers.catalog_size[s] * rng.random(len(oi)) ** 2.5).astype(np.int64)
    product = sellers.catalog_start[s] + k
    qty = 1 + _pick(rng, np.asarray(OLIST["units_per_seller_order"], dtype=float), len(oi))
    # product attributes (one draw per catalog product)
    n_products = int(sellers.catalog_size.sum())
    p_seller = np.repeat(np.arange(sellers.n), sellers.catalog_size)
    p_cat = np.where(
        rng.random(n_products) < 0.85, sellers.category[p_seller], _pick(rng, _CATEGORY_WEIGHTS, n_products)
    )
    medians = np.array([v[0] for v in _CATEGORIES.values()])
    p_usd = medians[p_cat] * np.exp(0.88 * rng.standard_normal(n_products))
    fx = np.array([_FX[m] for m in _MPS])[o["mp"][oi]]
    price = p_usd[product] * fx * (1 + 0.03 * rng.standard_normal(len(oi)))
    jp = o["mp"][oi] == _MPS.index("JP")
    price = np.where(jp, np.maximum(10, np.rint(price / 10) * 10), np.maximum(0.99, np.ceil(price) - 0.01))
    price = np.round(price, 2)
    return {
        "order": oi,
        "line": line + 1,
        "product": product,
        "category": p_cat[product],
        "qty": qty,
        "price": price,
    }


# --------------------------------------------------------------------------------------------- events


def _cancellations(ctx: _Ctx, o: dict, z: np.ndarray) -> dict[str, np.ndarray]:
    """At most one cancellation per order: seller, buyer, system or unknown."""
    rng = ctx.rng
    n = len(o["u"])
    zc = z[_CX, o["u"], o["day"]]
    p_seller = 0.005 * np.exp(-0.5 * zc)
    p = np.stack([p_seller, np.full(n, 0.006), np.full(n, 0.002), np.full(n, 0.0003)], axis=1)
    none = 1 - p.sum(axis=1)
    kind = _pick_rows(rng, np.column_stack([p, none]))  # 0 seller, 1 buyer, 2 system, 3 unknown, 4 none
    c = np.flatnonzero(kind < 4)
    k = kind[c]
    purchased = o["purchased"][c]
    latest_ship = o["latest_ship"][c]
    m = len(c)
    r = rng.random(m)
    at = np.full(m, _NAT, dtype="datetime64[s]")
    reason = np.full(m, None, dtype=object)
    via = np.zeros(m, dtype=bool)
    # buyer: within minutes to hours, mostly through the official request flow
    b = k == 1
    at[b] = purchased[b] + _hours(np.clip(_lognormal(rng, 1.5, 1.3, int(b.sum())), 0.05, 72))
    via[b] = r[b] < 0.65
    reason[b] = np.array(["buyer_cancelled", "ordered_by_mistake", "found_cheaper", "changed_mind"])[
        rng.integers(0, 4, int(b.sum()))
    ]
    # seller: out of stock mostly; some after the ship-by deadline; some at the buyer's request
    sl = k == 0
    n_sl = int(sl.sum())
    late = rng.random(n_sl) < 0.2
    at_s = np.where(
        late,
        latest_ship[sl] + _days(_lognormal(rng, 1.0, 0.8, n_sl)),
        purchased[sl] + _hours(np.clip(_lognormal(rng, 16, 1.0, n_sl), 0.2, 200)),
    )
    at[sl] = at_s
    rs = _pick(rng, np.array([0.6, 0.1, 0.2, 0.1]), n_sl)
    reason[sl] = np.array(["out_of_stock", "pricing_error", "buyer_cancelled", "address_issue"])[rs]
    via[sl] = (rs == 2) & (rng.random(n_sl) < 0.5)
    # system: shipment never confirmed (auto-cancel after the deadline) or payment failed
    sy = k == 2
    n_sy = int(sy.sum())
    unconfirmed = rng.random(n_sy) < 0.5
    at[sy] = np.where(
        unconfirmed,
        latest_ship[sy] + _days(_lognormal(rng, 3.0, 0.4, n_sy)),
        purchased[sy] + _hours(_lognormal(rng, 3.0, 0.8, n_sy)),
    )
    reason[sy] = np.where(unconfirmed, "shipment_not_confirmed", "payment_failed")
    un = k == 3
    at[un] = purchased[un] + _hours(_lognormal(rng, 20, 0.8, int(un.sum())))
    return {"order": c, "kind": k, "at": at, "reason": reason, "via": via}


def _shipments(
    ctx: _Ctx,
    units: _Units,
    o: dict,
    z: np.ndarray,
    cancelled: np.ndarray,
    carrier_names: list[str],
    carriers_by_mp: dict[str, list[int]],
) -> dict[str, np.ndarray]:
    """Packages of the orders not cancelled: confirmation, carrier, tracking, scan, delivery.

    Returns package rows (``order`` … ``delivered``, what the data records) and, indexed like
    ``ship_orders``, the order-level actual outcome (``order_deliv``, ``order_lost``), which drives
    feedback, claims and returns even where the data do not record it (untracked packages).
    """
    rng = ctx.rng
    ship = np.flatnonzero(~cancelled)
    u = o["u"][ship]
    di = o["day"][ship]
    mp = o["mp"][ship]
    afn = o["afn"][ship]
    units_n = o["units"][ship]
    purchased = o["purchased"][ship]
    latest_ship = o["latest_ship"][ship]
    n = len(ship)
    # split shipments
    split = (units_n >= 2) & (rng.random(n) < np.where(afn, 0.15, 0.25))
    first_units = np.where(split, rng.integers(1, np.maximum(units_n, 2)), units_n)
    # confirmation
    zs = z[_SHIP, u, di]
    p_late = np.where(afn, 0.001, _sigmoid(_logit(0.035) - 1.0 * zs))
    late = rng.random(n) < p_late
    window = (latest_ship - purchased).astype("int64")
    frac = rng.beta(2.0, 2.5, n)
    on_time = purchased + _seconds(np.maximum(600, frac * window))
    afn_conf = purchased + _hours(np.clip(_lognormal(rng, 8.0, 0.5, n), 0.2, None))
    afn_conf = np.minimum(afn_conf, latest_ship - np.timedelta64(3600, "s"))
    late_conf = latest_ship + _days(np.clip(_lognormal(rng, 1.0, 1.6, n), 120 / 86400, 30))
    conf1 = np.where(
        afn, np.maximum(afn_conf, purchased + np.timedelta64(600, "s")), np.where(late, late_conf, on_time)
    )
    # a second package (split shipment) follows the first: on time within the rest of the window, or
    # late (back-ordered) twice as often as a first package
    late2 = ~afn & (late | (rng.random(n) < 2 * p_late))
    rest = np.maximum(0, (latest_ship - conf1).astype("int64"))
    back_order = _days(np.clip(_lognormal(rng, 1.0, 1.0, n), 0.01, 20))
    conf2 = np.where(
        late2,
        np.maximum(conf1, latest_ship) + back_order,
        conf1 + _seconds(np.maximum(60, rng.random(n) * rest)),
    )

    # carriers and tracking
    zt = z[_TRACK, u, di]
    p_miss = np.where(afn, 0.0, _sigmoid(_logit(0.015) - 0.9 * zt))
    mp_carriers = np.array([carriers_by_mp[m] for m in _MPS])  # (n_mp, 4)
    other = mp_carriers[mp, rng.integers(0, 4, n)]
    carrier = np.where(units.cross_border[u] | (rng.random(n) < 0.75), units.carrier[u], other)
    carrier = np.where(afn, 0, carrier)
    zd = z[_DELIV, u, di]
    transit_med = np.where(
        afn,
        np.array([_TRANSIT_AFN[m] for m in _MPS])[mp],
        np.where(units.cross_border[u], _TRANSIT_CROSS_BORDER, np.array([_TRANSIT[m] for m in _MPS])[mp]),
    ) * np.exp(-0.15 * zd)
    p_lost = np.where(afn, 0.0005, 0.002 * np.exp(-0.3 * zd))
    early = units.early_confirmer[u]

    def leg(conf: np.ndarray) -> dict[str, np.ndarray]:
        tracked = rng.random(n) >= p_miss
        no_scan = rng.random(n) < np.where(afn, 0.0, 0.01 + 0.5 * p_miss)
        pickup = np.where(
            afn,
            _lognormal(rng, 2.0, 0.5, n),
            np.where(early, _lognormal(rng, 30.0, 0.5, n), _lognormal(rng, 5.0, 0.8, n)),
        )
        scan_actual = conf + _hours(pickup)
        deliv_actual = scan_actual + _days(_lognormal(rng, transit_med, 0.45, n))
        lost = rng.random(n) < p_lost
        deliv_actual = np.where(lost, _NAT, deliv_actual)
        scan = np.where(tracked & ~no_scan, scan_actual, _NAT)
        delivered = np.where(tracked, deliv_actual, _NAT)
        return {
            "conf": conf,
            "tracked": tracked,
            "scan": scan,
            "delivered": delivered,
            "deliv_actual": deliv_actual,
            "lost": lost,
        }

    l1 = leg(conf1)
    l2 = leg(conf2)
    # carrier of untracked packages is sometimes not recorded
    carrier1 = np.where(~l1["tracked"] & (rng.random(n) < 0.4), -1, carrier)
    carrier2 = np.where(~l2["tracked"] & (rng.random(n) < 0.4), -1, carrier)

    # order-level outcome (actual experience, regardless of what is recorded)
    deliv = np.where(split, np.maximum(l1["deliv_actual"], l2["deliv_actual"]), l1["deliv_actual"])
    lost = l1["lost"] | (split & l2["lost"])
    deliv = np.where(lost, _NAT, deliv)

    idx = np.concatenate([np.arange(n), np.flatnonzero(split)])
    seqno = np.concatenate([np.ones(n, np.int64), np.full(int(split.sum()), 2)])

    def cat(key: str) -> np.ndarray:
        return np.concatenate([l1[key], l2[key][split]])

    return {
        "order": ship[idx],
        "seq": seqno,
        "units": np.concatenate([first_units, (units_n - first_units)[split]]),
        "conf": cat("conf"),
        "carrier": np.concatenate([carrier1, carrier2[split]]),
        "tracked": cat("tracked"),
        "scan": cat("scan"),
        "delivered": cat("delivered"),
        # order level, indexed like `ship`
        "ship_orders": ship,
        "order_deliv": deliv,
        "order_lost": lost,
    }


def _feedback(
    ctx: _Ctx, units: _Units, o: dict, z: np.ndarray, exp_class: np.ndarray, event_at: np.ndarray
) -> dict[str, np.ndarray]:
    """Seller feedback; ``exp_class``: 0 on time, 1 late, 2 not delivered / cancelled, 3 buyer cancel."""
    rng = ctx.rng
    n = len(o["u"])
    mult = np.array([1.0, 2.2, 2.5, 0.2])[exp_class]
    has = (rng.random(n) < np.clip(units.feedback_rate[o["u"]] * mult, 0, 0.9)) & ~np.isnat(event_at)
    f = np.flatnonzero(has)
    cls = exp_class[f]
    keys = ("review_mix_on_time", "review_mix_late", "review_mix_not_delivered", "review_mix_on_time")
    mixes = np.array([OLIST[k] for k in keys], dtype=float)
    beta = 0.3 * z[_CX, o["u"][f], o["day"][f]]
    probs = mixes[cls] * np.exp(beta[:, None] * (np.arange(5) - 2)[None, :])
    rating = 1 + _pick_rows(rng, probs)
    m = len(f)
    submitted = event_at[f] + _days(np.clip(_lognormal(rng, 2.0, 0.8, m), 0.05, 60))
    afn = o["afn"][f]
    p_remove = np.where(rating <= 2, np.where(afn & (cls >= 1) & (cls <= 2), 0.7, 0.03), 0.002)
    removed = np.where(rng.random(m) < p_remove, submitted + _days(_lognormal(rng, 4.0, 0.8, m)), _NAT)
    removed = np.where(removed < ctx.cut, removed, _NAT)
    langs = tuple(_COMMENTS)
    comments = np.array([_COMMENTS[lg] for lg in langs], dtype=object)  # (language, rating)
    lang_idx = np.array([langs.index(_LANG[x]) for x in _MPS])[o["mp"][f]]
    comment = np.where(rng.random(m) < 0.55, comments[lang_idx, rating - 1], None)
    keep = submitted < ctx.cut
    return {
        "order": f[keep],
        "rating": rating[keep],
        "submitted": submitted[keep],
        "removed": removed[keep],
        "shared": (rng.random(m) < 0.003)[keep],
        "comment": comment[keep],
    }


def _claims(
    ctx: _Ctx, o: dict, z: np.ndarray, exp_class: np.ndarray, deliv: np.ndarray, lost: np.ndarray
) -> dict[str, np.ndarray]:
    """A-to-z claims (mostly after late or lost deliveries) and chargebacks, with decisions."""
    rng = ctx.rng
    n = len(o["u"])
    zc = z[_CX, o["u"], o["day"]]
    afn = o["afn"]
    p_az = 0.0025 * np.exp(-0.6 * zc) * np.array([0.6, 5.0, 0.0, 0.0])[exp_class]
    p_az = np.where(lost, 0.35, p_az) * np.where(afn, 0.3, 1.0)
    az = np.flatnonzero(rng.random(n) < p_az)
    filed_az = np.where(
        lost[az],
        o["latest_delivery"][az] + _days(_lognormal(rng, 5.0, 0.6, len(az))),
        deliv[az] + _days(_lognormal(rng, 6.0, 0.7, len(az))),
    )
    p_cb = 0.0006 * np.exp(-0.4 * zc) * (exp_class != 3)
    cb = np.flatnonzero(rng.random(n) < p_cb)
    filed_cb = o["purchased"][cb] + _days(_lognormal(rng, 25.0, 0.5, len(cb)))
    order = np.concatenate([az, cb])
    kind = np.concatenate([np.zeros(len(az), np.int8), np.ones(len(cb), np.int8)])
    filed = np.concatenate([filed_az, filed_cb])
    m = len(order)
    dec_names = np.array(["pending", "granted", "denied", "withdrawn", "reversed"], dtype=object)
    dec = np.where(
        kind == 0,
        1 + _pick(rng, np.array([0.45, 0.30, 0.20, 0.05]), m),
        1 + _pick(rng, np.array([0.45, 0.40, 0.10, 0.05]), m),
    )
    decided = filed + _days(np.where(kind == 0, _lognormal(rng, 5.0, 0.6, m), _lognormal(rng, 12.0, 0.5, m)))
    open_ = decided >= ctx.cut
    dec = np.where(open_, 0, dec)
    decided = np.where(open_, _NAT, decided)
    fraud = (kind == 1) & (rng.random(m) < 0.25)
    keep = filed < ctx.cut
    return {
        "order": order[keep],
        "kind": kind[keep],
        "filed": filed[keep],
        "decision": dec_names[dec][keep],
        "decided": decided[keep],
        "fraud": fraud[keep],
    }


def _returns(
    ctx: _Ctx,
    units: _Units,
    o: dict,
    z: np.ndarray,
    exp_class: np.ndarray,
    deliv: np.ndarray,
    category: np.ndarray,
) -> dict[str, np.ndarray]:
    """Returns of delivered orders: category rate, seller-fault share falling with quality."""
    rng = ctx.rng
    n = len(o["u"])
    zc = z[_CX, o["u"], o["day"]]
    rate = np.array([v[1] for v in _CATEGORIES.values()])[category]
    p = rate * np.exp(-0.25 * zc) * np.where(exp_class == 1, 1.5, 1.0) * ~np.isnat(deliv)
    r = np.flatnonzero(rng.random(n) < p)
    m = len(r)
    requested = deliv[r] + _days(np.clip(_lognormal(rng, 6.0, 0.7, m), 0.1, 60))
    p_fault = _sigmoid(-0.8 - 0.6 * zc[r])
    fault = rng.random(m) < p_fault
    fault_reasons = np.array(["defective", "damaged", "not_as_described", "wrong_item"], dtype=object)
    other_reasons = np.array(
        ["no_longer_needed", "ordered_by_mistake", "better_price", "unwanted_gift"], dtype=object
    )
    reason = np.where(
        fault,
        fault_reasons[_pick(rng, np.array([0.4, 0.25, 0.25, 0.1]), m)],
        other_reasons[_pick(rng, np.array([0.5, 0.2, 0.2, 0.1]), m)],
    )
    late = exp_class[r] == 1
    reason = np.where(late & (rng.random(m) < 0.3), "arrived_late", reason)
    fault = fault | (reason == "arrived_late")
    free = fault | units.free_returns[o["u"][r]]
    keep = requested < ctx.cut
    return {
        "order": r[keep],
        "requested": requested[keep],
        "reason": reason[keep],
        "fault": fault[keep],
        "free": free[keep],
    }


def _messages(
    ctx: _Ctx, units: _Units, o: dict, z: np.ndarray, exp_class: np.ndarray
) -> dict[str, np.ndarray]:
    """Buyer messages per order (more after a bad experience) and pre-sale questions, with replies."""
    rng = ctx.rng
    n = len(o["u"])
    mult = np.array([1.0, 2.0, 3.0, 1.5])[exp_class]
    k = rng.poisson(units.message_rate[o["u"]] * mult)
    order = np.repeat(np.arange(n), k)
    m = len(order)
    received = o["purchased"][order] + _days(np.clip(_lognormal(rng, 2.5, 1.0, m), 0.01, 40))
    # questions without an order (pre-sale): anchored before a random order of the seller
    q = np.flatnonzero(rng.random(n) < 0.04)
    q_received = o["purchased"][q] - _days(np.clip(_lognormal(rng, 1.0, 1.0, len(q)), 0.01, 20))
    all_order = np.concatenate([order, q])
    has_order = np.concatenate([np.ones(m, bool), np.zeros(len(q), bool)])
    received = np.concatenate([received, q_received])
    mm = len(all_order)
    u = o["u"][all_order]
    di = np.clip(o["day"][all_order], 0, ctx.n_days - 1)
    mp = o["mp"][all_order]
    zr = z[_RESP, u, di]
    no_need = rng.random(mm) < 0.08
    never = rng.random(mm) < _sigmoid(_logit(0.03) - 0.8 * zr)
    hours = np.clip(_lognormal(rng, 12.0 * np.exp(-0.5 * zr), 0.85, mm), 0.02, 24 * 20)
    local = ctx.to_local(received, mp)
    lday = local.astype("datetime64[D]")
    wd = _weekday(lday)
    weekend = (wd >= 5) & ~units.works_weekends[u]
    monday = lday + (7 - wd).astype("timedelta64[D]")
    monday_utc = ctx.to_utc(monday.astype("datetime64[s]") + np.timedelta64(9 * 3600, "s"), mp)
    resp = np.where(weekend, monday_utc + _hours(_lognormal(rng, 2.0, 0.8, mm)), received + _hours(hours))
    resp = np.where(never | (no_need & (rng.random(mm) < 0.7)), _NAT, resp)
    resp = np.where(resp < ctx.cut, resp, _NAT)
    keep = (received < ctx.cut) & (received >= ctx.start.astype("datetime64[s]"))
    return {
        "order": all_order[keep],
        "has_order": has_order[keep],
        "received": received[keep],
        "response": resp[keep],
        "no_need": no_need[keep],
        "auto": units.auto_reply[u][keep],
        "u": u[keep],
    }


def _violations(ctx: _Ctx, units: _Units, z: np.ndarray) -> dict[str, np.ndarray]:
    """Random policy violations (Poisson per seller) plus the scripted warnings and IP complaints."""
    rng = ctx.rng
    n_units = len(units.seller)
    n_days = ctx.n_days
    first = np.maximum(units.reg_day, 0)
    span = np.maximum(0, n_days - first)
    zc = z[_CX].mean(axis=1)
    rate = 0.35 * np.exp(-0.35 * zc) / 365.0
    clean = units.scenario != AVERAGE
    k = rng.poisson(rate * span)
    u = np.repeat(np.arange(n_units), k)
    m = len(u)
    day = first[u] + np.floor(rng.random(m) * span[u]).astype(np.int64)
    kinds = np.array(
        ["listing_policy", "restricted_product", "safety", "authenticity", "review_manipulation", "other"],
        dtype=object,
    )
    kind = kinds[_pick(rng, np.array([0.4, 0.15, 0.1, 0.1, 0.05, 0.2]), m)]
    sev = _pick(rng, np.array([0.5, 0.35, 0.12, 0.03]), m)
    sev = np.where(clean[u], np.minimum(sev, 0), sev)
    warn = (rng.random(m) < np.where(sev <= 1, 0.35, 0.15)) & ~clean[u]
    # scripted ones
    s_u: list[int] = []
    s_day: list[float] = []
    s_kind: list[str] = []
    s_sev: list[int] = []
    s_warn: list[bool] = []
    for uu in np.flatnonzero(np.isin(units.scenario, (WARNINGS, SMALL_WARNINGS, IP_COMPLAINT, SMALL_IP))):
        sc = units.scenario[uu]
        if sc in (WARNINGS, SMALL_WARNINGS):
            t0 = int((0.6 if sc == WARNINGS else 0.5) * n_days)
            for j, (off, kd) in enumerate(((0, "listing_policy"), (45, "restricted_product"), (95, "other"))):
                s_u.append(uu)
                s_day.append(min(n_days - 1, t0 + int(off * min(1.0, n_days / 365)) + j))
                s_kind.append(kd)
                s_sev.append(1)
                s_warn.append(True)
        else:
            s_u.append(uu)
            s_day.append(int((0.62 if sc == IP_COMPLAINT else 0.4) * n_days))
            s_kind.append("ip_complaint")
            s_sev.append(2)
            s_warn.append(False)
    u = np.concatenate([u, np.array(s_u, dtype=np.int64)])
    day = np.concatenate([day, np.array(s_day, dtype=np.int64)])
    kind = np.concatenate([kind, np.array(s_kind, dtype=object)])
    sev = np.concatenate([sev, np.array(s_sev, dtype=np.int64)])
    warn = np.concatenate([warn, np.array(s_warn, dtype=bool)])
    m = len(u)
    local = (ctx.start + day.astype("timedelta64[D]")).astype("datetime64[s]") + rng.integers(
        0, 86400, m
    ).astype("timedelta64[s]")
    reported = ctx.to_utc(local, units.mp[u])
    resolved = np.where(rng.random(m) < 0.75, reported + _days(_lognormal(rng, 12.0, 0.8, m)), _NAT)
    resolved = np.where(resolved < ctx.cut, resolved, _NAT)
    keep = reported < ctx.cut
    order = np.lexsort((reported[keep], u[keep]))
    sel = np.flatnonzero(keep)[order]
    return {
        "u": u[sel],
        "kind": kind[sel],
        "severity": np.array(["low", "medium", "high", "critical"], dtype=object)[sev[sel]],
        "reported": reported[sel],
        "warning": warn[sel],
        "resolved": resolved[sel],
    }


# --------------------------------------------------------------------------------------------- public API


def _ts(a: np.ndarray) -> np.ndarray:
    return np.asarray(a).astype("datetime64[us]")


def generate(
    seed: int = 7,
    sellers: int = 300,
    days: int = 730,
    end: date = date(2026, 10, 31),
) -> dict[str, pd.DataFrame]:
    """Generate a synthetic demo data set as canonical tables.

    Parameters
    ----------
    seed : int
        Seed of the single ``numpy.random.default_rng`` stream; the same arguments give identical frames.
    sellers : int
        Number of sellers (distinct ``seller_id``); about 6 % also sell on a second marketplace.
    days : int
        Length of the period in days; purchases fall on marketplace-local days ``end - days + 1 .. end``.
    end : datetime.date
        Last local day of the period.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``marketplaces, sellers, orders, order_items, shipments, cancellations, feedback, claims,
        buyer_messages, returns, violations`` with exactly the contract's columns, in contract order:
        instants as UTC timezone-naive ``datetime64[us]``, booleans as ``bool``, integers as
        ``int64``, amounts as ``float64``, text as strings (null where unknown).

    Notes
    -----
    The module docstring lists the calibration figures, the program scenarios given to the big
    sellers and the data cut. ``buyer_messages.is_auto_reply`` marks sellers with an auto-responder;
    ``first_response_at`` is always the first human reply (field case C18). The scenario of each
    seller is not part of the contract; it is in ``sellers.attrs["scenario"]``
    (``{seller_id: {marketplace_id: scenario name}}``) for tests and demos.
    """
    if sellers < 1 or days < 1:
        raise ValueError("sellers and days must be positive")
    rng = np.random.default_rng(seed)
    start = np.datetime64(end, "D") - np.timedelta64(days - 1, "D")
    zones = tuple(BUILTIN_MARKETPLACES[m][0] for m in _MPS)
    cut = (
        pd.Timestamp(np.datetime64(end, "D") + np.timedelta64(1, "D"))
        .tz_localize("America/Los_Angeles")
        .tz_convert("UTC")
        .tz_localize(None)
        .to_datetime64()
        .astype("datetime64[s]")
    )
    years = range(int(str(start)[:4]) - 1, end.year + 2)
    hol = [
        np.array(
            sorted(holidays_lib.country_holidays(BUILTIN_MARKETPLACES[m][1], years=years)),
            dtype="datetime64[D]",
        )
        for m in _MPS
    ]
    ctx = _Ctx(rng=rng, start=start, n_days=days, cut=cut, zones=zones, holidays=hol)
    carrier_names, carriers_by_mp, _ = _carrier_table()

    sel, units = _make_units(ctx, sellers)
    z = _quality(ctx, units)
    o = _orders(ctx, units)
    it = _items(ctx, sel, o)
    n = len(o["u"])
    o["units"] = np.bincount(it["order"], weights=it["qty"], minlength=n).astype(np.int64)
    total = np.bincount(it["order"], weights=it["qty"] * it["price"], minlength=n)
    first_line = np.cumsum(o["n_lines"]) - o["n_lines"]
    o_cat = it["category"][first_line]

    cx = _cancellations(ctx, o, z)
    cx_keep = cx["at"] < cut
    cancelled = np.zeros(n, dtype=bool)
    cancelled[cx["order"][cx_keep]] = True
    sh = _shipments(ctx, units, o, z, cancelled, carrier_names, carriers_by_mp)
    sh_keep = sh["conf"] < cut

    # order experience: 0 on time, 1 late, 2 not delivered / seller-side cancel, 3 buyer cancel
    deliv = np.full(n, _NAT, dtype="datetime64[s]")
    deliv[sh["ship_orders"]] = sh["order_deliv"]
    lost = np.zeros(n, dtype=bool)
    lost[sh["ship_orders"]] = sh["order_lost"]
    deliv = np.where(deliv < cut, deliv, _NAT)
    exp_class = np.where(deliv > o["latest_delivery"], 1, 0)
    exp_class = np.where(lost, 2, exp_class)
    cancel_kind = np.full(n, -1)
    cancel_kind[cx["order"][cx_keep]] = cx["kind"][cx_keep]
    cancel_at = np.full(n, _NAT, dtype="datetime64[s]")
    cancel_at[cx["order"][cx_keep]] = cx["at"][cx_keep]
    exp_class = np.where(cancel_kind >= 0, np.where(cancel_kind == 1, 3, 2), exp_class)
    event_at = np.where(cancel_kind >= 0, cancel_at, np.where(lost, o["latest_delivery"], deliv))
    fb = _feedback(ctx, units, o, z, exp_class, event_at)
    cl = _claims(ctx, o, z, exp_class, deliv, lost)
    rt = _returns(ctx, units, o, z, exp_class, deliv, o_cat)
    msg = _messages(ctx, units, o, z, exp_class)
    vi = _violations(ctx, units, z)

    # ---- frames
    seller_ids = [f"S{i + 1:04d}" for i in range(sellers)]
    cat_names = list(_CATEGORIES)
    us = units.seller  # unit -> seller
    marketplaces = pd.DataFrame(
        [
            {
                "marketplace_id": m,
                "timezone": BUILTIN_MARKETPLACES[m][0],
                "country": BUILTIN_MARKETPLACES[m][1],
                "currency": BUILTIN_MARKETPLACES[m][2],
                "weekend": BUILTIN_MARKETPLACES[m][3],
            }
            for m in _MPS
        ]
    )
    marketplaces = marketplaces.astype("str")
    reg_day = start + units.reg_day.astype("timedelta64[D]")
    reg_local = reg_day.astype("datetime64[s]") + units.reg_sec.astype("timedelta64[s]")
    sellers_df = pd.DataFrame(
        {
            "seller_id": _str(_take(seller_ids, us)),
            "marketplace_id": _str(_take(_MPS, units.mp)),
            "name": _str(_take(sel.name, us)),
            "registered_at": _ts(ctx.to_utc(reg_local, units.mp)),
            "primary_category": _str(_take(cat_names, sel.category[us])),
            "country": _str(_take(list(sel.country), us)),
        }
    )
    scenario: dict[str, dict[str, str]] = {}
    for s, m, sc in zip(us, units.mp, units.scenario, strict=True):
        scenario.setdefault(seller_ids[s], {})[_MPS[m]] = SCENARIO_NAMES[int(sc)]

    # order ids: marketplace prefix, sequence by purchase time, random suffix
    seq = np.empty(n, dtype=np.int64)
    seq[np.argsort(o["purchased"], kind="stable")] = np.arange(n)
    order_id = _join(
        _take([_ORDER_PREFIX[m] + "-" for m in _MPS], o["mp"]),
        _digits(seq + 1, 7),
        "-",
        _digits(rng.integers(0, 10**7, n), 7),
    )
    o_seller = _take(seller_ids, o["seller"])
    premium = np.where(o["afn"], rng.random(n) < 0.75, units.premium_mfn[o["u"]] & (rng.random(n) < 0.5))
    business = rng.random(n) < np.where(o["mp"] == _MPS.index("JP"), 0.03, 0.06)
    orders = pd.DataFrame(
        {
            "seller_id": _str(o_seller),
            "order_id": _str(order_id),
            "marketplace_id": _str(_take(_MPS, o["mp"])),
            "purchased_at": _ts(o["purchased"]),
            "fulfillment_channel": _str(_take(["MFN", "AFN"], o["afn"].astype(np.int64))),
            "latest_ship_at": _ts(o["latest_ship"]),
            "latest_delivery_at": _ts(o["latest_delivery"]),
            "units": o["units"],
            "order_total": np.round(total, 2),
            "currency": _str(_take([BUILTIN_MARKETPLACES[m][2] for m in _MPS], o["mp"])),
            "category": _str(_take(cat_names, o_cat)),
            "is_premium": premium.astype(bool),
            "is_business": business,
        }
    )

    def child(idx: np.ndarray) -> dict[str, pd.api.extensions.ExtensionArray]:
        """seller_id and order_id of the orders at positions ``idx``."""
        ix = pa.array(np.asarray(idx, dtype=np.int64))
        return {"seller_id": _str(o_seller.take(ix)), "order_id": _str(order_id.take(ix))}

    oi = it["order"]
    sku_k = it["product"] - sel.catalog_start[o["seller"][oi]]
    order_items = pd.DataFrame(
        {
            **child(oi),
            "line_id": _str(_digits(it["line"], 1)),
            "sku": _str(_join(_take([f"{x}-" for x in seller_ids], o["seller"][oi]), _digits(sku_k, 4))),
            "product_id": _str(_join("B0", _digits(10**7 + it["product"], 8))),
            "category": _str(_take(cat_names, it["category"])),
            "quantity": it["qty"].astype(np.int64),
            "unit_price": it["price"].astype(float),
        }
    )

    # rows by seller and confirmation time; shipment ids follow that order
    rows = np.flatnonzero(sh_keep)
    rows = rows[np.lexsort((sh["conf"][rows], o["seller"][sh["order"][rows]]))]
    sh = {k: sh[k][rows] for k in ("order", "units", "conf", "carrier", "tracked", "scan", "delivered")}
    sh_keep = np.ones(len(rows), dtype=bool)
    so = sh["order"]
    sseq = np.arange(len(so))
    tracked = sh["tracked"][sh_keep]
    tracking = _mask(_digits(10**11 + sseq * 97 + rng.integers(0, 97, len(sseq)), 12), tracked)
    ccode = sh["carrier"][sh_keep]
    carrier = _mask(_take(carrier_names, np.maximum(ccode, 0)), ccode >= 0)
    scan = sh["scan"][sh_keep]
    delivered = sh["delivered"][sh_keep]
    shipments = pd.DataFrame(
        {
            **child(so),
            "shipment_id": _str(_join("SH", _digits(sseq + 1, 8))),
            "confirmed_at": _ts(sh["conf"][sh_keep]),
            "carrier": _str(carrier),
            "tracking_id": _str(tracking),
            "first_scan_at": _ts(np.where(scan < cut, scan, _NAT)),
            "delivered_at": _ts(np.where(delivered < cut, delivered, _NAT)),
            "units": sh["units"][sh_keep].astype(np.int64),
        }
    )

    co = cx["order"][cx_keep]
    cancellations = pd.DataFrame(
        {
            **child(co),
            "cancelled_at": _ts(cx["at"][cx_keep]),
            "initiated_by": _str(_take(["seller", "buyer", "system", "unknown"], cx["kind"][cx_keep])),
            "reason": _str(pa.array(cx["reason"][cx_keep], pa.string())),
            "via_buyer_request": cx["via"][cx_keep],
        }
    )

    feedback = pd.DataFrame(
        {
            **child(fb["order"]),
            "rating": fb["rating"].astype(np.int64),
            "submitted_at": _ts(fb["submitted"]),
            "removed_at": _ts(fb["removed"]),
            "is_shared": fb["shared"],
            "comment": _str(pa.array(fb["comment"], pa.string())),
        }
    )

    cseq = np.arange(len(cl["order"]))
    claims = pd.DataFrame(
        {
            **child(cl["order"]),
            "claim_id": _str(_join(_take(["AZ", "CB"], cl["kind"]), _digits(cseq + 1, 7))),
            "kind": _str(_take(["a_to_z", "chargeback"], cl["kind"])),
            "filed_at": _ts(cl["filed"]),
            "decision": _str(pa.array(cl["decision"], pa.string())),
            "decided_at": _ts(cl["decided"]),
            "is_fraud": cl["fraud"],
        }
    )

    # message ids in order of receipt; rows by seller and receipt
    mseq = np.empty(len(msg["order"]), dtype=np.int64)
    mseq[np.argsort(msg["received"], kind="stable")] = np.arange(len(mseq))
    rows = np.lexsort((msg["received"], o["seller"][msg["order"]]))
    msg = {k: v[rows] for k, v in msg.items()}
    mseq = mseq[rows]
    mo = msg["order"]
    ids = child(mo)
    msg_order_id = order_id.take(pa.array(mo, pa.int64()))
    has_order = msg["has_order"]
    thread = pa.array(np.where(has_order, seq[mo], mseq), pa.int64())
    buyer_messages = pd.DataFrame(
        {
            "seller_id": ids["seller_id"],
            "message_id": _str(_join("M", _digits(mseq + 1, 9))),
            "received_at": _ts(msg["received"]),
            "order_id": _str(_mask(msg_order_id, has_order)),
            "thread_id": _str(_join(_take(["TQ", "TH"], has_order.astype(np.int64)), _digits(thread, 8))),
            "first_response_at": _ts(msg["response"]),
            "no_response_needed": msg["no_need"],
            "is_auto_reply": msg["auto"],
            "marketplace_id": _str(_take(_MPS, o["mp"][mo])),
        }
    )

    ro = rt["order"]
    returns = pd.DataFrame(
        {
            **child(ro),
            "return_id": _str(_join("R", _digits(np.arange(len(ro)) + 1, 8))),
            "requested_at": _ts(rt["requested"]),
            "reason": _str(pa.array(rt["reason"], pa.string())),
            "is_seller_fault": rt["fault"],
            "free_return_label": rt["free"],
        }
    )

    vu = vi["u"]
    violations = pd.DataFrame(
        {
            "seller_id": _str(_take(seller_ids, us[vu])),
            "marketplace_id": _str(_take(_MPS, units.mp[vu])),
            "violation_id": _str(_join("V", _digits(np.arange(len(vu)) + 1, 6))),
            "kind": _str(pa.array(vi["kind"], pa.string())),
            "reported_at": _ts(vi["reported"]),
            "severity": _str(pa.array(vi["severity"], pa.string())),
            "is_warning": vi["warning"],
            "resolved_at": _ts(vi["resolved"]),
        }
    )

    tables = {
        "marketplaces": marketplaces,
        "sellers": sellers_df,
        "orders": orders,
        "order_items": order_items,
        "shipments": shipments,
        "cancellations": cancellations,
        "feedback": feedback,
        "claims": claims,
        "buyer_messages": buyer_messages,
        "returns": returns,
        "violations": violations,
    }
    for name, df in tables.items():
        df = df[TABLES[name].column_names]
        sort = [c for c in _SORT[name] if c in df.columns]
        tables[name] = df.sort_values(sort, kind="stable").reset_index(drop=True) if sort else df
    tables["sellers"].attrs["scenario"] = scenario
    return tables


def write_tables(tables: dict[str, pd.DataFrame], directory: str | Path, fmt: str = "parquet") -> list[Path]:
    """Write canonical tables as one file per table, named after the table.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Canonical tables, e.g. from :func:`generate`.
    directory : str or Path
        Target directory (created if missing). Existing files of the same names are replaced.
    fmt : {"parquet", "csv"}
        ``<table>.parquet`` (pyarrow) or ``<table>.csv`` (header line, ISO-8601 instants without an
        offset, i.e. UTC; empty cells for nulls; booleans ``true``/``false``).

    Returns
    -------
    list of Path
        The files written, in table order.

    Raises
    ------
    ValueError
        If ``fmt`` is neither ``parquet`` nor ``csv``.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            frame = df.copy()
            for col in frame.columns:
                if pd.api.types.is_bool_dtype(frame[col]):
                    frame[col] = frame[col].map({True: "true", False: "false"})
            frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        written.append(path)
    return written
