"""`Warehouse.engine_memory`: DuckDB's cap lowered for a block (cached blocks evicted), then restored; and
`Warehouse.create_from` / `append`: Arrow rows written without the connection keeping them."""

from __future__ import annotations

import pytest

from cxops.warehouse import connect, setting_bytes

pytestmark = pytest.mark.unit


def _limit(wh) -> int:
    (text,) = wh.con.raw_sql("SELECT current_setting('memory_limit')").fetchone()
    return setting_bytes(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2.7 GiB", int(2.7 * 2**30)), ("512.0 MiB", 512 * 2**20), ("0 bytes", 0), ("1.5 KiB", 1536)],
)
def test_setting_bytes_reads_duckdb_sizes(text, expected):
    assert setting_bytes(text) == expected


def test_lowered_to_the_fraction_and_restored_to_the_users_cap(tmp_path):
    wh = connect(str(tmp_path / "w.duckdb"), memory_limit="2GB")
    before = _limit(wh)
    assert abs(before - 2 * 10**9) < 0.1 * 2**30  # DuckDB prints (and reads back) one decimal of GiB
    with wh.engine_memory(0.25):
        inside = _limit(wh)
        assert abs(inside - before / 4) < 0.1 * 2**30
    assert _limit(wh) == before
    wh.close()


def test_restored_after_an_error_and_never_raised_above_a_small_cap(tmp_path, monkeypatch):
    monkeypatch.delenv("CXOPS_MEMORY_LIMIT", raising=False)
    wh = connect(str(tmp_path / "w.duckdb"), memory_limit="300MB")
    before = _limit(wh)
    with pytest.raises(RuntimeError), wh.engine_memory(0.25):
        # a quarter of 300 MB is under the 256 MiB floor: the floor, but never above the cap itself
        assert _limit(wh) == min(before, 256 * 2**20)
        raise RuntimeError("boom")
    assert _limit(wh) == before
    wh.close()


def test_arrow_rows_written_are_not_kept_by_the_connection(tmp_path):
    """Ibis's ``insert`` of an Arrow table registers it until the process exits (the replay's status
    rows of every evaluation were all held); ``create_from`` / ``append`` leave nothing registered."""
    import pyarrow as pa

    wh = connect(str(tmp_path / "w.duckdb"))
    rows = pa.table({"seller_id": ["A", "B"], "n": pa.array([1, 2], pa.int64())})
    pa_before = pa.total_allocated_bytes()
    big = pa.table({"seller_id": pa.array(["S"] * 200_000), "n": pa.array(range(200_000), pa.int64())})
    wh.create_from("t", rows, temp=True)
    for _ in range(3):
        wh.append("t", big.select(["n", "seller_id"]))  # columns matched by name
    (views,) = wh.con.raw_sql("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()
    assert views == 0
    del big
    assert pa.total_allocated_bytes() - pa_before < 1 << 20  # nothing of the 200 k rows is held
    got = wh.con.raw_sql("SELECT count(*), sum(n), min(seller_id) FROM t").fetchone()
    assert got == (2 + 3 * 200_000, 3 + 3 * sum(range(200_000)), "A")
    wh.create_from("u", rows)
    wh.create_from("u", rows.slice(0, 1))  # replaces
    assert wh.con.raw_sql("SELECT count(*) FROM u").fetchone() == (1,)
    wh.close()
