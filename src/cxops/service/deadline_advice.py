"""Handling-time advisor and holiday planner for one seller (``cxops advise handling-time | holiday``, the
API and the seller's page).

Reads the warehouse once per need, with the engine's own definitions: the late-shipment population and
flags of :func:`cxops.metrics.records.late_shipments` (the deadline in force: corrected, else the
source's, else derived), the deadline rules, calendars and seller overrides of the ``deadlines``
contract tables; the target is the policy's admission bar for the late shipment rate
(:func:`policy_target`). The computation is :mod:`cxops.advisor.handling_time` and
:mod:`cxops.advisor.holiday`. Nothing here writes, except :func:`write_latency_file` (atomically).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pandas as pd

from cxops.advisor import handling_time as ht
from cxops.advisor import holiday as hp
from cxops.canonical.marketplaces import builtin_marketplaces
from cxops.deadlines.calendars import Calendar, deadline_rules, marketplace_calendar, seller_calendar
from cxops.errors import InputError, NotFoundError, OutputError
from cxops.metrics import records
from cxops.metrics.compute import load_inputs
from cxops.policy.model import Policy

KEY = ["seller_id", "order_id"]
#: Days of the advisor's look-back (ship-by days) by default, and of the preview.
LOOKBACK_DAYS = 90
PREVIEW_DAYS = 14
#: Days of orders behind the planner's expected daily order count.
RATE_DAYS = 30


def policy_target(policy: Policy) -> ht.Target:
    """The policy's admission bar for the late shipment rate (the one declaration of the number).

    Raises
    ------
    InputError
        When the policy's admission has no late-shipment-rate criterion on the rate (pass a target).
    """
    for c in policy.admission.criteria:
        if c.metric == "late_shipment_rate" and c.test == "value" and c.operator in ("<", "<="):
            return ht.Target(c.threshold, c.operator, f"{policy.name} {policy.version}, admission {c.id}")
    raise InputError(
        f"policy {policy.name} has no admission bar for the late shipment rate",
        hint="pass --target, e.g. --target 1.2%",
    )


def parse_target(text: str) -> ht.Target:
    """``"1.2%"`` or ``"0.012"`` -> a target "at or under" that fraction.

    Raises
    ------
    InputError
        Not a number, or outside ``0 … 1`` (``0 … 100 %``).
    """
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise InputError(f"--target {text!r} is not a rate", hint="write 1.2% or 0.012") from None
    if not 0 <= value < 1:
        raise InputError(f"--target {text!r} is not a rate between 0 and 100 %", hint="write 1.2% or 0.012")
    return ht.Target(value, "<=", "--target")


def _default_as_of(wh, as_of: date | None, allow_stale: bool, what: str) -> date:
    from cxops.service.evaluation import data_state

    fresh = data_state(wh)[1]
    if as_of is None:
        if fresh.complete_day is None:
            raise NotFoundError("the warehouse holds no orders", hint="import data first")
        return fresh.complete_day
    fresh.check(as_of, what, allow_stale)
    return as_of


def _frame(wh, name: str, seller_id: str | None = None) -> pd.DataFrame | None:
    if not wh.has_table(name):
        return None
    t = wh.table(name)
    if seller_id is not None and "seller_id" in t.columns:
        t = t.filter(t.seller_id == seller_id)
    return wh.execute(t)


class _Context:
    """The seller's marketplaces, deadline rules, calendars and settings."""

    def __init__(self, wh, seller_id: str, marketplace: str | None, first: date, last: date):
        o = wh.table("orders")
        o = o.filter((o.seller_id == seller_id) & (o.fulfillment_channel.upper() == "MFN"))
        mps = sorted(wh.execute(o.select("marketplace_id").distinct())["marketplace_id"])
        if not mps:
            raise NotFoundError(
                f"seller {seller_id!r} has no seller-fulfilled (MFN) orders",
                hint="the handling time applies to orders the seller ships; AFN orders are the marketplace's",
            )
        if marketplace is not None:
            if marketplace not in mps:
                raise NotFoundError(
                    f"seller {seller_id} has no MFN orders on {marketplace} (it has {', '.join(mps)})"
                )
            mps = [marketplace]
        self.seller_id, self.marketplaces = seller_id, mps
        table = _frame(wh, "marketplaces")
        builtin = builtin_marketplaces()
        if table is not None and len(table):
            builtin = pd.concat([table, builtin[~builtin["marketplace_id"].isin(table["marketplace_id"])]])
        builtin = builtin[builtin["marketplace_id"].isin(mps)]
        if "weekend" not in builtin:
            builtin = builtin.assign(weekend=None)
        self.rules = deadline_rules(builtin.reset_index(drop=True), _frame(wh, "deadline_rules"))
        self.calendar_days = _frame(wh, "calendar_days")
        self.seller_days = _frame(wh, "seller_calendar_days", seller_id)
        settings = _frame(wh, "handling_times", seller_id)
        self.settings_rows = settings
        self.calendars: dict[str, Calendar] = {}
        for mp in mps:
            base = marketplace_calendar(self.rules[mp], first, last, self.calendar_days, "public")
            mine = (
                None
                if self.seller_days is None
                else self.seller_days[self.seller_days["marketplace_id"] == mp]
            )
            self.calendars[mp] = base if mine is None or mine.empty else seller_calendar(base, mine)

    def settings_at(self, as_of: date) -> pd.DataFrame:
        """The handling-time settings in force at the end of ``as_of`` (UTC day end, a close bound):
        ``marketplace_id, sku, handling_days``."""
        s = self.settings_rows
        cols = ["marketplace_id", "sku", "handling_days"]
        if s is None or s.empty:
            return pd.DataFrame(columns=cols)
        end = pd.Timestamp(datetime.combine(as_of + timedelta(days=1), time()))
        s = s[pd.to_datetime(s["effective_from"]) < end]
        s = s.sort_values("effective_from").groupby(["marketplace_id", "sku"]).tail(1)
        live = s["effective_to"].isna() | (pd.to_datetime(s["effective_to"]) >= end)
        return s[live & s["marketplace_id"].isin(self.marketplaces)][cols].reset_index(drop=True)


