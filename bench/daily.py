"""The daily job: one new day from the stored state against the full replay, in the same run.

Generates a synthetic marketplace (``cxops synth``, 200 orders per seller, 730 days ending 2026-10-31),
imports it, then runs, each as its own ``cxops`` subprocess measured from outside (wall, CPU, peak RSS
from ``wait4``), against a SQLite store beside the warehouse:

1. ``build``   — ``cxops run --as-of 2026-10-30``: no stored state yet, the initial build (a replay of
   the whole history, the baseline a job without a store would pay every day);
2. ``day``     — ``cxops run --as-of 2026-10-31``: one new day (actions, recovery check, alerts);
3. ``eval_day``— ``cxops run --as-of 2026-11-01``: one new day that is an evaluation day (monthly
   evaluation, benefits);
4. ``replay``  — ``cxops run --as-of 2026-11-01 --rebuild-from 2026-11-01``: the full replay to the same
   day, for the ratio.

::

    .venv/bin/python bench/daily.py --orders 1000000
    .venv/bin/python bench/daily.py --orders 1000000 --sellers 20000      # memory against sellers
    .venv/bin/python bench/daily.py --orders 10000000 --sellers 100000 --work /tmp/daily-10M

The build replays the sellers in chunks (``--chunk-sellers``, else ``CXOPS_BUILD_CHUNK_SELLERS``, else
5,000); DuckDB is capped by ``cxops run --memory-limit`` (``CXOPS_MEMORY_LIMIT``, default 3GB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from e2e import ORDERS_PER_SELLER, cxops, measure  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "daily.json"
END = "2026-10-31"


def run(
    orders: int,
    work: Path,
    policy: str,
    only: list[str] | None = None,
    sellers: int | None = None,
    chunk_sellers: int | None = None,
) -> dict:
    sellers = sellers or max(orders // ORDERS_PER_SELLER, 1)
    per_seller = orders / sellers
    data, wh = work / "data", work / "warehouse.duckdb"
    store = f"sqlite:///{work / 'store.sqlite'}"
    common = ["-w", str(wh), "--store", store, "--policy", policy]
    steps = {
        "synth": [*cxops(), "synth", "--sellers", str(sellers), "--days", "730", "--end", END,
                  "--orders-per-seller", f"{per_seller:g}", "--out", str(data), "--no-deadlines"],
        "import": [*cxops(), "import", "canonical", str(data), "-w", str(wh), "--quarantine", str(work / "q")],
        "store": [*cxops(), "store", "upgrade", "--store", store],
        "build": [*cxops(), "run", "--as-of", "2026-10-30", *common],
        "day": [*cxops(), "run", "--as-of", "2026-10-31", *common],
        "eval_day": [*cxops(), "run", "--as-of", "2026-11-01", *common],
        "replay": [*cxops(), "run", "--as-of", "2026-11-01", "--rebuild-from", "2026-11-01", *common],
    }  # fmt: skip
    out = {
        "orders": orders,
        "sellers": sellers,
        "policy": policy,
        "chunk_sellers": chunk_sellers,
        "steps": {},
    }
    env = dict(os.environ)
    if chunk_sellers:  # the build's chunk of sellers (default: the setting's)
        env["CXOPS_BUILD_CHUNK_SELLERS"] = str(chunk_sellers)
    if only:  # e.g. the data is kept from an earlier run (--work): only the store steps again
        steps = {k: v for k, v in steps.items() if k in only}
        if "store" in only:
            (work / "store.sqlite").unlink(missing_ok=True)
    for name, argv in steps.items():
        m = measure(argv, work / f"{name}.log", env)
        out["steps"][name] = m
        print(name, m, flush=True)
        if m["exit"] != 0:
            print((work / f"{name}.log").read_text()[-3000:])
            break
    s = out["steps"]
    if {"replay", "eval_day", "day"} <= set(s):
        out["replay_over_eval_day"] = round(s["replay"]["wall_s"] / max(s["eval_day"]["wall_s"], 1e-9), 1)
        out["replay_over_day"] = round(s["replay"]["wall_s"] / max(s["day"]["wall_s"], 1e-9), 1)
    out["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out["machine"] = f"{platform.machine()} {platform.system()}"
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument(
        "--sellers", type=int, help="Sellers (default: orders / 200); e.g. 100000 for 10 M orders."
    )
    p.add_argument("--policy", default="customer-excellence")
    p.add_argument("--work", type=Path, default=None, help="Folder to keep (default: a temporary one).")
    p.add_argument("--steps", nargs="*", help="Only these steps (the data kept in --work from a run before).")
    p.add_argument(
        "--chunk-sellers", type=int, help="Sellers per chunk of the build (CXOPS_BUILD_CHUNK_SELLERS)."
    )
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rec = run(a.orders, work, a.policy, a.steps, a.sellers, a.chunk_sellers)
    RESULTS.parent.mkdir(exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*old, rec], indent=1))
    print(json.dumps(rec, indent=1))


if __name__ == "__main__":
    main()
