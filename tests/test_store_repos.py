"""Store repositories on SQLite and PostgreSQL: bulk memberships, idempotent events, the benefits
ledger, runs, manager assignments and pending actions — values checked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from cxops import store as st
from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.service.states import lifecycle_states

P = "customer-excellence"
T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _members(n: int, state: str = "enrolled") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seller_id": [f"S{i:05d}" for i in range(n)],
            "marketplace_id": "US",
            "state": state,
            "since": date(2026, 10, 1),
            "breach_counts": [{"odr": i % 3} if i % 3 else {} for i in range(n)],
            "recovery_streak": 0,
            "primary_category": ["toys" if i % 2 else "electronics" for i in range(n)],
        }
    )


def test_memberships_round_trip_and_upsert(store):
    with store.unit_of_work() as s:
        assert st.upsert_memberships(s, P, _members(5), allowed_states=lifecycle_states()) == 5
    with store.unit_of_work(write=False) as s:
        got = st.load_memberships(s, P)
    assert list(got["seller_id"]) == ["S00000", "S00001", "S00002", "S00003", "S00004"]
    assert got["consecutive_breaches"].tolist() == [0, 1, 2, 0, 1]  # max of breach_counts
    assert got["breach_counts"].tolist()[1] == {"odr": 1}
    assert got["since"].tolist()[0] == date(2026, 10, 1)
    assert got["updated_at"].iloc[0].tzinfo is not None
    change = pd.DataFrame({"seller_id": ["S00001", "S00009"], "marketplace_id": "US",
                           "state": ["at_risk", "candidate"],
                           "since": [date(2026, 11, 1), date(2026, 11, 1)]})  # fmt: skip
    with store.unit_of_work() as s:
        assert st.upsert_memberships(s, P, change) == 2
        got = st.load_memberships(s, P).set_index("seller_id")
    assert len(got) == 6
    assert got.loc["S00001", "state"] == "at_risk" and got.loc["S00001", "since"] == date(2026, 11, 1)
    assert got.loc["S00001", "primary_category"] == "toys"  # a column not written keeps its value
    assert got.loc["S00009", "consecutive_breaches"] == 0  # defaults on insert


def test_memberships_refuse_unknown_states_and_duplicates(store):
    with store.unit_of_work() as s:
        with pytest.raises(InputError, match="unknown lifecycle state"):
            st.upsert_memberships(s, P, _members(2, "on_holiday"), allowed_states=lifecycle_states())
        with pytest.raises(InputError, match="appears twice"):
            st.upsert_memberships(s, P, pd.concat([_members(2), _members(1)]))


def test_unit_of_work_is_all_or_nothing(store):
    with pytest.raises(RuntimeError):
        with store.unit_of_work() as s:
            st.upsert_memberships(s, P, _members(3))
            st.append_events(s, pd.DataFrame({"kind": ["transition"], "idempotency_key": ["a"]}))
            raise RuntimeError("crash before commit")
    with store.unit_of_work(write=False) as s:
        assert st.load_memberships(s, P).empty and st.load_events(s).empty


def test_events_are_recorded_once_per_idempotency_key(store):
    ev = pd.DataFrame({"kind": "transition", "seller_id": ["A", "B"], "marketplace_id": "US",
                       "from_state": "enrolled", "to_state": ["at_risk", "removed"], "value": [0.0061, 0.012],
                       "numerator": [7, 12], "denominator": [1150, 1000], "threshold": 0.006, "operator": ">",
                       "window_days": 60, "as_of": date(2026, 10, 31), "event_date": date(2026, 11, 1),
                       "idempotency_key": ["t:A:2026-11-01", "t:B:2026-11-01"]})  # fmt: skip
    with store.unit_of_work() as s:
        run = st.start_run(s, P, date(2026, 11, 1), P, "1.0.0", st.policy_hash("x"))
        assert st.append_events(s, ev, program=P, run_id=run, policy_version="1.0.0") == 2
    with store.unit_of_work() as s:  # a rerun after a crash writes the same events again: nothing new
        more = pd.concat([ev, ev.iloc[:1].assign(idempotency_key="t:A:2026-12-01")])
        assert st.append_events(s, more, program=P, run_id=run) == 1
    with store.unit_of_work(write=False) as s:
        got = st.load_events(s, program=P)
    assert got["idempotency_key"].tolist() == ["t:A:2026-11-01", "t:B:2026-11-01", "t:A:2026-12-01"]
    first = got.iloc[0]
    assert (first.value, first.numerator, first.denominator, first.threshold) == (0.0061, 7, 1150, 0.006)
    assert first.actor == "system" and first.policy_version == "1.0.0" and first.run_id == run
    with pytest.raises(InputError, match="appears twice"):
        with store.unit_of_work() as s:
            st.append_events(s, pd.concat([ev, ev]))


def test_naive_instants_are_refused(store):
    with pytest.raises(InputError, match="UTC-aware"):
        with store.unit_of_work() as s:
            st.append_events(s, pd.DataFrame({"kind": ["x"], "idempotency_key": ["k"],
                                              "occurred_at": [datetime(2026, 1, 1)]}))  # fmt: skip


def test_runs_start_finish_fail_and_abandon(store):
    with store.unit_of_work() as s:
        r1 = st.start_run(s, P, date(2026, 11, 1), P, "1.0.0", st.policy_hash("a"))
        st.finish_run(s, r1, counts={"sellers": 10}, timings={"metrics": 1.5})
        r2 = st.start_run(s, P, date(2026, 11, 2), P, "1.0.0", st.policy_hash("a"))
    with store.unit_of_work() as s:
        assert st.last_run(s, P).id == r1
        assert st.last_run(s, P, status=None).id == r2
        assert st.abandon_running(s, P) == 1
        r3 = st.start_run(
            s, P, date(2026, 11, 2), P, "1.0.0", st.policy_hash("a"), rebuild_from=date(2026, 10, 1)
        )
        st.fail_run(s, r3, "boom")
        runs = st.list_runs(s, P).set_index("id")
    assert runs.loc[r1, "status"] == "succeeded" and runs.loc[r1, "counts"] == {"sellers": 10}
    assert runs.loc[r2, "status"] == "failed" and "abandoned" in runs.loc[r2, "error"]
    assert runs.loc[r3, "rebuild_from"] == date(2026, 10, 1) and runs.loc[r3, "error"] == "boom"
    assert st.policy_hash("a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def test_benefits_ledger_opens_changes_and_closes_entries(store):
    held = pd.DataFrame({"seller_id": ["A", "A", "B"], "marketplace_id": "US",
                         "benefit": ["fee_discount", "badge", "fee_discount"],
                         "tier": ["5%", None, "7.5%"], "value": [0.05, None, 0.075]})  # fmt: skip
    d1, d2 = date(2026, 11, 1), date(2026, 12, 1)
    with store.unit_of_work() as s:
        ch = st.sync_benefits(s, P, held, d1)
        assert len(ch.opened) == 3 and ch.closed.empty
    with store.unit_of_work() as s:  # same benefits again: nothing changes
        ch = st.sync_benefits(s, P, held, d1)
        assert ch.opened.empty and ch.closed.empty
    # a month later: A's discount goes up to 7.5 %, B leaves the program, A keeps its badge
    later = held.iloc[:2].copy()
    later.loc[0, ["tier", "value"]] = ["7.5%", 0.075]
    with store.unit_of_work() as s:
        ch = st.sync_benefits(s, P, later, d2)
        assert sorted(ch.opened["seller_id"]) == ["A"] and sorted(ch.closed["seller_id"]) == ["A", "B"]
        ledger = st.load_benefits(s, P)
        on_nov_15 = st.load_benefits(s, P, on=date(2026, 11, 15))
        on_dec_1 = st.load_benefits(s, P, on=d2)
    assert len(ledger) == 4
    a_fee = ledger[(ledger.seller_id == "A") & (ledger.benefit == "fee_discount")].sort_values("id")
    assert a_fee["effective_from"].tolist() == [d1, d2]
    assert a_fee["effective_to"].tolist()[0] == d2 and pd.isna(a_fee["effective_to"].tolist()[1])
    assert a_fee["value"].tolist() == [0.05, 0.075]
    assert sorted(zip(on_nov_15.seller_id, on_nov_15.tier.fillna("-"), strict=True)) == [
        ("A", "-"),
        ("A", "5%"),
        ("B", "7.5%"),
    ]
    assert sorted(on_dec_1["tier"].fillna("-")) == ["-", "7.5%"]
    with store.unit_of_work() as s:
        with pytest.raises(ConflictError, match="backwards"):
            st.sync_benefits(s, P, held, d1)


def test_benefits_scope_leaves_other_sellers_open(store):
    held = pd.DataFrame({"seller_id": ["A", "B"], "marketplace_id": "US", "benefit": "badge"})
    with store.unit_of_work() as s:
        st.sync_benefits(s, P, held, date(2026, 11, 1))
        scope = pd.DataFrame({"seller_id": ["A"], "marketplace_id": ["US"]})
        ch = st.sync_benefits(s, P, held.iloc[:0], date(2026, 11, 2), scope=scope)
        assert ch.closed["seller_id"].tolist() == ["A"]
        assert st.load_benefits(s, P, open_only=True)["seller_id"].tolist() == ["B"]


def test_assignments_keep_history_and_log_events(store):
    with store.unit_of_work() as s:
        st.upsert_memberships(s, P, _members(3))
        st.add_manager(s, "ana", "Ana", capacity=2, languages=["en", "zh"], categories=["toys"])
        st.add_manager(s, "bo", "Bo", capacity=5)
        assert st.assign(s, P, pd.DataFrame({"seller_id": ["S00000", "S00001"], "marketplace_id": "US",
                                             "manager_id": "ana"}), key_prefix="t1", at=T0) == 2  # fmt: skip
    with store.unit_of_work() as s:
        again = pd.DataFrame(
            {"seller_id": ["S00000", "S00001"], "marketplace_id": "US", "manager_id": ["ana", "bo"]}
        )
        assert (
            st.assign(s, P, again, actor="carla", reason="rebalance", key_prefix="t2") == 1
        )  # S00000 unchanged
        hist = st.assignment_history(s, P, "S00001", "US")
        members = st.load_memberships(s, P).set_index("seller_id")
        managers = st.list_managers(s).set_index("id")
        events = st.load_events(s, kinds=["manager_assigned"])
    assert hist["manager_id"].tolist() == ["ana", "bo"]
    assert hist["ended_at"].notna().tolist() == [True, False]
    assert members["account_manager_id"].fillna("").tolist() == ["ana", "bo", ""]
    assert (
        managers.loc["ana", "load"] == 1
        and managers.loc["bo", "load"] == 1
        and managers.loc["bo", "free"] == 4
    )
    assert managers.loc["ana", "languages"] == ["en", "zh"]
    assert len(events) == 3
    last = events.iloc[-1]
    assert last.actor == "carla" and last.reason == "rebalance"
    assert last.details == {"manager_id": "bo", "previous_manager_id": "ana"}
    with store.unit_of_work() as s:
        with pytest.raises(NotFoundError, match="unknown account manager"):
            st.assign(
                s, P, pd.DataFrame({"seller_id": ["S00002"], "marketplace_id": "US", "manager_id": ["zed"]})
            )
        with pytest.raises(NotFoundError, match="no membership"):
            st.assign(s, P, pd.DataFrame({"seller_id": ["X"], "marketplace_id": "US", "manager_id": ["bo"]}))
        with pytest.raises(ConflictError, match="exists already"):
            st.add_manager(s, "bo", "Bo again", capacity=1)


def test_pending_actions_are_applied_or_rejected_once(store):
    with store.unit_of_work() as s:
        st.upsert_memberships(s, P, _members(2))
        st.add_manager(s, "ana", "Ana", capacity=3)
        a1 = st.create_action(s, program=P, seller_id="S00000", marketplace_id="US", kind="suspend",
                              actor="carla", reason="counterfeit complaints", requested_at=T0).id  # fmt: skip
        a2 = st.create_action(s, program=P, seller_id="S00001", marketplace_id="US", kind="assign_manager",
                              actor="carla", reason="key account", manager_id="ana").id  # fmt: skip
    with store.unit_of_work() as s:
        assert st.pending_actions(s, T0)["id"].tolist() == [a1]  # requested up to T0
        todo = st.pending_actions(s)
        assert todo["id"].tolist() == [a1, a2] and todo["kind"].tolist() == ["suspend", "assign_manager"]
        run = st.start_run(s, P, date(2026, 11, 3), P, "1", "h")
        assert st.apply_manager_actions(s, P, run_id=run) == 1
        st.mark_rejected(s, [a1], "the seller was removed by the run first", run_id=run)
        assert st.pending_actions(s).empty
        with pytest.raises(ConflictError, match="not pending"):
            st.mark_applied(s, [a1], run_id=run)
        kinds = st.load_events(s, seller_id="S00000")["kind"].tolist()
        members = st.load_memberships(s, P).set_index("seller_id")
    assert kinds == ["action_requested", "action_rejected"]
    assert members.loc["S00001", "account_manager_id"] == "ana"


def test_bulk_rows_read_back_exactly_and_none_is_sql_null(store):
    from sqlalchemy import func, select

    from cxops.store.models import Event, Membership

    at = datetime(2026, 11, 2, 6, 30, 15, 123456, tzinfo=UTC)
    ev = pd.DataFrame({"kind": "x", "idempotency_key": ["a", "b"], "details": [{"n": [1, 2]}, None],
                       "occurred_at": [at, pd.Timestamp(at).tz_convert("Asia/Tokyo")],
                       "event_date": [date(2026, 11, 2), None]})  # fmt: skip
    with store.unit_of_work() as s:
        st.append_events(s, ev)
        st.upsert_memberships(s, P, _members(2).assign(breach_counts=[None, {"lsr": 2}]))
    with store.unit_of_work(write=False) as s:
        orm = s.scalars(select(Event).order_by(Event.id)).all()
        assert [e.occurred_at for e in orm] == [at, at]  # the Tokyo instant is the same instant
        assert [e.details for e in orm] == [{"n": [1, 2]}, None] and orm[1].event_date is None
        assert s.scalar(select(func.count()).where(Event.details.is_(None))) == 1
        assert s.scalar(select(func.count()).where(Membership.breach_counts.is_(None))) == 1