def _shipment_summary(inp, seller_id: str) -> ibis.Table | None:
    if "shipments" not in inp.tables:
        return None
    s = inp.tables["shipments"]
    s = s.filter(s.seller_id == seller_id)
    return s.group_by(KEY).aggregate(
        n_shipments=s.count(),
        n_open=(s.confirmed_at.isnull() & s.delivered_at.isnull()).ifelse(1, 0).sum(),
        n_moved=(s.confirmed_at.notnull() | s.first_scan_at.notnull() | s.delivered_at.notnull())
        .ifelse(1, 0)
        .sum(),
        last_confirmed_at=s.confirmed_at.max(),
        first_moved_at=s.confirmed_at.fill_null(s.first_scan_at).fill_null(s.delivered_at).min(),
    )


def _population(wh, policy: Policy, seller_id: str, mps: list[str], first: date | None, last: date | None):
    """The engine's late-shipment records of the seller (ship-by days ``first … last``) with the order's
    times and its shipment summary."""
    inp = load_inputs(wh, policy.metric_options)
    if first is not None:
        inp = inp.with_window(records.utc_window(first, last))
    ls = records.late_shipments(inp)
    ls = ls.filter((ls.seller_id == seller_id) & ls.marketplace_id.isin(mps))
    if first is not None:
        ls = ls.filter((ls.day >= first) & (ls.day <= last))
    o = inp.tables["orders"]
    o = o.filter(o.seller_id == seller_id).select(*KEY, "purchased_at", "latest_ship_at")
    t = ls.join(o, KEY).select(ls, o.purchased_at, o.latest_ship_at)
    ss = _shipment_summary(inp, seller_id)
    if ss is not None:
        t = t.left_join(ss, KEY).select(t, *[c for c in ss.columns if c not in KEY])
    df = wh.execute(t)
    for c, v in (
        ("n_shipments", np.nan),
        ("n_open", 0),
        ("n_moved", 0),
        ("last_confirmed_at", pd.NaT),
        ("first_moved_at", pd.NaT),
    ):
        if c not in df:
            df[c] = v
    df["day"] = pd.to_datetime(df["day"]).dt.date
    late = df["f_late"].astype(bool)
    confirmed_late = pd.to_datetime(df["last_confirmed_at"]) > pd.to_datetime(df["latest_ship_at"])
    # late whatever the deadline: still open (or never shipped), or late for a reason other than the
    # confirmation time (short of units)
    df["stuck"] = late & (~confirmed_late | (df["n_open"].fillna(0) > 0) | df["n_shipments"].isna())
    return df


