"""``cxops reconcile``: every metric a marketplace reported, next to the same metric computed from raw data.

"Trust the number" (field cases, top ask 1): for each row of ``reported_metrics`` (Amazon's account
health report, imported by :mod:`cxops.ingest.amazon`) this computes the same metric over the **same
window** — ``window_from .. window_to``, however long and however lagged — from the imported orders,
shipments, feedback, claims …, shows both with their counts and the difference, says whether they agree
within the report's rounding, and names the likely causes of a difference with the numbers behind them
(:mod:`cxops.reconcile_causes`).

Computation: each metric family's seller-day facts (:meth:`cxops.metrics.families.Family.facts`, the
same definitions as ``cxops metrics``) are joined to the table of reported windows on
``seller_id, marketplace_id`` and ``day BETWEEN window_from AND window_to`` and summed — one query per
family for all reported rows, on any engine (:func:`window_sums`). The same query also sums the facts
by UTC day (the report's dates are UTC days) for the time-zone diagnosis. A few small queries add the
diagnostics the cause rules need (raw-data coverage, removed feedback, decided claims, defects that
arrived after the report, the feedback source's star range).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cxops.canonical.schema import VIOLATION_KINDS
from cxops.metrics import records
from cxops.metrics.catalog import AFN, ALL, CATALOG, MFN
from cxops.metrics.compute import load_inputs
from cxops.metrics.families import FAMILIES, Family, Output
from cxops.metrics.options import MetricOptions
from cxops.metrics.records import KEY, NOT_COUNTING_DECISIONS, Inputs
from cxops.reconcile_causes import likely_causes

WKEYS = ["seller_id", "marketplace_id", "window_from", "window_to"]
CHANNELS = (ALL, MFN, AFN)

OUTPUT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "metric",
    "channel",
    "window_from",
    "window_to",
    "window_days",
    "reported_numerator",
    "reported_denominator",
    "reported_rate",
    "computed_numerator",
    "computed_denominator",
    "computed_rate",
    "diff_rate",
    "diff_numerator",
    "diff_denominator",
    "agrees",
    "verdict",
    "reason",
    "likely_causes",
    "computed_as",
    "reported_status",
    "target_value",
    "target_condition",
    "source_metric",
    "source_file",
    "reported_at",
]
"""Columns of :func:`reconcile`'s frame (see its docstring)."""

VERDICTS = ("agrees", "differs", "no_raw_data", "not_computable")

# -- what each reported metric is computed as ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """How a reported metric is computed: which family's window sums, read how.

    Attributes
    ----------
    metric : str
        The cxops metric computed (a catalog name, or an extension below such as
        ``unit_on_time_delivery_rate``).
    family : str
        Family name (``FAMILIES``, :data:`EXTRA_FAMILIES`, or ``messages``).
    numerator, denominator : str or None
        Sum columns of the family.
    kind : str
        ``ratio`` (numerator / denominator), ``count`` (the numerator) or ``median`` (median hours).
    """

    metric: str
    family: str
    numerator: str | None
    denominator: str | None
    kind: str = "ratio"


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.fill_null(False).ifelse(1, 0)


def _unit_delivery_records(inp: Inputs) -> ir.Table:
    """Delivery records weighted by the shipment's units (Amazon's OTDR counts units, A19)."""
    d = records.deliveries(inp)
    s = inp.tables["shipments"].select(*KEY, "shipment_id", _units="units")
    d = d.left_join(s, [*KEY, "shipment_id"]).select(d, "_units")
    units = d._units.fill_null(1)  # a shipment without a unit count counts as one unit
    return d.mutate(u_delivered=d.f_delivered * units, u_on_time=d.f_on_time * units)


def _unit_measured(inp: Inputs) -> dict[str, str | None]:
    for table, cols in (("orders", ("latest_delivery_at",)), ("shipments", ("delivered_at", "units"))):
        if table not in inp.tables:
            return {"unit_on_time_delivery_rate": f"no {table} data imported"}
        if not inp.has(table, *cols):
            missing = [c for c in cols if c not in inp.provided.get(table, set())]
            return {"unit_on_time_delivery_rate": f"the {table} source does not provide {', '.join(missing)}"}
    return {"unit_on_time_delivery_rate": None}


def _violation_kind_records(inp: Inputs) -> ir.Table:
    v = inp.tables["violations"]
    return v.select(
        "seller_id",
        "marketplace_id",
        channel=ibis.literal(ALL),
        day=inp.local(v.reported_at, v.marketplace_id),
        **{f"f_{k}": _flag(v.kind == k) for k in VIOLATION_KINDS},
    )


#: Amazon's policy-violation counters (snake case of the report's fields) → canonical violation kind.
AMAZON_VIOLATION_KINDS = {
    "listing_policy_violations": "listing_policy",
    "product_authenticity_customer_complaints": "authenticity",
    "product_safety_customer_complaints": "safety",
    "restricted_product_policy_violations": "restricted_product",
    "customer_product_reviews_policy_violations": "review_manipulation",
    "other_policy_violations": "other",
}

UNIT_DELIVERIES = Family(
    "unit_deliveries",
    (14,),
    (ALL, MFN, AFN),
    _unit_delivery_records,
    {"delivered_units": "u_delivered", "on_time_units": "u_on_time"},
    (Output("unit_on_time_delivery_rate", "on_time_units", "delivered_units"),),
    _unit_measured,
)

VIOLATION_KIND_COUNTS = Family(
    "violation_kinds",
    (180,),
    (ALL,),
    _violation_kind_records,
    {f"kind_{k}": f"f_{k}" for k in VIOLATION_KINDS},
    tuple(Output(name, f"kind_{k}", None, "numerator") for name, k in AMAZON_VIOLATION_KINDS.items()),
    lambda inp: {
        name: (None if "violations" in inp.tables else "no violations data imported")
        for name in AMAZON_VIOLATION_KINDS
    },
)

EXTRA_FAMILIES: tuple[Family, ...] = (UNIT_DELIVERIES, VIOLATION_KIND_COUNTS)
"""Families reconcile adds to the catalog's, for metrics marketplaces report and cxops does not rate."""

