"""The metric catalog as of one day, hand-written in DuckDB SQL straight on the canonical Parquet files.

Same semantics as ``cxops.metrics`` with default ``MetricOptions`` (README "Metrics"); local days via
a CASE over each zone's UTC-offset periods (from ``zoneinfo``). Returns long rows ``seller_id, marketplace_id, channel, metric,
window_days, numerator, denominator, value`` for every seller whose start is on or before the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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


def _segments(tz: str, lo=datetime(2024, 9, 1), hi=datetime(2026, 12, 1)):
    """(UTC start, offset seconds) of each offset period in [lo, hi) (the benchmark data span), hour by hour."""
    z = ZoneInfo(tz)
    t, segs, cur = lo.replace(tzinfo=UTC), [], None
    while t < hi.replace(tzinfo=UTC):
        off = int(t.astimezone(z).utcoffset().total_seconds())
        if off != cur:
            segs.append((t.replace(tzinfo=None), off))
            cur = off
        t += timedelta(hours=1)
    return segs


def ld(ts: str, mp: str) -> str:
    """SQL: the marketplace-local date of UTC instant ``ts`` (a CASE over the zones' offset periods)."""
    parts = []
    for m, tz in ZONES.items():
        segs = _segments(tz)
        inner = " ".join(
            f"WHEN {ts} < TIMESTAMP '{s2}' THEN {o1}" for (s1, o1), (s2, _) in zip(segs, segs[1:], strict=False)
        )
        parts.append(
            f"WHEN '{m}' THEN (CASE {inner} ELSE {segs[-1][1]} END)"
            if inner
            else f"WHEN '{m}' THEN {segs[-1][1]}"
        )
    return f"CAST({ts} + to_seconds(CASE {mp} {' '.join(parts)} ELSE 0 END) AS DATE)"


def sql(d: str, as_of: date) -> str:
    D = f"DATE '{as_of.isoformat()}'"

    def p(t):
        return f"read_parquet('{d}/{t}.parquet')"

    def win(col, w):
        return f"({col} BETWEEN {D} - INTERVAL {w - 1} DAY AND {D})"

    return f"""
WITH tz AS (SELECT marketplace_id, timezone FROM {p("marketplaces")}),
o AS (
  SELECT o.seller_id, o.order_id, o.marketplace_id, lower(o.fulfillment_channel) AS channel, o.units,
         o.latest_ship_at, o.latest_delivery_at,
         {ld("o.purchased_at", "o.marketplace_id")} AS day, tz.timezone
  FROM {p("orders")} o JOIN tz USING (marketplace_id)
),
u AS (
  SELECT k.seller_id, k.marketplace_id,
         coalesce(least(r.reg_day, f.first_day), r.reg_day, f.first_day) AS start_day
  FROM (SELECT seller_id, marketplace_id FROM o UNION SELECT seller_id, marketplace_id FROM {p("sellers")}) k
  LEFT JOIN (SELECT s.seller_id, s.marketplace_id,
                    {ld("s.registered_at", "s.marketplace_id")} AS reg_day
             FROM {p("sellers")} s JOIN tz USING (marketplace_id)) r USING (seller_id, marketplace_id)
  LEFT JOIN (SELECT seller_id, marketplace_id, min(day) AS first_day FROM o GROUP BY ALL) f
       USING (seller_id, marketplace_id)
),
base AS (SELECT * FROM u WHERE start_day <= {D}),
ch3 AS (SELECT * FROM (VALUES ('all'), ('mfn'), ('afn')) t(channel)),
g3 AS (SELECT b.seller_id, b.marketplace_id, c.channel FROM base b CROSS JOIN ch3 c),
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
  FROM o LEFT JOIN neg USING (seller_id, order_id) LEFT JOIN az USING (seller_id, order_id)
         LEFT JOIN cb USING (seller_id, order_id)
  WHERE {win("o.day", 60)}
),
odr AS (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel, count(*) AS n,
         sum(greatest(f_neg, f_az, f_cb)) AS defect, sum(f_neg) AS neg, sum(f_az) AS az, sum(f_cb) AS cb
  FROM odr_r GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
ss AS (
  SELECT seller_id, order_id, count(*) AS n_s,
         sum((confirmed_at IS NULL AND delivered_at IS NULL)::INT) AS n_uu,
         sum((confirmed_at IS NULL AND delivered_at IS NOT NULL)::INT) AS n_ud,
         min(confirmed_at) AS first_conf, max(confirmed_at) AS last_conf, sum(units) AS conf_units
  FROM {p("shipments")} GROUP BY ALL
),
ca AS (SELECT seller_id, order_id, cancelled_at, initiated_by, via_buyer_request FROM {p("cancellations")}),
om AS (
  SELECT o.*, ss.n_s, ss.n_uu, ss.n_ud, ss.first_conf, ss.last_conf, ss.conf_units, ca.cancelled_at,
         ca.initiated_by, ca.via_buyer_request,
         (ca.cancelled_at IS NOT NULL AND (ss.first_conf IS NULL OR ca.cancelled_at < ss.first_conf)) AS cbs
  FROM o LEFT JOIN ss USING (seller_id, order_id) LEFT JOIN ca USING (seller_id, order_id)
  WHERE o.channel = 'mfn'
),
lsr_r AS (
  SELECT seller_id, marketplace_id, {ld("latest_ship_at", "marketplace_id")} AS day,
         coalesce(last_conf > latest_ship_at, false) AS clate,
         (n_s IS NULL OR coalesce(n_uu, 0) > 0
          OR coalesce(units IS NOT NULL AND conf_units IS NOT NULL AND conf_units < units, false)) AS unshipped,
         cbs, coalesce(n_ud, 0) AS n_ud
  FROM om WHERE latest_ship_at IS NOT NULL
),
lsr_k AS (
  SELECT seller_id, marketplace_id, day, (clate OR (unshipped AND NOT cbs))::INT AS f_late
  FROM lsr_r WHERE NOT (NOT clate AND NOT unshipped AND n_ud > 0) AND NOT cbs
),
lsr AS (
  SELECT seller_id, marketplace_id, 'mfn' AS channel,
         count(*) FILTER (WHERE {win("day", 10)}) AS n10, sum(f_late) FILTER (WHERE {win("day", 10)}) AS l10,
         count(*) AS n30, sum(f_late) AS l30
  FROM lsr_k WHERE {win("day", 30)} GROUP BY ALL
),
pfcr AS (
  SELECT seller_id, marketplace_id, 'mfn' AS channel, count(*) AS n,
         sum((cbs AND initiated_by IN ('seller', 'system') AND NOT coalesce(via_buyer_request, false))::INT) AS c
  FROM om WHERE {win("day", 7)} GROUP BY ALL
),
sh AS (
  SELECT s.*, o.marketplace_id, o.channel, o.latest_delivery_at, o.timezone
  FROM {p("shipments")} s JOIN o USING (seller_id, order_id)
),
vtr AS (
  SELECT seller_id, marketplace_id, 'mfn' AS channel, count(*) AS n,
         sum((tracking_id IS NOT NULL AND trim(tracking_id) <> '' AND carrier IS NOT NULL
              AND first_scan_at IS NOT NULL)::INT) AS v
  FROM sh WHERE channel = 'mfn' AND confirmed_at IS NOT NULL
    AND {win(ld("confirmed_at", "marketplace_id"), 30)}
  GROUP BY ALL
),
otd_r AS (
  SELECT seller_id, marketplace_id, channel,
         {ld("latest_delivery_at", "marketplace_id")} AS day,
         (delivered_at IS NOT NULL)::INT AS f_d,
         coalesce({ld("delivered_at", "marketplace_id")}
                  <= {ld("latest_delivery_at", "marketplace_id")}, false)::INT AS f_ot,
         (delivered_at IS NULL AND confirmed_at IS NOT NULL)::INT AS f_od
  FROM sh WHERE latest_delivery_at IS NOT NULL
),
otd AS (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel,
         sum(f_d) FILTER (WHERE {win("day", 14)}) AS d14, sum(f_ot) FILTER (WHERE {win("day", 14)}) AS t14,
         sum(f_od) FILTER (WHERE {win("day", 14)}) AS o14, sum(f_d) AS d30, sum(f_ot) AS t30, sum(f_od) AS o30
  FROM otd_r WHERE {win("day", 30)}
  GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
csat AS (
  SELECT f.seller_id, o.marketplace_id, 'all' AS channel, count(*) AS n, sum((f.rating - 1) * 25.0) AS pts
  FROM {p("feedback")} f JOIN o USING (seller_id, order_id)
  WHERE f.removed_at IS NULL AND NOT coalesce(f.is_shared, false)
    AND {win(ld("f.submitted_at", "o.marketplace_id"), 90)}
  GROUP BY ALL
),
cnt AS (
  SELECT seller_id, marketplace_id, coalesce(channel, 'all') AS channel,
         count(*) FILTER (WHERE {win("day", 30)}) AS n30, count(*) AS n90
  FROM o WHERE {win("day", 90)}
  GROUP BY GROUPING SETS ((seller_id, marketplace_id, channel), (seller_id, marketplace_id))
),
vio AS (
  SELECT v.seller_id, v.marketplace_id, 'all' AS channel,
         sum(coalesce(is_warning, false)::INT) AS w180,
         sum((kind = 'ip_complaint')::INT) FILTER (WHERE {win("d", 90)}) AS ip90,
         sum((kind = 'ip_complaint')::INT) AS ip180,
         sum((kind = 'ip_complaint' OR severity IN ('high', 'critical'))::INT) FILTER (WHERE {win("d", 90)}) AS mj90
  FROM (SELECT v.*, {ld("v.reported_at", "v.marketplace_id")} AS d
        FROM {p("violations")} v JOIN tz USING (marketplace_id)) v
  WHERE {win("d", 180)} GROUP BY ALL
),
msg_r AS (
  SELECT m.seller_id, coalesce(m.marketplace_id, o.marketplace_id, sm.mp) AS marketplace_id, m.received_at,
         m.first_response_at AS fr,
         epoch(m.first_response_at) - epoch(m.received_at) AS secs
  FROM {p("buyer_messages")} m
  LEFT JOIN (SELECT seller_id, order_id, marketplace_id FROM o) o USING (seller_id, order_id)
  LEFT JOIN (SELECT seller_id, min(marketplace_id) AS mp FROM {p("sellers")} GROUP BY ALL) sm USING (seller_id)
  WHERE NOT coalesce(m.no_response_needed, false)
),
msg_l AS (
  SELECT r.*, coalesce(fr IS NOT NULL AND secs <= 86400, false) AS on_time,
         {ld("received_at", "r.marketplace_id")} AS day,
         {ld("CASE WHEN coalesce(fr IS NOT NULL AND secs <= 86400, false) THEN fr ELSE received_at + INTERVAL 24 HOUR END", "r.marketplace_id")} AS rday,
         {ld("fr", "r.marketplace_id")} AS fday
  FROM msg_r r JOIN tz USING (marketplace_id)
),
msg AS (
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
