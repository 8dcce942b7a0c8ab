"""The metric catalog as of one day, hand-written in DuckDB SQL straight on the canonical Parquet files.

Same semantics as ``cxops.metrics`` with default ``MetricOptions`` (README "Metrics"); local days via
a CASE over each zone's UTC-offset periods (from ``zoneinfo``). Returns long rows ``seller_id,
marketplace_id, channel, metric, window_days, numerator, denominator, value`` for every seller whose
start is on or before the day.

Tuned the way a skilled SQL writer would on this engine; every shortcut keeps the results exact (the
assumptions are asserted by ``_check_zones``):

* **UTC prefilters.** Each windowed population is first cut on the raw UTC column its local day comes
  from: orders ``purchased_at`` (90 days: order defects 60, order counts 90, cancellations 7),
  ``latest_ship_at`` (30) and ``latest_delivery_at`` (30), shipments ``confirmed_at`` (30), feedback
  ``submitted_at`` (90), messages ``received_at`` (90) and violations ``reported_at`` (180). The cut
  for a w-day window is ``[D-w+1 - 1 day, D + 2 days)`` in UTC: every offset of these zones is within
  ±1 day (−8 h … +9 h), so a local day in ``[D-w+1, D]`` always comes from an instant in that range.
  The cuts are plain comparisons with constants, pushed into the Parquet scans; the exact local-day
  window is applied afterwards. (The order table is therefore a ``NOT MATERIALIZED`` CTE, so that
  every use gets its own filtered scan instead of one materialised full copy.)
* **Short local-date CASEs.** For a prefiltered column the CASE lists only the offset periods that
  overlap the cut (two or three per zone instead of 35 for 2010–2026): exact for every row that passes
  it. Columns without a cut (delivery and response times, registrations) use the full CASE.
* **Seller start day.** The first order day per (seller, marketplace) is the local date of
  ``min(purchased_at)``: the local date is non-decreasing in the instant (offset changes happen at
  01:00–03:00 local and never move the clock across midnight), so one instant per seller is converted
  instead of the whole history.
* **Shared, narrowed joins.** Shipments are read twice: once semi-joined to the orders of the
  late-shipment, cancellation and delivery windows (the per-order shipment summary is aggregated only
  for those), once cut on ``confirmed_at`` for tracking. The marketplace and channel of the orders
  behind windowed shipments, feedback and messages come from one semi-join of the order keys.
* Aggregates used by several metrics are ``MATERIALIZED`` CTEs (computed once), and the offset periods
  are computed once per zone (day steps, each change located to the second).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

#: The marketplaces' zones (as in the generated marketplaces.parquet).
ZONES = {
    "US": "America/Los_Angeles",
    "CA": "America/Toronto",
    "UK": "Europe/London",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "JP": "Asia/Tokyo",
}


@cache
def _segments(tz: str, lo=datetime(2010, 1, 1), hi=datetime(2027, 1, 1)):
    """(UTC start, offset seconds) of each offset period in [lo, hi) (covers the generated registration and
    order times): day steps, each change located to the second by bisection."""
    z = ZoneInfo(tz)

    def off(t):
        return int(t.astimezone(z).utcoffset().total_seconds())

    t, end = lo.replace(tzinfo=UTC), hi.replace(tzinfo=UTC)
    cur = off(t)
    segs = [(lo, cur)]
    while t < end:
        nxt = t + timedelta(days=1)
        if (o := off(nxt)) != cur:
            a, b = t, nxt  # off(a) == cur != off(b)
            while b - a > timedelta(seconds=1):
                mid = a + timedelta(seconds=int((b - a).total_seconds()) // 2)
                a, b = (mid, b) if off(mid) == cur else (a, mid)
            if b < end:
                segs.append((b.replace(tzinfo=None), o))
            cur = o
        t = nxt
    return segs


def _check_zones() -> None:
    """The assumptions behind the prefilters and the start-day shortcut (see the module docstring)."""
    for tz in ZONES.values():
        segs = _segments(tz)
        assert all(abs(o) < 86400 for _, o in segs), tz
        for (_, o1), (t, o2) in zip(segs, segs[1:], strict=False):
            before = (t - timedelta(seconds=1) + timedelta(seconds=o1)).date()
            assert (t + timedelta(seconds=o2)).date() >= before, (tz, t)


def ld(ts: str, mp: str, span: tuple[datetime, datetime] | None = None) -> str:
    """SQL: the marketplace-local date of UTC instant ``ts`` (a CASE over the zones' offset periods).

    With ``span`` = (lo, hi) only the offset periods overlapping [lo, hi) are listed: exact for every
    ``ts`` in [lo, hi) (the caller guarantees it with a prefilter), and a much shorter CASE.
    """
    parts = []
    for m, tz in ZONES.items():
        segs = _segments(tz)
        if span is not None:
            ends = [s for s, _ in segs[1:]] + [None]  # the first period reaches back indefinitely
            segs = [
                (s, o)
                for i, ((s, o), e) in enumerate(zip(segs, ends, strict=True))
                if (e is None or e > span[0]) and (i == 0 or s < span[1])
            ]
        inner = " ".join(
            f"WHEN {ts} < TIMESTAMP '{s2}' THEN {o1}"
            for (s1, o1), (s2, _) in zip(segs, segs[1:], strict=False)
        )
        parts.append(
            f"WHEN '{m}' THEN (CASE {inner} ELSE {segs[-1][1]} END)"
            if inner
            else f"WHEN '{m}' THEN {segs[-1][1]}"
        )
    return f"CAST({ts} + to_seconds(CASE {mp} {' '.join(parts)} ELSE 0 END) AS DATE)"


def sql(d: str, as_of: date) -> str:
    _check_zones()
    D = f"DATE '{as_of.isoformat()}'"

    def p(t):
        return f"read_parquet('{d}/{t}.parquet')"

    def win(col, w):
        return f"({col} BETWEEN {D} - INTERVAL {w - 1} DAY AND {D})"

    def span(w):
        """UTC instants whose local day (in any zone) can be in the w-day window ending on as_of."""
        lo = datetime.combine(as_of - timedelta(days=w), datetime.min.time())
        return lo, datetime.combine(as_of + timedelta(days=2), datetime.min.time())

    def pre(col, w):
        """UTC prefilter on ``col`` for the w-day window (see ``span``)."""
        lo, hi = span(w)
        return f"({col} >= TIMESTAMP '{lo}' AND {col} < TIMESTAMP '{hi}')"

    def ldw(col, mp, w):
        """Local date of ``col``, exact for rows passing ``pre(col, w)``."""
        return ld(col, mp, span(w))

    return f"""
WITH tz AS (SELECT marketplace_id FROM {p("marketplaces")}),
ok AS NOT MATERIALIZED (SELECT o.seller_id, o.order_id, o.marketplace_id, lower(o.fulfillment_channel) AS channel, o.units,
              o.purchased_at, o.latest_ship_at, o.latest_delivery_at
       FROM {p("orders")} o JOIN tz USING (marketplace_id)),
ow AS MATERIALIZED (
  SELECT * FROM (SELECT seller_id, order_id, marketplace_id, channel,
                        {ldw("purchased_at", "marketplace_id", 90)} AS day
                 FROM ok WHERE {pre("purchased_at", 90)})
  WHERE {win("day", 90)}
),
first AS MATERIALIZED (
  SELECT seller_id, marketplace_id, {ld("t0", "marketplace_id")} AS first_day
  FROM (SELECT seller_id, marketplace_id, min(purchased_at) AS t0 FROM ok GROUP BY ALL)
),
u AS (
  SELECT k.seller_id, k.marketplace_id,
         coalesce(least(r.reg_day, f.first_day), r.reg_day, f.first_day) AS start_day
  FROM (SELECT seller_id, marketplace_id FROM first UNION SELECT seller_id, marketplace_id FROM {p("sellers")}) k
  LEFT JOIN (SELECT s.seller_id, s.marketplace_id,
                    {ld("s.registered_at", "s.marketplace_id")} AS reg_day
             FROM {p("sellers")} s JOIN tz USING (marketplace_id)) r USING (seller_id, marketplace_id)
  LEFT JOIN first f USING (seller_id, marketplace_id)
),
base AS MATERIALIZED (SELECT * FROM u WHERE start_day <= {D}),
ch3 AS (SELECT * FROM (VALUES ('all'), ('mfn'), ('afn')) t(channel)),
g3 AS MATERIALIZED (SELECT b.seller_id, b.marketplace_id, c.channel FROM base b CROSS JOIN ch3 c),
g1 AS (SELECT seller_id, marketplace_id, 'all' AS channel FROM base),
gm AS (SELECT seller_id, marketplace_id, 'mfn' AS channel FROM base),
neg AS (SELECT DISTINCT seller_id, order_id FROM {p("feedback")}
        WHERE rating <= 2 AND removed_at IS NULL AND NOT coalesce(is_shared, false)),
az AS (SELECT DISTINCT seller_id, order_id FROM {p("claims")}
       WHERE kind = 'a_to_z' AND (decision IS NULL OR decision NOT IN ('denied', 'withdrawn', 'reversed'))),
cb AS (SELECT DISTINCT seller_id, order_id FROM {p("claims")}
       WHERE kind = 'chargeback' AND (decision IS NULL OR decision NOT IN ('denied', 'withdrawn', 'reversed'))
         AND NOT coalesce(is_fraud, false)),
odr_r AS (
  SELECT o.seller_id, o.marketplace_id, o.channel,
         (neg.order_id IS NOT NULL)::INT AS f_neg, (az.order_id IS NOT NULL)::INT AS f_az,
         (cb.order_id IS NOT NULL)::INT AS f_cb
  FROM ow o LEFT JOIN neg USING (seller_id, order_id) LEFT JOIN az USING (seller_id, order_id)
         LEFT JOIN cb USING (seller_id, order_id)
  WHERE {win("o.day", 60)}
),
odr AS MATERIALIZED (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel, count(*) AS n,
         sum(greatest(f_neg, f_az, f_cb)) AS defect, sum(f_neg) AS neg, sum(f_az) AS az, sum(f_cb) AS cb
  FROM odr_r GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
ol AS MATERIALIZED (
  SELECT * FROM (SELECT seller_id, order_id, marketplace_id, units, latest_ship_at,
                        {ldw("latest_ship_at", "marketplace_id", 30)} AS day
                 FROM ok WHERE channel = 'mfn' AND {pre("latest_ship_at", 30)})
  WHERE {win("day", 30)}
),
op AS MATERIALIZED (SELECT seller_id, order_id FROM ow WHERE channel = 'mfn' AND {win("day", 7)}),
od AS MATERIALIZED (
  SELECT * FROM (SELECT seller_id, order_id, marketplace_id, channel, latest_delivery_at,
                        {ldw("latest_delivery_at", "marketplace_id", 30)} AS day
                 FROM ok WHERE {pre("latest_delivery_at", 30)})
  WHERE {win("day", 30)}
),
mk AS MATERIALIZED (SELECT seller_id, order_id FROM ol UNION SELECT seller_id, order_id FROM op),
sk AS (SELECT seller_id, order_id FROM mk UNION SELECT seller_id, order_id FROM od),
sx AS MATERIALIZED (
  SELECT seller_id, order_id, confirmed_at, delivered_at, units
  FROM {p("shipments")} SEMI JOIN sk USING (seller_id, order_id)
),
sv AS MATERIALIZED (
  SELECT seller_id, order_id, confirmed_at, carrier, tracking_id, first_scan_at
  FROM {p("shipments")} WHERE {pre("confirmed_at", 30)}
),
fw AS MATERIALIZED (
  SELECT seller_id, order_id, rating, submitted_at FROM {p("feedback")}
  WHERE removed_at IS NULL AND NOT coalesce(is_shared, false) AND {pre("submitted_at", 90)}
),
mw AS MATERIALIZED (
  SELECT seller_id, order_id, marketplace_id, received_at, first_response_at FROM {p("buyer_messages")}
  WHERE NOT coalesce(no_response_needed, false) AND {pre("received_at", 90)}
),
okm AS MATERIALIZED (
  SELECT o.seller_id, o.order_id, o.marketplace_id, o.channel
  FROM ok o SEMI JOIN (SELECT seller_id, order_id FROM sv
                       UNION SELECT seller_id, order_id FROM fw
                       UNION SELECT seller_id, order_id FROM mw) n USING (seller_id, order_id)
),
ss AS MATERIALIZED (
  SELECT s.seller_id, s.order_id, count(*) AS n_s,
         sum((confirmed_at IS NULL AND delivered_at IS NULL)::INT) AS n_uu,
         sum((confirmed_at IS NULL AND delivered_at IS NOT NULL)::INT) AS n_ud,
         min(confirmed_at) AS first_conf, max(confirmed_at) AS last_conf, sum(units) AS conf_units
  FROM sx s JOIN mk USING (seller_id, order_id) GROUP BY ALL
),
ca AS (SELECT seller_id, order_id, cancelled_at, initiated_by, via_buyer_request FROM {p("cancellations")}),
lsr_r AS (
  SELECT o.seller_id, o.marketplace_id, o.day,
         coalesce(ss.last_conf > o.latest_ship_at, false) AS clate,
         (ss.n_s IS NULL OR coalesce(ss.n_uu, 0) > 0
          OR coalesce(o.units IS NOT NULL AND ss.conf_units IS NOT NULL AND ss.conf_units < o.units, false))
           AS unshipped,
         (ca.cancelled_at IS NOT NULL AND (ss.first_conf IS NULL OR ca.cancelled_at < ss.first_conf)) AS cbs,
         coalesce(ss.n_ud, 0) AS n_ud
  FROM ol o LEFT JOIN ss USING (seller_id, order_id) LEFT JOIN ca USING (seller_id, order_id)
),
lsr AS MATERIALIZED (
  SELECT seller_id, marketplace_id, 'mfn' AS channel,
         count(*) FILTER (WHERE {win("day", 10)}) AS n10, sum(f_late) FILTER (WHERE {win("day", 10)}) AS l10,
         count(*) AS n30, sum(f_late) AS l30
  FROM (SELECT seller_id, marketplace_id, day, (clate OR (unshipped AND NOT cbs))::INT AS f_late
        FROM lsr_r WHERE NOT (NOT clate AND NOT unshipped AND n_ud > 0) AND NOT cbs)
  GROUP BY ALL
),
pfcr AS (
  SELECT o.seller_id, o.marketplace_id, 'mfn' AS channel, count(*) AS n,
         sum((ca.cancelled_at IS NOT NULL AND (ss.first_conf IS NULL OR ca.cancelled_at < ss.first_conf)
              AND ca.initiated_by IN ('seller', 'system') AND NOT coalesce(ca.via_buyer_request, false))::INT) AS c
  FROM ow o LEFT JOIN ss USING (seller_id, order_id) LEFT JOIN ca USING (seller_id, order_id)
  WHERE o.channel = 'mfn' AND {win("o.day", 7)} GROUP BY ALL
),
vtr AS (
  SELECT seller_id, marketplace_id, 'mfn' AS channel, count(*) AS n,
         sum((tracking_id IS NOT NULL AND trim(tracking_id) <> '' AND carrier IS NOT NULL
              AND first_scan_at IS NOT NULL)::INT) AS v
  FROM (SELECT s.seller_id, o.marketplace_id, s.tracking_id, s.carrier, s.first_scan_at,
               {ldw("s.confirmed_at", "o.marketplace_id", 30)} AS day
        FROM sv s JOIN okm o USING (seller_id, order_id)
        WHERE o.channel = 'mfn')
  WHERE {win("day", 30)}
  GROUP BY ALL
),
otd_r AS (
  SELECT o.seller_id, o.marketplace_id, o.channel, o.day,
         (s.delivered_at IS NOT NULL)::INT AS f_d,
         coalesce({ld("s.delivered_at", "o.marketplace_id")} <= o.day, false)::INT AS f_ot,
         (s.delivered_at IS NULL AND s.confirmed_at IS NOT NULL)::INT AS f_od
  FROM sx s JOIN od o USING (seller_id, order_id)
),
otd AS MATERIALIZED (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel,
         sum(f_d) FILTER (WHERE {win("day", 14)}) AS d14, sum(f_ot) FILTER (WHERE {win("day", 14)}) AS t14,
         sum(f_od) FILTER (WHERE {win("day", 14)}) AS o14, sum(f_d) AS d30, sum(f_ot) AS t30, sum(f_od) AS o30
  FROM otd_r
  GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
csat AS (
  SELECT seller_id, marketplace_id, 'all' AS channel, count(*) AS n, sum((rating - 1) * 25.0) AS pts
  FROM (SELECT f.seller_id, o.marketplace_id, f.rating, {ldw("f.submitted_at", "o.marketplace_id", 90)} AS day
        FROM fw f JOIN okm o USING (seller_id, order_id))
  WHERE {win("day", 90)}
  GROUP BY ALL
),
cnt AS MATERIALIZED (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel,
         count(*) FILTER (WHERE {win("day", 30)}) AS n30, count(*) AS n90
  FROM ow
  GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
vio AS MATERIALIZED (
  SELECT v.seller_id, v.marketplace_id, 'all' AS channel,
         sum(coalesce(is_warning, false)::INT) AS w180,
         sum((kind = 'ip_complaint')::INT) FILTER (WHERE {win("d", 90)}) AS ip90,
         sum((kind = 'ip_complaint')::INT) AS ip180,
         sum((kind = 'ip_complaint' OR severity IN ('high', 'critical'))::INT) FILTER (WHERE {win("d", 90)}) AS mj90
  FROM (SELECT v.*, {ldw("v.reported_at", "v.marketplace_id", 180)} AS d
        FROM {p("violations")} v JOIN tz USING (marketplace_id)
        WHERE {pre("v.reported_at", 180)}) v
  WHERE {win("d", 180)} GROUP BY ALL
),
msg_r AS (
  SELECT m.seller_id, coalesce(m.marketplace_id, o.marketplace_id, sm.mp) AS marketplace_id, m.received_at,
         m.first_response_at AS fr,
         epoch(m.first_response_at) - epoch(m.received_at) AS secs
  FROM mw m
  LEFT JOIN (SELECT seller_id, order_id, marketplace_id FROM okm) o USING (seller_id, order_id)
  LEFT JOIN (SELECT seller_id, min(marketplace_id) AS mp FROM {p("sellers")} GROUP BY ALL) sm USING (seller_id)
),
msg_t AS (
  SELECT r.*, coalesce(fr IS NOT NULL AND secs <= 86400, false) AS on_time,
         CASE WHEN coalesce(fr IS NOT NULL AND secs <= 86400, false) THEN fr
              ELSE received_at + INTERVAL 24 HOUR END AS resolved_at
  FROM msg_r r JOIN tz USING (marketplace_id)
),
msg_l AS (
  SELECT *, {ldw("received_at", "marketplace_id", 90)} AS day, {ld("resolved_at", "marketplace_id")} AS rday,
         {ld("fr", "marketplace_id")} AS fday
  FROM msg_t
),
msg AS MATERIALIZED (
  SELECT seller_id, marketplace_id, 'all' AS channel, count(*) AS n, sum((NOT on_time)::INT) AS late,
         sum(coalesce(fday <= {D}, false)::INT) AS replied,
         median(CASE WHEN coalesce(fday <= {D}, false) THEN secs / 3600.0 END) AS med
  FROM msg_l WHERE {win("day", 90)} AND rday <= {D} GROUP BY ALL
),
long AS (
  SELECT g.*, 'order_defect_rate' AS metric, 60 AS w, coalesce(defect, 0) AS num, coalesce(n, 0) AS den, NULL::DOUBLE AS val FROM g3 g LEFT JOIN odr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'negative_feedback_rate', 60, coalesce(neg, 0), coalesce(n, 0), NULL FROM g3 g LEFT JOIN odr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'a_to_z_claim_rate', 60, coalesce(az, 0), coalesce(n, 0), NULL FROM g3 g LEFT JOIN odr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'chargeback_rate', 60, coalesce(cb, 0), coalesce(n, 0), NULL FROM g3 g LEFT JOIN odr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'late_shipment_rate', 10, coalesce(l10, 0), coalesce(n10, 0), NULL FROM gm g LEFT JOIN lsr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'late_shipment_rate', 30, coalesce(l30, 0), coalesce(n30, 0), NULL FROM gm g LEFT JOIN lsr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'pre_fulfillment_cancel_rate', 7, coalesce(c, 0), coalesce(n, 0), NULL FROM gm g LEFT JOIN pfcr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'valid_tracking_rate', 30, coalesce(v, 0), coalesce(n, 0), NULL FROM gm g LEFT JOIN vtr USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'on_time_delivery_rate', 14, coalesce(t14, 0), coalesce(d14, 0), NULL FROM g3 g LEFT JOIN otd USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'on_time_delivery_rate', 30, coalesce(t30, 0), coalesce(d30, 0), NULL FROM g3 g LEFT JOIN otd USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'on_time_delivery_overdue', 14, coalesce(o14, 0), NULL, NULL FROM g3 g LEFT JOIN otd USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'on_time_delivery_overdue', 30, coalesce(o30, 0), NULL, NULL FROM g3 g LEFT JOIN otd USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'customer_satisfaction_index', 90, coalesce(pts, 0), coalesce(n, 0), NULL FROM g1 g LEFT JOIN csat USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'order_count', 30, coalesce(n30, 0), NULL, NULL FROM g3 g LEFT JOIN cnt USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'order_count', 90, coalesce(n90, 0), NULL, NULL FROM g3 g LEFT JOIN cnt USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'account_health_warnings', 180, coalesce(w180, 0), NULL, NULL FROM g1 g LEFT JOIN vio USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'ip_complaints', 90, coalesce(ip90, 0), NULL, NULL FROM g1 g LEFT JOIN vio USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'ip_complaints', 180, coalesce(ip180, 0), NULL, NULL FROM g1 g LEFT JOIN vio USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'major_violations', 90, coalesce(mj90, 0), NULL, NULL FROM g1 g LEFT JOIN vio USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'late_response_rate', 90, coalesce(late, 0), coalesce(n, 0), NULL FROM g1 g LEFT JOIN msg USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT g.*, 'median_first_response_hours', 90, NULL, coalesce(replied, 0), med FROM g1 g LEFT JOIN msg USING (seller_id, marketplace_id, channel)
  UNION ALL SELECT seller_id, marketplace_id, 'all', 'tenure_days', NULL, NULL, NULL, ({D} - start_day)::DOUBLE FROM base
)
SELECT seller_id, marketplace_id, channel, metric, w::BIGINT AS window_days, num::DOUBLE AS numerator,
       den::DOUBLE AS denominator,
       CASE WHEN val IS NOT NULL THEN val WHEN den IS NULL THEN num WHEN den > 0 THEN num / den END AS value
FROM long
"""
