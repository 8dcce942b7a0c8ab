"""Root cause of a defect-driven metric: a seller's defects broken down by SKU, category, carrier,
weekday and fulfilment channel, as a Pareto; and the performance log (every record of each window).

The records are those of :func:`cxops.metrics.defects.population` — the records the metric engine sums
for the rate, with the defects ``explain`` lists — so every count here agrees with the engine. One
query computes, for each (target window, dimension, group):

- ``defects`` / ``records``: the group's defective records and all its records in the window;
- ``share``: ``defects / total_defects`` (a fraction), the group's part of the seller's defects;
- ``defect_rate_without``: ``(total_defects - defects) / (total_records - records)``, the defect rate
  with every record of the group left out of both numerator and denominator (null when nothing is
  left);
- ``rank`` (1 = most defects; ties: fewer records first, then the group's name), and the cumulative
  ``cum_defects`` / ``cum_records`` / ``cum_share`` / ``defect_rate_without_top`` of the groups ranked
  1..``rank`` together (a record in several of them counts once).

Groups are memberships: an order holding two SKUs (or shipped by two carriers) is a record of both
groups, so shares of one dimension can add up to more than 1 while the cumulative share never does. A
record with no value (an order not shipped has no carrier) is in the group ``null``. Dimensions:

``sku``, ``category``
    ``order_items``: ``sku`` (the line's ``product_id`` where the source gives no SKU, as Olist),
    ``category`` (the line's, else the order's ``orders.category``).
``carrier``
    ``shipments.carrier``: the record's own shipment for shipment-level metrics (valid tracking,
    on-time delivery), every shipment of the order for order-level ones.
``weekday``
    the marketplace-local weekday the order was placed (``monday`` … ``sunday``).
``channel``
    the fulfilment channel (``mfn`` / ``afn``); only for metrics judged over both channels.

A ship-from region is not part of the canonical contract (v1), so it is never a dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxops.metrics.catalog import ALL, CATALOG, DEFECT_METRICS
from cxops.metrics.compute import _measured, _set_present, load_inputs, universe
from cxops.metrics.defects import population
from cxops.metrics.options import MetricOptions
from cxops.metrics.records import KEY, Inputs, utc_window

#: Every dimension a defect can be broken down by, in display order.
DIMENSIONS: tuple[str, ...] = ("sku", "category", "carrier", "weekday", "channel")
#: Dimensions the seller asked for that the canonical data cannot hold (name → why), shown as notes.
UNAVAILABLE: dict[str, str] = {"ship_from_region": "the canonical contract has no ship-from location"}

#: Columns of :func:`pareto_frame`.
PARETO_COLUMNS = [
    "target",
    "dimension",
    "group",
    "rank",
    "groups",
    "defects",
    "records",
    "share",
    "defect_rate_without",
    "cum_defects",
    "cum_records",
    "cum_share",
    "defect_rate_without_top",
    "total_defects",
    "total_records",
]

#: Columns of the performance log (:func:`performance_log`), documented in the README.
LOG_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "metric",
    "window_days",
    "window_start",
    "window_end",
    "channel",
    "order_id",
    "record_id",
    "anchor_date",
    "order_date",
    "is_defect",
    "reason",
    "drops_out_on",
]


@dataclass(frozen=True)
class Target:
    """One metric window of one seller to break down: the rate's records on ``channel`` in the
    ``window_days``-day window ending on ``as_of`` (marketplace-local days, inclusive)."""

    seller_id: str
    marketplace_id: str
    metric: str
    window_days: int
    channel: str
    as_of: date

    @property
    def first_day(self) -> date:
        """The window's first local day."""
        return self.as_of - timedelta(days=self.window_days - 1)


def seller_inputs(inp: Inputs, seller_id: str) -> Inputs:
    """``inp`` reading only the rows of ``seller_id`` (every table with a seller column)."""
    tables = {
        name: (t.filter(t.seller_id == seller_id) if "seller_id" in t.columns else t)
        for name, t in inp.tables.items()
    }
    return replace(inp, tables=tables, _cache={})


def window_records(inp: Inputs, t: Target) -> ir.Table:
    """The records of ``t``'s rate in its window: :func:`cxops.metrics.defects.population` columns.

    Raises
    ------
    KeyError
        For a metric that is not a rate of defective records.
    """
    r = population(inp.with_window(utc_window(t.first_day, t.as_of)).seen_on(t.as_of), t.metric)
    cond = (r.seller_id == t.seller_id) & (r.marketplace_id == t.marketplace_id)
    cond = cond & (r.day >= t.first_day) & (r.day <= ibis.literal(t.as_of))
    if t.channel != ALL:
        cond = cond & (r.channel == t.channel)
    return r.filter(cond)


