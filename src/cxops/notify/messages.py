"""What each message says: one typed context (a frozen dataclass) per kind of message.

The caller (the daily job, cases, documents) builds the context from events, alerts or run results;
the outbox stores it as JSON (:func:`to_params`) and the sender renders it (:func:`from_params`, then
:func:`cxops.notify.render.render`). Rates are fractions (0.0045, rendered ``0.45%``), days are
marketplace-local calendar days, instants UTC.

Kinds and the fields each needs (every kind also has :class:`Seller`: ``seller_id``,
``marketplace_id``, ``program`` and optionally ``seller_name``):

============================  =============================================================================
``invitation``                ``enrolled_on``; ``benefits`` (benefit id and tier, e.g. ``fee_discount``
                              ``"7.5%"``); ``documents`` (document kinds to provide: ``w8ben``,
                              ``business_licence``, ``brand_authorisation``, ``address_proof``);
                              ``manager`` (name, e-mail) or None; ``next_evaluation``
``warning``                   ``event_date``; ``findings`` (metric, value, bar, operator, counts, window);
                              ``orders`` (the defective orders behind them, with the day each leaves the
                              window) and ``orders_total``; ``clearing`` per finding (how many fewer
                              defects, how many leave by the next evaluation, how many defect-free orders);
                              ``next_evaluation``; ``count`` / ``consecutive`` (breach k of n)
``removal``                   ``event_date``; ``action`` (``removed``, ``suspended``, ``blocked``);
                              ``reasons`` (findings); ``stable_days`` and ``recovery_earliest`` (the earliest
                              day the recovery period could complete; None when blocked); ``note``
                              (an operator's reason, quoted as is)
``recovery_started``          ``event_date``; ``stable_days``; ``earliest_complete``
``back_in_pool``              ``event_date``; ``next_evaluation``
``readmitted``                ``event_date``; ``immunity_until`` (None: re-admitted without immunity);
                              ``manager``
``alert``                     ``alert`` (``negative_feedback``, ``a_to_z_claim``, ``chargeback``,
                              ``alert_level``, ``projected_breach``); ``alert_date``; ``order_id``;
                              ``rating`` (feedback); ``finding`` (alert level, projected breach);
                              ``projected_date`` and ``orders_needed`` (projected breach); ``provisional``
``digest``                    ``day``; ``alerts`` (the :class:`Alert` contexts of the day)
``document_reminder``         ``documents`` (document kind, status, rejection reason, expiry); ``due_by``
``case_update``               ``case_id``; ``case_kind`` (``eligibility_inquiry``, ``dispute``,
                              ``appeal``); ``status``; ``note`` (free text from the operator, quoted as
                              is); ``due_at`` (the dispute's 24-hour clock)
============================  =============================================================================

:data:`MANDATORY` kinds (warnings and removal notices) reach every active e-mail contact of the seller
whatever its preferences: unsubscribing from alerts never unsubscribes from them.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from cxops.errors import InputError

#: Message kinds that cannot be muted (program notices about membership).
MANDATORY = frozenset({"warning", "removal"})
#: Kinds bundled into the daily digest for contacts that ask for it.
DIGESTED = frozenset({"alert"})
ALERT_KINDS = ("negative_feedback", "a_to_z_claim", "chargeback", "alert_level", "projected_breach")
REMOVAL_ACTIONS = ("removed", "suspended", "blocked")
DOCUMENT_KINDS = ("w8ben", "business_licence", "brand_authorisation", "address_proof")
DOCUMENT_STATUSES = ("missing", "submitted", "accepted", "rejected", "expired")
CASE_KINDS = ("eligibility_inquiry", "dispute", "appeal")


@dataclass(frozen=True)
class Finding:
    """A criterion and its numbers: ``value`` tested ``operator`` ``threshold`` (the bar).

    ``test`` is what is tested: ``value`` (a rate, a fraction), ``numerator`` (a count) or
    ``denominator`` (a volume); ``numerator`` / ``denominator`` the counts behind a rate;
    ``window_days`` the window.
    """

    metric: str
    value: float | None
    threshold: float | None
    operator: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    window_days: int | None = None
    rule_id: str | None = None
    test: str = "value"


@dataclass(frozen=True)
class DefectOrder:
    """A defective order behind a metric: its defect ``kind`` (catalog ``kind.*``), the ``day`` that
    places it in the window, and ``drops_out_on``, the first day it no longer counts."""

    order_id: str
    kind: str
    day: date
    drops_out_on: date | None = None


@dataclass(frozen=True)
class Clearing:
    """What would bring a breached rate back within its bar by the next evaluation.

    ``fewer_defects``: defective orders that must leave the window at the same volume; ``leaving``:
    how many of the current ones leave it by the next evaluation; ``more_orders``: defect-free orders
    that would dilute the rate back within the bar (None where orders cannot dilute it)."""

    fewer_defects: int | None
    leaving: int | None = None
    more_orders: int | None = None


@dataclass(frozen=True)
class Manager:
    """An account manager as the seller sees them."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class BenefitLine:
    """A benefit that applies to this seller (catalog ``benefit.*``) with its tier, e.g. ``"7.5%"``."""

    benefit: str
    tier: str | None = None


