"""The demo's program in the operations store: the daily job over the demo history, with operator actions.

:func:`run_demo_program` builds the program up to a week before the as-of day (the initial build of
:func:`cxops.service.daily.run_daily`), records a few operator actions the way an operator would
(:func:`cxops.service.actions.request_action`: an exemption of a seller at risk, the reinstatement of a
removed seller, a note), then runs the last week day by day, so the demo store has memberships, events,
alerts, benefits and applied actions to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cxops.policy.model import Policy
from cxops.service.actions import ACTION_RULES, add_note, request_action
from cxops.service.daily import DailyResult, Progress, run_daily
from cxops.store import load_memberships
from cxops.store.db import Store

#: Days run one by one after the build (the demo's "last week").
DAILY_DAYS = 7
ACTOR = "demo-operator"


@dataclass
class DemoProgram:
    """What the demo did in the store: the build, the daily runs and the actions recorded."""

    build: DailyResult
    daily: DailyResult
    actions: list[str]


def run_demo_program(
    wh, store: Store, policy: Policy, as_of: date, progress: Progress | None = None
) -> DemoProgram:
    """Build the program up to ``as_of - 7`` days, act on a few sellers, run the last 7 days one by one."""
    program = policy.name
    build = run_daily(wh, store, policy, as_of - timedelta(days=DAILY_DAYS), progress=progress)
    with store.unit_of_work(write=False) as session:
        members = load_memberships(session, program)
    done: list[str] = []
    today = as_of - timedelta(days=DAILY_DAYS - 1)
    plans = [
        ("exempt", ("at_risk", "enrolled"), "seasonal supplier outage agreed with the category team",
         today + timedelta(days=30)),
        ("reinstate", None, "action plan received: new carrier and a second packing shift", None),
    ]  # fmt: skip
    for kind, states, reason, until in plans:
        pick = members.iloc[0:0]
        for state in states or (sorted(ACTION_RULES[kind].allowed),):  # the first state anyone is in
            pick = members[members["state"].isin([state] if isinstance(state, str) else state)]
            if len(pick):
                break
        if pick.empty:
            continue
        row = pick.iloc[0]
        request_action(store, kind, row.seller_id, row.marketplace_id, reason=reason, actor=ACTOR,
                       until=until, program=program, today=today)  # fmt: skip
        done.append(f"{kind} {row.seller_id}/{row.marketplace_id}")
    if len(members):
        row = members.iloc[0]
        add_note(store, row.seller_id, row.marketplace_id, text="called the seller about late shipments",
                 actor=ACTOR, program=program)  # fmt: skip
        done.append(f"note {row.seller_id}/{row.marketplace_id}")
    daily = run_daily(wh, store, policy, as_of, progress=progress)
    return DemoProgram(build, daily, done)