_FAMILY_BY_NAME: dict[str, Family] = {f.name: f for f in (*FAMILIES, *EXTRA_FAMILIES)}


def _targets() -> dict[str, Target]:
    out: dict[str, Target] = {}
    for fam in (*FAMILIES, *EXTRA_FAMILIES):
        for o in fam.outputs:
            kind = "count" if o.value == "numerator" else "ratio"
            out[o.metric] = Target(o.metric, fam.name, o.numerator, o.denominator, kind)
    out["late_response_rate"] = Target("late_response_rate", "messages", "late", "messages")
    out["median_first_response_hours"] = Target(
        "median_first_response_hours", "messages", None, "replied", "median"
    )
    return out


TARGETS: dict[str, Target] = _targets()
"""Every metric reconcile can compute, by name."""

ALIASES: dict[str, str] = {
    "pre_fulfillment_cancellation_rate": "pre_fulfillment_cancel_rate",
    "prefulfillment_cancel_rate": "pre_fulfillment_cancel_rate",
    "received_intellectual_property_complaints": "ip_complaints",
    "policy_violation_warnings": "account_health_warnings",
    "claims_rate": "a_to_z_claim_rate",
    "a_to_z_claims_rate": "a_to_z_claim_rate",
    "chargeback_claims_rate": "chargeback_rate",
}
"""Other names a report may use for a metric reconcile computes (snake case of the source's field)."""

NOT_COMPUTABLE: dict[str, str] = {
    "ahr_score": (
        "Amazon's Account Health Rating weighs violations with points it does not publish; "
        "cxops does not reproduce it"
    ),
    "ahr_status": "Amazon's Account Health Rating status is not reproducible (unpublished points)",
    "account_health_rating": "Amazon's Account Health Rating is not reproducible (unpublished points)",
    "invoice_defect_rate": (
        "needs Amazon Business invoice uploads and their times, which the canonical data does not hold"
    ),
    "tenure_days": "not a windowed metric",
    "suspected_intellectual_property_violations": "no matching violation kind in the canonical data",
    "product_condition_customer_complaints": "no matching violation kind in the canonical data",
    "food_and_product_safety_issues": "no matching violation kind in the canonical data",
    "document_requests": "document requests are not in the canonical data",
    "missing_invoice_rate": "needs Amazon Business invoice uploads, which the canonical data does not hold",
    "late_invoice_rate": "needs Amazon Business invoice uploads, which the canonical data does not hold",
    "account_status": "an account state reported by the marketplace, not a metric",
}
"""Reported metrics cxops knows it cannot compute, with the reason."""


def resolve(metric: str, inp: Inputs | None) -> tuple[Target | None, str | None]:
    """The computation for a reported metric name, or ``(None, reason)`` when it cannot be computed.

    ``unit_on_time_delivery_rate`` (Amazon's unit-based OTDR) is computed over units when the shipments
    source provides ``units``; otherwise over shipments, and the difference is named as a cause.
    """
    name = ALIASES.get(metric, metric)
    if name in NOT_COMPUTABLE:
        return None, NOT_COMPUTABLE[name]
    if name.startswith("warning_state_"):
        return None, "a warning state reported by the marketplace, not a metric"
    target = TARGETS.get(name)
    if target is None:
        return None, f"{metric} is not a metric cxops computes"
    if target.family == "unit_deliveries" and inp is not None and _unit_measured(inp)[name] is not None:
        return Target(name, "deliveries", "on_time", "delivered"), None
    return target, None


def _reason_not_measured(target: Target, inp: Inputs) -> str | None:
    if target.family == "messages":
        if "buyer_messages" not in inp.tables:
            return "no buyer_messages data imported"
        if not inp.has("buyer_messages", "first_response_at"):
            return "the buyer_messages source does not provide first_response_at"
        return None
    fam = _FAMILY_BY_NAME[target.family]
    reasons = fam.measured(inp)
    if target.family == "deliveries" and target.metric == "unit_on_time_delivery_rate":
        return reasons["on_time_delivery_rate"]
    return reasons[target.metric]


# -- arbitrary windows -----------------------------------------------------------------------------


def window_sums(facts: ir.Table, windows: ir.Table, sums) -> ir.Table:
    """Sum seller-day facts over arbitrary inclusive windows, one row per window and channel.

    Parameters
    ----------
    facts : ibis.Table
        ``seller_id, marketplace_id, channel, day`` + sum columns (a family's facts; other columns
        such as ``basis`` are kept as grouping keys).
    windows : ibis.Table
        ``seller_id, marketplace_id, window_from, window_to`` (dates, inclusive), distinct.
    sums : iterable of str
        Sum columns of ``facts``.

    Returns
    -------
    ibis.Table
        ``seller_id, marketplace_id, window_from, window_to, channel`` (+ extra keys) + one column per
        sum. Windows with no facts have no rows (their sums are 0).
    """
    keys = [c for c in facts.columns if c not in ("day", *sums)]
    j = windows.join(
        facts,
        [
            windows.seller_id == facts.seller_id,
            windows.marketplace_id == facts.marketplace_id,
            facts.day >= windows.window_from,
            facts.day <= windows.window_to,
        ],
    )
    group = ["window_from", "window_to", *keys]
    return j.group_by(group).aggregate(**{c: j[c].sum() for c in sums})


