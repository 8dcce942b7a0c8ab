"""The lifecycle rules, written once: declarative tables read by the per-seller machine and the array replay.

Three tables decide everything a seller's state can do:

- :data:`EVALUATION` — at a (published) evaluation: ``state × facts → next state, reason key``. The facts
  are booleans computed from the section outcomes, the removal rules' breach counts and the seller's
  protections (:data:`FACTS`); a row applies to a set of states and requires some facts true and some
  false; the **first** matching row wins. No row: the seller is not judged (state and reason kept).
- :data:`DAILY` — the daily recovery check of ``removed`` / ``recovering`` sellers: ``state × (met
  today, streak complete)``.
- :data:`ACTIONS` — operator actions: ``action × state → next state`` and what it sets.

Every reason key the lifecycle emits, with the params it carries and the criteria it lists, is declared
once in :data:`REASONS`; the texts live in the message catalogs (``lifecycle.<key>``).

:func:`cxops.lifecycle.machine.step` / :func:`~cxops.lifecycle.machine.day_step` /
:func:`~cxops.lifecycle.machine.apply_action` evaluate these tables for one seller, and
:class:`cxops.lifecycle.batch.Batch` for every seller at once, with the same :func:`decide` (a seller is
an array of length 1). A rule change is a change of a row here.

Events: a row that changes the state records a ``transition`` event; a row with ``log`` records an event
of that kind when the state does not change (a breach not acted on: ``breach_logged``). Crossing an alert
level records an ``alert`` event at every assessment (:func:`alert_crossings`); operator actions record
``action`` (or ``action_refused``) events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from cxops.lifecycle.states import CODE, ENTRY, MEMBERS, OUT_OF_PROGRAM, LifecycleState
from cxops.policy.model import Policy

S = LifecycleState

#: Facts an evaluation row may test (all booleans per seller).
FACTS: dict[str, str] = {
    "eligible": "every eligibility criterion met (a section without criteria is met)",
    "admitted": "every admission bar met",
    "admission_failed": "an admission bar failed (not met; otherwise: insufficient data)",
    "enforceable": "at or above [enforcement] min_orders (always, without it)",
    "removing": "a removal rule breached at its `consecutive`-th evaluation in a row (enforceable only)",
    "consecutive": "the first removing rule has consecutive > 1",
    "breached": "some removal rule breached (enforceable only)",
    "alerted": "some removal rule at or over its alert level (enforceable only)",
    "provisional": "every breached removal rule rests on a provisional value ([provisional]; such a rule "
    "removes only with can_remove)",
    "exempt": "an operator's exemption runs (evaluation day <= exempt_until)",
    "immune": "immune and its immunity runs (evaluation day <= immune_until)",
    "blocks": "this enforcement would be the seller's block_after-th (repeats + 1 >= block_after)",
    "suspends": "[enforcement] action = 'suspend'",
}

#: Event kinds.
TRANSITION, ALERT, BREACH_LOGGED, ACTION, ACTION_REFUSED = (
    "transition",
    "alert",
    "breach_logged",
    "action",
    "action_refused",
)
EVENT_KINDS = (TRANSITION, ALERT, BREACH_LOGGED, ACTION, ACTION_REFUSED)

#: Where the criteria a reason lists (and an event's deciding finding) come from.
#: ``removing``: the rules that remove; ``breach``: the first breached rule; ``breached``: every
#: breached rule; ``alert``: every rule at its alert level; ``alert_new``: the rules that crossed it now.
SOURCES = ("eligibility", "admission", "enforcement", "removing", "breach", "breached", "alert", "alert_new")


@dataclass(frozen=True)
class ReasonSpec:
    """What a reason key carries.

    Attributes
    ----------
    lists : str or None
        A :data:`SOURCES` entry: the reason has ``criteria`` (criterion reasons) and ``details``.
    params : tuple of str
        Further params: ``count`` (consecutive breaches of the first breached rule), ``consecutive``
        (its rule's ``consecutive``), ``rules`` (rule ids of the listed source), ``repeats`` (automatic
        removals/suspensions so far, this one included), ``block_after``, ``until`` (ISO date: the
        immunity's or exemption's last day, see ``until``), ``stable_days``, ``streak``, ``day`` (ISO),
        ``actor``, ``action``, ``state``, ``effective`` (ISO).
    until : {"immune", "exempt"} or None
        Which of the seller's dates is ``until``.
    """

    lists: str | None = None
    params: tuple[str, ...] = ()
    until: str | None = None


#: Every lifecycle reason key (the message catalogs hold ``lifecycle.<key>``). Order is stable: the
#: array replay stores a key as its position (``new`` is 0).
REASONS: dict[str, ReasonSpec] = {
    "new": ReasonSpec(),
    # entry
    "not_eligible": ReasonSpec("eligibility"),
    "admitted": ReasonSpec(),
    "admission_not_met": ReasonSpec("admission"),
    "admission_insufficient": ReasonSpec("admission"),
    # members
    "remains_enrolled": ReasonSpec(),
    "at_risk": ReasonSpec("breach", ("count", "consecutive", "rules")),
    "breach_cleared": ReasonSpec(),
    "removed_breach": ReasonSpec("removing", ("consecutive", "rules")),
    "removed_consecutive": ReasonSpec("removing", ("consecutive", "rules")),
    "removed_ineligible": ReasonSpec("eligibility"),
    # daily recovery
    "recovering": ReasonSpec(None, ("stable_days", "streak")),
    "recovery_reset": ReasonSpec(None, ("day", "stable_days", "streak")),
    "recovered": ReasonSpec(None, ("stable_days", "streak")),
    # standing
    "standing_met": ReasonSpec(),
    "standing_not_met": ReasonSpec("admission"),
    "standing_insufficient": ReasonSpec("admission"),
    # enforcement
    "alert": ReasonSpec("alert", ("rules",)),
    "alert_crossed": ReasonSpec("alert_new", ("rules",)),
    "below_min_orders": ReasonSpec("enforcement"),
    "suspended_breach": ReasonSpec("removing", ("consecutive", "rules", "repeats")),
    "suspended_consecutive": ReasonSpec("removing", ("consecutive", "rules", "repeats")),
    "suspended_ineligible": ReasonSpec("eligibility", ("repeats",)),
    "blocked_breach": ReasonSpec("removing", ("consecutive", "rules", "repeats", "block_after")),
    "blocked_ineligible": ReasonSpec("eligibility", ("repeats", "block_after")),
    "immune": ReasonSpec(None, ("until",), "immune"),
    "immune_breach": ReasonSpec("breached", ("rules", "until"), "immune"),
    "immune_ineligible": ReasonSpec("eligibility", ("until",), "immune"),
    "immunity_passed": ReasonSpec(),
    "exempt_breach": ReasonSpec("removing", ("consecutive", "rules", "until"), "exempt"),
    "exempt_ineligible": ReasonSpec("eligibility", ("until",), "exempt"),
    # operator actions
    "exempted": ReasonSpec(None, ("actor", "until"), "exempt"),
    "suspended_by_operator": ReasonSpec(None, ("actor",)),
    "reinstated": ReasonSpec(None, ("actor", "until"), "immune"),
    "plan_accepted": ReasonSpec(None, ("actor", "until"), "immune"),
    "plan_rejected": ReasonSpec(None, ("actor",)),
    "block_lifted": ReasonSpec(None, ("actor",)),
    # refused actions (cxops.lifecycle.actions.validate_action)
    "action_not_allowed": ReasonSpec(None, ("action", "state")),
    "action_needs_until": ReasonSpec(None, ("action",)),
    "action_until_before_effective": ReasonSpec(None, ("action", "until", "effective")),
    "action_until_not_used": ReasonSpec(None, ("action",)),
    "action_standing_policy": ReasonSpec(None, ("action",)),
    # a warning on provisional values ([provisional]); appended: positions are stable
    "at_risk_provisional": ReasonSpec("breach", ("count", "consecutive", "rules")),
    # a reinstatement without immunity ([enforcement] immunity_days = 0, no until); appended
    "reinstated_enrolled": ReasonSpec(None, ("actor",)),
    "plan_accepted_enrolled": ReasonSpec(None, ("actor",)),
}
REASON_KEYS: tuple[str, ...] = tuple(REASONS)
REASON_CODE: dict[str, int] = {k: i for i, k in enumerate(REASON_KEYS)}

#: ``to`` of a row that keeps the state.
SAME = None


@dataclass(frozen=True)
class Row:
    """One rule of :data:`EVALUATION` or :data:`DAILY`.

    Attributes
    ----------
    name : str
    states : frozenset of LifecycleState
        States the row applies to.
    when : tuple of (str, bool)
        Facts that must hold (``True``) or not hold (``False``); all of them.
    to : LifecycleState or None
        Next state (``None``: unchanged).
    reason : str
        Reason key (:data:`REASONS`); the seller's reason is refreshed to it.
    log : str or None
        Event kind recorded when the state does not change (``None``: no event then).
    counts : {"reset", "grown", "keep"}
        Consecutive breach counts after the row: cleared, this evaluation's (a breached rule's count
        plus one, others 0), or unchanged.
    repeat : int
        Added to the seller's repeat count (an automatic removal or suspension).
    """

    name: str
    states: frozenset[LifecycleState]
    when: tuple[tuple[str, bool], ...]
    to: LifecycleState | None
    reason: str
    log: str | None = None
    counts: str = "grown"
    repeat: int = 0
    in_states: np.ndarray = field(init=False, repr=False, compare=False)  # by state code

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"row {self.name}: unknown reason key {self.reason!r}")
        for fact, _ in self.when:
            if fact not in FACTS and fact not in DAILY_FACTS:
                raise ValueError(f"row {self.name}: unknown fact {fact!r}")
        object.__setattr__(self, "in_states", np.array([s in self.states for s in CODE], bool))


def _w(**facts: bool) -> tuple[tuple[str, bool], ...]:
    return tuple(facts.items())


#: Not protected: no exemption and no running immunity.
_OPEN = {"exempt": False, "immune": False}
_M = MEMBERS

#: Facts of the daily recovery check.
DAILY_FACTS: dict[str, str] = {
    "met": "the admission bars are met that day and no removal rule is breached",
    "done": "the streak of met days reaches recovery.stable_days",
}

_IMM = frozenset({S.IMMUNE})
_AR = frozenset({S.AT_RISK})
_ENR = frozenset({S.ENROLLED})
_LOG = BREACH_LOGGED

#: Rules at an evaluation of a ``program`` policy (first match wins). Removed, recovering, suspended and
#: blocked sellers match no row: they are not judged at evaluations. Columns: name, states, facts
#: required (True) / excluded (False), next state (SAME: unchanged), reason, event when the state stays,
#: breach counts after, repeat count added.
PROGRAM: tuple[Row, ...] = (
    # entry: eligibility, then admission
    Row("entry_ineligible", ENTRY, _w(eligible=False), S.NOT_ELIGIBLE, "not_eligible", counts="reset"),
    Row("entry_admitted", ENTRY, _w(admitted=True), S.ENROLLED, "admitted", counts="reset"),
    Row("entry_not_met", ENTRY, _w(admission_failed=True), S.CANDIDATE, "admission_not_met", counts="reset"),
    Row("entry_insufficient", ENTRY, (), S.CANDIDATE, "admission_insufficient", counts="reset"),
    # members, not protected: lost eligibility or a removing rule enforces (block, suspend or remove)
    Row("block_ineligible", _M, _w(eligible=False, blocks=True, **_OPEN), S.BLOCKED, "blocked_ineligible",
        counts="reset", repeat=1),
    Row("block_breach", _M, _w(removing=True, blocks=True, **_OPEN), S.BLOCKED, "blocked_breach",
        counts="reset", repeat=1),
    Row("suspend_ineligible", _M, _w(eligible=False, suspends=True, **_OPEN), S.SUSPENDED,
        "suspended_ineligible", counts="reset", repeat=1),
    Row("remove_ineligible", _M, _w(eligible=False, **_OPEN), S.REMOVED, "removed_ineligible",
        counts="reset", repeat=1),
    Row("suspend_consecutive", _M, _w(removing=True, consecutive=True, suspends=True, **_OPEN), S.SUSPENDED,
        "suspended_consecutive", counts="reset", repeat=1),
    Row("suspend_breach", _M, _w(removing=True, suspends=True, **_OPEN), S.SUSPENDED, "suspended_breach",
        counts="reset", repeat=1),
    Row("remove_consecutive", _M, _w(removing=True, consecutive=True, **_OPEN), S.REMOVED,
        "removed_consecutive", counts="reset", repeat=1),
    Row("remove_breach", _M, _w(removing=True, **_OPEN), S.REMOVED, "removed_breach",
        counts="reset", repeat=1),
    # immune (reinstated, immunity running): breaches are logged, never acted on
    Row("immune_ineligible", _IMM, _w(eligible=False, immune=True), SAME, "immune_ineligible", _LOG),
    Row("immune_breach", _IMM, _w(breached=True, immune=True), SAME, "immune_breach", _LOG),
    Row("immune", _IMM, _w(immune=True), SAME, "immune"),
    # exempt by an operator: what would remove is logged, the seller is warned
    Row("exempt_ineligible", _M, _w(eligible=False, exempt=True), S.AT_RISK, "exempt_ineligible", _LOG),
    Row("exempt_breach", _M, _w(removing=True, exempt=True), S.AT_RISK, "exempt_breach", _LOG),
    # warnings: a breach on provisional values (never removes without [provisional] can_remove), a
    # breach before its consecutive-th, or an alert level crossed
    Row("warn_provisional", _M, _w(breached=True, provisional=True), S.AT_RISK, "at_risk_provisional"),
    Row("warn_breach", _M, _w(breached=True), S.AT_RISK, "at_risk"),
    Row("warn_alert", _M, _w(alerted=True), S.AT_RISK, "alert"),
    # nothing to act on
    Row("below_min_orders", _M, _w(enforceable=False), S.ENROLLED, "below_min_orders"),
    Row("breach_cleared", _AR, (), S.ENROLLED, "breach_cleared"),
    Row("immunity_passed", _IMM, (), S.ENROLLED, "immunity_passed"),
    Row("remains_enrolled", _ENR, (), S.ENROLLED, "remains_enrolled"),
)  # fmt: skip

#: Rules at an evaluation of a ``standing`` policy (a standards check re-judged every time).
STANDING: tuple[Row, ...] = (
    Row("standing_ineligible", ENTRY | {S.ENROLLED, S.AT_RISK}, _w(eligible=False), S.NOT_ELIGIBLE,
        "not_eligible", counts="keep"),
    Row("standing_met", ENTRY | {S.ENROLLED, S.AT_RISK}, _w(admitted=True), S.ENROLLED, "standing_met",
        counts="keep"),
    Row("standing_not_met", ENTRY | {S.ENROLLED, S.AT_RISK}, _w(admission_failed=True), S.AT_RISK,
        "standing_not_met", counts="keep"),
    Row("standing_insufficient", ENTRY | {S.ENROLLED, S.AT_RISK}, (), S.CANDIDATE, "standing_insufficient",
        counts="keep"),
)  # fmt: skip

#: The daily recovery check of removed / recovering sellers (first match wins; a removed seller on a day
#: not met matches nothing).
DAILY: tuple[Row, ...] = (
    Row("recovered", OUT_OF_PROGRAM, _w(done=True), S.CANDIDATE, "recovered", counts="keep"),
    Row("recovering", OUT_OF_PROGRAM, _w(met=True), S.RECOVERING, "recovering", counts="keep"),
    Row(
        "recovery_reset", frozenset({S.RECOVERING}), _w(met=False), S.REMOVED, "recovery_reset", counts="keep"
    ),
)

#: The evaluation table of each ``lifecycle`` mode.
EVALUATION: dict[str, tuple[Row, ...]] = {"program": PROGRAM, "standing": STANDING}


def evaluation_rows(policy: Policy) -> tuple[Row, ...]:
    """The evaluation table of the policy's ``lifecycle`` mode."""
    return EVALUATION[policy.lifecycle]


