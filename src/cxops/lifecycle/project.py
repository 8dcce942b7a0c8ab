"""Projected status (field case C28): the state a seller would get if the next evaluation used today's
metrics. Nothing is stored; the state machine is run once on the current results."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pandas as pd

from cxops.lifecycle.cadence import next_publication_date
from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import Event, SellerState, step
from cxops.lifecycle.reasons import Reason
from cxops.policy.evaluate import KEYS
from cxops.policy.model import Policy

PROJECTION_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "evaluation_date",
    "state",
    "projected_state",
    "projected_since",
    "reason",
    "reason_key",
    "reason_params",
]


def _next_date(policy: Policy, results: pd.DataFrame) -> date:
    as_of = pd.to_datetime(results["as_of"]).max()
    today = as_of.date() + timedelta(days=policy.cadence.metrics_lag_days)
    return next_publication_date(policy, today)


def project(
    policy: Policy, state: SellerState, results: pd.DataFrame, evaluation_date: date | None = None
) -> tuple[SellerState, list[Event]]:
    """The state ``state`` would move to if the next evaluation judged ``results``.

    Parameters
    ----------
    policy : Policy
    state : SellerState
        The seller's current state.
    results : DataFrame
        Current :func:`cxops.policy.evaluate.evaluate_policy` output (other sellers are ignored).
    evaluation_date : datetime.date, optional
        Defaults to the first evaluation date of the cadence that publishes status changes, on or after
        the results' as-of date plus the metrics lag ("today").

    Returns
    -------
    (SellerState, list of Event)
        The projected state and the transition it would make; the state unchanged when the seller has
        no results.
    """
    mine = results[
        (results["seller_id"] == state.seller_id) & (results["marketplace_id"] == state.marketplace_id)
    ]
    if mine.empty:
        return state, []
    when = evaluation_date or _next_date(policy, mine)
    evaluation = build_evaluations(mine, policy, when)[(state.seller_id, state.marketplace_id)]
    return step(state, evaluation, policy)


def project_all(
    policy: Policy,
    states: Mapping[tuple[str, str], SellerState],
    results: pd.DataFrame,
    evaluation_date: date | None = None,
) -> pd.DataFrame:
    """Projected status of every seller in ``results``.

    Sellers without a state start ``not_eligible``.

    Returns
    -------
    DataFrame
        Columns :data:`PROJECTION_COLUMNS`: current ``state``, ``projected_state``,
        ``projected_since`` and the projected reason (English text, key, JSON params).
    """
    if results.empty:
        return pd.DataFrame(columns=PROJECTION_COLUMNS)
    when = evaluation_date or _next_date(policy, results)
    rows = []
    for key, evaluation in build_evaluations(results, policy, when).items():
        current = states.get(key) or SellerState(key[0], key[1], since=None)
        projected, _ = step(current, evaluation, policy)
        reason = projected.reason or Reason("new")
        rows.append(
            {
                "seller_id": key[0],
                "marketplace_id": key[1],
                "evaluation_date": when,
                "state": current.state.value,
                "projected_state": projected.state.value,
                "projected_since": projected.since,
                "reason": reason.text(),
                "reason_key": reason.key,
                "reason_params": reason.params_json(),
            }
        )
    return (
        pd.DataFrame(rows, columns=PROJECTION_COLUMNS).sort_values(KEYS, kind="stable").reset_index(drop=True)
    )
