"""Benchmark: the lifecycle replay of N sellers over 24 monthly evaluations (not a test).

Usage::

    .venv/bin/python bench/replay.py --sellers 1000000
    .venv/bin/python bench/replay.py --sellers 20000 --check      # also runs the per-seller reference

Metrics are generated per seller and evaluation (a persistent seller quality plus monthly noise, so
sellers enrol, get warned, are removed and recover), for every metric the policy's criteria use; daily
recovery days are met with a probability that grows with the seller's quality. The script times, per
stage and in total:

- ``policy``: :func:`cxops.policy.evaluate_policy` on each evaluation's metrics (criterion results);
- ``replay``: :func:`cxops.lifecycle.replay` from those results (section outcomes, the state machine
  for every seller, the daily recovery check, statuses and transitions), with ``reasons="latest"``;
- ``render``: the same replay with ``reasons="all"`` (English reason and JSON params on every status
  row) — reported separately, it is output formatting, Python per row.

The replay's CPU time is printed beside its wall time: on a machine shared with other jobs the wall
time varies with the load, the CPU time much less.

With ``--check`` the per-seller reference of ``tests/test_lifecycle_batch.py`` runs on the same inputs
and the outputs must be identical (use a small ``--sellers``: it is a Python loop per seller-day).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


class World:
    """Synthetic metrics for ``n`` sellers: ``quality`` in [0, 1] per seller, monthly noise."""

    def __init__(self, policy, n: int, seed: int):
        from cxops.policy.evaluate import criteria_table
        from cxops.policy.model import SECTIONS

        self.policy = policy
        self.n = n
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.quality = rng.beta(5, 1.5, n)
        self.sellers = np.array([f"S{i:07d}" for i in range(n)], object)
        mps = np.array(policy.marketplaces or ["US"], object)
        self.markets = mps[rng.integers(0, len(mps), n)]
        crit = pd.concat([criteria_table(policy, s) for s in SECTIONS], ignore_index=True)
        crit = crit[crit["metric"].notna()]
        crit = crit.assign(window_days=crit["window_days"].astype("Int64"))
        self.wanted = crit.drop_duplicates(["metric", "window_days", "channel"])[
            ["metric", "window_days", "channel", "operator", "threshold", "section"]
        ].reset_index(drop=True)

    def metrics(self, when: date) -> pd.DataFrame:
        from cxops.lifecycle.cadence import metrics_as_of

        as_of = metrics_as_of(self.policy, when)
        rng = np.random.default_rng([self.seed, when.toordinal()])
        q = np.clip(self.quality + rng.normal(0, 0.08, self.n), 0, 1)
        k, n = len(self.wanted), self.n
        # each metric passes its bar when the seller's monthly quality beats a per-metric draw
        passes = q[:, None] > rng.uniform(0.0, 0.65, (n, k))
        rows = []
        for j, m in self.wanted.iterrows():
            thr = float(m["threshold"]) if pd.notna(m["threshold"]) else 0.0
            op = m["operator"]
            good_high = op in (">", ">=")
            if m["section"] == "removal":  # a removal criterion is the breach condition
                good_high = not good_high
            margin = max(abs(thr) * 0.5, 1.0 if thr >= 1 or thr == 0 else thr * 0.5)
            good = thr + margin if good_high else max(thr - margin, 0.0)
            bad = max(thr - margin, 0.0) if good_high else thr + margin
            if op == "==":
                good, bad = thr, thr + 1
            value = np.where(passes[:, j], good, bad)
            den = np.where(rng.random(n) < 0.03, 10.0, 1000.0)  # a few thin sellers: insufficient data
            rows.append(
                pd.DataFrame(
                    {
                        "seller_id": self.sellers,
                        "marketplace_id": self.markets,
                        "channel": m["channel"],
                        "metric": m["metric"],
                        "window_days": m["window_days"],
                        "as_of": as_of,
                        "numerator": value * den,
                        "denominator": den,
                        "value": value,
                        "status": "ok",
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)

    def daily(self, sellers: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
        idx = pd.Index(self.sellers).get_indexer(sellers["seller_id"])
        days = (end - start).days + 1
        rng = np.random.default_rng([self.seed, start.toordinal(), 1])
        met = rng.random((len(idx), days)) < (0.9 + 0.1 * self.quality[idx])[:, None]
        day = np.array([start + timedelta(days=i) for i in range(days)], object)
        return pd.DataFrame(
            {
                "seller_id": np.repeat(sellers["seller_id"].to_numpy(object), days),
                "marketplace_id": np.repeat(sellers["marketplace_id"].to_numpy(object), days),
                "day": np.tile(day, len(idx)),
                "admission_met": met.ravel(),
            }
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sellers", type=int, default=1_000_000)
    ap.add_argument("--evaluations", type=int, default=24)
    ap.add_argument("--policy", default="customer-excellence")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--render-all", action="store_true", help="also time reasons='all'")
    ap.add_argument("--check", action="store_true", help="compare with the per-seller reference")
    a = ap.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    from cxops.lifecycle import decisions_from_metrics, evaluation_dates, replay
    from cxops.policy import evaluate_policy, load_policy

    policy = load_policy(a.policy)
    dates = evaluation_dates(policy, date(2024, 12, 15), date(2026, 12, 31))[: a.evaluations]
    world = World(policy, a.sellers, a.seed)
    spent = {"metrics": 0.0, "policy": 0.0, "daily": 0.0}
    cpu_spent = [0.0]  # CPU seconds of the inputs and the policy (the replay's CPU is the rest)

    def get_decisions(when):
        t0, c0 = time.perf_counter(), time.process_time()
        m = world.metrics(when)
        t1 = time.perf_counter()
        d = decisions_from_metrics(policy, m)
        spent["metrics"] += t1 - t0
        spent["policy"] += time.perf_counter() - t1
        cpu_spent[0] += time.process_time() - c0
        return d

    def get_daily(sellers, start, end):
        t0, c0 = time.perf_counter(), time.process_time()
        out = world.daily(sellers, start, end)
        spent["daily"] += time.perf_counter() - t0
        cpu_spent[0] += time.process_time() - c0
        return out

    print(
        f"# {a.sellers:,} sellers x {len(dates)} evaluations ({dates[0]} .. {dates[-1]}), policy {policy.name}"
    )
    t, c = time.perf_counter(), time.process_time()
    res = replay(policy, dates, get_decisions, get_daily, keep_sections=None, reasons="latest")
    t_total = time.perf_counter() - t
    t_replay = t_total - sum(spent.values())
    c_replay = time.process_time() - c - cpu_spent[0]
    last = res.statuses[res.statuses.evaluation_date == dates[-1]]
    print(
        f"replay {t_replay:7.1f} s  (state machine, daily recovery check, statuses and transitions; "
        f"reasons='latest'; {c_replay:.1f} s CPU, the figure to compare on a shared machine)\n"
        f"policy {spent['policy']:7.1f} s  (decisions_from_metrics: criteria of every seller, 24 evaluations)\n"
        f"inputs {spent['metrics'] + spent['daily']:7.1f} s  (generating metrics and daily recovery inputs, "
        f"not cxops)\n"
        f"peak RSS {_rss_gb():.2f} GB; statuses {len(res.statuses):,}; transitions {len(res.transitions):,}; "
        f"events {res.events['kind'].value_counts().to_dict()}; "
        f"states at the last evaluation: {last['state'].value_counts().to_dict()}",
        flush=True,
    )
    if a.render_all:
        spent.update(metrics=0.0, policy=0.0, daily=0.0)
        t = time.perf_counter()
        full = replay(policy, dates, get_decisions, get_daily, keep_sections=None, reasons="all")
        t_all = time.perf_counter() - t - sum(spent.values())
        print(f"replay with reasons='all' {t_all:7.1f} s  peak RSS {_rss_gb():.2f} GB", flush=True)
        del full
    if a.check:
        sys.path.insert(0, str(HERE.parent / "tests"))
        from test_lifecycle_batch import _same, scalar_replay

        results = {d: evaluate_policy(policy, world.metrics(d)) for d in dates}
        t = time.perf_counter()
        statuses, transitions, final = scalar_replay(policy, dates, results.__getitem__, world.daily)
        t_ref = time.perf_counter() - t
        full = replay(policy, dates, results.__getitem__, world.daily, keep_sections=None, reasons="all")
        _same(full.statuses, statuses)
        _same(full.transitions, transitions)
        _same(full.final, final)
        wide = replay(policy, dates, get_decisions, world.daily, keep_sections=None, reasons="all")
        _same(wide.statuses, statuses)
        _same(wide.transitions, transitions)
        print(
            f"per-seller reference {t_ref:.1f} s: statuses, transitions and final states IDENTICAL "
            "(from result rows and from decisions_from_metrics)"
        )


if __name__ == "__main__":
    main()
