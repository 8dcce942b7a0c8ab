"""The seller lifecycle state machine for one seller (pure functions, no I/O).

The rules are the tables of :mod:`cxops.lifecycle.table`; this module applies them to one seller
(:mod:`cxops.lifecycle.batch` applies the same tables to every seller at once). In words:

At an evaluation — :func:`step`:

- ``not_eligible`` / ``candidate``: → ``enrolled`` if eligible and the admission bars are met;
  → ``candidate`` if eligible but admission is not met (a failed criterion or insufficient data);
  → ``not_eligible`` otherwise (a failed eligibility criterion, insufficient data for one, or a
  marketplace outside the program).
- ``enrolled`` / ``at_risk`` (and ``immune`` once its immunity is over): admission is not re-judged
  (entry bars and removal bars differ on purpose). Each removal rule keeps a count of consecutive
  breached evaluations (reset to 0 by an evaluation without breach). If the seller is no longer
  eligible (e.g. a major violation) → ``removed``. Else if any rule reaches its ``consecutive`` count →
  ``removed`` (with ``consecutive = 1`` immediately). With ``[enforcement] action = "suspend"`` the
  seller is ``suspended`` instead, and the ``block_after``-th such enforcement makes it ``blocked``. Else
  if any rule is breached (necessarily one with ``consecutive > 1``) or at its alert level → ``at_risk``
  (a warning). Else → ``enrolled`` (``at_risk`` → ``enrolled`` when the breach clears). Below
  ``[enforcement] min_orders`` removal rules and alert levels do not apply.
- Protected sellers: while an operator's exemption runs, what would remove is logged and the seller is
  ``at_risk``; while an immunity runs (``immune``), breaches are logged and the seller stays ``immune``.
- ``removed`` / ``recovering`` / ``suspended`` / ``blocked``: not judged at evaluations.

Crossing an alert level records an ``alert`` event at every assessment, also on days that do not
publish (``cadence.publish_every``); status changes happen only on publishing days.

Daily, for ``removed`` / ``recovering`` sellers — :func:`day_step`: a day on which the admission bars
are met adds one to the recovery streak (``removed`` → ``recovering`` on the first such day); a day
not met resets the streak (``recovering`` → ``removed``). When the streak reaches
``recovery.stable_days`` (45) the seller becomes a ``candidate`` and the next evaluation may enrol it
again.

Operator actions (:func:`cxops.lifecycle.actions.apply_action`) take effect on their day.

Policies with ``lifecycle = "standing"`` (standards checks such as Amazon account health) re-judge the
admission bars at every evaluation: met → ``enrolled`` (in good standing), not met → ``at_risk``,
insufficient data → ``candidate``, not eligible → ``not_eligible``.

Every state change yields one :class:`Event` with the deciding rule, metric, value, numerator,
denominator, threshold, operator, window, the metrics' as-of date and a translatable
:class:`~cxops.lifecycle.reasons.Reason`. ``since`` changes only with the state; ``reason`` is refreshed
at every step that judges the seller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from cxops.lifecycle.reasons import Reason, make_reason
from cxops.lifecycle.states import CODE, ENTRY, MEMBERS, OUT_OF_PROGRAM, STATES, LifecycleState
from cxops.lifecycle.table import (
    ALERT,
    DAILY,
    REASONS,
    TRANSITION,
    Row,
    apply_provisional,
    decide_one,
    evaluation_rows,
)
from cxops.policy.model import Policy

__all__ = [
    "CODE",
    "ENTRY",
    "MEMBERS",
    "OUT_OF_PROGRAM",
    "STATES",
    "Evaluation",
    "Event",
    "Finding",
    "LifecycleState",
    "SellerState",
    "day_step",
    "step",
]

S = LifecycleState


@dataclass(frozen=True)
class Finding:
    """A criterion result that matters for a decision (a failure, a breach or missing data).

    ``value`` is the tested quantity (value, numerator or denominator); rates are fractions.
    ``numerator`` / ``denominator`` are the metric's counts. ``reason`` is the criterion reason of
    :func:`cxops.policy.explain.criterion_reason`.
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
    numerator: float | None = None
    denominator: float | None = None
    provisional: bool = False
    coverage: float | None = None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation for one seller, as the state machine needs it.

    Attributes
    ----------
    date : datetime.date
        Evaluation date.
    as_of : datetime.date
        Date the metrics were judged as of (evaluation date − metrics lag).
    eligibility, admission, enforcement : {"met", "not_met", "insufficient_data"}
        Section outcomes (:func:`cxops.policy.evaluate.section_outcome`); a section without criteria
        is ``met`` (``enforcement``: the minimum order count).
    eligibility_findings, admission_findings, enforcement_findings : tuple of Finding
        The criteria that made the section not met, in policy order.
    breaches : mapping of str to tuple of Finding
        Removal rules breached at this evaluation (rule id → its criteria), in policy order.
    alerts : mapping of str to tuple of Finding
        Removal rules at or over their alert level (rule id → its ``alert`` criteria), in policy order.
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
    enforcement: str = "met"
    enforcement_findings: tuple[Finding, ...] = ()
    alerts: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SellerState:
    """Lifecycle state of one (seller, marketplace).

    Attributes
    ----------
    since : datetime.date or None
        Date the current state began (an evaluation date, a day of the recovery check, an action's day).
    breach_counts : mapping of str to int
        Consecutive breached evaluations per removal rule id (rules at 0 are omitted).
    recovery_streak : int
        Consecutive days with the admission bars met (``removed`` / ``recovering`` only).
    reason : Reason or None
        Why the seller is in this state, refreshed at every step.
    repeats : int
        Automatic removals and suspensions so far (``[enforcement] block_after`` blocks at that
        number); reset only by an operator lifting a block.
    alerts : frozenset of str
        Removal rules at or over their alert level at the last assessment (members only).
    exempt_until : datetime.date or None
        Last day of an operator's exemption from automatic removal.
    immune_until : datetime.date or None
        Last day of the immunity of an ``immune`` seller.
    """

    seller_id: str
    marketplace_id: str
    state: LifecycleState = LifecycleState.NOT_ELIGIBLE
    since: date | None = None
    breach_counts: Mapping[str, int] = field(default_factory=dict)
    recovery_streak: int = 0
    reason: Reason | None = None
    repeats: int = 0
    alerts: frozenset[str] = frozenset()
    exempt_until: date | None = None
    immune_until: date | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened to a seller: a state change, an alert, a breach logged, an action.

    ``kind`` is one of :data:`cxops.lifecycle.table.EVENT_KINDS`. ``rule_id`` is a removal rule id or a
    criterion id (eligibility / admission), ``None`` when no single criterion decided (admission met,
    recovery, actions). ``value`` is the tested quantity; rates are fractions. ``actor`` and
    ``action_reason`` are an operator action's.
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
    kind: str = TRANSITION
    numerator: float | None = None
    denominator: float | None = None
    actor: str | None = None
    action_reason: str | None = None

    def as_row(self) -> dict[str, Any]:
        """Flat dict of the event (``reason`` as English text, plus key and JSON params): the columns of
        :data:`cxops.lifecycle.replay.EVENT_COLUMNS` (a superset of ``TRANSITION_COLUMNS``)."""
        return {
            "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id,
            "date": self.date,
            "kind": self.kind,
            "from_state": self.from_state.value,
            "to_state": self.to_state.value,
            "rule_id": self.rule_id,
            "metric": self.metric,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "threshold": self.threshold,
            "operator": self.operator,
            "window_days": self.window_days,
            "as_of": self.as_of,
            "reason": self.reason.text(),
            "reason_key": self.reason.key,
            "reason_params": self.reason.params_json(),
            "actor": self.actor,
            "action_reason": self.action_reason,
        }


