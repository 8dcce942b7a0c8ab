"""Voice of the customer on the real Olist reviews: the theme matcher and ``cxops voc`` per seller.

Not a test. Usage::

    CXOPS_SHARED_DATA=../shared/data .venv/bin/python bench/voc.py --work /tmp/cxvoc

Steps, each in its own process (wall time from the process start, interpreter and imports included;
peak memory = the process's peak RSS):

* ``classify`` — :func:`cxops.advisor.voc.themes.classify` on every Olist review with a comment (title and
  message; 16,518 texts), marketplace hint ``pt``;
* ``baseline`` — the same texts against the same Portuguese patterns the obvious way: one regular
  expression per pattern, searched in every folded text (no segmentation, no longest-match, no fuzzy
  repair): the cost a keyword table has without a multi-pattern automaton;
* ``voc`` — ``cxops voc SELLER --format jsonl --part themes`` as a user runs it, for the ten sellers
  with most comments, on a warehouse imported from the Olist files (imported first if absent).

Prints one JSON line per step and the ratio baseline / classify.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
REVIEWS = "olist-brazilian-ecommerce/partial/olist_order_reviews_dataset.UNION_38466.parquet"


def _shared() -> Path:
    return Path(os.environ.get("CXOPS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _texts() -> list[str]:
    import pandas as pd

    r = pd.read_parquet(_shared() / REVIEWS).drop_duplicates("review_id")
    r = r[r["review_comment_message"].notna() | r["review_comment_title"].notna()]
    return (
        (r["review_comment_title"].fillna("") + "\n" + r["review_comment_message"].fillna(""))
        .str.strip()
        .tolist()
    )


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _classify() -> dict:
    from cxops.advisor.voc.themes import classify

    texts = _texts()
    t = time.perf_counter()
    out = classify(texts, hint="pt")
    return {"step": "classify", "texts": len(texts), "match_seconds": time.perf_counter() - t,
            "with_theme": int((out["other"] == False).sum()),  # noqa: E712
            "seconds": time.perf_counter() - T0, "peak_rss_bytes": _peak()}  # fmt: skip


def _baseline() -> dict:
    import re

    from cxops.advisor.voc.keywords import KEYWORDS
    from cxops.advisor.voc.text import fold

    regexes = []
    for theme, patterns in KEYWORDS["pt"].items():
        for p in patterns:
            words = fold(p.strip("*")).split()
            rx = r"\b" + r"\s+".join(map(re.escape, words)) + (r"\w*" if p.endswith("*") else r"\b")
            regexes.append((theme, re.compile(rx)))
    texts = _texts()
    t = time.perf_counter()
    found = 0
    for text in texts:
        f = fold(text)
        themes = {theme for theme, rx in regexes if theme is not None and rx.search(f)}
        found += bool(themes)
    return {"step": "baseline", "texts": len(texts), "patterns": len(regexes),
            "match_seconds": time.perf_counter() - t, "with_theme": found,
            "seconds": time.perf_counter() - T0, "peak_rss_bytes": _peak()}  # fmt: skip


def _warehouse(work: Path) -> Path:
    path = work / "olist.duckdb"
    if path.exists():
        return path
    from cxops.ingest.olist import import_olist
    from cxops.warehouse import connect

    root = _shared()
    d = root / "olist-brazilian-ecommerce"
    paths = {
        "orders": d / "partial" / "olist_orders_dataset.UNION_42474.parquet",
        "reviews": _shared() / REVIEWS,
    }
    wh = connect(str(path))
    import_olist(wh, d, None, paths=paths)
    wh.close()
    return path


def _top_sellers(path: Path, n: int = 10) -> list[str]:
    from cxops.warehouse import connect

    wh = connect(str(path), read_only=True)
    t = wh.table("feedback")
    t = t.filter(t.comment.notnull())
    t = t.group_by("seller_id").aggregate(n=t.count())
    top = wh.execute(t.order_by([t.n.desc(), t.seller_id]).limit(n))["seller_id"].tolist()
    wh.close()
    return top


def _step(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _voc(path: Path, seller: str) -> dict:
    exe = Path(sys.executable).with_name("cxops")
    t = time.perf_counter()
    cmd = [str(exe), "voc", seller, "-w", str(path), "--format", "jsonl", "--part", "themes"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, rusage = os.wait4(proc.pid, 0)[1:]
    return {"step": "voc", "seller": seller, "seconds": time.perf_counter() - t,
            "peak_rss_bytes": rusage.ru_maxrss * 1024}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/cxvoc", help="Where the Olist warehouse is kept.")
    ap.add_argument("--worker", choices=["classify", "baseline"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(_classify() if a.worker == "classify" else _baseline()))
        return
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    c = _step(["--worker", "classify"])
    b = _step(["--worker", "baseline"])
    print(json.dumps(c))
    print(json.dumps(b))
    print(json.dumps({"ratio_baseline_over_classify": b["match_seconds"] / c["match_seconds"]}))
    path = _warehouse(work)
    runs = [_voc(path, s) for s in _top_sellers(path)]
    for r in runs:
        print(json.dumps(r))
    secs = sorted(r["seconds"] for r in runs)
    print(json.dumps({"step": "voc", "sellers": len(runs), "median_seconds": secs[len(secs) // 2],
                      "max_seconds": secs[-1], "max_peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs)}))  # fmt: skip


if __name__ == "__main__":
    main()