def dimensions(inp: Inputs, target: Target) -> tuple[str, ...]:
    """The dimensions the data holds for ``target`` (see the module docstring)."""
    out = []
    for d in DIMENSIONS:
        if d == "sku" and not (inp.has("order_items", "sku") or inp.has("order_items", "product_id")):
            continue
        if d == "category" and not (inp.has("order_items", "category") or inp.has("orders", "category")):
            continue
        if d == "carrier" and not inp.has("shipments", "carrier"):
            continue
        if d == "channel" and target.channel != ALL:
            continue
        out.append(d)
    return tuple(out)


def _order_day(inp: Inputs, seller_id: str) -> ir.Table:
    o = inp.tables["orders"]
    o = o.filter(o.seller_id == seller_id)
    return o.select(*KEY, order_date=inp.local(o.purchased_at, o.marketplace_id))


def _values(inp: Inputs, r: ir.Table, dimension: str, shipment_level: bool, seller_id: str) -> ir.Table:
    """``r`` with ``value``: the record's groups of ``dimension`` (one row per group, null: none)."""
    if dimension == "channel":
        return r.mutate(value=r.channel)
    if dimension == "weekday":
        o = _order_day(inp, seller_id)
        j = r.left_join(o, KEY).select(r, "order_date")
        return j.mutate(value=j.order_date.day_of_week.full_name().lower()).drop("order_date")
    if dimension == "carrier":
        s = inp.tables["shipments"]
        s = s.filter((s.seller_id == seller_id) & s.carrier.notnull())
        if shipment_level:
            s = s.select(*KEY, record_id=s.shipment_id.cast("string"), value=s.carrier).distinct()
            return r.left_join(s, [*KEY, "record_id"]).select(r, "value")
        s = s.select(*KEY, value=s.carrier).distinct()
        return r.left_join(s, KEY).select(r, "value")
    # sku, category: the order's lines
    if dimension == "category" and not inp.has("order_items", "category"):
        o = inp.tables["orders"]
        o = o.filter(o.seller_id == seller_id).select(*KEY, value=o.category)
        return r.left_join(o, KEY).select(r, "value")
    it = inp.tables["order_items"]
    it = it.filter(it.seller_id == seller_id)
    col = it[dimension]
    if dimension == "sku" and inp.has("order_items", "product_id"):  # a source without SKUs: the product
        col = it.product_id if not inp.has("order_items", "sku") else it.sku.fill_null(it.product_id)
    if dimension == "category" and inp.has("orders", "category"):
        o = inp.tables["orders"].select(*KEY, _ocat="category")
        it = it.left_join(o, KEY).select(it, "_ocat")
        col = it.category.fill_null(it._ocat)
    it = it.select(*KEY, value=col)
    it = it.filter(it.value.notnull()).distinct()
    return r.left_join(it, KEY).select(r, "value")


#: Join keys of groups (a null never equals itself in a join): ``"="`` + the value, or this for none.
_NONE = "-"


def memberships(inp: Inputs, targets: list[Target]) -> tuple[ir.Table, ir.Table] | None:
    """``(records, members)`` of every target: the window records with a ``target`` number, and one row
    per (target, dimension, record, group) — ``target, dimension, order_id, record_id, is_defect, gkey``
    (``gkey``: ``"="`` + the group, :data:`_NONE` for none). ``None`` when there is no target."""
    recs, members = [], []
    for i, t in enumerate(targets):
        r = window_records(inp, t).mutate(target=ibis.literal(i, type="int64"))
        r = r.select("target", "seller_id", "marketplace_id", "channel", "order_id", "record_id", "is_defect")
        recs.append(r)
        shipment_level = CATALOG[t.metric].defect_rows.record_id == "shipment_id"
        for d in dimensions(inp, t):
            v = _values(inp, r, d, shipment_level, t.seller_id)
            members.append(
                v.select(
                    "target", "order_id", "record_id", "is_defect",
                    dimension=ibis.literal(d),
                    gkey=(ibis.literal("=") + v.value.cast("string")).fill_null(_NONE),
                ).distinct()
            )  # fmt: skip
    if not recs:
        return None
    records = ibis.union(*recs)
    if not members:
        return records, None
    return records, ibis.union(*members)