def apply_provisional(policy: Policy, breached: np.ndarray, provisional: np.ndarray):
    """What breaches on provisional values may do under the policy's ``[provisional]``.

    Parameters
    ----------
    policy : Policy
    breached, provisional : ndarray of bool, shape (sellers, rules)
        Rules breached (or at their alert level), and those resting on a provisional value.

    Returns
    -------
    breached : ndarray of bool
        The breaches that count: all of them, or without the provisional ones when ``can_warn`` is
        false.
    marked : ndarray of bool
        Counted breaches resting on provisional values (warnings are marked provisional).
    hold : ndarray of bool
        Counted breaches that may not remove (``can_remove`` false): the seller is warned instead.
    """
    p = policy.provisional
    marked = breached & provisional
    if not p.can_warn:
        return breached & ~marked, np.zeros_like(marked), np.zeros_like(marked)
    return breached, marked, (marked if not p.can_remove else np.zeros_like(marked))


def decide(rows: tuple[Row, ...], state: np.ndarray, facts: Mapping[str, np.ndarray]) -> np.ndarray:
    """The first row matching each seller (its position in ``rows``), -1 where none matches.

    Parameters
    ----------
    rows : tuple of Row
    state : ndarray of int8, shape (n,)
        State codes (:data:`cxops.lifecycle.states.CODE`).
    facts : mapping of str to ndarray of bool, shape (n,)
        Every fact the rows test.

    Returns
    -------
    ndarray of int64, shape (n,)
    """
    n = len(state)
    out = np.full(n, -1, np.int64)
    open_ = np.ones(n, bool)
    state = np.asarray(state, np.int64)
    present = np.bincount(state, minlength=len(CODE)) > 0
    for i, row in enumerate(rows):
        if not (row.in_states & present).any():
            continue  # no seller in the row's states: nothing to test
        m = open_ & row.in_states[state]
        for fact, value in row.when:
            m &= facts[fact] if value else ~facts[fact]
        out[m] = i
        open_ &= ~m
    return out