def event(
    state: SellerState,
    to: LifecycleState,
    on: date,
    as_of: date | None,
    reason: Reason,
    finding: Finding | None = None,
    rule_id: str | None = None,
    kind: str = TRANSITION,
    actor: str | None = None,
    action_reason: str | None = None,
) -> Event:
    """An event of ``state``'s seller, with the deciding finding's columns."""
    return Event(
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
        kind=kind,
        numerator=finding.numerator if finding else None,
        denominator=finding.denominator if finding else None,
        actor=actor,
        action_reason=action_reason,
    )


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


@dataclass(frozen=True)
class _Judged:
    """What one evaluation says about one seller's removal rules (rule ids in policy order)."""

    grown: dict[str, int]  # breached rules (enforceable only) -> consecutive count including this one
    removing: list[str]  # rules at their consecutive count
    alerted: list[str]  # rules at or over their alert level (enforceable only)
    new_alerts: list[str]  # of those, the ones not alerted at the previous assessment (members only)
    provisional: bool = False  # every counted breach rests on a provisional value


def _provisional(policy: Policy, found: Mapping[str, tuple[Finding, ...]]):
    """:func:`cxops.lifecycle.table.apply_provisional` of one seller's breaches (or alert levels):
    ``(rules counted, rules marked provisional, rules held from removing)``."""
    ids = [r.id for r in policy.removal.rules]
    breached = np.array([[r in found for r in ids]], bool)
    prov = np.array([[any(f.provisional for f in found.get(r, ())) for r in ids]], bool)
    counted, marked, hold = apply_provisional(policy, breached, prov)
    return ({r for r, b in zip(ids, m[0], strict=True) if b} for m in (counted, marked, hold))


