"""What a user can get wrong on the evaluation side gets one clear message and no traceback: damaged
warehouse files, out-of-range days, an output that cannot be written, a binary policy file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxops.cli import app

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def said(res) -> str:
    return " ".join(res.output.split())


def clear(res, *words: str, code: int = 1) -> None:
    """A clear error: the exit code, an ``error:`` line with ``words``, no traceback, no 'internal error'."""
    text = said(res)
    assert res.exit_code == code, res.output
    assert "error:" in text and "Traceback" not in res.output and "internal error" not in text, res.output
    for w in words:
        assert w in text, res.output


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    d = tmp_path_factory.mktemp("err")
    url = str(d / "w.duckdb")
    res = run("import", "canonical", str(DATA / "canonical_mini"), "-w", url, "--quarantine", str(d / "q"))
    assert res.exit_code == 0, res.output
    return url


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated"])
def test_a_file_that_is_not_a_warehouse(wh, tmp_path, kind):
    bad = tmp_path / f"{kind}.duckdb"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "garbage":
        bad.write_bytes(b"orders,sellers\n" * 100)
    else:
        data = Path(wh).read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    for cmd in (
        ["metrics", "--as-of", "2024-03-02"],
        ["evaluate", "--as-of", "2024-03-02"],
        ["explain", "A1", "--as-of", "2024-03-02"],
    ):
        clear(run(*cmd, "-w", str(bad)), str(bad), "truncated" if kind == "truncated" else "cannot be opened")
    assert bad.exists() and (kind != "empty" or bad.stat().st_size == 0)  # left as it was


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1900-02-28"])
def test_as_of_out_of_range(wh, day):
    for cmd in (["metrics", "--as-of", day], ["evaluate", "--as-of", day], ["explain", "A1", "--as-of", day]):
        clear(run(*cmd, "--allow-stale", "-w", wh), f"--as-of {day} is out of range")
    clear(
        run("metrics", "--from", "2024-03-01", "--to", day, "--allow-stale", "-w", wh), "--to", "out of range"
    )


def test_out_pointing_at_a_file_or_a_folder(wh, tmp_path):
    file = tmp_path / "report.txt"
    file.write_text("keep me")
    clear(run("evaluate", "--as-of", "2024-03-02", "--out", str(file), "-w", wh), "is a file, not a folder")
    assert file.read_text() == "keep me"
    clear(
        run("metrics", "--as-of", "2024-03-02", "--out", str(tmp_path), "-f", "csv", "-w", wh), "is a folder"
    )


def test_binary_policy_file(wh, tmp_path):
    policy = tmp_path / "some.bin"
    policy.write_bytes(bytes(range(256)) * 4)
    clear(
        run("evaluate", "--as-of", "2024-03-02", "--policy", str(policy), "-w", wh), "some.bin", "not a TOML"
    )
    res = run("policy", "validate", str(policy))
    assert res.exit_code == 1 and "not a TOML" in said(res) and "Traceback" not in res.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_dev_full_as_the_output(wh):
    clear(
        run("metrics", "--as-of", "2024-03-02", "-f", "csv", "--out", "/dev/full", "-w", wh), "No space left"
    )
    # standard output on a full device: the message, exit 1, nothing else (a subprocess: real descriptors)
    cmd = [sys.executable, "-m", "cxops.cli", "metrics", "--as-of", "2024-03-02", "-f", "csv", "-w", wh]
    with open("/dev/full", "w") as full:
        res = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    assert "cannot write the output: No space left on device" in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr


def test_the_engine_out_of_disk_space_is_a_clear_error(wh, tmp_path, monkeypatch):
    """DuckDB's spill (or a table, a COPY) that does not fit on the disk: the machine's state, said as
    such with what to do — not "a bug in cxops" — and no output folder is left."""
    import duckdb

    from cxops.service import evaluation

    def full(*args, **kwargs):
        raise duckdb.IOException(
            'IO Error: Could not write file "/w.duckdb.tmp/duckdb_temp_storage_S224K-0.tmp": '
            "No space left on device"
        )

    monkeypatch.setattr(evaluation, "run_evaluation", full)
    res = run("evaluate", "--as-of", "2024-03-02", "--out", str(tmp_path / "out"), "-w", wh)
    clear(res, "the disk is full", "duckdb_temp_storage_S224K-0.tmp", "hint:", "--memory-limit")
    assert list(tmp_path.iterdir()) == []


def test_a_warehouse_in_use_by_a_writer(wh, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(wh, copy)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(copy)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        clear(run("metrics", "--as-of", "2024-03-02", "-w", str(copy)), "in use by another process")
    finally:
        holder.kill()
        holder.wait()
    assert os.path.exists(copy)
