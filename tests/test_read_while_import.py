"""Readers are never refused while an import writes, and no other writer's data is lost.

An import commits into a copy of the warehouse file and renames it over the file
(:mod:`cxops.ingest.staging`); every cxops read-write connection holds the writer lock
(:mod:`cxops.warehouse_lock`), so the copy never misses another process's write. These tests use real
processes (forked) and real DuckDB files: a reader during the commit, a reader that keeps its
connection open across the import, a writer that holds the file when the import wants to commit, and
the web's warehouse source, which reconnects when the file was swapped.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import duckdb
import pytest
from _synth import generate_tables, write_tables

from cxops.errors import ConflictError, WarehouseError
from cxops.ingest import import_canonical
from cxops.ingest.staging import COMMIT_ENV, PAUSE_ENV
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Version A and a changed version B (more sellers, more orders)."""
    base = tmp_path_factory.mktemp("rw")
    write_tables(generate_tables(seed=5, sellers=6, days=40), base / "a", "parquet")
    write_tables(generate_tables(seed=6, sellers=9, days=50), base / "b", "parquet")
    return base


def _import(directory: Path, warehouse: Path, qdir: Path) -> None:
    wh = connect(str(warehouse), lazy=True)  # as the import commands open it
    try:
        import_canonical(wh, directory, qdir)
    finally:
        wh.close()


def _orders(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        con.close()


def _child_import(directory: str, warehouse: str, qdir: str, pause: str) -> None:
    os.environ[PAUSE_ENV] = pause
    _import(Path(directory), Path(warehouse), Path(qdir))


def _child_writer(warehouse: str, hold: float, started: str) -> None:
    wh = connect(warehouse)  # read-write: holds DuckDB's lock and the writer lock
    wh.con.raw_sql("CREATE TABLE _other_writer AS SELECT 42 AS answer")
    Path(started).touch()
    time.sleep(hold)
    wh.close()


@pytest.fixture
def imported(versions, tmp_path):
    """A warehouse holding version A, with its order count, and the counts after A+B."""
    path = tmp_path / "w.duckdb"
    _import(versions / "a", path, tmp_path / "q0")
    both = tmp_path / "both.duckdb"
    _import(versions / "a", both, tmp_path / "q1")
    _import(versions / "b", both, tmp_path / "q2")
    old, new = _orders(path), _orders(both)
    assert old != new
    return path, old, new


def test_a_reader_opens_and_reads_during_the_commit(versions, imported, tmp_path):
    path, old, new = imported
    ctx = multiprocessing.get_context("fork")
    # the commit pauses 0.4 s after each table and before the rename: a long window to read in
    p = ctx.Process(target=_child_import, args=(str(versions / "b"), str(path), str(tmp_path / "q"), "0.4"))
    p.start()
    seen = set()
    deadline = time.monotonic() + 120
    while p.is_alive() and time.monotonic() < deadline:
        seen.add(_orders(path))  # never refused: raises if the file were locked for writing
        time.sleep(0.05)
    p.join()
    assert p.exitcode == 0
    assert seen == {old, new} or seen == {old}  # the old data until the rename, then the new
    assert _orders(path) == new
    assert not list(tmp_path.glob(".w.duckdb.cxops-import-*"))  # the staging folder and its copy are gone


def test_an_open_reader_does_not_block_the_import_and_keeps_its_snapshot(versions, imported, tmp_path):
    path, old, new = imported
    reader = duckdb.connect(str(path), read_only=True)
    try:
        t0 = time.monotonic()
        _child = multiprocessing.get_context("fork").Process(
            target=_child_import, args=(str(versions / "b"), str(path), str(tmp_path / "q"), "")
        )
        _child.start()
        _child.join()
        assert _child.exitcode == 0
        assert time.monotonic() - t0 < 25  # the in-place commit used to wait 30 s for readers, then fail
        assert reader.execute("SELECT count(*) FROM orders").fetchone()[0] == old  # its open file
    finally:
        reader.close()
    assert _orders(path) == new


def test_the_import_waits_for_another_writer_and_keeps_its_write(versions, imported, tmp_path, monkeypatch):
    path, _, new = imported
    started = tmp_path / "started"
    p = multiprocessing.get_context("fork").Process(target=_child_writer, args=(str(path), 2.0, str(started)))
    p.start()
    while not started.exists():
        time.sleep(0.05)
    _import(versions / "b", path, tmp_path / "q")  # waits for the writer's lock, then commits
    p.join()
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT answer FROM _other_writer").fetchone()[0] == 42  # not lost by the swap
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == new
    finally:
        con.close()


def test_the_import_gives_up_when_another_writer_stays(versions, imported, tmp_path, monkeypatch):
    import cxops.ingest.staging as staging

    path, old, _ = imported
    monkeypatch.setattr(staging, "LOCK_WAIT_SECONDS", 0.5)
    started = tmp_path / "started"
    p = multiprocessing.get_context("fork").Process(target=_child_writer, args=(str(path), 6.0, str(started)))
    p.start()
    try:
        while not started.exists():
            time.sleep(0.05)
        with pytest.raises(ConflictError, match="another process; nothing was imported"):
            _import(versions / "b", path, tmp_path / "q")
        # and a read-write open is refused with a clear message while the writer holds it
        with pytest.raises(WarehouseError, match="in use by another process"):
            connect(str(path))
    finally:
        p.join()
    assert _orders(path) == old


def test_in_place_commit_still_available(versions, imported, tmp_path, monkeypatch):
    path, _, new = imported
    inode = path.stat().st_ino
    monkeypatch.setenv(COMMIT_ENV, "in-place")
    _import(versions / "b", path, tmp_path / "q")
    assert _orders(path) == new and path.stat().st_ino == inode  # written in the file itself
    monkeypatch.setenv(COMMIT_ENV, "sideways")
    with pytest.raises(WarehouseError, match="use swap or in-place"):
        _import(versions / "a", path, tmp_path / "q")
    assert _orders(path) == new


def test_a_swap_replaces_the_file_and_a_first_import_appears_whole(versions, tmp_path):
    path = tmp_path / "new.duckdb"
    _import(versions / "a", path, tmp_path / "q")
    inode = path.stat().st_ino
    _import(versions / "b", path, tmp_path / "q")
    assert path.stat().st_ino != inode  # a new file was renamed over the old one
    assert not Path(f"{path}.wal").exists()
    assert not list(tmp_path.glob(".new.duckdb.cxops-import-*"))


def test_the_web_source_reconnects_after_an_import(versions, imported, tmp_path):
    from types import SimpleNamespace

    from cxops.policy.load import load_policy
    from cxops.service.runs_source import make_source

    path, old, new = imported
    source = make_source(
        SimpleNamespace(policy="customer-excellence", warehouse_url=str(path)),
        None,
        load_policy("customer-excellence"),
    )
    try:
        with source.open() as wh:
            assert wh.execute(wh.table("orders").count().as_table()).iloc[0, 0] == old
        # another process imports within the idle window, while the source still holds the old file
        p = multiprocessing.get_context("fork").Process(
            target=_child_import, args=(str(versions / "b"), str(path), str(tmp_path / "q"), "")
        )
        p.start()
        p.join()
        assert p.exitcode == 0
        with source.open() as wh:
            assert wh.execute(wh.table("orders").count().as_table()).iloc[0, 0] == new
    finally:
        source.close_idle()
