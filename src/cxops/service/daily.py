"""The daily job: advance a program by one day (or fill a gap) from its stored state.

:func:`run_daily` is ``cxops run --as-of DATE``. Under the program's job lock
(:class:`cxops.store.JobLock`, ``daily:<program>``; a second job gets :class:`ConflictError`):

1. **What to run.** The last succeeded run of the program says where the store is. The same as-of day
   again: nothing to do (a no-op, reported). An earlier day: refused (:class:`ConflictError`, the past
   is changed only by ``--rebuild-from``). A later day: every day after the last run up to ``as_of`` is
   run, in order, each as its own run in its own transaction (a missed day is filled). No run yet, or
   ``rebuild_from``: the **build** — one replay from the first day of data to ``as_of`` with the
   operator actions already applied (each on the day of the run that applied it), recorded as a run
   with ``rebuild_from`` (the first data day for the initial build); its events are logged from
   ``rebuild_from`` on (events identical to logged ones are not logged twice; a decision that comes out
   differently is logged beside the old one, which stays — the past is not rewritten). The build
   replays the sellers in chunks (``chunk_sellers``, env ``CXOPS_BUILD_CHUNK_SELLERS``; the lifecycle is
   per seller, so the store does not depend on the chunk size) and writes each chunk's memberships and
   events as it goes, all in the build's one transaction: its memory is one chunk's whole-history work
   plus what the run day needs of every seller, not every seller's history at once.
2. **Metrics, once, in the engine.** Every metric the days need (each evaluation's metrics day and,
   for the alerts, every day run) is computed in one engine query from each family's facts
   (:func:`cxops.metrics.compute.as_of_expr`, through the evaluation job's machinery in
   :mod:`cxops.service.evaluation`), pivoted wide once; a day reads its rows as arrays.
3. **Each day** (:func:`cxops.lifecycle.advance`): the pending operator actions (on the first day run),
   the daily recovery check, the evaluation if the day is on the policy's cadence. Written in **one
   transaction**: the changed memberships (bulk), the events (idempotency keys: a rerun after a crash
   writes nothing twice), the benefits ledger (on evaluation days), automatic account-manager
   assignment of new members, the actions applied or refused, the alerts
   (:mod:`cxops.service.alerts`), the outbox messages (:func:`cxops.notify.outbox.enqueue_for_events`),
   and the run marked ``succeeded``. A crash leaves the run ``failed``/``running`` and nothing else.

Freshness: as :func:`cxops.service.evaluation.run_evaluation` — a day whose metrics day is past the
last complete day of data is refused (:class:`StaleDataError`) unless ``allow_stale``; even then no day
past the last day of data is run (a window without data never removes a seller).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.lifecycle.batch import STATE_COLUMNS
from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import evaluation_dates, is_evaluation_date, metrics_as_of, next_evaluation_date
from cxops.lifecycle.decisions import decisions_from_metrics
from cxops.lifecycle.replay import EVENT_COLUMNS, advance, replay
from cxops.metrics.compute import load_inputs
from cxops.notify.outbox import EnqueueContext, enqueue_for_events, message_kind
from cxops.policy.model import Policy
from cxops.runs import store as runs_store
from cxops.runs.wide import wide_arrays
from cxops.service import alerts as alert_rules
from cxops.service.assignment import auto_assign
from cxops.service.evaluation import _benefit_evaluations, _Job, data_state
from cxops.service.revisions import restated_days, revision_events
from cxops.service.states import lifecycle_states, member_states
from cxops.settings import get_settings
from cxops.store import (
    JobLock,
    abandon_running,
    append_alerts,
    append_events,
    apply_manager_actions,
    fail_run,
    finish_run,
    last_run,
    load_alerts,
    load_events,
    load_memberships,
    mark_applied,
    mark_rejected,
    pending_actions,
    start_run,
    sync_benefits,
    upsert_memberships,
)
from cxops.store.db import Store
from cxops.store.models import Action, Run

Progress = Callable[[str, int, int], None]
KEYS = ["seller_id", "marketplace_id"]
#: Membership columns compared to decide which rows a day changed.
_COMPARED = ["state", "since", "reason_key", "reason_params", "recovery_streak", "breach_counts",
             "repeats", "alerts", "exempt_until", "immune_until"]  # fmt: skip
#: A test hook: ``CXOPS_DAILY_CRASH=<point>`` makes the job kill itself there (crash-safety tests).
CRASH_ENV = "CXOPS_DAILY_CRASH"


def lock_name(program: str) -> str:
    """The job lock of a program's daily job."""
    return f"daily:{program}"


@dataclass
class DayRun:
    """One day run: its store run id, what it wrote (``counts``) and its stage timings (seconds)."""

    day: date
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class DailyResult:
    """What :func:`run_daily` did.

    ``days`` are the runs written, in order (one for a build); ``noop`` is True when ``as_of`` had
    been run already; ``rebuilt_from`` the first day whose events a build logged; ``notes`` what the
    operator should know (data ending early, the policy changed since the last run).
    """

    program: str
    as_of: date
    days: list[DayRun] = field(default_factory=list)
    noop: bool = False
    rebuilt_from: date | None = None
    notes: list[str] = field(default_factory=list)


