"""The seller lifecycle state machine (pure functions, no I/O).

States per (seller, marketplace): ``not_eligible``, ``candidate``, ``enrolled``, ``at_risk``,
``removed``, ``recovering``.

At a (monthly) evaluation — :func:`step`:

- ``not_eligible`` / ``candidate``: → ``enrolled`` if eligible and the admission bars are met;
  → ``candidate`` if eligible but admission is not met (a failed criterion or insufficient data);
  → ``not_eligible`` otherwise (a failed eligibility criterion, insufficient data for one, or a
  marketplace outside the program).
- ``enrolled`` / ``at_risk``: admission is not re-judged (entry bars and removal bars differ on
  purpose). Each removal rule keeps a count of consecutive breached evaluations (reset to 0 by an
  evaluation without breach). If the seller is no longer eligible (e.g. a major violation) →
  ``removed``. Else if any rule reaches its ``consecutive`` count → ``removed`` (with ``consecutive = 1``
  immediately). Else if any rule is breached (necessarily one with ``consecutive > 1``) → ``at_risk``
  (a warning). Else → ``enrolled`` (``at_risk`` → ``enrolled`` when the breach clears).
- ``removed`` / ``recovering``: not judged at evaluations; only the daily recovery check applies.

Daily, for ``removed`` / ``recovering`` sellers — :func:`day_step`: a day on which the admission bars
are met adds one to the recovery streak (``removed`` → ``recovering`` on the first such day); a day
not met resets the streak (``recovering`` → ``removed``). When the streak reaches
``recovery.stable_days`` (45) the seller becomes a ``candidate`` and the next evaluation may enrol it
again.

Policies with ``lifecycle = "standing"`` (standards checks such as Amazon account health) re-judge the
admission bars at every evaluation: met → ``enrolled`` (in good standing), not met → ``at_risk``,
insufficient data → ``candidate``, not eligible → ``not_eligible``.

Every state change yields one :class:`Event` with the deciding rule, metric, value, threshold,
operator, window, the metrics' as-of date and a translatable :class:`~cxops.lifecycle.reasons.Reason`.
``since`` changes only with the state; ``reason`` is refreshed at every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from cxops.lifecycle.reasons import Reason, with_criteria
from cxops.policy.model import Policy


class LifecycleState(StrEnum):
    """Lifecycle state of a seller in a marketplace (a ``str``: ``"enrolled"`` etc.)."""

    NOT_ELIGIBLE = "not_eligible"
    CANDIDATE = "candidate"
    ENROLLED = "enrolled"
    AT_RISK = "at_risk"
    REMOVED = "removed"
    RECOVERING = "recovering"


S = LifecycleState
#: States judged daily for recovery, not at evaluations.
OUT_OF_PROGRAM = frozenset({S.REMOVED, S.RECOVERING})
#: States of program members.
MEMBERS = frozenset({S.ENROLLED, S.AT_RISK})


@dataclass(frozen=True)
class Finding:
    """A criterion result that matters for a decision (a failure, a breach or missing data).

    ``value`` is the tested quantity (value, numerator or denominator); rates are fractions.
    ``reason`` is the criterion reason of :func:`cxops.policy.explain.criterion_reason`.
    """

    criterion_id: str
    rule_id: str | None
    metric: str | None
    window_days: int | None
    channel: str | None
    test: str
    operator: str | None
    threshold: float | None
    value: float | None
    result: str
    reason: Mapping[str, Any]


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation for one seller, as the state machine needs it.

    Attributes
    ----------
    date : datetime.date
        Evaluation date.
    as_of : datetime.date
        Date the metrics were judged as of (evaluation date − metrics lag).
    eligibility, admission : {"met", "not_met", "insufficient_data"}
        Section outcomes (:func:`cxops.policy.evaluate.section_outcome`); a section without criteria
        is ``met``.
    eligibility_findings, admission_findings : tuple of Finding
        The criteria that made the section not met, in policy order.
    breaches : mapping of str to tuple of Finding
        Removal rules breached at this evaluation (rule id → its criteria), in policy order.
    """

    seller_id: str
    marketplace_id: str
    date: date
    as_of: date
    eligibility: str = "met"
    admission: str = "met"
    eligibility_findings: tuple[Finding, ...] = ()
    admission_findings: tuple[Finding, ...] = ()
    breaches: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SellerState:
    """Lifecycle state of one (seller, marketplace).

    Attributes
    ----------
    since : datetime.date or None
        Date the current state began (an evaluation date, or a day of the recovery check).
    breach_counts : mapping of str to int
        Consecutive breached evaluations per removal rule id (rules at 0 are omitted).
    recovery_streak : int
        Consecutive days with the admission bars met (``removed`` / ``recovering`` only).
    reason : Reason or None
        Why the seller is in this state, refreshed at every step.
    """

    seller_id: str
    marketplace_id: str
    state: LifecycleState = LifecycleState.NOT_ELIGIBLE
    since: date | None = None
    breach_counts: Mapping[str, int] = field(default_factory=dict)
    recovery_streak: int = 0
    reason: Reason | None = None