def _family_query(
    inp: Inputs, inp_utc: Inputs | None, fam: Family, windows: ir.Table, bounds, seller_ids
) -> ir.Table:
    def facts(i: Inputs, basis: str) -> ir.Table:
        f = i.cached(fam.name, lambda: fam.facts(i)) if basis == "local" else fam.facts(i)
        f = f.filter((f.day >= bounds[0]) & (f.day <= bounds[1]))
        if seller_ids is not None:
            f = f.filter(f.seller_id.isin(list(seller_ids)))
        return f.mutate(basis=ibis.literal(basis))

    f = facts(inp, "local")
    if inp_utc is not None:
        f = f.union(facts(inp_utc, "utc"))
    return window_sums(f, windows, list(fam.sums))


def _messages_query(inp: Inputs, windows: ir.Table) -> ir.Table:
    """Response-time sums over arbitrary windows (a message counts once resolved by the window's end)."""
    m = records.messages(inp)
    j = windows.join(
        m,
        [
            windows.seller_id == m.seller_id,
            windows.marketplace_id == m.marketplace_id,
            m.day >= windows.window_from,
            m.day <= windows.window_to,
        ],
    )
    j = j.filter(j.resolved_day <= j.window_to)
    replied = (j.responded_day <= j.window_to).fill_null(False)
    sums = j.group_by([*WKEYS, "channel"]).aggregate(
        messages=j.count(),
        late=j.f_late.sum(),
        replied=replied.ifelse(1, 0).sum(),
        median_hours=replied.ifelse(j.hours, ibis.null("float64")).median(),
    )
    return sums.mutate(basis=ibis.literal("local"))


def _odr_diagnostics(inp: Inputs, windows: ir.Table) -> ir.Table:
    """Per window and channel: the orders behind the usual ODR causes (sparse: flagged orders only).

    ``windows`` carries ``reported_at``. Columns: ``removed_only`` (orders whose negative feedback was
    removed and that have no other defect), ``removed_after`` (of those, removed after the report),
    ``removed_last``; ``shared_only`` (negative feedback shared with another seller's order, excluded by
    default); ``decided_only`` (claims denied, withdrawn, reversed or fraud chargebacks, no other defect);
    ``claim_orders`` (orders with any claim row); ``defects_after`` / ``defects_after_first`` (defective
    orders whose first counted defect arrived after the report).
    """
    opt = inp.options
    d = records.order_defects(inp)
    if "feedback" in inp.tables:
        f = inp.tables["feedback"]
        neg = f.rating <= opt.negative_feedback_max_stars
        removed = f.filter(neg & f.removed_at.notnull()).select(*KEY, _removed_at="removed_at")
        d = d.left_join(removed, KEY).select(d, "_removed_at")
        counted = neg & f.removed_at.isnull()
        if opt.shared_feedback == "exclude":
            shared = f.filter(counted & f.is_shared.fill_null(False)).select(*KEY, _shared=ibis.literal(1))
            d = d.left_join(shared, KEY).select(d, "_shared")
            counted = counted & ~f.is_shared.fill_null(False)
        else:
            d = d.mutate(_shared=ibis.null("int32"))
        fb_at = f.filter(counted).select(*KEY, _fb_at="submitted_at")
        d = d.left_join(fb_at, KEY).select(d, "_fb_at")
    else:
        d = d.mutate(
            _removed_at=ibis.null("timestamp"), _shared=ibis.null("int32"), _fb_at=ibis.null("timestamp")
        )
    if "claims" in inp.tables:
        c = inp.tables["claims"]
        counts = c.decision.isnull() | ~c.decision.isin(NOT_COUNTING_DECISIONS)
        counted = ((c.kind == "a_to_z") & counts) | (
            (c.kind == "chargeback") & counts & ~c.is_fraud.fill_null(False)
        )
        cl = c.group_by(KEY).aggregate(
            _claim_at=counted.ifelse(c.filed_at, ibis.null("timestamp")).min(),
            _decided=(~counted).ifelse(1, 0).max(),
        )
        d = d.left_join(cl, KEY).select(d, "_claim_at", "_decided")
        d = d.mutate(_has_claim=d._decided.notnull().ifelse(1, 0))
    else:
        d = d.mutate(_claim_at=ibis.null("timestamp"), _decided=ibis.null("int32"), _has_claim=0)
    clean = d.f_defect == 0
    first_defect = ibis.least(d._fb_at.fill_null(d._claim_at), d._claim_at.fill_null(d._fb_at))
    d = d.mutate(
        r_removed=_flag(d._removed_at.notnull() & clean),
        r_shared=_flag(d._shared.notnull() & d._removed_at.isnull() & clean),
        r_decided=_flag((d._decided == 1) & clean & d._claim_at.isnull()),
        r_claim=d._has_claim,
        first_defect_at=(d.f_defect == 1).ifelse(first_defect, ibis.null("timestamp")),
    )
    d = d.filter((d.r_removed + d.r_shared + d.r_decided + d.r_claim + d.f_defect) > 0)
    j = windows.join(
        d,
        [
            windows.seller_id == d.seller_id,
            windows.marketplace_id == d.marketplace_id,
            d.day >= windows.window_from,
            d.day <= windows.window_to,
        ],
    )
    after = j.first_defect_at.notnull() & j.reported_at.notnull() & (j.first_defect_at > j.reported_at)
    removed_after = (j.r_removed == 1) & j.reported_at.notnull() & (j._removed_at > j.reported_at)
    return j.group_by([*WKEYS, "channel"]).aggregate(
        removed_only=j.r_removed.sum(),
        removed_after=_flag(removed_after).sum(),
        removed_last=(j.r_removed == 1).ifelse(j._removed_at, ibis.null("timestamp")).max(),
        shared_only=j.r_shared.sum(),
        decided_only=j.r_decided.sum(),
        claim_orders=j.r_claim.sum(),
        defects_after=_flag(after).sum(),
        defects_after_first=after.ifelse(j.first_defect_at, ibis.null("timestamp")).min(),
    )


