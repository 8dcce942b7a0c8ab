"""Which marketplace-local days an import restated, per table (computed in the staging area).

Later data restates earlier days (a shipment confirmed a week late changes past late-shipment
windows; a late claim changes an old order-defect window). For every changed row — inserted, or whose
stored values differ — the *anchor days* of the metrics that read it are collected, from the new and
the old values, in the marketplace's local calendar:

======================  ========================================================================
orders                  purchase, ship-by and promised-delivery days
order_items             the order's purchase day
shipments               confirmation day; the order's ship-by and promised-delivery days
cancellations           the order's purchase and ship-by days
feedback                submission day; the order's purchase day
claims                  filing day; the order's purchase day
returns                 request day
buyer_messages          receipt day
violations              report day
sellers                 registration day
reported_metrics        ``window_to``
ship_by_corrections     the old and new deadline days; the order's ship-by day
ship_by_derived         the derived ship-by day (old and new)
deadline_changes        the old and new deadline days
delivery_attempts       the attempt day; the order's promised-delivery day
delivery_confirmations  the order's ship-by day
======================  ========================================================================

The order's values are the warehouse's after the import. Recomputing metrics for windows that
contain these days is enough to take the import into account (a changed ``marketplaces`` row — a
time zone — restates every day of its marketplace: said in a note, no days listed).

Local days come from 15-minute UTC buckets (every zone offset and transition is a multiple of
15 minutes, so a bucket never straddles a local midnight), converted with DuckDB's ICU time zones:
the cost is one scan of the changed rows, whatever the number of rows.
"""

from __future__ import annotations

from cxops.canonical.rules import ident, literal
from cxops.canonical.schema import TABLES
from cxops.ingest.report import TableChanges

#: table -> (own timestamp columns, the order's timestamp columns)
ANCHORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders": (("purchased_at", "latest_ship_at", "latest_delivery_at"), ()),
    "order_items": ((), ("purchased_at",)),
    "shipments": (("confirmed_at",), ("latest_ship_at", "latest_delivery_at")),
    "cancellations": ((), ("purchased_at", "latest_ship_at")),
    "feedback": (("submitted_at",), ("purchased_at",)),
    "claims": (("filed_at",), ("purchased_at",)),
    "returns": (("requested_at",), ()),
    "buyer_messages": (("received_at",), ()),
    "violations": (("reported_at",), ()),
    "sellers": (("registered_at",), ()),
    "ship_by_corrections": (("old_latest_ship_at", "new_latest_ship_at"), ("latest_ship_at",)),
    "ship_by_derived": (("latest_ship_at",), ()),
    "deadline_changes": (("old_latest_ship_at", "new_latest_ship_at"), ()),
    "delivery_attempts": (("attempted_at",), ("latest_delivery_at",)),
    "delivery_confirmations": ((), ("latest_ship_at",)),
}
#: Provenance columns that do not make a row "changed" (the same numbers from another file).
NOT_COMPARED = {"reported_metrics": ("source_file", "source_metric")}
ORDER_KEY = ("seller_id", "order_id")
_BUCKET_US = 15 * 60 * 1_000_000