def run_daily(
    wh,
    store: Store,
    policy: Policy,
    as_of: date,
    *,
    allow_stale: bool = False,
    rebuild_from: date | None = None,
    progress: Progress | None = None,
    owner: str | None = None,
    chunk_sellers: int | None = None,
) -> DailyResult:
    """Advance ``policy``'s program to ``as_of`` in the operations store (see the module docstring).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    store : cxops.store.Store
        Migrated to the newest revision.
    policy : Policy
        Its ``name`` is the program.
    as_of : date
        The day to run (marketplace-local); evaluations judge metrics as of ``as_of -
        metrics_lag_days``.
    allow_stale : bool
        Run although the metrics day is past the last complete day of data (days past the last day
        of data are still not run).
    rebuild_from : date, optional
        Replay the program from the first day of data and log its events from this day on.
    progress : callable ``(stage, done, total)``, optional
    owner : str, optional
        Who runs it (recorded on the run).
    chunk_sellers : int, optional
        Sellers a build replays at once (default: :attr:`cxops.settings.Settings.build_chunk_sellers`,
        env ``CXOPS_BUILD_CHUNK_SELLERS``); the result does not depend on it, the build's memory does.

    Returns
    -------
    DailyResult

    Raises
    ------
    ConflictError
        ``as_of`` is before the last run (backwards), ``rebuild_from`` is after ``as_of``, or another
        job holds the program's lock.
    StaleDataError
        The metrics day of ``as_of`` is past the last complete day and ``allow_stale`` is false.
    NotFoundError
        No orders in the warehouse.
    """
    program = policy.name
    _, fresh = data_state(wh)
    day = metrics_as_of(policy, as_of)
    fresh.check(day, f"the daily run of {as_of} (metrics as of {day})", allow_stale)
    result = DailyResult(program, as_of)
    until = as_of
    if fresh.last_day is not None and day > fresh.last_day:
        until = fresh.last_day + timedelta(days=policy.cadence.metrics_lag_days)
        result.notes.append(
            f"the data ends on {fresh.last_day}: run up to {until}, no day after it is judged"
        )
    if rebuild_from is not None and rebuild_from > as_of:
        raise ConflictError(f"--rebuild-from {rebuild_from} is after --as-of {as_of}")
    phash = runs_store.policy_hash(policy)
    with JobLock(store, lock_name(program)) as lock:
        with store.unit_of_work() as session:
            abandon_running(session, program)
            last = last_run(session, program)
            last_day, last_hash = (last.as_of, last.policy_hash) if last else (None, None)
            last_started = last.started_at if last else None
        if rebuild_from is None and last_day is not None:
            if as_of < last_day:
                raise ConflictError(
                    f"{program} has run up to {last_day}: a run as of {as_of} would go backwards",
                    hint=f"run a later day, or replay with --rebuild-from {as_of} --as-of {last_day}",
                )
            if until <= last_day:
                result.noop = True
                result.notes.append(f"{program} has already run as of {last_day}: nothing to do")
                return result
            if last_hash != phash:
                result.notes.append(
                    f"the policy differs from the last run's (version {last.policy_version}): the new rules "
                    f"apply from {last_day + timedelta(days=1)}"
                )
            days = [last_day + timedelta(days=i) for i in range(1, (until - last_day).days + 1)]
            job = _Daily(wh, store, policy, fresh, until, progress, owner, lock, chunk_sellers)
            try:
                job.run_days(days, result, since=last_started, last_day=last_day)
            finally:
                job.close()
        else:
            start = fresh.first_day
            if start is None:
                raise NotFoundError(f"no orders in the warehouse {wh.url}", hint="import data first")
            frm = rebuild_from or start
            job = _Daily(wh, store, policy, fresh, until, progress, owner, lock, chunk_sellers)
            try:
                job.build(start, frm, result)
            finally:
                job.close()
            result.rebuilt_from = frm
    return result


