"""Options that change metric semantics, set by a policy's ``[metric_options]``.

Each option exists because marketplaces disagree (field cases C8, C19, C20, C25, C26).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Which event counts as shipped for the late shipment rate (see :class:`MetricOptions`).
ShippedEvent = Literal["confirmation", "first_scan", "any"]


class MetricOptions(BaseModel):
    """Metric semantics switches.

    Attributes
    ----------
    negative_feedback_max_stars : int
        Ratings at or below this are negative feedback for the order defect rate (Amazon: 2, case C8).
    late_shipment_includes_cancelled : bool
        Keep orders cancelled before shipping in the late-shipment denominator (case C20; default no).
    shared_feedback : {"exclude", "include"}
        Whether a rating covering several seller orders (``is_shared``) counts for each seller
        (case C26; default exclude).
    count_unknown_cancellations : bool
        Count cancellations of unknown initiator in the pre-fulfillment cancel rate (default no).
    otdr_overdue_counts_as_late : bool
        Put shipped-but-undelivered shipments past their promise into the on-time delivery
        denominator as late (case C25; default no: they are reported as ``on_time_delivery_overdue``).
    response_hours : float
        Clock hours within which a buyer message must get a human reply (Amazon: 24, case C18).
    provisional_min_coverage : float
        A metric with a coverage rule (:class:`cxops.metrics.catalog.Coverage`) whose coverage is
        below this fraction has ``status = "provisional"`` (default 0.95). Set by the policy's
        ``[provisional] min_coverage``, not here.
    provisional_lookback_days : int
        The last days of the window the coverage is taken over (default 3, at most the window). Set
        by the policy's ``[provisional] lookback_days``.
    shipped_event : {"confirmation", "first_scan", "any"}
        Which event counts as *shipped* for the late shipment rate: the seller's ship confirmation
        (default; Amazon), the carrier's first physical scan, or ``any`` one of the signals — the
        earlier of the confirmation and the first scan, a delivery by the promised date, or the buyer
        confirming it arrived on time (``delivery_confirmations``, seen from the day of the answer;
        eBay's late shipment rate). With
        ``first_scan`` / ``any``, a shipment with no such signal that was delivered, or confirmed
        without a tracking id, is left out (unknown), not counted late.
    shipped_event_by_marketplace : dict
        marketplace_id -> ``shipped_event`` for that marketplace (the others use ``shipped_event``).
    delivery_event : {"delivered", "first_attempt"}
        What the on-time delivery rate compares with the promise: the delivery (default), or the
        carrier's first delivery attempt (``delivery_attempts``; a shipment with no attempt recorded
        uses its delivery), so a failed first attempt by the promised date is on time.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    negative_feedback_max_stars: int = Field(2, ge=1, le=4)
    late_shipment_includes_cancelled: bool = False
    shared_feedback: Literal["exclude", "include"] = "exclude"
    count_unknown_cancellations: bool = False
    otdr_overdue_counts_as_late: bool = False
    response_hours: float = Field(24.0, gt=0)
    provisional_min_coverage: float = Field(0.95, ge=0, le=1)
    provisional_lookback_days: int = Field(3, ge=1)
    shipped_event: ShippedEvent = "confirmation"
    shipped_event_by_marketplace: dict[str, ShippedEvent] = Field(default_factory=dict)
    delivery_event: Literal["delivered", "first_attempt"] = "delivered"

    def shipped_events(self) -> dict[str, ShippedEvent]:
        """marketplace_id -> shipped event of the marketplaces that differ from ``shipped_event``."""
        return {mp: e for mp, e in self.shipped_event_by_marketplace.items() if e != self.shipped_event}


#: Options the policy sets from its ``[provisional]`` section (never from ``[metric_options]``).
PROVISIONAL_OPTIONS = ("provisional_min_coverage", "provisional_lookback_days")
