"""One filled-in context per message kind, for ``cxops notify preview`` and for translators' checks.

The numbers are consistent (a 1.20 % order defect rate is 6 of 500 orders over 60 days against a bar
of 1 %), so a preview reads like a real message.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from cxops.notify.messages import (
    Alert,
    BackInPool,
    BenefitLine,
    CaseUpdate,
    Clearing,
    DefectOrder,
    Digest,
    DocumentItem,
    DocumentReminder,
    Finding,
    Invitation,
    Manager,
    Readmitted,
    RecoveryStarted,
    Removal,
    Seller,
    Warning,
)

_WHO = {
    "seller_id": "S-1001",
    "marketplace_id": "US",
    "program": "customer-excellence",
    "seller_name": "Acme Outdoor",
}
_ODR = Finding("order_defect_rate", 0.012, 0.01, ">", 6, 500, 60, "odr")
_LSR = Finding("late_shipment_rate", 0.05, 0.04, ">", 20, 400, 30, "lsr")
_MANAGER = Manager("Lin Wei", "lin.wei@example.com")
_FEEDBACK = Alert(
    **_WHO, alert="negative_feedback", alert_date=date(2026, 11, 30), order_id="114-2233", rating=1
)


def samples() -> dict[str, Seller]:
    """A sample context of every kind, keyed by kind."""
    return {
        "invitation": Invitation(
            **_WHO,
            enrolled_on=date(2026, 12, 1),
            benefits=(BenefitLine("traffic_support"), BenefitLine("on_time_delivery_incentive", "7.5%")),
            documents=("w8ben", "business_licence", "address_proof"),
            manager=_MANAGER,
            next_evaluation=date(2027, 1, 1),
        ),
        "warning": Warning(
            **_WHO,
            event_date=date(2026, 12, 1),
            findings=(_ODR,),
            clearing=(Clearing(fewer_defects=2, leaving=1, more_orders=101),),
            orders=(
                DefectOrder("114-1001", "negative_feedback", date(2026, 10, 8), date(2026, 12, 7)),
                DefectOrder("114-1002", "a_to_z", date(2026, 11, 2), date(2027, 1, 1)),
            ),
            orders_total=6,
            next_evaluation=date(2027, 1, 1),
            count=1,
            consecutive=2,
        ),
        "removal": Removal(
            **_WHO,
            event_date=date(2026, 12, 1),
            action="removed",
            reasons=(_ODR, _LSR),
            stable_days=30,
            recovery_earliest=date(2026, 12, 31),
            note="Repeated late shipments in November.",
        ),
        "recovery_started": RecoveryStarted(
            **_WHO, event_date=date(2026, 12, 2), stable_days=30, earliest_complete=date(2026, 12, 31)
        ),
        "back_in_pool": BackInPool(**_WHO, event_date=date(2026, 12, 31), next_evaluation=date(2027, 1, 1)),
        "readmitted": Readmitted(
            **_WHO, event_date=date(2027, 1, 1), immunity_until=date(2027, 1, 31), manager=_MANAGER
        ),
        "alert": _FEEDBACK,
        "digest": Digest(
            **_WHO,
            day=date(2026, 12, 1),
            alerts=(
                _FEEDBACK,
                Alert(**_WHO, alert="a_to_z_claim", alert_date=date(2026, 11, 30), order_id="114-2240"),
                Alert(**_WHO, alert="chargeback", alert_date=date(2026, 11, 30), order_id="114-2251"),
                Alert(
                    **_WHO,
                    alert="alert_level",
                    alert_date=date(2026, 11, 30),
                    finding=Finding("order_defect_rate", 0.0084, 0.008, ">", 42, 5000, 60),
                ),
                Alert(
                    **_WHO,
                    alert="projected_breach",
                    alert_date=date(2026, 11, 30),
                    finding=Finding("late_shipment_rate", 0.038, 0.04, ">", 19, 500, 30),
                    projected_date=date(2026, 12, 9),
                    orders_needed=26,
                    provisional=True,
                ),
            ),
        ),
        "document_reminder": DocumentReminder(
            **_WHO,
            documents=(
                DocumentItem("w8ben", "missing"),
                DocumentItem("business_licence", "rejected", "the scan is unreadable"),
                DocumentItem("address_proof", "expired", expires_on=date(2026, 11, 30)),
            ),
            due_by=date(2026, 12, 15),
        ),
        "case_update": CaseUpdate(
            **_WHO,
            case_id="D-77",
            case_kind="dispute",
            status="waiting_for_seller",
            note="Please attach the carrier's proof of delivery.\nThank you.",
            due_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        ),
    }
