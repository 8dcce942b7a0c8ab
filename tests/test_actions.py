"""Operator actions (service layer) on SQLite and PostgreSQL: validated against the membership as it
will be after pending actions, recorded in the event log with the actor, pending until the run."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from cxops import store as st
from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.service.actions import add_note, cancel, request_action, seller_file

P = "customer-excellence"
TODAY = date(2026, 11, 2)


@pytest.fixture
def shop(store):
    with store.unit_of_work() as s:
        st.upsert_memberships(s, P, pd.DataFrame({
            "seller_id": ["ENR", "RISK", "REM", "SUS", "CAND"], "marketplace_id": "US",
            "state": ["enrolled", "at_risk", "removed", "suspended", "candidate"],
            "since": date(2026, 10, 1)}))  # fmt: skip
        st.add_manager(s, "ana", "Ana", capacity=1)
        st.add_manager(s, "bo", "Bo", capacity=5)
    return store


def act(store, kind, seller, **kw):
    kw.setdefault("reason", "policy review")
    kw.setdefault("actor", "carla")
    return request_action(store, kind, seller, "US", today=TODAY, **kw)


def test_suspend_is_pending_and_logged_with_the_actor(shop):
    r = act(shop, "suspend", "ENR", reason="counterfeit complaints")
    assert (r.state, r.expected_state, r.actor, r.until) == ("enrolled", "suspended", "carla", None)
    with shop.unit_of_work(write=False) as s:
        pending = st.pending_actions(s, program=P)
        ev = st.load_events(s, seller_id="ENR")
        m = st.get_membership(s, P, "ENR", "US")
    assert pending[["id", "kind", "actor", "reason"]].values.tolist() == [
        [r.action_id, "suspend", "carla", "counterfeit complaints"]
    ]
    assert m.state == "enrolled"  # takes effect at the next run, not now
    row = ev.iloc[0]
    assert (row.kind, row.actor, row.reason, row.action_id) == (
        "action_requested",
        "carla",
        "counterfeit complaints",
        r.action_id,
    )
    assert row.details == {"action": "suspend"}


@pytest.mark.parametrize(
    ("kind", "seller", "message"),
    [
        (
            "reinstate",
            "ENR",
            "cannot reinstate seller ENR on US: the seller is enrolled .since 2026-10-01.; "
            "reinstate applies to a seller who is removed, recovering or suspended",
        ),
        ("suspend", "SUS", "cannot suspend seller SUS on US: the seller is suspended"),
        ("lift_block", "ENR", "lift-block applies to a seller who is blocked"),
        ("exempt", "SUS", "cannot exempt seller SUS"),
    ],
)
def test_impossible_actions_are_refused_with_the_reason(shop, kind, seller, message):
    kw = {"until": date(2026, 12, 1)} if kind == "exempt" else {}
    with pytest.raises(ConflictError, match=message):
        act(shop, kind, seller, **kw)
    with shop.unit_of_work(write=False) as s:
        assert st.pending_actions(s).empty and st.load_events(s).empty  # nothing written


def test_validation_counts_pending_actions(shop):
    first = act(shop, "suspend", "RISK")
    with pytest.raises(ConflictError, match=f"already pending .action {first.action_id}"):
        act(shop, "suspend", "RISK")
    # once suspended (at the next run) the seller cannot be exempted, but can be reinstated
    with pytest.raises(
        ConflictError, match=rf"will be suspended at the next run .pending action {first.action_id}"
    ):
        act(shop, "exempt", "RISK", until=date(2026, 12, 1))
    r = act(shop, "reinstate", "RISK", reason="action plan accepted")
    assert (r.state, r.expected_state) == ("at_risk", "enrolled")  # customer-excellence: no immunity days
    cancel(shop, r.action_id, reason="plan not signed yet", actor="carla")
    with shop.unit_of_work(write=False) as s:
        assert st.pending_actions(s)["id"].tolist() == [first.action_id]
        assert st.load_events(s, seller_id="RISK")["kind"].tolist() == [
            "action_requested",
            "action_requested",
            "action_cancelled",
        ]
    with pytest.raises(ConflictError, match="cancelled already"):
        cancel(shop, r.action_id, reason="again", actor="carla")


def test_unknown_seller_manager_and_bad_options(shop):
    with pytest.raises(
        NotFoundError, match="seller NOPE has no membership in customer-excellence on marketplace US"
    ):
        act(shop, "suspend", "NOPE")
    with pytest.raises(NotFoundError, match="unknown account manager 'zed'"):
        act(shop, "assign_manager", "ENR", manager_id="zed")
    with pytest.raises(InputError, match="reason"):
        act(shop, "suspend", "ENR", reason="  ")
    with pytest.raises(InputError, match="needs an end"):
        act(shop, "exempt", "ENR")
    with pytest.raises(InputError, match="in the past"):
        act(shop, "exempt", "ENR", until=date(2026, 11, 1))
    with pytest.raises(InputError, match="--until applies to exempt, reinstate, accept-plan, not to suspend"):
        act(shop, "suspend", "ENR", until=date(2026, 12, 1))
    with pytest.raises(InputError, match="--manager"):
        act(shop, "suspend", "ENR", manager_id="ana")
    with pytest.raises(InputError, match="unknown action"):
        act(shop, "promote", "ENR")


def test_assign_manager_warns_over_capacity_and_refuses_the_same_manager(shop):
    with shop.unit_of_work() as s:
        st.assign(s, P, pd.DataFrame({"seller_id": ["RISK"], "marketplace_id": "US", "manager_id": ["ana"]}))
    r = act(shop, "assign_manager", "ENR", manager_id="ana", reason="speaks Portuguese")
    assert r.warnings == ("ana is at capacity (1 of 1 sellers)",)
    with pytest.raises(ConflictError, match="ana is already the account manager of ENR"):
        act(shop, "assign_manager", "ENR", manager_id="ana")
    with pytest.raises(ConflictError, match="ana is already the account manager of RISK"):
        act(shop, "assign_manager", "RISK", manager_id="ana")
    with shop.unit_of_work() as s:
        assert st.apply_manager_actions(s, P) == 1
        assert st.get_membership(s, P, "ENR", "US").account_manager_id == "ana"


def test_exemption_extends_only_forward(shop):
    act(shop, "exempt", "ENR", until=date(2026, 12, 31))
    with shop.unit_of_work() as s:  # what the daily run does when applying it
        st.upsert_memberships(s, P, pd.DataFrame({"seller_id": ["ENR"], "marketplace_id": "US",
                                                  "state": "enrolled",
                                                  "exemption_until": [date(2026, 12, 31)]}))  # fmt: skip
        st.mark_applied(s, st.pending_actions(s)["id"].tolist())
    with pytest.raises(ConflictError, match="exempt until 2026-12-31 already"):
        act(shop, "exempt", "ENR", until=date(2026, 12, 1))
    assert act(shop, "exempt", "ENR", until=date(2027, 1, 31)).until == date(2027, 1, 31)


def test_idempotency_key_returns_the_recorded_action(shop):
    a = act(shop, "suspend", "ENR", idempotency_key="req-1")
    b = act(shop, "suspend", "ENR", idempotency_key="req-1")
    assert b.action_id == a.action_id and b.duplicate and not a.duplicate
    with pytest.raises(ConflictError, match="was used for action"):
        act(shop, "suspend", "RISK", idempotency_key="req-1")


def test_note_takes_effect_at_once_and_the_seller_file_shows_everything(shop):
    n = add_note(shop, "REM", "US", text="called the seller; action plan promised by Friday", actor="carla",
                 program=P)  # fmt: skip
    act(shop, "reinstate", "REM", reason="action plan accepted")
    f = seller_file(shop, "REM", "US")
    assert f.membership["state"] == "removed"
    assert f.notes["text"].tolist() == ["called the seller; action plan promised by Friday"]
    assert f.events["kind"].tolist() == ["action_requested", "note"]  # newest first
    assert f.events.iloc[1].idempotency_key == f"note:{n.note_id}"
    assert f.pending["kind"].tolist() == ["reinstate"]
    with pytest.raises(NotFoundError):
        seller_file(shop, "NOPE", "US")


def test_two_operators_at_once_one_action_recorded_the_other_refused(shop):
    import threading

    results: list[str] = []
    barrier = threading.Barrier(4)

    def suspend(i):
        barrier.wait()
        try:
            act(shop, "suspend", "ENR", actor=f"op{i}")
            results.append("recorded")
        except ConflictError as e:
            results.append("refused" if "already pending" in str(e) else str(e))
        except Exception as e:  # a database error would be a defect
            results.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=suspend, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == ["recorded"] + ["refused"] * 3
    with shop.unit_of_work(write=False) as s:
        assert len(st.pending_actions(s)) == 1 and len(st.load_events(s)) == 1


def test_store_action_kinds_are_the_lifecycle_actions_and_assign_manager():
    from cxops.lifecycle.table import ACTION_KINDS as LIFECYCLE_ACTIONS
    from cxops.service.actions import ACTION_RULES
    from cxops.store.models import ACTION_KINDS

    assert set(ACTION_KINDS) == set(LIFECYCLE_ACTIONS) | {"assign_manager"} == set(ACTION_RULES)


def test_accept_plan_and_lift_block_follow_the_lifecycle_table(shop):
    r = act(shop, "accept_plan", "SUS", reason="plan signed", until=date(2026, 12, 20))
    assert (r.state, r.expected_state, r.until) == ("suspended", "immune", date(2026, 12, 20))
    with pytest.raises(ConflictError, match="lift-block applies to a seller who is blocked"):
        act(shop, "lift_block", "SUS")