def table_changes(stg, table: str, final: str, orders_final: str | None, zones: str, default_mp: str | None):
    """Rows changed by replacing the stored rows of ``table`` with ``final``, and their local days.

    Parameters
    ----------
    stg : cxops.ingest.staging.Staging
    table : str
    final : str
        Staging relation of the incoming rows (contract columns, keys unique).
    orders_final : str, optional
        Staging relation of the incoming ``orders`` rows (they override the stored orders).
    zones : str
        Staging relation ``marketplace_id, timezone``.
    default_mp : str, optional
        Marketplace of rows whose order is unknown (the Amazon importer's given marketplace).

    Returns
    -------
    (TableChanges, str)
        The summary and a staging relation ``table_name, day`` of the days.
    """
    schema = TABLES[table]
    key = list(schema.key)
    stored = stg.stored(table)
    cols = [c.name for c in schema.columns]
    changed = stg.name(f"changed_{table}")
    if stored is None:
        stg.sql(f"CREATE VIEW {changed} AS SELECT {_sel(cols, 'n')}, true AS _new FROM {final} AS n")
        old = None
    else:
        have = set(stg.stored_columns(table))
        on = " AND ".join(f"o.{ident(k)} = n.{ident(k)}" for k in key)
        diffs = [
            f"n.{ident(c)} IS DISTINCT FROM {('o.' + ident(c)) if c in have else 'NULL'}"
            for c in cols
            if c not in key and c not in NOT_COMPARED.get(table, ())
        ]
        differ = " OR ".join(diffs) or "false"
        stg.sql(
            f"CREATE TABLE {changed} AS SELECT {_sel(cols, 'n')}, o.{ident(key[0])} IS NULL AS _new "
            f"FROM {final} AS n LEFT JOIN {stored} AS o ON {on} WHERE o.{ident(key[0])} IS NULL OR {differ}"
        )
        old = stg.name(f"old_{table}")
        okeys = " AND ".join(f"o.{ident(k)} = c.{ident(k)}" for k in key)
        sel_old = ", ".join(f"o.{ident(c)}" if c in have else f"NULL AS {ident(c)}" for c in cols)
        stg.sql(
            f"CREATE VIEW {old} AS SELECT {sel_old} FROM {stored} AS o "
            f"WHERE EXISTS (SELECT 1 FROM {changed} AS c WHERE {okeys})"
        )
    n, restated = stg.sql(f"SELECT count(*), count(*) FILTER (WHERE NOT _new) FROM {changed}").fetchone()
    n, restated = int(n), int(restated or 0)
    days = stg.name(f"days_{table}")
    versions = [f"SELECT {_sel(cols, 'c')} FROM {changed} AS c"] + ([f"SELECT * FROM {old}"] if old else [])
    rows = "(" + " UNION ALL ".join(versions) + ")"
    if table == "reported_metrics":
        stg.sql(
            f"CREATE TABLE {days} AS SELECT DISTINCT {literal(table)} AS table_name, window_to AS day "
            f"FROM {rows} WHERE window_to IS NOT NULL"
        )
    elif table in ANCHORS and n:
        instants = _instants(stg, table, rows, orders_final, default_mp)
        if instants:
            # distinct (marketplace, 15-minute bucket) per anchor column first: a small set to convert
            buckets = " UNION ".join(
                f"SELECT DISTINCT mp, epoch_us(ts) // {_BUCKET_US} AS b FROM ({q}) WHERE ts IS NOT NULL"
                for q in instants
            )
            stg.sql(
                f"CREATE TABLE {days} AS SELECT DISTINCT {literal(table)} AS table_name, "
                "CAST(timezone(z.timezone, CAST(make_timestamp(b.b * "
                f"{_BUCKET_US}) AS TIMESTAMPTZ)) AS DATE) AS day "
                f"FROM ({buckets}) AS b JOIN {zones} AS z ON z.marketplace_id = b.mp"
            )
        else:
            _empty_days(stg, days)
    else:
        _empty_days(stg, days)
    listed = [r[0] for r in stg.sql(f"SELECT day FROM {days} ORDER BY day").fetchall()]
    return TableChanges(table, n, listed, restated), days


def _empty_days(stg, days: str) -> None:
    stg.sql(f"CREATE TABLE {days} (table_name VARCHAR, day DATE)")


def _sel(cols: list[str], alias: str) -> str:
    return ", ".join(f"{alias}.{ident(c)}" for c in cols)


def _instants(stg, table: str, rows: str, orders_final: str | None, default_mp: str | None) -> list[str]:
    """SELECTs of ``(mp, ts)``: every anchor instant of the changed rows with its marketplace."""
    own, of_order = ANCHORS[table]
    schema = TABLES[table]
    has_mp = "marketplace_id" in schema.column_names
    has_order = all(k in schema.column_names for k in ORDER_KEY)
    fallback = literal(default_mp) if default_mp else "NULL"
    if not has_order or (has_mp and not of_order and schema.column("marketplace_id").required):
        # sellers, violations, orders: their own marketplace, no join
        return [f"SELECT marketplace_id AS mp, {ident(c)} AS ts FROM {rows}" for c in own]
    sources = []
    o_stored = stg.stored("orders")
    joins = ""
    mp_parts = []
    ocol = {}
    for alias, rel in (("n", orders_final), ("s", o_stored)):
        if rel is None:
            continue
        on = " AND ".join(f"{alias}.{ident(k)} = r.{ident(k)}" for k in ORDER_KEY)
        joins += f" LEFT JOIN {rel} AS {alias} ON {on}"
        sources.append(alias)
    if sources:
        # the incoming order wins over the stored one
        def pick(c: str) -> str:
            if len(sources) == 1:
                return f"{sources[0]}.{ident(c)}"
            return f"CASE WHEN n.{ident('order_id')} IS NOT NULL THEN n.{ident(c)} ELSE s.{ident(c)} END"

        mp_parts.append(pick("marketplace_id"))
        for c in of_order:
            ocol[c] = pick(c)
    mp = (
        "COALESCE("
        + ", ".join(([f"r.{ident('marketplace_id')}"] if has_mp else []) + mp_parts + [fallback])
        + ")"
    )
    base = stg.name(f"anchors_{table}")  # the join once, then one scan per anchor column
    stg.sql(
        f"CREATE TABLE {base} AS SELECT {mp} AS _mp"
        + "".join(f", r.{ident(c)} AS {ident(c)}" for c in own)
        + "".join(f", {e} AS _o_{c}" for c, e in ocol.items())
        + f" FROM {rows} AS r{joins}"
    )
    out = [f"SELECT _mp AS mp, {ident(c)} AS ts FROM {base}" for c in own]
    out += [f"SELECT _mp AS mp, _o_{c} AS ts FROM {base}" for c in ocol]
    return out
