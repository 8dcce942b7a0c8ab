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

import numpy as np
import pandas as pd

from cxops.days import date_objects
from cxops.lifecycle.batch import STATES, Batch, breach_counts_json
from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of
from cxops.lifecycle.decisions import MET, Decisions, decisions, decisions_from_metrics
from cxops.lifecycle.machine import LifecycleState, SellerState
from cxops.lifecycle.reasons import Reason
from cxops.policy.evaluate import (
    KEYS,
    RESULT_COLUMNS,
    PreparedMetrics,
    evaluate_criteria,
    section_grid,
    section_outcome,
)
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
    initial: Mapping[tuple[str, str], SellerState] | None = None,
    until: date | None = None,
    keep_sections: Iterable[str] | None = ("benefits",),
    reasons: str = "all",
    resume_from: date | None = None,
) -> ReplayResult:
    """Run the lifecycle state machine over evaluation dates, for all sellers at once.

    The rules are :func:`cxops.lifecycle.machine.step` and :func:`~cxops.lifecycle.machine.day_step`;
    they are applied in array operations (:mod:`cxops.lifecycle.batch`): one pass per evaluation date
    and one per recovery period, never one per seller.

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
        evaluation period, and only when such sellers exist. A missing day counts as not met.
    initial : mapping, optional
        States to start from (e.g. the ``states`` of an earlier replay).
    until : datetime.date, optional
        Run the daily recovery check after the last evaluation up to this day.
    resume_from : datetime.date, optional
        The day ``initial`` is as of (the ``until`` of the replay that produced it): the daily recovery
        check then runs from the day after it up to the first evaluation date (and up to ``until``
        when there is no evaluation), as if the earlier replay had gone on.
    keep_sections : iterable of str or None
        Sections of the results kept in :attr:`ReplayResult.results` (default: ``benefits`` only,
        what :func:`~cxops.lifecycle.benefits.compute_benefits` needs; pass
        :data:`cxops.policy.model.SECTIONS` for the full per-criterion history, ``None`` for nothing).
        The full history is sellers × criteria × evaluations rows.
    reasons : {"all", "latest", "transitions"}
        Which rows get their reason rendered (English ``reason`` and JSON ``reason_params``): every
        row; or only the statuses of the last evaluation, the final states and the transitions
        after the evaluation before the last (``"latest"``); or those and every transition
        (``"transitions"``: each evaluation's transitions are rendered right after it, while its
        findings are at hand, so memory stays that of ``"latest"``). ``reason_key`` and the deciding
        rule, metric, value and threshold of a transition are always filled. Rendering is Python per
        row: with a million sellers over many evaluations, ``"latest"`` or ``"transitions"`` keep the
        replay in array operations.

    Returns
    -------
    ReplayResult

    Raises
    ------
    ValueError
        If ``reasons`` is not ``"all"`` or ``"latest"``.
    """
    if reasons not in ("all", "latest", "transitions"):
        raise ValueError(f"reasons must be 'all', 'latest' or 'transitions', not {reasons!r}")
    batch = Batch(policy, initial, keep="all" if reasons == "all" else "latest")
    snapshots: list[tuple[date, date, dict[str, np.ndarray]]] = []
    history: list[pd.DataFrame] = []
    keep = list(keep_sections or ())
    early = _EventReasons(batch) if reasons == "transitions" else None
    previous: date | None = resume_from
    for when in sorted(evaluation_dates):
        if previous is not None:
            _run_daily(batch, get_daily_admission, previous + timedelta(days=1), when)
        results = get_results(when)
        if isinstance(results, Decisions):
            batch.evaluate(results, when)
        elif results is not None and len(results):
            if keep:
                history.append(results[results["section"].isin(keep)].assign(evaluation_date=when))
            batch.evaluate(decisions(results, policy), when)
        else:
            batch.evaluate(decisions(pd.DataFrame(columns=RESULT_COLUMNS), policy), when)
        snapshots.append((when, metrics_as_of(policy, when), batch.snapshot()))
        if early is not None:
            early.render_new()
        previous = when
    if until is not None and previous is not None and until > previous:
        _run_daily(batch, get_daily_admission, previous + timedelta(days=1), until)
    if early is not None:
        early.render_new()
    return _result(batch, snapshots, history, reasons, early)


