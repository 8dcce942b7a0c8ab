"""The numbers behind each reported row: computed sums over its window, and what the cause rules read.

One query per metric family for every reported window (:func:`cxops.metrics.windows.window_sums` of
the catalog's seller-day facts), the same facts recounted by UTC day for the time-zone diagnosis, the
response-time sums, and a few small queries for the causes: the orders behind removed feedback,
shared ratings, decided claims and defects after the report
(:func:`cxops.metrics.odr_evidence.order_defect_evidence`), the raw orders' coverage per seller, and
the feedback source's star range. :func:`gather` aligns them all with the reported rows.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cxops.metrics import records
from cxops.metrics.catalog import AFN, ALL, MFN
from cxops.metrics.odr_evidence import order_defect_evidence
from cxops.metrics.records import Inputs
from cxops.metrics.windows import (
    WINDOW_KEYS,
    family_facts,
    response_window_sums,
    utc_day_inputs,
    window_join,
    window_sums,
)
from cxops.reconcile.targets import ALIASES, FAMILY_BY_NAME, MESSAGES
from cxops.reconcile.windows import report_instants

CHANNELS = (ALL, MFN, AFN)
RESPONSE_SUMS = ["messages", "late", "replied", "median_hours"]
ODR_EVIDENCE = [
    "removed_only",
    "removed_after",
    "removed_last",
    "shared_only",
    "decided_only",
    "claim_orders",
    "defects_after",
    "defects_after_first",
]
_ODR_SUMMED = [c for c in ODR_EVIDENCE if c not in ("removed_last", "defects_after_first")]


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.fill_null(False).ifelse(1, 0)


def _as_date(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.date


def family_query(inp: Inputs, inp_utc: Inputs | None, fam, windows: ir.Table, bounds, seller_ids) -> ir.Table:
    """Window sums of ``fam`` for every window, by local day (``basis = "local"``) and, with
    ``inp_utc``, by UTC day (``basis = "utc"``)."""
    parts = [(inp, "local")] + ([(inp_utc, "utc")] if inp_utc is not None else [])
    f = None
    for i, basis in parts:
        facts = family_facts(i, fam, bounds[0], bounds[1], seller_ids).mutate(basis=ibis.literal(basis))
        f = facts if f is None else f.union(facts)
    return window_sums(f, windows, list(fam.sums))


def odr_evidence_query(inp: Inputs, windows: ir.Table) -> ir.Table:
    """Per window and channel: the orders behind the usual ODR causes (sparse: flagged orders only).

    ``windows`` carries ``reported_at`` (the report's instant). Columns: ``removed_only`` (orders whose
    negative feedback was removed and that have no other defect), ``removed_after`` (of those, removed
    after the report), ``removed_last``; ``shared_only`` (negative feedback shared with another seller's
    order, excluded by default); ``decided_only`` (claims denied, withdrawn, reversed or fraud
    chargebacks, no other defect); ``claim_orders`` (orders with any claim row); ``defects_after`` /
    ``defects_after_first`` (defective orders whose first counted defect arrived after the report).
    """
    j = window_join(windows, order_defect_evidence(inp))
    after = j.first_defect_at.notnull() & j.reported_at.notnull() & (j.first_defect_at > j.reported_at)
    removed_after = (j.r_removed == 1) & j.reported_at.notnull() & (j.removed_at > j.reported_at)
    return j.group_by([*WINDOW_KEYS, "channel"]).aggregate(
        removed_only=j.r_removed.sum(),
        removed_after=_flag(removed_after).sum(),
        removed_last=(j.r_removed == 1).ifelse(j.removed_at, ibis.null("timestamp")).max(),
        shared_only=j.r_shared.sum(),
        decided_only=j.r_decided.sum(),
        claim_orders=j.r_claim.sum(),
        defects_after=_flag(after).sum(),
        defects_after_first=after.ifelse(j.first_defect_at, ibis.null("timestamp")).min(),
    )


def coverage_query(inp: Inputs, seller_ids) -> ir.Table:
    """Per seller and marketplace: first and last local order day and the number of orders."""
    o = records.orders(inp)
    if seller_ids is not None:
        o = o.filter(o.seller_id.isin(list(seller_ids)))
    return o.group_by(["seller_id", "marketplace_id"]).aggregate(
        first_day=o.day.min(), last_day=o.day.max(), n_orders=o.count()
    )


def feedback_source_query(inp: Inputs, seller_ids) -> ir.Table:
    """Per seller: the feedback source's highest rating, first and last submission, number of ratings."""
    f = inp.tables["feedback"]
    if seller_ids is not None:
        f = f.filter(f.seller_id.isin(list(seller_ids)))
    return f.group_by("seller_id").aggregate(
        fb_max_rating=f.rating.max(),
        fb_first=f.submitted_at.min(),
        fb_last=f.submitted_at.max(),
        fb_n=f.count(),
    )


def _long(df: pd.DataFrame, family: str, sums) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=["family", *WINDOW_KEYS, "channel", "basis", "col", "value"])
    df = df.copy()
    for c in ("window_from", "window_to"):
        df[c] = _as_date(df[c])
    out = df.melt(id_vars=[*WINDOW_KEYS, "channel", "basis"], value_vars=list(sums), var_name="col")
    out["family"] = family
    return out


class _Lookup:
    """Vectorised access to window sums: ``get(family, channel, basis, col)`` aligned with ``plan``."""

    def __init__(self, long: pd.DataFrame, plan: pd.DataFrame):
        self.s = long.set_index(["family", *WINDOW_KEYS, "channel", "basis", "col"])["value"].astype(
            "float64"
        )
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


