"""Generate a marketplace of any size as canonical Parquet files, inside DuckDB, in bounded memory.

Every value is a deterministic function of ``(seed, row index, stream number)``: a uniform draw is
``hash(seed, index, k)`` scaled to [0, 1), normals come from Box–Muller on two uniforms, and the
Olist-measured distributions are sampled by inverting their measured quantiles (piecewise linear).
Sellers are a small table; orders are ``sellers × range(n_orders)`` (a lateral ``range``), and each
canonical table is one streaming ``COPY (SELECT …) TO '<table>.parquet'`` over that view, so memory
does not grow with the number of orders (DuckDB's memory limit bounds it; the default here is 4 GB).
The same seed and arguments give the same rows (the order of rows inside a file may differ between
runs with several threads; compare sorted).

Calibration (Olist, :data:`cxops.demo.calibration.OLIST`, measured by
:func:`cxops.demo.calibration.measure_olist`; figures below are what is used — see
:data:`CALIBRATION`)
----------------------------------------------------------------------------------------------------
* **Seller size tail.** Olist: ln(seller orders per seller) has sd 1.58 (mean 2.02; top 10 % of
  sellers hold 68.4 % of orders, top 1 % 26.2 %). Here each seller's expected order count is
  lognormal with log-sd 1.58 and a log-mean chosen so the mean is ``orders_per_seller_mean``
  (``mu = ln(mean) − 1.58²/2``), rounded stochastically. Measured on a 10,000-seller run (mean 100):
  top 10 % hold ≈ 62 %, top 1 % ≈ 22 % — the Olist tail shape (Olist's own top shares are a little
  higher because its small sellers have fewer than one order a month).
* **Ship-by window** (ship-by − purchase, MFN): Olist quantiles 5..95 % = 3.01, 4.01, 5.01, 6.01,
  7.21, 10.01, 12.07 days, inverted piecewise linearly (tails to 1 and 20 days). AFN: 1 day.
* **Hand-over delay relative to ship-by** (carrier hand-over − ship-by, MFN): Olist quantiles
  5, 10, 25, 50, 75, 90, 95, 99 % = −7.68, −6.46, −5.20, −3.21, −1.50, −0.03, 0.96, 7.91 days
  (tails to −10 and +30 days), so 9.65 % of hand-overs are after ship-by (Olist: 9.65 %). A
  hand-over is never earlier than 30 minutes after purchase. Per seller the uniform draw is tilted
  ``u ** exp(0.35 z)`` by a shipping-quality score ``z ~ N(0, 1)``: good sellers hand over earlier.
* **Delivery delay relative to the estimate.** Olist: 5.23 % of deliveries arrive after the
  estimated day when the hand-over was on time, 20.3 % when it was late (6.76 % overall); late
  ones by 2.70 / 5.98 / 12.73 / 20.88 days at 25/50/75/90 % (tails to 1 and 60 days). Those are
  used as they are (times ``exp(−0.4 z)`` for a delivery-quality score). On-time parcels arrive
  after a transit drawn from the Olist hand-over-to-delivery quantiles (1.86 / 4.08 / 7.07 / 11.99
  / 18.87 / 24.18 days at 10..95 %), capped one hour before the promise. The promise is ship-by +
  2 days + a transit draw (MFN) or ship-by + 1–2 days (AFN). 1.65 % of shipped parcels are never
  delivered (Olist: 100 − 96.98 % delivered − 1.37 % cancelled).
* **Cancellation share.** Olist: 1.37 % of orders ``canceled`` or ``unavailable``. Here 1.37 % at
  the average seller: seller 0.50 % (× exp(−0.5 z)), buyer 0.60 % (65 % through the official
  request flow), system 0.20 %, unknown initiator 0.07 %; all before the hand-over (no shipment).
* **Review-score mix** by delivery experience (Olist): on time 6.7, 2.7, 8.1, 20.6, 61.9 %; late
  55.6, 9.1, 10.4, 8.9, 16.0 %; not delivered 70.5, 7.4, 7.7, 5.4, 9.0 % for 1..5★, tilted by a
  customer-experience score. Unlike Olist (a survey after every order), 6 % of orders get seller
  feedback, 2.25× as often after a bad experience; 5 % of negative feedback is removed later; 1 %
  of ratings are shared by several seller orders.
* **Purchase hour** (local): Olist 3-hour bucket mix 4.2, 0.6, 4.7, 17.6, 19.0, 19.5, 18.2,
  16.3 %; the day is uniform over the seller's active days (no weekday shape).
* **Units** per seller order: Olist 91.1, 6.8, 1.2, 0.4, 0.2, 0.2 % for 1..6+; item price
  lognormal around the Olist median (75 BRL ≈ 15 USD-equivalent units; log-sd 0.88).
* Not in Olist (set from the reference program, like the demo): A-to-z claims 0.12 % of orders
  (× 8 for lost parcels, × 3 for late deliveries), chargebacks 0.04 % (10 % fraud); 41 % of orders
  have a buyer message, response time lognormal (median 12 h at the average seller, sd 1.1), 3 %
  never answered, 8 % no response needed, 20 % get an auto-reply; MFN packages without tracking
  1.5 % and without a carrier scan 3.2 % (× exp(−0.5 z)); violations: 6 %, 2 % and 0.8 % of
  sellers have a first, second and third one (15 % IP complaints, half of them warnings);
  marketplace mix US 34, DE 24, JP 22, UK 7, CA 7, FR 6 %; AFN share per seller 0 for 30 % of
  sellers, else uniform 15–90 %.

Events after the data cut (UTC midnight after the last day) are absent or null, as in a real
extract: unconfirmed shipments have no row, later deliveries / scans / replies / decisions are null,
later feedback, claims, messages and cancellations are absent.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.demo.calibration import OLIST

#: Marketplaces, their share of sellers and standard UTC offset (hours, for the local purchase hour).
MARKETPLACE_MIX: dict[str, tuple[float, int, str]] = {
    "US": (0.34, -8, "USD"),
    "DE": (0.24, 1, "EUR"),
    "JP": (0.22, 9, "JPY"),
    "UK": (0.07, 0, "GBP"),
    "CA": (0.07, -5, "CAD"),
    "FR": (0.06, 1, "EUR"),
}
_CARRIERS = {
    "US": ("UPS", "USPS", "FedEx", "OnTrac"),
    "CA": ("Canada Post", "Purolator", "UPS", "Canpar"),
    "DE": ("DHL", "Hermes", "DPD", "GLS"),
    "UK": ("Royal Mail", "Evri", "DPD", "Parcelforce"),
    "FR": ("Colissimo", "Chronopost", "Mondial Relay", "DPD"),
    "JP": ("Yamato", "Sagawa", "Japan Post", "Seino"),
}
_FX = {"USD": 1.0, "CAD": 1.37, "EUR": 0.92, "GBP": 0.79, "JPY": 150.0}

#: The figures the generator uses (see the module docstring for their Olist source).
CALIBRATION: dict[str, object] = {
    "log_orders_sd": OLIST["log_orders_sd"],  # 1.58
    "handling_window": (
        (0.0, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 1.0),
        (1.0, *OLIST["handling_window_quantiles"], 20.0),
    ),
    "handover_delay": (
        (0.0, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99, 1.0),
        (-10.0, *OLIST["handover_delay_quantiles"], 30.0),
    ),
    "transit": ((0.0, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 1.0), (0.5, *OLIST["transit_quantiles"], 40.0)),
    "late_delivery_share_if_handover_on_time": OLIST["late_delivery_share_if_handover_on_time"],
    "late_delivery_share_if_handover_late": OLIST["late_delivery_share_if_handover_late"],
    "late_delivery_delay": (
        (0.0, 0.25, 0.50, 0.75, 0.90, 1.0),
        (1.0, *OLIST["late_delivery_delay_quantiles"], 60.0),
    ),
    "not_delivered_share": round(1 - OLIST["delivered_share"] - OLIST["cancel_share"], 4),  # 0.0165
    "cancel_share": OLIST["cancel_share"],  # 0.0137 = seller .005 + buyer .006 + system .002 + unknown .0007
    "cancel_split": {"seller": 0.0050, "buyer": 0.0060, "system": 0.0020, "unknown": 0.0007},
    "review_mix_on_time": OLIST["review_mix_on_time"],
    "review_mix_late": OLIST["review_mix_late"],
    "review_mix_not_delivered": OLIST["review_mix_not_delivered"],
    "hour_bucket_mix": OLIST["hour_bucket_mix"],
    "units_per_seller_order": OLIST["units_per_seller_order"],
    "feedback_share": 0.06,
    "feedback_bad_experience_factor": 2.25,
    "a_to_z_share": 0.0012,
    "chargeback_share": 0.0004,
    "message_share": 0.41,
}

#: Tables written, in load order, and the columns the generator provides (the others are null).
PROVIDED: dict[str, list[str]] = {
    "marketplaces": ["marketplace_id", "timezone", "country", "currency", "weekend"],
    "sellers": ["seller_id", "marketplace_id", "name", "registered_at", "primary_category", "country"],
    "orders": [
        "seller_id",
        "order_id",
        "marketplace_id",
        "purchased_at",
        "fulfillment_channel",
        "latest_ship_at",
        "latest_delivery_at",
        "units",
        "order_total",
        "currency",
    ],
    "shipments": [
        "seller_id",
        "order_id",
        "shipment_id",
        "confirmed_at",
        "carrier",
        "tracking_id",
        "first_scan_at",
        "delivered_at",
        "units",
    ],
    "cancellations": ["seller_id", "order_id", "cancelled_at", "initiated_by", "reason", "via_buyer_request"],
    "feedback": ["seller_id", "order_id", "rating", "submitted_at", "removed_at", "is_shared"],
    "claims": ["seller_id", "order_id", "claim_id", "kind", "filed_at", "decision", "decided_at", "is_fraud"],
    "buyer_messages": [
        "seller_id",
        "message_id",
        "received_at",
        "order_id",
        "first_response_at",
        "no_response_needed",
        "is_auto_reply",
        "marketplace_id",
    ],
    "violations": [
        "seller_id",
        "marketplace_id",
        "violation_id",
        "kind",
        "reported_at",
        "severity",
        "is_warning",
        "resolved_at",
    ],
}
MANIFEST = "_cxops_columns.json"


@dataclass
class SynthStats:
    """What :func:`generate_parquet` wrote: rows and file per table, seconds, and the arguments."""

    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    start: date | None = None
    end: date | None = None
    sellers: int = 0
    seed: int = 0


# -- SQL building blocks ---------------------------------------------------------------------------
_TWO53 = 9007199254740992.0


def _u(seed: int, idx: str, k: int) -> str:
    """A uniform [0, 1) draw, deterministic in (seed, idx, k); ``k`` < 1024, ``|idx|`` < 2**33."""
    mixed = f"(({idx}) * 1024 + {int(k)} + {int(seed) % 1000003} * 8796093022208)::BIGINT"
    return f"((hash({mixed}) >> 11)::DOUBLE / {_TWO53})"


def _normal(seed: int, idx: str, k: int) -> str:
    u1, u2 = _u(seed, idx, k), _u(seed, idx, k + 1)
    return f"(sqrt(-2.0 * ln(greatest({u1}, 1e-300))) * cos(2.0 * pi() * {u2}))"


def _pw(u: str, ps, qs) -> str:
    """Piecewise-linear inverse CDF through (ps[i], qs[i]) evaluated at ``u``."""
    parts = []
    for i in range(1, len(ps)):
        p0, p1, q0, q1 = ps[i - 1], ps[i], qs[i - 1], qs[i]
        slope = (q1 - q0) / (p1 - p0)
        parts.append(f"WHEN {u} < {p1!r} THEN {q0!r} + ({u} - {p0!r}) * {slope!r}")
    return f"(CASE {' '.join(parts)} ELSE {qs[-1]!r} END)"


def _discrete(u: str, shares, values) -> str:
    """Pick ``values[i]`` with probability ``shares[i]`` (normalised) from uniform ``u``."""
    tot = float(sum(shares))
    acc, parts = 0.0, []
    for s, v in zip(shares[:-1], values[:-1], strict=True):
        acc += s / tot
        parts.append(f"WHEN {u} < {acc!r} THEN {v}")
    return f"(CASE {' '.join(parts)} ELSE {values[-1]} END)"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _rating(u: str, mix) -> str:
    return _discrete(u, mix, (1, 2, 3, 4, 5))


def _ts(seconds: str) -> str:
    return f"epoch_ms((({seconds}) * 1000)::BIGINT)"


def _sellers_sql(n: int, days: int, seed: int, mean: float, start_epoch: int) -> str:
    sd = float(CALIBRATION["log_orders_sd"])
    mu = math.log(mean) - sd * sd / 2
    us = lambda k: _u(seed, "-1 - i", 1000 + k)  # noqa: E731  (seller streams: negative indices)
    ns = lambda k: _normal(seed, "-1 - i", 1000 + k)  # noqa: E731
    mps = list(MARKETPLACE_MIX)
    mp = _discrete(us(0), [MARKETPLACE_MIX[m][0] for m in mps], [_lit(m) for m in mps])
    cats = ["electronics", "home", "kitchen", "toys", "sports", "beauty", "apparel", "office", "automotive"]
    cat = _discrete(us(11), [1] * len(cats), [_lit(c) for c in cats])
    return f"""
    WITH b AS (
        SELECT range AS i, {mp} AS marketplace_id, {ns(2)} AS g,
               floor(-730 + {us(4)} * (730 + 0.7 * {days}))::BIGINT AS reg_day,
               {us(5)} AS reg_frac,
               greatest(floor(exp({mu!r} + {sd!r} * {ns(6)}) + {us(8)}), 0)::BIGINT AS n_orders,
               CASE WHEN {us(9)} < 0.3 THEN 0.0 ELSE 0.15 + 0.75 * {us(10)} END AS afn_share,
               {cat} AS primary_category,
               {ns(12)} AS e_ship, {ns(14)} AS e_cx, {ns(16)} AS e_deliv, {ns(18)} AS e_track,
               {ns(20)} AS e_resp
        FROM range({int(n)})
    )
    SELECT i, 'S' || lpad(i::VARCHAR, 8, '0') AS seller_id, marketplace_id, n_orders, afn_share,
           primary_category, reg_day, reg_frac,
           greatest(reg_day, 0) AS active_start, {days} - greatest(reg_day, 0) AS active_len,
           0.6 * g + 0.8 * e_ship AS z_ship, 0.6 * g + 0.8 * e_cx AS z_cx,
           0.6 * g + 0.8 * e_deliv AS z_deliv, 0.6 * g + 0.8 * e_track AS z_track,
           0.6 * g + 0.8 * e_resp AS z_resp,
           CASE marketplace_id {" ".join(f"WHEN {_lit(m)} THEN {MARKETPLACE_MIX[m][1]}" for m in mps)} END AS tz_h,
           CASE marketplace_id {" ".join(f"WHEN {_lit(m)} THEN {_lit(MARKETPLACE_MIX[m][2])}" for m in mps)} END AS currency,
           coalesce(sum(n_orders) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS o_off,
           {start_epoch} AS start_s
    FROM b
    """


def _orders_view_sql(seed: int, cut_s: int) -> str:
    """Order-level draws: one row per seller order with every derived instant in epoch seconds."""
    u = lambda k: _u(seed, "o_idx", k)  # noqa: E731
    nrm = lambda k: _normal(seed, "o_idx", k)  # noqa: E731
    c = CALIBRATION
    hours = _pw(
        u(3),
        [0.0, *[sum(c["hour_bucket_mix"][: i + 1]) / sum(c["hour_bucket_mix"]) for i in range(8)]],
        [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0],
    )
    hw = _pw(u(5), *c["handling_window"])
    delay = _pw(f"pow({u(6)}, exp(0.35 * z_ship))", *c["handover_delay"])
    transit = _pw(u(10), *c["transit"])
    promise_transit = _pw(u(11), *c["transit"])
    late_delay = _pw(u(14), *c["late_delivery_delay"])
    split = c["cancel_split"]
    units = _discrete(u(34), c["units_per_seller_order"], (1, 2, 3, 4, 5, 6))
    carrier_idx = f"floor({u(17)} * 4)::INT"
    carriers = (
        "CASE marketplace_id "
        + " ".join(
            f"WHEN {_lit(m)} THEN [{', '.join(_lit(x) for x in cs)}][{carrier_idx} + 1]"
            for m, cs in _CARRIERS.items()
        )
        + " END"
    )
    fx = "CASE currency " + " ".join(f"WHEN {_lit(k)} THEN {v!r}" for k, v in _FX.items()) + " END"
    return f"""
    WITH o0 AS (
        SELECT s.seller_id, s.marketplace_id, s.currency, s.z_ship, s.z_cx, s.z_deliv, s.z_track, s.z_resp,
               s.o_off + r.range AS o_idx, s.afn_share, s.active_start, s.active_len, s.tz_h, s.start_s
        FROM _synth_sellers s, range(s.n_orders) r
    ), o1 AS (
        SELECT *,
            {u(1)} >= afn_share AS mfn,
            round(start_s + (active_start + floor({u(2)} * active_len)) * 86400 + {hours} * 3600 - tz_h * 3600) AS p_s,
            {u(7)} AS uc
        FROM o0
    ), o2 AS (
        SELECT *,
            p_s + (CASE WHEN mfn THEN {hw} ELSE 1.0 END) * 86400 AS ship_s,
            CASE
                WHEN uc < {split["seller"]!r} * exp(-0.5 * z_ship) THEN 'seller'
                WHEN uc < {split["seller"]!r} * exp(-0.5 * z_ship) + {split["buyer"]!r} THEN 'buyer'
                WHEN uc < {split["seller"]!r} * exp(-0.5 * z_ship) + {split["buyer"] + split["system"]!r} THEN 'system'
                WHEN uc < {split["seller"]!r} * exp(-0.5 * z_ship) + {split["buyer"] + split["system"] + split["unknown"]!r}
                    THEN 'unknown'
            END AS cancel_by
        FROM o1
    ), o3 AS (
        SELECT *,
            round(CASE WHEN mfn THEN greatest(p_s + 1800, ship_s + {delay} * 86400)
                       ELSE p_s + {u(13)} * 0.9 * 86400 END) AS conf_s,
            round(CASE WHEN mfn THEN ship_s + (2 + {promise_transit}) * 86400
                       ELSE ship_s + (1 + floor({u(11)} * 2)) * 86400 END) AS prom_s
        FROM o2
    ), o4 AS (
        SELECT *,
            conf_s > ship_s AS handover_late,
            {u(9)} < {c["not_delivered_share"]!r} * exp(-0.3 * z_deliv) AS lost,
            {u(12)} < (CASE WHEN conf_s > ship_s THEN {c["late_delivery_share_if_handover_late"]!r}
                            ELSE {c["late_delivery_share_if_handover_on_time"]!r} END) * exp(-0.4 * z_deliv) AS late_deliv
        FROM o3
    ), o5 AS (
        SELECT *,
            round(CASE WHEN late_deliv THEN prom_s + {late_delay} * 86400
                       ELSE conf_s + greatest(least({transit} * 86400, prom_s - 3600 - conf_s), 600) END) AS deliv_s,
            round(p_s + {u(18)} * 0.95 * (conf_s - p_s)) AS canc_s
        FROM o4
    )
    SELECT *,
        'O' || o_idx::VARCHAR AS order_id,
        CASE WHEN mfn THEN 'MFN' ELSE 'AFN' END AS fulfillment_channel,
        {units} AS units,
        {carriers} AS carrier,
        {fx} AS fx,
        exp(ln(15.0) + 0.88 * {nrm(35)}) AS unit_price,
        cancel_by IS NULL AND conf_s <= {cut_s} AS shipped,
        NOT lost AND deliv_s <= {cut_s} AS delivered_known,
        {u(15)} < 0.032 * exp(-0.5 * z_track) AS no_scan,
        {u(16)} < 0.015 * exp(-0.5 * z_track) AS no_tracking,
        deliv_s > prom_s AND NOT lost AS is_late_delivery
    FROM o5
    """


def _table_sql(name: str, seed: int, cut_s: int) -> str:
    u = lambda k: _u(seed, "o_idx", k)  # noqa: E731
    nrm = lambda k: _normal(seed, "o_idx", k)  # noqa: E731
    c = CALIBRATION
    if name == "orders":
        return f"""
        SELECT seller_id, order_id, marketplace_id, {_ts("p_s")} AS purchased_at, fulfillment_channel,
               {_ts("ship_s")} AS latest_ship_at, {_ts("prom_s")} AS latest_delivery_at, units::BIGINT AS units,
               round(units * unit_price * fx, 2)::DOUBLE AS order_total, currency,
               NULL::VARCHAR AS category, NULL::BOOLEAN AS is_premium, NULL::BOOLEAN AS is_business
        FROM _synth_orders"""
    if name == "shipments":
        return f"""
        SELECT seller_id, order_id, order_id || '-1' AS shipment_id, {_ts("conf_s")} AS confirmed_at,
               carrier,
               CASE WHEN NOT mfn THEN 'AFN' || o_idx::VARCHAR WHEN no_tracking THEN NULL
                    ELSE 'T' || o_idx::VARCHAR END AS tracking_id,
               CASE WHEN (no_scan AND mfn) OR conf_s + 7200 > {cut_s} THEN NULL ELSE {_ts("conf_s + 7200")} END
                    AS first_scan_at,
               CASE WHEN delivered_known THEN {_ts("deliv_s")} END AS delivered_at,
               units::BIGINT AS units
        FROM _synth_orders WHERE shipped"""
    if name == "cancellations":
        return f"""
        SELECT seller_id, order_id, {_ts("canc_s")} AS cancelled_at, cancel_by AS initiated_by,
               CASE cancel_by WHEN 'seller' THEN 'out_of_stock' WHEN 'buyer' THEN 'buyer_request'
                              WHEN 'system' THEN 'payment_failed' ELSE NULL END AS reason,
               (cancel_by = 'buyer' AND {u(8)} < 0.65) AS via_buyer_request
        FROM _synth_orders WHERE cancel_by IS NOT NULL AND canc_s <= {cut_s}"""
    if name == "feedback":
        exp_kind = "(CASE WHEN cancel_by IS NOT NULL OR lost THEN 2 WHEN is_late_delivery THEN 1 ELSE 0 END)"
        ut = f"pow({u(20)}, exp(-0.3 * z_cx))"
        rating = (
            f"(CASE {exp_kind} WHEN 0 THEN {_rating(ut, c['review_mix_on_time'])} "
            f"WHEN 1 THEN {_rating(ut, c['review_mix_late'])} ELSE {_rating(ut, c['review_mix_not_delivered'])} END)"
        )
        base = (
            "(CASE WHEN cancel_by IS NOT NULL THEN canc_s WHEN lost THEN prom_s + 5 * 86400 ELSE deliv_s END)"
        )
        return f"""
        WITH f AS (
            SELECT seller_id, order_id, {rating} AS rating,
                   round({base} + (0.2 + exp(ln(2.0) + 0.8 * {nrm(36)})) * 86400) AS sub_s,
                   {u(21)} AS u_rm, {u(22)} AS u_sh
            FROM _synth_orders
            WHERE {u(19)} < {c["feedback_share"]!r} * (CASE WHEN {exp_kind} > 0
                                                       THEN {c["feedback_bad_experience_factor"]!r} ELSE 1.0 END)
              AND (cancel_by IS NOT NULL OR shipped)
        )
        SELECT seller_id, order_id, rating::BIGINT AS rating, {_ts("sub_s")} AS submitted_at,
               CASE WHEN rating <= 2 AND u_rm < 0.05 AND sub_s + 2 * 86400 <= {cut_s}
                    THEN {_ts("sub_s + 2 * 86400")} END AS removed_at,
               u_sh < 0.01 AS is_shared, NULL::VARCHAR AS comment
        FROM f WHERE sub_s <= {cut_s}"""
    if name == "claims":
        pa = f"({c['a_to_z_share']!r} * (CASE WHEN lost THEN 8 WHEN is_late_delivery THEN 3 ELSE 1 END))"
        pc = repr(c["chargeback_share"])
        decision = _discrete(
            u(25),
            (0.45, 0.30, 0.10, 0.05, 0.10),
            ("'granted'", "'denied'", "'withdrawn'", "'reversed'", "'pending'"),
        )
        return f"""
        WITH cl AS (
            SELECT seller_id, order_id, 'C' || o_idx::VARCHAR AS claim_id,
                   CASE WHEN {u(23)} < {pa} THEN 'a_to_z' ELSE 'chargeback' END AS kind,
                   round(prom_s + (3 + {u(24)} * 27) * 86400) AS filed_s,
                   {decision} AS decision0, {u(26)} AS u_fr, {u(37)} AS u_dec
            FROM _synth_orders
            WHERE shipped AND {u(23)} < {pa} + {pc}
        ), cl2 AS (SELECT *, round(filed_s + (1 + u_dec * 9) * 86400) AS dec_s FROM cl)
        SELECT seller_id, order_id, claim_id, kind, {_ts("filed_s")} AS filed_at,
               CASE WHEN decision0 = 'pending' OR dec_s > {cut_s} THEN 'pending' ELSE decision0 END AS decision,
               CASE WHEN decision0 = 'pending' OR dec_s > {cut_s} THEN NULL ELSE {_ts("dec_s")} END AS decided_at,
               kind = 'chargeback' AND u_fr < 0.1 AS is_fraud
        FROM cl2 WHERE filed_s <= {cut_s}"""
    if name == "buyer_messages":
        return f"""
        WITH m AS (
            SELECT seller_id, order_id, marketplace_id, 'M' || o_idx::VARCHAR AS message_id,
                   round(p_s + {u(28)} * 10 * 86400) AS rec_s,
                   {u(29)} < 0.08 AS nrn, {u(30)} < 0.03 AS never, {u(33)} < 0.2 AS auto,
                   exp(ln(12.0) - 0.5 * z_resp + 1.1 * {nrm(31)}) AS hours
            FROM _synth_orders WHERE {u(27)} < {c["message_share"]!r}
        )
        SELECT seller_id, message_id, {_ts("rec_s")} AS received_at, order_id, NULL::VARCHAR AS thread_id,
               CASE WHEN nrn OR never OR rec_s + round(hours * 3600) > {cut_s} THEN NULL
                    ELSE {_ts("rec_s + round(hours * 3600)")} END AS first_response_at,
               nrn AS no_response_needed, auto AS is_auto_reply, marketplace_id
        FROM m WHERE rec_s <= {cut_s}"""
    raise KeyError(name)


def _violations_sql(seed: int, cut_s: int) -> str:
    u = lambda k: _u(seed, "-1000000000 - s.i * 4 - j.range", k)  # noqa: E731
    kinds = (
        "ip_complaint",
        "listing_policy",
        "authenticity",
        "safety",
        "restricted_product",
        "review_manipulation",
        "other",
    )
    kind = _discrete("u_kind", (0.15, 0.30, 0.10, 0.10, 0.10, 0.05, 0.20), [_lit(k) for k in kinds])
    sev = _discrete("u_sev", (0.40, 0.35, 0.18, 0.07), ("'low'", "'medium'", "'high'", "'critical'"))
    return f"""
    WITH v AS (
        SELECT s.seller_id, s.marketplace_id, j.range AS j, s.i,
               round(s.start_s + (s.active_start + {u(3)} * s.active_len) * 86400) AS rep_s,
               {u(1)} AS u_kind, {u(2)} AS u_sev, {u(4)} AS u_warn
        FROM _synth_sellers s, range(3) j
        WHERE {u(0)} < (CASE j.range WHEN 0 THEN 0.06 WHEN 1 THEN 0.02 ELSE 0.008 END)
    )
    SELECT seller_id, marketplace_id, 'V' || i::VARCHAR || '-' || j::VARCHAR AS violation_id,
           {kind} AS kind, {_ts("rep_s")} AS reported_at, {sev} AS severity, u_warn < 0.5 AS is_warning,
           CASE WHEN rep_s + 10 * 86400 <= {cut_s} THEN {_ts("rep_s + 10 * 86400")} END AS resolved_at
    FROM v WHERE rep_s <= {cut_s}"""


def _copy(con, sql: str, path: Path) -> int:
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0])


def generate_parquet(
    out_dir: str | Path,
    sellers: int,
    days: int,
    seed: int = 7,
    orders_per_seller_mean: float = 100.0,
    end: date = date(2026, 10, 31),
    memory_limit: str = "4GB",
    threads: int | None = None,
) -> SynthStats:
    """Write a synthetic marketplace as canonical Parquet files in ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed; ``<table>.parquet`` for marketplaces, sellers, orders, shipments,
        cancellations, feedback, claims, buyer_messages, violations, plus ``_cxops_columns.json``
        (the columns each table provides; :func:`cxops.synth.attach_parquet` records them).
    sellers : int
        Number of sellers (each on one marketplace).
    days : int
        Length of the period, ending on ``end`` (inclusive).
    seed : int
        Same seed and arguments → same rows.
    orders_per_seller_mean : float
        Mean seller orders per seller over the period (sizes are lognormal with the Olist spread),
        so the expected total is ``sellers × orders_per_seller_mean``.
    end : date
        The last day of data (data cut: UTC midnight after it).
    memory_limit : str
        DuckDB memory limit during generation (bounds peak memory whatever the size).
    threads : int, optional
        DuckDB threads (default: all cores).

    Returns
    -------
    SynthStats

    Raises
    ------
    ValueError
        If ``sellers``, ``days`` or ``orders_per_seller_mean`` is not positive.
    """
    if sellers <= 0 or days <= 0 or orders_per_seller_mean <= 0:
        raise ValueError("sellers, days and orders_per_seller_mean must be positive")
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = end - timedelta(days=days - 1)
    start_epoch = int((datetime(start.year, start.month, start.day) - datetime(1970, 1, 1)).total_seconds())
    cut_s = start_epoch + days * 86400
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.execute("SET enable_progress_bar=false")
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute("SET preserve_insertion_order=false")
        if threads:
            con.execute(f"SET threads={int(threads)}")
        con.execute(
            "CREATE TEMP TABLE _synth_sellers AS "
            + _sellers_sql(sellers, days, seed, orders_per_seller_mean, start_epoch)
        )
        con.execute("CREATE TEMP VIEW _synth_orders AS " + _orders_view_sql(seed, cut_s))
        stats = SynthStats(out_dir=out, start=start, end=end, sellers=sellers, seed=seed)
        mps = sorted(
            {r[0] for r in con.execute("SELECT DISTINCT marketplace_id FROM _synth_sellers").fetchall()}
        )
        rows = ", ".join(
            f"({_lit(m)}, {_lit(BUILTIN_MARKETPLACES[m][0])}, {_lit(BUILTIN_MARKETPLACES[m][1])}, "
            f"{_lit(BUILTIN_MARKETPLACES[m][2])}, {_lit(BUILTIN_MARKETPLACES[m][3])})"
            for m in mps
        )
        sqls = {
            "marketplaces": f"SELECT * FROM (VALUES {rows}) t(marketplace_id, timezone, country, currency, weekend)",
            "sellers": f"""
                SELECT seller_id, marketplace_id, 'Seller ' || i::VARCHAR AS name,
                       {_ts("start_s + reg_day * 86400 + round(reg_frac * 86400) - tz_h * 3600")} AS registered_at,
                       primary_category, marketplace_id AS country
                FROM _synth_sellers WHERE start_s + reg_day * 86400 <= {cut_s}""",
        }
        for name in ("orders", "shipments", "cancellations", "feedback", "claims", "buyer_messages"):
            sqls[name] = _table_sql(name, seed, cut_s)
        sqls["violations"] = _violations_sql(seed, cut_s)
        for name, sql in sqls.items():
            path = out / f"{name}.parquet"
            stats.rows[name] = _copy(con, sql, path)
            stats.files[name] = path
        (out / MANIFEST).write_text(
            json.dumps(
                {
                    "provided": PROVIDED,
                    "rows": stats.rows,
                    "sellers": sellers,
                    "days": days,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "seed": seed,
                    "orders_per_seller_mean": orders_per_seller_mean,
                },
                indent=1,
            )
        )
    finally:
        con.close()
    stats.seconds = time.perf_counter() - t0
    return stats
