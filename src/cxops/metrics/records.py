"""Record-level metric populations: one row per order, shipment or message, with its anchor day.

Each function returns an Ibis table with ``seller_id, marketplace_id, channel, day`` (the
marketplace-local anchor date) plus 0/1 flag columns. These are the single definition of each metric:
seller-day facts (:mod:`cxops.metrics.facts`) aggregate them, and ``explain`` lists their defective
rows. Semantics: ``DESIGN.md`` "Metric semantics" and the field cases named below.

With a UTC window (:attr:`Inputs.window`), each function keeps only the records whose anchor
instant is in it (orders ``purchased_at``, ship-by ``latest_ship_at``, promise
``latest_delivery_at``, shipments ``confirmed_at``, feedback ``submitted_at``, messages
``received_at``, violations ``reported_at``); rows joined to them by key are never cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.types as ir

from cxops.metrics.localtime import local_date
from cxops.metrics.options import MetricOptions
from cxops.metrics.provenance import Profile, SellerSources

#: Claim decisions that take a claim out of the order defect rate (Amazon A1, A5, A6).
NOT_COUNTING_DECISIONS = ("denied", "withdrawn", "reversed")
KEY = ["seller_id", "order_id"]


@dataclass
class Inputs:
    """What the metrics read: the canonical tables present, their provided columns, time zones.

    Attributes
    ----------
    tables : dict
        Canonical table name -> Ibis table, only for tables present in the warehouse.
    provided : dict
        Table name -> set of columns every source of it provides (warehouse-wide; a column not
        provided is unknown).
    seen_through : datetime.date, optional
        The marketplace-local day as of which facts that arrive later are read (a buyer's delivery
        confirmation given after it is not seen; see :func:`late_shipments_versions`). Default: every
        fact stored (the final knowledge).
    sources : SellerSources, optional
        Per-seller provenance (:mod:`cxops.metrics.provenance`) when the sources cover different
        sellers; then "not measured" and the columns a record may read are decided per seller.
    zones : dict
        marketplace_id -> IANA time zone.
    options : MetricOptions
    span : (datetime, datetime), optional
        First and last UTC instants in the data; local days are exact inside it (padded by a week
        plus the response limit, for derived instants).
    reuse : bool
        Materialise facts for repeated queries (see :meth:`cached`).
    window : (datetime, datetime), optional
        A half-open UTC interval ``[lo, hi)`` (tz-naive, like the data). When set, each record
        function keeps only the records whose anchor instant (the UTC timestamp its ``day`` comes
        from) is in it, filtering the base table before anything else so that the engine pushes the
        cut into the scan. Rows joined by order key from other tables are never cut. Build it with
        :func:`utc_window` so that it holds every instant whose local day can be in the days wanted.
        Default: no cut (every record).
    """

    tables: dict[str, ir.Table]
    provided: dict[str, set[str]]
    zones: dict[str, str]
    options: MetricOptions = field(default_factory=MetricOptions)
    span: tuple[datetime, datetime] | None = None
    reuse: bool = False
    window: tuple[datetime, datetime] | None = None
    sources: SellerSources | None = None
    seen_through: date | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def cached(self, name: str, build: Callable[[Inputs], ir.Table]) -> ir.Table:
        """``build(self)``, materialised once per (name, options, window) when ``reuse`` is on.

        Jobs that query the same facts many times (a lifecycle replay) turn ``reuse`` on: each
        family's seller-day facts are then computed once, and later queries are small. Facts built
        with a UTC ``window`` are cached under that window only: they never stand in for complete
        facts. ``build`` reads only the inputs it is given (an evaluation may give it one part of
        the sellers at a time: :meth:`for_sellers`).
        """
        if not self.reuse:
            return build(self)
        key = (name, self.options.model_dump_json(), self.window, self.seen_through)
        if key not in self._cache:
            self._cache[key] = build(self).cache()
        return self._cache[key]

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` is present and every one of ``columns`` is provided by its source."""
        if table not in self.tables:
            return False
        prov = self.provided.get(table)
        if prov is None:  # no provenance recorded: trust the stored columns
            return True
        return all(c in prov for c in columns)

    def provides(self, t: ir.Table, table: str, *columns: str) -> tuple[ir.Table, str | bool]:
        """Whether the sources of each row's seller provide ``columns`` of ``table``.

        ``t`` must have ``seller_id, marketplace_id``. Returns ``(t, bool)`` when the answer is the
        same for every seller, else ``t`` with a per-seller boolean column added and its name.
        """
        if self.sources is None:
            return t, self.has(table, *columns)
        return self.sources.column_flag(t, table, *columns)

    def for_profile(self, profile: Profile) -> Inputs:
        """The inputs as one profile of sources sees them (its tables and provided columns)."""
        tables = {t: v for t, v in self.tables.items() if profile.has_table(t)}
        provided = (
            self.provided if profile.provided is None else {t: set(c) for t, c in profile.provided.items()}
        )
        return replace(self, tables=tables, provided=provided, sources=None)

    def with_window(self, window: tuple[datetime, datetime] | None) -> Inputs:
        """A copy reading only the records anchored in the UTC ``window`` (``None``: all records).

        The copy shares the tables and the facts cache (whose keys include the window).

        Parameters
        ----------
        window : (datetime, datetime) or None
            Half-open UTC interval ``[lo, hi)``, tz-naive; see :func:`utc_window`.
        """
        if window == self.window:
            return self
        return replace(self, window=window)

    def for_sellers(self, low: str | None, high: str | None) -> Inputs:
        """A plain copy (no reuse, its own cache) reading only the rows of the sellers whose id is in
        ``[low, high)`` (``None``: unbounded), in every table with a ``seller_id``.

        Every record population joins its tables on keys that include the seller, so a population
        built on this copy is exactly the population's rows of those sellers: an evaluation builds
        each family's facts one range of sellers at a time (bounded engine memory) and appends them.
        """
        tables = {}
        for name, t in self.tables.items():
            if "seller_id" in t.columns:
                conds = ([t.seller_id >= low] if low is not None else []) + (
                    [t.seller_id < high] if high is not None else []
                )
                t = t.filter(*conds) if conds else t
            tables[name] = t
        plain = {f.name: getattr(self, f.name) for f in fields(Inputs) if f.name != "_cache"}
        return Inputs(**{**plain, "tables": tables, "reuse": False})

    def seen_on(self, day: date | None) -> Inputs:
        """A copy reading the facts known by the local ``day`` (``None``: all; see :attr:`seen_through`).

        The copy shares the tables and the facts cache (whose keys include the day).
        """
        if day == self.seen_through:
            return self
        return replace(self, seen_through=day)

    def in_window(self, ts: ir.TimestampValue) -> ir.BooleanValue | None:
        """The condition ``lo <= ts < hi`` of the UTC ``window``, or ``None`` without a window.

        A plain comparison of the column with two constants of the column's own type, so DuckDB
        pushes it into the Parquet scan. Null instants fail it.

        Parameters
        ----------
        ts : timestamp column
            A UTC (tz-naive) instant of the records' base table.
        """
        if self.window is None:
            return None
        lo, hi = self.window
        typ = ts.type()
        return (ts >= ibis.literal(lo, type=typ)) & (ts < ibis.literal(hi, type=typ))

    def cut(self, t: ir.Table, column: str) -> ir.Table:
        """``t`` restricted to the rows whose UTC ``column`` is in the window (``t`` without one)."""
        cond = self.in_window(t[column])
        return t if cond is None else t.filter(cond)

    def local(self, ts: ir.TimestampValue, mp: ir.StringValue, cut: bool = False) -> ir.DateValue:
        """Marketplace-local date of the UTC instant ``ts`` (see :func:`local_date`).

        Parameters
        ----------
        ts : timestamp column (UTC, tz-naive)
        mp : string column of marketplace ids
        cut : bool
            ``ts`` is the column the rows were cut on with :meth:`cut`: every non-null value is
            inside the window, so only the offset periods overlapping the window are needed (a
            smaller comparison tree, exact for those rows).
        """
        span = self.window if (cut and self.window is not None) else self._padded_span()
        return local_date(ts, mp, self.zones, span)

    def _padded_span(self) -> tuple[datetime, datetime] | None:
        """The data's span widened so derived instants (received + response limit, …) stay inside."""
        if self.span is None:
            return None
        pad = timedelta(days=7, hours=self.options.response_hours)
        return self.span[0] - pad, self.span[1] + pad


