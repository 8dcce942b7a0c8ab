"""The deadline inputs of contract v2 a marketplace hands over, as generator SQL (``deadlines=True``).

Each table is one ``SELECT`` over the generator's working tables — the units (``_units``, one row per
seller and marketplace) or a chunk of the order view (``_o``) — like the other tables of
:func:`cxops.synth.model.table_sql`; every draw is a hash of the seed, the row and a stream.

==========================  ===================================================================
``handling_times``          per seller and marketplace, the default (SKU ``*``) from the day the
                            seller registered (or day 0); for :data:`~cxops.synth.model.
                            HANDLING_CHANGE_SHARE` of sellers one business day more from a day
                            mid-history (the old setting gets its ``effective_to``); for
                            :data:`~cxops.synth.model.SLOW_SKU_SHARE` one slow SKU (the second most
                            popular product) with two days more. The orders' ship-by dates are
                            computed with the setting in force when each was placed.
``seller_calendar_days``    holiday mode planned after the data ends (one closed row per day) for
                            :data:`~cxops.synth.model.CLOSURE_SHARE` of sellers — what the holiday
                            planner (``cxops advise holiday``) works on. Public holidays stay the
                            ``holidays`` library's (no ``calendar_days`` rows).
``ship_by_corrections``     :data:`CORRECTION_SHARE` of MFN orders not cancelled: the marketplace
                            (or an operator) extends the deadline by one or two days, before it,
                            with who and why.
``delivery_attempts``       :data:`FAILED_FIRST_ATTEMPT_SHARE` of the tracked MFN packages delivered
                            at least two days after their hand-over: a failed first attempt one or
                            two days before the delivery, then the delivered second attempt.
``delivery_confirmations``  :data:`CONFIRMATION_SHARE` of delivered orders (tracked or not): the
                            buyer's answer a few hours to days after the delivery, "on time" exactly
                            when the last package arrived by the promised instant.
==========================  ===================================================================

The orders change too: their ship-by dates follow the handling time in force, and for
:data:`~cxops.synth.model.EARLY_SCAN_SHARE` of the MFN orders confirmed late the carrier's acceptance
scan came before the deadline (handed over in time, confirmed late), so the "shipped" bases differ.
Scripted sellers (:mod:`cxops.synth.stories`) get no handling change, slow SKU, closure or
correction, so their storylines keep their metrics. Rows after the data cut are not written.
"""

from __future__ import annotations

from cxops.synth.draws import lit, lognormal, normal, u
from cxops.synth.model import _DAY, PACKAGE_COLUMNS, SLOW_SKU_EXTRA_DAYS, Spec, ts

#: Tables written when the deadline inputs are on, in load order; the per-order ones come last.
TABLES = (
    "seller_calendar_days",
    "handling_times",
    "ship_by_corrections",
    "delivery_attempts",
    "delivery_confirmations",
)
PER_ORDER = ("ship_by_corrections", "delivery_attempts", "delivery_confirmations")

#: Shares of the per-order inputs (an assumption: marketplaces publish none of them).
CORRECTION_SHARE = 0.004
FAILED_FIRST_ATTEMPT_SHARE = 0.06
CONFIRMATION_SHARE = 0.2
CORRECTION_REASONS = (
    "carrier disruption in the buyer's region",
    "public holiday added to the marketplace calendar",
    "order held for address verification",
    "marketplace outage delayed the order notification",
)
#: Draw streams (on the order number ``o``; the units' are in ``model._deadline_unit_columns``).
_S = 200


def table_sql(name: str, spec: Spec) -> str:
    """The ``SELECT`` writing deadline table ``name`` (contract column order; instants UTC).

    Raises
    ------
    KeyError
        For a table not in :data:`TABLES`.
    """
    return {
        "seller_calendar_days": _seller_calendar_days,
        "handling_times": _handling_times,
        "ship_by_corrections": _corrections,
        "delivery_attempts": _attempts,
        "delivery_confirmations": _confirmations,
    }[name](spec)


def _local_midnight(spec: Spec, day: str) -> str:
    """UTC epoch seconds of local 00:00 of day number ``day`` (SQL) in the unit's marketplace."""
    return spec.to_utc("mp_code", f"({spec.local0} + ({day}) * {_DAY})")


def _handling_times(spec: Spec) -> str:
    start, change = _local_midnight(spec, "ht_from"), _local_midnight(spec, "ht_day")
    return f"""
    SELECT seller_id, marketplace_id, sku, {ts("f")} AS effective_from, handling_days,
           CAST(CASE WHEN t IS NOT NULL THEN {ts("t")} END AS TIMESTAMP) AS effective_to
    FROM (
        SELECT unit_id, 0 AS r, seller_id, mp_id AS marketplace_id, '*' AS sku, {start} AS f,
               handling::BIGINT AS handling_days, CASE WHEN ht_day IS NOT NULL THEN {change} END AS t
        FROM _units
        UNION ALL
        SELECT unit_id, 1, seller_id, mp_id, '*', {change}, (handling + 1)::BIGINT, NULL
        FROM _units WHERE ht_day IS NOT NULL
        UNION ALL
        SELECT unit_id, 2, seller_id, mp_id, seller_id || '-1001', {start},
               (handling + {SLOW_SKU_EXTRA_DAYS})::BIGINT, NULL
        FROM _units WHERE slow_sku
    ) ORDER BY unit_id, r"""