def _crash(point: str) -> None:
    """Kill this process at ``point`` when the crash-test hook asks for it (SIGKILL: no cleanup)."""
    if os.environ.get(CRASH_ENV) == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class _Daily:
    """One invocation of the daily job: the engine session (metrics) and the store writes."""

    def __init__(self, wh, store: Store, policy: Policy, fresh, until: date, progress, owner, lock,
                 chunk_sellers: int | None = None):  # fmt: skip
        self.wh, self.store, self.policy, self.fresh = wh, store, policy, fresh
        #: Sellers replayed at once by a build (:attr:`cxops.settings.Settings.build_chunk_sellers`).
        self.chunk_sellers = chunk_sellers or get_settings().build_chunk_sellers
        self.until, self.owner, self.lock = until, owner, lock
        self.progress = progress or (lambda stage, done, total: None)
        self.program = policy.name
        self.phash = runs_store.policy_hash(policy)
        self.inp = load_inputs(wh, policy.metric_options)
        self.job = _Job(wh, policy, self.inp, fresh, until, until, None, None, False, None)
        self.k_benefits = _benefit_evaluations(policy)
        self._passes: dict[date, pd.DataFrame] = {}
        self._last_results = None
        self._projects = bool(alert_rules.projection_specs(policy))

    def close(self) -> None:
        try:
            self.job._drop_temp()
            self.job._drop_all()
        finally:
            runs_store.ACTIVE.discard(self.job.run_id)

    # -- metrics ---------------------------------------------------------------------------------------
    def _metrics(self, run_days: list[date], all_evaluations: bool) -> None:
        """One engine computation of every metric day the days need, pivoted wide."""
        pol = self.policy
        first = self.fresh.first_day
        evals = [d for d in run_days if is_evaluation_date(pol, d)]
        if all_evaluations:
            evals = evaluation_dates(pol, first, self.until)
        days = {metrics_as_of(pol, d) for d in evals}
        if self.k_benefits:  # the benefits look at the last k evaluations of each evaluation run
            history = evaluation_dates(pol, first, self.until) if first else []
            for d in evals:
                before = [e for e in history if e <= d][-self.k_benefits :]
                days |= {metrics_as_of(pol, e) for e in before}
        # the last day's metrics; every day's when its projected breaches need them (provisional or not)
        days |= {metrics_as_of(pol, d) for d in (run_days if self._projects else run_days[-1:])}
        days = {d for d in days if first is None or d >= first}
        # a few days (a daily run): each family reads only the records its windows can hold before those
        # days; many (a build): each family's facts are materialised once, complete, and shared
        self.job.inp.reuse = all_evaluations or len(days) > 4
        self.job._metrics(sorted(days), [], full=())  # the decisions read the criteria's metrics only
        self.job._wide()

    def _results(self, when: date, chunk: tuple[str | None, str | None] | None = None):
        """The decisions of ``when`` (its metrics day), of the sellers of ``chunk`` (a seller-id range
        ``[lo, hi)``) when given; the last of every seller is kept for the day's alerts."""
        day = metrics_as_of(self.policy, when)
        if chunk is not None:
            w = self.wh.con.table(self.job._wide_name)
            q = w.filter(w.as_of == day)
            lo, hi = chunk
            if lo is not None:
                q = q.filter(q.seller_id >= lo)
            if hi is not None:
                q = q.filter(q.seller_id < hi)
            sellers, arrays = wide_arrays(self.wh.con.to_pyarrow(q.order_by(KEYS)), len(self.job.specs))
            return decisions_from_metrics(self.policy, self.job._prepared(sellers, arrays))
        if self._last_results is not None and self._last_results[0] == when:
            return self._last_results[1]
        sellers, arrays = self.job._fetch(day)
        dec = decisions_from_metrics(self.policy, self.job._prepared(sellers, arrays))
        self._last_results = (when, dec)
        return dec

    def _benefits(self, statuses: pd.DataFrame, when: date) -> pd.DataFrame:
        pol = self.policy
        k = self.k_benefits
        history = evaluation_dates(pol, self.fresh.first_day, when)[-k:] if k else []
        rows = []
        for e in history:  # each evaluation's passes once per invocation (a gap shares k - 1 of them)
            if e not in self._passes:
                self._passes[e] = self.job._benefit_passes(*self.job._fetch(metrics_as_of(pol, e)), e)
            if len(self._passes[e]):
                rows.append(self._passes[e])
        sellers = None
        if self.wh.has_table("sellers"):
            s = self.inp.tables["sellers"]
            sellers = self.wh.execute(s.select("seller_id", "marketplace_id", "primary_category"))
        held = compute_benefits(pol, statuses, pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
                                sellers)  # fmt: skip
        return held.rename(columns={"detail": "tier"})

    # -- the build -------------------------------------------------------------------------------------
    def build(self, start: date, frm: date, result: DailyResult) -> None:
        """Replay from ``start`` to ``until`` (actions on their runs' days); log events from ``frm``.

        The metrics of every evaluation are computed once in the engine; the replay then runs over
        chunks of :attr:`chunk_sellers` sellers (the lifecycle is per seller, so a chunk's states and
        events are those of a replay of everyone), and each chunk's memberships and events are written
        as soon as it is replayed, all in the run's one transaction. Python holds one chunk's
        whole-history work at a time, plus what the run day needs of every seller (members, the last
        evaluation's states, the events of the run day and those that make a message).
        """
        t0 = time.perf_counter()
        with self.store.unit_of_work() as session:
            run_id = start_run(session, self.program, self.until, self.policy.name, self.policy.version,
                               self.phash, rebuild_from=frm, owner=self.owner)  # fmt: skip
        try:
            self.progress("metrics", 0, 1)
            self._metrics([self.until], all_evaluations=True)
            self.progress("metrics", 1, 1)
            with self.store.unit_of_work() as session:
                applied = _applied_actions(session, self.program)
                pending = pending_actions(session, program=self.program)
            lc_pending = _lifecycle_actions(pending, self.until)
            actions = pd.concat([a for a in (applied, lc_pending) if len(a)], ignore_index=True) if (
                len(applied) or len(lc_pending)) else None  # fmt: skip
            dates = evaluation_dates(self.policy, start, self.until)
            last_eval = dates[-1] if dates else None
            chunks = self._chunks(actions)
            timings = {"metrics": round(time.perf_counter() - t0, 3)}
            _crash("before_write")
            with self.store.unit_of_work() as session:
                counts: dict[str, int] = {}
                kept = _Kept()
                for i, chunk in enumerate(chunks):
                    self.progress("sellers", i, len(chunks))
                    part = self._build_chunk(session, run_id, chunk, dates, frm, actions, lc_pending,
                                             last_eval, kept)  # fmt: skip
                    for k, v in part.items():
                        counts[k] = counts.get(k, 0) + v
                    self.lock.renew(session)  # the lease, in this transaction: it may outlast the ttl
                    if i == 0:
                        _crash("build_chunk")
                self.progress("sellers", len(chunks), len(chunks))
                timings["compute"] = round(time.perf_counter() - t0, 3)
                states, day_events, statuses, messages = kept.frames()
                rebuilt = self._rebuild_event(session, run_id, self.until, frm)
                counts["events"] = counts.get("events", 0) + rebuilt
                counts.update(self._write_day(session, run_id, self.until, states, day_events, statuses,
                                              last_eval, messages))  # fmt: skip
                _crash("before_commit")
                self.lock.assert_held(session)
                timings["total"] = round(time.perf_counter() - t0, 3)
                finish_run(session, run_id, counts=counts, timings=timings)
            _crash("after_commit")
            result.days.append(DayRun(self.until, run_id, counts, timings))
        except BaseException as e:
            self._fail(run_id, e)
            raise

    def _chunks(self, actions: pd.DataFrame | None) -> list[tuple[str | None, str | None]]:
        """Seller-id ranges ``[lo, hi)`` of :attr:`chunk_sellers` sellers each (``None``: unbounded), over
        the sellers with metrics and those with actions; every seller id falls in exactly one range."""
        w = self.wh.con.table(self.job._wide_name)
        ids = set(self.wh.execute(w.select("seller_id").distinct())["seller_id"].astype(str))
        if actions is not None and len(actions):
            ids |= set(actions["seller_id"].astype(str))
        ids = sorted(ids)
        bounds = ids[self.chunk_sellers :: self.chunk_sellers]
        return list(zip([None, *bounds], [*bounds, None], strict=True))

    def _build_chunk(self, session, run_id, chunk, dates, frm, actions, lc_pending, last_eval,
                     kept: _Kept) -> dict[str, int]:  # fmt: skip
        """Replay the sellers of ``chunk`` and write their memberships and events (and settle their pending
        actions); keep in ``kept`` what the run day needs of them."""
        self.job._covered, self.job._met = {}, self.job._met.iloc[0:0]  # the daily check's cache, per chunk
        res = replay(self.policy, dates, lambda when: self._results(when, chunk), self.job._daily,
                     initial=None, until=self.until, keep_sections=None, reasons="transitions",
                     actions=_in_chunk(actions, chunk))  # fmt: skip
        events = res.events[_days(res.events) >= np.datetime64(frm, "D")].reset_index(drop=True)
        counts, ev = self._write_lifecycle(session, run_id, self.until, res.state_table, None, events,
                                           _in_chunk(lc_pending, chunk), last_eval)  # fmt: skip
        statuses = res.statuses
        if last_eval is not None and len(statuses):
            statuses = statuses[statuses["evaluation_date"] == last_eval]
        kept.add(res.state_table, events[_days(events) == np.datetime64(self.until, "D")], statuses,
                 _message_events(ev))  # fmt: skip
        return counts

    # -- day by day ------------------------------------------------------------------------------------
    def run_days(
        self, days: list[date], result: DailyResult, since=None, last_day: date | None = None
    ) -> None:
        self.progress("metrics", 0, 1)
        self._metrics(days, all_evaluations=False)
        self.progress("metrics", 1, 1)
        with self.store.unit_of_work(write=False) as session:
            stored = load_memberships(session, self.program)
            revisions = self._revisions(session, since, last_day)
        states = state_frame(stored)
        before = states
        for i, day in enumerate(days):
            self.progress("days", i, len(days))
            t0 = time.perf_counter()
            with self.store.unit_of_work() as session:
                run_id = start_run(session, self.program, day, self.policy.name, self.policy.version,
                                   self.phash, owner=self.owner)  # fmt: skip
            try:
                with self.store.unit_of_work(write=False) as session:
                    pending = pending_actions(session, program=self.program)
                lc = _lifecycle_actions(pending, day)
                res = advance(self.policy, states if len(states) else None, day, self._results,
                              self.job._daily,
                              actions=lc if len(lc) else None, keep_sections=None)  # fmt: skip
                timings = {"compute": round(time.perf_counter() - t0, 3)}
                evaluated = day if is_evaluation_date(self.policy, day) else None
                statuses = res.statuses if evaluated else None
                _crash("before_write")
                with self.store.unit_of_work() as session:
                    counts = self._write(session, run_id, day, res.state_table, before, res.events, statuses,
                                         lc, evaluated,
                                         revisions=revisions if i == 0 else None)  # fmt: skip
                    _crash("before_commit")
                    self.lock.assert_held(session)
                    timings["total"] = round(time.perf_counter() - t0, 3)
                    finish_run(session, run_id, counts=counts, timings=timings)
                _crash("after_commit")
            except BaseException as e:
                self._fail(run_id, e)
                raise
            result.days.append(DayRun(day, run_id, counts, timings))
            states = before = res.state_table
            self.lock.heartbeat()
        self.progress("days", len(days), len(days))

    def _revisions(self, session, since, last_day: date | None) -> pd.DataFrame:
        """Revision events of logged decisions whose values imports since the last run restated."""
        if since is None or last_day is None:
            return pd.DataFrame()
        restated = restated_days(self.wh, since, metrics_as_of(self.policy, last_day))
        if restated.empty:
            return pd.DataFrame()
        # a decision judged metrics as of a day on or before its own: one made before the first restated
        # day cannot be revised (the one-day step reads recent decisions, not the whole log)
        decisions = load_events(session, program=self.program, kinds=["transition"],
                                on_or_after=min(restated["day"]))  # fmt: skip
        return revision_events(self.wh, self.job.inp, self.policy, decisions, restated)

    def _fail(self, run_id: int, e: BaseException) -> None:
        try:
            with self.store.unit_of_work() as session:
                fail_run(session, run_id, f"{type(e).__name__}: {e}")
        except Exception:  # the store itself failed: the next job marks the run abandoned
            pass

    # -- the writes of one run (one transaction) -------------------------------------------------------
    def _write(self, session, run_id, day, states, before, events, statuses, lc_actions, evaluated,
               revisions=None) -> dict[str, int]:  # fmt: skip
        counts, ev = self._write_lifecycle(
            session, run_id, day, states, before, events, lc_actions, evaluated
        )
        if revisions is not None and len(revisions):
            counts["revisions"] = append_events(session, revisions, program=self.program, run_id=run_id)
            counts["reviews"] = int(sum(bool(d.get("review")) for d in revisions["details"]))
        counts.update(self._write_day(session, run_id, day, states, events, statuses, evaluated, ev))
        return counts

    def _write_lifecycle(self, session, run_id, day, states, before, events, lc_actions, evaluated):
        """The memberships that changed, the events, the pending lifecycle actions marked applied or refused
        (of the sellers of ``states``). Returns the counts and the events as event-log rows."""
        counts: dict[str, int] = {}
        members = membership_frame(states, evaluated)
        changed = members if before is None else members[_changed(states, before)]
        counts["memberships"] = upsert_memberships(session, self.program, changed, run_id=run_id,
                                                   allowed_states=lifecycle_states())  # fmt: skip
        ev = event_frame(events, self.program, self.policy.version)
        counts["events"] = append_events(session, ev, program=self.program, run_id=run_id)
        counts.update(self._settle_actions(session, run_id, events, lc_actions, day))
        return counts, ev

    def _rebuild_event(self, session, run_id, day: date, frm: date) -> int:
        """The ``rebuild`` event of a build (logged once per rebuild asked for)."""
        program, policy = self.program, self.policy
        n_before = self._rebuilds(session, day, frm)
        return append_events(session, pd.DataFrame([{
            "kind": "rebuild", "event_date": frm, "as_of": day,
            "idempotency_key": f"rebuild:{program}:{day}:{frm}:{self.phash[:16]}:{n_before}",
            "policy_version": policy.version,
            "details": {"rebuild_from": frm.isoformat(), "as_of": day.isoformat(), "policy_hash": self.phash},
        }]), program=program, run_id=run_id)  # fmt: skip

    def _write_day(self, session, run_id, day, states, day_events, statuses, evaluated, ev) -> dict[str, int]:
        """What the run day adds for every seller, after the memberships and events are written: the manager
        actions, the benefits (on an evaluation day), automatic assignment of new members, the alerts, and
        the outbox messages of the events ``ev`` (event-log rows) and of the alerts.

        ``states`` needs ``seller_id, marketplace_id, state``; ``statuses`` (the evaluation's) ``seller_id,
        marketplace_id, evaluation_date, state``; ``day_events`` are the lifecycle events of ``day``."""
        program, policy = self.program, self.policy
        counts: dict[str, int] = {}
        counts["managers_by_action"] = apply_manager_actions(session, program, run_id=run_id)
        if evaluated is not None and statuses is not None and len(statuses):
            held = self._benefits(statuses, evaluated)
            ch = sync_benefits(session, program, held, day, run_id=run_id)
            counts["benefits_opened"], counts["benefits_closed"] = len(ch.opened), len(ch.closed)
        categories = None
        if self.wh.has_table("sellers"):
            s = self.inp.tables["sellers"]
            categories = self.wh.execute(s.select("seller_id", "marketplace_id", "primary_category"))
        counts["managers_assigned"] = auto_assign(self.store, program, categories=categories, run_id=run_id,
                                                  session=session).assigned  # fmt: skip
        alerts = _quiet(session, program, self._alerts(day, day_events, states), day)
        counts["alerts"] = (
            append_alerts(session, alerts, program=program, run_id=run_id) if len(alerts) else 0
        )
        ctx = EnqueueContext(program=program, next_evaluation=_next_eval(policy, day),
                             recovery_stable_days=getattr(policy.recovery, "stable_days", None),
                             documents=_required_documents())  # fmt: skip
        counts["messages"] = enqueue_for_events(session, ev, _alerts_for_outbox(alerts), ctx).messages
        return counts

    def _rebuilds(self, session, day: date, frm: date) -> int:
        """Succeeded rebuilds of the same day from the same day so far (a deterministic event key: a rerun
        after a crash logs the rebuild once, a second rebuild asked for later is logged again)."""
        t = Run.__table__
        stmt = select(t.c.id).where(t.c.program == self.program, t.c.as_of == day, t.c.rebuild_from == frm,
                                    t.c.status == "succeeded")  # fmt: skip
        return len(session.execute(stmt).all())

    def _settle_actions(self, session, run_id, events, lc_actions, day) -> dict[str, int]:
        """Mark the lifecycle actions applied or refused (from their events, one per action, in order)."""
        out = {"actions_applied": 0, "actions_rejected": 0}
        if len(lc_actions):
            on_day = _days(events) == np.datetime64(day, "D")
            acted = events[events["kind"].isin(["action", "action_refused"]).to_numpy() & on_day]
            acted = acted.tail(len(lc_actions))  # a build replays earlier runs' actions first
            if len(acted) != len(lc_actions):
                raise InputError(f"{len(lc_actions)} actions gave {len(acted)} events")  # a lifecycle defect
            ids = lc_actions["action_id"].to_numpy()
            refused = (acted["kind"] == "action_refused").to_numpy()
            if (~refused).any():
                out["actions_applied"] = mark_applied(session, ids[~refused].tolist(), run_id=run_id)
            for aid, text in zip(ids[refused].tolist(), acted["reason"][refused].tolist(), strict=True):
                out["actions_rejected"] += mark_rejected(session, [aid], text or "refused", run_id=run_id)
        return out

    def _alerts(self, day: date, events: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
        """The alerts of ``day``: levels crossed (events), new defect records, projected breaches."""
        program = self.program
        members = states[states["state"].isin(member_states())][KEYS] if len(states) else pd.DataFrame(
            columns=KEYS)  # fmt: skip
        parts = [alert_rules.level_alerts(events[_days(events) == np.datetime64(day, "D")], program)]
        mday = metrics_as_of(self.policy, day)
        expr = alert_rules.record_alerts_expr(self.inp, mday, mday)
        if expr is not None:
            parts.append(alert_rules.record_alerts(self.wh.execute(expr), program, members))
        parts.append(alert_rules.projected_alerts(self.wh, self.inp, self.policy, mday, day, members))
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts, ignore_index=True)
        out = out.drop_duplicates("idempotency_key").reset_index(drop=True)
        on_metrics = out["kind"].isin(["alert_level", "projected_breach"]).any()
        return alert_rules.mark_provisional(out, self._results(day) if on_metrics else None, self.policy)


