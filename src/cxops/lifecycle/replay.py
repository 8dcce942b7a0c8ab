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

With ``until`` after the last evaluation date, the daily check also runs up to ``until``. Operator
actions (``actions``) take effect on their day, before that day's recovery check and evaluation. With
``cadence.publish_every`` only the publishing evaluations change states; the others record alert-level
crossings.

A daily job resumes from stored states: ``replay(..., initial=state_table, start=day, until=day)`` runs
the day's actions, recovery check and (if ``day`` is an evaluation date) evaluation from the stored
states and returns the new :attr:`ReplayResult.state_table` and :attr:`ReplayResult.events`;
:func:`advance` does exactly that for one day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cxops.days import date_objects
from cxops.lifecycle.actions import Action, actions_frame, rows_of
from cxops.lifecycle.batch import STATE_COLUMNS, Batch, breach_counts_json
from cxops.lifecycle.cadence import evaluation_dates, is_evaluation_date, metrics_as_of, publishes
from cxops.lifecycle.decisions import MET, Decisions, decisions, decisions_from_metrics
from cxops.lifecycle.machine import LifecycleState, SellerState
from cxops.lifecycle.reasons import Reason
from cxops.lifecycle.states import STATES
from cxops.lifecycle.table import EVENT_KINDS
from cxops.policy.evaluate import (
    KEYS,
    RESULT_COLUMNS,
    PreparedMetrics,
    evaluate_criteria,
    section_grid,
    section_outcome,
)
from cxops.policy.model import Policy