@dataclass(frozen=True)
class Event:
    """A state change, with what decided it.

    ``rule_id`` is a removal rule id or a criterion id (eligibility / admission), ``None`` when no
    single criterion decided (admission met, recovery). ``value`` is the tested quantity; rates are
    fractions.
    """

    seller_id: str
    marketplace_id: str
    date: date
    from_state: LifecycleState
    to_state: LifecycleState
    rule_id: str | None
    metric: str | None
    value: float | None
    threshold: float | None
    operator: str | None
    window_days: int | None
    as_of: date | None
    reason: Reason

    def as_row(self) -> dict[str, Any]:
        """Flat dict for a transitions table (``reason`` as English text, plus key and JSON params)."""
        return {
            "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id,
            "date": self.date,
            "from_state": self.from_state.value,
            "to_state": self.to_state.value,
            "rule_id": self.rule_id,
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "operator": self.operator,
            "window_days": self.window_days,
            "as_of": self.as_of,
            "reason": self.reason.text(),
            "reason_key": self.reason.key,
            "reason_params": self.reason.params_json(),
        }


def _move(
    state: SellerState,
    to: LifecycleState,
    on: date,
    as_of: date | None,
    reason: Reason,
    finding: Finding | None = None,
    rule_id: str | None = None,
    **changes: Any,
) -> tuple[SellerState, list[Event]]:
    """Apply a decision: new state (``since`` moves only on change) and the event if it changed."""
    changed = to != state.state
    new = replace(
        state, state=to, since=on if changed or state.since is None else state.since, reason=reason, **changes
    )
    if not changed:
        return new, []
    event = Event(
        seller_id=state.seller_id,
        marketplace_id=state.marketplace_id,
        date=on,
        from_state=state.state,
        to_state=to,
        rule_id=rule_id or ((finding.rule_id or finding.criterion_id) if finding else None),
        metric=finding.metric if finding else None,
        value=finding.value if finding else None,
        threshold=finding.threshold if finding else None,
        operator=finding.operator if finding else None,
        window_days=finding.window_days if finding else None,
        as_of=as_of,
        reason=reason,
    )
    return new, [event]


def _first(findings: tuple[Finding, ...]) -> Finding | None:
    return findings[0] if findings else None


def _reasons(findings: tuple[Finding, ...]) -> list[Mapping[str, Any]]:
    return [f.reason for f in findings]


def _entry(state: SellerState, ev: Evaluation) -> tuple[SellerState, list[Event]]:
    reset = {"breach_counts": {}, "recovery_streak": 0}
    if ev.eligibility != "met":
        reason = with_criteria("not_eligible", _reasons(ev.eligibility_findings))
        return _move(
            state, S.NOT_ELIGIBLE, ev.date, ev.as_of, reason, _first(ev.eligibility_findings), **reset
        )
    if ev.admission == "met":
        return _move(state, S.ENROLLED, ev.date, ev.as_of, Reason("admitted"), **reset)
    key = "admission_not_met" if ev.admission == "not_met" else "admission_insufficient"
    reason = with_criteria(key, _reasons(ev.admission_findings))
    return _move(state, S.CANDIDATE, ev.date, ev.as_of, reason, _first(ev.admission_findings), **reset)


