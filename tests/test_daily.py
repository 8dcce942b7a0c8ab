"""The daily job (cxops.service.daily) against the evaluation job, and its refusals.

Equivalence: daily runs over a period (an initial build, then day by day) leave in the store exactly the
states of :func:`run_evaluation` over the same period, and log exactly its transitions. The evaluation
job replays from the first data day in one pass and is computed independently of the store.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from _daily import END, marketplace
from _store import store, store_url  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxops.errors import ConflictError, StaleDataError
from cxops.policy.load import load_policy
from cxops.service.daily import lock_name, run_daily
from cxops.service.evaluation import run_evaluation
from cxops.store import JobLock, list_runs, load_events, load_memberships
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration]

POLICY = "marketplace-enforcement"  # daily evaluations, alert levels, suspension, immunity, blocks


@pytest.fixture(scope="module")
def wh_path(tmp_path_factory):
    return marketplace(tmp_path_factory.mktemp("daily"))


@pytest.fixture
def wh(wh_path):
    w = connect(str(wh_path))
    yield w
    w.close()


def stored_states(ops, program: str) -> pd.DataFrame:
    with ops.unit_of_work(write=False) as s:
        m = load_memberships(s, program)
    return pd.DataFrame(
        {
            "seller_id": m["seller_id"],
            "marketplace_id": m["marketplace_id"],
            "state": m["state"],
            "since": [str(d) for d in m["since"]],
            "reason_key": m["reason_key"],
            "breach_counts": [json.dumps(c or {}, sort_keys=True) for c in m["breach_counts"]],
            "recovery_streak": m["recovery_streak"].astype(int),
            "repeats": m["repeat_count"].astype(int),
        }
    ).sort_values(["seller_id", "marketplace_id"], ignore_index=True)


def evaluated_states(ev) -> pd.DataFrame:
    f = ev.frame("final")
    return pd.DataFrame(
        {
            "seller_id": f["seller_id"],
            "marketplace_id": f["marketplace_id"],
            "state": f["state"],
            "since": [str(pd.Timestamp(d).date()) if pd.notna(d) else "None" for d in f["since"]],
            "reason_key": f["reason_key"],
            "breach_counts": [json.dumps(json.loads(c or "{}"), sort_keys=True) for c in f["breach_counts"]],
            "recovery_streak": f["recovery_streak"].astype(int),
            "repeats": f["repeats"].astype(int),
        }
    ).sort_values(["seller_id", "marketplace_id"], ignore_index=True)


def logged_transitions(ops, program: str) -> pd.DataFrame:
    with ops.unit_of_work(write=False) as s:
        e = load_events(s, program=program, kinds=["transition"])
    return _transitions(e.rename(columns={"event_date": "date"}))


def _transitions(t: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "seller_id": t["seller_id"].astype(object),
            "marketplace_id": t["marketplace_id"].astype(object),
            "date": [str(pd.Timestamp(d).date()) for d in t["date"]],
            "from_state": t["from_state"].astype(object),
            "to_state": t["to_state"].astype(object),
            "reason_key": t["reason_key"].astype(object),
            "rule_id": [r if isinstance(r, str) else None for r in t["rule_id"]],
        }
    )
    return out.sort_values(list(out.columns[:5]), ignore_index=True)


def check_equivalent(wh, ops, policy, until):
    ev = run_evaluation(wh, policy, until, persist=False, reuse=False)
    got, want = stored_states(ops, policy.name), evaluated_states(ev)
    assert len(want) > 5 and want["state"].nunique() >= 3  # a program with something to compare
    pd.testing.assert_frame_equal(got.astype(str), want.astype(str))
    moved = ev.frame("transitions")
    moved = moved[moved["from_state"] != moved["to_state"]]
    logged = logged_transitions(ops, policy.name)
    assert len(logged) > 5
    pd.testing.assert_frame_equal(logged.astype(str), _transitions(moved).astype(str))


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(split=st.integers(5, 40), gap=st.integers(1, 6))
def test_daily_runs_equal_the_evaluation_over_the_same_period(wh, tmp_path_factory, split, gap):
    from cxops.store import open_store, upgrade

    d = tmp_path_factory.mktemp("eq")
    s = open_store(f"sqlite:///{d}/s.sqlite", check=False, must_exist=False)
    upgrade(s)
    try:
        policy = load_policy(POLICY)
        first = END - timedelta(days=split)
        run_daily(wh, s, policy, first)  # the initial build
        day = first
        while day < END:  # then days one by one, or a few at once (a gap filled in order)
            day = min(day + timedelta(days=gap), END)
            res = run_daily(wh, s, policy, day)
            assert [r.day for r in res.days] == [
                day - timedelta(days=i) for i in reversed(range(len(res.days)))
            ]
        check_equivalent(wh, s, policy, END)
    finally:
        s.dispose()


def test_equivalence_on_both_stores_and_the_run_log(wh, store):  # noqa: F811
    policy = load_policy(POLICY)
    run_daily(wh, store, policy, END - timedelta(days=10))
    res = run_daily(wh, store, policy, END)
    assert len(res.days) == 10 and res.rebuilt_from is None
    check_equivalent(wh, store, policy, END)
    with store.unit_of_work(write=False) as s:
        runs = list_runs(s, policy.name)
    assert (runs["status"] == "succeeded").all() and len(runs) == 11
    assert runs["rebuild_from"].notna().sum() == 1  # the initial build records where it replayed from


def test_rerun_is_a_noop_backwards_is_refused_stale_needs_allow(wh, store):  # noqa: F811
    policy = load_policy(POLICY)
    run_daily(wh, store, policy, END - timedelta(days=3))
    before = stored_states(store, policy.name)
    with store.unit_of_work(write=False) as s:
        n_events = len(load_events(s, program=policy.name))
    again = run_daily(wh, store, policy, END - timedelta(days=3))
    assert again.noop and again.days == []
    with pytest.raises(ConflictError, match="backwards"):
        run_daily(wh, store, policy, END - timedelta(days=5))
    with pytest.raises(StaleDataError):
        run_daily(wh, store, policy, END + timedelta(days=5))
    pd.testing.assert_frame_equal(stored_states(store, policy.name), before)
    with store.unit_of_work(write=False) as s:
        assert len(load_events(s, program=policy.name)) == n_events
    # allowed stale: runs up to the last day of data (+ the metrics lag) and no further
    res = run_daily(wh, store, policy, END + timedelta(days=5), allow_stale=True)
    assert res.days[-1].day == END + timedelta(days=policy.cadence.metrics_lag_days)
    assert any("data ends" in n for n in res.notes)


def test_rebuild_from_replays_and_logs_no_event_twice(wh, store):  # noqa: F811
    policy = load_policy(POLICY)
    run_daily(wh, store, policy, END - timedelta(days=20))
    run_daily(wh, store, policy, END)
    with store.unit_of_work(write=False) as s:
        events = load_events(s, program=policy.name)
    res = run_daily(wh, store, policy, END, rebuild_from=END - timedelta(days=15))
    assert res.rebuilt_from == END - timedelta(days=15)
    with store.unit_of_work(write=False) as s:
        after = load_events(s, program=policy.name)
        runs = list_runs(s, policy.name)
    # same data: the replay reaches the same decisions, so only the rebuild's own record is new
    assert len(after) == len(events) + 1 and after["kind"].iloc[-1] == "rebuild"
    assert runs["rebuild_from"].iloc[0] == END - timedelta(days=15)
    check_equivalent(wh, store, policy, END)


def test_two_jobs_at_once_are_refused_by_the_lock(wh, store):  # noqa: F811
    policy = load_policy(POLICY)
    with JobLock(store, lock_name(policy.name)):
        with pytest.raises(ConflictError):
            run_daily(wh, store, policy, END)
    with store.unit_of_work(write=False) as s:
        assert len(list_runs(s, policy.name)) == 0  # nothing was started
    assert run_daily(wh, store, policy, END).days  # the lock released: the job runs


def test_demo_program_acts_on_sellers_and_runs_the_last_week(wh, store, tmp_path):  # noqa: F811
    from cxops.notify.outbox import kind_counts, status_counts
    from cxops.service.demo_program import DAILY_DAYS, deliver_demo_mail, run_demo_program

    policy = load_policy(POLICY)
    res = run_demo_program(wh, store, policy, END)
    assert [d.day for d in res.daily.days] == [END - timedelta(days=i) for i in reversed(range(DAILY_DAYS))]
    assert res.actions and res.actions[-1].startswith("note ")
    with store.unit_of_work(write=False) as s:
        events = load_events(s, program=policy.name)
    acted = [a for a in res.actions if not a.startswith("note ")]
    # every lifecycle action recorded was applied (or refused with a reason) by the first day run
    assert (events["kind"] == "action_requested").sum() == len(acted)
    assert ((events["kind"] == "action_applied") | (events["kind"] == "action_rejected")).sum() == len(acted)
    assert res.daily.days[0].counts["actions_applied"] + res.daily.days[0].counts["actions_rejected"] == len(
        acted
    )
    # every seller had a contact before the build: each message-making transition and alert was queued
    pairs = wh.execute(wh.table("sellers").select("seller_id", "marketplace_id").distinct())
    assert res.contacts == len(pairs)
    runs = res.build.days + res.daily.days
    queued = sum(d.counts.get("messages", 0) for d in runs)
    with store.unit_of_work(write=False) as s:
        assert sum(status_counts(s).values()) == queued > 0
    mail = deliver_demo_mail(store, tmp_path / "mail")
    assert mail.report.sent == queued and mail.statuses == {"sent": queued}
    assert (
        sum(mail.sent_by_kind.values()) == queued and len(list((tmp_path / "mail").rglob("*.eml"))) == queued
    )
    with store.unit_of_work(write=False) as s:
        assert kind_counts(s) == mail.sent_by_kind
