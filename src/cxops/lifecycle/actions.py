"""Operator actions as inputs of the lifecycle: validated, applied on their day, recorded as events.

An action comes from the operations store as a pending action: ``(seller_id, marketplace_id, action,
effective, until, actor, reason)``. The actions and what they do are the :data:`cxops.lifecycle.table.ACTIONS`
table:

=============  ===========================================  =============================================
action         possible from                                 effect
=============  ===========================================  =============================================
exempt         not_eligible, candidate, enrolled, at_risk,   automatic removal does not apply through
               immune                                        ``until`` (required): breaches are logged
suspend        any state but suspended, blocked              ``suspended`` (protections end)
reinstate      suspended, removed, recovering                ``immune`` through ``until`` (default:
                                                             ``[enforcement] immunity_days``);
                                                             ``enrolled`` when that is 0 and no
                                                             ``until`` is given
accept_plan    suspended, removed, recovering                as reinstate: the seller's action plan is
                                                             accepted
reject_plan    suspended, removed, recovering                state unchanged, an event
lift_block     blocked                                       ``suspended`` (``removed`` without
                                                             ``action = "suspend"``), repeat count 0
=============  ===========================================  =============================================

:func:`validate_action` says whether an action is possible (``None``) or why not (a translatable
:class:`~cxops.lifecycle.reasons.Reason`); :func:`apply_action` applies it to one seller — a refused
action is recorded as an ``action_refused`` event and changes nothing. The array replay applies the
same table to every seller (:meth:`cxops.lifecycle.batch.Batch.act`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd

from cxops.lifecycle.machine import SellerState, event
from cxops.lifecycle.reasons import Reason, make_reason
from cxops.lifecycle.states import LifecycleState
from cxops.lifecycle.table import ACTION, ACTION_KINDS, ACTION_REFUSED, ACTIONS, REASONS, action_target
from cxops.policy.model import Policy

__all__ = [
    "ACTION_COLUMNS",
    "ACTION_KINDS",
    "Action",
    "actions_frame",
    "apply_action",
    "rows_of",
    "immune_until",
    "validate_action",
]

#: Columns of an actions frame (:func:`actions_frame`).
ACTION_COLUMNS = ["seller_id", "marketplace_id", "action", "effective", "until", "actor", "reason"]


@dataclass(frozen=True)
class Action:
    """One operator action.

    Attributes
    ----------
    action : str
        One of :data:`cxops.lifecycle.table.ACTION_KINDS`.
    effective : datetime.date
        The day it takes effect (before that day's recovery check and evaluation).
    until : datetime.date or None
        Last day of an exemption (required) or of an immunity (optional).
    actor : str or None
        Who acted (recorded in the event).
    reason : str or None
        The operator's reason (recorded in the event as ``action_reason``).

    Raises
    ------
    ValueError
        For an unknown action.
    """

    seller_id: str
    marketplace_id: str
    action: str
    effective: date
    until: date | None = None
    actor: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; expected one of {', '.join(ACTION_KINDS)}")


def validate_action(
    state: SellerState | LifecycleState | str, action: Action, policy: Policy | None = None
) -> Reason | None:
    """Why ``action`` is impossible for a seller in ``state``, or ``None`` when it is possible.

    Parameters
    ----------
    state : SellerState, LifecycleState or str
        The seller's current state.
    action : Action
    policy : Policy, optional
        A ``lifecycle = "standing"`` policy refuses every action.

    Returns
    -------
    Reason or None
        ``action_standing_policy``, ``action_not_allowed`` (params ``action``, ``state``),
        ``action_needs_until``, ``action_until_not_used`` or ``action_until_before_effective``; the texts
        are the catalogs' ``lifecycle.<key>`` (``Reason.text()`` for English).
    """
    current = LifecycleState(state.state if isinstance(state, SellerState) else state)
    rule = ACTIONS[action.action]
    values: dict[str, Any] = {
        "action": action.action,
        "state": current.value,
        "until": action.until.isoformat() if action.until else None,
        "effective": action.effective.isoformat(),
    }
    if policy is not None and policy.lifecycle == "standing":
        return make_reason("action_standing_policy", [], values)
    if current not in rule.states:
        return make_reason("action_not_allowed", [], values)
    if rule.until == "required" and action.until is None:
        return make_reason("action_needs_until", [], values)
    if rule.until == "unused" and action.until is not None:
        return make_reason("action_until_not_used", [], values)
    if action.until is not None and action.until < action.effective:
        return make_reason("action_until_before_effective", [], values)
    return None


def immune_until(action: Action, policy: Policy) -> date:
    """Last day of the immunity a reinstatement gives: ``until``, else the effective day plus
    ``[enforcement] immunity_days`` − 1 (the day of the decision is the first immune day)."""
    if action.until is not None:
        return action.until
    return action.effective + timedelta(days=policy.enforcement.immunity_days - 1)


def apply_action(state: SellerState, action: Action, policy: Policy) -> tuple[SellerState, list]:
    """Apply one operator action to one seller (pure; see the module table).

    Returns
    -------
    (SellerState, list of Event)
        One ``action`` event (a transition when the state changes), or one ``action_refused`` event
        and the state unchanged.

    Raises
    ------
    ValueError
        If the action is for another seller or marketplace.
    """
    if (state.seller_id, state.marketplace_id) != (action.seller_id, action.marketplace_id):
        raise ValueError("action and state belong to different sellers")
    refusal = validate_action(state, action, policy)
    who = {"actor": action.actor, "action_reason": action.reason}
    if refusal is not None:
        return state, [event(state, state.state, action.effective, None, refusal, kind=ACTION_REFUSED, **who)]
    rule = ACTIONS[action.action]
    to, key = action_target(rule, state.state, policy, action.until)
    changes: dict[str, Any] = {}
    if "exempt_until" in rule.sets:
        changes["exempt_until"] = action.until
    if "immune_until" in rule.sets and to == LifecycleState.IMMUNE:
        changes["immune_until"] = immune_until(action, policy)
    if "clear_exempt" in rule.sets or "clear_protection" in rule.sets:
        changes["exempt_until"] = None
    if to != LifecycleState.IMMUNE:
        changes["immune_until"] = None
    if "reset" in rule.sets:
        changes.update(breach_counts={}, recovery_streak=0, alerts=frozenset())
    if "reset_repeats" in rule.sets:
        changes["repeats"] = 0
    new = replace(state, **changes)
    values = {
        "actor": action.actor,
        "until": _iso(new.immune_until if REASONS[key].until == "immune" else new.exempt_until),
    }
    reason = make_reason(key, [], values)
    changed = to != state.state
    if changed:
        new = replace(new, state=to, since=action.effective, reason=reason)
    return new, [event(state, to, action.effective, None, reason, kind=ACTION, **who)]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def actions_frame(actions: Iterable[Action] | pd.DataFrame | None) -> pd.DataFrame:
    """Actions as a frame with :data:`ACTION_COLUMNS` (``effective`` and ``until`` as dates), in the given
    order; validates the action names.

    Raises
    ------
    ValueError
        For an unknown action, a missing column or a missing effective day.
    """
    if actions is None:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    if isinstance(actions, pd.DataFrame):
        missing = [c for c in ACTION_COLUMNS[:4] if c not in actions.columns]
        if missing:
            raise ValueError(f"actions frame lacks columns: {', '.join(missing)}")
        frame = actions.reindex(columns=ACTION_COLUMNS).reset_index(drop=True)
    else:
        frame = pd.DataFrame(
            [[getattr(a, c) for c in ACTION_COLUMNS] for a in actions],
            columns=ACTION_COLUMNS,
        )
    frame = frame.astype({"seller_id": object, "marketplace_id": object, "action": object})
    unknown = sorted(set(frame["action"].tolist()) - set(ACTION_KINDS))
    if unknown:
        raise ValueError(f"unknown action {unknown[0]!r}; expected one of {', '.join(ACTION_KINDS)}")
    for c in ("effective", "until"):
        frame[c] = [_as_date(v) for v in frame[c].tolist()]
    if any(v is None for v in frame["effective"].tolist()):
        raise ValueError("every action needs an effective day")
    for c in ("actor", "reason"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def _as_date(v: Any) -> date | None:
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    if hasattr(v, "date") and callable(v.date):
        return v.date()
    return v


def rows_of(frame: pd.DataFrame) -> list[Action]:
    """The actions of a frame (:func:`actions_frame`) as :class:`Action` objects, in order."""
    return [Action(*r) for r in frame[ACTION_COLUMNS].itertuples(index=False, name=None)]