#: How the advisor groups SKUs.
GROUPS = ("sku", "category", "seller")


def _skus(wh, seller_id: str, order_ids) -> pd.DataFrame:
    """``order_id, sku, category`` (the item's category, else the order's) of each order; ``"*"`` for an
    order without a SKU."""
    o = wh.table("orders")
    o = o.filter(o.seller_id == seller_id)
    cat = o.category if "category" in o.columns else ibis.null("string")
    orders = wh.execute(o.select("order_id", order_category=cat))
    orders = orders[orders["order_id"].isin(set(order_ids))]
    if wh.has_table("order_items"):
        i = wh.table("order_items")
        icat = i.category if "category" in i.columns else ibis.null("string")
        i = i.filter((i.seller_id == seller_id) & i.sku.notnull()).select("order_id", "sku", category=icat)
        items = wh.execute(i.distinct())
        items = items[items["order_id"].isin(set(order_ids))]
    else:
        items = pd.DataFrame(columns=["order_id", "sku", "category"])
    without = orders[~orders["order_id"].isin(set(items["order_id"]))]
    items = pd.concat(
        [items, pd.DataFrame({"order_id": without["order_id"], "sku": "*", "category": None})],
        ignore_index=True,
    )
    items = items.merge(orders, on="order_id", how="left")
    items["category"] = items["category"].fillna(items["order_category"])
    return items[["order_id", "sku", "category"]]


def handling_time_advice(
    wh,
    policy: Policy,
    seller_id: str,
    *,
    as_of: date | None = None,
    days: int = LOOKBACK_DAYS,
    target: ht.Target | None = None,
    marketplace: str | None = None,
    min_days: int = ht.DEFAULT_MIN_DAYS,
    max_days: int = ht.DEFAULT_MAX_DAYS,
    group_by: str = "sku",
    allow_stale: bool = False,
) -> ht.HandlingAdvice:
    """The handling-time advice of a seller (:mod:`cxops.advisor.handling_time`).

    Parameters
    ----------
    as_of : date, optional
        Last ship-by day of the look-back (marketplace-local); default: the last complete day of the data.
    days : int
        Look-back in days (ship-by days ``as_of - (days - 1) … as_of``).
    target : Target, optional
        Default: :func:`policy_target`.
    min_days, max_days : int
        Bounds of a proposal (business days).
    group_by : {"sku", "category", "seller"}
        One proposal per SKU, per SKU group (the item's category, else the order's), or one for all the
        seller's SKUs (few orders per SKU make a per-SKU proposal noisy).

    Raises
    ------
    InputError
        Bad bounds or look-back, no target in the policy, a bad deadline rule.
    NotFoundError
        The seller has no MFN orders (on the marketplace). No order due in the look-back gives an
        advice without SKUs and the note ``advise.note.no_orders``.
    StaleDataError
        ``as_of`` past the data (unless ``allow_stale``).
    """
    if not 0 <= min_days <= max_days <= 60:
        raise InputError(f"handling-time bounds {min_days}..{max_days} are not within 0..60 days, min <= max")
    if days < 1:
        raise InputError(f"--days {days}: the look-back must be at least one day")
    if group_by not in GROUPS:
        raise InputError(f"--group-by {group_by!r} is not one of {', '.join(GROUPS)}")
    target = target or policy_target(policy)
    as_of = _default_as_of(wh, as_of, allow_stale, f"the handling-time advice as of {as_of}")
    first = as_of - timedelta(days=days - 1)
    ctx = _Context(
        wh, seller_id, marketplace, first - timedelta(days=30), as_of + timedelta(days=PREVIEW_DAYS + 400)
    )
    pop = _population(wh, policy, seller_id, ctx.marketplaces, first, as_of)
    advice = ht.HandlingAdvice(seller_id, as_of, first, target, min_days, max_days, group_by)
    if pop.empty:  # nothing to learn from: an empty advice (not an error: the seller exists)
        advice.notes.append("advise.note.no_orders")
        return advice
    needed = ht.days_needed(pop, ctx.rules, ctx.calendar_days, ctx.seller_days, max_days)
    lines = needed[["order_id", "marketplace_id", "f_late", "needed", "implied"]].merge(
        _skus(wh, seller_id, needed["order_id"]), on="order_id", how="left"
    )
    lines["sku"] = lines["sku"].fillna("*")
    if group_by == "seller":
        lines["group"] = "*"
    elif group_by == "category":
        lines["group"] = lines["category"].fillna("—")
    settings = ctx.settings_at(as_of)
    by = "sku" if group_by == "sku" else "group"
    advice.skus, totals = ht.advise(lines, target, settings, min_days, max_days, by=by)
    advice.orders, advice.late_had, advice.late_would = (
        totals["orders"],
        totals["late_had"],
        totals["late_would"],
    )
    if totals["orders"] and not target.met(totals["late_would"] / totals["orders"]):
        advice.notes.append("advise.note.overall_missed")
    if any(not s.reachable for s in advice.skus):
        advice.notes.append("advise.note.unreachable")
    if any(s.current_source == "implied" for s in advice.skus):
        advice.notes.append("advise.note.implied")
    shown = {}
    for s in advice.skus:
        shown.setdefault(s.marketplace_id, set()).add(s.proposed)
        if s.current is not None:
            shown[s.marketplace_id].add(s.current)
    advice.preview = ht.preview(
        seller_id,
        ctx.rules,
        ctx.calendars,
        ctx.calendar_days,
        ctx.seller_days,
        as_of + timedelta(days=1),
        PREVIEW_DAYS,
        {mp: sorted(v) for mp, v in shown.items()},
    )
    return advice