# -- reconcile -------------------------------------------------------------------------------------


def _reported_expr(wh, as_of: date | None, seller_ids) -> ir.Table:
    rm = wh.table("reported_metrics")
    if as_of is not None:
        rm = rm.filter(rm.window_to <= as_of)
    if seller_ids is not None:
        rm = rm.filter(rm.seller_id.isin(list(seller_ids)))
    return rm


def _report_instants(rm: ir.Table) -> ir.Table:
    """``rm`` with ``_at``: ``reported_at``, else the end of the report's day (the latest ``window_to``
    of the same seller and source file; see :func:`_report_days`)."""
    latest = rm.window_to.max().over(ibis.window(group_by=[rm.seller_id, rm.source_file]))
    end_of_day = (latest + ibis.interval(days=1)).cast("timestamp")
    at = rm.reported_at.fill_null(rm.source_file.notnull().ifelse(end_of_day, ibis.null("timestamp")))
    return rm.mutate(_at=at)


def _as_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=OUTPUT_COLUMNS)


def _long(df: pd.DataFrame, family: str, sums) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=["family", *WKEYS, "channel", "basis", "col", "value"])
    df = df.copy()
    for c in ("window_from", "window_to"):
        df[c] = _as_date(df[c])
    out = df.melt(id_vars=[*WKEYS, "channel", "basis"], value_vars=list(sums), var_name="col")
    out["family"] = family
    return out


class _Lookup:
    """Vectorised access to window sums: ``get(family, channel, basis, col)`` aligned with ``plan``."""

    def __init__(self, long: pd.DataFrame, plan: pd.DataFrame):
        self.s = long.set_index(["family", *WKEYS, "channel", "basis", "col"])["value"].astype("float64")
        self.s = self.s[~self.s.index.duplicated()]
        self.plan = plan

    def get(self, family, channel, basis, col) -> pd.Series:
        n = len(self.plan)

        def arr(v):
            return v.to_numpy() if isinstance(v, pd.Series) else np.full(n, v, dtype=object)

        idx = pd.MultiIndex.from_arrays(
            [
                arr(family),
                self.plan.seller_id.to_numpy(),
                self.plan.marketplace_id.to_numpy(),
                self.plan.window_from.to_numpy(),
                self.plan.window_to.to_numpy(),
                arr(channel),
                arr(basis),
                arr(col),
            ]
        )
        return pd.Series(self.s.reindex(idx).to_numpy(), index=self.plan.index, dtype="float64")


def _decimals(x: float) -> int:
    for d in range(0, 13):
        if abs(round(x, d) - x) <= 1e-12 * max(1.0, abs(x)):
            return d
    return 13


def _agree(row, rate_decimals: int) -> bool:
    for rep, cmp_ in (
        ("reported_numerator", "computed_numerator"),
        ("reported_denominator", "computed_denominator"),
    ):
        r = row[rep]
        if r is not None and not _nan(r):
            c = row[cmp_]
            if c is None or _nan(c) or abs(c - r) > 1e-9 * max(1.0, abs(r)):
                return False
    rr = row["reported_rate"]
    if rr is None or _nan(rr):
        return True
    cr = row["computed_rate"]
    if cr is None or _nan(cr):
        return False
    d = max(_decimals(rr), rate_decimals)
    return abs(cr - rr) <= 0.5 * 10.0**-d + 1e-12


def _nan(x) -> bool:
    try:
        return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))
    except TypeError:
        return False