def utc_window(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """Half-open UTC interval holding every instant whose local day can be in ``[first_day, last_day]``.

    Returns ``[first_day - 1 day, last_day + 2 days)`` (UTC midnights, tz-naive). An instant ``t``
    with local date ``d`` in a zone whose UTC offset at ``t`` is ``o`` satisfies
    ``d <= t + o < d + 1 day``; Python time zones have ``-24 h < o < 24 h`` (``tzinfo.utcoffset``
    must be strictly within a day; real zones are within -12 h .. +14 h), so
    ``first_day - 1 day < t < last_day + 2 days``. Marketplaces without a zone use offset 0.

    Parameters
    ----------
    first_day, last_day : datetime.date
        Marketplace-local days, inclusive.

    Returns
    -------
    (datetime, datetime)
        ``(lo, hi)``: UTC, tz-naive; ``lo`` inclusive, ``hi`` exclusive.
    """
    lo = datetime.combine(first_day - timedelta(days=1), time())
    hi = datetime.combine(last_day + timedelta(days=2), time())
    return lo, hi


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.fill_null(False).ifelse(1, 0)


def orders(inp: Inputs) -> ir.Table:
    """Orders with ``channel`` (``mfn``/``afn``) and ``day`` = local purchase date.

    With a UTC window (:attr:`Inputs.window`), only the orders purchased in it.
    """
    return _orders(inp, "purchased_at")


def _orders(inp: Inputs, cut_on: str | None) -> ir.Table:
    """Orders with ``channel`` and ``day`` (local purchase date), cut on the UTC column ``cut_on``.

    Parameters
    ----------
    cut_on : str or None
        The orders column that anchors the caller's records (``purchased_at``, ``latest_ship_at``,
        ``latest_delivery_at``): with a window, only orders whose ``cut_on`` is in it are kept;
        ``None``: every order (orders joined by key to records anchored elsewhere).
    """
    o = inp.tables["orders"]
    if cut_on is not None:
        o = inp.cut(o, cut_on)
    return o.mutate(
        channel=o.fulfillment_channel.lower(),
        day=inp.local(o.purchased_at, o.marketplace_id, cut=cut_on == "purchased_at"),
    )


def _shipment_summary(inp: Inputs, of: ir.Table | None = None) -> ir.Table:
    """Per seller order: shipment counts and first/last confirmation (UTC).

    Parameters
    ----------
    of : ibis.Table, optional
        Orders (with ``KEY`` columns): with a window, only their shipments are summarised (every
        shipment of each of them; the summary of an order depends on its own shipments only).
    """
    s = inp.tables["shipments"]
    if of is not None and inp.window is not None:
        s = s.semi_join(of.select(KEY), KEY)
    return s.group_by(KEY).aggregate(
        n_shipments=s.count(),
        n_unconfirmed_undelivered=_flag(s.confirmed_at.isnull() & s.delivered_at.isnull()).sum(),
        n_unconfirmed_delivered=_flag(s.confirmed_at.isnull() & s.delivered_at.notnull()).sum(),
        first_confirmed_at=s.confirmed_at.min(),
        # the first evidence the order left the seller: a confirmation, else a carrier scan or delivery
        first_shipped_at=s.confirmed_at.fill_null(s.first_scan_at).fill_null(s.delivered_at).min(),
        last_confirmed_at=s.confirmed_at.max(),
        confirmed_units=s.units.sum(),
    )


def _cancelled_before_shipping(o: ir.Table) -> ir.BooleanValue:
    """Requires columns ``cancelled_at`` and ``first_shipped_at`` joined onto ``o``.

    Shipped = a confirmation, else a carrier scan or a delivery (a cancellation after any of them is
    not "before shipping", even when the confirmation time was never recorded).
    """
    return o.cancelled_at.notnull() & (o.first_shipped_at.isnull() | (o.cancelled_at < o.first_shipped_at))


def order_defects(inp: Inputs) -> ir.Table:
    """Orders with defect flags for the order defect rate (anchor: order date).

    Columns: ``seller_id, order_id, marketplace_id, channel, day, f_negative_feedback, f_a_to_z,
    f_chargeback, f_defect``. An order with several defects is one defective order (case C9);
    removed feedback and denied/withdrawn/reversed claims are not defects; fraud chargebacks are not
    defects; shared ratings count only with ``shared_feedback = "include"`` (C26).
    """
    opt = inp.options
    o = orders(inp).select("seller_id", "order_id", "marketplace_id", "channel", "day")
    present = {"f_negative_feedback": "_neg", "f_a_to_z": "_az", "f_chargeback": "_cb"}
    if "feedback" in inp.tables:
        f = inp.tables["feedback"]
        cond = (f.rating <= opt.negative_feedback_max_stars) & f.removed_at.isnull()
        if opt.shared_feedback == "exclude":
            cond = cond & ~f.is_shared.fill_null(False)
        neg = f.filter(cond).select(KEY).distinct().mutate(_neg=ibis.literal(1))
        o = o.left_join(neg, KEY).select(o, "_neg")
    if "claims" in inp.tables:
        c = inp.tables["claims"]
        counts = c.decision.isnull() | ~c.decision.isin(NOT_COUNTING_DECISIONS)
        az = c.filter((c.kind == "a_to_z") & counts).select(KEY).distinct().mutate(_az=ibis.literal(1))
        cb = (
            c.filter((c.kind == "chargeback") & counts & ~c.is_fraud.fill_null(False))
            .select(KEY)
            .distinct()
            .mutate(_cb=ibis.literal(1))
        )
        o = o.left_join(az, KEY).select(o, "_az")
        o = o.left_join(cb, KEY).select(o, "_cb")
    o = o.mutate(
        **{
            flag: (o[col].fill_null(0) if col in o.columns else ibis.literal(0))
            for flag, col in present.items()
        }
    )
    o = o.mutate(f_defect=_flag((o.f_negative_feedback + o.f_a_to_z + o.f_chargeback) > 0))
    return o.select(
        "seller_id",
        "order_id",
        "marketplace_id",
        "channel",
        "day",
        "f_negative_feedback",
        "f_a_to_z",
        "f_chargeback",
        "f_defect",
    )


def late_shipments(inp: Inputs) -> ir.Table:
    """MFN orders in the late-shipment population (anchor: ship-by date), as of ``inp.seen_through``.

    Columns: ``seller_id, order_id, marketplace_id, channel, day, f_late, f_recorded``.

    ``f_recorded``: a shipment is recorded for the order (confirmed or not) or it was cancelled before
    shipping — the coverage of the late shipment rate (:class:`cxops.metrics.catalog.Coverage`).

    An order is late if any shipment was confirmed after the ship-by deadline, or it (or part of it)
    is still unconfirmed and not delivered — the deadline has passed for every day in a window. Orders
    cancelled before shipping are out of the population unless ``late_shipment_includes_cancelled``
    (then they count as on time, case C20). An order whose only unconfirmed shipments were delivered
    (a source that lost the confirmation time) has unknown lateness and is left out. Other shipped
    events (``MetricOptions.shipped_event``): :func:`late_shipments_versions`.
    """
    v = late_shipments_versions(inp)
    if "seen_from" not in v.columns:
        return v
    return visible(v, inp.seen_through).drop("seen_from", "seen_to")


def visible(t: ir.Table, as_of) -> ir.Table:
    """The rows of ``t`` in force as of the local day ``as_of`` (a date, or the name of a date column).

    A table of versioned records (columns ``seen_from``, ``seen_to``: local days, null = unbounded)
    holds, for a record whose result changes when a later fact arrives, one row before it
    (``seen_to``) and one from it (``seen_from``); ``as_of = None`` keeps the final rows (the last
    version of each record). ``t`` without those columns is returned unchanged.
    """
    if "seen_from" not in t.columns:
        return t
    if as_of is None:
        return t.filter(t.seen_to.isnull())
    if isinstance(as_of, str):
        as_of = t[as_of]
    elif isinstance(as_of, date):
        as_of = ibis.literal(as_of, type="date")
    seen = (t.seen_from.isnull() | (t.seen_from <= as_of)) & (t.seen_to.isnull() | (as_of < t.seen_to))
    return t.filter(seen)


def late_shipments_versions(inp: Inputs) -> ir.Table:
    """:func:`late_shipments` with each record's versions over the as-of days (see :func:`visible`).

    Under ``shipped_event = "any"`` a buyer's delivery confirmation (``delivery_confirmations``,
    ``arrived_on_time`` true) is one more signal: the order counts as shipped in time — it is neither
    late for want of a signal (no shipment recorded, a shipment with no confirmation, scan or delivery
    by the promise, fewer units confirmed than ordered) nor left out as unknown — unless a confirmation
    or carrier scan shows it shipped after the deadline. The signal is seen from the local day the
    buyer answered: as of an earlier day the order is judged without it (two rows, ``seen_to`` /
    ``seen_from`` that day). "Not on time" is no signal. Without confirmations, or when no marketplace
    uses ``any``, the columns ``seen_from, seen_to`` are absent (one row per order).
    """
    o = _orders(inp, "latest_ship_at")
    o = o.filter((o.channel == "mfn") & o.latest_ship_at.notnull())
    ss = _shipment_summary(inp, o)
    o = o.left_join(ss, KEY).select(o, *[c for c in ss.columns if c not in KEY])
    if "cancellations" in inp.tables:
        ca = inp.tables["cancellations"].select(*KEY, "cancelled_at")
        o = o.left_join(ca, KEY).select(o, "cancelled_at")
    else:
        o = o.mutate(cancelled_at=ibis.null("timestamp"))
    o, o_units = inp.provides(o, "orders", "units")
    o, s_units = inp.provides(o, "shipments", "units")
    cancelled = _cancelled_before_shipping(o)
    confirmed_late = o.last_confirmed_at > o.latest_ship_at
    shortfall = ibis.literal(False)
    if o_units is not False and s_units is not False:
        shortfall = o.units.notnull() & o.confirmed_units.notnull() & (o.confirmed_units < o.units)
        for has in (o_units, s_units):
            if has is not True:
                shortfall = shortfall & o[has]
    unshipped = (
        o.n_shipments.isnull() | (o.n_unconfirmed_undelivered.fill_null(0) > 0) | shortfall.fill_null(False)
    )
    unknown = ~confirmed_late.fill_null(False) & ~unshipped & (o.n_unconfirmed_delivered.fill_null(0) > 0)
    late = confirmed_late.fill_null(False) | (unshipped & ~cancelled)
    events = _shipped_events(inp)
    buyer = None
    if events:  # another event than the confirmation counts as shipped on some marketplaces
        o = o.mutate(_late=late, _unknown=unknown, _short=shortfall.fill_null(False), _cancelled=cancelled)
        o, late, unknown, buyer = _late_by_events(inp, o, events)
        cancelled = o._cancelled
    out = {
        "day": inp.local(o.latest_ship_at, o.marketplace_id, cut=True),
        "f_recorded": _flag(o.n_shipments.notnull() | cancelled),
    }
    cols = ["seller_id", "order_id", "marketplace_id", "channel", "day", "f_late", "f_recorded"]
    if buyer is None:
        o = o.filter(_in_population(inp, unknown, cancelled))
        return o.select(*cols[:4], day=out["day"], f_late=_flag(late), f_recorded=out["f_recorded"])
    late1, unknown1, seen = buyer
    o = o.mutate(
        **out,
        _l0=_flag(late),
        _l1=_flag(late1),
        _in0=_in_population(inp, unknown, cancelled),
        _in1=_in_population(inp, unknown1, cancelled),
        _seen=seen,
    )
    changes = (o._l0 != o._l1) | (o._in0 != o._in1)
    later = o._seen.notnull() & (o._seen > o.day) & changes  # seen after the ship-by day: two versions
    date_null = ibis.null("date")
    before = o.filter(o._in0 & (o._seen.isnull() | later)).select(
        *cols[:5], f_late=o._l0, f_recorded=o.f_recorded, seen_from=date_null,
        seen_to=later.ifelse(o._seen, date_null),
    )  # fmt: skip
    after = o.filter(o._in1 & o._seen.notnull()).select(
        *cols[:5], f_late=o._l1, f_recorded=o.f_recorded, seen_from=later.ifelse(o._seen, date_null),
        seen_to=date_null,
    )  # fmt: skip
    return before.union(after)


def _in_population(inp: Inputs, unknown: ir.BooleanValue, cancelled: ir.BooleanValue) -> ir.BooleanValue:
    """In the late-shipment population: lateness known, and not cancelled before shipping (unless
    ``late_shipment_includes_cancelled``)."""
    keep = ~unknown
    if not inp.options.late_shipment_includes_cancelled:
        keep = keep & ~cancelled
    return keep


def _shipped_events(inp: Inputs) -> dict[str | None, str]:
    """Marketplace (``None``: every other) -> shipped event, when any differs from the confirmation."""
    opts = inp.options
    events: dict[str | None, str] = dict(opts.shipped_events())
    if opts.shipped_event != "confirmation":
        events[None] = opts.shipped_event
    return events


def _signal_summary(inp: Inputs, o: ir.Table, event: str) -> ir.Table:
    """Per order, for the shipped ``event`` (``first_scan`` or ``any``): the last shipment's signal
    instant (``sig_last``), shipments with no signal counted unshipped (``sig_unshipped``) and unknown
    (``sig_unknown``: delivered, or confirmed without a tracking id)."""
    s = inp.tables["shipments"]
    if inp.window is not None:
        s = s.semi_join(o.select(KEY), KEY)
    if event == "any":
        promise = inp.tables["orders"].select(*KEY, _promise="latest_delivery_at")
        s = s.left_join(promise, KEY).select(s, "_promise")
    c, f = s.confirmed_at, s.first_scan_at
    if event == "first_scan":
        at = f
    else:  # the earlier of the confirmation and the first scan
        at = ibis.cases((c.isnull(), f), (f.isnull(), c), (f < c, f), else_=c)
    none = at.isnull()
    in_time = ibis.literal(False)
    if event == "any":  # a delivery by the promised date is a signal it shipped in time
        in_time = none & s.delivered_at.notnull() & (s.delivered_at <= s._promise).fill_null(False)
    unknown = none & ~in_time & (s.delivered_at.notnull() | (c.notnull() & s.tracking_id.isnull()))
    unshipped = none & ~in_time & ~unknown
    return s.group_by(KEY).aggregate(
        sig_last=at.max(), sig_unshipped=_flag(unshipped).sum(), sig_unknown=_flag(unknown).sum()
    )


def _late_by_events(inp: Inputs, o: ir.Table, events):
    """``(o, late, unknown, buyer)`` with the marketplaces of ``events`` judged on their shipped event.

    ``o`` carries the confirmation-based ``_late, _unknown`` and ``_short, _cancelled`` flags.
    ``buyer`` is ``None``, or — when some marketplace uses ``any`` and buyers' delivery confirmations
    are stored — ``(late, unknown, seen_day)``: the flags once the buyer's on-time answer is seen, and
    the local day it was given (null: none).
    """
    others = sorted(set(events.values()) - {"confirmation"})
    for event in others:
        ss = _signal_summary(inp, o, event).rename(**{f"{c}_{event}": c for c in _SIGNALS})
        o = o.left_join(ss, KEY).select(o, *[f"{c}_{event}" for c in _SIGNALS])
    with_buyer = "any" in others and "delivery_confirmations" in inp.tables
    if with_buyer:
        b = inp.tables["delivery_confirmations"]
        b = b.filter(b.arrived_on_time.fill_null(False)).select(*KEY, _buyer_at="confirmed_at")
        o = o.left_join(b, KEY).select(o, "_buyer_at")
        o = o.mutate(_buyer_day=inp.local(o._buyer_at, o.marketplace_id))
    versions = [False, True] if with_buyer else [False]
    res = []
    for buyer in versions:
        cases_late, cases_unknown = [], []
        default_late, default_unknown = o._late, o._unknown
        for event in sorted(set(events.values())):
            if event == "confirmation":
                e_late, e_unknown = o._late, o._unknown
            else:
                sig_late = (o[f"sig_last_{event}"] > o.latest_ship_at).fill_null(False)
                no_signal = o[f"sig_unshipped_{event}"].fill_null(0) > 0
                unshipped = o.n_shipments.isnull() | no_signal | o._short
                unknown = o[f"sig_unknown_{event}"].fill_null(0) > 0
                if buyer and event == "any":  # the buyer says it arrived on time: shipped in time
                    said = o._buyer_at.notnull()
                    unshipped, unknown = unshipped & ~said, unknown & ~said
                e_late = sig_late | (unshipped & ~o._cancelled)
                e_unknown = ~sig_late & ~unshipped & unknown
            mps = sorted(mp for mp, e in events.items() if mp is not None and e == event)
            if mps:
                cases_late.append((o.marketplace_id.isin(mps), e_late))
                cases_unknown.append((o.marketplace_id.isin(mps), e_unknown))
            if events.get(None) == event:
                default_late, default_unknown = e_late, e_unknown
        if cases_late:
            default_late = ibis.cases(*cases_late, else_=default_late)
            default_unknown = ibis.cases(*cases_unknown, else_=default_unknown)
        res.append((default_late, default_unknown))
    (late, unknown), *rest = res
    return o, late, unknown, ((*rest[0], o._buyer_day) if rest else None)


_SIGNALS = ("sig_last", "sig_unshipped", "sig_unknown")


def shipped_at(inp: Inputs, event: str, of: ir.Table | None = None) -> ir.Table:
    """Per seller order with a shipment: the instant the shipped ``event`` judges it by (UTC).

    Columns ``seller_id, order_id, shipped_at``: the last confirmation (``confirmation``), the last
    shipment's first carrier scan (``first_scan``) or its earlier of the two (``any``) — the instant
    :func:`late_shipments` compares with the ship-by deadline; null when no shipment has one (``any``
    may still count the order as shipped in time from a delivery by the promise or the buyer's answer).

    Parameters
    ----------
    event : {"confirmation", "first_scan", "any"}
    of : ibis.Table, optional
        Orders (``KEY`` columns) whose shipments are read when a window is set (required then).
    """
    if event == "confirmation":
        s = _shipment_summary(inp, of)
        return s.select(*KEY, shipped_at=s.last_confirmed_at)
    s = _signal_summary(inp, of if of is not None else inp.tables["orders"], event)
    return s.select(*KEY, shipped_at=s.sig_last)


def cancellations(inp: Inputs) -> ir.Table:
    """MFN orders with a pre-fulfillment cancellation flag (anchor: order date).

    Columns: ``seller_id, order_id, marketplace_id, channel, day, f_cancelled``.

    Counted: cancelled before shipping, initiated by the seller or the system (automatic cancellation
    of unconfirmed orders), or of unknown initiator when ``count_unknown_cancellations``; never a
    cancellation through the buyer's official request flow, whatever the reason code (case C19), nor
    one the buyer made directly.
    """
    o = orders(inp)
    o = o.filter(o.channel == "mfn")
    ss = _shipment_summary(inp, o).select(*KEY, "first_shipped_at") if "shipments" in inp.tables else None
    if ss is not None:
        o = o.left_join(ss, KEY).select(o, "first_shipped_at")
    else:
        o = o.mutate(first_shipped_at=ibis.null("timestamp"))
    ca = inp.tables["cancellations"].select(*KEY, "cancelled_at", "initiated_by", "via_buyer_request")
    o = o.left_join(ca, KEY).select(o, "cancelled_at", "initiated_by", "via_buyer_request")
    initiators = ["seller", "system"] + (["unknown"] if inp.options.count_unknown_cancellations else [])
    counted = (
        _cancelled_before_shipping(o)
        & o.initiated_by.isin(initiators)
        & ~o.via_buyer_request.fill_null(False)
    )
    return o.select("seller_id", "order_id", "marketplace_id", "channel", "day", f_cancelled=_flag(counted))


def shipments(inp: Inputs, cut_on: str | None = None) -> ir.Table:
    """Shipments joined to their order's marketplace, channel and promise.

    Parameters
    ----------
    cut_on : str, optional
        With a window: ``"confirmed_at"`` keeps the shipments confirmed in it (their orders whatever
        their dates), ``"latest_delivery_at"`` the orders promised in it (with all their shipments).
        ``None``: no cut.
    """
    s = inp.tables["shipments"]
    if cut_on == "confirmed_at":
        s = inp.cut(s, cut_on)
    o = _orders(inp, cut_on if cut_on == "latest_delivery_at" else None)
    o = o.select(*KEY, "marketplace_id", "channel", "latest_delivery_at")
    if cut_on == "confirmed_at" and inp.window is not None:
        # only the orders of the cut shipments (the inner join drops the others anyway): a small join
        o = o.semi_join(s.select(KEY), KEY)
    return s.inner_join(o, KEY)


def tracking(inp: Inputs) -> ir.Table:
    """MFN shipments confirmed, with a valid-tracking flag (anchor: ship confirmation date).

    Columns: ``seller_id, order_id, shipment_id, marketplace_id, channel, day, f_valid``.
    Valid: a tracking id, plus a carrier and a first carrier scan where the source provides those
    columns (Amazon A14–A16: a valid id with at least one physical carrier scan).
    """
    s = shipments(inp, "confirmed_at")
    s = s.filter((s.channel == "mfn") & s.confirmed_at.notnull())
    s, carrier = inp.provides(s, "shipments", "carrier")
    s, scan = inp.provides(s, "shipments", "first_scan_at")
    valid = s.tracking_id.notnull() & (s.tracking_id.strip() != "")
    for has, col in ((carrier, s.carrier), (scan, s.first_scan_at)):
        if has is True:
            valid = valid & col.notnull()
        elif has is not False:  # per seller: required where the seller's sources provide it
            valid = valid & (~s[has] | col.notnull())
    return s.select(
        "seller_id",
        "order_id",
        "shipment_id",
        "marketplace_id",
        "channel",
        day=inp.local(s.confirmed_at, s.marketplace_id, cut=True),
        f_valid=_flag(valid),
    )


def deliveries(inp: Inputs) -> ir.Table:
    """Shipments with a promise, flagged delivered / on time / overdue (anchor: promised date).

    Columns: ``seller_id, order_id, shipment_id, marketplace_id, channel, day, f_delivered`` (in the
    on-time delivery denominator: delivered, plus overdue ones with ``otdr_overdue_counts_as_late``),
    ``f_on_time, f_overdue, f_expected, f_arrived`` (the coverage of the on-time delivery rate:
    shipments confirmed or delivered, and those with a delivery date recorded). On time compares
    marketplace-local **dates** (case C25: delivered 15:00 on the promised day is on time); overdue =
    shipped (confirmed) but with no delivery date.
    Shipments never confirmed nor delivered are not in this population (they are late shipments).
    """
    s = shipments(inp, "latest_delivery_at")
    s = s.filter(s.latest_delivery_at.notnull())
    if inp.options.delivery_event == "first_attempt" and "delivery_attempts" in inp.tables:
        # the first attempt stands for the delivery (a failed attempt by the promise is on time)
        a = inp.tables["delivery_attempts"]
        a = a.group_by([*KEY, "shipment_id"]).aggregate(_first_attempt=a.attempted_at.min())
        s = s.left_join(a, [*KEY, "shipment_id"]).select(s, "_first_attempt")
        s = s.mutate(delivered_at=s._first_attempt.cast(s.delivered_at.type()).fill_null(s.delivered_at))
    promised = inp.local(s.latest_delivery_at, s.marketplace_id, cut=True)
    delivered_day = inp.local(s.delivered_at, s.marketplace_id)
    overdue = s.delivered_at.isnull() & s.confirmed_at.notnull()
    counted = s.delivered_at.notnull()
    if inp.options.otdr_overdue_counts_as_late:
        counted = counted | overdue
    return s.select(
        "seller_id",
        "order_id",
        "shipment_id",
        "marketplace_id",
        "channel",
        day=promised,
        f_delivered=_flag(counted),
        f_on_time=_flag(s.delivered_at.notnull() & (delivered_day <= promised)),
        f_overdue=_flag(overdue),
        f_expected=_flag(s.delivered_at.notnull() | s.confirmed_at.notnull()),
        f_arrived=_flag(s.delivered_at.notnull()),
    )


def messages(inp: Inputs) -> ir.Table:
    """Buyer messages needing a response (anchor: received date).

    Columns: ``seller_id, message_id, marketplace_id, channel, day, received_at, resolved_at,
    resolved_day, responded_at, responded_day, hours, f_late``. Excluded: messages marked
    no-response-needed (case C18). An automatic reply does not count as a response: ``first_response_at``
    is the first human reply, and ``is_auto_reply`` only records that an auto-responder answered.
    ``resolved_at`` is when the message's outcome became known: the first human reply if within the
    limit, else received + ``response_hours``. A message is counted in a window
    only once resolved (a message still inside its 24 h is pending). The clock runs 24×7.
    """
    m = inp.cut(inp.tables["buyer_messages"], "received_at")
    # An auto-reply (``is_auto_reply``) is not a response: ``first_response_at`` is the first human one.
    m = m.filter(~m.no_response_needed.fill_null(False))
    # Marketplace: the message's own, else its order's, else the seller's (first by id).
    om = inp.tables["orders"].select(*KEY, _omp="marketplace_id")
    m = m.left_join(om, KEY).select(m, "_omp")
    mp = m.marketplace_id.fill_null(m._omp)
    if "sellers" in inp.tables:
        s = inp.tables["sellers"]
        sm = s.group_by("seller_id").aggregate(_smp=s.marketplace_id.min())
        m = m.left_join(sm, "seller_id").select(m, "_smp")
        mp = m.marketplace_id.fill_null(m._omp).fill_null(m._smp)
    m = m.mutate(_mp=mp)
    limit_s = int(inp.options.response_hours * 3600)
    deadline = m.received_at + ibis.interval(seconds=limit_s)
    secs = m.first_response_at.epoch_seconds() - m.received_at.epoch_seconds()
    on_time = m.first_response_at.notnull() & (secs <= limit_s)
    resolved_at = on_time.ifelse(m.first_response_at, deadline)
    m = m.mutate(_resolved_at=resolved_at)
    return m.select(
        "seller_id",
        "message_id",
        marketplace_id=m._mp,
        channel=ibis.literal("all"),
        day=inp.local(m.received_at, m._mp, cut=True),
        received_at=m.received_at,
        resolved_at=m._resolved_at,
        resolved_day=inp.local(m._resolved_at, m._mp),
        responded_at=m.first_response_at,
        responded_day=inp.local(m.first_response_at, m._mp),
        # cast first: Spark reads the literal 3600.0 as a DECIMAL and would round hours to 6 places
        hours=(secs.cast("float64") / 3600.0),
        f_late=_flag(~on_time),
    )


def ratings(inp: Inputs) -> ir.Table:
    """Ratings for the satisfaction index (anchor: feedback date).

    Columns: ``seller_id, order_id, marketplace_id, channel, day, points``; 1★=0 … 5★=100.
    Removed feedback is excluded; shared ratings too unless ``shared_feedback = "include"`` (C26).
    """
    f = inp.cut(inp.tables["feedback"], "submitted_at")
    cond = f.removed_at.isnull()
    if inp.options.shared_feedback == "exclude":
        cond = cond & ~f.is_shared.fill_null(False)
    f = f.filter(cond)
    o = inp.tables["orders"].select(*KEY, "marketplace_id")
    f = f.inner_join(o, KEY)
    return f.select(
        "seller_id",
        "order_id",
        "marketplace_id",
        channel=ibis.literal("all"),
        day=inp.local(f.submitted_at, f.marketplace_id, cut=True),
        points=((f.rating - 1) * 25).cast("float64"),
    )


def violations(inp: Inputs) -> ir.Table:
    """Violations with flags (anchor: reported date).

    Columns: ``seller_id, marketplace_id, channel, day, f_warning, f_ip, f_major``; major = severity
    high or critical, or an IP complaint (reference program).
    """
    v = inp.cut(inp.tables["violations"], "reported_at")
    ip = v.kind == "ip_complaint"
    return v.select(
        "seller_id",
        "marketplace_id",
        channel=ibis.literal("all"),
        day=inp.local(v.reported_at, v.marketplace_id, cut=True),
        f_warning=_flag(v.is_warning),
        f_ip=_flag(ip),
        f_major=_flag(ip | v.severity.isin(["high", "critical"])),
    )
