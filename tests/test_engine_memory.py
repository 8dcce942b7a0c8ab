"""`Warehouse.engine_memory`: DuckDB's cap lowered for a block (cached blocks evicted), then restored."""

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
