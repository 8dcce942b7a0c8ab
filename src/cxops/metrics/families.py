"""Metric families: metrics that share one record population and one seller-day fact table.

A family declares the canonical inputs it needs, how its records aggregate to seller-day facts
(counts that add up over days), and how each metric's numerator and denominator are read from those
sums. Window sums of the facts give every additive metric; the median response time is the one
non-additive metric and is handled in :mod:`cxops.metrics.compute`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxops.canonical.schema import COMPLETE_RATINGS
from cxops.metrics import records
from cxops.metrics.catalog import AFN, ALL, MFN
from cxops.metrics.records import Inputs
from cxops.metrics.unmeasured import missing_inputs, no_feedback_or_claims, no_table

GROUP = ["seller_id", "marketplace_id", "channel", "day"]


@dataclass(frozen=True)
class Output:
    """How one metric reads a family's window sums.

    ``numerator`` / ``denominator`` name sum columns (``None``: not applicable). ``value`` is
    ``"ratio"`` (numerator / denominator, null when the denominator is 0), ``"numerator"`` (a count)
    or ``"ratio100"`` (an index already in points: numerator / denominator).
    """

    metric: str
    numerator: str | None
    denominator: str | None
    value: str = "ratio"
    windows: tuple[int, ...] | None = None  # None: all of the family's windows
    coverage: tuple[str, str] | None = None


@dataclass(frozen=True)
class Family:
    """A group of metrics computed from one fact table.

    Attributes
    ----------
    name : str
    windows : tuple of int
    channels : tuple of str
    records : callable
        ``Inputs -> ibis.Table`` with ``GROUP`` columns plus flag columns.
    sums : dict
        Sum column -> expression builder on the records table (``None`` = row count).
    outputs : tuple of Output
    measured : callable
        ``Inputs -> dict[metric, None | reason]``: ``None`` when measured, else why not.
    """

    name: str
    windows: tuple[int, ...]
    channels: tuple[str, ...]
    records: Callable[[Inputs], ir.Table]
    sums: dict[str, str | None]
    outputs: tuple[Output, ...]
    measured: Callable[[Inputs], dict[str, str | None]]

    def facts(self, inp: Inputs) -> ir.Table:
        """Seller-day facts: ``seller_id, marketplace_id, channel, day`` + one column per sum."""
        r = self.records(inp)
        aggs = {
            name: (r.count() if col is None else r[col].sum()).cast("int64")
            for name, col in self.sums.items()
        }
        f = r.group_by(GROUP).aggregate(**aggs)
        if ALL in self.channels and (MFN in self.channels or AFN in self.channels):
            tot = f.group_by(["seller_id", "marketplace_id", "day"]).aggregate(
                **{name: f[name].sum() for name in self.sums}
            )
            tot = tot.mutate(channel=ibis.literal(ALL)).select(f.columns)
            f = f.union(tot)
        return f


def _missing(inp: Inputs, needs: list[tuple[str, tuple[str, ...]]]) -> str | None:
    """Reason a family is not measured (an :class:`~cxops.metrics.unmeasured.Unmeasured`), or None."""
    return missing_inputs(inp, needs)


def _all(metrics: list[str], reason: str | None) -> dict[str, str | None]:
    return {m: reason for m in metrics}


def _odr_measured(inp: Inputs) -> dict[str, str | None]:
    fb = None if "feedback" in inp.tables else no_table("feedback")
    cl = None if "claims" in inp.tables else no_table("claims")
    odr = None if (fb is None or cl is None) else no_feedback_or_claims()
    return {
        "order_defect_rate": odr,
        "negative_feedback_rate": fb,
        "a_to_z_claim_rate": cl,
        "chargeback_rate": cl,
    }


def _simple(metrics: list[str], needs: list[tuple[str, tuple[str, ...]]]):
    return lambda inp: _all(metrics, _missing(inp, needs))


ODR = Family(
    "order_defects",
    (60,),
    (ALL, MFN, AFN),
    records.order_defects,
    {
        "orders": None,
        "defective": "f_defect",
        "negative_feedback": "f_negative_feedback",
        "a_to_z": "f_a_to_z",
        "chargeback": "f_chargeback",
    },
    (
        Output("order_defect_rate", "defective", "orders"),
        Output("negative_feedback_rate", "negative_feedback", "orders"),
        Output("a_to_z_claim_rate", "a_to_z", "orders"),
        Output("chargeback_rate", "chargeback", "orders"),
    ),
    _odr_measured,
)

LSR = Family(
    "late_shipments",
    (10, 30),
    (MFN,),
    records.late_shipments,
    {"orders": None, "late": "f_late", "recorded": "f_recorded"},
    (Output("late_shipment_rate", "late", "orders", coverage=("recorded", "orders")),),
    _simple(["late_shipment_rate"], [("orders", ("latest_ship_at",)), ("shipments", ("confirmed_at",))]),
)

PFCR = Family(
    "cancellations",
    (7,),
    (MFN,),
    records.cancellations,
    {"orders": None, "cancelled": "f_cancelled"},
    (Output("pre_fulfillment_cancel_rate", "cancelled", "orders"),),
    # who cancelled decides whether it counts (C19): a source that does not say is not measured
    _simple(["pre_fulfillment_cancel_rate"], [("cancellations", ("initiated_by",))]),
)

VTR = Family(
    "tracking",
    (30,),
    (MFN,),
    records.tracking,
    {"shipments": None, "valid": "f_valid"},
    (Output("valid_tracking_rate", "valid", "shipments"),),
    _simple(["valid_tracking_rate"], [("shipments", ("confirmed_at", "tracking_id"))]),
)

OTDR = Family(
    "deliveries",
    (14, 30),
    (ALL, MFN, AFN),
    records.deliveries,
    {
        "delivered": "f_delivered",
        "on_time": "f_on_time",
        "overdue": "f_overdue",
        "expected": "f_expected",
        "arrived": "f_arrived",
    },
    (
        Output("on_time_delivery_rate", "on_time", "delivered", coverage=("arrived", "expected")),
        Output("on_time_delivery_overdue", "overdue", None, "numerator"),
    ),
    _simple(
        ["on_time_delivery_rate", "on_time_delivery_overdue"],
        [("orders", ("latest_delivery_at",)), ("shipments", ("delivered_at",))],
    ),
)

CSAT = Family(
    "ratings",
    (90,),
    (ALL,),
    records.ratings,
    {"ratings": None, "points": "points"},
    (Output("customer_satisfaction_index", "points", "ratings"),),
    # only from a source covering every star level (not Amazon's 1–3★ feedback report, C8)
    _simple(["customer_satisfaction_index"], [("feedback", (COMPLETE_RATINGS,))]),
)

ORDERS = Family(
    "orders",
    (30, 90),
    (ALL, MFN, AFN),
    lambda inp: records.orders(inp),
    {"orders": None},
    (Output("order_count", "orders", None, "numerator"),),
    lambda inp: {"order_count": None},
)

VIOLATIONS = Family(
    "violations",
    (90, 180),
    (ALL,),
    records.violations,
    {"warnings": "f_warning", "ip": "f_ip", "major": "f_major"},
    (
        Output("account_health_warnings", "warnings", None, "numerator", (180,)),
        Output("ip_complaints", "ip", None, "numerator", (90, 180)),
        Output("major_violations", "major", None, "numerator", (90,)),
    ),
    _simple(["account_health_warnings", "ip_complaints", "major_violations"], [("violations", ())]),
)

FAMILIES: tuple[Family, ...] = (ODR, LSR, PFCR, VTR, OTDR, CSAT, ORDERS, VIOLATIONS)
