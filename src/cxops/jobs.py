"""Jobs: the end-to-end operations the CLI runs (metrics → policy → lifecycle → outputs).

Each job takes an open :class:`cxops.warehouse.Warehouse` and plain arguments, and returns frames; the
CLI only parses arguments, calls one job and renders. Metrics for all evaluation dates are computed in
one query per metric family (:func:`cxops.metrics.compute.compute_at`); the daily recovery check asks
for a daily series only for the sellers that are removed or recovering, once per evaluation period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of, next_evaluation_date
from cxops.lifecycle.project import project_all
from cxops.lifecycle.replay import daily_admission, replay
from cxops.metrics.compute import compute_at, compute_series, load_inputs
from cxops.metrics.defects import defect_records
from cxops.policy.evaluate import evaluate_policy
from cxops.policy.model import Policy

Progress = Callable[[str, int, int], None]


@dataclass
class EvaluationRun:
    """Everything an evaluation produced.

    Attributes
    ----------
    policy : Policy
    as_of : date
        The day asked for; evaluations up to it were replayed.
    evaluation_dates : list of date
    statuses : DataFrame
        One row per seller per evaluation date (``cxops.lifecycle.replay.STATUS_COLUMNS``).
    final : DataFrame
        Latest state per seller.
    transitions : DataFrame
        Every state change with its rule, metric value, threshold, window and as-of date.
    criteria : DataFrame
        Criterion results of the last evaluation (every section), with ``evaluation_date``.
    history : DataFrame
        Criterion results of every evaluation for the charted metrics (and benefits).
    metrics : DataFrame
        Metrics as of every evaluation's metrics date plus ``as_of`` (long format).
    benefits : DataFrame
    projected : DataFrame
        Status each seller would get at the next evaluation from metrics as of ``as_of`` (C28).
    next_evaluation : date
    """

    policy: Policy
    as_of: date
    evaluation_dates: list[date]
    statuses: pd.DataFrame
    final: pd.DataFrame
    transitions: pd.DataFrame
    criteria: pd.DataFrame
    history: pd.DataFrame
    metrics: pd.DataFrame
    benefits: pd.DataFrame
    projected: pd.DataFrame
    next_evaluation: date | None = None
    notes: list[str] = field(default_factory=list)


def first_data_day(wh, inputs=None) -> date:
    """The first marketplace-local order day in the warehouse.

    Raises
    ------
    KeyError
        If no orders have been imported.
    """
    from cxops.metrics.records import orders

    o = orders(inputs or load_inputs(wh))
    return pd.Timestamp(wh.execute(o.day.min().name("d"))).date()


def _key_by_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Make (seller, marketplace, as_of) the seller key so one call evaluates many days."""
    f = frame.copy()
    f["marketplace_id"] = (
        f["marketplace_id"].astype(str) + "\x1f" + pd.to_datetime(f["as_of"]).dt.strftime("%Y-%m-%d")
    )
    return f


