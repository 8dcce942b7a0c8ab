"""The generator's calibration: every figure it uses, in one place, each with where it comes from.

:data:`OLIST` holds the figures measured on the real Olist marketplace data (how: the docstring of
:mod:`cxops.synth.measure`, whose :func:`~cxops.synth.measure.measure_olist` recomputes them; a test
compares). :data:`CALIBRATION` is what the generator reads: each :class:`Figure` is either an Olist
figure (``source = "olist:<key>"``), a figure of the reference program (``shared/program.md``), or a
choice of ours where Olist has no such data (tracking, buyer messages, claims, marketplace norms of
the US/EU/JP marketplaces), with the reason.

Units: shares and probabilities are fractions; delays, windows and transits are days unless the name
says hours; quantile tables are ``(probabilities, values)`` for a piecewise-linear inverse CDF whose
end points (probability 0 and 1) are ours (the tails Olist's quantiles do not pin down).

Seller quality
--------------
Each (seller, marketplace) has a quality score per dimension (shipping, customer experience, tracking,
delivery, response), ``z = 0.6 g + 0.8 e`` with a seller factor ``g`` and a dimension term ``e``, both
standard normal (so ``z`` is standard normal, dimensions correlate 0.36), plus a linear drift over the
period. Higher is better. Rates are functions of ``z`` whose spread *between sellers* is Olist's where
Olist measures it: the late hand-over share is logit-normal with Olist's per-seller mean and spread
(``logit p = mu - sd z``); the 1–2★ share of ratings has Olist's per-seller logit spread (an exponential
tilt of the rating mix, see ``rating_tilt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Figures measured on Olist by :func:`cxops.synth.measure.measure_olist` (shares are fractions).
OLIST: dict[str, Any] = {
    # seller orders whose items reached the carrier after shipping_limit_date (share of items)
    "late_handover_share": 0.0965,
    # among late items: hand-over minus ship-by, days, quantiles 50, 75, 90, 95 %
    "late_handover_delay_quantiles": (1.022, 4.077, 8.113, 12.721),
    # per-seller late share of seller orders: logit-normal (mu, sd), sellers with >= 20 orders (231)
    "late_handover_seller_logit": (-2.91, 1.22),
    # on-time hand-overs: fraction of the purchase-to-deadline window used, quantiles 5..95 %
    "handover_window_fraction_quantiles": (0.068, 0.112, 0.193, 0.35, 0.58, 0.793, 0.89),
    # handed over to the carrier, never delivered
    "lost_share": 0.0116,
    # canceled + unavailable orders
    "cancel_share": 0.0137,
    # delivered after the end of the estimated day; the same given an on-time / late hand-over
    "late_delivery_share": 0.0676,
    "late_delivery_share_if_handover_on_time": 0.0523,
    "late_delivery_share_if_handover_late": 0.203,
    # late deliveries: days after the estimated day, quantiles 25, 50, 75, 90 %
    "late_delivery_delay_quantiles": (2.699, 5.978, 12.731, 20.879),
    # review score shares 1..5: all reviews, and by delivery experience
    "review_mix": (0.1196, 0.0321, 0.0811, 0.1915, 0.5756),
    "review_mix_on_time": (0.067, 0.027, 0.081, 0.206, 0.619),
    "review_mix_late": (0.556, 0.091, 0.104, 0.089, 0.16),
    "review_mix_not_delivered": (0.705, 0.074, 0.077, 0.054, 0.09),
    # per-seller 1-2 star share: logit-normal (mu, sd), sellers with >= 20 reviews (222)
    "negative_review_seller_logit": (-1.79, 0.45),
    # seller size: 3,095 sellers, 100,010 seller orders; top 10 % of sellers' share; sd of ln(orders)
    "sellers": 3095,
    "seller_orders": 100010,
    "top10_seller_share": 0.684,
    "log_orders_sd": 1.58,
    # purchase weekday shares Mon..Sun and local 3-hour buckets 0-3 .. 21-24
    "weekday_mix": (0.1601, 0.1627, 0.1578, 0.1479, 0.1429, 0.1095, 0.1192),
    "hour_bucket_mix": (0.0415, 0.0063, 0.0465, 0.1761, 0.1895, 0.1952, 0.1824, 0.1626),
    # per seller order: distinct products 1, 2, 3+; units 1, 2, 3, 4, 5, 6+
    "products_per_seller_order": (0.9791, 0.0185, 0.0024),
    "units_per_seller_order": (0.911, 0.068, 0.012, 0.004, 0.002, 0.002),
    # sd of ln(item price)
    "log_price_sd": 0.93,
}


@dataclass(frozen=True)
class Figure:
    """One calibration figure: its value and where it comes from.

    Attributes
    ----------
    value : Any
        A number, a tuple of shares, a ``(probabilities, values)`` quantile table or a mapping.
    source : str
        ``olist:<key>`` (measured, :data:`OLIST`), ``program`` (``shared/program.md``) or ``choice``.
    note : str
        How it is used, or why this value where it is a choice.
    """

    value: Any
    source: str
    note: str = ""


def _olist(key: str, note: str = "") -> Figure:
    return Figure(OLIST[key], f"olist:{key}", note)


def _quantiles(key: str, probs: tuple[float, ...], low: float, high: float, note: str) -> Figure:
    """An Olist quantile list as a piecewise-linear inverse CDF with our end points ``low`` / ``high``."""
    return Figure(((0.0, *probs, 1.0), (low, *OLIST[key], high)), f"olist:{key}", note)


def _neg_slope(mix: tuple[float, ...]) -> float:
    """d logit(1–2★ share) / d t for the tilt ``mix_k exp(t (k - 3))`` at t = 0."""
    neg = mix[0] + mix[1]
    e_neg = (-2 * mix[0] - mix[1]) / neg
    e_pos = (mix[3] + 2 * mix[4]) / (1 - neg)
    return e_pos - e_neg


CALIBRATION: dict[str, Figure] = {
    # ------------------------------------------------------------------ sellers and volume
    "log_orders_sd": _olist(
        "log_orders_sd",
        "sd of ln(expected orders) across sellers; the mean is the caller's orders_per_seller",
    ),
    "marketplace_mix": Figure(
        {"US": 0.34, "DE": 0.24, "JP": 0.22, "UK": 0.07, "CA": 0.07, "FR": 0.06},
        "choice",
        "share of sellers whose main marketplace each one is (the program's marketplaces)",
    ),
    "second_marketplace_share": Figure(0.06, "choice", "sellers also selling on a neighbouring marketplace"),
    "second_marketplace_size": Figure((0.1, 0.4), "choice", "its volume, a uniform fraction of the main one"),
    "cross_border_share": Figure(
        {"US": 0.45, "JP": 0.45, "other": 0.35}, "choice", "sellers based in China, by main marketplace"
    ),
    "cross_border_direct_share": Figure(0.5, "choice", "of those, MFN parcels sent directly from China"),
    "registered_before_share": Figure(0.65, "choice", "sellers registered before the period starts"),
    "registered_before_days": Figure((30, 2500), "choice", "how long before, uniform"),
    "activation_days": Figure(21, "choice", "first order up to this many days after registration"),
    "growth_per_year": Figure((0.1, 0.3), "choice", "mean and sd of ln(volume) change per year"),
    "churn_share": Figure(0.06, "choice", "sellers who stop selling in the second half of the period"),
    "season": Figure(
        {"q4": 0.08, "black_friday": 0.5, "prime_day": 0.3},
        "choice",
        "yearly season (cosine peaking at year end), Black-Friday (day 331) and mid-July (day 195) peaks",
    ),
    "weekday_mix": _olist("weekday_mix", "purchase weekday shape, marketplace-local"),
    "hour_bucket_mix": _olist("hour_bucket_mix", "purchase time of day, marketplace-local"),
    # ------------------------------------------------------------------ what is ordered
    "products_per_seller_order": _olist("products_per_seller_order", "order lines 1, 2, 3"),
    "units_per_seller_order": _olist("units_per_seller_order", "quantity of a line 1..6"),
    "log_price_sd": _olist("log_price_sd", "spread of a product's price around its category median"),
    "categories": Figure(
        {
            "large_appliances": (60.0, 0.03, 4),
            "precision_instruments": (55.0, 0.04, 3),
            "baby_products": (28.0, 0.05, 6),
            "electronics": (45.0, 0.06, 14),
            "home": (30.0, 0.04, 14),
            "kitchen": (26.0, 0.05, 10),
            "toys": (22.0, 0.04, 8),
            "sports": (30.0, 0.05, 7),
            "beauty": (18.0, 0.03, 7),
            "apparel": (24.0, 0.12, 10),
            "office": (20.0, 0.03, 5),
            "automotive": (32.0, 0.04, 6),
            "pet_supplies": (21.0, 0.03, 6),
        },
        "choice",
        "category: (median price USD, return share, weight among sellers)",
    ),
    "fx": Figure(
        {"US": 1.0, "CA": 1.37, "DE": 0.92, "UK": 0.79, "FR": 0.92, "JP": 150.0}, "choice", "per USD"
    ),
    "afn_share": Figure(
        (0.4, 0.05, 0.9), "choice", "share of sellers without AFN; the others' AFN share uniform in the range"
    ),
    "premium_share": Figure((0.75, 0.05), "choice", "premium orders: AFN, MFN"),
    "business_share": Figure({"JP": 0.03, "other": 0.06}, "choice", "business orders"),
    # ------------------------------------------------------------------ deadlines (marketplace norms)
    "handling_days": Figure((0.35, 0.40, 0.25), "choice", "MFN handling time 1, 2, 3 business days"),
    "cutoff_hours": Figure(
        ((12, 14, 16, 24), (0.2, 0.35, 0.25, 0.2)), "choice", "MFN order cut-off hour; AFN noon"
    ),
    "promise_business_days": Figure(
        {"US": 4, "CA": 5, "DE": 2, "UK": 2, "FR": 3, "JP": 2},
        "choice",
        "MFN domestic promise after the ship-by day (Mon-Sat delivery days), plus 0, 1, 2 per seller",
    ),
    "promise_extra_days": Figure((0.5, 0.35, 0.15), "choice", "per-seller extra promise days 0, 1, 2"),
    "cross_border_promise_days": Figure(10, "choice", "MFN promise of parcels sent from China"),
    "afn_promise_days": Figure({"JP": 1, "other": 2}, "choice", "AFN deliver-by, calendar days"),
    # ------------------------------------------------------------------ hand-over (late shipment)
    "late_handover_seller_logit": _olist(
        "late_handover_seller_logit", "per seller: logit P(late) = mu - sd * z_ship (MFN)"
    ),
    "handover_window_fraction": _quantiles(
        "handover_window_fraction_quantiles",
        (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95),
        0.01,
        0.99,
        "on-time confirmations: fraction of the purchase-to-ship-by window used",
    ),
    "late_handover_delay": _quantiles(
        "late_handover_delay_quantiles", (0.5, 0.75, 0.9, 0.95), 0.002, 30.0, "days after ship-by, if late"
    ),
    "afn_late_share": Figure(0.001, "choice", "marketplace-fulfilled orders confirmed after ship-by"),
    "afn_confirm_hours": Figure(8.0, "choice", "median hours to an AFN confirmation (lognormal sd 0.5)"),
    "split_share": Figure({"MFN": 0.25, "AFN": 0.15}, "choice", "orders of 2+ units sent in two packages"),
    # ------------------------------------------------------------------ carrier, tracking, delivery
    "untracked_share": Figure(
        0.015, "choice", "MFN packages without tracking at z_track = 0 (logit slope 0.9)"
    ),
    "no_scan_share": Figure(
        0.01, "choice", "tracked MFN packages never scanned (plus half the untracked share)"
    ),
    "untracked_no_carrier_share": Figure(0.4, "choice", "untracked packages without a recorded carrier"),
    "pickup_hours": Figure(
        {"MFN": 5.0, "early": 30.0, "AFN": 2.0},
        "choice",
        "median hours from confirmation to first scan; 'early': the 10 % of sellers who confirm early",
    ),
    "transit_days": Figure(
        {"US": 3.0, "CA": 3.7, "DE": 1.6, "UK": 1.6, "FR": 2.2, "JP": 1.35, "cross_border": 10.0},
        "choice",
        "median domestic transit (lognormal sd 0.45); Olist's Brazilian transits (median 7 days) do not fit",
    ),
    "afn_transit_days": Figure({"US": 0.8, "CA": 1.0, "DE": 0.7, "UK": 0.7, "FR": 0.8, "JP": 0.45}, "choice"),
    "late_delivery_share_if_handover_on_time": _olist(
        "late_delivery_share_if_handover_on_time", "times exp(-0.4 z_deliv - 0.08) (mean 1); AFN a fifth"
    ),
    "late_delivery_share_if_handover_late": _olist("late_delivery_share_if_handover_late"),
    "late_delivery_delay": _quantiles(
        "late_delivery_delay_quantiles",
        (0.25, 0.5, 0.75, 0.9),
        0.05,
        45.0,
        "days after the promised day's end",
    ),
    "lost_share": _olist("lost_share", "MFN, times exp(-0.5 z_deliv - 0.125) (mean 1); AFN a quarter of it"),
    # ------------------------------------------------------------------ cancellations
    "cancel_share": _olist("cancel_share", "cancelled orders, split by initiator as cancel_split says"),
    "cancel_split": Figure(
        {"seller": 0.365, "buyer": 0.438, "system": 0.146, "unknown": 0.051},
        "choice",
        "initiators' shares of the cancellations (Olist does not record who cancelled); the seller's share "
        "is scaled by exp(-0.5 z_cx - 0.125) (mean 1)",
    ),
    "seller_cancel_after_ship_by": Figure(0.2, "choice", "seller cancellations after the ship-by deadline"),
    "buyer_cancel_via_request": Figure(
        0.65, "choice", "buyer cancellations through the official request flow"
    ),
    # ------------------------------------------------------------------ feedback, claims, returns
    "review_mix_on_time": _olist("review_mix_on_time"),
    "review_mix_late": _olist("review_mix_late"),
    "review_mix_not_delivered": _olist("review_mix_not_delivered", "also cancelled by the seller / system"),
    "rating_tilt": Figure(
        round(OLIST["negative_review_seller_logit"][1] / _neg_slope(OLIST["review_mix_on_time"]), 3),
        "olist:negative_review_seller_logit",
        "rating mix tilted by exp(t z_cx (k - 3)): t is the Olist per-seller logit sd of the 1-2 star share "
        "divided by d logit(1-2 star share)/dt of the on-time mix",
    ),
    "feedback_share": Figure(
        (0.01, 0.05),
        "choice",
        "orders with seller feedback, uniform per seller (Olist surveys every order; marketplace sellers get "
        "feedback on a few per cent of orders): with claims this puts the average order defect rate near "
        "the program's platform average of about 1.0 %",
    ),
    "feedback_bad_experience_factor": Figure(
        (1.0, 2.2, 2.5, 0.2), "choice", "feedback rate factor: on time, late, not delivered, buyer cancel"
    ),
    "feedback_removed_share": Figure(
        (0.7, 0.03, 0.002), "choice", "struck through: 1-2 star on late AFN orders, other 1-2 star, 3-5 star"
    ),
    "shared_feedback_share": Figure(0.003, "choice", "ratings covering several seller orders"),
    "a_to_z_share": Figure(
        (0.0025, 0.6, 5.0, 0.2),
        "choice",
        "base share (x exp(-0.6 z_cx)), factor if on time, factor if late; share of lost parcels claimed",
    ),
    "chargeback_share": Figure(0.0006, "choice", "times exp(-0.4 z_cx); 25 % fraud"),
    "claim_decisions": Figure(
        {"a_to_z": (0.45, 0.30, 0.20, 0.05), "chargeback": (0.45, 0.40, 0.10, 0.05)},
        "choice",
        "granted, denied, withdrawn, reversed",
    ),
    "free_returns_share": Figure(0.25, "choice", "sellers offering free return labels"),
    # ------------------------------------------------------------------ messages and violations
    "messages_per_order": Figure(
        ((0.2, 0.5), (1.0, 2.0, 3.0, 1.5)), "choice", "per-seller mean (uniform) and factor by experience"
    ),
    "presale_question_share": Figure(0.04, "choice", "questions without an order, per order"),
    "response_hours": Figure(
        (12.0, 0.85), "choice", "median first response (x exp(-0.5 z_resp)) and lognormal sd"
    ),
    "never_answered_share": Figure(0.03, "choice", "at z_resp = 0, logit slope 0.8"),
    "no_response_needed_share": Figure(0.08, "choice", "70 % of them get no reply"),
    "auto_reply_share": Figure(0.3, "choice", "sellers with an auto-responder"),
    "weekend_workers_share": Figure(0.4, "choice", "sellers answering on weekends"),
    "violations": Figure(
        ((0.06, 0.02, 0.008), (0.05, 0.40, 0.10, 0.10, 0.10, 0.05, 0.20), (0.5, 0.35, 0.12, 0.03)),
        "choice",
        "share of sellers with a 1st, 2nd, 3rd violation over two years (x exp(-0.35 z_cx)); kinds "
        "ip_complaint, listing_policy, authenticity, safety, restricted_product, review_manipulation, "
        "other; severities low .. critical",
    ),
    # ------------------------------------------------------------------ quality
    "quality_drift_sd": Figure(0.6, "choice", "change of z over the period (linear)"),
}


def value(name: str) -> Any:
    """The value of calibration figure ``name`` (raises ``KeyError`` for an unknown name)."""
    return CALIBRATION[name].value
