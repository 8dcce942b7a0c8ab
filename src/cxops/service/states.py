"""Lifecycle state names as the store sees them.

The store keeps states as free text (a state added to the lifecycle needs no migration); what is
written is checked against :class:`cxops.lifecycle.LifecycleState` here.
"""

from __future__ import annotations

from cxops.lifecycle.machine import MEMBERS, LifecycleState


def lifecycle_states() -> frozenset[str]:
    """Every lifecycle state name (pass as ``allowed_states`` to :func:`cxops.store.upsert_memberships`)."""
    return frozenset(s.value for s in LifecycleState)


def member_states() -> frozenset[str]:
    """States of program members (those who get an account manager and benefits)."""
    return frozenset(s.value for s in MEMBERS)
