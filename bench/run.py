"""Benchmark: cxops vs hand-written DuckDB SQL vs pandas on the same generated Parquet data.

Not a test (kept out of pytest). Usage::

    .venv/bin/python bench/run.py --orders 1000000 --days 730 --work /tmp/cxbench
    .venv/bin/python bench/run.py --orders 10000000 --methods cxops_asof,sql_asof,pandas_asof

Each method runs in its own subprocess (``run.py --worker METHOD``); the worker reports its wall time
(from its start, imports included: Parquet → metrics in memory) and its peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). With ``--check`` the results of the methods are
compared (numerators, denominators, values) and the check is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

T0 = time.perf_counter()
HERE = Path(__file__).resolve().parent
END = date(2026, 10, 31)
KEYS = ["seller_id", "marketplace_id", "channel", "metric", "window_days"]


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def worker(
    method: str,
    data: str,
    out: str | None,
    threads: int,
    series_metrics: str | None,
    memory: str | None = None,
) -> dict:
    info: dict = {"method": method, "memory_limit": memory}
    if method == "cxops_asof":
        from cxops.metrics.compute import compute_metrics
        from cxops.synth import open_parquet

        wh = open_parquet(data, threads=threads, memory_limit=memory)
        df = compute_metrics(wh, END)
        info["rows"] = len(df)
    elif method == "cxops_series":
        from cxops.metrics.compute import load_inputs, series_expr
        from cxops.synth import open_parquet

        wh = open_parquet(data, threads=threads, memory_limit=memory)
        man = json.loads((Path(data) / "_cxops_columns.json").read_text())
        start = date.fromisoformat(man["start"])
        inp = load_inputs(wh)
        mets = series_metrics.split(",") if series_metrics else None
        expr = series_expr(inp, start, END, metrics=mets)
        path = Path(out or "/tmp/series.parquet").with_suffix(".series.parquet")
        wh.con.to_parquet(expr, str(path))
        import duckdb

        info["rows"] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
        info["days"] = (END - start).days + 1
        info["metrics"] = series_metrics or "all"
        path.unlink()
        df = None
    elif method == "sql_asof":
        import duckdb

        sys.path.insert(0, str(HERE))
        from handsql import sql

        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        if memory:
            con.execute(f"SET memory_limit='{memory}'")
        con.execute("SET TimeZone='UTC'")
        con.execute("SET enable_progress_bar=false")
        # materialise first: fetching this query's rows straight from the result hangs DuckDB 1.5.6
        # (threads idle in a futex wait; aggregating the same CTEs, or CREATE TABLE AS, finishes in ~1 s
        # at 1 M orders)
        con.execute("CREATE TEMP TABLE result AS " + sql(data, END))
        df = con.execute("SELECT * FROM result").df()
        info["rows"] = len(df)
    elif method == "pandas_asof":
        sys.path.insert(0, str(HERE))
        from pandas_impl import compute

        df = compute(data, END)
        info["rows"] = len(df)
    else:
        raise SystemExit(f"unknown method {method}")
    info["seconds"] = time.perf_counter() - T0
    info["peak_rss_gb"] = _rss_gb()
    if out and df is not None:
        keep = df[KEYS + ["numerator", "denominator", "value"]].copy()
        keep["window_days"] = keep["window_days"].astype("float64")
        keep.to_parquet(out)
    return info


def _run(method, data, out, threads, series_metrics=None, memory=None) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, "--data", str(data), "--threads", str(threads)]
    if memory:
        cmd += ["--memory-limit", memory]
    if out:
        cmd += ["--out", str(out)]
    if series_metrics:
        cmd += ["--series-metrics", series_metrics]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"method": method, "error": (p.stderr or p.stdout)[-2000:], "seconds": time.perf_counter() - t}
    return json.loads(p.stdout.strip().splitlines()[-1])


def check(paths: dict[str, Path]) -> list[str]:
    import numpy as np
    import pandas as pd

    lines = []
    ref = pd.read_parquet(paths["cxops_asof"])
    ref["window_days"] = ref["window_days"].fillna(-1)
    for m, p in paths.items():
        if m == "cxops_asof":
            continue
        x = pd.read_parquet(p)
        x["window_days"] = x["window_days"].fillna(-1)
        j = ref.merge(x, on=KEYS, how="outer", suffixes=("_c", "_o"), indicator=True)
        only = j["_merge"].value_counts().to_dict()
        bad = {}
        for col in ("numerator", "denominator", "value"):
            a, b = j[f"{col}_c"].to_numpy(float), j[f"{col}_o"].to_numpy(float)
            same = (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-9)
            bad[col] = int((~same).sum())
        ok = (
            all(v == 0 for v in bad.values())
            and only.get("left_only", 0) == 0
            and only.get("right_only", 0) == 0
        )
        lines.append(
            f"check cxops vs {m}: {len(ref)} rows; only-cxops {only.get('left_only', 0)}, only-{m} "
            f"{only.get('right_only', 0)}; differing numerators {bad['numerator']}, denominators "
            f"{bad['denominator']}, values {bad['value']} -> {'EQUAL' if ok else 'DIFFERENT'}"
        )
        if not ok:
            d = j[
                (j["_merge"] != "both")
                | ~np.isclose(j["numerator_c"].fillna(-9), j["numerator_o"].fillna(-9))
                | ~np.isclose(j["denominator_c"].fillna(-9), j["denominator_o"].fillna(-9))
            ]
            lines.append(d.groupby("metric").size().to_string())
    return lines


def summary(work: Path) -> None:
    """Cost per million orders of each method at each size measured (``results_N.json`` in ``work``)."""
    rows = {}
    for f in sorted(work.glob("results_*.json"), key=lambda p: int(p.stem.split("_")[1])):
        n = int(f.stem.split("_")[1])
        for m, r in json.loads(f.read_text()).items():
            if "error" not in r:
                rows.setdefault(m, {})[n] = r
    sizes = sorted({n for v in rows.values() for n in v})
    print("s per M orders (peak RSS GB) by size: " + ", ".join(f"{n:,}" for n in sizes))
    for m, by in rows.items():
        cells = [
            f"{by[n]['seconds'] / n * 1e6:6.2f} ({by[n]['peak_rss_gb']:.1f})" if n in by else "      -"
            for n in sizes
        ]
        print(f"{m:14s} " + "  ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--data")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--series-metrics")
    ap.add_argument(
        "--memory-limit",
        help="DuckDB memory_limit for cxops and SQL, e.g. 5GB (default: DuckDB's, 80%% of RAM)",
    )
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--per-seller", type=float, default=200.0, help="mean orders per seller")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", default="/tmp/cxbench")
    ap.add_argument("--methods", default="cxops_asof,sql_asof,pandas_asof")
    ap.add_argument("--check", action="store_true")
    ap.add_argument(
        "--summary", action="store_true", help="print seconds per million orders by size from earlier runs"
    )
    a = ap.parse_args()
    if a.summary:
        summary(Path(a.work))
        return
    if a.worker:
        print(json.dumps(worker(a.worker, a.data, a.out, a.threads, a.series_metrics, a.memory_limit)))
        return
    sellers = max(1, round(a.orders / a.per_seller))
    data = Path(a.work) / f"o{a.orders}_d{a.days}_s{a.seed}"
    if not (data / "_cxops_columns.json").exists():
        sys.path.insert(0, str(HERE.parent / "src"))
        from cxops.synth import generate

        st = generate(data, sellers, a.days, seed=a.seed, orders_per_seller=a.per_seller, end=END)
        gen = f"generated in {st.seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in st.rows.items())
    else:
        gen = "reused " + str(data)
    man = json.loads((data / "_cxops_columns.json").read_text())
    n_orders = man["rows"]["orders"]
    size = sum(f.stat().st_size for f in data.glob("*.parquet")) / 1e9
    print(f"# {n_orders:,} orders, {sellers:,} sellers, {a.days} days; Parquet {size:.2f} GB; {gen}")
    print(
        f"# machine: {os.cpu_count()} cores, threads {a.threads}, "
        f"RAM {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    )
    results, paths = {}, {}
    for m in a.methods.split(","):
        out = Path(a.work) / f"res_{m}_{n_orders}.parquet" if a.check and m.endswith("_asof") else None
        if m.startswith("cxops_series"):
            r = _run(
                "cxops_series",
                data,
                Path(a.work) / "x.parquet",
                a.threads,
                a.series_metrics or None,
                a.memory_limit,
            )
        else:
            r = _run(m, data, out, a.threads, memory=a.memory_limit)
        results[m] = r
        if out and "error" not in r:
            paths[m] = out
        if "error" in r:
            print(f"{m:14s} ERROR after {r['seconds']:.1f} s: {r['error'][-600:]}")
        else:
            extra = f" rows {r.get('rows', 0):,}" + (f" ({r['metrics']})" if "metrics" in r else "")
            print(
                f"{m:14s} {r['seconds']:8.1f} s  peak {r['peak_rss_gb']:6.2f} GB  "
                f"{r['seconds'] / n_orders * 1e6:7.2f} s per M orders{extra}",
                flush=True,
            )
    c, s, p = (results.get(k, {}) for k in ("cxops_asof", "sql_asof", "pandas_asof"))
    if "seconds" in c and "seconds" in s and "error" not in c and "error" not in s:
        print(
            f"ratio cxops/SQL time {c['seconds'] / s['seconds']:.2f}, memory "
            f"{c['peak_rss_gb'] / s['peak_rss_gb']:.2f}"
        )
    if "seconds" in c and "seconds" in p and "error" not in c and "error" not in p:
        print(
            f"ratio pandas/cxops time {p['seconds'] / c['seconds']:.2f}, memory "
            f"{p['peak_rss_gb'] / c['peak_rss_gb']:.2f}"
        )
    if a.check and "cxops_asof" in paths:
        for line in check(paths):
            print(line)
    path = Path(a.work) / f"results_{n_orders}.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**earlier, **results}, indent=1))


if __name__ == "__main__":
    main()
