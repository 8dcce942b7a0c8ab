"""Request and response models of the API (pydantic): what ``/api/v1/openapi.json`` publishes.

Conventions: instants are UTC (ISO 8601 with offset), days are marketplace-local dates, rates are
fractions (0.0045, not 0.45 %), ids are strings as the marketplace gives them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ActionKind = Literal[
    "exempt", "suspend", "reinstate", "accept_plan", "reject_plan", "lift_block", "assign_manager"
]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    store: Literal["ok", "unreachable"]
    version: str


class Grant(BaseModel):
    """A seller a seller principal may see; ``marketplace_id`` ``"*"`` means every marketplace."""

    seller_id: str
    marketplace_id: str


class Me(BaseModel):
    """The caller."""

    kind: Literal["session", "token"]
    login: str
    name: str | None = None
    role: Literal["operator-admin", "operator-viewer", "seller"]
    language: str | None = None
    sellers: list[Grant] = Field(description="Bound sellers (seller role only).")


class Member(BaseModel):
    """A seller's membership in a program on one marketplace (a row of the operator list)."""

    model_config = ConfigDict(from_attributes=True)

    program: str
    seller_id: str
    marketplace_id: str
    state: str = Field(description="Lifecycle state: enrolled, at_risk, removed, recovering, …")
    since: date | None = Field(None, description="First day in this state (marketplace-local).")
    consecutive_breaches: int
    repeat_count: int
    immunity_until: date | None = None
    exemption_until: date | None = None
    account_manager_id: str | None = None
    manager_name: str | None = None
    primary_category: str | None = None
    reason_key: str | None = Field(None, description="Catalog key of why the seller is in this state.")
    reason_params: dict[str, Any] | None = None
    last_evaluated: date | None = None
    updated_at: datetime


class Benefit(BaseModel):
    """A benefit held now (an open entry of the benefits ledger); ``value`` is a fraction."""

    benefit: str
    tier: str | None = None
    value: float | None = None
    effective_from: date


class Manager(BaseModel):
    id: str
    name: str
    email: str | None = None
    languages: list[str] = []
    categories: list[str] = []
    capacity: int
    load: int = Field(description="Sellers assigned now.")
    active: bool


class PendingAction(BaseModel):
    """An operator action waiting for the next daily run (or applied, rejected, cancelled)."""

    id: int
    kind: str
    status: str
    actor: str
    reason: str
    until: date | None = None
    manager_id: str | None = None
    requested_at: datetime
    applied_at: datetime | None = None
    outcome: str | None = None


class SellerAccount(BaseModel):
    """One membership with its manager's contact, benefits held now and (operators) pending actions."""

    membership: Member
    manager_email: str | None = None
    benefits: list[Benefit]
    pending_actions: list[PendingAction] = Field(description="Empty for seller principals.")


class Seller(BaseModel):
    """A seller and the memberships the caller may see."""

    seller_id: str
    accounts: list[SellerAccount]


class Event(BaseModel):
    """An entry of the append-only event log (transitions, actions, notes, logins…).

    ``value``/``numerator``/``denominator``/``threshold`` are the tested quantity and its counts
    (rates as fractions). For seller principals ``actor`` is ``"program"`` and ``reason`` empty."""

    id: int
    kind: str
    program: str | None = None
    seller_id: str | None = None
    marketplace_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    rule_id: str | None = None
    metric: str | None = None
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    threshold: float | None = None
    operator: str | None = None
    window_days: int | None = None
    event_date: date | None = None
    as_of: date | None = None
    policy_version: str | None = None
    actor: str
    reason: str | None = None
    reason_key: str | None = None
    reason_params: dict[str, Any] | None = None
    details: dict[str, Any] | None = None
    occurred_at: datetime
    action_id: int | None = None
    run_id: int | None = None


class Note(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime


class Run(BaseModel):
    """A run of the daily job."""

    id: int
    program: str
    as_of: date
    policy_name: str
    policy_version: str
    policy_hash: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    rebuild_from: date | None = None
    counts: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    error: str | None = None


class ActionRequest(BaseModel):
    """Ask for an operator action; it takes effect at the next daily run."""

    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    reason: str = Field(min_length=1, max_length=2000, description="Why (recorded in the event log).")
    until: date | None = Field(None, description="Last day of an exemption (required) or a suspension.")
    manager_id: str | None = Field(None, max_length=64, description="The manager of assign_manager.")
    idempotency_key: str | None = Field(
        None, max_length=200, description="Repeat a request with the same key to get the recorded action."
    )


class ActionResult(BaseModel):
    """A recorded action: the seller's state now and once the pending actions are applied."""

    action_id: int
    kind: str
    program: str
    seller_id: str
    marketplace_id: str
    actor: str
    reason: str
    state: str
    expected_state: str
    requested_at: datetime
    until: date | None = None
    manager_id: str | None = None
    duplicate: bool
    warnings: list[str]


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)


class NoteResult(BaseModel):
    note_id: int
    program: str
    seller_id: str
    marketplace_id: str
    actor: str
    text: str
    created_at: datetime
