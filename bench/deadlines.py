"""Benchmark: `cxops import canonical` of orders without ship-by, with and without derived deadlines.

The job a user runs end to end: import a folder of orders that carry no ship-by date (an Amazon order
flat file, a shop export). The baseline imports the folder without ``handling_times`` (nothing is
derived); the measured run imports the same folder with per-SKU handling times (two settings per SKU
over time, a seller default), seller holiday-mode days for 10 % of the sellers and a Bavarian
subdivision for DE — so every MFN order gets a derived ship-by in the same commit. Each import is its
own ``cxops`` process into a new warehouse file, measured from outside (wall time, CPU seconds, peak
RSS from ``wait4``). Then a calendar correction (one closed day per marketplace) is imported on top
(the recomputation of the deadlines still ahead, and their log).

    .venv/bin/python bench/deadlines.py --orders 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CXOPS = str(Path(sys.executable).with_name("cxops"))


def generate(d: Path, n_orders: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    n_sellers = max(10, n_orders // 200)
    mps = np.array(["US", "DE", "JP"])
    seller_mp = mps[rng.integers(0, 3, n_sellers)]
    sellers = pd.DataFrame({"seller_id": [f"S{i}" for i in range(n_sellers)], "marketplace_id": seller_mp})
    s = rng.integers(0, n_sellers, n_orders)
    # purchases over the 120 days up to 30 days ahead of now: most deadlines past, some ahead
    now = pd.Timestamp.now("UTC").tz_localize(None).floor("s")
    offs = rng.integers(-90 * 86400, 30 * 86400, n_orders)
    purchased = now + pd.to_timedelta(offs, unit="s")
    orders = pd.DataFrame(
        {
            "seller_id": sellers["seller_id"].to_numpy()[s],
            "order_id": [f"O{i}" for i in range(n_orders)],
            "marketplace_id": seller_mp[s],
            "purchased_at": purchased,
            "fulfillment_channel": np.where(rng.random(n_orders) < 0.8, "MFN", "AFN"),
        }
    )
    sku = rng.integers(0, 20, n_orders)
    items = pd.DataFrame(
        {
            "seller_id": orders["seller_id"],
            "order_id": orders["order_id"],
            "line_id": "1",
            "sku": [f"K{k}" for k in sku],
        }
    )
    rows = []
    t0 = (now - pd.Timedelta(days=400)).isoformat()
    t1 = (now - pd.Timedelta(days=45)).isoformat()
    sid, smp = sellers["seller_id"].to_numpy(), sellers["marketplace_id"].to_numpy()
    for k in range(20):
        for since, days in ((t0, 1 + k % 3), (t1, 2 + k % 2)):
            rows.append(pd.DataFrame({"seller_id": sid, "marketplace_id": smp, "sku": f"K{k}",
                                      "effective_from": since, "handling_days": days}))  # fmt: skip
    rows.append(pd.DataFrame({"seller_id": sid, "marketplace_id": smp, "sku": "*", "effective_from": t0,
                              "handling_days": 2}))  # fmt: skip
    handling = pd.concat(rows, ignore_index=True)
    some = rng.random(n_sellers) < 0.1
    days = [(now + pd.Timedelta(days=k)).date().isoformat() for k in range(-20, 10, 6)]
    closed = pd.DataFrame(
        [
            {"seller_id": a, "marketplace_id": b, "day": day, "closed": True, "reason": "holiday mode"}
            for a, b in zip(sid[some], smp[some], strict=True)
            for day in days
        ]
    )
    d.mkdir(parents=True, exist_ok=True)
    sellers.to_parquet(d / "sellers.parquet")
    orders.to_parquet(d / "orders.parquet")
    items.to_parquet(d / "order_items.parquet")
    (d / "extra").mkdir(exist_ok=True)
    handling.to_parquet(d / "extra" / "handling_times.parquet")
    closed.to_parquet(d / "extra" / "seller_calendar_days.parquet")
    pd.DataFrame([{"marketplace_id": "DE", "holiday_subdivision": "BY"}]).to_parquet(
        d / "extra" / "deadline_rules.parquet"
    )


def run(args: list[str]) -> dict:
    start = time.perf_counter()
    p = subprocess.Popen([CXOPS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode() if p.stderr else ""
    if status:
        raise SystemExit(f"cxops {' '.join(args)} failed: {err[-2000:]}")
    return {"seconds": round(wall, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mb": round(usage.ru_maxrss / 1024)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200_000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cxops-bench-deadlines-"))
    try:
        data = tmp / "data"
        generate(data, a.orders)
        base = tmp / "base"
        base.mkdir()
        for f in ("sellers", "orders", "order_items"):
            shutil.copy(data / f"{f}.parquet", base / f"{f}.parquet")
        full = tmp / "full"
        shutil.copytree(base, full)
        for f in (data / "extra").iterdir():
            shutil.copy(f, full / f.name)
        out = {"orders": a.orders}
        out["baseline_import"] = run(["--warehouse", str(tmp / "a.duckdb"), "import", "canonical", str(base)])
        out["derived_import"] = run(["--warehouse", str(tmp / "b.duckdb"), "import", "canonical", str(full)])
        cal = tmp / "cal"
        cal.mkdir()
        day = (pd.Timestamp.now("UTC") + pd.Timedelta(days=3)).date().isoformat()
        pd.DataFrame(
            [
                {"marketplace_id": m, "calendar": "public", "day": day, "closed": True}
                for m in ("US", "DE", "JP")
            ]
        ).to_csv(cal / "calendar_days.csv", index=False)
        out["calendar_correction"] = run(
            ["--warehouse", str(tmp / "b.duckdb"), "import", "canonical", str(cal)]
        )
        import duckdb

        con = duckdb.connect(str(tmp / "b.duckdb"), read_only=True)
        out["derived_deadlines"] = con.execute("SELECT count(*) FROM ship_by_derived").fetchone()[0]
        out["logged_changes"] = con.execute("SELECT count(*) FROM deadline_changes").fetchone()[0]
        con.close()
        out["ratio_derived_vs_baseline"] = round(
            out["derived_import"]["seconds"] / out["baseline_import"]["seconds"], 2
        )
        print(json.dumps(out, indent=2))
        res = Path(__file__).parent / "results" / "deadlines.json"
        prev = json.loads(res.read_text()) if res.exists() else []
        res.write_text(json.dumps([*prev, out], indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