class _EventReasons:
    """Reasons of the transitions, rendered evaluation by evaluation (``reasons="transitions"``)."""

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
        }
    )
    if rendered is not None:
        ids = snap["reason"] if shown is None else np.where(shown, snap["reason"], -1)
        out["reason"], out["reason_params"] = (_obj(x) for x in _lookup_rendered(rendered, ids))
    return out


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
) -> ReplayResult:
    events = batch.events()
    final = batch.snapshot()
    # rows whose reasons are rendered: all, or the last evaluation's statuses, the final states and the
    # transitions after the evaluation before it (every transition with "transitions": already rendered)
    if reasons in ("all", "transitions") or len(snapshots) < 2:
        shown = np.ones(len(events), bool)
    else:
        shown = events["date"].to_numpy("datetime64[D]") > np.datetime64(snapshots[-2][0], "D")
    wanted = (
        [final["reason"]]
        if early is not None
        else [events["reason"].to_numpy(np.int64)[shown], final["reason"]]
    )
    if reasons == "all":
        wanted += [s[2]["reason"] for s in snapshots]
    elif snapshots:
        wanted.append(snapshots[-1][2]["reason"])
    rendered = batch.render(np.concatenate(wanted)) if batch.n_reasons else None
    before = early.rendered() if early is not None else None
    if before is not None:
        rendered = before if rendered is None else pd.concat([before, rendered])
        rendered = rendered[~rendered.index.duplicated()].sort_index()
    if snapshots:  # one frame from the stacked snapshots (no per-evaluation frames to concatenate)
        stacked = {k: np.concatenate([s[2][k] for s in snapshots]) for k in snapshots[0][2]}
        block = np.repeat(np.arange(len(snapshots)), [len(s[2]["sid"]) for s in snapshots])
        shown_rows = None if reasons == "all" else block == len(snapshots) - 1
        statuses = _frame(batch, stacked, rendered, shown_rows)
        statuses["evaluation_date"] = _obj(np.array([s[0] for s in snapshots], object)[block])
        statuses["as_of"] = _obj(np.array([s[1] for s in snapshots], object)[block])
        statuses = statuses[STATUS_COLUMNS]
    else:
        statuses = pd.DataFrame(columns=STATUS_COLUMNS)
    final_frame = _frame(batch, final, rendered)[FINAL_COLUMNS]
    return ReplayResult(
        statuses=statuses,
        transitions=_transitions(batch, events, rendered, shown),
        final=final_frame,
        states=BatchStates(batch, final_frame),
        results=pd.concat(history, ignore_index=True) if history else pd.DataFrame(),
    )


def _transitions(
    batch: Batch, events: pd.DataFrame, rendered: pd.DataFrame | None, shown: np.ndarray
) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=TRANSITION_COLUMNS)
    sid = events["sid"].to_numpy(np.int64)
    r_text, r_params = _lookup_rendered(rendered, np.where(shown, events["reason"].to_numpy(np.int64), -1))
    key_of = batch.reason_key_of(events["reason"].to_numpy(np.int64))
    out = pd.DataFrame(
        {
            "seller_id": _obj(batch.sellers[sid]),
            "marketplace_id": _obj(batch.markets[sid]),
            "date": _obj(date_objects(events["date"].to_numpy("datetime64[D]"))),
            "from_state": _obj(_STATE_NAMES[events["from_state"].to_numpy(np.int64)]),
            "to_state": _obj(_STATE_NAMES[events["to_state"].to_numpy(np.int64)]),
            **{
                c: _obj(events[c].to_numpy(object))
                for c in ("rule_id", "metric", "value", "threshold", "operator", "window_days")
            },
            "as_of": _obj(date_objects(events["as_of"].to_numpy("datetime64[D]"))),
            "reason": _obj(r_text),
            "reason_key": _obj(key_of),
            "reason_params": _obj(r_params),
        }
    )
    return out[TRANSITION_COLUMNS]


class BatchStates(Mapping[tuple[str, str], SellerState]):
    """``(seller_id, marketplace_id) -> SellerState`` of a replay's final states, built on access."""

    def __init__(self, batch: Batch, final: pd.DataFrame):
        self._batch = batch
        self._final = final
        self._snap = batch.snapshot()

    def __getitem__(self, key: tuple[str, str]) -> SellerState:
        i = self._batch.position(*key)
        if i < 0:
            raise KeyError(key)
        row = self._final.iloc[i]
        params = json.loads(row["reason_params"]) if isinstance(row["reason_params"], str) else {}
        counts = json.loads(row["breach_counts"])
        return SellerState(
            seller_id=row["seller_id"],
            marketplace_id=row["marketplace_id"],
            state=LifecycleState(row["state"]),
            since=row["since"],
            breach_counts=counts,
            recovery_streak=int(row["recovery_streak"]),
            reason=Reason(row["reason_key"], params),
        )

    def __iter__(self):
        return iter(zip(self._batch.sellers.tolist(), self._batch.markets.tolist(), strict=True))

    def __len__(self) -> int:
        return len(self._batch.sellers)