@dataclass
class _Kept:
    """What a chunked build keeps of each chunk for the run day: the final states (keys and state), the
    lifecycle events of the run day, the last evaluation's statuses (keys, date, state) and the event-log
    rows that make a message."""

    parts: dict[str, list[pd.DataFrame]] = field(
        default_factory=lambda: {"states": [], "day_events": [], "statuses": [], "messages": []}
    )

    def add(self, states, day_events, statuses, messages) -> None:
        cols = {"states": [*KEYS, "state"], "statuses": [*KEYS, "evaluation_date", "state"]}
        for name, df in (("states", states), ("day_events", day_events), ("statuses", statuses),
                         ("messages", messages)):  # fmt: skip
            if df is not None and len(df):
                self.parts[name].append(df[cols[name]] if name in cols else df)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        """``states, day_events, statuses, messages`` of every chunk (``messages`` None when none)."""
        empty = {"states": [*KEYS, "state"], "day_events": EVENT_COLUMNS,
                 "statuses": [*KEYS, "evaluation_date", "state"]}  # fmt: skip
        out = []
        for name in ("states", "day_events", "statuses", "messages"):
            p = self.parts[name]
            if p:
                out.append(pd.concat(p, ignore_index=True))
            else:
                out.append(pd.DataFrame(columns=empty[name]) if name in empty else None)
        return tuple(out)


