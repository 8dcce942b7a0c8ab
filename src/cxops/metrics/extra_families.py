"""Metric families for numbers marketplaces report that the catalog does not rate.

Amazon's account health report carries a unit-based on-time delivery rate and one counter per kind of
policy violation. cxops computes them with the same machinery as the catalog (seller-day facts of a
record population, :class:`cxops.metrics.families.Family`), so ``cxops reconcile`` can put them next to
the reported ones; no policy reads them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxops.canonical.schema import VIOLATION_KINDS
from cxops.metrics import records
from cxops.metrics.catalog import AFN, ALL, MFN
from cxops.metrics.families import Family, Output
from cxops.metrics.records import KEY, Inputs
from cxops.metrics.unmeasured import missing_inputs, no_table

#: Amazon's policy-violation counters (snake case of the report's fields) → canonical violation kind.
AMAZON_VIOLATION_KINDS = {
    "listing_policy_violations": "listing_policy",
    "product_authenticity_customer_complaints": "authenticity",
    "product_safety_customer_complaints": "safety",
    "restricted_product_policy_violations": "restricted_product",
    "customer_product_reviews_policy_violations": "review_manipulation",
    "other_policy_violations": "other",
}

#: What the unit-based on-time delivery rate needs (the shipment's unit count besides the OTDR's inputs).
UNIT_DELIVERY_NEEDS = [("orders", ("latest_delivery_at",)), ("shipments", ("delivered_at", "units"))]


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.fill_null(False).ifelse(1, 0)


def unit_deliveries(inp: Inputs) -> ir.Table:
    """Delivery records weighted by the shipment's units (Amazon's unit on-time delivery rate, A19).

    The records of :func:`cxops.metrics.records.deliveries` (anchor: promised delivery date) with
    ``u_delivered`` and ``u_on_time``: their 0/1 flags times the shipment's ``units`` (a shipment
    without a unit count counts as one unit).
    """
    d = records.deliveries(inp)
    s = inp.tables["shipments"].select(*KEY, "shipment_id", _units="units")
    d = d.left_join(s, [*KEY, "shipment_id"]).select(d, "_units")
    units = d._units.fill_null(1)
    return d.mutate(u_delivered=d.f_delivered * units, u_on_time=d.f_on_time * units)


def violation_kinds(inp: Inputs) -> ir.Table:
    """Violations with one 0/1 flag per canonical kind, ``f_<kind>`` (anchor: reported date)."""
    v = inp.tables["violations"]
    return v.select(
        "seller_id",
        "marketplace_id",
        channel=ibis.literal(ALL),
        day=inp.local(v.reported_at, v.marketplace_id),
        **{f"f_{k}": _flag(v.kind == k) for k in VIOLATION_KINDS},
    )


UNIT_DELIVERIES = Family(
    "unit_deliveries",
    (14,),
    (ALL, MFN, AFN),
    unit_deliveries,
    {"delivered_units": "u_delivered", "on_time_units": "u_on_time"},
    (Output("unit_on_time_delivery_rate", "on_time_units", "delivered_units"),),
    lambda inp: {"unit_on_time_delivery_rate": missing_inputs(inp, UNIT_DELIVERY_NEEDS)},
)

VIOLATION_KIND_COUNTS = Family(
    "violation_kinds",
    (180,),
    (ALL,),
    violation_kinds,
    {f"kind_{k}": f"f_{k}" for k in VIOLATION_KINDS},
    tuple(Output(name, f"kind_{k}", None, "numerator") for name, k in AMAZON_VIOLATION_KINDS.items()),
    lambda inp: {
        name: (None if "violations" in inp.tables else no_table("violations"))
        for name in AMAZON_VIOLATION_KINDS
    },
)

EXTRA_FAMILIES: tuple[Family, ...] = (UNIT_DELIVERIES, VIOLATION_KIND_COUNTS)
"""Families for reported metrics the catalog does not rate."""