def gather(
    wh,
    rm: ir.Table,
    rep: pd.DataFrame,
    plan: pd.DataFrame,
    inp: Inputs | None,
    seller_ids,
    *,
    check_timezone: bool,
) -> pd.DataFrame:
    """Run the queries for the computable rows of ``plan`` and align every number with it.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    rm : ibis.Table
        The reported rows (:func:`cxops.reconcile.windows.reported_table`).
    rep : pandas.DataFrame
        The same rows, executed (``window_from``, ``window_to`` as dates).
    plan : pandas.DataFrame
        :func:`cxops.reconcile.windows.plan` of those rows.
    inp : Inputs or None
    check_timezone : bool
        Also sum the facts by UTC day.

    Returns
    -------
    pandas.DataFrame
        ``plan`` plus, per row: ``computed_numerator, computed_denominator, computed_rate``; the other
        channels' sums ``alt_num_<ch>, alt_den_<ch>``, orders per channel ``orders_<ch>``; the UTC-day
        sums ``utc_num, utc_den``; the ODR components ``cmp_neg, cmp_az, cmp_cb`` and the report's own
        (``sib_neg, sib_az, sib_cb``); the ODR evidence (:func:`odr_evidence_query`); the seller's raw
        orders ``first_day, last_day, n_orders``; the feedback source ``fb_max_rating, fb_first,
        fb_last, fb_n``; ``has_claims, has_feedback``; the marketplace's ``zone``.
    """
    comp = plan[plan.computable]
    long_parts: list[pd.DataFrame] = []
    diag = pd.DataFrame()
    coverage = pd.DataFrame(columns=["seller_id", "marketplace_id", "first_day", "last_day", "n_orders"])
    fb_info = pd.DataFrame(columns=["seller_id", "fb_max_rating", "fb_first", "fb_last", "fb_n"])
    if inp is not None and not comp.empty:
        bounds = (min(comp.window_from), max(comp.window_to))
        inp_utc = utc_day_inputs(inp) if check_timezone else None
        wanted = {f: sorted(set(comp.metric[comp.family == f])) for f in set(comp.family)}
        wanted["orders"] = sorted(set(comp.metric))  # order counts of every window (channel, coverage)
        for fam_name, names in sorted(wanted.items()):
            w = rm.filter(rm.metric.isin(names)).select(*WINDOW_KEYS).distinct()
            if fam_name == MESSAGES:
                df = wh.execute(response_window_sums(inp, w).mutate(basis=ibis.literal("local")))
                long_parts.append(_long(df, MESSAGES, RESPONSE_SUMS))
                continue
            fam = FAMILY_BY_NAME[fam_name]
            df = wh.execute(family_query(inp, inp_utc, fam, w, bounds, seller_ids))
            long_parts.append(_long(df, fam_name, fam.sums))
        odr_names = sorted(set(comp.metric[comp.family == "order_defects"]))
        if odr_names:
            w = report_instants(rm)
            w = w.filter(w.metric.isin(odr_names)).group_by(WINDOW_KEYS).aggregate(reported_at=w._at.max())
            diag = wh.execute(odr_evidence_query(inp, w))
        coverage = wh.execute(coverage_query(inp, seller_ids))
        for c in ("first_day", "last_day"):
            coverage[c] = _as_date(coverage[c])
        if "feedback" in inp.tables:
            fb_info = wh.execute(feedback_source_query(inp, seller_ids))
    long = pd.concat(long_parts, ignore_index=True) if long_parts else _long(pd.DataFrame(), "", [])
    return _context(rep, plan, long, diag, coverage, fb_info, inp)


def _context(rep, plan, long, diag, coverage, fb_info, inp) -> pd.DataFrame:
    """Per reported row, every number the verdict and the cause rules use (see :func:`gather`)."""
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
    has_utc = has & (fam != MESSAGES) & (long["basis"] == "utc").any()
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
        sib = rep[comp_metric == metric].set_index([*WINDOW_KEYS, "channel"])["numerator"]
        sib = sib[~sib.index.duplicated()]
        idx = pd.MultiIndex.from_frame(plan[[*WINDOW_KEYS, "channel"]])
        ctx[f"sib_{name}"] = sib.reindex(idx).to_numpy()
    _odr_context(ctx, plan, diag, odr, fill0)
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


def _odr_context(ctx, plan, diag, odr, fill0) -> None:
    """The ODR evidence of each row's window and channel (summed over channels for ``all``)."""
    if diag.empty:
        for c in ODR_EVIDENCE:
            ctx[c] = 0.0 if c in _ODR_SUMMED else pd.NaT
        return
    diag = diag.copy()
    for c in ("window_from", "window_to"):
        diag[c] = _as_date(diag[c])
    tot = diag.groupby(WINDOW_KEYS, as_index=False).agg(
        **{c: (c, "sum") for c in _ODR_SUMMED},
        removed_last=("removed_last", "max"),
        defects_after_first=("defects_after_first", "min"),
    )
    tot["channel"] = ALL
    diag = pd.concat([diag, tot], ignore_index=True).set_index([*WINDOW_KEYS, "channel"])
    diag = diag[~diag.index.duplicated()]
    idx = pd.MultiIndex.from_arrays(
        [plan.seller_id, plan.marketplace_id, plan.window_from, plan.window_to, plan.used_channel.fillna("")]
    )
    d = diag.reindex(idx)
    for c in ODR_EVIDENCE:
        ctx[c] = d[c].to_numpy()
    for c in _ODR_SUMMED:
        ctx[c] = fill0(ctx[c].astype("float64"), odr)