def _in_chunk(frame: pd.DataFrame | None, chunk: tuple[str | None, str | None]) -> pd.DataFrame | None:
    """The rows of ``frame`` whose ``seller_id`` is in the range ``[lo, hi)`` (order kept)."""
    if frame is None or frame.empty:
        return frame
    lo, hi = chunk
    ids = frame["seller_id"].astype(str)
    keep = np.ones(len(frame), bool)
    if lo is not None:
        keep &= (ids >= lo).to_numpy()
    if hi is not None:
        keep &= (ids < hi).to_numpy()
    return frame[keep].reset_index(drop=True)


def _message_events(ev: pd.DataFrame) -> pd.DataFrame:
    """The event-log rows that make a message (:func:`cxops.notify.outbox.message_kind`)."""
    if ev is None or ev.empty:
        return ev
    kinds = [message_kind(k, f if isinstance(f, str) else None, t if isinstance(t, str) else None)
             for k, f, t in zip(ev["kind"], ev["from_state"], ev["to_state"], strict=True)]  # fmt: skip
    return ev[[k is not None for k in kinds]].reset_index(drop=True)


#: A projected breach of a seller's rule alerts again only after this many days (choice): the projection
#: is recomputed every day and its date moves with the data; one alert a week says it, not one a day.
PROJECTION_QUIET_DAYS = 7


