"""Replay the lifecycle over evaluation dates, with the daily recovery check in between.

For each evaluation date ``E`` (ascending):

1. the sellers currently ``removed`` / ``recovering`` get the daily recovery check for the days after
   the previous evaluation up to ``E`` inclusive — one call of ``get_daily_admission`` for all of
   them (never per seller); a seller whose streak reaches ``recovery.stable_days`` on or before ``E``
   is a ``candidate`` when step 2 runs;
2. ``get_results(E)`` gives the criterion results of every section (the caller computes the metrics
   as of ``E - cadence.metrics_lag_days``) and :func:`~cxops.lifecycle.machine.step` runs for each
   seller; a seller first seen starts ``not_eligible``; a known seller without results keeps its state;
3. a status row is recorded for every known seller.

With ``until`` after the last evaluation date, the daily check also runs up to ``until``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of
from cxops.lifecycle.evaluation import build_evaluations
from cxops.lifecycle.machine import OUT_OF_PROGRAM, Event, SellerState, day_step, step
from cxops.lifecycle.reasons import Reason
from cxops.policy.evaluate import KEYS, evaluate_criteria, section_outcome
from cxops.policy.model import Policy

__all__ = ["ReplayResult", "daily_admission", "evaluation_dates", "metrics_as_of", "replay", "state_row"]

STATUS_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "evaluation_date",
    "as_of",
    "state",
    "since",
    "reason",
    "reason_key",
    "reason_params",
    "recovery_streak",
    "breach_counts",
]
TRANSITION_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "date",
    "from_state",
    "to_state",
    "rule_id",
    "metric",
    "value",
    "threshold",
    "operator",
    "window_days",
    "as_of",
    "reason",
    "reason_key",
    "reason_params",
]
FINAL_COLUMNS = [c for c in STATUS_COLUMNS if c not in ("evaluation_date", "as_of")]

GetResults = Callable[[date], pd.DataFrame]
GetDailyAdmission = Callable[[pd.DataFrame, date, date], pd.DataFrame]


@dataclass
class ReplayResult:
    """Output of :func:`replay`.

    Attributes
    ----------
    statuses : DataFrame
        One row per seller per evaluation date: ``seller_id, marketplace_id, evaluation_date, as_of,
        state, since, reason`` (English) ``, reason_key, reason_params`` (JSON) ``, recovery_streak,
        breach_counts`` (JSON).
    transitions : DataFrame
        One row per event (:meth:`cxops.lifecycle.machine.Event.as_row`).
    final : DataFrame
        Latest state per seller (after the daily check up to ``until``).
    states : dict
        ``(seller_id, marketplace_id) -> SellerState`` at the end, e.g. for
        :func:`cxops.lifecycle.project.project`.
    results : DataFrame
        The ``get_results`` rows of the kept sections with an ``evaluation_date`` column (the input
        of :func:`cxops.lifecycle.benefits.compute_benefits`).
    """

    statuses: pd.DataFrame
    transitions: pd.DataFrame
    final: pd.DataFrame
    states: dict[tuple[str, str], SellerState] = field(default_factory=dict)
    results: pd.DataFrame = field(default_factory=pd.DataFrame)


def state_row(state: SellerState) -> dict[str, Any]:
    """A flat dict of a :class:`SellerState` (columns :data:`FINAL_COLUMNS`)."""
    reason = state.reason or Reason("new")
    return {
        "seller_id": state.seller_id,
        "marketplace_id": state.marketplace_id,
        "state": state.state.value,
        "since": state.since,
        "reason": reason.text(),
        "reason_key": reason.key,
        "reason_params": reason.params_json(),
        "recovery_streak": state.recovery_streak,
        "breach_counts": json.dumps(dict(state.breach_counts), sort_keys=True),
    }


def _daily_met(frame: pd.DataFrame) -> set[tuple[str, str, date]]:
    if frame is None or frame.empty:
        return set()
    met = frame[frame["admission_met"].fillna(False).astype(bool)]
    days = pd.to_datetime(met["day"]).dt.date
    return set(zip(met["seller_id"], met["marketplace_id"], days, strict=True))


def _run_daily(
    states: dict[tuple[str, str], SellerState],
    policy: Policy,
    get_daily_admission: GetDailyAdmission,
    start: date,
    end: date,
    events: list[Event],
) -> None:
    keys = [k for k, s in states.items() if s.state in OUT_OF_PROGRAM]
    if not keys or end < start:
        return
    met = _daily_met(get_daily_admission(pd.DataFrame(keys, columns=KEYS), start, end))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for key in keys:
        state = states[key]
        for day in days:
            state, new = day_step(state, (key[0], key[1], day) in met, day, policy)
            events.extend(new)
            if state.state not in OUT_OF_PROGRAM:
                break
        states[key] = state


def daily_admission(policy: Policy, series: pd.DataFrame) -> pd.DataFrame:
    """Daily admission check from a metrics series, the usual body of ``get_daily_admission``.

    Parameters
    ----------
    policy : Policy
    series : DataFrame
        Metrics frame with several ``as_of`` dates (``compute_series`` output for the sellers and days
        wanted: as-of days ``start - lag .. end - lag``).

    Returns
    -------
    DataFrame
        ``seller_id, marketplace_id, day, admission_met`` with ``day = as_of + cadence.metrics_lag_days``;
        ``admission_met`` is true when the admission outcome is ``met`` (no criterion fails or lacks
        data, see :func:`cxops.policy.evaluate.section_outcome`) and no removal criterion is breached
        that day ("stable performance", program.md). Loops over days, never over sellers.
    """
    columns = ["seller_id", "marketplace_id", "day", "admission_met"]
    if series.empty:
        return pd.DataFrame(columns=columns)
    lag = timedelta(days=policy.cadence.metrics_lag_days)
    frames = []
    for as_of, chunk in series.groupby("as_of", sort=True):
        results = evaluate_criteria(policy, chunk, "admission")
        day = (as_of.date() if isinstance(as_of, pd.Timestamp) else as_of) + lag
        sellers = chunk[KEYS].drop_duplicates()
        if results.empty:
            frames.append(sellers.assign(day=day, admission_met=True))
            continue
        outcome = section_outcome(results, policy)
        met = outcome.assign(day=day, admission_met=outcome["outcome"].eq("met"))[columns]
        # stable also means no removal rule is breached that day (a seller removed for its tracking
        # rate, which is not an admission bar, must not "recover" while the tracking rate stays bad)
        removal = evaluate_criteria(policy, chunk, "removal")
        if len(removal):
            breached = removal.loc[removal["result"].eq("fail"), KEYS].drop_duplicates().assign(_breach=True)
            met = met.merge(breached, on=KEYS, how="left")
            met["admission_met"] = met["admission_met"] & met["_breach"].isna()
            met = met[columns]
        frames.append(met)
    return pd.concat(frames, ignore_index=True)[columns]


def replay(
    policy: Policy,
    evaluation_dates: Iterable[date],
    get_results: GetResults,
    get_daily_admission: GetDailyAdmission,
    *,
    initial: Mapping[tuple[str, str], SellerState] | None = None,
    until: date | None = None,
    keep_sections: Iterable[str] | None = ("benefits",),
) -> ReplayResult:
    """Run the lifecycle state machine over evaluation dates.

    Parameters
    ----------
    policy : Policy
    evaluation_dates : iterable of datetime.date
        E.g. :func:`cxops.lifecycle.cadence.evaluation_dates`.
    get_results : callable ``(evaluation_date) -> DataFrame``
        :func:`cxops.policy.evaluate.evaluate_policy` output for all sellers at that evaluation
        (metrics as of ``evaluation_date - cadence.metrics_lag_days``).
    get_daily_admission : callable ``(sellers, start, end) -> DataFrame``
        ``sellers`` is a ``[seller_id, marketplace_id]`` frame of the sellers currently removed or
        recovering; returns ``[seller_id, marketplace_id, day, admission_met]`` for the check days
        ``start..end`` inclusive (metrics as of ``day - metrics_lag_days``). Called once per
        evaluation period, and only when such sellers exist. A missing day counts as not met.
    initial : mapping, optional
        States to start from (e.g. the ``states`` of an earlier replay).
    until : datetime.date, optional
        Run the daily recovery check after the last evaluation up to this day.
    keep_sections : iterable of str or None
        Sections of the results kept in :attr:`ReplayResult.results` (default: ``benefits`` only,
        what :func:`~cxops.lifecycle.benefits.compute_benefits` needs; pass
        :data:`cxops.policy.model.SECTIONS` for the full per-criterion history, ``None`` for nothing).
        The full history is sellers × criteria × evaluations rows.

    Returns
    -------
    ReplayResult
    """
    states: dict[tuple[str, str], SellerState] = dict(initial or {})
    events: list[Event] = []
    status_rows: list[dict[str, Any]] = []
    history: list[pd.DataFrame] = []
    keep = list(keep_sections or ())
    previous: date | None = None
    for when in sorted(evaluation_dates):
        if previous is not None:
            _run_daily(states, policy, get_daily_admission, previous + timedelta(days=1), when, events)
        results = get_results(when)
        if results is not None and len(results):
            if keep:
                history.append(results[results["section"].isin(keep)].assign(evaluation_date=when))
            for key, evaluation in build_evaluations(results, policy, when).items():
                current = states.get(key) or SellerState(key[0], key[1], since=when)
                states[key], new = step(current, evaluation, policy)
                events.extend(new)
        as_of = metrics_as_of(policy, when)
        status_rows.extend({**state_row(s), "evaluation_date": when, "as_of": as_of} for s in states.values())
        previous = when
    if until is not None and previous is not None and until > previous:
        _run_daily(states, policy, get_daily_admission, previous + timedelta(days=1), until, events)

    return ReplayResult(
        statuses=pd.DataFrame(status_rows, columns=STATUS_COLUMNS),
        transitions=pd.DataFrame([e.as_row() for e in events], columns=TRANSITION_COLUMNS),
        final=pd.DataFrame([state_row(s) for s in states.values()], columns=FINAL_COLUMNS),
        states=states,
        results=pd.concat(history, ignore_index=True) if history else pd.DataFrame(),
    )
