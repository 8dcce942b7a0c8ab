"""Imports are all or nothing: a kill at any point leaves the warehouse as before or as after.

The crash test imports a generated marketplace (version A), then re-imports a changed version B over
it in a child process running ``cxops import canonical`` and kills it with SIGKILL at random points —
some while it stages, some in the middle of its commit transaction (``CXOPS_DEBUG_COMMIT_PAUSE``
makes the commit pause after each table, so a kill lands between two tables' writes). After every
kill the warehouse must hold exactly the rows of A or exactly the rows of A+B (compared table by
table: row count and an order-independent checksum of every row), and no staging table. The children
are forked from the test process (``cxops``'s own CLI entry point, no interpreter start-up), so
25 kills take well under a minute.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from pathlib import Path

import duckdb
import pytest
from _synth import generate_tables, write_tables

from cxops.errors import ConflictError
from cxops.ingest import import_canonical
from cxops.ingest.staging import PAUSE_ENV, Staging
from cxops.warehouse import INTERNAL_TABLES, connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # the crash test forks 25 imports

KILLS = 25
CANONICAL_AND_PROVENANCE = ("_cxops_columns", "_cxops_coverage")


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    """Per table: (rows, order-independent checksum of every row); internal log tables left out."""
    con = duckdb.connect(str(path))
    try:
        out = {}
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
            ).fetchall()
        ]
        for t in names:
            if t.startswith("_") and t not in CANONICAL_AND_PROVENANCE:
                continue
            cols = sorted(r[0] for r in con.execute(f'DESCRIBE "{t}"').fetchall())
            row = ", ".join(f'"{c}"' for c in cols)
            out[t] = tuple(
                con.execute(f'SELECT count(*), coalesce(sum(hash({row})), 0) FROM "{t}"').fetchone()
            )
        return out
    finally:
        con.close()


def table_names(path: Path) -> set[str]:
    con = duckdb.connect(str(path))
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Version A (Parquet) and a changed version B (CSV: other rows, overlapping keys, more sellers)."""
    base = tmp_path_factory.mktemp("crash")
    write_tables(generate_tables(seed=5, sellers=8, days=60), base / "a", "parquet")
    write_tables(generate_tables(seed=6, sellers=10, days=70), base / "b", "csv")
    return base


def _import(directory: Path, warehouse: Path, qdir: Path) -> None:
    wh = connect(str(warehouse))
    import_canonical(wh, directory, qdir)
    wh.close()


def _child(directory: str, warehouse: str, qdir: str, pause: str) -> None:
    if pause:
        os.environ[PAUSE_ENV] = pause
    from cxops.cli import app

    app(
        ["import", "canonical", directory, "--warehouse", warehouse, "--quarantine", qdir],
        standalone_mode=False,
    )