def _quiet(session, program: str, alerts: pd.DataFrame, day: date) -> pd.DataFrame:
    """``alerts`` without the projected breaches of a (seller, marketplace, rule) alerted in the last
    :data:`PROJECTION_QUIET_DAYS` days (before ``day``)."""
    if alerts.empty or not (alerts["kind"] == "projected_breach").any():
        return alerts
    recent = load_alerts(session, program=program, kinds=["projected_breach"],
                         since=day - timedelta(days=PROJECTION_QUIET_DAYS - 1))  # fmt: skip
    recent = recent[[d < day for d in recent["alert_date"]]] if len(recent) else recent
    if recent.empty:
        return alerts
    seen = set(zip(recent["seller_id"], recent["marketplace_id"], recent["rule_id"], strict=True))
    cols = [alerts[c] for c in ("kind", "seller_id", "marketplace_id", "rule_id")]
    drop = [k == "projected_breach" and (s, m, r) in seen for k, s, m, r in zip(*cols, strict=True)]
    return alerts[~np.array(drop, bool)].reset_index(drop=True)


def _days(events: pd.DataFrame) -> np.ndarray:
    """The events' ``date`` as datetime64[D] (an empty array for no events)."""
    if events is None or events.empty:
        return np.zeros(0, "datetime64[D]")
    return pd.to_datetime(events["date"]).to_numpy("datetime64[D]")