def _judge(state: SellerState, ev: Evaluation, policy: Policy) -> _Judged:
    enforceable = ev.enforcement == "met"
    rules = policy.removal.rules
    counted, marked, hold = _provisional(policy, ev.breaches)
    grown = {r.id: state.breach_counts.get(r.id, 0) + 1 for r in rules if enforceable and r.id in counted}
    removing = [r.id for r in rules if grown.get(r.id, 0) >= r.consecutive and r.id not in hold]
    alerts = next(_provisional(policy, ev.alerts))
    alerted = [r.id for r in rules if enforceable and r.id in alerts]
    new = [r for r in alerted if r not in state.alerts] if state.state in MEMBERS else []
    provisional = bool(grown) and all(r in marked for r in grown)
    return _Judged(grown, removing, alerted, new, provisional)


def _facts(state: SellerState, ev: Evaluation, policy: Policy, j: _Judged) -> dict[str, bool]:
    consecutive = {r.id: r.consecutive for r in policy.removal.rules}
    block_after = policy.enforcement.block_after
    return {
        "eligible": ev.eligibility == "met",
        "admitted": ev.admission == "met",
        "admission_failed": ev.admission == "not_met",
        "enforceable": ev.enforcement == "met",
        "removing": bool(j.removing),
        "consecutive": bool(j.removing) and consecutive[j.removing[0]] > 1,
        "breached": bool(j.grown),
        "alerted": bool(j.alerted),
        "provisional": j.provisional,
        "exempt": state.exempt_until is not None and ev.date <= state.exempt_until,
        "immune": state.state == S.IMMUNE
        and state.immune_until is not None
        and ev.date <= state.immune_until,
        "blocks": block_after is not None and state.repeats + 1 >= block_after,
        "suspends": policy.enforcement.action == "suspend",
    }


def _listed(source: str | None, ev: Evaluation, j: _Judged) -> tuple[list[str], tuple[Finding, ...]]:
    """The rules a reason lists and their findings (in policy order), for a reason source."""
    if source in ("eligibility", "admission", "enforcement"):
        return [], getattr(ev, f"{source}_findings")
    rules = {
        "removing": j.removing,
        "breach": list(j.grown)[:1],
        "breached": list(j.grown),
        "alert": j.alerted,
        "alert_new": j.new_alerts,
    }.get(source or "", [])
    table = ev.alerts if source in ("alert", "alert_new") else ev.breaches
    return rules, tuple(f for r in rules for f in table[r])


def _reason(key: str, state: SellerState, ev: Evaluation, policy: Policy, j: _Judged, repeats: int):
    """The reason ``key`` for this evaluation, and its deciding finding and rule."""
    spec = REASONS[key]
    rules, findings = _listed(spec.lists, ev, j)
    consecutive = {r.id: r.consecutive for r in policy.removal.rules}
    first_rule = rules[0] if rules else None
    breached = list(j.grown)
    values = {
        "count": j.grown[breached[0]] if breached else 0,
        "consecutive": consecutive.get(first_rule, 0) if first_rule else 0,
        "rules": breached if spec.lists == "breach" else rules,
        "repeats": repeats,
        "block_after": policy.enforcement.block_after,
        "until": _iso(state.immune_until if spec.until == "immune" else state.exempt_until),
    }
    reason = make_reason(key, [f.reason for f in findings], values)
    first = findings[0] if findings else None
    return reason, first, first_rule


