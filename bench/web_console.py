"""Benchmark: the operator console's seller list on 1 M memberships — plans and page times.

Usage::

    .venv/bin/python bench/web_console.py --rows 1000000                       # SQLite
    .venv/bin/python bench/web_console.py --rows 1000000 --pg postgresql://app:pw@127.0.0.1:54329/app

Builds a store migrated to the newest revision (a SQLite file in a temporary folder; a new schema of
the PostgreSQL database, dropped afterwards) with N memberships written by the store's bulk
repository (:func:`cxops.store.upsert_memberships`, timed: the write cost of the console's indexes is
in it) and 200 account managers. Then, for each filter × sort the console offers, it prints the plan
of the page query (SQLite ``EXPLAIN QUERY PLAN``; PostgreSQL ``EXPLAIN`` after ``ANALYZE``) and the
median time of 5 reads of the first page and of a page deep in the list (a keyset in the middle),
50 rows each, through :func:`cxops.store.listing.members` — what ``GET /api/v1/members`` runs.
A plan that sorts (SQLite ``USE TEMP B-TREE FOR ORDER BY``, PostgreSQL ``Sort``) or scans the table
without an index is flagged.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from cxops.store import open_store, upgrade, upsert_memberships
from cxops.store.db import normalise_url
from cxops.store.listing import MEMBER_SORTS, members, members_statement, page_statement
from cxops.store.models import AccountManager

PROGRAM = "customer-excellence"
STATES = ["enrolled", "candidate", "at_risk", "removed", "recovering", "not_eligible"]
SHARES = [0.60, 0.20, 0.08, 0.06, 0.03, 0.03]
MARKETS = ["US", "DE", "JP", "UK", "FR"]
CASES = [
    ("all, by seller", {}, "seller", False),
    ("all, by seller (desc)", {}, "seller", True),
    ("all, by status", {}, "state", False),
    ("at risk, by seller", {"states": ["at_risk"]}, "seller", False),
    ("at risk, by since (oldest first)", {"states": ["at_risk"]}, "since", False),
    ("marketplace DE, by seller", {"marketplace_id": "DE"}, "seller", False),
    ("enrolled + DE, by since", {"states": ["enrolled"], "marketplace_id": "DE"}, "since", False),
    ("manager m042, by seller", {"manager_id": "m042"}, "seller", False),
    ("no manager, by seller", {"manager_id": ""}, "seller", False),
    (
        "at risk + DE + m042, by seller",
        {"states": ["at_risk"], "marketplace_id": "DE", "manager_id": "m042"},
        "seller",
        False,
    ),  # fmt: skip
    ("search 'S00', by seller", {"seller_prefix": "S00"}, "seller", False),
    (
        "enrolled + search 'S0001', by since",
        {"states": ["enrolled"], "seller_prefix": "S0001"},
        "since",
        False,
    ),
]


def population(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    since = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    manager = np.array([f"m{i:03d}" for i in range(200)], dtype=object)[rng.integers(0, 200, n)]
    manager[rng.random(n) < 0.10] = None
    df = pd.DataFrame({
        "seller_id": [f"S{i:07d}" for i in range(n)],
        "marketplace_id": np.array(MARKETS, dtype=object)[rng.integers(0, len(MARKETS), n)],
        "state": np.array(STATES, dtype=object)[rng.choice(len(STATES), n, p=SHARES)],
        "since": since.date,
        "account_manager_id": manager,
        "consecutive_breaches": rng.integers(0, 3, n),
    })  # fmt: skip
    df.loc[rng.random(n) < 0.02, "since"] = None
    return df


def deep_key(sort: str) -> tuple:
    mid = ("S0500000", "A")
    return {"seller": mid, "since": (date(2025, 1, 1), *mid), "state": ("enrolled", *mid)}[sort]


def explain(session, stmt, dialect: str) -> str:
    sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    if dialect == "sqlite":
        rows = session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
        return "; ".join(r[-1] for r in rows if "memberships" in r[-1] or "TEMP" in r[-1])
    rows = session.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)).all()
    lines = [r[0].strip().removeprefix("->  ") for r in rows]
    keep = [x for x in lines if "memberships" in x or x.startswith(("Sort", "Rows Removed", "Filter"))]
    return " / ".join(x.split(" (actual")[0] for x in keep if "Cond" not in x and "Cache" not in x)


def flagged(plan: str, dialect: str) -> str:
    if dialect == "sqlite":
        bad = "TEMP B-TREE" in plan or any(
            p.strip().startswith("SCAN memberships") and "INDEX" not in p for p in plan.split(";")
        )
    else:
        bad = "Sort" in plan or "Seq Scan on memberships" in plan
    return "**sorts or scans**" if bad else "index order"


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def run(url: str, n: int, label: str) -> None:
    store = open_store(url, check=False, must_exist=False)
    upgrade(store)
    dialect = store.dialect
    with store.unit_of_work() as s:
        s.execute(insert(AccountManager), [
            {"id": f"m{i:03d}", "name": f"Manager {i}", "languages": [], "categories": [], "capacity": 10_000,
             "active": True, "created_at": datetime.now(UTC)} for i in range(200)])  # fmt: skip
    df = population(n)
    t = time.perf_counter()
    with store.unit_of_work() as s:
        upsert_memberships(s, PROGRAM, df)
    write = time.perf_counter() - t
    if dialect == "postgresql":
        with store.engine.connect() as c:
            c.execute(text("ANALYZE memberships"))
            c.commit()
    print(
        f"\n### {label}: {n:,} memberships written in {write:.1f} s (upsert_memberships, one transaction)\n"
    )
    print("| list | plan (page after a key in the middle) | verdict | first page (ms) | deep page (ms) |")
    print("|---|---|---|---|---|")
    for name, filters, sort, desc in CASES:
        with store.unit_of_work(write=False) as s:
            stmt = members_statement(s, PROGRAM, sort=sort, **filters)
            plan = explain(
                s, page_statement(stmt, MEMBER_SORTS[sort], deep_key(sort), 51, descending=desc), dialect
            )

            def first(s=s, filters=filters, sort=sort, desc=desc):
                assert len(members(s, PROGRAM, sort=sort, descending=desc, limit=50, **filters).rows) > 0

            def deep(s=s, filters=filters, sort=sort, desc=desc):
                members(s, PROGRAM, sort=sort, descending=desc, limit=50, after=deep_key(sort), **filters)

            print(
                f"| {name} | `{plan}` | {flagged(plan, dialect)} | {timed(first):.1f} | {timed(deep):.1f} |"
            )
    store.dispose()


#: Indexes 0002 puts on memberships (the first two replace 0001's narrower ones).
CONSOLE_INDEXES = [
    "ix_memberships_state_seller",
    "ix_memberships_manager_seller",
    "ix_memberships_state_since",
]


OLD_INDEXES = [
    ("ix_memberships_program", "program, state, marketplace_id"),
    ("ix_memberships_account_manager_id", "account_manager_id"),
]


def write_cost(fresh, n: int, label: str) -> None:
    """The daily job's first full write with 0002's membership indexes and with 0001's, in the same run;
    ``fresh()`` gives a new empty store URL each time."""
    times: dict[bool, list[float]] = {}
    df = population(n)
    for old in (True, False, True, False):
        store = open_store(fresh(), check=False, must_exist=False)
        upgrade(store)
        with store.unit_of_work() as s:
            s.execute(insert(AccountManager), [
                {"id": f"m{i:03d}", "name": f"Manager {i}", "languages": [], "categories": [], "capacity": 10_000,
                 "active": True, "created_at": datetime.now(UTC)} for i in range(200)])  # fmt: skip
            if old:  # back to 0001's indexes
                for name in CONSOLE_INDEXES:
                    s.execute(text(f"DROP INDEX {name}"))
                for name, columns in OLD_INDEXES:
                    s.execute(text(f"CREATE INDEX {name} ON memberships ({columns})"))
        t = time.perf_counter()
        with store.unit_of_work() as s:
            upsert_memberships(s, PROGRAM, df)
        times.setdefault(old, []).append(time.perf_counter() - t)
        store.dispose()
    before, after = min(times[True]), min(times[False])
    print(
        f"{label}: {n:,} new memberships in one transaction, best of 2: {before:.1f} s with 0001's membership "
        f"indexes, {after:.1f} s with 0002's (x{after / before:.2f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", help="PostgreSQL URL (a schema is created in it and dropped afterwards)")
    ap.add_argument(
        "--write-cost", action="store_true", help="only compare the write with and without the indexes"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.write_cost:
            files = iter(range(100))
            write_cost(lambda: f"sqlite:///{Path(tmp) / f'store{next(files)}.sqlite'}", args.rows, "SQLite")
        else:
            run(f"sqlite:///{Path(tmp) / 'store.sqlite'}", args.rows, "SQLite")
    if args.pg:
        base = normalise_url(args.pg)
        admin = create_engine(base)
        schemas: list[str] = []

        def fresh() -> str:
            schemas.append(f"cxops_bench_{uuid.uuid4().hex[:8]}")
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schemas[-1]}"'))
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schemas[-1]}"})
            return url.render_as_string(hide_password=False)

        try:
            if args.write_cost:
                write_cost(fresh, args.rows, "PostgreSQL")
            else:
                run(fresh(), args.rows, "PostgreSQL")
        finally:
            with admin.begin() as c:
                for schema in schemas:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
