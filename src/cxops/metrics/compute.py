"""Compute the metric catalog as of a date, or as a daily series, for every seller and marketplace.

Strategy (``DESIGN.md``, "Computation strategy"): each family's records aggregate once to seller-day
facts; an as-of value is the sum of the facts over the window's days; a daily series densifies the
facts over a calendar and takes trailing ``ROWS`` window sums. All logic is Ibis; nothing loops over
sellers or days in Python.

Each family's records are first cut on the raw UTC instant their day comes from, to the days its
windows can reach (:func:`cxops.metrics.records.utc_window`: one day of slack on each side covers
every UTC offset), so the engine reads only those rows from the scans; the exact local-day windows
are applied afterwards. Seller start days (:func:`universe`) always come from the whole history.

Output columns (long format, one row per seller, marketplace, channel, metric, window, as-of day):
``seller_id, marketplace_id, channel, metric, window_days, as_of, window_start, window_end,
numerator, denominator, value, status, note`` — see ``docs/interfaces.md``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.canonical.schema import TABLES
from cxops.days import date_objects
from cxops.metrics import records
from cxops.metrics.catalog import ALL, CATALOG, MetricDef, family_metrics
from cxops.metrics.deadlines import effective_orders, has_deadline_tables, provide_ship_by
from cxops.metrics.families import FAMILIES, Family, Output, unmeasured
from cxops.metrics.options import MetricOptions
from cxops.metrics.provenance import seller_sources
from cxops.metrics.records import Inputs, utc_window
from cxops.metrics.responses import MESSAGES, RESPONSE_WINDOWS, median_column, response_sums

OUTPUT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "channel",
    "metric",
    "window_days",
    "as_of",
    "window_start",
    "window_end",
    "numerator",
    "denominator",
    "value",
    "status",
    "note",
    "coverage",
]
KEYS = ["seller_id", "marketplace_id", "channel"]
#: The engine types of :data:`OUTPUT_COLUMNS`.
OUTPUT_TYPES = {
    **dict.fromkeys(["seller_id", "marketplace_id", "channel", "metric", "status", "note"], "string"),
    "window_days": "int64",
    **dict.fromkeys(["as_of", "window_start", "window_end"], "date"),
    **dict.fromkeys(["numerator", "denominator", "value", "coverage"], "float64"),
}


def load_inputs(wh, options: MetricOptions | None = None) -> Inputs:
    """Collect the canonical tables present in warehouse ``wh`` with their provenance and time zones.

    The provenance is per source and seller (:mod:`cxops.metrics.provenance`): when the sources
    cover different sellers, ``Inputs.sources`` decides per seller what is measured.

    Raises
    ------
    KeyError
        If ``orders`` has not been imported.
    """
    if not wh.has_table("orders"):
        raise KeyError(f"no orders in the warehouse {wh.url}: import data first (cxops import …)")
    present = set(wh.con.list_tables())
    tables = {t: wh.table(t) for t in TABLES if t in present}
    provided = {t: cols for t in tables if (cols := wh.provided_columns(t))}
    prov = wh.provenance() if hasattr(wh, "provenance") else None
    sources = None
    if prov is not None:
        sources = seller_sources(prov.columns, prov.coverage, prov.covered, wh.execute)
    if has_deadline_tables(tables):  # corrected and derived ship-by deadlines (absent: orders as stored)
        tables["orders"] = effective_orders(tables)
        if "ship_by_derived" in tables:
            provided, sources = provide_ship_by(provided, sources)
    # Only the marketplaces in the data: keeps the local-time expressions small.
    used = set(wh.execute(tables["orders"].select("marketplace_id").distinct())["marketplace_id"])
    for t in ("sellers", "violations", "buyer_messages"):
        if t in tables:
            used |= set(wh.execute(tables[t].select("marketplace_id").distinct())["marketplace_id"].dropna())
    zones = marketplace_zones(wh, used, tables.get("marketplaces"))
    return Inputs(
        tables=tables,
        provided=provided,
        zones=zones,
        options=options or MetricOptions(),
        span=_span(wh, tables),
        sources=sources,
    )


def marketplace_zones(wh, used, marketplaces: ir.Table | None = None) -> dict[str, str]:
    """IANA time zone of each marketplace in ``used``: the ``marketplaces`` table's, else the built-in.

    Raises
    ------
    KeyError
        If a marketplace has no time zone.
    """
    zones = {mp: v[0] for mp, v in BUILTIN_MARKETPLACES.items()}
    if marketplaces is None and wh.has_table("marketplaces"):
        marketplaces = wh.table("marketplaces")
    if marketplaces is not None:
        mps = wh.execute(marketplaces.select("marketplace_id", "timezone"))
        zones.update(dict(zip(mps.marketplace_id, mps.timezone, strict=False)))
    unknown = sorted(set(used) - set(zones))
    if unknown:
        raise KeyError(f"marketplace(s) {', '.join(unknown)} have no time zone: import a marketplaces table")
    return {mp: tz for mp, tz in zones.items() if mp in used}


def _span(wh, tables) -> tuple[datetime, datetime] | None:
    """First and last instant of every timestamp column, for exact, small local-time trees."""
    lo, hi = [], []
    for t in tables.values():
        cols = [c for c, typ in t.schema().items() if typ.is_timestamp()]
        if not cols:
            continue
        row = wh.execute(
            t.aggregate(**{f"lo_{c}": t[c].min() for c in cols}, **{f"hi_{c}": t[c].max() for c in cols})
        )
        vals = row.iloc[0]
        lo += [v for k, v in vals.items() if k.startswith("lo_") and pd.notna(v)]
        hi += [v for k, v in vals.items() if k.startswith("hi_") and pd.notna(v)]
    if not lo:
        return None
    return (pd.Timestamp(min(lo)).to_pydatetime(), pd.Timestamp(max(hi)).to_pydatetime())


def _filter_sellers(t: ir.Table, seller_ids) -> ir.Table:
    if seller_ids is None:
        return t
    return t.filter(t.seller_id.isin(list(seller_ids)))


def universe(inp: Inputs, seller_ids=None) -> ir.Table:
    """Sellers and their start day (see :func:`_universe`), optionally restricted to ``seller_ids``.

    Always from the whole history: a UTC window of ``inp`` is ignored (a seller's first order may be
    long before any window).
    """
    inp = inp.with_window(None)
    return _filter_sellers(inp.cached("universe", _universe), seller_ids)


def _windowed(inp: Inputs, first_day: date, last_day: date) -> Inputs:
    """``inp`` reading only the records whose local day can be in ``[first_day, last_day]``.

    The UTC window is :func:`cxops.metrics.records.utc_window` of those days. Not applied when
    ``inp.reuse`` is on: facts are then materialised once, complete, and shared by every query.

    Parameters
    ----------
    first_day, last_day : datetime.date
        Marketplace-local days (inclusive) that the caller's windows cover.
    """
    if inp.reuse:
        return inp.with_window(None)
    return inp.with_window(utc_window(first_day, last_day))


def _universe(inp: Inputs) -> ir.Table:
    """Every (seller_id, marketplace_id) with ``start_day``: registered local date, else first order.

    When the first order precedes the recorded registration (a source inconsistency), the first order's
    day is the start: a seller's metrics never vanish before their registration date.
    """
    o = records.orders(inp)
    first = o.group_by(["seller_id", "marketplace_id"]).aggregate(first_day=o.day.min())
    keys = first.select("seller_id", "marketplace_id")
    if "sellers" in inp.tables:
        s = inp.tables["sellers"]
        reg = s.select("seller_id", "marketplace_id", reg_day=inp.local(s.registered_at, s.marketplace_id))
        keys = keys.union(reg.select("seller_id", "marketplace_id"), distinct=True)
        u = keys.left_join(reg, ["seller_id", "marketplace_id"]).select(keys, "reg_day")
        u = u.left_join(first, ["seller_id", "marketplace_id"]).select(u, "first_day")
        # registered, else first order; a first order before the recorded registration wins
        start = ibis.least(u.reg_day, u.first_day).fill_null(u.reg_day).fill_null(u.first_day)
    else:
        u = first.mutate(reg_day=ibis.null("date"))
        start = u.first_day
    return u.select("seller_id", "marketplace_id", start_day=start)


def _channels(channels) -> ir.Table:
    return ibis.memtable(pd.DataFrame({"channel": list(channels)}))


def _cov(column: str) -> str:
    """Name of a coverage sum over the look-back days (beside the window sums)."""
    return f"_cov_{column}"


def _coverage_columns(fam: Family) -> list[str]:
    return sorted({c for o in fam.outputs if o.coverage for c in o.coverage})


def coverage_days(inp: Inputs, window: int) -> int:
    """Look-back days of the coverage of a ``window``-day window: the policy's, at most the window."""
    return min(inp.options.provisional_lookback_days, window)


