"""Derived ship-by deadlines, kept with the import that changes their inputs (one atomic commit).

When an import touches orders, order items, marketplaces or a deadline table, and the warehouse (after
the import) has handling times — per-SKU settings or a marketplace default — every MFN order without a
source ship-by (``orders.latest_ship_at`` null) gets a deadline from :func:`cxops.deadlines.shipby.
derive_ship_by`, written to ``ship_by_derived`` (its provenance: handling days and where they came
from, the received and ship-by days, when it was derived). The metrics read it where the source gave
no deadline (:mod:`cxops.metrics.deadlines`).

The handling time of an order is the largest over its SKUs of the setting **in force when it was
placed** (the latest ``effective_from`` at or before ``purchased_at``, unless its ``effective_to``
has passed), a SKU without one taking the seller's default (SKU ``*``), else the marketplace's
``default_handling_days``; an order with no handling time gets no derived deadline.

**Versioning.** A derived deadline that is still ahead at the import (``latest_ship_at >=`` the
import's instant) is *not final*: when a calendar, rule or handling-time change gives it another
value, it is replaced and the change is logged in ``deadline_changes`` (order, old and new deadline,
why). A deadline already past is final: the seller was judged by it, and a later calendar correction
leaves it as it was.
"""

from __future__ import annotations

import pandas as pd

from cxops.canonical.marketplaces import builtin_marketplaces
from cxops.canonical.rules import ident
from cxops.canonical.schema import TABLES
from cxops.deadlines.calendars import deadline_rules
from cxops.deadlines.shipby import derive_ship_by
from cxops.errors import InputError

#: Tables whose change can change a derived deadline.
INPUTS = (
    "orders",
    "order_items",
    "marketplaces",
    "deadline_rules",
    "calendar_days",
    "seller_calendar_days",
    "handling_times",
)


def after(job, table: str) -> str | None:
    """SQL of ``table`` as it will be after the import (incoming rows over stored rows), or ``None``."""
    stg = job.stg
    final, stored = job.finals.get(table), stg.stored(table)
    if final is None and stored is None:
        return None
    schema = TABLES[table]
    cols = schema.column_names
    if final is None:
        have = set(stg.stored_columns(table))
        return (
            "SELECT "
            + ", ".join(ident(c) if c in have else f"NULL AS {ident(c)}" for c in cols)
            + (f" FROM {stored}")
        )
    sel = ", ".join(ident(c) for c in cols)
    if stored is None:
        return f"SELECT {sel} FROM {final}"
    have = set(stg.stored_columns(table))
    s_sel = ", ".join(f"s.{ident(c)}" if c in have else f"NULL AS {ident(c)}" for c in cols)
    on = " AND ".join(f"n.{ident(k)} = s.{ident(k)}" for k in schema.key)
    return (
        f"SELECT {sel} FROM {final} UNION ALL SELECT {s_sel} FROM {stored} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {final} AS n WHERE {on})"
    )


def derive(job) -> None:
    """Stage the derived deadlines of ``job`` (see :func:`_derive`); a bad rule stops the import.

    Raises
    ------
    cxops.errors.InputError
        A bad deadline rule (time, weekend, day convention, unknown holiday country or
        subdivision), named by table, marketplace and column; nothing is imported.
    """
    try:
        _derive(job)
    except InputError as e:
        raise InputError(f"{e}; nothing was imported", hint=e.hint) from None


