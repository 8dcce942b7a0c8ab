"""Test helper: a small generated marketplace in a DuckDB file, for the daily job's tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from _synth import generate_tables, write_tables
from sqlalchemy import text

from cxops.ingest.canonical_files import import_canonical
from cxops.store import open_store
from cxops.warehouse import connect

END = date(2026, 10, 31)


def marketplace(directory: Path, seed: int = 3, sellers: int = 12, days: int = 150):
    """A warehouse file with a generated marketplace (data up to :data:`END`); returns its path."""
    write_tables(generate_tables(seed, sellers, days, end=END), directory / "data")
    path = directory / "w.duckdb"
    wh = connect(str(path))
    import_canonical(wh, directory / "data", None)
    wh.close()
    return path


def store_snapshot(url: str) -> dict[str, pd.DataFrame]:
    """What a store holds, row order, ids, run ids and times left out: memberships, events, alerts, benefits,
    outbox keys and the succeeded runs (each sorted by every column, as text)."""
    s = open_store(url)
    out = {}
    queries = {
        "memberships": "SELECT * FROM memberships",
        "events": "SELECT * FROM events",
        "alerts": "SELECT * FROM alerts",
        "benefits": "SELECT * FROM benefits",
        "outbox": "SELECT idempotency_key FROM outbox",
        "runs": "SELECT as_of, status, rebuild_from FROM runs WHERE status = 'succeeded'",
    }
    drop = {"id", "updated_at", "last_run_id", "occurred_at", "run_id", "created_at", "closed_run_id"}
    with s.engine.connect() as conn:
        for name, q in queries.items():
            df = pd.read_sql(text(q), conn)
            df = df.drop(columns=[c for c in df.columns if c in drop])
            df = df.astype(str)
            out[name] = df.sort_values(list(df.columns), ignore_index=True)
    s.dispose()
    return out
