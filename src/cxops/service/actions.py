"""Operator actions on a seller: exempt, suspend, reinstate, accept or reject an action plan, lift a
block, assign a manager, note.

Each action needs a reason, is validated against the seller's membership (as it will be once the
actions already pending are applied), is recorded in the event log with the actor, and is stored as
a *pending action* that the next daily run applies (:func:`cxops.store.pending_actions`). A note
takes effect at once (it changes no state).

Which action is possible from which state, and what it leads to, is the lifecycle's table
(:data:`cxops.lifecycle.table.ACTIONS`, documented in :mod:`cxops.lifecycle.actions`); the one action
that is not a lifecycle input, ``assign_manager``, is possible for program members. :data:`ACTION_RULES`
is derived from both, never written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, CxopsError, InputError, NotFoundError
from cxops.lifecycle.states import MEMBERS, LifecycleState
from cxops.lifecycle.table import ACTIONS, SAME, action_target
from cxops.policy.load import load_policy
from cxops.store import actions as repo
from cxops.store import events as event_log
from cxops.store import managers as manager_repo
from cxops.store import notes as note_repo
from cxops.store.db import Store
from cxops.store.memberships import get_membership
from cxops.store.models import Action, Membership
from cxops.store.types import utcnow

DEFAULT_PROGRAM = "customer-excellence"


@dataclass(frozen=True)
class Rule:
    """When an action is possible and what it leads to.

    ``leads_to`` is a state, ``None`` (the state does not change) or ``"out"`` (``suspended`` under a
    policy whose ``[enforcement] action`` is ``suspend``, else ``removed``); ``until`` is
    ``required``, ``optional`` or ``unused``.
    """

    allowed: frozenset[str]
    leads_to: str | None
    until: str
    verb: str


def _lifecycle_rule(kind: str, rule) -> Rule:
    to = None if rule.to is SAME else str(getattr(rule.to, "value", rule.to))
    return Rule(frozenset(s.value for s in rule.states), to, rule.until, kind.replace("_", " "))


ACTION_RULES: dict[str, Rule] = {kind: _lifecycle_rule(kind, rule) for kind, rule in ACTIONS.items()} | {
    "assign_manager": Rule(
        frozenset(s.value for s in MEMBERS | {LifecycleState.SUSPENDED}),
        None,
        "unused",
        "assign a manager to",
    )
}
_ORDER = [s.value for s in LifecycleState]


def _leads_to(kind: str, state: str, program: str, until: date | None) -> str:
    """The state after action ``kind`` from ``state``: :func:`cxops.lifecycle.table.action_target` under
    the program's built-in pack (a program run from a policy file: the daily job knows; removal and the
    rule's own target are assumed)."""
    rule = ACTIONS.get(kind)
    if rule is None:  # not a lifecycle action (assign_manager)
        return state
    try:
        policy = load_policy(program)
    except CxopsError:
        policy = None
    if policy is not None:
        return action_target(rule, LifecycleState(state), policy, until)[0].value
    if rule.to is SAME:
        return state
    return LifecycleState.REMOVED.value if rule.to == "out" else str(getattr(rule.to, "value", rule.to))


@dataclass(frozen=True)
class ActionResult:
    """A recorded action.

    ``state`` is the seller's stored state, ``expected_state`` the state once the pending actions
    (this one included) are applied; ``duplicate`` is True when the request repeated an
    idempotency key already recorded (nothing new was written); ``warnings`` are things the operator
    should know that did not stop the action (e.g. a manager over capacity).
    """

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
    duplicate: bool = False
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class NoteResult:
    """A stored note."""

    note_id: int
    program: str
    seller_id: str
    marketplace_id: str
    actor: str
    text: str
    created_at: datetime


def _listing(states: frozenset[str]) -> str:
    names = sorted(states, key=lambda s: (_ORDER.index(s) if s in _ORDER else 99, s))
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _membership(session: Session, program: str, seller_id: str, marketplace_id: str) -> Membership:
    m = get_membership(session, program, seller_id, marketplace_id, for_update=True)
    if m is None:
        raise NotFoundError(
            f"seller {seller_id} has no membership in {program} on marketplace {marketplace_id}",
            hint="check the seller and --marketplace; memberships are written by the daily job (cxops run)",
        )
    return m