__all__ = [
    "EVENT_COLUMNS",
    "STATE_COLUMNS",
    "ReplayResult",
    "advance",
    "daily_admission",
    "evaluation_dates",
    "metrics_as_of",
    "replay",
    "state_record",
    "state_row",
]

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
#: Columns of :attr:`ReplayResult.events`: every event (transitions, alerts, breaches logged, operator
#: actions) with its kind, the deciding criterion's numbers and the operator's name and reason.
#: ``numerator`` and ``denominator`` are floats (NaN where no criterion decided); ``value`` and
#: ``threshold`` are as in :data:`TRANSITION_COLUMNS` (None where none).
EVENT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "date",
    "kind",
    "from_state",
    "to_state",
    "rule_id",
    "metric",
    "value",
    "numerator",
    "denominator",
    "threshold",
    "operator",
    "window_days",
    "as_of",
    "reason",
    "reason_key",
    "reason_params",
    "actor",
    "action_reason",
]

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
        breach_counts`` (JSON). Only the last evaluation's rows when :func:`replay` was given
        ``statuses_to`` (the others went there as they were decided).
    transitions : DataFrame
        One row per state change (columns :data:`TRANSITION_COLUMNS`).
    final : DataFrame
        Latest state per seller (after the daily check up to ``until``).
    states : dict
        ``(seller_id, marketplace_id) -> SellerState`` at the end, e.g. for
        :func:`cxops.lifecycle.project.project`.
    results : DataFrame
        The ``get_results`` rows of the kept sections with an ``evaluation_date`` column (the input
        of :func:`cxops.lifecycle.benefits.compute_benefits`).
    events : DataFrame
        Every event (columns :data:`EVENT_COLUMNS`, :meth:`cxops.lifecycle.machine.Event.as_row`): the
        transitions and also alerts, breaches logged under protection and operator actions (``kind``).
    state_table : DataFrame
        Latest state per seller with everything needed to resume (:data:`STATE_COLUMNS`: also
        ``repeats``, ``alerts`` (JSON list of rule ids), ``exempt_until``, ``immune_until``); pass it
        as ``initial`` to continue.
    """

    statuses: pd.DataFrame
    transitions: pd.DataFrame
    final: pd.DataFrame
    states: dict[tuple[str, str], SellerState] = field(default_factory=dict)
    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))
    state_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STATE_COLUMNS))


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


def state_record(state: SellerState) -> dict[str, Any]:
    """A flat dict of a :class:`SellerState` with every field (columns :data:`STATE_COLUMNS`)."""
    return {
        **state_row(state),
        "repeats": state.repeats,
        "alerts": json.dumps(sorted(state.alerts)),
        "exempt_until": state.exempt_until,
        "immune_until": state.immune_until,
    }


def daily_admission(policy: Policy, series: pd.DataFrame) -> pd.DataFrame:
    """Daily admission check from a metrics series, the usual body of ``get_daily_admission``.

    Parameters
    ----------
    policy : Policy
    series : DataFrame or PreparedMetrics
        Metrics frame with several ``as_of`` dates (``compute_series`` output for the sellers and days
        wanted: as-of days ``start - lag .. end - lag``), or the same metrics prepared with one row per
        (seller, as-of day) (:func:`cxops.policy.evaluate.prepare_wide`): every day at once.

    Returns
    -------
    DataFrame
        ``seller_id, marketplace_id, day, admission_met`` with ``day = as_of + cadence.metrics_lag_days``;
        ``admission_met`` is true when the admission outcome is ``met`` (no criterion fails or lacks
        data, see :func:`cxops.policy.evaluate.section_outcome`) and no removal criterion is breached
        that day ("stable performance", program.md). Loops over days, never over sellers.
    """
    columns = ["seller_id", "marketplace_id", "day", "admission_met"]
    lag = timedelta(days=policy.cadence.metrics_lag_days)
    if isinstance(series, PreparedMetrics):
        return _daily_admission_rows(policy, series, lag)[columns]
    if series.empty:
        return pd.DataFrame(columns=columns)
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


def _daily_admission_rows(policy: Policy, prep: PreparedMetrics, lag: timedelta) -> pd.DataFrame:
    """:func:`daily_admission` of prepared metrics whose rows are (seller, as-of day) pairs: the same
    rule (admission outcome met, no removal criterion failing) evaluated as one grid."""
    keys = prep.sellers
    if not len(keys):
        return pd.DataFrame(columns=["seller_id", "marketplace_id", "day", "admission_met"])
    met = decisions_from_metrics(policy, prep).admission == MET
    removal = section_grid(policy, prep, "removal").result
    if removal.size:
        met &= ~(removal == "fail").any(axis=1)
    day = pd.to_datetime(keys["as_of"]).to_numpy("datetime64[D]") + np.timedelta64(lag.days, "D")
    return pd.DataFrame(
        {
            "seller_id": keys["seller_id"].to_numpy(object),
            "marketplace_id": keys["marketplace_id"].to_numpy(object),
            "day": date_objects(day),
            "admission_met": met,
        }
    )


def replay(
    policy: Policy,
    evaluation_dates: Iterable[date],
    get_results: GetResults,
    get_daily_admission: GetDailyAdmission,
    *,
    initial: Mapping[tuple[str, str], SellerState] | pd.DataFrame | None = None,
    until: date | None = None,
    keep_sections: Iterable[str] | None = ("benefits",),
    reasons: str = "all",
    actions: Iterable[Action] | pd.DataFrame | None = None,
    start: date | None = None,
    statuses_to: Callable[[pd.DataFrame], None] | None = None,
) -> ReplayResult:
    """Run the lifecycle state machine over evaluation dates, for all sellers at once.

    The rules are the tables of :mod:`cxops.lifecycle.table` (:func:`cxops.lifecycle.machine.step`,
    :func:`~cxops.lifecycle.machine.day_step`, :func:`cxops.lifecycle.actions.apply_action` for one
    seller); they are applied in array operations (:mod:`cxops.lifecycle.batch`): one pass per
    evaluation date and one per recovery period, never one per seller.

    Parameters
    ----------
    policy : Policy
    evaluation_dates : iterable of datetime.date
        E.g. :func:`cxops.lifecycle.cadence.evaluation_dates`.
    get_results : callable ``(evaluation_date) -> DataFrame or Decisions``
        :func:`cxops.policy.evaluate.evaluate_policy` output for all sellers at that evaluation
        (metrics as of ``evaluation_date - cadence.metrics_lag_days``), or the
        :func:`cxops.lifecycle.decisions.decisions_from_metrics` of those metrics (faster for many
        sellers; then nothing is kept for ``keep_sections``).
    get_daily_admission : callable ``(sellers, start, end) -> DataFrame``
        ``sellers`` is a ``[seller_id, marketplace_id]`` frame of the sellers currently removed or
        recovering; returns ``[seller_id, marketplace_id, day, admission_met]`` for the check days
        ``start..end`` inclusive (metrics as of ``day - metrics_lag_days``). Called once per
        evaluation period (once per part of it between days with operator actions), and only when
        such sellers exist. A missing day counts as not met.
    initial : mapping or DataFrame, optional
        States to start from: the ``states`` of an earlier replay, or its ``state_table`` (a frame with
        :data:`STATE_COLUMNS`, e.g. read back from a store).
    until : datetime.date, optional
        Run the daily recovery check (and actions) after the last evaluation up to this day.
    keep_sections : iterable of str or None
        Sections of the results kept in :attr:`ReplayResult.results` (default: ``benefits`` only,
        what :func:`~cxops.lifecycle.benefits.compute_benefits` needs; pass
        :data:`cxops.policy.model.SECTIONS` for the full per-criterion history, ``None`` for nothing).
        The full history is sellers × criteria × evaluations rows.
    reasons : {"all", "latest", "transitions"}
        Which rows get their reason rendered (English ``reason`` and JSON ``reason_params``): every
        row; or only the statuses of the last evaluation, the final states and the events after the
        evaluation before the last (``"latest"``); or those and every event (``"transitions"``: each
        evaluation's events are rendered right after it, while its findings are at hand, so memory
        stays that of ``"latest"``). ``reason_key`` and the deciding rule, metric, value and threshold
        of an event are always filled. Rendering is Python per row: with a million sellers over many
        evaluations, ``"latest"`` or ``"transitions"`` keep the replay in array operations.
    actions : iterable of Action or DataFrame, optional
        Operator actions (:data:`cxops.lifecycle.actions.ACTION_COLUMNS`), applied on their
        ``effective`` day in the given order, before that day's recovery check and evaluation; those
        after the last day replayed are not yet effective and are left out.
    start : datetime.date, optional
        First day replayed: the daily check (and actions) run from ``start`` to the first evaluation
        date. Without it the first day is the first evaluation date and no daily check runs before it
        (a replay from the first data day). A daily job resuming stored states passes the day after
        the last day it ran.
    statuses_to : callable ``(DataFrame) -> None``, optional
        Receives the status rows (columns :data:`STATUS_COLUMNS`, reasons rendered as ``reasons``
        says) one evaluation at a time, in evaluation order, as they are decided; then
        :attr:`ReplayResult.statuses` holds only the last evaluation's rows. Without it every
        evaluation's rows are kept until the end (sellers × evaluations rows in memory at once).

    Returns
    -------
    ReplayResult

    Raises
    ------
    ValueError
        If ``reasons`` is not ``"all"``, ``"latest"`` or ``"transitions"``, an action is dated before
        the first day replayed, or an action is malformed.
    """
    if reasons not in ("all", "latest", "transitions"):
        raise ValueError(f"reasons must be 'all', 'latest' or 'transitions', not {reasons!r}")
    dates = sorted(evaluation_dates)
    first = start if start is not None else (dates[0] if dates else until)
    last = max([d for d in (dates[-1] if dates else None, until) if d is not None], default=None)
    by_day = _actions_by_day(actions_frame(actions), first, last)
    batch = Batch(policy, initial, keep="all" if reasons == "all" else "latest")
    early = _EventReasons(batch) if reasons == "transitions" else None
    snapshots: list[tuple[date, date, dict[str, np.ndarray]]] = []  # evaluations not yet handed on
    history: list[pd.DataFrame] = []
    keep = list(keep_sections or ())
    cursor = start  # first day whose daily check has not run (None: no check before the first evaluation)
    for when in dates:
        _run_period(batch, get_daily_admission, by_day, cursor or when, when, check=cursor is not None)
        results = get_results(when)
        publish = publishes(policy, when)
        if isinstance(results, Decisions):
            batch.evaluate(results, when, publish)
        elif results is not None and len(results):
            if keep:
                history.append(results[results["section"].isin(keep)].assign(evaluation_date=when))
            batch.evaluate(decisions(results, policy), when, publish)
        else:
            batch.evaluate(decisions(pd.DataFrame(columns=RESULT_COLUMNS), policy), when, publish)
        if statuses_to is not None and snapshots:  # the one before is not the last: hand it on
            statuses_to(_status_frame(batch, snapshots, reasons))
            snapshots.clear()
        snapshots.append((when, metrics_as_of(policy, when), batch.snapshot()))
        if early is not None:
            early.render_new()
        cursor = when + timedelta(days=1)
    if until is not None and cursor is not None and until >= cursor:
        _run_period(batch, get_daily_admission, by_day, cursor, until, check=True)
    elif until is not None and cursor is None and not dates:
        _run_period(batch, get_daily_admission, by_day, until, until, check=False)
    if early is not None:
        early.render_new()
    result = _result(batch, snapshots, history, reasons, early, dates[-2] if len(dates) > 1 else None)
    if statuses_to is not None and len(result.statuses):
        statuses_to(result.statuses)
    return result


class _EventReasons:
    """Reasons of the events, rendered evaluation by evaluation (``reasons="transitions"``)."""

    def __init__(self, batch: Batch):
        self.batch = batch
        self.seen = 0
        self.parts: list[pd.DataFrame] = []

    def render_new(self) -> None:
        events = self.batch.events()
        ids = events["reason"].to_numpy(np.int64)[self.seen :]
        self.seen = len(events)
        if len(ids):
            self.parts.append(self.batch.render(ids))

    def rendered(self) -> pd.DataFrame | None:
        if not self.parts:
            return None
        out = pd.concat(self.parts)
        return out[~out.index.duplicated()]


def advance(
    policy: Policy,
    states: pd.DataFrame | Mapping[tuple[str, str], SellerState] | None,
    day: date,
    get_results: GetResults,
    get_daily_admission: GetDailyAdmission,
    *,
    actions: Iterable[Action] | pd.DataFrame | None = None,
    keep_sections: Iterable[str] | None = ("benefits",),
    reasons: str = "all",
) -> ReplayResult:
    """Advance every seller by one day from stored states: the daily job's step.

    In order: the operator actions effective on ``day``; the daily recovery check of ``day`` for the
    removed / recovering sellers; and, if ``day`` is an evaluation date of the policy's cadence
    (:func:`cxops.lifecycle.cadence.is_evaluation_date`), the evaluation (which publishes status
    changes or not, :func:`cxops.lifecycle.cadence.publishes`). Running it for each day of a period
    gives the states and events of one :func:`replay` over that period.

    Parameters
    ----------
    policy : Policy
    states : DataFrame, mapping or None
        The stored states (:attr:`ReplayResult.state_table` of the previous day; ``None`` on the first
        day).
    day : datetime.date
    get_results, get_daily_admission : callable
        As for :func:`replay`; ``get_results`` is called only when ``day`` is an evaluation date.
    actions : iterable of Action or DataFrame, optional
        Pending actions; those effective on ``day`` are applied (earlier ones raise, later ones wait).

    Returns
    -------
    ReplayResult
        ``state_table`` (store it), ``events`` (append them), ``transitions``, and ``statuses`` when
        ``day`` is an evaluation date.
    """
    dates = [day] if is_evaluation_date(policy, day) else []
    return replay(
        policy,
        dates,
        get_results,
        get_daily_admission,
        initial=states,
        until=day,
        keep_sections=keep_sections,
        reasons=reasons,
        actions=actions,
        start=day,
    )


def _actions_by_day(frame: pd.DataFrame, first: date | None, last: date | None) -> dict[date, list[Action]]:
    """Actions per effective day (in the given order) within ``first..last``; earlier ones raise."""
    if frame.empty:
        return {}
    frame = frame.sort_values("effective", kind="stable")
    early = frame[[first is None or d < first for d in frame["effective"].tolist()]]
    if len(early):
        row = early.iloc[0]
        raise ValueError(
            f"action {row['action']} for {row['seller_id']}/{row['marketplace_id']} is effective on "
            f"{row['effective']}, before the first day replayed ({first})"
        )
    frame = frame[[d <= last for d in frame["effective"].tolist()]]
    out: dict[date, list[Action]] = {}
    for action in rows_of(frame):
        out.setdefault(action.effective, []).append(action)
    return out


def _run_period(
    batch: Batch,
    get_daily_admission: GetDailyAdmission,
    by_day: dict[date, list[Action]],
    start: date,
    end: date,
    check: bool,
) -> None:
    """Days ``start..end``: each action day's actions, then the daily check (when ``check``) of the days
    from it to the next action day (one ``get_daily_admission`` call per such part)."""
    part_start = start
    for day in sorted(d for d in by_day if start <= d <= end):
        if check and day > part_start:
            _run_daily(batch, get_daily_admission, part_start, day - timedelta(days=1))
        batch.act(by_day[day])
        part_start = day
    if check:
        _run_daily(batch, get_daily_admission, part_start, end)


def _run_daily(batch: Batch, get_daily_admission: GetDailyAdmission, start: date, end: date) -> None:
    sellers = batch.out_of_program()
    if sellers.empty or end < start:
        return
    batch.recover(get_daily_admission(sellers, start, end), start, end)


def _frame(
    batch: Batch, snap: dict[str, np.ndarray], rendered: pd.DataFrame | None, shown: np.ndarray | None = None
) -> pd.DataFrame:
    """Status rows of (stacked) snapshots; reasons rendered where ``shown`` (default all) if ``rendered``."""
    sid = snap["sid"]
    out = pd.DataFrame(
        {
            "seller_id": _obj(batch.sellers[sid]),
            "marketplace_id": _obj(batch.markets[sid]),
            "state": _obj(_STATE_NAMES[snap["state"]]),
            "since": _obj(date_objects(snap["since"])),
            "reason": _obj(np.full(len(sid), None, object)),
            "reason_key": _obj(batch.reason_keys(snap["key"])),
            "reason_params": _obj(np.full(len(sid), None, object)),
            "recovery_streak": snap["recovery_streak"].astype(int),
            "breach_counts": _obj(breach_counts_json(snap["counts"], [r.id for r in batch.rules])),
        },
        copy=False,  # fresh arrays: no second copy of millions of rows
    )
    if rendered is not None:
        ids = snap["reason"] if shown is None else np.where(shown, snap["reason"], -1)
        out["reason"], out["reason_params"] = (_obj(x) for x in _lookup_rendered(rendered, ids))
    return out


def _status_frame(
    batch: Batch,
    snapshots: list[tuple[date, date, dict[str, np.ndarray]]],
    reasons: str,
    rendered: pd.DataFrame | None = None,
    last: bool = False,
) -> pd.DataFrame:
    """Status rows (:data:`STATUS_COLUMNS`) of consecutive evaluations' snapshots, as one frame (no
    per-evaluation frames to concatenate). Reasons are rendered on every row with ``reasons="all"``
    (from ``rendered``, or rendered here), otherwise on the rows of the last of them when ``last``
    (the replay's last evaluation; ``rendered`` must hold its reasons)."""
    stacked = {k: np.concatenate([s[2][k] for s in snapshots]) for k in snapshots[0][2]}
    block = np.repeat(np.arange(len(snapshots)), [len(s[2]["sid"]) for s in snapshots])
    if reasons == "all":
        shown = None
        if rendered is None and batch.n_reasons:
            rendered = batch.render(stacked["reason"])
    else:
        shown = block == len(snapshots) - 1 if last else np.zeros(len(block), bool)
    out = _frame(batch, stacked, rendered, shown)
    out["evaluation_date"] = _obj(np.array([s[0] for s in snapshots], object)[block])
    out["as_of"] = _obj(np.array([s[1] for s in snapshots], object)[block])
    return out[STATUS_COLUMNS]


def _lookup_rendered(rendered: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reason text and params of reason ids (None for ids not rendered or -1), by binary search."""
    index = rendered.index.to_numpy(np.int64)  # sorted unique ids
    at = np.clip(np.searchsorted(index, ids), 0, max(len(index) - 1, 0))
    hit = (index[at] == ids) if len(index) else np.zeros(len(ids), bool)
    text, params = (np.full(len(ids), None, object) for _ in range(2))
    text[hit] = rendered["reason"].to_numpy(object)[at[hit]]
    params[hit] = rendered["reason_params"].to_numpy(object)[at[hit]]
    return text, params


_STATE_NAMES = np.array([s.value for s in STATES], object)


def _obj(values: np.ndarray) -> pd.Series:
    """An object column (strings stay Python objects: no conversion of millions of values to Arrow)."""
    return pd.Series(values, dtype=object, copy=False)


def _result(
    batch: Batch,
    snapshots: list[tuple[date, date, dict[str, np.ndarray]]],
    history: list[pd.DataFrame],
    reasons: str,
    early: _EventReasons | None = None,
    before_last: date | None = None,
) -> ReplayResult:
    """The replay's result from its batch and the snapshots of the evaluations not handed on
    (``before_last``: the date of the evaluation before the last, if any)."""
    events = batch.events()
    final = batch.snapshot()
    # rows whose reasons are rendered: all, or the last evaluation's statuses, the final states and the
    # transitions after the evaluation before it (every event with "transitions": rendered already)
    if reasons in ("all", "transitions") or before_last is None:
        shown = np.ones(len(events), bool)
    else:
        shown = events["date"].to_numpy("datetime64[D]") > np.datetime64(before_last, "D")
    wanted = [final["reason"]] if early else [events["reason"].to_numpy(np.int64)[shown], final["reason"]]
    if reasons == "all":
        wanted += [s[2]["reason"] for s in snapshots]
    elif snapshots:
        wanted.append(snapshots[-1][2]["reason"])
    rendered = batch.render(np.concatenate(wanted)) if batch.n_reasons else None
    before = early.rendered() if early is not None else None
    if before is not None:
        rendered = before if rendered is None else pd.concat([before, rendered])
        rendered = rendered[~rendered.index.duplicated()].sort_index()
    if snapshots:
        statuses = _status_frame(batch, snapshots, reasons, rendered, last=True)
    else:
        statuses = pd.DataFrame(columns=STATUS_COLUMNS)
    final_frame = _frame(batch, final, rendered)[FINAL_COLUMNS]
    columns = _event_columns(batch, events, rendered, shown)
    all_events = _columns_frame(columns, EVENT_COLUMNS)
    moved = (events["from_state"].to_numpy() != events["to_state"].to_numpy()) if len(events) else None
    if moved is None or moved.all():  # the usual case: every event is a transition (same arrays, no copy)
        transitions = _columns_frame(columns, TRANSITION_COLUMNS)
    else:
        transitions = _columns_frame({c: v[moved] for c, v in columns.items()}, TRANSITION_COLUMNS)
    extra = batch.enforcement_arrays()
    state_table = final_frame.assign(
        repeats=extra["repeats"].astype(int),
        alerts=_obj(batch.alerts_json(extra["alerts"])),
        exempt_until=_obj(date_objects(extra["exempt_until"])),
        immune_until=_obj(date_objects(extra["immune_until"])),
    )[STATE_COLUMNS]
    return ReplayResult(
        statuses=statuses,
        transitions=transitions,
        final=final_frame,
        states=BatchStates(batch, state_table),
        results=pd.concat(history, ignore_index=True) if history else pd.DataFrame(),
        events=all_events,
        state_table=state_table,
    )


def _event_columns(
    batch: Batch, events: pd.DataFrame, rendered: pd.DataFrame | None, shown: np.ndarray
) -> dict[str, np.ndarray]:
    """The columns of every event (:data:`EVENT_COLUMNS`) as object arrays, computed once for both the
    events and the transitions."""
    if events.empty:
        return {c: np.zeros(0, object) for c in EVENT_COLUMNS}
    sid = events["sid"].to_numpy(np.int64)
    r_text, r_params = _lookup_rendered(rendered, np.where(shown, events["reason"].to_numpy(np.int64), -1))
    out = {
        "seller_id": batch.sellers[sid],
        "marketplace_id": batch.markets[sid],
        "date": date_objects(events["date"].to_numpy("datetime64[D]")),
        "kind": np.array(EVENT_KINDS, object)[events["kind"].to_numpy(np.int64)],
        "from_state": _STATE_NAMES[events["from_state"].to_numpy(np.int64)],
        "to_state": _STATE_NAMES[events["to_state"].to_numpy(np.int64)],
        "as_of": date_objects(events["as_of"].to_numpy("datetime64[D]")),
        "reason": r_text,
        "reason_key": batch.reason_key_of(events["reason"].to_numpy(np.int64)),
        "reason_params": r_params,
    }
    for c in ("rule_id", "metric", "value", "threshold", "operator", "window_days", "actor", "action_reason"):
        out[c] = events[c].to_numpy(object)
    for c in ("numerator", "denominator"):  # floats, NaN where no criterion decided
        out[c] = events[c].to_numpy(float, na_value=np.nan)
    return out


def _columns_frame(columns: dict[str, np.ndarray], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {c: columns[c] if columns[c].dtype == float else _obj(np.asarray(columns[c], object)) for c in names},
        copy=False,
    )


class BatchStates(Mapping[tuple[str, str], SellerState]):
    """``(seller_id, marketplace_id) -> SellerState`` of a replay's final states, built on access."""

    def __init__(self, batch: Batch, table: pd.DataFrame):
        self._batch = batch
        self._table = table

    def __getitem__(self, key: tuple[str, str]) -> SellerState:
        i = self._batch.position(*key)
        if i < 0:
            raise KeyError(key)
        row = self._table.iloc[i]
        params = json.loads(row["reason_params"]) if isinstance(row["reason_params"], str) else {}
        return SellerState(
            seller_id=row["seller_id"],
            marketplace_id=row["marketplace_id"],
            state=LifecycleState(row["state"]),
            since=row["since"],
            breach_counts=json.loads(row["breach_counts"]),
            recovery_streak=int(row["recovery_streak"]),
            reason=Reason(row["reason_key"], params),
            repeats=int(row["repeats"]),
            alerts=frozenset(json.loads(row["alerts"])),
            exempt_until=row["exempt_until"],
            immune_until=row["immune_until"],
        )

    def __iter__(self):
        return iter(zip(self._batch.sellers.tolist(), self._batch.markets.tolist(), strict=True))

    def __len__(self) -> int:
        return len(self._batch.sellers)
