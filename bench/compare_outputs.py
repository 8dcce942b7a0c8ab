"""Capture every output of ``cxops evaluate`` / ``explain`` / ``metrics`` on a warehouse, and compare
two captures (before/after a change).

Not a test: a script kept beside the benchmarks so that a change of the evaluation job can show, file by
file, what it changed in what a user sees. Typical use, on the 300-seller demo::

    cxops demo --out /tmp/demo
    # the code before the change (a checkout of main) and after it (this tree)
    PYTHONPATH=/path/to/main/src python bench/compare_outputs.py capture -w /tmp/demo/demo.duckdb before
    python bench/compare_outputs.py capture -w /tmp/demo/demo.duckdb after
    python bench/compare_outputs.py compare before after

On the real Olist data (``--preset olist``: the ``examples/olist-br.toml`` policy, as-of dates in 2018, the
sellers to explain given with ``--sellers``)::

    cxops import olist /path/to/olist-brazilian-ecommerce -w /tmp/olist.duckdb
    python bench/compare_outputs.py capture --preset olist --sellers ID1 ID2 -w /tmp/olist.duckdb after

``capture`` runs each command as a subprocess (``python -m cxops.cli``, so ``PYTHONPATH`` selects the
code) and stores its standard output, standard error and exit code, plus every CSV file and the HTML
report of ``evaluate --out``. ``compare`` reports, per capture, whether it is byte-identical, and for
CSV files whether the rows are equal as values (same rows in the same order, cells compared as text),
and lists the first differing lines.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: name -> arguments after ``cxops`` (``{W}`` is the warehouse, ``{OUT}`` a fresh output folder)
COMMANDS: dict[str, list[str]] = {
    # first: computes a fresh run with the code under test, which the explain commands below then read
    "evaluate_recompute": [
        "evaluate",
        "--as-of",
        "2026-11-01",
        "--recompute",
        "--format",
        "csv",
        "-w",
        "{W}",
    ],
    "evaluate": ["evaluate", "--as-of", "2026-11-01", "--out", "{OUT}", "-w", "{W}"],
    "evaluate_jsonl": ["evaluate", "--as-of", "2026-11-01", "--format", "jsonl", "-w", "{W}"],
    "evaluate_seller": ["evaluate", "--as-of", "2026-11-01", "--seller", "S0080", "-w", "{W}"],
    "evaluate_zh": ["evaluate", "--as-of", "2026-11-01", "--lang", "zh", "-w", "{W}"],
    "evaluate_2026_06": ["evaluate", "--as-of", "2026-06-01", "--format", "csv", "-w", "{W}"],
    "explain_S0080": ["explain", "S0080", "--as-of", "2026-11-01", "-w", "{W}"],
    "explain_S0080_zh": ["explain", "S0080", "--as-of", "2026-11-01", "--lang", "zh", "-w", "{W}"],
    "explain_S0070": ["explain", "S0070", "--as-of", "2026-11-01", "-w", "{W}"],
    "explain_S0070_zh": ["explain", "S0070", "--as-of", "2026-11-01", "--lang", "zh", "-w", "{W}"],
    "explain_S0001": ["explain", "S0001", "--as-of", "2026-11-01", "-w", "{W}"],
    "explain_S0203": ["explain", "S0203", "--as-of", "2026-11-01", "-w", "{W}"],
    "explain_S0070_2027": ["explain", "S0070", "--as-of", "2027-06-01", "-w", "{W}"],
    "metrics_csv": ["metrics", "--as-of", "2026-10-31", "--format", "csv", "-w", "{W}"],
    "metrics_S0080": ["metrics", "--as-of", "2026-10-31", "--seller", "S0080", "-w", "{W}"],
    "metrics_2030": ["metrics", "--as-of", "2030-01-01", "-w", "{W}"],
}

#: The same commands on the real Olist data ({S1}, {S2}: sellers given with ``--sellers``).
OLIST_COMMANDS: dict[str, list[str]] = {
    "evaluate": ["evaluate", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "--out", "{OUT}", "-w", "{W}"],
    "evaluate_jsonl": ["evaluate", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "--format", "jsonl",
                       "-w", "{W}"],
    "evaluate_zh": ["evaluate", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "--lang", "zh", "-w", "{W}"],
    "evaluate_2018_03": ["evaluate", "--as-of", "2018-03-01", "--policy", "examples/olist-br.toml", "--format", "csv",
                         "-w", "{W}"],
    "explain_S1": ["explain", "{S1}", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "-w", "{W}"],
    "explain_S1_zh": ["explain", "{S1}", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "--lang", "zh",
                      "-w", "{W}"],
    "explain_S2": ["explain", "{S2}", "--as-of", "2018-09-01", "--policy", "examples/olist-br.toml", "-w", "{W}"],
    "metrics_csv": ["metrics", "--as-of", "2018-08-31", "--format", "csv", "-w", "{W}"],
    "metrics_S1": ["metrics", "--as-of", "2018-08-31", "--seller", "{S1}", "-w", "{W}"],
}  # fmt: skip
PRESETS = {"demo": COMMANDS, "olist": OLIST_COMMANDS}

_GENERATED = re.compile(r"(<dt>[^<]*</dt><dd>)\d{4}-\d\d-\d\d[ T][\d:]+[^<]*(</dd>)")


def capture(
    warehouse: str, dest: Path, only: list[str] | None, preset: str = "demo", sellers: list[str] | None = None
) -> None:
    """Run the preset's commands (or ``only``) against ``warehouse``; store outputs under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, COLUMNS="120", TERM="dumb")
    names = {f"{{S{i + 1}}}": s for i, s in enumerate(sellers or [])}
    for name, args in PRESETS[preset].items():
        if only and name not in only:
            continue
        out_dir = dest / f"{name}.out"
        shutil.rmtree(out_dir, ignore_errors=True)
        argv = [a.replace("{W}", warehouse).replace("{OUT}", str(out_dir)) for a in args]
        argv = [names.get(a, a) for a in argv]
        res = subprocess.run(
            [sys.executable, "-m", "cxops.cli", *argv], capture_output=True, text=True, env=env, timeout=3600
        )
        (dest / f"{name}.stdout").write_text(res.stdout)
        (dest / f"{name}.stderr").write_text(_no_paths(res.stderr, out_dir))
        (dest / f"{name}.rc").write_text(f"{res.returncode}\n")
        if out_dir.exists() and (out_dir / "report.html").exists():
            html = (out_dir / "report.html").read_text()
            (out_dir / "report.html").write_text(_GENERATED.sub(r"\1GENERATED\2", html))
        print(f"{name}: exit {res.returncode}", file=sys.stderr)


