"""The job an operator runs, end to end: ``cxops synth`` → ``cxops import canonical`` → ``cxops evaluate --out``.

Each step runs as its own subprocess — the command line a user types, whatever is installed — and is
measured from outside: wall time and the peak resident memory of the process (``ru_maxrss`` from
``wait4``, DuckDB's threads included). The evaluation is the whole job: 24 monthly evaluations over
two years of data, every catalog metric, every output written (Parquet + CSV + report.html +
manifest.json), then the manifest is verified; it runs with ``--recompute`` (a stored run is not
reused). ``explain`` then explains one seller from the stored run. Results are appended to a JSON file and printed as a
Markdown table for ``bench/RESULTS.md``.

::

    .venv/bin/python bench/e2e.py --orders 1000000               # 5,000 sellers × 200 orders, 730 days
    .venv/bin/python bench/e2e.py --orders 10000000 --keep       # keep the data and warehouse
    .venv/bin/python bench/e2e.py --orders 10000000 --steps evaluate --work /data/e2e-10M   # re-run one step
    .venv/bin/python bench/e2e.py --summary                      # the table of every result so far

Sizes: ``--orders`` sets the number of sellers at 200 orders per seller on average (the synthetic
marketplace's calibration); the data ends on 2026-10-31 and the evaluation is as of 2026-11-01.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from cxops.synth.model import Spec  # the generator's seller ids (the first one is explained)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "e2e.json"
STEPS = ("synth", "import", "evaluate", "explain")
ORDERS_PER_SELLER = 200
END, AS_OF = "2026-10-31", "2026-11-01"


def cxops() -> list[str]:
    """The ``cxops`` command of this environment."""
    exe = Path(sys.executable).parent / "cxops"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cxops.cli"]


def measure(argv: list[str], log: Path, env: dict | None = None) -> dict:
    """Run ``argv``; wall and CPU seconds, peak RSS (GB) and exit code, output to ``log``."""
    start = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 2),
        # CPU seconds of the process (all threads): on a shared machine, what the step costs
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 3),
        "exit": code,
    }


def step_commands(work: Path, sellers: int, days: int, memory_limit: str | None) -> dict[str, list[str]]:
    data, wh, out = work / "data", work / "warehouse.duckdb", work / "out"
    mem = ["--memory-limit", memory_limit] if memory_limit else []
    spec = Spec(
        seed=0, sellers=sellers, days=days, end=date.fromisoformat(END), orders_per_seller=ORDERS_PER_SELLER
    )
    first = spec.seller_id(1)  # the generator's id width follows the number of sellers
    return {
        "synth": [
            *cxops(), "synth", "--sellers", str(sellers), "--days", str(days), "--end", END,
            "--orders-per-seller", str(ORDERS_PER_SELLER), "--out", str(data),
            "--no-deadlines",  # the job measured in bench/RESULTS.md: no deadline tables
        ],
        "import": [*cxops(), "import", "canonical", str(data), "-w", str(wh), "--quarantine", str(work / "quarantine")],
        # --recompute: the job itself, even when a stored run would answer
        "evaluate": [*cxops(), "evaluate", "--as-of", AS_OF, "--recompute", "--out", str(out), "-w", str(wh), *mem],
        # one seller's explanation, read from the stored run
        "explain": [*cxops(), "explain", first, "--as-of", AS_OF, "-w", str(wh)],
    }  # fmt: skip


def _rows(work: Path) -> dict:
    """Rows of the generated tables and of the outputs (from the manifest)."""
    import pyarrow.parquet as pq

    out: dict = {}
    orders = work / "data" / "orders.parquet"
    if orders.exists():
        out["orders"] = pq.ParquetFile(orders).metadata.num_rows
    manifest = work / "out" / "manifest.json"
    if manifest.exists():
        doc = json.loads(manifest.read_text())
        out["outputs"] = {f["path"]: f["rows"] for f in doc["files"]}
        out["output_bytes"] = sum(f["bytes"] for f in doc["files"])
        out["report_bytes"] = next((f["bytes"] for f in doc["files"] if f["path"] == "report.html"), None)
    return out


def run(args) -> dict:
    sellers = args.sellers or max(args.orders // ORDERS_PER_SELLER, 1)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="cxops-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    steps = [s for s in STEPS if s in args.steps.split(",")]
    commands = step_commands(work, sellers, args.days, args.memory_limit)
    env = dict(os.environ, COLUMNS="120")
    record: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "sellers": sellers,
        "days": args.days,
        "memory_limit": args.memory_limit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_ram_gb()} GB RAM",
        "note": args.note,
        "steps": {},
    }
    try:
        for step in steps:
            if step == "import":
                for p in (work / "warehouse.duckdb", work / "warehouse.duckdb.wal"):
                    p.unlink(missing_ok=True)
            print(f"{step}: {' '.join(commands[step])}", file=sys.stderr)
            result = measure(commands[step], work / f"{step}.log", env)
            record["steps"][step] = result
            print(f"  {result}", file=sys.stderr)
            if result["exit"] != 0:
                print((work / f"{step}.log").read_text()[-3000:], file=sys.stderr)
                break
        if "evaluate" in record["steps"] and record["steps"]["evaluate"]["exit"] == 0:
            sys.path.insert(0, str(HERE.parent / "src"))
            from cxops.report.files import verify_manifest

            problems = verify_manifest(work / "out")
            record["manifest_ok"] = not problems
            if problems:
                print("manifest problems: " + "; ".join(problems[:5]), file=sys.stderr)
        record.update(_rows(work))
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            record["work"] = str(work)
    return record


def _ram_gb() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3)
    except (ValueError, OSError):
        return 0


def load() -> list[dict]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else []


def summary(records: list[dict]) -> str:
    """Markdown table: one row per size and step (the latest result of each)."""
    latest: dict[tuple, dict] = {}
    for r in records:
        for step, m in r["steps"].items():
            latest[(r.get("orders") or r["sellers"] * ORDERS_PER_SELLER, r["sellers"], step)] = {**m, "r": r}
    lines = [
        "| orders | sellers | step | wall s | CPU s | peak RSS GB | wall s per M orders | outputs | when |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (orders, sellers, step), m in sorted(
        latest.items(), key=lambda kv: (kv[0][0], STEPS.index(kv[0][2]))
    ):
        per = m["wall_s"] / (orders / 1e6) if orders else float("nan")
        outputs = ""
        if step == "evaluate" and m["r"].get("output_bytes"):
            outputs = f"{m['r']['output_bytes'] / 1e9:.2f} GB, manifest {'ok' if m['r'].get('manifest_ok') else 'FAILED'}"
        status = "" if m["exit"] == 0 else f" (exit {m['exit']})"
        lines.append(
            f"| {orders:,} | {sellers:,} | {step}{status} | {m['wall_s']:.1f} | "
            f"{format(m['cpu_s'], '.1f') if 'cpu_s' in m else '—'} | "
            f"{m['peak_rss_gb']:.2f} | "
            f"{per:.1f} | {outputs} | {m['r']['when'][:10]} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=1_000_000, help="Orders (sellers = orders / 200).")
    p.add_argument("--sellers", type=int, help="Sellers (overrides --orders).")
    p.add_argument("--days", type=int, default=730)
    p.add_argument(
        "--steps", default=",".join(STEPS), help="Comma-separated subset of synth,import,evaluate."
    )
    p.add_argument("--work", help="Folder for data, warehouse and outputs (kept; default a temporary one).")
    p.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    p.add_argument("--memory-limit", help="Passed to cxops evaluate --memory-limit (e.g. 3GB).")
    p.add_argument("--note", default="", help="Stored with the result (machine load, branch …).")
    p.add_argument("--summary", action="store_true", help="Print the table of all results and exit.")
    args = p.parse_args()
    if args.summary:
        print(summary(load()))
        return
    record = run(args)
    records = load()
    records.append(record)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(records, indent=2) + "\n")
    print(summary([record]))


if __name__ == "__main__":
    main()
