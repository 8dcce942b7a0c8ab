"""Benchmark: bulk writes to the operations store — N memberships + N events in one transaction.

Usage::

    .venv/bin/python bench/store_bulk.py --rows 1000000                       # SQLite
    .venv/bin/python bench/store_bulk.py --rows 1000000 --pg postgresql://app:pw@127.0.0.1:54329/app

Each measurement runs in a process of its own (peak RSS is that process's ``ru_maxrss``), on a new
store migrated to the newest revision (a SQLite file in a temporary folder; a new schema of the
PostgreSQL database, dropped afterwards). Per backend:

- ``cxops, first run``: :func:`cxops.store.upsert_memberships` of N new memberships (JSON breach
  counts on a third of them) and :func:`cxops.store.append_events` of N transition events (unique
  idempotency keys, checked on insert), one unit of work (one commit);
- ``cxops, next run``: the daily job's case on the same store — N memberships changed (upsert over
  existing keys) and N new events, one unit of work;
- ``cxops, load``: :func:`cxops.store.load_memberships` of the N rows into a DataFrame;
- ``driver baseline``: the same first-run rows written by the bare driver in one transaction, with
  nothing cxops adds (SQLite: ``executemany``; PostgreSQL: ``COPY``; no conflict handling), from
  tuples prepared before the clock starts — the time the database itself needs.

The data frames are built before the clock starts; cxops's times include turning them into rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

P = "customer-excellence"
STATES = np.array(["not_eligible", "candidate", "enrolled", "at_risk", "removed", "recovering"], object)


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def memberships(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    counts = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "seller_id": pd.Series([f"S{k:07d}" for k in i], dtype=object),
            "marketplace_id": np.array(["US", "DE", "JP", "UK"], object)[i % 4],
            "state": STATES[rng.integers(0, len(STATES), n)],
            "since": pd.to_datetime(date(2026, 10, 1)) - pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "breach_counts": [
                {"odr": int(c)} if c and k % 3 == 0 else None for k, c in zip(i, counts, strict=True)
            ],
            "recovery_streak": rng.integers(0, 45, n),
            "primary_category": np.array(["toys", "garden", "electronics", None], object)[i % 4],
            "last_evaluated": pd.to_datetime(date(2026, 10, 1)),
        }
    )


def events(n: int, seed: int, day: date) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    den = rng.integers(100, 5000, n)
    num = rng.integers(0, 40, n)
    return pd.DataFrame(
        {
            "program": P,
            "seller_id": pd.Series([f"S{k:07d}" for k in i], dtype=object),
            "marketplace_id": np.array(["US", "DE", "JP", "UK"], object)[i % 4],
            "kind": "transition",
            "from_state": "enrolled",
            "to_state": STATES[rng.integers(0, len(STATES), n)],
            "rule_id": "odr",
            "metric": "order_defect_rate",
            "value": num / den,
            "numerator": num.astype(float),
            "denominator": den.astype(float),
            "threshold": 0.01,
            "operator": ">",
            "window_days": 60,
            "as_of": pd.to_datetime(day - timedelta(days=1)),
            "event_date": pd.to_datetime(day),
            "policy_version": "1.0.0",
            "actor": "system",
            "reason": "order defect rate above 1 % at two consecutive evaluations",
            "occurred_at": datetime(2026, 11, 1, 6, tzinfo=UTC),
            "idempotency_key": pd.Series([f"{day}:S{k:07d}:{k % 4}" for k in i], dtype=object),
        }
    )


def _open(url: str):
    from cxops.store import open_store, upgrade

    s = open_store(url, check=False, must_exist=False)
    upgrade(s)
    return s


def worker(backend: str, method: str, n: int, url: str) -> dict:
    from cxops import store as st

    out: dict = {"backend": backend, "method": method, "rows": n}
    m1 = memberships(n, 1)
    e1 = events(n, 2, date(2026, 11, 1))
    out["rss_data_gb"] = round(_rss_gb(), 2)
    s = _open(url)
    if method == "cxops":
        t = time.perf_counter()
        with s.unit_of_work() as session:
            a = st.upsert_memberships(session, P, m1)
            b = st.append_events(session, e1)
        out["first_s"] = round(time.perf_counter() - t, 2)
        assert (a, b) == (n, n), (a, b)
        m2 = m1.assign(state=np.roll(m1["state"].to_numpy(), 1), since=pd.to_datetime(date(2026, 11, 1)))
        e2 = events(n, 3, date(2026, 11, 2))
        del m1, e1
        t = time.perf_counter()
        with s.unit_of_work() as session:
            a = st.upsert_memberships(session, P, m2)
            b = st.append_events(session, e2)
        out["next_s"] = round(time.perf_counter() - t, 2)
        assert (a, b) == (n, n), (a, b)
        del m2, e2
        t = time.perf_counter()
        with s.unit_of_work(write=False) as session:
            got = st.load_memberships(session, P)
        out["load_s"] = round(time.perf_counter() - t, 2)
        assert len(got) == n and (got["since"] == date(2026, 11, 1)).all()
    else:
        out["first_s"] = round(_driver(s, m1, e1), 2)
    out["peak_rss_gb"] = round(_rss_gb(), 2)
    s.dispose()
    return out


def _driver(s, m: pd.DataFrame, e: pd.DataFrame) -> float:
    """The same rows by the bare driver: tuples prepared before the clock starts, one transaction, no
    conflict handling — the time the database itself needs."""
    now = datetime.now(UTC)
    m = m.assign(program=P, updated_at=now, breach_counts=[json.dumps(x) if x else None for x in m.breach_counts],
                 consecutive_breaches=0, repeat_count=0)  # fmt: skip
    if s.dialect == "sqlite":  # SQLAlchemy's storage form on SQLite
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        m = m.assign(since=m.since.dt.strftime("%Y-%m-%d"), last_evaluated=m.last_evaluated.dt.strftime("%Y-%m-%d"),
                     updated_at=now.strftime(fmt))  # fmt: skip
        e = e.assign(as_of=e.as_of.dt.strftime("%Y-%m-%d"), event_date=e.event_date.dt.strftime("%Y-%m-%d"),
                     occurred_at=e.occurred_at.dt.strftime(fmt))  # fmt: skip
    tables = []
    for name, df in (("memberships", m), ("events", e)):
        cols = list(df.columns)
        rows = list(df.astype(object).where(df.notna(), None).itertuples(index=False, name=None))
        tables.append((name, cols, rows))
    raw = s.engine.raw_connection()
    t = time.perf_counter()
    try:
        cur = raw.cursor()
        if s.dialect == "sqlite":
            cur.execute("BEGIN")
            for name, cols, rows in tables:
                sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                cur.executemany(sql, rows)
        else:
            for name, cols, rows in tables:
                with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
        raw.commit()
        return time.perf_counter() - t
    finally:
        raw.close()


def _pg_schema(base: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cxops.store.db import normalise_url

    base = normalise_url(base)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)

    def drop():
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", help="PostgreSQL URL (default: env CXOPS_TEST_PG_URL; none: SQLite only)")
    ap.add_argument("--worker", nargs=4, metavar=("BACKEND", "METHOD", "ROWS", "URL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        backend, method, rows, url = args.worker
        print(json.dumps(worker(backend, method, int(rows), url)), flush=True)
        return
    pg = args.pg or os.environ.get("CXOPS_TEST_PG_URL")
    results = []
    for backend in ["sqlite"] + (["postgresql"] if pg else []):
        for method in ("driver", "cxops"):
            with tempfile.TemporaryDirectory() as tmp:
                drop = None
                url = f"sqlite:///{tmp}/store.sqlite"
                if backend == "postgresql":
                    url, drop = _pg_schema(pg)
                try:
                    cmd = [sys.executable, __file__, "--worker", backend, method, str(args.rows), url]
                    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    if res.returncode:
                        sys.exit(f"{backend} {method} failed:\n{res.stderr}")
                    results.append(json.loads(res.stdout.strip().splitlines()[-1]))
                    print(results[-1], flush=True)
                finally:
                    if drop:
                        drop()
    n = args.rows
    print(f"\n{n:,} memberships + {n:,} events per transaction")
    print("| backend | method | write, first run (s) | write, next run (s) | load memberships (s) | "
          "ratio to driver | peak RSS (GB) | RSS of the input frames (GB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    base = {r["backend"]: r["first_s"] for r in results if r["method"] == "driver"}
    for r in results:
        ratio = r["first_s"] / base[r["backend"]]
        label = "cxops repositories" if r["method"] == "cxops" else "bare driver (baseline)"
        print(f"| {r['backend']} | {label} | {r['first_s']} | {r.get('next_s', '—')} | {r.get('load_s', '—')} | "
              f"{ratio:.2f} | {r['peak_rss_gb']} | {r['rss_data_gb']} |")  # fmt: skip


if __name__ == "__main__":
    main()