def _next_eval(policy: Policy, day: date) -> date | None:
    try:
        return next_evaluation_date(policy, day + timedelta(days=1))
    except IndexError:
        return None


def _required_documents() -> tuple[str, ...]:
    """The documents every member provides (the configured checklist's ``always`` requirements): the
    invitation lists them."""
    from cxops.service.documents import load_checklist

    return tuple(r.id for r in load_checklist().requirements if r.required == "always")


def _alerts_for_outbox(alerts: pd.DataFrame) -> pd.DataFrame | None:
    if alerts is None or alerts.empty:
        return None
    from cxops.notify.outbox import ALERT_COLUMNS

    out = alerts.reindex(columns=ALERT_COLUMNS)
    out["provisional"] = out["provisional"].astype(object).where(out["provisional"].notna(), False)
    return out


# -- conversions between the lifecycle's state table and the store's memberships -------------------------


def _json_norm(values, empty: str) -> np.ndarray:
    """JSON texts / dicts / lists normalised to one text per value (sorted keys); ``empty`` for missing."""
    arr = np.asarray(values, dtype=object)
    out = np.empty(len(arr), dtype=object)
    cache: dict = {}
    for i, v in enumerate(arr.tolist()):
        if v is None or (isinstance(v, float) and v != v):
            out[i] = empty
            continue
        key = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
        got = cache.get(key)
        if got is None:
            obj = json.loads(key) if isinstance(v, str) else v
            got = json.dumps(obj, sort_keys=True) if obj not in (None, {}, []) else empty
            cache[key] = got
        out[i] = got
    return out


def state_frame(memberships: pd.DataFrame) -> pd.DataFrame:
    """Stored memberships as the lifecycle's state table (:data:`cxops.lifecycle.STATE_COLUMNS`)."""
    m = memberships
    if m.empty:
        return pd.DataFrame(columns=STATE_COLUMNS)
    data = m["state_data"] if "state_data" in m else pd.Series([None] * len(m))
    alerts = [json.dumps(sorted((d or {}).get("alerts", []))) if isinstance(d, dict) else "[]" for d in data]
    out = pd.DataFrame(
        {
            "seller_id": m["seller_id"].to_numpy(object),
            "marketplace_id": m["marketplace_id"].to_numpy(object),
            "state": m["state"].to_numpy(object),
            "since": _dates(m["since"]),
            "reason": None,
            "reason_key": m["reason_key"].to_numpy(object),
            "reason_params": _json_norm(m["reason_params"], "{}"),
            "recovery_streak": m["recovery_streak"].fillna(0).astype(int).to_numpy(),
            "breach_counts": _json_norm(m["breach_counts"], "{}"),
            "repeats": m["repeat_count"].fillna(0).astype(int).to_numpy(),
            "alerts": alerts,
            "exempt_until": _dates(m["exemption_until"]),
            "immune_until": _dates(m["immunity_until"]),
        }
    )
    return out[STATE_COLUMNS]


def _dates(s: pd.Series) -> np.ndarray:
    return np.array([_date_or_none(v) for v in s], dtype=object)


def _date_or_none(v):
    if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return v.date() if isinstance(v, pd.Timestamp) else v


def membership_frame(states: pd.DataFrame, evaluated: date | None) -> pd.DataFrame:
    """The lifecycle's state table as membership rows (``last_evaluated`` set when ``evaluated``)."""
    if states.empty:
        return pd.DataFrame(columns=[*KEYS, "state"])
    params = [
        json.loads(v) if isinstance(v, str) and v else None for v in _json_norm(states["reason_params"], "")
    ]
    counts = [json.loads(v) if v else None for v in _json_norm(states["breach_counts"], "")]
    alerts = [json.loads(v) if isinstance(v, str) and v not in ("", "[]") else [] for v in states["alerts"]]
    out = pd.DataFrame(
        {
            "seller_id": states["seller_id"].to_numpy(object),
            "marketplace_id": states["marketplace_id"].to_numpy(object),
            "state": states["state"].to_numpy(object),
            "since": _dates(states["since"]),
            "reason_key": states["reason_key"].to_numpy(object),
            "reason_params": params,
            "recovery_streak": states["recovery_streak"].astype(int).to_numpy(),
            "breach_counts": counts,
            "repeat_count": states["repeats"].astype(int).to_numpy(),
            "immunity_until": _dates(states["immune_until"]),
            "exemption_until": _dates(states["exempt_until"]),
            "state_data": [{"alerts": sorted(a)} if a else None for a in alerts],
        }
    )
    if evaluated is not None:
        out["last_evaluated"] = evaluated
    return out