def _long(t: ir.Table, out: Output, window: int, kind_value: str, level: float = 0.95) -> ir.Table:
    num = t[out.numerator].cast("float64") if out.numerator else ibis.null("float64")
    den = t[out.denominator].cast("float64") if out.denominator else ibis.null("float64")
    coverage = ibis.null("float64")
    ok = ibis.literal("ok")
    if out.coverage is not None:
        recorded, expected = (t[_cov(c)].cast("float64") for c in out.coverage)
        coverage = (expected > 0).ifelse(recorded / expected, ibis.null("float64"))
        ok = (coverage < level).fill_null(False).ifelse(ibis.literal("provisional"), ok)
    if kind_value == "numerator":
        value = num
        status = ok
    else:
        value = (den > 0).ifelse(num / den, ibis.null("float64"))
        status = (den > 0).ifelse(ok, ibis.literal("no_data"))
    return t.select(
        "seller_id",
        "marketplace_id",
        "channel",
        metric=ibis.literal(out.metric),
        window_days=ibis.literal(window, type="int64"),
        as_of=t.as_of,
        window_start=t.as_of - ibis.interval(days=window - 1),
        window_end=t.as_of,
        numerator=num,
        denominator=den,
        value=value,
        status=status,
        note=ibis.null("string"),
        coverage=coverage,
    )