def reconcile(
    wh,
    as_of: date | None = None,
    seller_ids=None,
    options: MetricOptions | None = None,
    *,
    inputs: Inputs | None = None,
    rate_decimals: int = 4,
    check_timezone: bool = True,
) -> pd.DataFrame:
    """Compare every reported metric with the same metric computed from the raw data, same window.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    as_of : date, optional
        Only reported rows whose ``window_to <= as_of``; ``None``: every reported row.
    seller_ids : iterable of str, optional
    options : MetricOptions, optional
        Metric semantics (a policy's ``[metric_options]``); defaults as in ``cxops metrics``.
    inputs : Inputs, optional
        Pre-loaded inputs.
    rate_decimals : int, default 4
        The precision a reported rate is assumed to carry at least (Amazon's rates have about four
        decimals): a rate agrees when it is within half a unit of the last decimal of the reported value
        (``max(decimals shown, rate_decimals)``). Counts must match exactly when both are given.
    check_timezone : bool, default True
        Also sum the facts by UTC day, to say when the report's UTC days explain a difference.

    Returns
    -------
    pandas.DataFrame
        One row per reported row, columns :data:`OUTPUT_COLUMNS`:

        - ``seller_id, marketplace_id, metric`` (as reported), ``channel``, ``window_from, window_to``
          and ``window_days`` (= ``window_to - window_from + 1``);
        - ``reported_numerator, reported_denominator, reported_rate`` as in the report; ``computed_*``
          from the raw data over the same window and channel (rates are fractions; counts for count
          metrics are in the numerator, rate null);
        - ``diff_rate`` = computed − reported (the reported rate, else the ratio of its counts),
          ``diff_numerator``, ``diff_denominator``;
        - ``agrees`` (bool, True only when ``verdict == "agrees"``) and ``verdict``: ``agrees``,
          ``differs``, ``no_raw_data`` (the raw data has nothing for that seller in the window) or
          ``not_computable``; ``reason`` says why for the last two;
        - ``likely_causes``: list of ``{"cause": key, "text": sentence}`` (see
          :mod:`cxops.reconcile_causes`); on agreeing rows only the informational ``window`` and
          ``channel`` notes;
        - ``computed_as`` (the cxops metric and channel used), and the report's ``status,
          target_value, target_condition, source_metric, source_file, reported_at``
          (``reported_status`` = its ``status``).

    Raises
    ------
    KeyError
        If no ``reported_metrics`` table has been imported.
    """
    if not wh.has_table("reported_metrics"):
        raise KeyError(
            f"no reported metrics in the warehouse {wh.url}: import a marketplace report first "
            "(for example Amazon's account health report)"
        )
    rm = _reported_expr(wh, as_of, seller_ids)
    rep = wh.execute(rm)
    if rep.empty:
        return _empty()
    rep = rep.reset_index(drop=True)
    for c in ("window_from", "window_to"):
        rep[c] = _as_date(rep[c])
    inp = inputs
    if inp is None and wh.has_table("orders"):
        inp = load_inputs(wh, options)
    if inp is not None and options is not None:
        inp.options = options

    # plan: what each row is computed as
    targets, reasons = zip(*(resolve(m, inp) for m in rep.metric), strict=True)
    plan = rep[WKEYS + ["metric", "channel"]].copy()
    plan["target"] = [t.metric if t else None for t in targets]
    plan["family"] = [t.family if t else None for t in targets]
    plan["num_col"] = [t.numerator if t else None for t in targets]
    plan["den_col"] = [t.denominator if t else None for t in targets]
    plan["kind"] = [t.kind if t else None for t in targets]
    plan["reason"] = list(reasons)
    if inp is None:
        plan.loc[plan.reason.isna(), "reason"] = "no orders imported"
        plan["no_orders"] = True
    else:
        plan["no_orders"] = False
        measured: dict[Target, str | None] = {}
        for i in plan.index[plan.reason.isna()]:
            if targets[i] not in measured:
                measured[targets[i]] = _reason_not_measured(targets[i], inp)
            plan.at[i, "reason"] = measured[targets[i]]
    plan["computable"] = plan.reason.isna()
    plan.loc[~plan.computable, "family"] = None
    used = []
    for fam_name, ch in zip(plan.family, plan.channel, strict=True):
        if not isinstance(fam_name, str):
            used.append(None)
            continue
        chans = (ALL,) if fam_name == "messages" else _FAMILY_BY_NAME[fam_name].channels
        used.append(ch if ch in chans else (MFN if MFN in chans else ALL))
    plan["used_channel"] = used

    comp = plan[plan.computable]
    long_parts: list[pd.DataFrame] = []
    diag = pd.DataFrame()
    coverage = pd.DataFrame(columns=["seller_id", "marketplace_id", "first_day", "last_day", "n_orders"])
    fb_info = pd.DataFrame(columns=["seller_id", "fb_max_rating", "fb_first", "fb_last", "fb_n"])
    if inp is not None and not comp.empty:
        bounds = (min(comp.window_from), max(comp.window_to))
        inp_utc = replace(inp, zones={}, reuse=False, _cache={}) if check_timezone else None
        wanted = {f: sorted(set(comp.metric[comp.family == f])) for f in set(comp.family)}
        wanted["orders"] = sorted(set(comp.metric))  # order counts of every window (channel, coverage)
        for fam_name, names in sorted(wanted.items()):
            w = rm.filter(rm.metric.isin(names)).select(*WKEYS).distinct()
            if fam_name == "messages":
                df = wh.execute(_messages_query(inp, w))
                long_parts.append(_long(df, "messages", ["messages", "late", "replied", "median_hours"]))
                continue
            fam = _FAMILY_BY_NAME[fam_name]
            df = wh.execute(_family_query(inp, inp_utc, fam, w, bounds, seller_ids))
            long_parts.append(_long(df, fam_name, fam.sums))
        odr_names = sorted(set(comp.metric[comp.family == "order_defects"]))
        if odr_names:
            w = _report_instants(rm)
            w = w.filter(w.metric.isin(odr_names)).group_by(WKEYS).aggregate(reported_at=w._at.max())
            diag = wh.execute(_odr_diagnostics(inp, w))
        coverage = _coverage(wh, inp, seller_ids)
        if "feedback" in inp.tables:
            f = inp.tables["feedback"]
            if seller_ids is not None:
                f = f.filter(f.seller_id.isin(list(seller_ids)))
            fb_info = wh.execute(
                f.group_by("seller_id").aggregate(
                    fb_max_rating=f.rating.max(),
                    fb_first=f.submitted_at.min(),
                    fb_last=f.submitted_at.max(),
                    fb_n=f.count(),
                )
            )
    long = pd.concat(long_parts, ignore_index=True) if long_parts else _long(pd.DataFrame(), "", [])
    ctx = _context(rep, plan, long, diag, coverage, fb_info, inp)
    return _finish(rep, plan, ctx, rate_decimals, as_of)


def _coverage(wh, inp: Inputs, seller_ids) -> pd.DataFrame:
    o = records.orders(inp)
    if seller_ids is not None:
        o = o.filter(o.seller_id.isin(list(seller_ids)))
    df = wh.execute(
        o.group_by(["seller_id", "marketplace_id"]).aggregate(
            first_day=o.day.min(), last_day=o.day.max(), n_orders=o.count()
        )
    )
    for c in ("first_day", "last_day"):
        df[c] = _as_date(df[c])
    return df


