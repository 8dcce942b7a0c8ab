"""What each reported metric is computed as: a family's window sums, read as a ratio, a count or a median.

The targets derive from the metric declarations — every catalog metric
(:data:`cxops.metrics.catalog.CATALOG`: its family, numerator and denominator sums and aggregation) and
the outputs of the families for reported-only metrics
(:data:`cxops.metrics.extra_families.EXTRA_FAMILIES`) — plus the other
names a report may use (:data:`ALIASES`) and the reported figures cxops knows it cannot reproduce
(:data:`NOT_COMPUTABLE`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cxops.metrics.catalog import ALL, CATALOG, MFN
from cxops.metrics.extra_families import EXTRA_FAMILIES, UNIT_DELIVERIES
from cxops.metrics.families import FAMILIES, Family
from cxops.metrics.records import Inputs
from cxops.metrics.responses import MESSAGES as RESPONSE_FAMILY
from cxops.metrics.responses import responses_unmeasured
from cxops.metrics.unmeasured import Unmeasured
from cxops.reconcile.results import Message

MESSAGES = RESPONSE_FAMILY
"""Family name of the response-time metrics (sums: :func:`cxops.metrics.windows.response_window_sums`)."""


@dataclass(frozen=True)
class Target:
    """How a reported metric is computed: which family's window sums, read how.

    Attributes
    ----------
    metric : str
        The cxops metric computed (a catalog name, or a reported-only one such as
        ``unit_on_time_delivery_rate``).
    family : str
        Family name (``FAMILIES``, ``EXTRA_FAMILIES``, or :data:`MESSAGES`).
    numerator, denominator : str or None
        Sum columns of the family.
    kind : str
        ``ratio`` (numerator / denominator), ``count`` (the numerator) or ``median`` (median hours).
    """

    metric: str
    family: str
    numerator: str | None
    denominator: str | None
    kind: str = "ratio"


FAMILY_BY_NAME: dict[str, Family] = {f.name: f for f in (*FAMILIES, *EXTRA_FAMILIES)}


_KINDS = {"ratio": "ratio", "mean": "ratio", "count": "count", "median": "median"}


def _targets() -> dict[str, Target]:
    out: dict[str, Target] = {}
    for name, m in CATALOG.items():
        if m.family is not None:
            num = m.numerator.name if m.numerator else None
            den = m.denominator.name if m.denominator else None
            out[name] = Target(name, m.family, num, den, _KINDS[m.aggregation])
    for fam in EXTRA_FAMILIES:
        for o in fam.outputs:
            kind = "count" if o.value == "numerator" else "ratio"
            out[o.metric] = Target(o.metric, fam.name, o.numerator, o.denominator, kind)
    return out


TARGETS: dict[str, Target] = _targets()
"""Every metric reconcile can compute, by name."""

ALIASES: dict[str, str] = {
    "pre_fulfillment_cancellation_rate": "pre_fulfillment_cancel_rate",
    "prefulfillment_cancel_rate": "pre_fulfillment_cancel_rate",
    "received_intellectual_property_complaints": "ip_complaints",
    "policy_violation_warnings": "account_health_warnings",
    "claims_rate": "a_to_z_claim_rate",
    "a_to_z_claims_rate": "a_to_z_claim_rate",
    "chargeback_claims_rate": "chargeback_rate",
}
"""Other names a report may use for a metric reconcile computes (snake case of the source's field)."""

NOT_COMPUTABLE: dict[str, str] = {
    "ahr_score": "ahr_points",
    "ahr_status": "ahr_status",
    "account_health_rating": "ahr_rating",
    "invoice_defect_rate": "invoice_times",
    "tenure_days": "not_windowed",
    "suspected_intellectual_property_violations": "no_violation_kind",
    "product_condition_customer_complaints": "no_violation_kind",
    "food_and_product_safety_issues": "no_violation_kind",
    "document_requests": "document_requests",
    "missing_invoice_rate": "invoice_uploads",
    "late_invoice_rate": "invoice_uploads",
    "account_status": "account_state",
}
"""Reported metrics cxops knows it cannot compute → the reason (``reconcile.not_computable.<reason>``)."""


def canonical_name(metric: str) -> str:
    """The cxops name of a reported metric name (:data:`ALIASES` resolved)."""
    return ALIASES.get(metric, metric)


def _not_computable(reason: str, **params) -> Message:
    return Message(f"reconcile.not_computable.{reason}", params)


def resolve(metric: str, inp: Inputs | None) -> tuple[Target | None, Message | None]:
    """The computation for a reported metric name, or ``(None, reason)`` when it cannot be computed.

    ``unit_on_time_delivery_rate`` (Amazon's unit-based OTDR) is computed over units when the shipments
    source provides ``units``; otherwise over shipments, and the difference is named as a cause.
    """
    name = canonical_name(metric)
    if name in NOT_COMPUTABLE:
        return None, _not_computable(NOT_COMPUTABLE[name])
    if name.startswith("warning_state_"):
        return None, _not_computable("warning_state")
    target = TARGETS.get(name)
    if target is None:
        return None, _not_computable("unknown_metric", metric=metric)
    if target.family == UNIT_DELIVERIES.name and inp is not None and UNIT_DELIVERIES.measured(inp)[name]:
        return Target(name, "deliveries", "on_time", "delivered"), None
    return target, None


def no_orders() -> Message:
    """The reason every row is not computable when no orders were imported."""
    return _not_computable("no_orders")


def not_measured(target: Target, inp: Inputs) -> Message | None:
    """Why ``target`` cannot be computed from what was imported (``not_measured.<key>``), or ``None``."""
    if target.family == MESSAGES:
        return _message(responses_unmeasured(inp))
    reasons = FAMILY_BY_NAME[target.family].measured(inp)
    if target.family == "deliveries" and target.metric == "unit_on_time_delivery_rate":
        return _message(reasons["on_time_delivery_rate"])
    return _message(reasons[target.metric])


def _message(reason: Unmeasured | str | None) -> Message | None:
    if reason is None:
        return None
    if isinstance(reason, Unmeasured):
        return Message(f"not_measured.{reason.key}", reason.params)
    return Message("not_measured.other", {"detail": str(reason)})  # a family without a message key


def computed_channel(family: str, channel: str) -> str:
    """The channel cxops computes for a reported row of ``channel``: its own when the family has it,
    else ``mfn`` when the family is MFN-only, else ``all``."""
    chans = (ALL,) if family == MESSAGES else FAMILY_BY_NAME[family].channels
    return channel if channel in chans else (MFN if MFN in chans else ALL)