def _day(value) -> date | None:
    """A pending action's ``until`` (a date, a timestamp or missing) as a date."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.date() if isinstance(value, datetime) else value


def _pending(session: Session, program: str, seller_id: str, marketplace_id: str) -> pd.DataFrame:
    return repo.pending_actions(session, program=program, seller_id=seller_id, marketplace_id=marketplace_id)


def _expected(state: str, pending: pd.DataFrame, program: str) -> tuple[str, Action | None]:
    """The state once ``pending`` actions are applied, and the last pending action that changes it."""
    changer = None
    for row in pending.itertuples():  # an operator's handful of pending actions on one seller
        rule = ACTION_RULES[row.kind]
        if rule.leads_to is not None:
            state, changer = _leads_to(row.kind, state, program, _day(row.until)), row
    return state, changer


def _check_text(reason: str, what: str = "a reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise InputError(f"give {what} (--reason TEXT): every action on a seller is recorded with why")
    return text


def request_action(
    store: Store,
    kind: str,
    seller_id: str,
    marketplace_id: str,
    *,
    reason: str,
    actor: str,
    until: date | None = None,
    manager_id: str | None = None,
    program: str = DEFAULT_PROGRAM,
    idempotency_key: str | None = None,
    today: date | None = None,
) -> ActionResult:
    """Validate and record an operator action; it takes effect at the next daily run.

    Parameters
    ----------
    kind : {"exempt", "suspend", "reinstate", "accept_plan", "reject_plan", "lift_block", "assign_manager"}
    seller_id, marketplace_id : str
    reason : str
        Why (required, recorded in the event log).
    actor : str
        Who (an operator's name or login).
    until : datetime.date, optional
        Last day of an exemption (required for ``exempt``) or of the immunity a reinstatement or an
        accepted action plan gives (optional: default the policy's ``[enforcement] immunity_days``);
        refused for the other actions.
    manager_id : str, optional
        The manager of ``assign_manager`` (required there, refused elsewhere).
    program : str
        The program (policy name); default ``customer-excellence``.
    idempotency_key : str, optional
        A client's key: repeating a request with the same key returns the recorded action.
    today : datetime.date, optional
        The operator's today, for checking ``until`` (default: the UTC date).

    Returns
    -------
    ActionResult

    Raises
    ------
    InputError
        No reason or actor, an unknown kind, ``until`` missing, in the past or given where it does
        not apply, ``manager_id`` missing or given where it does not apply.
    NotFoundError
        The seller has no membership in the program on that marketplace; an unknown manager.
    ConflictError
        The action is impossible in the seller's state (e.g. reinstating an enrolled seller), the
        same action is already pending, the manager is already the seller's, or the idempotency
        key was used for another action.
    """
    if kind not in ACTION_RULES:
        raise InputError(f"unknown action {kind!r}; known: {', '.join(ACTION_RULES)}")
    rule = ACTION_RULES[kind]
    reason = _check_text(reason)
    actor = (actor or "").strip()
    if not actor:
        raise InputError("give the actor (--actor NAME): every action is recorded with who did it")
    today = today or utcnow().date()
    if rule.until == "required" and until is None:
        raise InputError(f"{kind.replace('_', '-')} needs an end: --until DATE (the last day it lasts)")
    if until is not None:
        if rule.until == "unused":
            uses = [k.replace("_", "-") for k, r in ACTION_RULES.items() if r.until != "unused"]
            raise InputError(f"--until applies to {', '.join(uses)}, not to {kind.replace('_', '-')}")
        if until < today:
            raise InputError(f"--until {until} is in the past (today is {today})")
    if kind == "assign_manager" and not manager_id:
        raise InputError("assign-manager needs --manager ID (see cxops managers list)")
    if kind != "assign_manager" and manager_id:
        raise InputError(f"--manager applies to assign-manager, not to {kind}")

    with store.unit_of_work() as session:
        if idempotency_key:
            done = repo.find_action(session, idempotency_key)
            if done is not None:
                same = (done.kind, done.program, done.seller_id, done.marketplace_id) == (
                    kind, program, seller_id, marketplace_id
                )  # fmt: skip
                if not same:
                    raise ConflictError(f"idempotency key {idempotency_key!r} was used for action {done.id}")
                m = _membership(session, program, seller_id, marketplace_id)
                expected, _ = _expected(
                    m.state, _pending(session, program, seller_id, marketplace_id), program
                )
                return _result(done, m.state, expected, duplicate=True)
        m = _membership(session, program, seller_id, marketplace_id)
        pending = _pending(session, program, seller_id, marketplace_id)
        same_kind = pending[pending["kind"] == kind]
        if kind != "assign_manager" and len(same_kind):
            p = same_kind.iloc[-1]
            raise ConflictError(
                f"a {kind} of seller {seller_id} on {marketplace_id} is already pending (action {p.id}, "
                f"requested by {p.actor} on {p.requested_at:%Y-%m-%d %H:%M} UTC)",
                hint=f"it takes effect at the next daily run; withdraw it with: cxops seller cancel {p.id} "
                "--reason …",
            )
        expected, changer = _expected(m.state, pending, program)
        if expected not in rule.allowed:
            now = f"is {expected} (since {m.since})" if changer is None else (
                f"will be {expected} at the next run (pending action {changer.id}, {changer.kind})"
            )  # fmt: skip
            raise ConflictError(
                f"cannot {rule.verb} seller {seller_id} on {marketplace_id}: the seller {now}; "
                f"{kind.replace('_', '-')} applies to a seller who is {_listing(rule.allowed)}"
            )
        warnings: list[str] = []
        if kind == "assign_manager":
            manager = manager_repo.get_manager(session, manager_id)
            if not manager.active:
                raise ConflictError(f"account manager {manager_id} is inactive")
            last = same_kind.iloc[-1]["manager_id"] if len(same_kind) else m.account_manager_id
            if last == manager_id:
                raise ConflictError(
                    f"{manager_id} is already the account manager of {seller_id} on {marketplace_id}"
                )
            loads = manager_repo.list_managers(session).set_index("id")
            load = int(loads.at[manager_id, "load"])
            if load >= manager.capacity:
                warnings.append(f"{manager_id} is at capacity ({load} of {manager.capacity} sellers)")
        if kind == "exempt" and m.exemption_until is not None and until <= m.exemption_until:
            raise ConflictError(
                f"seller {seller_id} on {marketplace_id} is exempt until {m.exemption_until} already"
            )
        action = repo.create_action(
            session,
            program=program,
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            kind=kind,
            actor=actor,
            reason=reason,
            until=until,
            manager_id=manager_id,
            idempotency_key=idempotency_key,
        )
        after = _leads_to(kind, expected, program, until)
        return _result(action, m.state, after, warnings=tuple(warnings))


def _result(a: Action, state: str, expected: str, *, duplicate: bool = False, warnings=()) -> ActionResult:
    return ActionResult(
        action_id=a.id,
        kind=a.kind,
        program=a.program,
        seller_id=a.seller_id,
        marketplace_id=a.marketplace_id,
        actor=a.actor,
        reason=a.reason,
        state=state,
        expected_state=expected,
        requested_at=a.requested_at,
        until=a.until,
        manager_id=a.manager_id,
        duplicate=duplicate,
        warnings=tuple(warnings),
    )


def cancel(store: Store, action_id: int, *, reason: str, actor: str) -> ActionResult:
    """Withdraw a pending action (logged as ``action_cancelled`` with the reason).

    Raises
    ------
    NotFoundError
        No such action.
    ConflictError
        The action was applied, rejected or cancelled already.
    """
    reason = _check_text(reason)
    with store.unit_of_work() as session:
        action = session.get(Action, action_id)
        if action is None:
            raise NotFoundError(f"action {action_id} not found")
        repo.cancel_action(session, action_id, actor=actor, reason=reason)
        m = get_membership(session, action.program, action.seller_id, action.marketplace_id)
        state = m.state if m else "unknown"
        rest = _pending(session, action.program, action.seller_id, action.marketplace_id)
        expected = state
        for row in rest.itertuples():  # what is left must still be possible, in order
            rule = ACTION_RULES[row.kind]
            if expected not in rule.allowed:
                raise ConflictError(
                    f"cannot cancel action {action_id}: pending action {row.id} ({row.kind}) depends on it",
                    hint=f"cancel action {row.id} first",
                )
            expected = _leads_to(row.kind, expected, action.program, _day(row.until))
        session.refresh(action)
        return _result(action, state, expected)


def add_note(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    *,
    text: str,
    actor: str,
    program: str = DEFAULT_PROGRAM,
) -> NoteResult:
    """Store an operator's note on a seller (at once) and log it as a ``note`` event.

    Raises
    ------
    InputError
        An empty note or actor.
    NotFoundError
        The seller has no membership in the program on that marketplace.
    """
    text = _check_text(text, "the note's text")
    actor = (actor or "").strip()
    if not actor:
        raise InputError("give the actor (--actor NAME)")
    with store.unit_of_work() as session:
        _membership(session, program, seller_id, marketplace_id)
        note = note_repo.add_note(session, program, seller_id, marketplace_id, actor, text)
        event_log.record_event(
            session,
            kind="note",
            idempotency_key=f"note:{note.id}",
            actor=actor,
            program=program,
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            reason=text,
            occurred_at=note.created_at,
        )
        return NoteResult(note.id, program, seller_id, marketplace_id, actor, text, note.created_at)


@dataclass(frozen=True)
class SellerFile:
    """Everything the store holds on one seller in one program and marketplace."""

    membership: dict
    pending: pd.DataFrame
    events: pd.DataFrame
    notes: pd.DataFrame
    assignments: pd.DataFrame


def seller_file(
    store: Store, seller_id: str, marketplace_id: str, *, program: str = DEFAULT_PROGRAM, events: int = 50
) -> SellerFile:
    """The seller's membership, pending actions, newest events (``events`` of them), notes and managers.

    Raises
    ------
    NotFoundError
        The seller has no membership in the program on that marketplace.
    """
    with store.unit_of_work(write=False) as session:
        m = get_membership(session, program, seller_id, marketplace_id)
        if m is None:
            _membership(session, program, seller_id, marketplace_id)
        membership = {c.key: getattr(m, c.key) for c in Membership.__table__.columns}
        return SellerFile(
            membership=membership,
            pending=_pending(session, program, seller_id, marketplace_id),
            events=event_log.load_events(
                session,
                program=program,
                seller_id=seller_id,
                marketplace_id=marketplace_id,
                limit=events,
                newest_first=True,
            ),
            notes=note_repo.list_notes(session, program, seller_id, marketplace_id),
            assignments=manager_repo.assignment_history(session, program, seller_id, marketplace_id),
        )
