"""Likely causes of a difference between a reported metric and the one computed from raw data.

Each rule reads the numbers :func:`cxops.reconcile.evidence.gather` collected for one reported row
(computed and reported counts, the same window summed per channel and by UTC day, the raw data's
coverage, the orders behind removed feedback and decided claims …) and, when it applies, returns a
:class:`~cxops.reconcile.results.Cause`: a cause key and a message (``reconcile.cause.*``) with the
supporting numbers. Cause keys:

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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from cxops.metrics.catalog import CATALOG
from cxops.reconcile.results import Cause, Count, Counts, Listed, Message, Rate, Term

_ODR = "order_defect_rate"
_NFR = "negative_feedback_rate"
_AZ = "a_to_z_claim_rate"
_CB = "chargeback_rate"

#: Metrics with a known definitional difference (``reconcile.definition.<metric>``), named only when
#: no data rule explains a difference.
DEFINITION_NOTES = (
    "valid_tracking_rate",
    "on_time_delivery_rate",
    "unit_on_time_delivery_rate",
    "late_shipment_rate",
    "pre_fulfillment_cancel_rate",
)


def _nan(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return isinstance(x, float) and math.isnan(x)
    except TypeError:
        return False


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


def _msg(key: str, **params) -> Message:
    return Message(f"reconcile.cause.{key}", params)


@dataclass(frozen=True)
class _Found:
    """A cause before selection: ``dim`` is the difference it explains (``num``, ``den`` or ``both``);
    ``exact``: it accounts for the whole difference of its dimension; ``speculative``: inferred without
    direct evidence, dropped when an exact cause covers its dimension."""

    cause: str
    message: Message
    speculative: bool = False
    exact: bool = False
    dim: str = "num"


def coverage(row) -> Message:
    """``the raw orders of <seller> in <marketplace> run from <first> to <last>``."""
    return Message(
        "reconcile.coverage",
        {
            "seller": row["seller_id"],
            "marketplace": row["marketplace_id"],
            "first": row["first_day"],
            "last": row["last_day"],
        },
    )


def _population_noun(row) -> tuple[str, str]:
    """(cause key stem, noun) of the row's population."""
    fam = row.get("family")
    if fam in ("tracking", "deliveries"):
        return "shipments", "shipment"
    if fam == "unit_deliveries":
        return "shipments", "unit"
    if fam in ("order_defects", "late_shipments", "cancellations", "orders"):
        return "orders", "order"
    if fam == "ratings":
        return "records", "rating"
    if fam == "messages":
        return "records", "buyer_message"
    return "records", "record"


# -- notes (any verdict) ---------------------------------------------------------------------------


def _window_note(row) -> _Found | None:
    target = row.get("target")
    base = "on_time_delivery_rate" if target == "unit_on_time_delivery_rate" else target
    catalog = CATALOG[base].windows if base in CATALOG else ()
    length = int(row["window_days"])
    f, t = row["window_from"], row["window_to"]
    rday = _report_day(row)
    lag = (rday - t).days if rday is not None else None
    parts = []
    if lag is not None and lag > 0:
        parts.append(_msg("window.lag", days=length, start=f, end=t, lag=Count(lag, "day"), report_day=rday))
    if catalog and length not in catalog:
        parts.append(_msg("window.catalog", metric=Term("metric", base), lengths=tuple(catalog), days=length))
    stated = row.get("window_days_reported")
    if not _nan(stated) and int(stated) != length:
        parts.append(_msg("window.stated", stated=int(stated), days=length))
    if not parts:
        return None
    listed = Listed(tuple(parts), "ui.reason_separator")
    if catalog and rday is not None:
        w = length if length in catalog else min(catalog, key=lambda c: abs(c - length))
        start = rday - timedelta(days=w - 1)
        return _Found("window", _msg("window.with_hint", parts=listed, report_day=rday, days=w, start=start))
    return _Found("window", _msg("window.note", parts=listed))


