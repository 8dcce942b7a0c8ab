"""Automatic account-manager assignment: hand-computed plans, the array computation against a
one-seller-at-a-time reference (hypothesis), and the bulk write on SQLite and PostgreSQL."""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from cxops import store as st
from cxops.service.assignment import auto_assign, fill_slots, plan_assignments

P = "customer-excellence"


def _managers(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "capacity", "load", "categories"])


def _sellers(ids, categories=None) -> pd.DataFrame:
    df = pd.DataFrame({"seller_id": ids, "marketplace_id": "US"})
    if categories is not None:
        df["primary_category"] = categories
    return df


@pytest.mark.unit
def test_balanced_by_utilisation_then_load_then_id():
    # A 4/10, B 2/10, C 0/5. Slots (utilisation before taking, load): C 0/5 (0.0, 0); C 1/5 (0.2, 1)
    # and B 2/10 (0.2, 2): C first (lower load); B 3/10 (0.3); then 0.4: C 2/5 (load 2) before
    # A 4/10 and B 4/10 (load 4: A before B by id).
    m = _managers([("A", 10, 4, []), ("B", 10, 2, []), ("C", 5, 0, [])])
    plan = plan_assignments(_sellers([f"s{i}" for i in range(1, 7)]), m)
    assert plan["manager_id"].tolist() == ["C", "C", "B", "B", "C", "A"]
    assert not plan["category_match"].any()


@pytest.mark.unit
def test_category_first_then_the_rest_by_load():
    # electronics -> A only (capacity 2): e1, e2 to A; e3 overflows. toys -> B: t1.
    # Then e3 and x1 (no category) to anyone with room: C 0/5 (0.0) takes e3; x1 ties B 1/5 and
    # C 1/5 at 0.2 with load 1 each: B by id.
    m = _managers([("A", 2, 0, ["Electronics"]), ("B", 5, 0, ["toys"]), ("C", 5, 0, [])])
    sellers = _sellers(
        ["e1", "e2", "e3", "t1", "x1"], ["electronics", " ELECTRONICS", "electronics", "toys", None]
    )
    plan = plan_assignments(sellers, m).set_index("seller_id")
    assert plan["manager_id"].to_dict() == {"e1": "A", "e2": "A", "e3": "C", "t1": "B", "x1": "B"}
    assert plan["category_match"].to_dict() == {"e1": True, "e2": True, "e3": False, "t1": True, "x1": False}


@pytest.mark.unit
def test_full_managers_leave_sellers_unassigned_and_inactive_get_nobody():
    m = _managers([("A", 1, 0, []), ("B", 3, 3, []), ("Z", 9, 0, [])]).assign(active=[True, True, False])
    plan = plan_assignments(_sellers(["s2", "s1", "s3"]), m)
    assert plan["seller_id"].tolist() == ["s1", "s2", "s3"]  # deterministic order
    assert plan["manager_id"].tolist() == ["A", None, None]


def _reference(n, load, cap):
    """One seller at a time to the manager with the lowest (load / capacity, load, index)."""
    load = list(load)
    heap = [(load[i] / cap[i], load[i], i) for i in range(len(cap)) if load[i] < cap[i]]
    heapq.heapify(heap)
    out = []
    while heap and len(out) < n:
        _, _, i = heapq.heappop(heap)
        out.append(i)
        load[i] += 1
        if load[i] < cap[i]:
            heapq.heappush(heap, (load[i] / cap[i], load[i], i))
    return out


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(
    hs.lists(hs.tuples(hs.integers(1, 400), hs.integers(0, 400)), min_size=1, max_size=12),
    hs.integers(0, 3000),
)
def test_array_fill_equals_taking_sellers_one_by_one(managers, n):
    cap = np.array([c for c, _ in managers])
    load = np.array([min(ld, c) for c, ld in managers])
    assert fill_slots(n, load, cap).tolist() == _reference(n, load, cap)


def _members(store, n):
    cats = ["toys", "garden", None]
    with store.unit_of_work() as s:
        st.upsert_memberships(s, P, pd.DataFrame({
            "seller_id": [f"S{i:03d}" for i in range(n)], "marketplace_id": "US",
            "state": ["enrolled", "at_risk", "candidate", "enrolled"] * (n // 4),
            "primary_category": [cats[i % 3] for i in range(n)]}))  # fmt: skip
        st.add_manager(s, "ana", "Ana", capacity=4, categories=["toys"])
        st.add_manager(s, "bo", "Bo", capacity=50)
        st.add_manager(s, "cy", "Cy", capacity=50, categories=["garden"])


def test_auto_assign_gives_members_a_manager_in_bulk(store):
    _members(store, 24)  # 18 members (enrolled / at_risk), 6 candidates get nobody
    res = auto_assign(store, P)
    assert (res.assigned, res.unassigned) == (18, 0)
    with store.unit_of_work(write=False) as s:
        m = st.load_memberships(s, P)
        events = st.load_events(s, kinds=["manager_assigned"])
    members = m[m.state != "candidate"]
    assert (
        members["account_manager_id"].notna().all()
        and m[m.state == "candidate"]["account_manager_id"].isna().all()
    )
    toys = members[members.primary_category == "toys"]
    # 6 toys members: ana takes 4 (capacity), 2 overflow to the least loaded
    assert (toys["account_manager_id"] == "ana").sum() == 4
    garden = members[members.primary_category == "garden"]
    assert (garden["account_manager_id"] == "cy").all()
    loads = res.managers.set_index("id")["load"].to_dict()
    assert loads == {"ana": 4, "bo": 7, "cy": 7}
    assert res.by_category == 10 and len(events) == 18
    assert set(events["reason"]) == {
        "automatic: category match, balanced by load",
        "automatic: balanced by load",
    }
    assert auto_assign(store, P).assigned == 0  # everyone has a manager now


def test_auto_assign_takes_categories_from_the_warehouse_when_given(store):
    _members(store, 8)
    cats = pd.DataFrame({"seller_id": ["S000", "S001"], "marketplace_id": "US", "primary_category": "TOYS"})
    res = auto_assign(store, P, categories=cats)
    assert res.plan.set_index("seller_id").loc[["S000", "S001"], "manager_id"].tolist() == ["ana", "ana"]