#: Columns of the listing upload file (Amazon inventory loader / listing loader flat file).
LATENCY_COLUMNS = ("sku", "fulfillment-latency")


def latency_table(advice: ht.HandlingAdvice, *, all_skus: bool = False) -> pd.DataFrame:
    """Rows of the listing upload file: ``sku``, ``fulfillment-latency`` (:func:`write_latency_file`)."""
    ch = advice.changes(all_skus)
    return pd.DataFrame({LATENCY_COLUMNS[0]: ch["sku"], LATENCY_COLUMNS[1]: ch["proposed"].astype(int)})


def write_latency_file(advice: ht.HandlingAdvice, path: str | Path, *, all_skus: bool = False) -> int:
    """Write the change as the marketplace's listing upload file; returns the number of SKUs written.

    The file is a flat file with the columns ``sku`` and ``fulfillment-latency`` (the handling time in
    business days, as in Amazon's inventory loader / "Price and Quantity" flat files, whose
    ``fulfillment-latency`` column sets the handling time of a listing); tab-separated for ``.txt`` and
    ``.tsv`` (what Seller Central uploads), comma-separated for ``.csv``. The rows of
    :meth:`HandlingAdvice.changes` (SKU grouping: only SKUs whose proposal differs from their current
    setting, unless ``all_skus``; a group: each of its SKUs). Written to a temporary file and renamed
    into place.

    Raises
    ------
    InputError
        An extension other than ``.txt``, ``.tsv``, ``.csv``.
    OutputError
        The file cannot be written (nothing is left half-written).
    """
    p = Path(path)
    seps = {".txt": "\t", ".tsv": "\t", ".csv": ","}
    if p.suffix.lower() not in seps:
        raise InputError(f"--export {p}: write a .txt or .tsv (tab-separated) or a .csv file")
    df = latency_table(advice, all_skus=all_skus)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent or ".")
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            df.to_csv(f, sep=seps[p.suffix.lower()], index=False)
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(f"cannot write {p}: {e.strerror or e}") from None
    return len(df)