def _channel_note(row) -> _Found | None:
    used, ch = row.get("used_channel"), row.get("channel")
    if used is None or used == ch:
        return None
    return _Found(
        "channel",
        _msg(
            "channel.mapped",
            metric=Term("metric", row["target"]),
            used=Term("channel", used),
            channel=Term("channel", ch),
        ),
    )


# -- rules for differences -------------------------------------------------------------------------


def _units(row) -> _Found | None:
    if row.get("target") != "unit_on_time_delivery_rate" or row.get("family") != "deliveries":
        return None
    rep = row["reported_denominator"]
    shipments = Count(row["computed_denominator"], "delivered_shipment")
    if _nan(rep):
        message = _msg("units_vs_shipments.unreported", shipments=shipments)
    else:
        message = _msg("units_vs_shipments.reported", units=Count(rep, "unit"), shipments=shipments)
    return _Found("units_vs_shipments", message, dim="both")


def _population(row) -> list[_Found]:
    stem, noun = _population_noun(row)
    if row["kind"] == "count":
        if row.get("family") != "orders":
            return []
        rep, cmp_ = row["reported_numerator"], row["computed_numerator"]
    else:
        rep, cmp_ = row["reported_denominator"], row["computed_denominator"]
    if _nan(rep) or _nan(cmp_) or rep == cmp_:
        return []
    if rep > cmp_:
        params = {"computed": Count(cmp_, noun), "reported": rep, "missing": Count(rep - cmp_, noun)}
        first, last = row.get("first_day"), row.get("last_day")
        if not _nan(first) and (first > row["window_from"] or last < row["window_to"]):
            message = _msg("missing_coverage", **params, coverage=coverage(row))
        else:
            message = _msg("missing", **params)
        return [_Found(f"{stem}_missing", message, speculative=True, dim="den")]
    message = _msg("extra", extra=Count(cmp_ - rep, f"more_{noun}"), computed=cmp_, reported=rep)
    return [_Found(f"{stem}_extra", message, speculative=True, dim="den")]


def _matches(row, num, den) -> bool:
    ok = False
    for rep, val in ((row["reported_numerator"], num), (row["reported_denominator"], den)):
        if _nan(rep):
            continue
        if _nan(val) or abs(val - rep) > 1e-9:
            return False
        ok = True
    return ok


def _exact(n: float, short: float) -> Message | None:
    """`` — exactly the difference`` when ``n`` accounts for all of a positive ``short``."""
    return _msg("exact") if _is_exact(n, short) else None


def _is_exact(n: float, short: float) -> bool:
    return short > 0 and n == short


def _channel(row) -> _Found | None:
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
            message = _msg(
                "channel.match",
                reported=Counts(row["reported_numerator"], row["reported_denominator"]),
                alt=Term("channel", alt),
                used=Term("channel", used),
                computed=Counts(row["computed_numerator"], row["computed_denominator"]),
                afn=_msg("channel.afn_in_window", orders=Count(afn, "afn_order")) if afn else None,
            )
            return _Found("channel", message, exact=True, dim="both")
    if (
        used == "mfn"
        and afn > 0
        and row.get("family") in ("late_shipments", "cancellations", "tracking", "order_defects")
    ):
        rep, cmp_ = row["reported_denominator"], row["computed_denominator"]
        if not _nan(rep) and not _nan(cmp_) and cmp_ < rep <= cmp_ + afn:
            exact = row.get("family") in ("cancellations", "order_defects") and rep - cmp_ == afn
            message = _msg(
                "channel.afn", orders=Count(afn, "afn_order_long"), exact=_msg("exact") if exact else None
            )
            return _Found("channel", message, exact=exact, speculative=not exact, dim="den")
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


