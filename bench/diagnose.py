"""Benchmark: ``cxops diagnose`` and the performance log, per seller, against the engine's own cost.

Usage::

    .venv/bin/python bench/diagnose.py --warehouse cxops-demo/demo.duckdb --sellers 5
    .venv/bin/python bench/diagnose.py --warehouse olist.duckdb --as-of 2018-06-30 --sellers 5
    .venv/bin/python bench/diagnose.py --synth-orders 200000      # one large seller, generated

For the sellers with the most orders (or one generated seller with ``--synth-orders`` orders over a
year, imported into a temporary warehouse), times — median of ``--repeat`` runs, each a fresh call —
what a seller runs end to end: the diagnosis of every failing and near metric
(:func:`cxops.service.diagnose.diagnose`, ``--metric`` forced so every seller has at least one
breakdown, every group computed) and the performance log (:func:`cxops.service.diagnose.log_frame`);
the baseline measured in the same run is the metric engine computing that seller's metrics alone
(:func:`cxops.metrics.compute.compute_metrics` with ``seller_ids=[seller]``), which the diagnosis
itself starts with. Prints seconds, the ratios to the baseline, the groups and log rows, and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from cxops.metrics.compute import compute_metrics
from cxops.policy.load import load_policy
from cxops.service.diagnose import checked_day, diagnose, log_frame
from cxops.warehouse import connect


def _median(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _synth(orders: int, folder: Path) -> str:
    from cxops.ingest.canonical_files import import_canonical
    from cxops.synth import generate

    generate(folder / "data", 1, 365, seed=11, orders_per_seller=orders, threads=1)
    url = str(folder / "synth.duckdb")
    wh = connect(url)
    import_canonical(wh, folder / "data", folder / "quarantine")
    wh.close()
    return url


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--warehouse", help="DuckDB file to read")
    ap.add_argument("--synth-orders", type=int, help="generate one seller with about this many orders")
    ap.add_argument("--as-of", help="YYYY-MM-DD (default: last complete day)")
    ap.add_argument("--sellers", type=int, default=3, help="the N sellers with the most orders")
    ap.add_argument("--metric", default="late_shipment_rate", help="metric broken down for every seller")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    pol = load_policy("customer-excellence")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.warehouse or _synth(args.synth_orders or 100_000, Path(tmp))
        wh = connect(url, read_only=True)
        day = checked_day(wh, date.fromisoformat(args.as_of) if args.as_of else None, "a benchmark", True)
        top = wh.con.sql(
            f"SELECT seller_id, count(*) AS n FROM orders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(args.sellers)}"
        ).to_pandas()
        print(f"warehouse {url} as of {day}; metric {args.metric}; median of {args.repeat}")
        head = (
            f"{'seller':34} {'orders':>8} {'engine s':>9} {'diagnose s':>11} {'×':>5} {'log s':>7} {'×':>5}"
        )
        print(head + f" {'groups':>7} {'log rows':>9}")
        for seller, n in zip(top.seller_id, top.n, strict=True):
            base, _ = _median(lambda s=seller: compute_metrics(wh, day, pol.metric_options, [s]), args.repeat)
            t_d, d = _median(
                lambda s=seller: diagnose(wh, pol, s, day, metric=args.metric, limit=None, allow_stale=True),
                args.repeat,
            )
            t_l, log = _median(lambda s=seller: log_frame(wh, pol, s, day, allow_stale=True), args.repeat)
            groups = sum(sum(f.group_counts.values()) for f in d.findings)
            print(
                f"{seller:34} {n:>8,} {base:>9.2f} {t_d:>11.2f} {t_d / base:>5.1f} {t_l:>7.2f} "
                f"{t_l / base:>5.1f} {groups:>7,} {len(log):>9,}"
            )
        wh.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