def _context(rep, plan, long, diag, coverage, fb_info, inp) -> pd.DataFrame:
    """Per reported row, every number the verdict and the cause rules use."""
    lk = _Lookup(long, plan)
    ctx = plan.copy()
    fam, ch = plan.family, plan.used_channel
    has = fam.notna()

    def fill0(s: pd.Series, mask) -> pd.Series:
        return s.where(~(mask & s.isna()), 0.0)

    num = lk.get(fam, ch, "local", plan.num_col)
    den = lk.get(fam, ch, "local", plan.den_col)
    is_ratio = plan.kind == "ratio"
    is_count = plan.kind == "count"
    is_median = plan.kind == "median"
    num = fill0(num, has & (is_ratio | is_count))
    den = fill0(den, has & (is_ratio | is_median))
    ctx["computed_numerator"] = num.where(is_ratio | is_count)
    ctx["computed_denominator"] = den.where(is_ratio | is_median)
    rate = (num / den).where(is_ratio & (den > 0))
    med = lk.get(fam, ch, "local", "median_hours")
    ctx["computed_rate"] = rate.where(~is_median, med.where(den > 0))
    # alternatives: other channels, UTC days
    for alt in CHANNELS:
        ctx[f"alt_num_{alt}"] = lk.get(fam, alt, "local", plan.num_col)
        ctx[f"alt_den_{alt}"] = lk.get(fam, alt, "local", plan.den_col)
        ctx[f"orders_{alt}"] = fill0(lk.get("orders", alt, "local", "orders"), has)
    utc_num = lk.get(fam, ch, "utc", plan.num_col)
    utc_den = lk.get(fam, ch, "utc", plan.den_col)
    has_utc = has & (fam != "messages") & (long["basis"] == "utc").any()
    ctx["utc_num"] = fill0(utc_num, has_utc & (is_ratio | is_count)).where(is_ratio | is_count)
    ctx["utc_den"] = fill0(utc_den, has_utc & is_ratio).where(is_ratio)
    if not has_utc.any():
        ctx["utc_num"] = np.nan
        ctx["utc_den"] = np.nan
    odr = fam == "order_defects"
    for comp_col, name in (("negative_feedback", "neg"), ("a_to_z", "az"), ("chargeback", "cb")):
        ctx[f"cmp_{name}"] = fill0(lk.get(fam, ch, "local", comp_col), odr).where(odr)
    # reported ODR components of the same window (siblings)
    comp_metric = rep.metric.map(lambda m: ALIASES.get(m, m))
    for name, metric in (
        ("neg", "negative_feedback_rate"),
        ("az", "a_to_z_claim_rate"),
        ("cb", "chargeback_rate"),
    ):
        sib = rep[comp_metric == metric].set_index([*WKEYS, "channel"])["numerator"]
        sib = sib[~sib.index.duplicated()]
        idx = pd.MultiIndex.from_frame(plan[[*WKEYS, "channel"]])
        ctx[f"sib_{name}"] = sib.reindex(idx).to_numpy()
    # ODR diagnostics
    dcols = [
        "removed_only",
        "removed_after",
        "removed_last",
        "shared_only",
        "decided_only",
        "claim_orders",
        "defects_after",
        "defects_after_first",
    ]
    if not diag.empty:
        diag = diag.copy()
        for c in ("window_from", "window_to"):
            diag[c] = _as_date(diag[c])
        sums = [c for c in dcols if c not in ("removed_last", "defects_after_first")]
        tot = diag.groupby(WKEYS, as_index=False).agg(
            **{c: (c, "sum") for c in sums},
            removed_last=("removed_last", "max"),
            defects_after_first=("defects_after_first", "min"),
        )
        tot["channel"] = ALL
        diag = pd.concat([diag, tot], ignore_index=True).set_index([*WKEYS, "channel"])
        diag = diag[~diag.index.duplicated()]
        idx = pd.MultiIndex.from_arrays(
            [
                plan.seller_id,
                plan.marketplace_id,
                plan.window_from,
                plan.window_to,
                plan.used_channel.fillna(""),
            ]
        )
        d = diag.reindex(idx)
        for c in dcols:
            ctx[c] = d[c].to_numpy()
        for c in sums:
            ctx[c] = fill0(ctx[c].astype("float64"), odr)
    else:
        for c in dcols:
            ctx[c] = 0.0 if c not in ("removed_last", "defects_after_first") else pd.NaT
    # coverage and feedback source
    cov = coverage.set_index(["seller_id", "marketplace_id"])
    cov = cov.reindex(pd.MultiIndex.from_frame(plan[["seller_id", "marketplace_id"]]))
    for c in ("first_day", "last_day", "n_orders"):
        ctx[c] = cov[c].to_numpy()
    fbi = fb_info.set_index("seller_id").reindex(plan.seller_id)
    for c in ("fb_max_rating", "fb_first", "fb_last", "fb_n"):
        ctx[c] = fbi[c].to_numpy()
    ctx["has_claims"] = inp is not None and "claims" in inp.tables
    ctx["has_feedback"] = inp is not None and "feedback" in inp.tables
    ctx["zone"] = [None if inp is None else inp.zones.get(mp) for mp in plan.marketplace_id]
    return ctx