def pareto_expr(records: ir.Table, members: ir.Table) -> ir.Table:
    """The Pareto of every (target, dimension): one row per group, :data:`PARETO_COLUMNS` (see the
    module docstring), in one query."""
    part = ["target", "dimension"]
    tot = records.group_by("target").aggregate(
        total_records=records.count().cast("int64"), total_defects=records.is_defect.sum().cast("int64")
    )
    g = members.group_by([*part, "gkey"]).aggregate(
        records=members.count().cast("int64"), defects=members.is_defect.sum().cast("int64")
    )
    order = [g.defects.desc(), g.records.asc(), g.gkey.asc()]
    g = g.mutate(
        rank=(ibis.row_number().over(group_by=part, order_by=order) + 1).cast("int64"),
        groups=g.count().over(group_by=part).cast("int64"),
    )
    # cumulative over ranks 1..k: each record counts at the best rank of its groups
    ranks = g.select(*part, "gkey", "rank")
    mr = members.inner_join(ranks, [*part, "gkey"])
    first = mr.group_by([*part, "order_id", "record_id"]).aggregate(
        first=mr["rank"].min(), is_defect=mr.is_defect.max()
    )
    c = first.group_by([*part, "first"]).aggregate(
        new_records=first.count().cast("int64"), new_defects=first.is_defect.sum().cast("int64")
    )
    g = g.left_join(c, [g.target == c.target, g.dimension == c.dimension, g["rank"] == c["first"]])
    g = g.select(
        "target", "dimension", "gkey", "rank", "groups", "records", "defects",
        new_records=g.new_records.fill_null(0), new_defects=g.new_defects.fill_null(0),
    )  # fmt: skip
    w = ibis.window(group_by=part, order_by=g["rank"], preceding=None, following=0)
    g = g.mutate(cum_records=g.new_records.sum().over(w), cum_defects=g.new_defects.sum().over(w))
    g = g.inner_join(tot, "target")

    def rate(d, n):
        return (n > 0).ifelse(d.cast("float64") / n.nullif(0).cast("float64"), ibis.null("float64"))

    share = rate(g.defects, g.total_defects)
    return g.select(
        "target",
        "dimension",
        group=(g.gkey == _NONE).ifelse(ibis.null("string"), g.gkey.substr(1)),
        rank=g["rank"],
        groups=g.groups,
        defects=g.defects,
        records=g.records,
        share=share,
        defect_rate_without=rate(g.total_defects - g.defects, g.total_records - g.records),
        cum_defects=g.cum_defects.cast("int64"),
        cum_records=g.cum_records.cast("int64"),
        cum_share=rate(g.cum_defects, g.total_defects),
        defect_rate_without_top=rate(g.total_defects - g.cum_defects, g.total_records - g.cum_records),
        total_defects=g.total_defects,
        total_records=g.total_records,
    )


def totals_expr(records: ir.Table) -> ir.Table:
    """Per target: ``total_records`` (the rate's denominator) and ``total_defects``."""
    return records.group_by("target").aggregate(
        total_records=records.count().cast("int64"), total_defects=records.is_defect.sum().cast("int64")
    )