def _dates(days: list[date]) -> ir.Table:
    return ibis.memtable(pd.DataFrame({"as_of": sorted(set(days))}))


def _window_days(days: list[date], window: int) -> ir.Table:
    """``(as_of, day)`` for every day of the ``window``-day window ending on each as-of day: records join
    it on their day (an equality join, where a range condition would compare every record with every
    as-of day)."""
    rows = [(d, d - timedelta(days=k)) for d in sorted(set(days)) for k in range(window)]
    return ibis.memtable(
        pd.DataFrame(rows, columns=["as_of", "day"]), schema={"as_of": "date", "day": "date"}
    )


def _family_as_of(
    inp: Inputs, fam: Family, days: list[date], base: ir.Table, reasons, wanted: set | None = None
) -> list[ir.Table]:
    """The family's metrics as of ``days`` (long rows); only the ``(metric, window, channel)`` in
    ``wanted`` when given, and nothing of the windows none of them reads."""

    def channels(metric: str, w: int) -> list[str]:
        return [c for c in fam.channels if wanted is None or (metric, w, c) in wanted]

    by_window = {
        w: [
            o
            for o in fam.outputs
            if (o.windows is None or w in o.windows) and reasons[o.metric] is None and channels(o.metric, w)
        ]
        for w in fam.windows
    }
    if not any(by_window.values()):
        return []
    facts = _versioned_facts(inp, fam)
    out = []
    grid = base.cross_join(_channels(fam.channels))
    for w, outputs in by_window.items():
        if not outputs:
            continue
        f = facts.filter((facts.day >= min(days) - timedelta(days=w - 1)) & (facts.day <= max(days)))
        f = records.visible(f.inner_join(_window_days(days, w), "day"), "as_of")
        sums = f.group_by([*KEYS, "as_of"]).aggregate(**{c: f[c].sum() for c in fam.sums})
        j = grid.left_join(sums, [*KEYS, "as_of"]).select(grid, *fam.sums)
        j = j.mutate(**{c: j[c].fill_null(0) for c in fam.sums})
        cov = _coverage_columns(fam)
        if cov:  # the same facts summed over the window's last look-back days
            lb = coverage_days(inp, w)
            c = facts.filter((facts.day >= min(days) - timedelta(days=lb - 1)) & (facts.day <= max(days)))
            c = records.visible(c.inner_join(_window_days(days, lb), "day"), "as_of")
            csums = c.group_by([*KEYS, "as_of"]).aggregate(**{_cov(x): c[x].sum() for x in cov})
            j = j.left_join(csums, [*KEYS, "as_of"]).select(j, *[_cov(x) for x in cov])
            j = j.mutate(**{_cov(x): j[_cov(x)].fill_null(0) for x in cov})
        level = inp.options.provisional_min_coverage
        for o in outputs:
            rows = _long(j, o, w, o.value, level)
            keep = channels(o.metric, w)
            if len(keep) < len(fam.channels):
                rows = rows.filter(rows.channel.isin(keep))
            out.append(_measured_only(inp, rows, o.metric))
    return out


def _versioned_facts(inp: Inputs, fam: Family) -> ir.Table:
    """The family's facts with their versions over the as-of days (:meth:`Family.facts`), cached."""
    return inp.cached(f"{fam.name}@versions", lambda i: fam.facts(i, versioned=True))


def _measured_only(inp: Inputs, t: ir.Table, metric: str) -> ir.Table:
    """``t`` without the sellers whose sources do not make ``metric`` measurable."""
    if inp.sources is None:
        return t
    return inp.sources.keep(t, _good_profiles(inp, metric))


def _good_profiles(inp: Inputs, metric: str) -> set[int]:
    return {i for i, r in _profile_reasons(inp).items() if r[metric] is None}


