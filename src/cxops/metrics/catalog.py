"""The metric catalog: each metric's anchor, windows, population and channels.

Sources: ``DESIGN.md`` ("Metric semantics"), the reference program (``program.md``) and
``reference/metric-definitions.md`` (Amazon definitions A1–A43). Thresholds are never here: they live
in policy files.

Kinds
-----
``rate``
    ``value = numerator / denominator`` as a fraction in [0, 1]; null when the denominator is 0.
``count``
    ``value = numerator``; ``denominator`` is null.
``hours``
    a median in clock hours; ``denominator`` is the number of messages it is taken over.
``index``
    a mean on 0–100; ``numerator`` is the sum of points, ``denominator`` the number of ratings.
``days``
    ``value`` in days; numerator and denominator null.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL, MFN, AFN = "all", "mfn", "afn"


@dataclass(frozen=True)
class Coverage:
    """How complete a metric's inputs are for the most recent days of its window.

    A metric with a coverage rule is **provisional** while, over the last ``lookback_days`` of its
    window (the policy's ``[provisional] lookback_days``, at most the window), fewer than the policy's
    ``min_coverage`` of the records ``expected`` have the input ``recorded``: data that arrives late
    (shipment confirmations, delivery scans) would otherwise count as defects. ``coverage`` =
    recorded / expected over those days, a fraction; null when nothing is expected there.

    Attributes
    ----------
    expected : str
        What the coverage is taken over (anchored on the metric's anchor date).
    recorded : str
        Which of them have the input recorded.
    """

    expected: str
    recorded: str


@dataclass(frozen=True)
class MetricDef:
    """Declaration of one catalog metric.

    Attributes
    ----------
    name : str
    kind : str
        ``rate``, ``count``, ``hours``, ``index`` or ``days`` (see module docstring).
    windows : tuple of int
        Window lengths in marketplace-local days; empty for ``tenure_days``.
    channels : tuple of str
        ``all``, ``mfn``, ``afn``.
    anchor : str
        The date that places a record in a window.
    population : str
        What the denominator counts.
    defect : str
        What the numerator counts.
    sources : tuple of str
        Canonical tables it needs; absent → "not measured".
    higher_is_better : bool
    coverage : Coverage or None
        The metric's coverage rule (``None``: never provisional).
    """

    name: str
    kind: str
    windows: tuple[int, ...]
    channels: tuple[str, ...]
    anchor: str
    population: str
    defect: str
    sources: tuple[str, ...]
    higher_is_better: bool = False
    coverage: Coverage | None = None


CATALOG: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef(
            "order_defect_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "every order placed in the window, cancelled ones included",
            "orders with negative feedback, an A-to-z claim or a chargeback that counts (one per order)",
            ("orders", "feedback|claims"),
        ),
        MetricDef(
            "negative_feedback_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with a 1–2★ feedback (policy: negative_feedback_max_stars) not removed",
            ("orders", "feedback"),
        ),
        MetricDef(
            "a_to_z_claim_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with an A-to-z claim not denied, withdrawn or reversed",
            ("orders", "claims"),
        ),
        MetricDef(
            "chargeback_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with a service (non-fraud) chargeback not denied, withdrawn or reversed",
            ("orders", "claims"),
        ),
        MetricDef(
            "late_shipment_rate",
            "rate",
            (10, 30),
            (MFN,),
            "ship-by date",
            "MFN orders with a ship-by date in the window, less orders cancelled before shipping",
            "orders with a shipment confirmed after the ship-by deadline, or still unconfirmed",
            ("orders", "shipments"),
            coverage=Coverage(
                "MFN orders due to ship (ship-by date) in the look-back days, in the population",
                "orders with a shipment recorded (confirmed or not), or cancelled",
            ),
        ),
        MetricDef(
            "pre_fulfillment_cancel_rate",
            "rate",
            (7,),
            (MFN,),
            "order date",
            "MFN orders placed in the window",
            "orders cancelled before shipping by the seller or the system (not via a buyer request)",
            ("orders", "cancellations"),
        ),
        MetricDef(
            "valid_tracking_rate",
            "rate",
            (30,),
            (MFN,),
            "ship confirmation date",
            "MFN shipments confirmed in the window",
            "shipments with a tracking id (and a carrier scan where the source records scans)",
            ("orders", "shipments"),
            higher_is_better=True,
        ),
        MetricDef(
            "on_time_delivery_rate",
            "rate",
            (14, 30),
            (ALL, MFN, AFN),
            "promised delivery date",
            "shipments with a recorded delivery date whose promised date is in the window",
            "shipments delivered on or before the promised local date",
            ("orders", "shipments"),
            higher_is_better=True,
            coverage=Coverage(
                "shipments confirmed or delivered whose promised delivery date is in the look-back days",
                "those with a delivery date recorded",
            ),
        ),
        MetricDef(
            "on_time_delivery_overdue",
            "count",
            (14, 30),
            (ALL, MFN, AFN),
            "promised delivery date",
            "—",
            "shipped but undelivered shipments past their promised date (not in the OTDR by default)",
            ("orders", "shipments"),
        ),
        MetricDef(
            "late_response_rate",
            "rate",
            (90,),
            (ALL,),
            "message received",
            "buyer messages needing a response whose 24 h have passed or that were answered",
            "messages without a human reply within 24 clock hours",
            ("buyer_messages",),
        ),
        MetricDef(
            "median_first_response_hours",
            "hours",
            (90,),
            (ALL,),
            "message received",
            "answered buyer messages needing a response",
            "median clock hours to the first human reply",
            ("buyer_messages",),
        ),
        MetricDef(
            "customer_satisfaction_index",
            "index",
            (90,),
            (ALL,),
            "feedback date",
            "ratings received in the window (not removed; shared ones excluded by default)",
            "mean of 1★=0, 2★=25, 3★=50, 4★=75, 5★=100",
            ("orders", "feedback"),
            higher_is_better=True,
        ),
        MetricDef(
            "order_count",
            "count",
            (30, 90),
            (ALL, MFN, AFN),
            "order date",
            "—",
            "orders placed in the window",
            ("orders",),
            higher_is_better=True,
        ),
        MetricDef(
            "account_health_warnings",
            "count",
            (180,),
            (ALL,),
            "reported date",
            "—",
            "violations flagged as warnings",
            ("violations",),
        ),
        MetricDef(
            "ip_complaints",
            "count",
            (90, 180),
            (ALL,),
            "reported date",
            "—",
            "intellectual-property complaints",
            ("violations",),
        ),
        MetricDef(
            "major_violations",
            "count",
            (90,),
            (ALL,),
            "reported date",
            "—",
            "violations of severity high or critical, and IP complaints",
            ("violations",),
        ),
        MetricDef(
            "tenure_days",
            "days",
            (),
            (ALL,),
            "registered date, else first order",
            "—",
            "days from the start to the as-of date",
            ("orders",),
            higher_is_better=True,
        ),
    )
}
"""All catalog metrics by name."""

#: Metrics whose numerator counts defective records (used by ``explain`` for drop-out dates).
DEFECT_METRICS = (
    "order_defect_rate",
    "late_shipment_rate",
    "pre_fulfillment_cancel_rate",
    "valid_tracking_rate",
    "on_time_delivery_rate",
)


def metric(name: str) -> MetricDef:
    """Catalog entry for ``name``.

    Raises
    ------
    KeyError
        For an unknown metric (the message lists the known ones).
    """
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(CATALOG)}") from None
