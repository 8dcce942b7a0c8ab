"""Likely causes of a difference between a reported metric and the one computed from raw data.

Each rule reads the numbers :func:`cxops.reconcile.reconcile` gathered for one reported row (computed
and reported counts, the same window summed per channel and by UTC day, the raw data's coverage, the
orders behind removed feedback and decided claims …) and, when it applies, returns a cause key with a
sentence that carries the supporting numbers. Cause keys:

``window`` (note)
    The report's window is lagged or not one of the catalog's lengths, so ``cxops metrics`` shows a
    different number; the comparison here uses the report's window.
``channel``
    The report's numbers match another channel's, AFN orders sit in the window of an MFN-only metric,
    or the reported channel was mapped to the one cxops computes (note).
``timezone``
    Summing by UTC day (the report's dates are UTC) comes closer to the report than marketplace-local days.
``removed_feedback``, ``shared_feedback``, ``feedback_missing``, ``feedback_partial``
    Negative feedback removed later, shared with another seller's order, not imported, or from a source
    that only holds 1–3★ ratings (Amazon's feedback report).
``claims_missing``, ``claims_decided``
    Claims the report counts that the raw data lacks; claims that are denied, withdrawn or reversed in
    the raw data.
``after_report``
    Defects that arrived after the report was produced.
``orders_missing`` / ``shipments_missing`` / ``records_missing``, and ``…_extra``
    The report's population is larger (raw data incomplete for the window) or smaller.
``units_vs_shipments``
    Amazon's unit-based on-time delivery vs cxops's shipments when shipment units are not imported.
``report_inconsistent``
    The counts agree but the report's rate is not the ratio of its own counts.
``definition``
    A known definitional difference for the metric (only when nothing else explains it).
``unexplained``
    No rule applies.

``window`` and the channel mapping note also appear on agreeing rows: they explain why the reported
number differs from ``cxops metrics`` output, not from the reconciled one.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pandas as pd

from cxops.metrics.catalog import CATALOG

_ODR = "order_defect_rate"
_NFR = "negative_feedback_rate"
_AZ = "a_to_z_claim_rate"
_CB = "chargeback_rate"

#: Known definitional differences, named only when no data rule explains a difference.
DEFINITION_NOTES = {
    "valid_tracking_rate": (
        "Amazon selects valid-tracking shipments by promised delivery date with a carrier scan; "
        "cxops by ship-confirmation date (a carrier scan only where the source records scans)"
    ),
    "on_time_delivery_rate": (
        "Amazon's on-time delivery counts shipments with valid tracking (tracking uploaded after delivery "
        "is late); cxops counts shipments with a recorded delivery date"
    ),
    "unit_on_time_delivery_rate": (
        "Amazon's unit on-time delivery counts tracked MFN units without promise extensions; cxops uses "
        "the promised date recorded in the orders"
    ),
    "late_shipment_rate": (
        "cxops places an order by its ship-by date and leaves out orders cancelled before shipping; "
        "Amazon's window anchor is not published"
    ),
    "pre_fulfillment_cancel_rate": (
        "cxops counts order-level cancellations by the seller or the system; Amazon also counts item "
        "cancellations"
    ),
}


def _nan(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return isinstance(x, float) and math.isnan(x)
    except TypeError:
        return False


def _n(x: Any) -> str:
    return "—" if _nan(x) else f"{round(float(x)):,}"


def _plural(n: Any, one: str, many: str | None = None) -> str:
    k = 0 if _nan(n) else round(float(n))
    return f"{k:,} {one if k == 1 else (many or one + 's')}"


def _rate(x: Any, metric: str) -> str:
    from cxops.report.format import format_value

    return format_value(None if _nan(x) else x, metric)


def _counts(num: Any, den: Any) -> str:
    if _nan(den):
        return _n(num)
    return f"{_n(num)} / {_n(den)}"


def _day(x: Any) -> date | None:
    if _nan(x):
        return None
    if isinstance(x, pd.Timestamp):
        return x.date()
    if hasattr(x, "date") and callable(x.date):
        return x.date()
    return x


def _report_day(row) -> date | None:
    """The report's date: ``reported_at``, else the latest window end of its file, else ``as_of``."""
    day = row.get("report_day")
    if not _nan(day):
        return day
    at = row.get("reported_at")
    if not _nan(at):
        return _day(pd.Timestamp(at))
    as_of = row.get("as_of")
    return None if _nan(as_of) else as_of