def _profile_reasons(inp: Inputs) -> dict[int, dict[str, str | None]]:
    """Per profile of sources: metric -> why it is not measured (``None``: measured)."""
    key = ("profile_reasons", tuple(sorted(inp.tables)))
    if key not in inp._cache:
        inp._cache[key] = {i: _measured_plain(inp.for_profile(p)) for i, p in inp.sources.profiles.items()}
    return inp._cache[key]


def _messages_as_of(
    inp: Inputs, days: list[date], base: ir.Table, as_of_at: datetime | None, window: int
) -> ir.Table:
    m = inp.cached(MESSAGES, records.messages)
    m = m.filter((m.day >= min(days) - timedelta(days=window - 1)) & (m.day <= max(days)))
    m = m.inner_join(_window_days(days, window), "day")
    if as_of_at is None:
        m = m.filter(m.resolved_day <= m.as_of)
        replied = m.responded_day <= m.as_of
    else:
        at = ibis.literal(as_of_at, type="timestamp")
        m = m.filter((m.received_at <= at) & (m.resolved_at <= at))
        replied = m.responded_at <= at
    sums = response_sums(m, ["seller_id", "marketplace_id", "as_of"], replied)
    out = _messages_long(base, sums, ["seller_id", "marketplace_id", "as_of"], window)
    return _measured_only(inp, out, _response_metrics(window)[0].name)


def _response_metrics(window: int) -> list[MetricDef]:
    """The catalog's response-time metrics computed over ``window`` days (catalog order)."""
    return [d for d in family_metrics(MESSAGES) if window in d.windows]


def _messages_long(base: ir.Table, sums: ir.Table, keys: list[str], window: int) -> ir.Table:
    """One row per response-time metric of the catalog (:func:`_response_metrics`) from ``sums``."""
    metrics = _response_metrics(window)
    counts = list(dict.fromkeys(s.name for d in metrics for s in d.sums))
    medians = [median_column(d) for d in metrics if d.aggregation == "median"]
    j = base.left_join(sums, keys).select(base, *counts, *medians)
    j = j.mutate(channel=ibis.literal(ALL), **{c: j[c].fill_null(0).cast("float64") for c in counts})
    parts = []
    for d in metrics:
        den = j[d.denominator.name]
        if d.aggregation == "median":
            num = ibis.null("float64")
            value = (den > 0).ifelse(j[median_column(d)], ibis.null("float64"))
        else:
            num = j[d.numerator.name]
            value = (den > 0).ifelse(num / den, ibis.null("float64"))
        parts.append(
            j.select(
                "seller_id",
                "marketplace_id",
                "channel",
                metric=ibis.literal(d.name),
                window_days=ibis.literal(window, type="int64"),
                as_of=j.as_of,
                window_start=j.as_of - ibis.interval(days=window - 1),
                window_end=j.as_of,
                numerator=num,
                denominator=den,
                value=value,
                status=(den > 0).ifelse(ibis.literal("ok"), ibis.literal("no_data")),
                note=ibis.null("string"),
                coverage=ibis.null("float64"),
            )
        )
    return ibis.union(*parts)


#: Metrics counting the days since the seller's start (aggregation ``elapsed_days``).
ELAPSED = [d.name for d in CATALOG.values() if d.aggregation == "elapsed_days"]


def _elapsed(base: ir.Table, as_of) -> list[ir.Table]:
    """Rows of every ``elapsed_days`` metric (tenure): days from the start day to the as-of day."""
    return [_tenure(base, as_of, name) for name in ELAPSED]


def _tenure(base: ir.Table, as_of, name: str) -> ir.Table:
    days = (as_of.epoch_days() - base.start_day.epoch_days()).cast("float64")
    return base.select(
        "seller_id",
        "marketplace_id",
        channel=ibis.literal(ALL),
        metric=ibis.literal(name),
        window_days=ibis.null("int64"),
        as_of=as_of,
        window_start=base.start_day,
        window_end=as_of,
        numerator=ibis.null("float64"),
        denominator=ibis.null("float64"),
        value=days,
        status=ibis.literal("ok"),
        note=ibis.null("string"),
        coverage=ibis.null("float64"),
    )


def _measured(inp: Inputs) -> dict[str, str | None]:
    """Metric -> why it is not measured (``None``: measured for at least one seller).

    With per-seller provenance (``inp.sources``) a metric counts as measured when the sources of
    some seller being computed make it measurable; the rows of the other sellers are dropped and
    replaced by "not measured" rows with their own reason (:func:`_not_measured_expr`).
    """
    if inp.sources is None:
        return _measured_plain(inp)
    by_profile = _profile_reasons(inp)
    active = [by_profile[i] for i in inp.sources.active()]
    out = {}
    for m in by_profile[next(iter(by_profile))]:
        reasons = [r[m] for r in active]
        out[m] = None if any(r is None for r in reasons) else (reasons[0] if reasons else "no data imported")
    return out


