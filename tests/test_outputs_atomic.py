"""Outputs are written all-or-nothing, with a manifest: a folder is replaced only when the new one is
complete, a file through a temporary name; a process killed at any moment leaves the old complete
outputs or the new complete ones."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cxops.errors import OutputError
from cxops.report.files import AtomicFolder, verify_manifest, write_frame_atomic, write_manifest

CXOPS = [sys.executable, "-m", "cxops.cli"]


@pytest.mark.integration
def test_manifest_lists_every_file_with_rows_and_checksum(tmp_path):
    (tmp_path / "a.csv").write_text('x,y\n1,"two\nlines"\n3,4\n')
    pd.DataFrame({"x": range(5)}).to_parquet(tmp_path / "b.parquet")
    (tmp_path / "c.jsonl").write_text('{"x": 1}\n{"x": 2}\n')
    (tmp_path / "r.html").write_text("<p>hi</p>")
    doc = json.loads(write_manifest(tmp_path, {"run_id": "r1"}).read_text())
    rows = {f["path"]: f["rows"] for f in doc["files"]}
    assert rows == {"a.csv": 2, "b.parquet": 5, "c.jsonl": 2, "r.html": None} and doc["run_id"] == "r1"
    import hashlib

    sha = hashlib.sha256((tmp_path / "r.html").read_bytes()).hexdigest()
    assert next(f["sha256"] for f in doc["files"] if f["path"] == "r.html") == sha
    assert verify_manifest(tmp_path) == []
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "extra.csv").write_text("x\n")
    problems = verify_manifest(tmp_path)
    assert any("a.csv: changed" in p for p in problems) and any("extra.csv: not in" in p for p in problems)


@pytest.mark.integration
def test_a_folder_is_replaced_only_when_the_new_one_is_complete(tmp_path):
    target = tmp_path / "out"
    with AtomicFolder(target) as f:
        (f.path / "one.csv").write_text("a\n1\n")
        f.commit()
    assert verify_manifest(target) == [] and (target / "one.csv").exists()
    with pytest.raises(RuntimeError), AtomicFolder(target) as f:
        (f.path / "two.csv").write_text("a\n2\n")
        raise RuntimeError("killed midway")
    # the old folder, untouched, and nothing left beside it
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "one.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with AtomicFolder(target) as f:
        (f.path / "two.csv").write_text("a\n2\n")
        f.commit()
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "two.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.integration
def test_bad_output_targets_are_clear_errors(tmp_path):
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        AtomicFolder(file)
    df = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(OutputError, match="is a folder"):
        write_frame_atomic(df, tmp_path, "csv")
    if Path("/dev/full").exists():
        with pytest.raises(OutputError, match="No space left"):
            write_frame_atomic(df, "/dev/full", "csv")
        assert Path("/dev/full").is_char_device()  # written in place, never renamed over
    out = write_frame_atomic(df, tmp_path / "m.csv")
    assert out.read_text() == "x\n1\n2\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "file.txt",
        "m.csv",
    ]


# -- the crash test --------------------------------------------------------------------------------


def _cxops(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CXOPS, *args], capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory):
    d = tmp_path_factory.mktemp("crash")
    res = _cxops(
        "synth", "--sellers", "40", "--days", "150", "--orders-per-seller", "300", "--out", str(d / "data")
    )
    assert res.returncode == 0, res.stderr
    url = str(d / "w.duckdb")
    res = _cxops("import", "canonical", str(d / "data"), "-w", url, "--quarantine", str(d / "q"))
    assert res.returncode == 0, res.stderr
    return url


def _content(folder: Path) -> dict[str, str]:
    doc = json.loads((folder / "manifest.json").read_text())
    return {f["path"]: f["sha256"] for f in doc["files"]}


@pytest.mark.e2e
@pytest.mark.slow
def test_evaluate_killed_at_random_points_leaves_the_old_or_the_new_folder(synth_wh, tmp_path):
    out = tmp_path / "out"
    first = _cxops("evaluate", "--as-of", "2026-10-01", "--out", str(out), "-w", synth_wh)
    assert first.returncode == 0, first.stderr
    old = _content(out)
    t0 = time.perf_counter()
    second = _cxops("evaluate", "--as-of", "2026-11-01", "--recompute", "--out", str(out), "-w", synth_wh)
    assert second.returncode == 0, second.stderr
    duration = time.perf_counter() - t0
    new = _content(out)
    assert old != new
    rng = random.Random(8)
    outcomes = []
    for i in range(6):
        as_of = "2026-10-01" if i % 2 == 0 else "2026-11-01"  # alternate, so both directions are killed
        before = _content(out)
        args = ["evaluate", "--as-of", as_of, "--out", str(out), "-w", synth_wh]
        if i % 3 == 0:
            args.append("--recompute")  # killed while computing too, not only while writing
        proc = subprocess.Popen([*CXOPS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert verify_manifest(out) == [], f"try {i}: the folder is not a complete output"
        after = _content(out)
        doc = json.loads((out / "manifest.json").read_text())
        # the old folder untouched, or the complete output of the killed command
        assert after == before or (doc["as_of"] == as_of and after.keys() == new.keys()), f"try {i}"
        outcomes.append(after == before)
    # the warehouse is still usable after the kills, and a clean run gives the new outputs again
    again = _cxops("evaluate", "--as-of", "2026-11-01", "--out", str(out), "-w", synth_wh)
    assert again.returncode == 0, again.stderr
    assert _content(out).keys() == new.keys()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert leftovers == [], leftovers
