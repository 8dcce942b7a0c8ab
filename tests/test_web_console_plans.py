"""The console's seller list is served by indexes: for every filter × sort it offers, the page query
(after a key, as a deep page runs it) reads an index in the list's order — no sort of the matching
rows, no table scan. SQLite: ``EXPLAIN QUERY PLAN``; PostgreSQL: ``EXPLAIN`` with sequential scans
and sorts priced out, so a plan that still sorts has no index to read in order. The same plans on
1 M memberships, with times, are in ``bench/RESULTS.md`` (``bench/web_console.py``)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from cxops.service.managers import add_manager
from cxops.store import upsert_memberships
from cxops.store.listing import MEMBER_SORTS, members_statement, page_statement

P = "customer-excellence"
CASES = [
    ({}, "seller"),
    ({}, "state"),
    ({"states": ["at_risk"]}, "seller"),
    ({"states": ["at_risk"]}, "since"),
    ({"states": ["removed"], "marketplace_id": "DE"}, "since"),
    ({"marketplace_id": "DE"}, "seller"),
    ({"manager_id": "m1"}, "seller"),
    ({"manager_id": ""}, "seller"),
    ({"seller_prefix": "S00"}, "seller"),
]
AFTER = {
    "seller": ("S0500", "A"),
    "since": (date(2026, 1, 1), "S0500", "A"),
    "state": ("enrolled", "S0500", "A"),
}


@pytest.fixture
def filled(store):
    n = 2000
    df = pd.DataFrame(
        {
            "seller_id": [f"S{i:04d}" for i in range(n)],
            "marketplace_id": [("US", "DE", "JP")[i % 3] for i in range(n)],
            "state": [("enrolled", "at_risk", "removed", "candidate")[i % 4] for i in range(n)],
            "since": [date(2025, 1, 1 + i % 28) if i % 10 else None for i in range(n)],
            "account_manager_id": [("m1", "m2", None)[i % 3] for i in range(n)],
        }
    )
    add_manager(store, "m1", "M One", capacity=5000)
    add_manager(store, "m2", "M Two", capacity=5000)
    with store.unit_of_work() as s:
        upsert_memberships(s, P, df)
    if store.dialect == "postgresql":
        with store.engine.connect() as c:
            c.execute(text("ANALYZE memberships"))
            c.commit()
    return store


@pytest.mark.parametrize("filters, sort", CASES, ids=lambda x: str(x))
@pytest.mark.parametrize("descending", [False, True])
def test_each_console_list_reads_an_index_in_order(filled, filters, sort, descending):
    with filled.unit_of_work(write=False) as s:
        stmt = page_statement(
            members_statement(s, P, sort=sort, **filters),
            MEMBER_SORTS[sort],
            AFTER[sort],
            51,
            descending=descending,
        )
        sql = str(stmt.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        if filled.dialect == "sqlite":
            plan = [r[-1] for r in s.execute(text("EXPLAIN QUERY PLAN " + sql))]
            mine = [p for p in plan if "memberships" in p]
            assert not any("TEMP B-TREE" in p for p in plan), plan
            assert (
                len(mine) == 1 and mine[0].startswith("SEARCH memberships USING ") and "INDEX" in mine[0]
            ), plan
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))
            s.execute(text("SET LOCAL enable_sort = off"))
            plan = [r[0] for r in s.execute(text("EXPLAIN " + sql))]
            assert not any("Sort" in p and "Sort Key" not in p for p in plan), plan
            assert any("Index" in p and "memberships" in p for p in plan), plan


def test_the_seller_id_search_reads_the_prefix_from_an_index(filled):
    """``LIKE 'S001%'`` becomes a range of an index (SQLite: the primary key's; PostgreSQL: the
    pattern-ops index of migration 0007 — an index in a non-C collation can only filter every row)."""
    with filled.unit_of_work(write=False) as s:
        stmt = page_statement(members_statement(s, P, seller_prefix="S001"), MEMBER_SORTS["seller"], None, 51)
        sql = str(stmt.compile(dialect=s.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        if filled.dialect == "sqlite":
            plan = " ".join(r[-1] for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "seller_id>? AND seller_id<?" in plan.replace("=", ""), plan
        else:
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = [r[0] for r in s.execute(text("EXPLAIN " + sql))]
            cond = [p for p in plan if "Index Cond" in p and "seller_id" in p]
            assert cond and "~>=~" in cond[0], plan
        assert [r["seller_id"] for r in s.execute(stmt).mappings()] == [f"S001{i}" for i in range(10)]