def _finish(
    rep: pd.DataFrame, plan: pd.DataFrame, ctx: pd.DataFrame, rate_decimals: int, as_of
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "seller_id": rep.seller_id,
            "marketplace_id": rep.marketplace_id,
            "metric": rep.metric,
            "channel": rep.channel,
            "window_from": rep.window_from,
            "window_to": rep.window_to,
        }
    )
    out["window_days"] = pd.Series(
        [(t - f).days + 1 for f, t in zip(rep.window_from, rep.window_to, strict=True)], dtype="Int64"
    )
    out["reported_numerator"] = pd.to_numeric(rep.numerator).astype("float64")
    out["reported_denominator"] = pd.to_numeric(rep.denominator).astype("float64")
    out["reported_rate"] = pd.to_numeric(rep.rate).astype("float64")
    for c in ("computed_numerator", "computed_denominator", "computed_rate"):
        out[c] = ctx[c].astype("float64").where(plan.computable)
    ref_rate = out.reported_rate.where(
        out.reported_rate.notna(),
        (out.reported_numerator / out.reported_denominator).where(out.reported_denominator > 0),
    )
    out["diff_rate"] = out.computed_rate - ref_rate
    out["diff_numerator"] = out.computed_numerator - out.reported_numerator
    out["diff_denominator"] = out.computed_denominator - out.reported_denominator
    report_days = _report_days(rep, as_of)
    verdicts, reasons, causes, agrees = [], [], [], []
    rows = out.to_dict("records")
    crows = ctx.to_dict("records")
    rrows = rep.to_dict("records")
    for row, c, r in zip(rows, crows, rrows, strict=True):
        ctx_row = {
            **c,
            **row,
            "window_days_reported": r.get("window_days"),
            "reported_at": r.get("reported_at"),
        }
        ctx_row["as_of"] = as_of
        ctx_row["report_day"] = report_days[len(verdicts)]
        if not c["computable"]:
            verdict = "no_raw_data" if c.get("no_orders") and c["target"] else "not_computable"
            reason = c["reason"]
        else:
            empty = _no_raw_data(ctx_row)
            if empty:
                verdict, reason = "no_raw_data", empty
            else:
                verdict = "agrees" if _agree(ctx_row, rate_decimals) else "differs"
                reason = None
        ctx_row["verdict"] = verdict
        verdicts.append(verdict)
        reasons.append(reason)
        agrees.append(verdict == "agrees")
        causes.append(likely_causes(ctx_row) if verdict in ("agrees", "differs") else [])
    out["agrees"] = pd.Series(agrees, dtype="bool")
    out["verdict"] = verdicts
    out["reason"] = reasons
    out["likely_causes"] = causes
    out["computed_as"] = [
        _computed_as(t, f, ch) if ok else None
        for t, f, ch, ok in zip(plan.target, plan.family, plan.used_channel, plan.computable, strict=True)
    ]
    out["reported_status"] = rep.status
    for c in ("target_value", "target_condition", "source_metric", "source_file", "reported_at"):
        out[c] = rep[c]
    order = {m: i for i, m in enumerate(CATALOG)}
    out["_o"] = [order.get(t, len(order)) for t in plan.target]
    out = out.sort_values(
        ["seller_id", "marketplace_id", "_o", "metric", "window_to", "channel"], kind="stable"
    )
    return out.drop(columns="_o").reset_index(drop=True)[OUTPUT_COLUMNS]


def _report_days(rep: pd.DataFrame, as_of: date | None) -> list:
    """The day each report was produced: ``reported_at``'s date, else the latest ``window_to`` of the
    same seller and source file (Amazon's newest windows end on the report date), else ``as_of``."""
    at = pd.to_datetime(rep["reported_at"]).dt.date
    source = rep["source_file"].astype(object).where(rep["source_file"].notna(), None)
    latest = pd.Series(rep["window_to"].to_numpy(), index=rep.index)
    grouped = latest.groupby([rep["seller_id"], source], dropna=True).transform("max")
    out = []
    for a, src, g in zip(at, source, grouped.reindex(rep.index), strict=True):
        if not _nan(a) and a is not pd.NaT:
            out.append(a)
        elif src is not None and not _nan(g):
            out.append(g)
        else:
            out.append(as_of)
    return out


def _computed_as(target: str, family: str, channel: str) -> str:
    if target == "unit_on_time_delivery_rate" and family == "deliveries":
        return f"on_time_delivery_rate ({channel}; shipments, not units)"
    return f"{target} ({channel})"


def _no_raw_data(row) -> str | None:
    """Why the raw data has nothing to compare for this row, or None.

    Only when the report has something (a population, a count or a rate): the seller has no orders in
    the marketplace, or none of the metric's population in the window. Other counts (violations,
    overdue shipments) are compared whatever they are.
    """
    kind = row["kind"]
    rep_den, rep_num, rep_rate = row["reported_denominator"], row["reported_numerator"], row["reported_rate"]
    if kind == "count":
        reported = not _nan(rep_num) and rep_num > 0
    else:
        reported = (not _nan(rep_den) and rep_den > 0) or (_nan(rep_den) and not _nan(rep_rate))
    if not reported:
        return None
    seller, mp = row["seller_id"], row["marketplace_id"]
    f, t = row["window_from"], row["window_to"]
    first, last = row.get("first_day"), row.get("last_day")
    if _nan(first) or first is pd.NaT:
        return f"the raw data has no orders for {seller} in {mp}"
    covers = f"the raw orders of {seller} in {mp} run from {first} to {last}"
    if kind == "count" and row["family"] != "orders":
        return None  # a count of 0 is a value (violations, overdue shipments): compared as such
    computed = row["computed_numerator"] if kind == "count" else row["computed_denominator"]
    if _nan(computed) or computed == 0:
        return f"the raw data has no {_population(row)} for {seller} in {mp} between {f} and {t} ({covers})"
    return None