def _seller_calendar_days(spec: Spec) -> str:
    recorded = f"({spec.cut} - floor({u(spec.seed, 'unit_id', 366)} * 20) * {_DAY} - 7200)"
    return f"""
    SELECT seller_id, mp_id AS marketplace_id,
           DATE '{spec.start.isoformat()}' + (closure_from + cd)::INTEGER AS day,
           true AS closed, 'holiday mode' AS reason, {ts(recorded)} AS recorded_at
    FROM (SELECT _units.*, unnest(range(closure_len)) AS cd FROM _units WHERE closure_from IS NOT NULL)
    ORDER BY unit_id, cd"""


def _corrections(spec: Spec) -> str:
    seed, cut = spec.seed, spec.cut
    uo = lambda k: u(seed, "o", _S + k)  # noqa: E731
    reasons = "[" + ", ".join(lit(r) for r in CORRECTION_REASONS) + "]"
    return f"""
    SELECT seller_id, order_id, {ts("c_s")} AS corrected_at,
           {ts(f"ship_s + (1 + floor({uo(2)} * 2)) * {_DAY}")} AS new_latest_ship_at,
           {ts("ship_s")} AS old_latest_ship_at,
           CASE WHEN {uo(3)} < 0.7 THEN 'marketplace' ELSE 'operator:marketplace-ops' END AS corrected_by,
           {reasons}[floor({uo(4)} * {len(CORRECTION_REASONS)})::INT + 1] AS reason
    FROM (SELECT *, p_s + greatest(60.0, (0.2 + 0.6 * {uo(1)}) * (ship_s - p_s)) AS c_s
          FROM _o WHERE NOT afn AND cancel_kind IS NULL AND {uo(0)} < {CORRECTION_SHARE!r}
                    AND unit_id NOT IN ({_story_units(spec)}))
    WHERE c_s < {cut} AND c_s < ship_s"""


def _story_units(spec: Spec) -> str:
    return ", ".join(str((s.seller - 1) * 2 + k) for s in spec.active_stories for k in (0, 1)) or "-1"


def _attempts(spec: Spec) -> str:
    seed, cut = spec.seed, spec.cut
    uo = lambda k: u(seed, "o", _S + k)  # noqa: E731
    return f"""
    SELECT seller_id, order_id, shipment_id, attempt::BIGINT AS attempt, {ts("at_s")} AS attempted_at, outcome
    FROM (
        SELECT seller_id, order_id, o, j, shipment_id, unnest([1, 2]) AS attempt,
               unnest([first_s, deliv_pkg]) AS at_s, unnest(['failed', 'delivered']) AS outcome
        FROM (
            SELECT *, deliv_pkg - (1 + floor(CASE WHEN j = 0 THEN {uo(10)} ELSE {uo(11)} END * 2)) * {_DAY}
                          - 3600.0 * floor(CASE WHEN j = 0 THEN {uo(12)} ELSE {uo(13)} END * 4) AS first_s
            FROM (
                SELECT seller_id, order_id, o, j, 'SH' || (o * 2 + j + 1)::VARCHAR AS shipment_id,
                       {PACKAGE_COLUMNS},
                       CASE WHEN j = 0 THEN {uo(14)} ELSE {uo(15)} END AS u_fail
                FROM (SELECT _o.*, unnest(range(1 + split::INT)) AS j FROM _o
                      WHERE cancel_kind IS NULL AND NOT afn)
            )
            WHERE tracked AND NOT lost_pkg AND deliv_pkg < {cut} AND conf < {cut}
                  AND u_fail < {FAILED_FIRST_ATTEMPT_SHARE!r}
                  AND deliv_pkg - greatest(conf, CASE WHEN scanned THEN scan ELSE conf END) >= {2 * _DAY}
        )
    ) ORDER BY o, j, attempt"""


def _confirmations(spec: Spec) -> str:
    seed, cut = spec.seed, spec.cut
    uo = lambda k: u(seed, "o", _S + k)  # noqa: E731
    after = f"3600.0 * {lognormal('20.0', 0.9, normal(seed, 'o', _S + 22))}"
    return f"""
    SELECT seller_id, order_id, {ts("c_s")} AS confirmed_at, deliv <= prom_s AS arrived_on_time
    FROM (SELECT *, deliv + greatest(600.0, {after}) AS c_s
          FROM _o WHERE cancel_kind IS NULL AND NOT lost AND {uo(20)} < {CONFIRMATION_SHARE!r})
    WHERE c_s < {cut}"""