def _member(state: SellerState, ev: Evaluation, policy: Policy) -> tuple[SellerState, list[Event]]:
    if ev.eligibility != "met":
        reason = with_criteria("removed_ineligible", _reasons(ev.eligibility_findings))
        return _move(
            state,
            S.REMOVED,
            ev.date,
            ev.as_of,
            reason,
            _first(ev.eligibility_findings),
            breach_counts={},
            recovery_streak=0,
        )
    rules = policy.removal.rules
    counts = {r.id: state.breach_counts.get(r.id, 0) + 1 for r in rules if r.id in ev.breaches}
    removing = [r for r in rules if counts.get(r.id, 0) >= r.consecutive]
    if removing:
        rule = removing[0]
        findings = tuple(f for r in removing for f in ev.breaches[r.id])
        key = "removed_consecutive" if rule.consecutive > 1 else "removed_breach"
        reason = with_criteria(
            key, _reasons(findings), consecutive=rule.consecutive, rules=[r.id for r in removing]
        )
        return _move(
            state,
            S.REMOVED,
            ev.date,
            ev.as_of,
            reason,
            _first(ev.breaches[rule.id]),
            rule_id=rule.id,
            breach_counts={},
            recovery_streak=0,
        )
    if counts:
        rule = next(r for r in rules if r.id in counts)
        findings = ev.breaches[rule.id]
        reason = with_criteria(
            "at_risk",
            _reasons(findings),
            count=counts[rule.id],
            consecutive=rule.consecutive,
            rules=list(counts),
        )
        return _move(
            state,
            S.AT_RISK,
            ev.date,
            ev.as_of,
            reason,
            _first(findings),
            rule_id=rule.id,
            breach_counts=counts,
        )
    reason = Reason("breach_cleared" if state.state == S.AT_RISK else "remains_enrolled")
    return _move(state, S.ENROLLED, ev.date, ev.as_of, reason, breach_counts={})


def _standing(state: SellerState, ev: Evaluation) -> tuple[SellerState, list[Event]]:
    if ev.eligibility != "met":
        reason = with_criteria("not_eligible", _reasons(ev.eligibility_findings))
        return _move(state, S.NOT_ELIGIBLE, ev.date, ev.as_of, reason, _first(ev.eligibility_findings))
    if ev.admission == "met":
        return _move(state, S.ENROLLED, ev.date, ev.as_of, Reason("standing_met"))
    if ev.admission == "not_met":
        reason = with_criteria("standing_not_met", _reasons(ev.admission_findings))
        return _move(state, S.AT_RISK, ev.date, ev.as_of, reason, _first(ev.admission_findings))
    reason = with_criteria("standing_insufficient", _reasons(ev.admission_findings))
    return _move(state, S.CANDIDATE, ev.date, ev.as_of, reason, _first(ev.admission_findings))


def step(state: SellerState, evaluation: Evaluation, policy: Policy) -> tuple[SellerState, list[Event]]:
    """Apply one evaluation to a seller's state (see the module docstring for the rules).

    Parameters
    ----------
    state : SellerState
    evaluation : Evaluation
        The same seller's evaluation.
    policy : Policy

    Returns
    -------
    (SellerState, list of Event)
        The new state and zero or one event (one per state change).

    Raises
    ------
    ValueError
        If the evaluation is for another seller or marketplace.
    """
    if (state.seller_id, state.marketplace_id) != (evaluation.seller_id, evaluation.marketplace_id):
        raise ValueError("evaluation and state belong to different sellers")
    if policy.lifecycle == "standing":
        return _standing(state, evaluation)
    if state.state in OUT_OF_PROGRAM:
        return state, []
    if state.state in MEMBERS:
        return _member(state, evaluation, policy)
    return _entry(state, evaluation)


def day_step(
    state: SellerState, admission_met: bool, day: date, policy: Policy
) -> tuple[SellerState, list[Event]]:
    """Apply one day of the recovery check to a ``removed`` or ``recovering`` seller.

    Parameters
    ----------
    state : SellerState
        Other states are returned unchanged.
    admission_met : bool
        Whether all admission bars were met on ``day`` (no data counts as not met).
    day : datetime.date
        The day checked; its metrics are as of ``day - cadence.metrics_lag_days``.
    policy : Policy
        Supplies ``recovery.stable_days``.

    Returns
    -------
    (SellerState, list of Event)
    """
    if state.state not in OUT_OF_PROGRAM:
        return state, []
    stable = policy.recovery.stable_days
    as_of = day - timedelta(days=policy.cadence.metrics_lag_days)
    if admission_met:
        streak = state.recovery_streak + 1
        if streak >= stable:
            reason = Reason("recovered", {"stable_days": stable, "streak": streak})
            return _move(state, S.CANDIDATE, day, as_of, reason, recovery_streak=0)
        reason = Reason("recovering", {"stable_days": stable, "streak": streak})
        return _move(state, S.RECOVERING, day, as_of, reason, recovery_streak=streak)
    if state.state == S.RECOVERING:
        reason = Reason("recovery_reset", {"day": day.isoformat(), "stable_days": stable, "streak": 0})
        return _move(state, S.REMOVED, day, as_of, reason, recovery_streak=0)
    return state, []