@dataclass(frozen=True)
class DocumentItem:
    """A document of the enrolment checklist and where it stands."""

    document: str
    status: str
    reason: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True)
class Seller:
    """Who a message is about."""

    seller_id: str
    marketplace_id: str
    program: str | None = None
    seller_name: str | None = None


@dataclass(frozen=True)
class Invitation(Seller):
    enrolled_on: date | None = None
    benefits: tuple[BenefitLine, ...] = ()
    documents: tuple[str, ...] = ()
    manager: Manager | None = None
    next_evaluation: date | None = None


@dataclass(frozen=True)
class Warning(Seller):
    event_date: date | None = None
    findings: tuple[Finding, ...] = ()
    clearing: tuple[Clearing | None, ...] = ()
    orders: tuple[DefectOrder, ...] = ()
    orders_total: int = 0
    next_evaluation: date | None = None
    count: int | None = None
    consecutive: int | None = None


@dataclass(frozen=True)
class Removal(Seller):
    event_date: date | None = None
    action: str = "removed"
    reasons: tuple[Finding, ...] = ()
    stable_days: int | None = None
    recovery_earliest: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class RecoveryStarted(Seller):
    event_date: date | None = None
    stable_days: int | None = None
    earliest_complete: date | None = None


@dataclass(frozen=True)
class BackInPool(Seller):
    event_date: date | None = None
    next_evaluation: date | None = None


@dataclass(frozen=True)
class Readmitted(Seller):
    event_date: date | None = None
    immunity_until: date | None = None
    manager: Manager | None = None


@dataclass(frozen=True)
class Alert(Seller):
    alert: str = "negative_feedback"
    alert_date: date | None = None
    order_id: str | None = None
    rating: int | None = None
    finding: Finding | None = None
    projected_date: date | None = None
    orders_needed: int | None = None
    provisional: bool = False


@dataclass(frozen=True)
class Digest(Seller):
    day: date | None = None
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class DocumentReminder(Seller):
    documents: tuple[DocumentItem, ...] = ()
    due_by: date | None = None


@dataclass(frozen=True)
class CaseUpdate(Seller):
    case_id: str = ""
    case_kind: str = "eligibility_inquiry"
    status: str = "open"
    note: str | None = None
    due_at: datetime | None = None


#: Message kind → its context type (the template of a kind is ``templates/<kind>.{txt,html}.j2``).
KINDS: dict[str, type[Seller]] = {
    "invitation": Invitation,
    "warning": Warning,
    "removal": Removal,
    "recovery_started": RecoveryStarted,
    "back_in_pool": BackInPool,
    "readmitted": Readmitted,
    "alert": Alert,
    "digest": Digest,
    "document_reminder": DocumentReminder,
    "case_update": CaseUpdate,
}


def kind_of(context: Seller) -> str:
    """The message kind of a context object."""
    for kind, cls in KINDS.items():
        if type(context) is cls:
            return kind
    raise InputError(f"{type(context).__name__} is not a message context")


def check_kinds(kinds, what: str = "kinds") -> list[str]:
    """``kinds`` as a sorted list of known message kinds.

    Raises
    ------
    InputError
        Naming the unknown kinds and listing the known ones.
    """
    kinds = sorted(set(kinds))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputError(f"{what}: unknown message kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return kinds


# -- JSON ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def to_params(context: Seller) -> dict[str, Any]:
    """The context as JSON-ready params (dates and instants as ISO text, tuples as lists)."""
    return _plain(context)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(inner[0], value)
    if origin is tuple:
        (item, *_) = typing.get_args(tp)
        return tuple(_build(item, v) for v in value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if tp is date:
        return date.fromisoformat(value)
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        return tp(**{k: _build(hints[k], v) for k, v in value.items() if k in names})
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    return value


def from_params(kind: str, params: dict[str, Any]) -> Seller:
    """The typed context of a ``kind`` message from its stored params (unknown fields are ignored).

    Raises
    ------
    InputError
        For an unknown kind.
    """
    if kind not in KINDS:
        raise InputError(f"unknown message kind {kind!r}; known: {', '.join(KINDS)}")
    return _build(KINDS[kind], params)