def _timezone(row) -> _Found | None:
    un, ud = row.get("utc_num"), row.get("utc_den")
    if _nan(un) and _nan(ud):
        return None
    cn, cd = row["computed_numerator"], row["computed_denominator"]
    local = _distance(row, cn, cd)
    utc = _distance(row, un, ud)
    if not utc < local:
        return None
    zone = row.get("zone")
    message = _msg(
        "timezone",
        utc=Counts(un, ud),
        match=_msg("timezone_match") if utc == 0 else None,
        marketplace=row["marketplace_id"],
        zone=zone if zone else _msg("timezone_unknown"),
        local=Counts(cn, cd),
    )
    return _Found("timezone", message, exact=utc == 0, speculative=utc != 0, dim="both")


def _num_short(row) -> float:
    """Reported numerator minus computed (positive: the report counts more)."""
    rep, cmp_ = row["reported_numerator"], row["computed_numerator"]
    if _nan(rep) or _nan(cmp_):
        return 0.0
    return float(rep - cmp_)


def _removed(row) -> _Found | None:
    n = row.get("removed_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _NFR) or _nan(n) or n <= 0 or short <= 0:
        return None
    after = row.get("removed_after") or 0.0
    when = None
    if not _nan(after) and after > 0:
        when = _msg("removed_after_report", n=after, report_day=_report_day(row))
    elif not _nan(row.get("removed_last")):
        when = _msg("removed_last", day=_day(pd.Timestamp(row["removed_last"])))
    message = _msg("removed_feedback", orders=Count(n, "order"), when=when, exact=_exact(n, short))
    return _Found("removed_feedback", message, exact=_is_exact(n, short))


def _shared(row) -> _Found | None:
    n = row.get("shared_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _NFR) or _nan(n) or n <= 0 or short <= 0:
        return None
    message = _msg("shared_feedback", orders=Count(n, "order"), exact=_exact(n, short))
    return _Found("shared_feedback", message, exact=_is_exact(n, short))


def _feedback_missing(row) -> _Found | None:
    if row.get("target") != _ODR or row.get("has_feedback"):
        return None
    sib = row.get("sib_neg")
    if not _nan(sib):
        if sib <= 0:
            return None
        return _Found(
            "feedback_missing", _msg("feedback_missing.counted", feedback=Count(sib, "negative_feedback"))
        )
    short = _num_short(row)
    if short <= 0:
        return None
    message = _msg("feedback_missing.more", orders=Count(short, "more_defective_order"))
    return _Found("feedback_missing", message, speculative=True)


def _claims_missing(row) -> _Found | None:
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
    claims = _msg("claims", a_to_z=Count(az0, "a_to_z_claim"), chargebacks=Count(cb0, "chargeback"))
    short = _num_short(row)
    exact = rep_cl is not None and short > 0 and rep_cl - cmp_cl == short
    if not row.get("has_claims"):
        if rep_cl is not None:
            if rep_cl <= 0:
                return None
            message = _msg("claims_missing.no_table", claims=claims, exact=_exact(rep_cl - cmp_cl, short))
            return _Found("claims_missing", message, exact=exact)
        if short <= 0:
            return None
        message = _msg("claims_missing.no_table_more", orders=Count(short, "more_defective_order"))
        return _Found("claims_missing", message, speculative=True)
    if rep_cl is None or rep_cl <= cmp_cl:
        return None
    if (row.get("claim_orders") or 0) == 0:
        message = _msg("claims_missing.none_on_orders", claims=claims, exact=_exact(rep_cl - cmp_cl, short))
        return _Found("claims_missing", message, exact=exact)
    message = _msg(
        "claims_missing.fewer",
        reported=rep_cl,
        computed=cmp_cl,
        missing=rep_cl - cmp_cl,
        exact=_exact(rep_cl - cmp_cl, short),
    )
    return _Found("claims_missing", message, exact=exact)


def _claims_decided(row) -> _Found | None:
    n = row.get("decided_only") or 0.0
    short = _num_short(row)
    if row.get("target") not in (_ODR, _AZ, _CB) or _nan(n) or n <= 0 or short <= 0:
        return None
    message = _msg("claims_decided", orders=Count(n, "order"), exact=_exact(n, short))
    return _Found("claims_decided", message, exact=_is_exact(n, short))


def _after_report(row) -> _Found | None:
    n = row.get("defects_after") or 0.0
    if row.get("target") != _ODR or _nan(n) or n <= 0 or _num_short(row) >= 0:
        return None
    first = row.get("defects_after_first")
    message = _msg(
        "after_report",
        orders=Count(n, "defective_order"),
        report_day=_report_day(row),
        first=None if _nan(first) else _msg("after_report_first", day=_day(pd.Timestamp(first))),
        exact=_exact(n, -_num_short(row)),
    )
    return _Found("after_report", message, exact=_is_exact(n, -_num_short(row)))


def _feedback_partial(row) -> _Found | None:
    target = row.get("target")
    top, count = row.get("fb_max_rating"), row.get("fb_n")
    if target not in (_ODR, _NFR, "customer_satisfaction_index") or _nan(top) or _nan(count) or count <= 0:
        return None
    if top > 3:
        return None
    if target == "customer_satisfaction_index":
        return _Found("feedback_partial", _msg("feedback_partial.index"))
    if _num_short(row) <= 0:
        return None
    first, last = _day(pd.Timestamp(row["fb_first"])), _day(pd.Timestamp(row["fb_last"]))
    rday = _report_day(row)
    after = _msg("feedback_partial.after_last", last=last) if rday is not None and last < rday else None
    message = _msg("feedback_partial.received", first=first, last=last, after=after)
    return _Found("feedback_partial", message, speculative=True)


def _inconsistent(row) -> _Found | None:
    num, den, rate = row["reported_numerator"], row["reported_denominator"], row["reported_rate"]
    if _nan(num) or _nan(den) or _nan(rate) or den <= 0:
        return None
    if row.get("diff_numerator") != 0 or row.get("diff_denominator") != 0:
        return None
    ratio = num / den
    if abs(ratio - rate) <= 0.5e-4:
        return None
    metric = row.get("target") or row["metric"]
    message = _msg(
        "report_inconsistent", rate=Rate(rate, metric), counts=Counts(num, den), ratio=Rate(ratio, metric)
    )
    return _Found("report_inconsistent", message)


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


def likely_causes(row) -> list[Cause]:
    """Causes for one reconciled row (a mapping of the numbers gathered by ``reconcile``).

    Returns
    -------
    list of Cause
        Empty when nothing applies. On a row whose verdict is ``agrees`` only the informational notes
        (``window``, channel mapping); on a ``differs`` row the causes, then those notes. Speculative
        causes are dropped when an exact one explains the same part of the difference; when nothing
        explains it, a known definitional difference (``definition``) or ``unexplained``.
    """
    notes = [Cause(c.cause, c.message) for c in (_window_note(row), _channel_note(row)) if c]
    if row.get("verdict") != "differs":
        return notes
    found = [c for c in (rule(row) for rule in _RULES) if c is not None]
    found += _population(row)
    exact = {c.dim for c in found if c.exact}
    covered = {"num", "den", "both"} if "both" in exact else exact

    def dropped(c: _Found) -> bool:
        if not c.speculative or c.exact:
            return False
        return c.dim in covered or (c.dim == "both" and bool(covered))

    causes = [Cause(c.cause, c.message) for c in found if not dropped(c)]
    if not [c for c in causes if not c.cause.endswith("_extra")]:
        target = row.get("target")
        if target in DEFINITION_NOTES:
            causes.append(Cause("definition", Message(f"reconcile.definition.{target}")))
        else:
            causes.append(
                Cause(
                    "unexplained",
                    _msg("unexplained", seller=row["seller_id"], day=row["window_to"]),
                )
            )
    return causes + notes