def holiday_plan(
    wh,
    policy: Policy,
    seller_id: str,
    closed_from: date,
    closed_to: date,
    *,
    as_of: date | None = None,
    marketplace: str | None = None,
    allow_stale: bool = False,
) -> hp.HolidayPlan:
    """The holiday plan of a seller for a closure (:mod:`cxops.advisor.holiday`).

    Raises
    ------
    InputError
        A closure that ends before the as-of day, or longer than a year.
    NotFoundError
        The seller has no MFN orders (on the marketplace).
    StaleDataError
        ``as_of`` past the data (unless ``allow_stale``).
    """
    as_of = _default_as_of(wh, as_of, allow_stale, f"the holiday plan as of {as_of}")
    if closed_to < as_of:
        raise InputError(
            f"the closure {closed_from}..{closed_to} ended before {as_of}", hint="plan a closure to come"
        )
    if (closed_to - closed_from).days > 366:
        raise InputError(f"the closure {closed_from}..{closed_to} is longer than a year")
    lo_w = closed_to - timedelta(days=max(hp.WINDOWS) - 1)
    start = min(lo_w, as_of - timedelta(days=RATE_DAYS)) - timedelta(days=60)
    ctx = _Context(wh, seller_id, marketplace, start, closed_to + timedelta(days=400))
    plan = hp.HolidayPlan(seller_id, as_of, closed_from, closed_to)
    # every order of the seller due from the earliest window day on (open orders have a future day)
    pop = _population(wh, policy, seller_id, ctx.marketplaces, None, None)
    pop = pop[pop["day"] >= min(lo_w, as_of - timedelta(days=RATE_DAYS))]
    o = wh.table("orders")
    o = o.filter((o.seller_id == seller_id) & (o.fulfillment_channel.upper() == "MFN"))
    cutoff_utc = max(_utc_end(as_of, ZoneInfo(ctx.rules[mp].timezone)) for mp in ctx.marketplaces)
    # what was known at the end of the as-of day: orders placed by then; open = no shipment moved
    # (confirmed, scanned or delivered) and not cancelled by then
    end = pd.Timestamp(cutoff_utc)
    pop = pop[pd.to_datetime(pop["purchased_at"]) < end].reset_index(drop=True)
    moved = pd.to_datetime(pop["first_moved_at"]) < end
    cancelled = _cancelled(wh, seller_id, end)
    is_open = ~moved & ~pop["order_id"].isin(cancelled)
    pop = pop.assign(past_due=is_open & (pop["day"] <= as_of))
    open_orders = pop[is_open].rename(columns={"day": "ship_by_day"})
    plan.ship_before = hp.ship_before(open_orders, ctx.calendars, closed_from, closed_to)
    # handling times in use: the settings in force, and those the recent deadlines imply
    recent = pop[(pop["day"] > as_of - timedelta(days=RATE_DAYS)) & (pop["day"] <= as_of)]
    implied = ht.days_needed(recent, ctx.rules, ctx.calendar_days, ctx.seller_days)["implied"].dropna()
    settings = ctx.settings_at(as_of)
    for mp in ctx.marketplaces:
        hs = set(settings.loc[settings["marketplace_id"] == mp, "handling_days"].astype(int))
        hs |= set(implied[recent["marketplace_id"] == mp].astype(int))
        if not hs and ctx.rules[mp].default_handling_days is not None:
            hs = {ctx.rules[mp].default_handling_days}
        plan.modes.append(
            hp.holiday_mode(
                seller_id,
                ctx.rules[mp],
                ctx.calendars[mp],
                ctx.calendar_days,
                ctx.seller_days,
                sorted(hs),
                as_of,
                closed_from,
                closed_to,
            )
        )
    if not any(m.handling_days for m in plan.modes):
        plan.notes.append("advise.note.no_handling")
    # expected new orders: the seller's daily MFN orders over RATE_DAYS, placed before the cut-off each day
    mfn = wh.execute(o.select("purchased_at", "marketplace_id"))
    since = pd.Timestamp(datetime.combine(as_of - timedelta(days=RATE_DAYS - 1), time()))
    recent_orders = mfn[
        (pd.to_datetime(mfn["purchased_at"]) >= since)
        & (pd.to_datetime(mfn["purchased_at"]) < pd.Timestamp(cutoff_utc))
    ]
    plan.daily_orders, plan.rate_days = len(recent_orders) / RATE_DAYS, RATE_DAYS
    typical = implied.astype(int).mode()
    plan.typical_handling = int(typical.max()) if len(typical) else None
    expected = pd.DataFrame(columns=["ship_by_day", "orders"])
    if plan.typical_handling is not None and plan.daily_orders > 0:
        mp = (
            ctx.marketplaces[0]
            if len(ctx.marketplaces) == 1
            else recent_orders["marketplace_id"].mode().iloc[0]
        )
        zone = ZoneInfo(ctx.rules[mp].timezone)
        days = [as_of + timedelta(days=i) for i in range(1, (closed_to - as_of).days + 1)]
        grid = pd.DataFrame(
            {
                "seller_id": seller_id,
                "order_id": [str(d) for d in days],
                "marketplace_id": mp,
                "purchased_at": [hp.to_utc(datetime(d.year, d.month, d.day, 0, 1), zone) for d in days],
                "handling_days": plan.typical_handling,
            }
        )
        if len(grid):
            from cxops.deadlines.shipby import derive_ship_by

            due = derive_ship_by(grid, ctx.rules, ctx.calendar_days, ctx.seller_days)
            expected = pd.DataFrame({"ship_by_day": due["ship_by_date"].dt.date, "orders": plan.daily_orders})
    plan.effects = hp.effects(pop, open_orders, expected, closed_from, closed_to)
    return plan