def _population_word(row) -> tuple[str, str]:
    """(cause key stem, noun) of the row's population."""
    fam = row.get("family")
    if fam in ("tracking", "deliveries"):
        return "shipments", "shipments"
    if fam == "unit_deliveries":
        return "shipments", "units"
    if fam in ("order_defects", "late_shipments", "cancellations", "orders"):
        return "orders", "orders"
    if fam == "ratings":
        return "records", "ratings"
    if fam == "messages":
        return "records", "buyer messages"
    return "records", "records"


def _cause(
    key: str, text: str, *, speculative: bool = False, exact: bool = False, dim: str = "num"
) -> dict[str, Any]:
    """A cause of a difference in the numerator (``dim="num"``), the population (``"den"``) or both.

    ``exact``: it accounts for the whole difference of its dimension; ``speculative``: inferred without
    direct evidence, dropped when an exact cause covers its dimension.
    """
    out: dict[str, Any] = {"cause": key, "text": text, "_dim": dim}
    if speculative:
        out["_speculative"] = True
    if exact:
        out["_exact"] = True
    return out


# -- notes (any verdict) ---------------------------------------------------------------------------


def _window_note(row) -> dict | None:
    target = row.get("target")
    base = "on_time_delivery_rate" if target == "unit_on_time_delivery_rate" else target
    catalog = CATALOG[base].windows if base in CATALOG else ()
    length = int(row["window_days"])
    f, t = row["window_from"], row["window_to"]
    rday = _report_day(row)
    lag = (rday - t).days if rday is not None else None
    parts = []
    if lag is not None and lag > 0:
        parts.append(
            f"the report's {length}-day window {f} – {t} ends {_plural(lag, 'day')} before the report "
            f"date {rday}"
        )
    if catalog and length not in catalog:
        lens = " and ".join(str(w) for w in catalog)
        parts.append(f"cxops's catalog computes {base} over {lens} days, not {length}")
    stated = row.get("window_days_reported")
    if not _nan(stated) and int(stated) != length:
        parts.append(f"the report states {int(stated)} days but its dates span {length}")
    if not parts:
        return None
    text = "; ".join(parts)
    if catalog and rday is not None:
        w = length if length in catalog else min(catalog, key=lambda c: abs(c - length))
        text += (
            f" — so `cxops metrics --as-of {rday}` shows another number ({w} days, "
            f"{rday - timedelta(days=w - 1)} – {rday}); this comparison uses the report's window"
        )
    return _cause("window", text)


def _channel_note(row) -> dict | None:
    used, ch = row.get("used_channel"), row.get("channel")
    if used is None or used == ch:
        return None
    return _cause(
        "channel",
        f"cxops computes {row['target']} for the {used} channel only; the report's '{ch}' row is compared "
        f"with cxops's {used} numbers",
    )


# -- rules for differences -------------------------------------------------------------------------


def _units(row) -> dict | None:
    if row.get("target") != "unit_on_time_delivery_rate" or row.get("family") != "deliveries":
        return None
    rep = row["reported_denominator"]
    rep_text = f" ({_plural(rep, 'unit')})" if not _nan(rep) else ""
    return _cause(
        "units_vs_shipments",
        f"the report counts units{rep_text}; the raw data has no shipment unit counts (shipments.units), "
        f"so cxops counts shipments ({_plural(row['computed_denominator'], 'delivered shipment')})",
        dim="both",
    )


def _population(row) -> list[dict]:
    stem, noun = _population_word(row)
    if row["kind"] == "count":
        if row.get("family") != "orders":
            return []
        rep, cmp_ = row["reported_numerator"], row["computed_numerator"]
    else:
        rep, cmp_ = row["reported_denominator"], row["computed_denominator"]
    if _nan(rep) or _nan(cmp_) or rep == cmp_:
        return []
    if rep > cmp_:
        text = (
            f"the raw data has {_plural(cmp_, noun[:-1], noun)} in the window, the report {_n(rep)}: "
            f"{_plural(rep - cmp_, noun[:-1], noun)} not imported"
        )
        first, last = row.get("first_day"), row.get("last_day")
        if not _nan(first) and (first > row["window_from"] or last < row["window_to"]):
            who = f"{row['seller_id']} in {row['marketplace_id']}"
            text += f" (the raw orders of {who} run from {first} to {last})"
        return [_cause(f"{stem}_missing", text, speculative=True, dim="den")]
    return [
        _cause(
            f"{stem}_extra",
            f"the raw data has {_plural(cmp_ - rep, 'more ' + noun[:-1], 'more ' + noun)} in the window "
            f"than the report "
            f"({_n(cmp_)} vs {_n(rep)})",
            speculative=True,
            dim="den",
        )
    ]