def _derive(job) -> None:
    """Stage ``ship_by_derived`` and ``deadline_changes`` parts of ``job`` (after its merges).

    Nothing is staged when the import touches no input of a deadline, or no handling time is known.

    Raises
    ------
    cxops.errors.InputError
        A bad deadline rule (time, weekend, unknown holiday country or subdivision).
    """
    touched = [t for t in INPUTS if t in job.parts]
    if not touched:
        return
    stg = job.stg
    handling = after(job, "handling_times")
    rules_sql = after(job, "deadline_rules")
    rules = None
    if {"deadline_rules", "marketplaces"} & set(touched) and rules_sql is not None:
        rules = _rules(job, rules_sql)  # a bad rule stops the import even when no deadline is derived
    has_default = rules_sql is not None and stg.scalar(
        f"SELECT count(*) FROM ({rules_sql}) WHERE default_handling_days IS NOT NULL"
    )
    if handling is None and not has_default:
        return
    orders = after(job, "orders")
    if orders is None:
        return
    candidates = _handling_days(job, orders, handling, rules_sql, _open_keys(job, touched))
    if not len(candidates):
        return
    rules = rules or _rules(job, rules_sql)
    cal = after(job, "calendar_days")
    sel = after(job, "seller_calendar_days")
    out = derive_ship_by(
        candidates,
        rules,
        stg.df(cal) if cal else None,
        stg.df(sel) if sel else None,
    )
    out["handling_source"] = candidates.loc[candidates["handling_days"].notna(), "handling_source"].to_numpy()
    out["derived_at"] = pd.Timestamp(job.imported_at)
    new = stg.put(out, "derived_new")
    stored = stg.stored("ship_by_derived")
    changed = stg.name("derived_changed")
    if stored is None:
        stg.sql(f"CREATE TABLE {changed} AS SELECT * FROM {new}")
        log = None
    else:
        now = pd.Timestamp(job.imported_at).isoformat(sep=" ")
        # new orders, and not-final deadlines whose value changed; final (past) deadlines stay
        stg.sql(
            f"CREATE TABLE {changed} AS SELECT n.*, s.latest_ship_at AS _old FROM {new} AS n "
            f"LEFT JOIN {stored} AS s ON s.seller_id = n.seller_id AND s.order_id = n.order_id "
            f"WHERE s.order_id IS NULL OR (s.latest_ship_at IS DISTINCT FROM n.latest_ship_at "
            f"AND s.latest_ship_at >= TIMESTAMP '{now}')"
        )
        log = stg.name("deadline_log")
        why = "recomputed after an import of " + ", ".join(touched)
        stg.sql(
            f"CREATE TABLE {log} AS SELECT seller_id, order_id, TIMESTAMP '{now}' AS changed_at, "
            f"_old AS old_latest_ship_at, latest_ship_at AS new_latest_ship_at, ? AS reason "
            f"FROM {changed} WHERE _old IS NOT NULL",
            [why],
        )
        stg.sql(f"ALTER TABLE {changed} DROP COLUMN _old")
    n_changed = int(stg.scalar(f"SELECT count(*) FROM {changed}"))
    n_logged = int(stg.scalar(f"SELECT count(*) FROM {log}")) if log is not None else 0
    if n_changed:
        job.part("ship_by_derived", changed)
    if n_logged:
        job.part("deadline_changes", log)
    if n_changed - n_logged:
        job.report.note(
            f"ship-by deadlines derived for {n_changed - n_logged} MFN order(s) without one "
            "(handling time and calendar; see ship_by_derived)"
        )
    if n_logged:
        job.report.note(
            f"{n_logged} derived ship-by deadline(s) not yet passed were recomputed (see deadline_changes)"
        )


def _rules(job, rules_sql: str | None):
    """Each marketplace's :class:`~cxops.deadlines.calendars.DeadlineRule` (stored or incoming
    marketplaces over the built-ins)."""
    mps = builtin_marketplaces()[["marketplace_id", "timezone", "country", "weekend"]]
    given = after(job, "marketplaces")
    if given is not None:
        mine = job.stg.df(f"SELECT marketplace_id, timezone, country, weekend FROM ({given})")
        mps = pd.concat([mine, mps[~mps["marketplace_id"].isin(mine["marketplace_id"])]], ignore_index=True)
    return deadline_rules(mps, job.stg.df(rules_sql) if rules_sql else None)


def _open_keys(job, touched: list[str]) -> str | None:
    """SQL of the order keys whose derived deadline may change, or ``None`` for every order.

    A final (past) derived deadline never changes, so only orders with no derived deadline yet or a
    deadline still ahead are recomputed; when only orders or order items came in, only those orders.
    """
    stg = job.stg
    now = pd.Timestamp(job.imported_at).isoformat(sep=" ")
    stored = stg.stored("ship_by_derived")
    parts = []
    if set(touched) <= {"orders", "order_items"}:
        parts = [f"SELECT seller_id, order_id FROM {job.finals[t]}" for t in touched if t in job.finals]
        return " UNION ".join(parts) if parts else None
    if stored is None:
        return None
    return (
        f"SELECT seller_id, order_id FROM ({after(job, 'orders')}) AS o WHERE NOT EXISTS (SELECT 1 FROM "
        f"{stored} AS s WHERE s.seller_id = o.seller_id AND s.order_id = o.order_id "
        f"AND s.latest_ship_at < TIMESTAMP '{now}')"
    )