def test_killed_import_leaves_old_or_new_data(versions, tmp_path):
    a, b = versions / "a", versions / "b"
    before_wh = tmp_path / "before.duckdb"
    _import(a, before_wh, tmp_path / "q0")
    before = checksums(before_wh)
    after_wh = tmp_path / "after.duckdb"
    shutil.copy(before_wh, after_wh)
    _import(b, after_wh, tmp_path / "q1")
    after = checksums(after_wh)
    assert before != after and set(before) <= set(after)
    ctx = multiprocessing.get_context("fork")

    def start(i: int, pause: str):
        target = tmp_path / f"k{i}.duckdb"
        shutil.copy(before_wh, target)
        p = ctx.Process(target=_child, args=(str(b), str(target), str(tmp_path / f"qk{i}"), pause))
        p.start()
        return p, target

    # the child's own duration (fork, CLI, staging, swap) in each mode, measured here and now, so the
    # kill times span the whole import however loaded the machine is
    duration = {}
    for pause in ("", "0.15"):
        t0 = time.perf_counter()
        p, target = start(KILLS + len(duration), pause)
        p.join()
        duration[pause] = time.perf_counter() - t0
        assert p.exitcode == 0 and checksums(target) == after
    rng = random.Random(8)
    seen = {"before": 0, "after": 0}
    for i in range(KILLS):
        pause = "0.15" if i % 3 == 0 else ""  # every third kill lands inside the commit transaction
        p, target = start(i, pause)
        # stratified: kill i falls in the i-th of KILLS equal slices of [0, 1.25 × the import's duration]
        time.sleep(duration[pause] * 1.25 * (i + rng.random()) / KILLS)
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        got = checksums(target)
        state = "before" if got == before else "after" if got == after else None
        assert state is not None, (i, {t: (got.get(t), before.get(t), after.get(t)) for t in after})
        seen[state] += 1
        names = table_names(target)
        assert not [n for n in names if n.startswith(("_incoming", "ibis_", "_staging", "stage"))], names
        assert {n for n in names if n.startswith("_")} <= set(INTERNAL_TABLES)
        target.unlink()
        Path(str(target) + ".wal").unlink(missing_ok=True)
    print(f"\nkills: {seen}, child import {duration['']:.1f} s, paused {duration['0.15']:.1f} s")
    assert seen["before"] and seen["after"], seen  # the kills fell on both sides of the commit
    # a killed import's staging folder is removed by the next import of that warehouse
    left = list(tmp_path.glob(".k*.duckdb.cxops-import-*"))
    assert left
    target = tmp_path / "k0.duckdb"
    shutil.copy(before_wh, target)
    for d in left:
        d.rename(tmp_path / d.name.replace(d.name.split(".duckdb")[0], ".k0"))
    _import(b, target, tmp_path / "q2")
    assert checksums(target) == after
    assert not list(tmp_path.glob(".k0.duckdb.cxops-import-*"))