def pareto_frame(
    wh, inp: Inputs, targets: list[Target], *, offset: int = 0, limit: int | None = None, keep_top: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pareto, totals)`` of ``targets`` as frames (one query each).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    inp : Inputs
        Preferably :func:`seller_inputs` of the targets' seller.
    targets : list of Target
    offset, limit : int
        A page of groups per (target, dimension): ranks ``offset + 1 .. offset + limit`` (``limit``
        None: all).
    keep_top : int
        Ranks ``1 .. keep_top`` are returned whatever the page (the sentences read them).

    Returns
    -------
    (DataFrame, DataFrame)
        :data:`PARETO_COLUMNS` sorted by target, dimension, rank; and ``target, total_records,
        total_defects`` (a target without records is absent).
    """
    m = memberships(inp, targets)
    if m is None:
        return pd.DataFrame(columns=PARETO_COLUMNS), pd.DataFrame(columns=["target"])
    records, members = m
    totals = wh.execute(totals_expr(records))
    if members is None:
        return pd.DataFrame(columns=PARETO_COLUMNS), totals
    p = pareto_expr(records, members)
    if limit is not None or offset:
        hi = offset + limit if limit is not None else None
        page = p["rank"] > offset
        if hi is not None:
            page = page & (p["rank"] <= hi)
        p = p.filter(page | (p["rank"] <= keep_top))
    df = wh.execute(p)
    df = df.sort_values(["target", "dimension", "rank"], kind="stable")
    df["dimension"] = pd.Categorical(df["dimension"], DIMENSIONS, ordered=True)
    df = df.sort_values(["target", "dimension", "rank"], kind="stable").reset_index(drop=True)
    df["dimension"] = df["dimension"].astype(str)
    return df[PARETO_COLUMNS], totals


def log_expr(inp: Inputs, seller_id: str, as_of: date) -> ir.Table | None:
    """Every record of each window of each measured defect-driven metric of ``seller_id`` as of
    ``as_of``: :data:`LOG_COLUMNS`. ``None`` when none is measured."""
    reasons = _measured(inp)
    parts = []
    order_day = _order_day(inp, seller_id)
    for metric in DEFECT_METRICS:
        if reasons.get(metric) is not None:
            continue
        for w in CATALOG[metric].windows:
            lo = as_of - timedelta(days=w - 1)
            r = population(inp.with_window(utc_window(lo, as_of)).seen_on(as_of), metric)
            r = r.filter((r.seller_id == seller_id) & (r.day >= lo) & (r.day <= ibis.literal(as_of)))
            r = r.left_join(order_day, KEY).select(r, "order_date")
            parts.append(
                r.select(
                    "seller_id",
                    "marketplace_id",
                    metric=ibis.literal(metric),
                    window_days=ibis.literal(w, type="int64"),
                    window_start=ibis.literal(lo),
                    window_end=ibis.literal(as_of),
                    channel=r.channel,
                    order_id=r.order_id,
                    record_id=r.record_id,
                    anchor_date=r.day.cast("date"),
                    order_date=r.order_date.cast("date"),
                    is_defect=r.is_defect == 1,
                    reason=r.kind,
                    drops_out_on=(r.day + ibis.interval(days=w)).cast("date"),
                )
            )
    return ibis.union(*parts) if parts else None


def performance_log(
    wh, seller_id: str, as_of: date, options: MetricOptions | None = None, marketplace_id: str | None = None
) -> pd.DataFrame:
    """The seller's performance log as of ``as_of``: every record (order or shipment) in each window of
    each measured defect-driven metric, defective or not, with its flag and reason.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    seller_id : str
    as_of : datetime.date
        The windows' last marketplace-local day.
    options : MetricOptions, optional
        The policy's metric options (the same records as the engine's rates).
    marketplace_id : str, optional
        Only this marketplace.

    Returns
    -------
    pandas.DataFrame
        :data:`LOG_COLUMNS`, sorted by marketplace, metric, window, anchor day, order and record.
        ``is_defect`` (bool) and ``reason`` (the defect kinds, e.g. ``negative_feedback
        a_to_z_claim``; empty when not defective) are those ``explain`` lists; ``anchor_date`` is the
        local day that places the record in the window (order date, ship-by date, …), ``order_date``
        the local purchase day, ``drops_out_on`` the first as-of day whose window no longer holds it.
        For each metric and window, the rows with ``is_defect`` are exactly the metric's defective
        records and all the rows of a channel its denominator.
    """
    inp = load_inputs(wh, options)
    try:
        _set_present(wh, inp, universe(inp, [seller_id]))
        expr = log_expr(seller_inputs(inp, seller_id), seller_id, as_of)
    finally:
        if inp.sources is not None:
            inp.sources.present = None
    if expr is None:
        return pd.DataFrame(columns=LOG_COLUMNS)
    if marketplace_id is not None:
        expr = expr.filter(expr.marketplace_id == marketplace_id)
    df = wh.execute(expr)
    if df.empty:
        return pd.DataFrame(columns=LOG_COLUMNS)
    for c in ("window_start", "window_end", "anchor_date", "order_date", "drops_out_on"):
        df[c] = pd.to_datetime(df[c]).dt.date
    df["reason"] = df["reason"].fillna("")
    df["is_defect"] = df["is_defect"].astype(bool)
    df["window_days"] = df["window_days"].astype("int64")
    keys = ["marketplace_id", "metric", "window_days", "anchor_date", "order_id", "record_id"]
    df["_m"] = df["metric"].map({m: i for i, m in enumerate(DEFECT_METRICS)})
    df = df.sort_values(["marketplace_id", "_m", *keys[2:]], kind="stable").drop(columns="_m")
    return df[LOG_COLUMNS].reset_index(drop=True)
