"""The import step of the end-to-end benchmark: ``cxops import canonical`` on a synthetic marketplace.

Not a test. Usage::

    .venv/bin/python bench/import_step.py --orders 1000000 --work /tmp/cxbench     # synth (if needed) + import
    .venv/bin/python bench/import_step.py --data DIR --warehouse W.duckdb         # import an existing folder
    .venv/bin/python bench/import_step.py --orders 1000000 --reimport              # + the same files again

or from Python (the end-to-end bench)::

    from import_step import run
    run("/tmp/cxbench/o1000000", "/tmp/cxbench/o1000000.duckdb")
    # {"step": "import", "seconds": …, "peak_rss_bytes": …, "rows": …, "rows_read": …, …}

Each import runs in its own process (``--worker``), like a user's ``cxops import canonical``; its wall
time is measured from the process start (interpreter and imports included) and its peak memory is
the process's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``). ``rows`` counts the canonical rows
loaded into all tables, ``orders`` the orders loaded. The warehouse is removed first unless
``fresh=False`` (a re-import over the stored rows: every key replaced).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
HERE = Path(__file__).resolve().parent
SELLER_ORDERS = 200  # orders per seller in the benchmark data (as bench/run.py)


def _worker(data: str, warehouse: str, quarantine: str | None, memory: str | None) -> dict:
    from cxops.ingest import import_canonical
    from cxops.warehouse import connect

    wh = connect(warehouse)
    rep = import_canonical(wh, data, quarantine, memory=memory)
    wh.close()
    loaded = sum(e.rows_loaded for e in rep.entries if e.file != "(built-in)")
    return {
        "step": "import",
        "seconds": time.perf_counter() - T0,
        "import_seconds": rep.seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rows": loaded,
        "rows_read": sum(e.rows_read for e in rep.entries if e.file != "(built-in)"),
        "rows_quarantined": sum(e.rows_quarantined for e in rep.entries),
        "orders": sum(e.rows_loaded for e in rep.entries if e.table == "orders"),
        "memory_limit": memory,
    }


def run(
    data: str | Path,
    warehouse: str | Path,
    quarantine: str | Path | None = None,
    memory_limit: str | None = None,
    fresh: bool = True,
) -> dict:
    """Import ``data`` (a canonical folder) into ``warehouse`` in a new process; returns its figures.

    Returns
    -------
    dict
        ``step, seconds, import_seconds, peak_rss_bytes, rows, rows_read, rows_quarantined, orders,
        rows_per_second, warehouse_bytes``.
    """
    warehouse = Path(warehouse)
    if fresh:
        for p in (warehouse, Path(str(warehouse) + ".wal")):
            p.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(data), str(warehouse)]
    if quarantine:
        cmd += ["--quarantine", str(quarantine)]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"import failed ({out.returncode}): {out.stderr[-2000:]}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["rows_per_second"] = info["rows"] / info["seconds"] if info["seconds"] else None
    info["warehouse_bytes"] = warehouse.stat().st_size
    info["fresh"] = fresh
    return info


def synth(orders: int, work: Path, days: int = 730, seed: int = 7) -> Path:
    """The benchmark marketplace with about ``orders`` orders (generated once, kept in ``work``)."""
    d = work / f"o{orders}"
    if (d / "orders.parquet").exists():
        return d
    sellers = max(1, orders // SELLER_ORDERS)
    exe = shutil.which("cxops", path=str(Path(sys.executable).parent)) or "cxops"
    subprocess.run(
        [exe, "synth", "--sellers", str(sellers), "--days", str(days), "--seed", str(seed),
         "--orders-per-seller", str(SELLER_ORDERS), "--out", str(d), "--no-deadlines"],
        check=True, capture_output=True,
    )  # fmt: skip
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", nargs=2, metavar=("DATA", "WAREHOUSE"), help=argparse.SUPPRESS)
    ap.add_argument("--orders", type=int, help="generate (once) a marketplace of about this many orders")
    ap.add_argument("--work", type=Path, default=Path("/tmp/cxbench"), help="folder for data and warehouses")
    ap.add_argument("--data", type=Path, help="an existing canonical folder instead of --orders")
    ap.add_argument("--warehouse", type=Path, help="default: WORK/<data name>.duckdb")
    ap.add_argument("--quarantine", type=Path)
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit of the import (default 2GB)")
    ap.add_argument("--reimport", action="store_true", help="then import the same files again over it")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(_worker(*a.worker, a.quarantine and str(a.quarantine), a.memory_limit)))
        return
    a.work.mkdir(parents=True, exist_ok=True)
    data = a.data or synth(a.orders, a.work)
    wh = a.warehouse or a.work / f"{data.name}.duckdb"
    results = [run(data, wh, a.quarantine, a.memory_limit)]
    if a.reimport:
        results.append(run(data, wh, a.quarantine, a.memory_limit, fresh=False))
    for r in results:
        print(json.dumps(r))
    os.environ.get("CXOPS_BENCH_QUIET") or print(
        "\n".join(
            f"{'fresh' if r['fresh'] else 'again'}: {r['rows']:,} rows ({r['orders']:,} orders) in {r['seconds']:.1f} s, "
            f"peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB, {r['rows_per_second']:,.0f} rows/s"
            for r in results
        ),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