def _signature(states: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of the stored columns (:data:`_COMPARED`), normalised."""
    sig = np.zeros(len(states), np.uint64)
    for c in _COMPARED:
        v = states[c].to_numpy(object)
        if c in ("reason_params", "breach_counts"):
            v = _json_norm(v, "{}")
        elif c == "alerts":
            v = _json_norm(v, "[]")
        elif c in ("since", "exempt_until", "immune_until"):
            v = _dates(v)
        h = pd.util.hash_array(np.array([str(x) for x in v.tolist()], object))
        sig = sig * np.uint64(1_000_003) ^ h
    return sig


def _changed(states: pd.DataFrame, before: pd.DataFrame) -> np.ndarray:
    """Rows of ``states`` that are new or differ from ``before`` (by key) in a stored column."""
    if before is None or before.empty:
        return np.ones(len(states), bool)
    old = pd.Series(_signature(before), index=pd.MultiIndex.from_frame(before[KEYS]))
    prior = old.reindex(pd.MultiIndex.from_frame(states[KEYS]))
    return (prior.isna().to_numpy() | (prior.to_numpy() != _signature(states))).astype(bool)


def event_frame(events: pd.DataFrame, program: str, policy_version: str) -> pd.DataFrame:
    """The lifecycle's events as event-log rows, each with a deterministic idempotency key.

    The key hashes what the event is (program, seller, marketplace, day, kind, from/to state, reason,
    rule, actor and the operator's reason, and its rank among identical events): a rerun or a rebuild
    that reaches the same decision writes nothing new; a different decision gets a new key.
    """
    if events is None or events.empty:
        return pd.DataFrame()
    e = events.reset_index(drop=True)
    cols = [e[c].tolist() for c in ("seller_id", "marketplace_id", "date", "kind", "from_state", "to_state",
                                     "reason_key", "rule_id", "actor", "action_reason")]  # fmt: skip
    ident = pd.Series(["|".join([program, *map(str, row)]) for row in zip(*cols, strict=True)], dtype=object)
    rank = ident.groupby(ident).cumcount().tolist()
    keys = ["lc:" + hashlib.sha1(f"{t}|{r}".encode()).hexdigest() for t, r in zip(ident, rank, strict=True)]
    num = e["numerator"].astype(float)
    den = e["denominator"].astype(float)
    out = pd.DataFrame(
        {
            "seller_id": e["seller_id"].to_numpy(object),
            "marketplace_id": e["marketplace_id"].to_numpy(object),
            "kind": e["kind"].to_numpy(object),
            "from_state": e["from_state"].to_numpy(object),
            "to_state": e["to_state"].to_numpy(object),
            "rule_id": e["rule_id"].to_numpy(object),
            "metric": e["metric"].to_numpy(object),
            "value": pd.to_numeric(e["value"], errors="coerce").to_numpy(float),
            "numerator": num.to_numpy(),
            "denominator": den.to_numpy(),
            "threshold": pd.to_numeric(e["threshold"], errors="coerce").to_numpy(float),
            "operator": e["operator"].to_numpy(object),
            "window_days": pd.to_numeric(e["window_days"], errors="coerce")
            .astype("Int64")
            .astype(object)
            .where(e["window_days"].notna(), None)
            .to_numpy(object),
            "event_date": _dates(e["date"]),
            "as_of": _dates(e["as_of"]),
            "policy_version": policy_version,
            "actor": e["actor"].where(e["actor"].notna(), "system").to_numpy(object),
            "reason": e["reason"].to_numpy(object),
            "reason_key": e["reason_key"].to_numpy(object),
            "reason_params": [
                json.loads(v) if isinstance(v, str) and v else None for v in e["reason_params"]
            ],
            "details": [
                {"action_reason": r} if isinstance(r, str) and r else None for r in e["action_reason"]
            ],
            "idempotency_key": keys,
        }
    )
    return out


def _lifecycle_actions(pending: pd.DataFrame, day: date) -> pd.DataFrame:
    """Pending lifecycle actions (not manager assignments) as the lifecycle's action frame, effective
    on ``day``, in the order they were asked for; ``action_id`` keeps the store's id."""
    cols = ["seller_id", "marketplace_id", "action", "effective", "until", "actor", "reason", "action_id"]
    if pending is None or pending.empty:
        return pd.DataFrame(columns=cols)
    p = pending[pending["kind"] != "assign_manager"].sort_values("id", kind="stable")
    return pd.DataFrame(
        {
            "seller_id": p["seller_id"].to_numpy(object),
            "marketplace_id": p["marketplace_id"].to_numpy(object),
            "action": p["kind"].to_numpy(object),
            "effective": day,
            "until": _dates(p["until"]),
            "actor": p["actor"].to_numpy(object),
            "reason": p["reason"].to_numpy(object),
            "action_id": p["id"].to_numpy(),
        }
    )[cols]


def _applied_actions(session, program: str) -> pd.DataFrame:
    """Lifecycle actions applied by earlier runs, each effective on its run's as-of day (for a build)."""
    a, r = Action.__table__, Run.__table__
    stmt = (
        select(a.c.seller_id, a.c.marketplace_id, a.c.kind.label("action"), r.c.as_of.label("effective"),
               a.c.until, a.c.actor, a.c.reason)
        .join(r, a.c.run_id == r.c.id)
        .where(a.c.program == program, a.c.status == "applied", a.c.kind != "assign_manager")
        .order_by(r.c.as_of, a.c.id)
    )  # fmt: skip
    from cxops.store.bulk import frame

    return frame(session, stmt)