def run_evaluation(
    wh,
    policy: Policy,
    as_of: date,
    seller_ids=None,
    progress: Progress | None = None,
) -> EvaluationRun:
    """Replay a policy's lifecycle from the first data day up to ``as_of``.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    policy : Policy
    as_of : date
        Evaluations on the policy's cadence up to this day are replayed (monthly by default: on the 1st,
        judging metrics as of the last day of the previous month).
    seller_ids : iterable of str, optional
        Restrict to these sellers.
    progress : callable ``(stage, done, total)``, optional

    Returns
    -------
    EvaluationRun

    Raises
    ------
    KeyError
        If no orders have been imported.
    LookupError
        If ``seller_ids`` are given and none of them has data up to ``as_of``.
    """
    options = policy.metric_options
    inp = load_inputs(wh, options)
    inp.reuse = True  # the replay queries the same facts for every period
    start = first_data_day(wh, inp)
    dates = evaluation_dates(policy, start, as_of)
    notes = []
    early = [d for d in dates if d < policy.effective_from]
    if early:  # evaluating history with a policy not yet in force then: a backtest, said so
        notes.append(
            f"{len(early)} of {len(dates)} evaluations ({early[0]} … {early[-1]}) are before the policy's "
            f"effective date {policy.effective_from}: they show what it would have decided (a backtest)"
        )
    metric_days = sorted({metrics_as_of(policy, d) for d in dates} | {as_of})
    if progress:
        progress("metrics", 0, 1)
    metrics = compute_at(wh, metric_days, options, seller_ids, inputs=inp)
    if progress:
        progress("metrics", 1, 1)
    if seller_ids is not None and metrics.empty:
        raise LookupError(
            f"no data for seller(s) {', '.join(sorted(seller_ids))} up to {as_of} "
            "(unknown id, or the seller started later)"
        )
    by_day = {d: g for d, g in metrics.groupby("as_of", sort=True)}
    done = [0]

    def get_results(evaluation_date: date) -> pd.DataFrame:
        m = by_day.get(metrics_as_of(policy, evaluation_date))
        done[0] += 1
        if progress:
            progress("evaluations", done[0], len(dates))
        if m is None or m.empty:
            return pd.DataFrame()
        return evaluate_policy(policy, m)

    def get_daily(sellers: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
        series = compute_series(
            wh,
            metrics_as_of(policy, first),
            metrics_as_of(policy, last),
            options,
            seller_ids=sorted(set(sellers["seller_id"])),
            metrics=sorted({c.metric for s in ("admission", "removal") for _, c in policy.criteria(s)}),
            inputs=inp,
        )
        series = series.merge(sellers, on=["seller_id", "marketplace_id"])
        return daily_admission(policy, series)

    result = replay(policy, dates, get_results, get_daily, until=as_of, keep_sections=("benefits",))
    current = metrics[metrics["as_of"] == as_of]
    current_results = evaluate_policy(policy, current) if len(current) else pd.DataFrame()
    last_eval = max(dates) if dates else None
    if last_eval is not None and metrics_as_of(policy, last_eval) in by_day:
        criteria = evaluate_policy(policy, by_day[metrics_as_of(policy, last_eval)])
        criteria.insert(2, "evaluation_date", last_eval)
    else:
        criteria = pd.DataFrame()
    # criterion values at every evaluation, for the report's trend charts
    hist = metrics[metrics["as_of"].isin([metrics_as_of(policy, d) for d in dates])]
    history = evaluate_policy(policy, _key_by_day(hist)) if len(hist) else pd.DataFrame()
    if len(history):
        split = history["marketplace_id"].str.split("\x1f", expand=True)
        history["marketplace_id"] = split[0]
        history["as_of"] = pd.to_datetime(split[1]).dt.date
    sellers = None
    if wh.has_table("sellers"):
        sellers = wh.execute(wh.table("sellers").select("seller_id", "marketplace_id", "primary_category"))
    benefits = compute_benefits(policy, result.statuses, result.results, sellers)
    projected = (
        project_all(policy, result.states, current_results) if len(current_results) else pd.DataFrame()
    )
    try:
        nxt = next_evaluation_date(policy, as_of + timedelta(days=1))
    except IndexError:
        nxt = None
    return EvaluationRun(
        policy=policy,
        as_of=as_of,
        evaluation_dates=dates,
        statuses=result.statuses,
        final=result.final,
        transitions=result.transitions,
        criteria=criteria,
        history=history,
        metrics=metrics,
        benefits=benefits,
        projected=projected,
        next_evaluation=nxt,
        notes=notes,
    )


def seller_defects(wh, policy: Policy, seller_id: str, as_of: date) -> pd.DataFrame:
    """Defective records behind a seller's metrics as of ``as_of`` (see :func:`defect_records`)."""
    return defect_records(wh, seller_id, as_of, policy.metric_options)
