"""The metrics drawn over time — in the report's charts and on the seller's trend charts — declared once.

Each is a ``(metric, window_days, channel)`` of the catalog (:data:`cxops.metrics.catalog.CATALOG`).
An evaluation keeps these (with the metrics its criteria test) for every evaluation day of a run, and
every catalog metric for the as-of day and the last evaluation's metrics day
(:data:`cxops.service.evaluation.history_metrics`).
"""

from __future__ import annotations

#: (metric, window_days, channel) drawn as trend charts (report and seller page) and shown in the
#: report's sellers table.
CHART_METRICS: tuple[tuple[str, int, str], ...] = (
    ("order_defect_rate", 60, "all"),
    ("late_shipment_rate", 30, "mfn"),
    ("on_time_delivery_rate", 30, "all"),
    ("customer_satisfaction_index", 90, "all"),
)
#: Metric used to rank sellers by order volume (fallback: the order defect rate's denominator).
VOLUME_METRIC: tuple[str, int, str] = ("order_count", 90, "all")