def _measured_plain(inp: Inputs) -> dict[str, str | None]:
    return {name: unmeasured(inp, d.requires) for name, d in CATALOG.items()}


def measurable(provided: dict[str, list[str] | set[str]]) -> dict[str, str | None]:
    """Metric -> why it is not measured from sources providing ``provided`` (``None``: measurable).

    Parameters
    ----------
    provided : dict
        Table -> the contract columns (and markers) provided, e.g. an import's
        :attr:`cxops.ingest.report.ImportReport.provided`.
    """
    inp = Inputs(tables=dict.fromkeys(provided), provided={t: set(c) for t, c in provided.items()}, zones={})
    return _measured_plain(inp)


def measurable_by_source(wh, source: str) -> dict[str, str | None]:
    """What one recorded source makes measurable: its provided columns (all its imports together),
    with the sources that cover every seller (built-in marketplaces, attached tables).

    Returns
    -------
    dict
        Metric -> reason it is not measured from this source, ``None`` when measurable.
    """
    prov = wh.provenance()
    if prov is None:
        return measurable({})
    cols = prov.columns
    mine = cols[(cols["source"] == source) | ~cols["source"].isin(prov.covered)]
    provided: dict[str, set[str]] = {}
    for table, g in mine.groupby("table_name"):
        per = g.groupby("column_name")["source"].nunique()
        provided[table] = set(per[per == g["source"].nunique()].index)
    return measurable(provided)