def _handling_days(
    job, orders: str, handling: str | None, rules_sql: str | None, keys: str | None = None
) -> pd.DataFrame:
    """MFN orders without a source ship-by, with ``handling_days`` and ``handling_source``.

    ``keys``: SQL of the ``seller_id, order_id`` to consider (``None``: every order).
    """
    items = after(job, "order_items")
    lines = (
        f"SELECT o.*, i.sku FROM o LEFT JOIN (SELECT DISTINCT seller_id, order_id, sku FROM ({items}) "
        "WHERE sku IS NOT NULL) AS i ON i.seller_id = o.seller_id AND i.order_id = o.order_id"
        if items
        else "SELECT o.*, CAST(NULL AS VARCHAR) AS sku FROM o"
    )
    in_force = (
        "QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY h.effective_from DESC) = 1"  # latest start
    )
    if handling:
        sku = (
            f"SELECT l.seller_id, l.order_id, l.sku, h.handling_days, h.effective_to, l.purchased_at "
            f"FROM lines AS l JOIN ({handling}) AS h ON h.seller_id = l.seller_id "
            "AND h.marketplace_id = l.marketplace_id AND h.sku = l.sku "
            "AND h.effective_from <= l.purchased_at " + in_force.format(part="l.seller_id, l.order_id, l.sku")
        )
        dflt = (
            f"SELECT o.seller_id, o.order_id, h.handling_days, h.effective_to, o.purchased_at "
            f"FROM o JOIN ({handling}) AS h ON h.seller_id = o.seller_id "
            "AND h.marketplace_id = o.marketplace_id AND h.sku = '*' AND h.effective_from <= o.purchased_at "
            + in_force.format(part="o.seller_id, o.order_id")
        )
    else:
        sku = "SELECT NULL::VARCHAR AS seller_id, NULL::VARCHAR AS order_id, NULL::VARCHAR AS sku, "
        sku += "NULL::INTEGER AS handling_days, NULL::TIMESTAMP AS effective_to, "
        sku += "NULL::TIMESTAMP AS purchased_at "
        sku += "WHERE false"
        dflt = sku.replace("NULL::VARCHAR AS sku, ", "")
    mp_default = (
        f"SELECT marketplace_id, default_handling_days FROM ({rules_sql})"
        if rules_sql
        else "SELECT NULL::VARCHAR AS marketplace_id, NULL::INTEGER AS default_handling_days WHERE false"
    )
    live = "(x.effective_to IS NULL OR x.purchased_at < x.effective_to)"
    restrict = (
        f" AND EXISTS (SELECT 1 FROM ({keys}) AS k "
        "WHERE k.seller_id = a.seller_id AND k.order_id = a.order_id)"
        if keys
        else ""
    )
    q = f"""
    WITH o AS (
        SELECT seller_id, order_id, marketplace_id, purchased_at FROM ({orders}) AS a
        WHERE latest_ship_at IS NULL AND upper(fulfillment_channel) = 'MFN'{restrict}
    ),
    lines AS ({lines}),
    sku AS (SELECT * FROM ({sku}) AS x WHERE {live}),
    dflt AS (SELECT * FROM ({dflt}) AS x WHERE {live}),
    mpd AS ({mp_default}),
    per_line AS (
        SELECT l.seller_id, l.order_id, l.marketplace_id, l.purchased_at,
               coalesce(s.handling_days, d.handling_days, m.default_handling_days) AS handling_days,
               CASE WHEN s.handling_days IS NOT NULL THEN 'sku'
                    WHEN d.handling_days IS NOT NULL THEN 'seller'
                    WHEN m.default_handling_days IS NOT NULL THEN 'marketplace' END AS handling_source
        FROM lines AS l
        LEFT JOIN sku AS s ON s.seller_id = l.seller_id AND s.order_id = l.order_id AND s.sku = l.sku
        LEFT JOIN dflt AS d ON d.seller_id = l.seller_id AND d.order_id = l.order_id
        LEFT JOIN mpd AS m ON m.marketplace_id = l.marketplace_id
    )
    SELECT seller_id, order_id, any_value(marketplace_id) AS marketplace_id,
           any_value(purchased_at) AS purchased_at, max(handling_days) AS handling_days,
           arg_max(handling_source, handling_days) AS handling_source
    FROM per_line GROUP BY seller_id, order_id HAVING max(handling_days) IS NOT NULL
    ORDER BY seller_id, order_id
    """
    return job.stg.df(q)