def _counts(row: Row, state: SellerState, j: _Judged) -> Mapping[str, int]:
    if row.counts == "reset":
        return {}
    if row.counts == "keep":
        return state.breach_counts
    return dict(j.grown)


def step(
    state: SellerState, evaluation: Evaluation, policy: Policy, *, publish: bool = True
) -> tuple[SellerState, list[Event]]:
    """Apply one evaluation to a seller's state (the rows of :func:`cxops.lifecycle.table.evaluation_rows`).

    Parameters
    ----------
    state : SellerState
    evaluation : Evaluation
        The same seller's evaluation.
    policy : Policy
    publish : bool
        Whether status changes are published at this evaluation (:func:`cxops.lifecycle.cadence.publishes`);
        on other days only alert-level crossings are recorded.

    Returns
    -------
    (SellerState, list of Event)
        The new state and its events: an ``alert`` when an alert level is crossed, then a transition
        (or a ``breach_logged``) when the table's row says so.

    Raises
    ------
    ValueError
        If the evaluation is for another seller or marketplace.
    """
    if (state.seller_id, state.marketplace_id) != (evaluation.seller_id, evaluation.marketplace_id):
        raise ValueError("evaluation and state belong to different sellers")
    ev = evaluation
    j = _judge(state, ev, policy)
    events: list[Event] = []
    if j.new_alerts:
        reason, finding, rule = _reason("alert_crossed", state, ev, policy, j, state.repeats)
        events.append(event(state, state.state, ev.date, ev.as_of, reason, finding, rule, kind=ALERT))
    member_alerts = frozenset(j.alerted) if state.state in MEMBERS else frozenset()
    row = decide_one(evaluation_rows(policy), state.state, _facts(state, ev, policy, j)) if publish else None
    if row is None:
        if member_alerts != state.alerts:
            state = replace(state, alerts=member_alerts)
        return state, events
    to = row.to or state.state
    repeats = state.repeats + row.repeat
    reason, finding, rule = _reason(row.reason, state, ev, policy, j, repeats)
    changed = to != state.state
    if changed or row.log:
        kind = TRANSITION if changed else row.log
        events.append(event(state, to, ev.date, ev.as_of, reason, finding, rule, kind=kind))
    new = replace(
        state,
        state=to,
        since=ev.date if changed or state.since is None else state.since,
        reason=reason,
        breach_counts=_counts(row, state, j),
        recovery_streak=0 if policy.lifecycle == "program" else state.recovery_streak,
        repeats=repeats,
        alerts=member_alerts if to in MEMBERS else frozenset(),
        immune_until=state.immune_until if to == S.IMMUNE else None,
    )
    return new, events


def day_step(
    state: SellerState, admission_met: bool, day: date, policy: Policy
) -> tuple[SellerState, list[Event]]:
    """Apply one day of the recovery check (:data:`cxops.lifecycle.table.DAILY`) to one seller.

    Parameters
    ----------
    state : SellerState
        Only ``removed`` and ``recovering`` sellers are checked; other states are returned unchanged.
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
    streak = state.recovery_streak + 1 if admission_met else 0
    row = decide_one(DAILY, state.state, {"met": admission_met, "done": admission_met and streak >= stable})
    if row is None:
        return state, []
    to = row.to or state.state
    as_of = day - timedelta(days=policy.cadence.metrics_lag_days)
    values = {"stable_days": stable, "streak": streak, "day": day.isoformat()}
    reason = make_reason(row.reason, [], values)
    changed = to != state.state
    events = [event(state, to, day, as_of, reason)] if changed else []
    new = replace(
        state,
        state=to,
        since=day if changed or state.since is None else state.since,
        reason=reason,
        recovery_streak=0 if to == S.CANDIDATE else streak,
    )
    return new, events