def test_interrupted_commit_rolls_back(versions, tmp_path, monkeypatch):
    """An exception inside the commit transaction (a Ctrl-C) leaves the warehouse as it was."""
    wh_path = tmp_path / "w.duckdb"
    _import(versions / "a", wh_path, tmp_path / "q")
    before = checksums(wh_path)
    import cxops.ingest.staging as staging

    calls = {"n": 0}
    real = staging.duckdb_replace

    def interrupt(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # after two tables were replaced
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(staging, "duckdb_replace", interrupt)
    wh = connect(str(wh_path))
    with pytest.raises(KeyboardInterrupt):
        import_canonical(wh, versions / "b", tmp_path / "q")
    wh.close()
    assert checksums(wh_path) == before
    assert not list(tmp_path.glob(".w.duckdb.cxops-import-*"))  # the staging folder is gone


def test_a_commit_after_another_import_is_refused(versions, tmp_path):
    """Staging reads a snapshot; if another import committed meanwhile, nothing is written."""
    wh_path = tmp_path / "w.duckdb"
    _import(versions / "a", wh_path, tmp_path / "q")
    wh = connect(str(wh_path))
    stg = Staging(wh).__enter__()
    generation = stg._generation
    stg.close()
    _import(versions / "b", wh_path, tmp_path / "q")  # another import commits
    before = checksums(wh_path)
    wh2 = connect(str(wh_path))
    import cxops.ingest.staging as staging

    real_enter = staging.Staging.__enter__

    def stale(self):
        out = real_enter(self)
        self._generation = generation  # as if staging had begun before the other import
        return out

    staging.Staging.__enter__ = stale
    try:
        with pytest.raises(ConflictError, match="another import was committed"):
            import_canonical(wh2, versions / "a", tmp_path / "q")
    finally:
        staging.Staging.__enter__ = real_enter
    wh2.close()
    assert checksums(wh_path) == before


def test_readers_may_open_the_warehouse_while_an_import_stages(versions, tmp_path):
    """Staging holds the file read-only: another process (here a read-only connection) can read it."""
    wh_path = tmp_path / "w.duckdb"
    _import(versions / "a", wh_path, tmp_path / "q")
    wh = connect(str(wh_path))
    with Staging(wh) as stg:
        assert stg.stored("orders") is not None
        reader = duckdb.connect(str(wh_path), read_only=True)  # would fail under a write lock
        assert reader.execute("SELECT count(*) FROM orders").fetchone()[0] > 0
        reader.close()
    assert wh.has_table("orders")  # the warehouse object reopens after the import
    wh.close()


def test_upsert_writes_only_the_incoming_rows(tmp_path):
    """The one-table upsert replaces by key without rewriting the table: untouched rows keep their
    storage row ids, replaced rows are new."""
    import pandas as pd

    from cxops.canonical.schema import TABLES

    wh = connect(str(tmp_path / "w.duckdb"))
    rows = pd.DataFrame({"seller_id": [f"S{i}" for i in range(1000)], "marketplace_id": "US"})
    assert (wh.upsert(TABLES["sellers"], rows).inserted) == 1000
    ids = wh.con.con.execute("SELECT seller_id, rowid FROM sellers").fetchall()
    more = pd.DataFrame({"seller_id": ["S5", "S6", "X1"], "marketplace_id": "US", "name": ["a", "b", "c"]})
    stats = wh.upsert(TABLES["sellers"], more)
    assert (stats.inserted, stats.replaced) == (1, 2)
    after = dict(wh.con.con.execute("SELECT seller_id, rowid FROM sellers").fetchall())
    kept = {s: r for s, r in ids if s not in ("S5", "S6")}
    assert all(after[s] == r for s, r in kept.items())  # the other 998 rows were not rewritten
    got = wh.execute(wh.table("sellers"))
    assert len(got) == 1001 and set(got.loc[got["name"].notna(), "seller_id"]) == {"S5", "S6", "X1"}
    wh.close()


def test_ctrl_c_during_demo_import_leaves_no_half_warehouse(tmp_path, monkeypatch):
    """Ctrl-C while ``cxops demo`` imports: "interrupted", and the warehouse holds no canonical table
    (it used to keep ``orders`` without ``returns`` or ``violations``)."""
    from typer.testing import CliRunner

    import cxops.ingest.staging as staging
    from cxops.cli import app

    calls = {"n": 0}
    real = staging.duckdb_replace

    def interrupt(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(staging, "duckdb_replace", interrupt)
    res = CliRunner().invoke(app, ["demo", "--sellers", "4", "--days", "40", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 130 and "interrupted" in res.output
    assert calls["n"] == 4
    names = table_names(tmp_path / "demo" / "demo.duckdb")
    assert not names - set(INTERNAL_TABLES), names


@pytest.mark.parametrize(
    ("mode", "size", "on_disk"),
    [
        (None, None, False),  # sizes unknown (an Olist or Amazon import): in memory
        (None, 999, False),  # up to half of the 2,000-byte limit: in memory
        (None, 1001, True),
        ("auto", 1001, True),
        ("memory", 10**12, False),
        ("file", 1, True),
        ("FILE", None, True),
    ],
)
def test_where_an_import_stages(mode, size, on_disk, monkeypatch):
    from cxops.ingest.staging import STAGE_ENV, stage_on_disk

    if mode is None:
        monkeypatch.delenv(STAGE_ENV, raising=False)
    else:
        monkeypatch.setenv(STAGE_ENV, mode)
    assert stage_on_disk(size, 2000) is on_disk


def test_a_bad_staging_mode_is_a_clear_error(monkeypatch):
    from cxops.errors import InputError
    from cxops.ingest.staging import STAGE_ENV, stage_on_disk

    monkeypatch.setenv(STAGE_ENV, "ssd")
    with pytest.raises(InputError, match="CXOPS_IMPORT_STAGE must be memory, file or auto"):
        stage_on_disk(10, 2000)


def test_staging_on_disk_imports_the_same_warehouse(versions, tmp_path, monkeypatch):
    """A then B (merged with the stored rows) staged in memory and staged in a database file: the
    same tables, row for row; the staging folder with its file is gone afterwards."""
    from cxops.ingest.staging import STAGE_ENV

    sums = {}
    for mode in ("memory", "file"):
        monkeypatch.setenv(STAGE_ENV, mode)
        wh_path = tmp_path / mode / "w.duckdb"
        wh_path.parent.mkdir()
        for v in ("a", "b"):
            _import(versions / v, wh_path, tmp_path / mode / f"q{v}")
        sums[mode] = checksums(wh_path)
        assert [p.name for p in wh_path.parent.iterdir() if "cxops-import" in p.name] == []
    assert sums["file"] == sums["memory"] and sums["file"]["orders"][0] > 0