def _no_paths(text: str, out_dir: Path) -> str:
    return text.replace(str(out_dir), "{OUT}")


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def compare(a: Path, b: Path, context: int = 3) -> dict[str, str]:
    """Compare two captures file by file; returns ``{file: verdict}`` and prints the differences."""
    verdicts: dict[str, str] = {}
    names = sorted({p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()})
    names += sorted({p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()} - set(names), key=str)
    for rel in names:
        pa, pb = a / rel, b / rel
        if not pa.exists() or not pb.exists():
            verdicts[rel] = "only in " + (str(a) if pa.exists() else str(b))
            continue
        if pa.suffix == ".parquet":
            verdicts[rel] = _compare_parquet(pa, pb)
            continue
        ta, tb = pa.read_bytes(), pb.read_bytes()
        if ta == tb:
            verdicts[rel] = "identical"
            continue
        if pa.suffix == ".csv":
            ra, rb = _csv_rows(pa), _csv_rows(pb)
            verdicts[rel] = "rows equal as values" if ra == rb else f"differs ({len(ra)} vs {len(rb)} rows)"
        else:
            verdicts[rel] = "differs"
        la = ta.decode("utf-8", "replace").splitlines()
        lb = tb.decode("utf-8", "replace").splitlines()
        diff = list(difflib.unified_diff(la, lb, str(pa), str(pb), n=context, lineterm=""))
        print("\n".join(diff[:80]))
        if len(diff) > 80:
            print(f"… {len(diff) - 80} more diff lines")
    return verdicts


def _compare_parquet(pa: Path, pb: Path) -> str:
    import pyarrow.parquet as pq

    ta, tb = pq.read_table(pa), pq.read_table(pb)
    if ta.column_names != tb.column_names:
        return f"columns differ: {ta.column_names} vs {tb.column_names}"
    if ta.num_rows != tb.num_rows:
        return f"differs ({ta.num_rows} vs {tb.num_rows} rows)"
    for c in ta.column_names:
        xa, xb = ta[c].to_pylist(), tb[c].to_pylist()
        if xa != xb:
            i = next(i for i, (u, v) in enumerate(zip(xa, xb, strict=True)) if u != v)
            return f"column {c} differs (first at row {i}: {xa[i]!r} vs {xb[i]!r})"
    return "values equal"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("dest", type=Path)
    c.add_argument("-w", "--warehouse", required=True)
    c.add_argument("--only", nargs="*")
    c.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    c.add_argument("--sellers", nargs="*", help="seller ids for {S1}, {S2} … (preset olist)")
    d = sub.add_parser("compare")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    d.add_argument("--json", type=Path, help="also write the verdicts here")
    args = p.parse_args()
    if args.cmd == "capture":
        capture(args.warehouse, args.dest, args.only, args.preset, args.sellers)
    else:
        verdicts = compare(args.a, args.b)
        width = max(map(len, verdicts), default=0)
        for name, verdict in verdicts.items():
            print(f"{name:<{width}}  {verdict}")
        if args.json:
            args.json.write_text(json.dumps(verdicts, indent=2) + "\n")


if __name__ == "__main__":
    main()