_POPULATION = {
    "order_defects": "orders",
    "late_shipments": "MFN orders with a ship-by date",
    "cancellations": "MFN orders",
    "tracking": "confirmed MFN shipments",
    "deliveries": "delivered shipments",
    "unit_deliveries": "delivered units",
    "ratings": "ratings",
    "orders": "orders",
    "messages": "buyer messages",
}


def _population(row) -> str:
    return _POPULATION.get(row.get("family") or "", "records")


# -- summary and table -----------------------------------------------------------------------------


def reconcile_summary(df: pd.DataFrame) -> str:
    """Plain-text summary of a :func:`reconcile` frame: counts by verdict, then each difference.

    Example::

        8 reported metrics: 5 agree, 2 differ, 1 not computable, 0 no raw data.
        Differences:
          S1 US order_defect_rate mfn 2024-04-18..2024-06-16: reported 0.50% (5 / 1,000), computed
          0.40% (4 / 1,000); likely: removed_feedback
    """
    n = len(df)
    counts = df["verdict"].value_counts() if n else pd.Series(dtype=int)
    word = "metric" if n == 1 else "metrics"
    lines = [
        f"{n:,} reported {word}: {int(counts.get('agrees', 0)):,} agree, "
        f"{int(counts.get('differs', 0)):,} differ, {int(counts.get('not_computable', 0)):,} not computable, "
        f"{int(counts.get('no_raw_data', 0)):,} no raw data."
    ]
    diffs = df[df["verdict"] == "differs"] if n else df
    if len(diffs):
        lines.append("Differences:")
        for r in diffs.to_dict("records"):
            keys = [c["cause"] for c in r["likely_causes"] if c["cause"] not in ("window",)]
            lines.append(
                f"  {r['seller_id']} {r['marketplace_id']} {r['metric']} {r['channel']} "
                f"{r['window_from']}..{r['window_to']}: reported {_value_text(r, 'reported')}, "
                f"computed {_value_text(r, 'computed')}; likely: {', '.join(keys) or 'unexplained'}"
            )
    other = df[df["verdict"].isin(["not_computable", "no_raw_data"])] if n else df
    if len(other):
        lines.append("Not compared:")
        for r in other.to_dict("records"):
            lines.append(
                f"  {r['seller_id']} {r['marketplace_id']} {r['metric']} {r['channel']} "
                f"{r['window_from']}..{r['window_to']}: {r['verdict']} — {r['reason']}"
            )
    return "\n".join(lines)


def _value_text(r, side: str) -> str:
    from cxops.report.format import format_count, format_counts, format_value

    metric = r["metric"]
    rate = r[f"{side}_rate"]
    num, den = r[f"{side}_numerator"], r[f"{side}_denominator"]
    if _nan(rate) and not _nan(num) and _nan(den):
        return format_count(num)
    text = format_value(None if _nan(rate) else rate, metric)
    if not _nan(den):
        text += f" ({format_counts(num, den)})"
    return text


VERDICT_STYLES = {
    "agrees": "bold green",
    "differs": "bold red",
    "no_raw_data": "yellow",
    "not_computable": "dim",
}


def reconcile_table(df: pd.DataFrame, *, title: str | None = None, limit: int | None = 500):
    """A :func:`reconcile` frame as a rich table: reported vs computed, difference, verdict, causes.

    Returns
    -------
    rich.table.Table
    """
    from rich.table import Table
    from rich.text import Text

    from cxops.report.format import format_value

    table = Table(title=title, header_style="bold", show_lines=True)
    for name, justify in (
        ("seller", "left"),
        ("market", "left"),
        ("metric", "left"),
        ("channel", "left"),
        ("window", "left"),
        ("reported", "right"),
        ("computed", "right"),
        ("difference", "right"),
        ("verdict", "left"),
        ("why", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    if limit is not None and len(df) > limit:
        table.caption = f"{limit:,} of {len(df):,} rows shown"
        df = df.head(limit)
    for r in df.to_dict("records"):
        diff = []
        if not _nan(r["diff_rate"]):
            sign = "+" if r["diff_rate"] > 0 else "−" if r["diff_rate"] < 0 else ""
            diff.append(sign + format_value(abs(r["diff_rate"]), r["metric"]))
        if not _nan(r["diff_numerator"]) and r["diff_numerator"] != 0:
            diff.append(f"num {r['diff_numerator']:+,.0f}")
        if not _nan(r["diff_denominator"]) and r["diff_denominator"] != 0:
            diff.append(f"den {r['diff_denominator']:+,.0f}")
        if r["verdict"] in ("agrees", "differs"):
            why = Text("\n").join(
                Text.assemble((c["cause"], "bold"), ": ", c["text"]) for c in r["likely_causes"]
            )
        else:
            why = Text(r["reason"] or "")
        table.add_row(
            str(r["seller_id"]),
            str(r["marketplace_id"]),
            str(r["metric"]),
            str(r["channel"]),
            f"{r['window_from']} – {r['window_to']} ({r['window_days']} d)",
            _value_text(r, "reported"),
            _value_text(r, "computed") if r["verdict"] in ("agrees", "differs") else "—",
            "\n".join(diff) if r["verdict"] == "differs" else "",
            Text(r["verdict"].replace("_", " "), style=VERDICT_STYLES.get(r["verdict"], "")),
            why,
        )
    return table


__all__ = [
    "ALIASES",
    "EXTRA_FAMILIES",
    "NOT_COMPUTABLE",
    "OUTPUT_COLUMNS",
    "TARGETS",
    "Target",
    "VERDICTS",
    "reconcile",
    "reconcile_summary",
    "reconcile_table",
    "resolve",
    "window_sums",
]