def _utc_end(day: date, zone: ZoneInfo) -> datetime:
    return hp.to_utc(datetime.combine(day + timedelta(days=1), time()), zone)


def _cancelled(wh, seller_id: str, before: pd.Timestamp) -> set[str]:
    """Orders of the seller cancelled before ``before`` (UTC)."""
    if not wh.has_table("cancellations"):
        return set()
    c = wh.table("cancellations")
    c = c.filter((c.seller_id == seller_id) & (c.cancelled_at < before.to_pydatetime()))
    return set(wh.execute(c.select("order_id"))["order_id"])


#: Days after the as-of day in which :func:`upcoming_closed_days` looks.
UPCOMING_DAYS = 120


def upcoming_closed_days(
    wh, seller_id: str, marketplace: str, *, as_of: date | None = None, allow_stale: bool = False
) -> tuple[date, list[tuple[date, str]]]:
    """The closed weekdays of the seller's calendar in the :data:`UPCOMING_DAYS` days after ``as_of``
    (public holidays by name, the seller's non-operating days by their reason): candidates to plan a
    closure around. Returns ``(as_of, [(day, name), …])``.

    Raises
    ------
    NotFoundError
        The seller has no MFN orders on the marketplace.
    """
    as_of = _default_as_of(wh, as_of, allow_stale, f"the calendar as of {as_of}")
    end = as_of + timedelta(days=UPCOMING_DAYS)
    ctx = _Context(wh, seller_id, marketplace, as_of, end + timedelta(days=1))
    rule, cal = ctx.rules[marketplace], ctx.calendars[marketplace]
    span = np.arange(np.datetime64(as_of + timedelta(days=1)), np.datetime64(end) + 1)
    weekday = (span.astype(np.int64) + 3) % 7
    closed = span[~cal.open_on(span) & ~np.isin(weekday, list(rule.weekend))]
    names = ht.holiday_names(ctx.rules, as_of, UPCOMING_DAYS + 1)
    reasons = {}
    if ctx.seller_days is not None and len(ctx.seller_days):
        mine = ctx.seller_days[ctx.seller_days["marketplace_id"] == marketplace]
        reasons = {
            pd.Timestamp(d).date(): str(r or "")
            for d, r in zip(mine["day"], mine.get("reason", ""), strict=False)
        }
    out = []
    for d in closed.astype(object):  # a few days a year: display rows
        out.append((d, names.get((marketplace, d)) or reasons.get(d, "")))
    return as_of, out
