"""Lifecycle states of a seller in a marketplace, and the groups the rule table speaks of."""

from __future__ import annotations

from enum import StrEnum


class LifecycleState(StrEnum):
    """Lifecycle state of a seller in a marketplace (a ``str``: ``"enrolled"`` etc.).

    ``suspended``, ``immune`` and ``blocked`` are reached only with ``[enforcement]``
    (``action = "suspend"``, ``block_after``) or by operator actions (:mod:`cxops.lifecycle.actions`).
    """

    NOT_ELIGIBLE = "not_eligible"
    CANDIDATE = "candidate"
    ENROLLED = "enrolled"
    AT_RISK = "at_risk"
    REMOVED = "removed"
    RECOVERING = "recovering"
    SUSPENDED = "suspended"
    IMMUNE = "immune"
    BLOCKED = "blocked"


S = LifecycleState
#: States judged daily for recovery, not at evaluations.
OUT_OF_PROGRAM = frozenset({S.REMOVED, S.RECOVERING})
#: States of program members (``immune``: reinstated, under immunity until re-assessed).
MEMBERS = frozenset({S.ENROLLED, S.AT_RISK, S.IMMUNE})
#: States judged for entry (eligibility and admission) at evaluations.
ENTRY = frozenset({S.NOT_ELIGIBLE, S.CANDIDATE})
#: State codes: position in this tuple (the array replay stores codes).
STATES: tuple[LifecycleState, ...] = tuple(LifecycleState)
CODE: dict[LifecycleState, int] = {s: i for i, s in enumerate(STATES)}