def _not_measured_expr(
    inp: Inputs, keys: ir.Table, reasons: dict[str, str | None], wanted: set | None = None
) -> ir.Table | None:
    """The "not measured" rows: for every metric a seller's sources do not make measurable (status
    ``not_measured``, the reason as note), for every ``(seller_id, marketplace_id, as_of)`` of ``keys``.

    Without per-seller sources the same ``reasons`` apply to every seller; with them, each seller gets
    the reasons of its profile of sources (:func:`_profile_reasons`, joined on the profile). Only the
    ``(metric, window, channel)`` in ``wanted`` when given. None when every metric is measured for
    every seller.
    """
    if inp.sources is None:
        by_profile = {-1: reasons}
    else:
        active = set(inp.sources.active())
        by_profile = {i: r for i, r in _profile_reasons(inp).items() if i in active}
    rows = [
        {"profile": i, "metric": name, "window_days": w, "channel": ch, "note": why}
        for i, r in by_profile.items()
        for name, why in r.items()
        if why is not None
        for w in CATALOG[name].windows
        for ch in CATALOG[name].channels
        if wanted is None or (name, w, ch) in wanted
    ]
    if not rows:
        return None
    specs = ibis.memtable(
        pd.DataFrame(rows).astype({"profile": "int64", "window_days": "int64"}),
        schema={
            "profile": "int64",
            "metric": "string",
            "window_days": "int64",
            "channel": "string",
            "note": "string",
        },
    )
    if inp.sources is None:
        g = keys.cross_join(specs.drop("profile"))
    else:
        g = inp.sources.profile_of(keys).inner_join(specs, "profile")
    return g.select(
        "seller_id",
        "marketplace_id",
        "channel",
        "metric",
        "window_days",
        as_of=g.as_of,
        window_start=(g.as_of - (g.window_days - 1).as_interval("D")).cast("date"),
        window_end=g.as_of,
        numerator=ibis.null("float64"),
        denominator=ibis.null("float64"),
        value=ibis.null("float64"),
        status=ibis.literal("not_measured"),
        note=g.note,
        coverage=ibis.null("float64"),
    )


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    df = df[OUTPUT_COLUMNS].copy()
    for c in ("as_of", "window_start", "window_end"):
        df[c] = _date_objects(df[c])
    df["window_days"] = df["window_days"].astype("Int64")
    for c in ("numerator", "denominator", "value", "coverage"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    order = {m: i for i, m in enumerate(_metric_order())}
    df["_o"] = df["metric"].map(order)
    df = df.sort_values(["seller_id", "marketplace_id", "_o", "window_days", "channel", "as_of"])
    return df.drop(columns="_o").reset_index(drop=True)


def _date_objects(column: pd.Series) -> pd.Series:
    """A date column as ``datetime.date`` objects (NaT where missing), like ``.dt.date``, one object
    per distinct day (:func:`cxops.days.date_objects`)."""
    days = pd.to_datetime(column).to_numpy("datetime64[D]")
    return pd.Series(date_objects(days, pd.NaT), index=column.index, dtype=object)


def _metric_order() -> list[str]:
    return list(CATALOG)


def compute_metrics(
    wh,
    as_of: date,
    options: MetricOptions | None = None,
    seller_ids=None,
    as_of_at: datetime | None = None,
    inputs: Inputs | None = None,
) -> pd.DataFrame:
    """Every catalog metric for every seller and marketplace as of one day.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    as_of : datetime.date
        The last marketplace-local day of every window (inclusive).
    options : MetricOptions, optional
    seller_ids : iterable of str, optional
        Restrict to these sellers.
    as_of_at : datetime, optional
        A UTC instant (tz-naive) for the response-time metrics' "pending" cut-off (messages whose
        24 h have not passed by then are left out, case C18). Default: the end of the as-of day.
    inputs : Inputs, optional
        Pre-loaded inputs (saves re-reading provenance when called repeatedly).

    Returns
    -------
    pandas.DataFrame
        Columns ``OUTPUT_COLUMNS``; sellers whose start (registration, else first order) is after
        ``as_of`` are left out. Rates are fractions.

    Raises
    ------
    KeyError
        If no orders have been imported.
    """
    return compute_at(wh, [as_of], options, seller_ids, as_of_at, inputs)


def compute_at(
    wh,
    days: list[date],
    options: MetricOptions | None = None,
    seller_ids=None,
    as_of_at: datetime | None = None,
    inputs: Inputs | None = None,
) -> pd.DataFrame:
    """Every catalog metric as of each of ``days`` (for example the monthly evaluation dates).

    Same output as :func:`compute_metrics`, one block per day, computed in one query per family.

    Raises
    ------
    ValueError
        If ``days`` is empty, or ``as_of_at`` is given with several days.
    """
    if not days:
        raise ValueError("no as-of days given")
    if as_of_at is not None and len(set(days)) > 1:
        raise ValueError("as_of_at applies to a single as-of day")
    inp = inputs or load_inputs(wh, options)
    if options is not None:
        inp.options = options
    u = universe(inp, seller_ids)
    try:
        if inp.reuse:  # the universe is materialised already (Inputs.cached)
            return _as_of_rows(wh, inp, days, u, as_of_at)
        # the universe reads the whole order history: computed once, shared by every family's query
        with u.cache() as cu:
            return _as_of_rows(wh, inp, days, cu, as_of_at)
    finally:
        if inp.sources is not None:
            inp.sources.present = None  # set per call only (see _set_present)


def _set_present(wh, inp: Inputs, u: ir.Table) -> None:
    """Record which profiles of sources the sellers of universe ``u`` have (one small query)."""
    if inp.sources is None:
        return
    prof = inp.sources.profile_of(u.select("seller_id", "marketplace_id"))
    inp.sources.present = set(wh.execute(prof.select("profile").distinct())["profile"].astype(int))


def prepare_sources(wh, inp: Inputs, u: ir.Table | None = None) -> None:
    """With per-seller sources (``inp.sources``), record which profiles of sources the sellers about to
    be computed have (those of universe ``u``, default every seller): :func:`as_of_expr`,
    :func:`series_expr` and :func:`cxops.metrics.defects.defects_expr` then decide "not measured" for
    them. One small query; nothing without per-seller sources. Reset ``inp.sources.present = None``
    after."""
    _set_present(wh, inp, universe(inp) if u is None else u)


def _as_of_rows(wh, inp: Inputs, days: list[date], u: ir.Table, as_of_at: datetime | None) -> pd.DataFrame:
    """The rows of :func:`compute_at` for the sellers and start days of ``u`` (see :func:`universe`)."""
    _set_present(wh, inp, u)
    df = wh.execute(as_of_expr(inp, days, u, as_of_at))
    if df.empty:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    return _finish(df)


def as_of_expr(
    inp: Inputs,
    days: list[date],
    u: ir.Table | None = None,
    as_of_at: datetime | None = None,
    metrics: Collection[tuple[str, int | None, str]] | None = None,
) -> ir.Table:
    """Ibis expression of every catalog metric as of each of ``days`` (one query, unsorted).

    The rows of :func:`compute_at` (columns :data:`OUTPUT_COLUMNS`; dates are dates, counts floats),
    left in the engine: a job that keeps its results in the warehouse writes them with
    ``create_table`` or streams them to files, and nothing is fetched.

    Each family reads only the records anchored in the UTC window of its longest window before the
    as-of days (:func:`_windowed`); the as-of filters on local days then keep exactly the records
    they kept on the whole history. With per-seller sources, call :func:`prepare_sources` first.

    Parameters
    ----------
    inp : Inputs
    days : list of date
    u : ibis.Table, optional
        Sellers and start days (:func:`universe`); default all sellers of ``inp``.
    as_of_at : datetime, optional
        See :func:`compute_metrics` (a single day only).
    metrics : collection of (str, int or None, str), optional
        Only these ``(metric, window_days, channel)`` (``window_days`` None for the metrics without a
        window, such as ``tenure_days``); the families and windows no wanted metric reads are not
        computed. Default: every catalog metric in every window and channel.

    Raises
    ------
    KeyError
        If ``metrics`` names a metric not in the catalog.
    """
    u = universe(inp) if u is None else u
    base = u.cross_join(_dates(days))
    base = base.filter(base.start_day <= base.as_of)
    keys = base.select("seller_id", "marketplace_id", "as_of")
    wanted = None if metrics is None else {(m, w, c) for m, w, c in metrics}
    names = set(CATALOG) if wanted is None else {m for m, _, _ in wanted}
    if names - set(CATALOG):
        raise KeyError(f"not catalog metrics: {', '.join(sorted(names - set(CATALOG)))}")
    measured = _measured(inp)
    exprs: list[ir.Table] = []
    first, last = min(days), max(days)
    for fam in FAMILIES:
        # only the records whose day can fall in the family's longest window before an as-of day
        fi = _windowed(inp, first - timedelta(days=max(fam.windows) - 1), last)
        exprs += _family_as_of(fi, fam, days, keys, measured, wanted)
    for w in RESPONSE_WINDOWS:
        here = [d.name for d in _response_metrics(w) if wanted is None or (d.name, w, ALL) in wanted]
        if measured[_response_metrics(w)[0].name] is None and here:
            # messages are anchored on their received day; their resolution may come later (any time)
            mi = _windowed(inp, first - timedelta(days=w - 1), last)
            rows = _messages_as_of(mi, days, keys, as_of_at, w)
            exprs.append(rows if wanted is None else rows.filter(rows.metric.isin(here)))
    exprs += [
        _tenure(base, base.as_of, name) for name in ELAPSED if wanted is None or (name, None, ALL) in wanted
    ]
    missing = _not_measured_expr(inp, keys, measured, wanted)
    if missing is not None:
        exprs.append(missing)
    if not exprs:
        return _no_rows()
    out = ibis.union(*exprs)
    # one type per column whatever each branch computed (date arithmetic, null literals)
    return out.select(*[out[c].cast(OUTPUT_TYPES[c]) for c in OUTPUT_COLUMNS])


def _no_rows() -> ir.Table:
    """An empty table of :data:`OUTPUT_COLUMNS` (nothing wanted is measured)."""
    return ibis.memtable(pd.DataFrame(columns=OUTPUT_COLUMNS), schema=OUTPUT_TYPES)


# -- daily series -----------------------------------------------------------------------------


def _calendar(lo: date, hi: date) -> ir.Table:
    return ibis.memtable(pd.DataFrame({"day": pd.date_range(lo, hi, freq="D").date}))


def _family_series(
    inp: Inputs, fam: Family, start: date, end: date, base: ir.Table, reasons
) -> list[ir.Table]:
    if all(reasons[o.metric] is not None for o in fam.outputs):
        return []
    wmax = max(fam.windows)
    lo = start - timedelta(days=wmax - 1)
    facts = _versioned_facts(inp, fam)
    facts = facts.filter((facts.day >= lo) & (facts.day <= end))
    timed = None
    if "seen_from" in facts.columns:  # the few facts whose value changes on a later day: added per day
        bounded = facts.seen_from.notnull() | facts.seen_to.notnull()
        timed = facts.filter(bounded)
        facts = facts.filter(~bounded).drop("seen_from", "seen_to")
    grid = base.cross_join(_channels(fam.channels)).cross_join(_calendar(lo, end))
    dense = grid.left_join(facts, [*KEYS, "day"]).select(grid, *fam.sums)
    dense = dense.mutate(**{c: dense[c].fill_null(0) for c in fam.sums})
    out = []
    cov = _coverage_columns(fam)
    level = inp.options.provisional_min_coverage
    for w in fam.windows:
        win = ibis.window(group_by=KEYS, order_by="day", preceding=w - 1, following=0)
        sums = {c: dense[c].sum().over(win) for c in fam.sums}
        if cov:  # the same facts summed over the window's last look-back days
            back = ibis.window(
                group_by=KEYS, order_by="day", preceding=coverage_days(inp, w) - 1, following=0
            )
            sums.update({_cov(x): dense[x].sum().over(back) for x in cov})
        s = dense.mutate(**sums)
        s = s.filter((s.day >= start) & (s.day >= s.start_day)).mutate(as_of=s.day)
        if timed is not None:
            s = _add_timed(s, timed, fam, w, coverage_days(inp, w) if cov else None, start, end)
        for o in fam.outputs:
            if (o.windows is None or w in o.windows) and reasons[o.metric] is None:
                out.append(_measured_only(inp, _long(s, o, w, o.value, level), o.metric))
    return out


def _add_timed(s: ir.Table, timed: ir.Table, fam: Family, w: int, lb: int | None, start: date, end: date):
    """``s`` (window sums per as-of day) plus the versioned facts ``timed`` in force on each day.

    A fact on ``day`` counts for the as-of days ``day … day + w - 1`` on which it is in force
    (:func:`cxops.metrics.records.visible`); its coverage sums for the last ``lb`` of them.
    """
    x = timed.cross_join(ibis.memtable(pd.DataFrame({"_k": range(w)})))
    x = x.mutate(as_of=(x.day + x._k.as_interval("D")).cast("date"))
    x = records.visible(x.filter((x.as_of >= start) & (x.as_of <= end)), "as_of")
    aggs = {f"_t_{c}": x[c].sum() for c in fam.sums}
    cov = _coverage_columns(fam) if lb is not None else []
    aggs.update({f"_t_{_cov(c)}": (x._k < lb).ifelse(x[c], 0).sum() for c in cov})
    t = x.group_by([*KEYS, "as_of"]).aggregate(**aggs)
    j = s.left_join(t, [*KEYS, "as_of"]).select(s, *aggs)
    cols = list(fam.sums) + [_cov(c) for c in cov]
    return j.mutate(**{c: j[c] + j[f"_t_{c}"].fill_null(0) for c in cols}).drop(*aggs)


def _messages_series(inp: Inputs, start: date, end: date, base: ir.Table, window: int) -> ir.Table:
    m = inp.cached(MESSAGES, records.messages)
    lo = start - timedelta(days=window - 1)
    m = m.filter((m.day >= lo) & (m.day <= end))
    offsets = ibis.memtable(pd.DataFrame({"k": range(window)}))
    x = m.cross_join(offsets)
    x = x.mutate(as_of=x.day + x.k.as_interval("D"))
    x = x.filter((x.as_of >= start) & (x.as_of <= end) & (x.resolved_day <= x.as_of))
    sums = response_sums(x, ["seller_id", "marketplace_id", "as_of"], x.responded_day <= x.as_of)
    grid = base.cross_join(_calendar(start, end))
    grid = grid.filter(grid.day >= grid.start_day).select("seller_id", "marketplace_id", as_of="day")
    out = _messages_long(grid, sums, ["seller_id", "marketplace_id", "as_of"], window)
    return _measured_only(inp, out, _response_metrics(window)[0].name)


def series_expr(
    inp: Inputs, start: date, end: date, seller_ids=None, metrics: list[str] | None = None
) -> ir.Table:
    """Ibis expression of the daily series ``[start, end]`` (see :func:`compute_series`)."""
    base = universe(inp, seller_ids)
    base = base.filter(base.start_day <= end)
    reasons = _measured(inp)
    want = set(metrics) if metrics else None
    exprs: list[ir.Table] = []
    for fam in FAMILIES:
        if want is not None and not any(o.metric in want for o in fam.outputs):
            continue
        fi = _windowed(inp, start - timedelta(days=max(fam.windows) - 1), end)
        exprs += _family_series(fi, fam, start, end, base, reasons)
    for w in RESPONSE_WINDOWS:
        names = {d.name for d in _response_metrics(w)}
        if reasons[min(names, key=list(CATALOG).index)] is None and (want is None or want & names):
            mi = _windowed(inp, start - timedelta(days=w - 1), end)
            exprs.append(_messages_series(mi, start, end, base, w))
    if want is None or want & set(ELAPSED):
        grid = base.cross_join(_calendar(start, end))
        grid = grid.filter(grid.day >= grid.start_day)
        exprs += _elapsed(grid, grid.day)
    if not exprs:  # none of the metrics asked for is measured: a series is left without them
        return _no_rows()
    u = ibis.union(*exprs)
    if want is not None:
        u = u.filter(u.metric.isin(sorted(want)))
    return u


def compute_series(
    wh,
    start: date,
    end: date,
    options: MetricOptions | None = None,
    seller_ids=None,
    metrics: list[str] | None = None,
    inputs: Inputs | None = None,
) -> pd.DataFrame:
    """The catalog as a daily series: one as-of value per day in ``[start, end]``.

    Same columns and semantics as :func:`compute_metrics` (each day's row equals
    ``compute_metrics(as_of=day)``); metrics that are not measured are left out of a series.

    Raises
    ------
    ValueError
        If ``start > end``.
    """
    if start > end:
        raise ValueError(f"series start {start} is after its end {end}")
    inp = inputs or load_inputs(wh, options)
    if options is not None:
        inp.options = options
    try:
        _set_present(wh, inp, universe(inp, seller_ids))
        df = wh.execute(series_expr(inp, start, end, seller_ids, metrics))
    finally:
        if inp.sources is not None:
            inp.sources.present = None
    if df.empty:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    return _finish(df)