def decide_one(rows: tuple[Row, ...], state: LifecycleState, facts: Mapping[str, bool]) -> Row | None:
    """:func:`decide` for one seller: the matching row or ``None``."""
    i = int(
        decide(rows, np.array([CODE[state]], np.int8), {k: np.array([bool(v)]) for k, v in facts.items()})[0]
    )
    return rows[i] if i >= 0 else None


def alert_crossings(member: np.ndarray, alerted: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Alert levels crossed at an assessment, as rule bitmasks.

    Parameters
    ----------
    member : ndarray of bool
        The seller is a member (:data:`cxops.lifecycle.states.MEMBERS`) before the assessment.
    alerted, before : ndarray of int64
        Bitmasks (bit ``j``: removal rule ``j``) of the rules at or over their alert level now, and at
        the previous assessment (the seller's ``alerts``).

    Returns
    -------
    ndarray of int64
        The rules that crossed now (an ``alert`` event where non-zero).
    """
    return np.where(member, alerted & ~before, 0)


# -- operator actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRule:
    """What an operator action does.

    Attributes
    ----------
    states : frozenset of LifecycleState
        States it is possible from (another state: refused, ``action_not_allowed``).
    to : LifecycleState, "out" or None
        Next state; ``"out"``: ``suspended`` under ``[enforcement] action = "suspend"``, else
        ``removed``; ``None``: unchanged.
    reason : str
    until : {"required", "optional", "unused"}
        The action's ``until`` date: required (exempt), optional (reinstatement: default
        ``[enforcement] immunity_days``), or refused when given.
    sets : tuple of str
        ``exempt_until`` (= until), ``immune_until`` (= until or effective + immunity_days - 1),
        ``clear_exempt`` (the exemption ends), ``clear_protection`` (exemption and immunity end),
        ``reset`` (breach counts, recovery streak and alerts cleared), ``reset_repeats``.
    unprotected : (LifecycleState, str) or None
        Next state and reason when the action gives no immunity (an ``immune_until`` action without
        ``until`` under ``[enforcement] immunity_days = 0``): no ``immune`` day, no immunity end.
    """

    states: frozenset[LifecycleState]
    to: LifecycleState | str | None
    reason: str
    until: str = "unused"
    sets: tuple[str, ...] = ()
    unprotected: tuple[LifecycleState, str] | None = None

    def __post_init__(self) -> None:
        for key in (self.reason, *(self.unprotected[1:] if self.unprotected else ())):
            if key not in REASONS:
                raise ValueError(f"action rule: unknown reason key {key!r}")


_ALL = frozenset(LifecycleState)
_OUT = frozenset({S.SUSPENDED, S.REMOVED, S.RECOVERING})
_REINSTATE = ("immune_until", "clear_exempt", "reset")

#: Operator actions (``cxops.lifecycle.actions.Action.action``).
ACTIONS: dict[str, ActionRule] = {
    "exempt": ActionRule(
        ENTRY | {S.ENROLLED, S.AT_RISK, S.IMMUNE}, SAME, "exempted", "required", ("exempt_until",)
    ),
    "suspend": ActionRule(
        _ALL - {S.SUSPENDED, S.BLOCKED},
        S.SUSPENDED,
        "suspended_by_operator",
        "unused",
        ("clear_protection", "reset"),
    ),
    "reinstate": ActionRule(
        _OUT, S.IMMUNE, "reinstated", "optional", _REINSTATE, (S.ENROLLED, "reinstated_enrolled")
    ),
    "accept_plan": ActionRule(
        _OUT, S.IMMUNE, "plan_accepted", "optional", _REINSTATE, (S.ENROLLED, "plan_accepted_enrolled")
    ),
    "reject_plan": ActionRule(_OUT, SAME, "plan_rejected"),
    "lift_block": ActionRule(
        frozenset({S.BLOCKED}), "out", "block_lifted", "unused", ("reset", "reset_repeats")
    ),
}
ACTION_KINDS: tuple[str, ...] = tuple(ACTIONS)


def action_target(
    rule: ActionRule, state: LifecycleState, policy: Policy, until: date | None = None
) -> tuple[LifecycleState, str]:
    """The state an allowed action leads to and its reason key.

    Parameters
    ----------
    rule : ActionRule
    state : LifecycleState
        The seller's state before the action.
    policy : Policy
    until : datetime.date or None
        The action's ``until``.

    Returns
    -------
    (LifecycleState, str)
        ``rule.unprotected`` when the action gives no immunity (no ``until``, ``[enforcement]
        immunity_days = 0``), else the rule's target and reason.
    """
    if rule.unprotected is not None and until is None and policy.enforcement.immunity_days == 0:
        return rule.unprotected
    if rule.to is SAME:
        return state, rule.reason
    if rule.to == "out":
        return (S.SUSPENDED if policy.enforcement.action == "suspend" else S.REMOVED), rule.reason
    return LifecycleState(rule.to), rule.reason