def _matches(row, num, den) -> bool:
    ok = False
    for rep, val in ((row["reported_numerator"], num), (row["reported_denominator"], den)):
        if _nan(rep):
            continue
        if _nan(val) or abs(val - rep) > 1e-9:
            return False
        ok = True
    return ok


def _channel(row) -> dict | None:
    used = row.get("used_channel")
    afn = row.get("orders_afn", 0.0)
    afn = 0.0 if _nan(afn) else afn
    for alt in ("all", "mfn", "afn"):
        if alt == used:
            continue
        num, den = row.get(f"alt_num_{alt}"), row.get(f"alt_den_{alt}")
        if _nan(num) and _nan(den):
            continue
        if _matches(row, num, den):
            text = (
                f"the report's numbers ({_counts(row['reported_numerator'], row['reported_denominator'])}) "
                f"match cxops's '{alt}' channel; for '{used}' cxops has "
                f"{_counts(row['computed_numerator'], row['computed_denominator'])}"
            )
            if afn:
                text += f" ({_plural(afn, 'AFN order')} in the window)"
            return _cause("channel", text, exact=True, dim="both")
    if (
        used == "mfn"
        and afn > 0
        and row.get("family") in ("late_shipments", "cancellations", "tracking", "order_defects")
    ):
        rep, cmp_ = row["reported_denominator"], row["computed_denominator"]
        if not _nan(rep) and not _nan(cmp_) and cmp_ < rep <= cmp_ + afn:
            text = (
                f"the window has {_plural(afn, 'AFN (Amazon-fulfilled) order')}, which cxops leaves out of "
                f"this MFN number; if some of them are seller-fulfilled, their fulfillment_channel is wrong "
                f"in the raw data"
            )
            exact = row.get("family") in ("cancellations", "order_defects") and rep - cmp_ == afn
            if exact:
                text += " — exactly the difference"
            return _cause("channel", text, exact=exact, speculative=not exact, dim="den")
    return None


def _distance(row, num, den) -> float:
    d = 0.0
    for rep, val in ((row["reported_numerator"], num), (row["reported_denominator"], den)):
        if _nan(rep):
            continue
        if _nan(val):
            return math.inf
        d += abs(val - rep)
    return d


def _timezone(row) -> dict | None:
    un, ud = row.get("utc_num"), row.get("utc_den")
    if _nan(un) and _nan(ud):
        return None
    cn, cd = row["computed_numerator"], row["computed_denominator"]
    local = _distance(row, cn, cd)
    utc = _distance(row, un, ud)
    if not utc < local:
        return None
    zone = row.get("zone") or "its time zone"
    match = " — the report's numbers" if utc == 0 else ""
    return _cause(
        "timezone",
        f"counted by UTC days, as the report's dates are, the raw data gives {_counts(un, ud)}{match}; "
        f"by {row['marketplace_id']} local days ({zone}) it gives {_counts(cn, cd)}",
        exact=utc == 0,
        speculative=utc != 0,
        dim="both",
    )


def _num_short(row) -> float:
    """Reported numerator minus computed (positive: the report counts more)."""
    rep, cmp_ = row["reported_numerator"], row["computed_numerator"]
    if _nan(rep) or _nan(cmp_):
        return 0.0
    return float(rep - cmp_)


def _is_exact(n: float, short: float) -> bool:
    return short > 0 and n == short


def _exact(n: float, short: float) -> str:
    return " — exactly the difference" if _is_exact(n, short) else ""


def _removed(row) -> dict | None:
    n = row.get("removed_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _NFR) or _nan(n) or n <= 0 or short <= 0:
        return None
    after = row.get("removed_after") or 0.0
    when = ""
    if not _nan(after) and after > 0:
        when = f" ({_n(after)} of them after the report was produced on {_report_day(row)})"
    elif not _nan(row.get("removed_last")):
        when = f" (the last on {_day(pd.Timestamp(row['removed_last']))})"
    return _cause(
        "removed_feedback",
        f"{_plural(n, 'order')} in the window had negative feedback that was later removed{when}; cxops "
        f"does not count removed feedback, a report produced before the removal does{_exact(n, short)}",
        exact=_is_exact(n, short),
    )


def _shared(row) -> dict | None:
    n = row.get("shared_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _NFR) or _nan(n) or n <= 0 or short <= 0:
        return None
    return _cause(
        "shared_feedback",
        f"{_plural(n, 'order')} in the window have negative feedback on a rating shared with another "
        f"seller's order; cxops leaves shared ratings out by default (metric option "
        f'shared_feedback = "include" counts them){_exact(n, short)}',
        exact=_is_exact(n, short),
    )


def _feedback_missing(row) -> dict | None:
    if row.get("target") != _ODR or row.get("has_feedback"):
        return None
    sib = row.get("sib_neg")
    if not _nan(sib):
        if sib <= 0:
            return None
        return _cause(
            "feedback_missing",
            f"the report counts {_plural(sib, 'negative feedback', 'negative feedback')} on orders in this "
            f"window; no feedback was imported",
        )
    short = _num_short(row)
    if short <= 0:
        return None
    return _cause(
        "feedback_missing",
        f"the report has {_plural(short, 'more defective order')} than the raw data, which holds no feedback",
        speculative=True,
    )


def _claims_missing(row) -> dict | None:
    target = row.get("target")
    if target not in (_ODR, _AZ, _CB):
        return None
    if target == _ODR:
        az, cb = row.get("sib_az"), row.get("sib_cb")
        known = not (_nan(az) and _nan(cb))
        az0, cb0 = (0.0 if _nan(az) else az), (0.0 if _nan(cb) else cb)
        rep_cl = az0 + cb0 if known else None
        caz, ccb = row.get("cmp_az"), row.get("cmp_cb")
        cmp_cl = (0.0 if _nan(caz) else caz) + (0.0 if _nan(ccb) else ccb)
    else:
        rep_cl = None if _nan(row["reported_numerator"]) else row["reported_numerator"]
        cmp_cl = 0.0 if _nan(row["computed_numerator"]) else row["computed_numerator"]
        az0, cb0 = (rep_cl or 0.0, 0.0) if target == _AZ else (0.0, rep_cl or 0.0)
    what = f"{_plural(az0, 'A-to-z claim')} and {_plural(cb0, 'chargeback')}"
    short = _num_short(row)
    exact = rep_cl is not None and short > 0 and rep_cl - cmp_cl == short
    if not row.get("has_claims"):
        if rep_cl is not None:
            if rep_cl <= 0:
                return None
            return _cause(
                "claims_missing",
                f"the report counts {what} on orders in this window; no claims were imported (no claims "
                f"table){_exact(rep_cl - cmp_cl, short)}",
                exact=exact,
            )
        if short <= 0:
            return None
        return _cause(
            "claims_missing",
            f"the report has {_plural(short, 'more defective order')} than the raw data, which holds no "
            f"claims (no claims table): A-to-z claims and chargebacks are not imported",
            speculative=True,
        )
    if rep_cl is None or rep_cl <= cmp_cl:
        return None
    if (row.get("claim_orders") or 0) == 0:
        return _cause(
            "claims_missing",
            f"the report counts {what} on orders in this window; the raw data has no claims on these "
            f"orders{_exact(rep_cl - cmp_cl, short)}",
            exact=exact,
        )
    return _cause(
        "claims_missing",
        f"the report counts {_n(rep_cl)} claims (A-to-z and chargebacks) on orders in this window, the raw "
        f"data {_n(cmp_cl)} that count: {_n(rep_cl - cmp_cl)} not in the raw data"
        f"{_exact(rep_cl - cmp_cl, short)}",
        exact=exact,
    )


def _claims_decided(row) -> dict | None:
    n = row.get("decided_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _AZ, _CB) or _nan(n) or n <= 0 or short <= 0:
        return None
    return _cause(
        "claims_decided",
        f"{_plural(n, 'order')} in the window have claims that are denied, withdrawn or reversed (or fraud "
        f"chargebacks) in the raw data, which do not count; a report produced before the decision counts "
        f"them{_exact(n, short)}",
        exact=_is_exact(n, short),
    )


def _after_report(row) -> dict | None:
    n = row.get("defects_after") or 0.0
    if row.get("target") != _ODR or _nan(n) or n <= 0 or _num_short(row) >= 0:
        return None
    first = row.get("defects_after_first")
    when = f", the first on {_day(pd.Timestamp(first))}" if not _nan(first) else ""
    return _cause(
        "after_report",
        f"{_plural(n, 'defective order')} in the window got their defect after the report was produced on "
        f"{_report_day(row)}{when}: the report could not count them{_exact(n, -_num_short(row))}",
        exact=_is_exact(n, -_num_short(row)),
    )


def _feedback_partial(row) -> dict | None:
    target = row.get("target")
    top, count = row.get("fb_max_rating"), row.get("fb_n")
    if target not in (_ODR, _NFR, "customer_satisfaction_index") or _nan(top) or _nan(count) or count <= 0:
        return None
    if top > 3:
        return None
    if target == "customer_satisfaction_index":
        return _cause(
            "feedback_partial",
            "the feedback source holds only 1–3★ ratings (like Amazon's feedback report), so a satisfaction "
            "index computed from it is too low",
        )
    if _num_short(row) <= 0:
        return None
    first, last = _day(pd.Timestamp(row["fb_first"])), _day(pd.Timestamp(row["fb_last"]))
    text = (
        f"the feedback comes from a source with only 1–3★ ratings (like Amazon's feedback report), "
        f"received {first} to {last}"
    )
    rday = _report_day(row)
    if rday is not None and last < rday:
        text += f"; negative feedback received after {last} on orders in the window is not in the raw data"
    return _cause("feedback_partial", text, speculative=True)


def _inconsistent(row) -> dict | None:
    num, den, rate = row["reported_numerator"], row["reported_denominator"], row["reported_rate"]
    if _nan(num) or _nan(den) or _nan(rate) or den <= 0:
        return None
    if row.get("diff_numerator") != 0 or row.get("diff_denominator") != 0:
        return None
    ratio = num / den
    if abs(ratio - rate) <= 0.5e-4:
        return None
    metric = row.get("target") or row["metric"]
    return _cause(
        "report_inconsistent",
        f"the counts agree, but the report's rate {_rate(rate, metric)} is not its own counts' ratio "
        f"{_counts(num, den)} = {_rate(ratio, metric)}",
    )


_RULES = (
    _inconsistent,
    _units,
    _removed,
    _shared,
    _feedback_missing,
    _claims_missing,
    _claims_decided,
    _after_report,
    _feedback_partial,
    _channel,
    _timezone,
)


def likely_causes(row) -> list[dict[str, str]]:
    """Cause notes for one reconciled row (a mapping of the numbers gathered by ``reconcile``).

    Returns
    -------
    list of dict
        ``{"cause": key, "text": sentence}``; empty when nothing applies. On a row whose verdict is
        ``agrees`` only the informational notes (``window``, channel mapping).
    """
    notes = [{"cause": c["cause"], "text": c["text"]} for c in (_window_note(row), _channel_note(row)) if c]
    if row.get("verdict") != "differs":
        return notes
    causes: list[dict[str, str]] = []
    for rule in _RULES:
        c = rule(row)
        if c is not None:
            causes.append(c)
    causes += _population(row)
    exact = {c["_dim"] for c in causes if c.get("_exact")}
    covered = {"num", "den", "both"} if "both" in exact else exact

    def dropped(c) -> bool:
        if not c.get("_speculative") or c.get("_exact"):
            return False
        return c["_dim"] in covered or (c["_dim"] == "both" and bool(covered))

    causes = [c for c in causes if not dropped(c)]
    causes = [{"cause": c["cause"], "text": c["text"]} for c in causes]
    explained = [c for c in causes if not c["cause"].endswith("_extra")]
    if not explained:
        target = row.get("target")
        if target in DEFINITION_NOTES:
            causes.append(_cause("definition", DEFINITION_NOTES[target]))
        else:
            causes.append(
                _cause(
                    "unexplained",
                    f"no rule explains this difference; `cxops explain {row['seller_id']} --as-of "
                    f"{row['window_to']}` lists the records behind cxops's number",
                )
            )
    return causes + notes
