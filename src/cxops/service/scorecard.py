"""A seller's scorecard from the newest stored evaluation run: what the seller's page and API show.

The daily job and ``cxops evaluate`` store their runs in the warehouse (:mod:`cxops.runs`); this
module reads the newest run of a policy that evaluated every seller, for one seller and marketplace:

- :func:`scorecard` — status at the last evaluation and since when, the projected status at the next
  evaluation, and every criterion with value, bar, result and gap (``gap``: the signed change of the
  tested count that flips the result, :mod:`cxops.policy.gap`; the sentence is
  :func:`cxops.report.format.criterion_gap`, the same as ``cxops explain``);
- :func:`defect_page` / :func:`all_defects` — the defective orders behind the last evaluation's
  metrics, each with kind, anchor day and the day it drops out of its window, keyset-paged;
- :func:`trends` — the main metrics over the last 90 days (a daily series computed from the warehouse
  for this seller) or 12 months (the run's metrics at each evaluation), with the policy's lines,
  as Vega-Lite specifications (:mod:`cxops.report.vega`).

Nothing here writes: the warehouse may be opened read-only.
"""

from __future__ import annotations

import bisect
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from threading import Lock
from typing import Any

import pandas as pd

from cxops.metrics.defects import DEFECT_COLUMNS
from cxops.policy.model import BREACH_SECTIONS, Policy
from cxops.report.charted import CHART_METRICS
from cxops.report.format import is_null
from cxops.runs import store as runs_store
from cxops.runs.result import Evaluation

#: (metric, window_days, channel) charted on the seller's page (the report's charts: the same).
TREND_METRICS = CHART_METRICS
#: The two spans of the trend charts: days of daily points, or months of evaluation points.
SPANS = {"90d": 90, "12m": 365}
#: Display order of criteria sections.
SECTION_ORDER = ("eligibility", "admission", "removal", "alert", "benefits", "enforcement")
#: Sort key of a defect row (unique: an order's shipments have their own record ids).
DEFECT_KEY = ("metric", "window_days", "drops_out_on", "order_id", "record_id")


#: The registry read is reused for this many seconds on the same connection (a page reads it several
#: times; a run committed meanwhile shows on the next page after at most this long).
REGISTRY_TTL = 2.0
_REGISTRY: dict[int, tuple[float, object, list]] = {}


def _list_runs(wh) -> list[runs_store.RunRecord]:
    now = time.monotonic()
    hit = _REGISTRY.get(id(wh))
    if hit is not None and hit[1] is wh and now - hit[0] < REGISTRY_TTL:
        return hit[2]
    runs = runs_store.list_runs(wh)
    if len(_REGISTRY) > 64:
        _REGISTRY.clear()
    _REGISTRY[id(wh)] = (now, wh, runs)
    return runs


def current_run(wh, policy: Policy) -> runs_store.RunRecord | None:
    """The newest stored run of ``policy`` (by name) that evaluated every seller; ``None`` if none.

    A run of the same policy content is preferred; otherwise the newest of that policy name (a
    policy edited since the last run still shows the last run's figures, which the page dates)."""
    runs = [r for r in _list_runs(wh) if r.policy_name == policy.name and r.scope is None]
    if not runs:
        return None
    same = [r for r in runs if r.policy_hash == runs_store.policy_hash(policy)]
    pool = same or runs
    return max(pool, key=lambda r: (r.as_of, r.created_at))


#: Per-seller reads of a stored run kept in memory (run, part, seller): a registered run's tables never
#: change (a new evaluation is a new run id), so a page view reads each part of a seller at most once.
FRAME_CACHE_SIZE = 4096
_FRAMES: OrderedDict[tuple[str, str, str], pd.DataFrame] = OrderedDict()
_FRAMES_LOCK = Lock()


def seller_frame(ev: Evaluation, part: str, seller_id: str) -> pd.DataFrame:
    """The rows of one seller in a part of a stored run: ``statuses`` at the last evaluation,
    ``defects`` sorted as :meth:`Evaluation.defects`, any other part as stored — read once per run and
    seller, then from memory (a copy: the caller may change it)."""
    key = (ev.run.run_id, part, seller_id)
    with _FRAMES_LOCK:
        hit = _FRAMES.get(key)
        if hit is not None:
            _FRAMES.move_to_end(key)
            return hit.copy()
    if part == "statuses":
        df = ev.latest_statuses([seller_id])
    elif part == "defects":
        df = ev.defects(seller_id)
    else:
        df = ev.frame(part, [seller_id])
    if ev.temporary:  # a run not stored: nothing to keep
        return df
    with _FRAMES_LOCK:
        _FRAMES[key] = df
        while len(_FRAMES) > FRAME_CACHE_SIZE:
            _FRAMES.popitem(last=False)
    return df.copy()


def evaluation(wh, policy: Policy, seller_id: str) -> Evaluation | None:
    """The newest stored run, read for one seller (``None`` when no run is stored)."""
    run = current_run(wh, policy)
    if run is None:
        return None
    return Evaluation(wh, policy, run, reused=True, sellers=[seller_id])


def _plain(v: Any) -> Any:
    if v is None or (not isinstance(v, str | list | dict) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]


@dataclass(frozen=True)
class Scorecard:
    """One seller and marketplace in the newest run.

    Attributes
    ----------
    run : RunRecord or None
        The run read (``None``: no run stored yet — everything else is empty).
    status : dict or None
        The status row at the last evaluation (``state, since, reason, reason_key, reason_params`` …).
    projected : dict or None
        The projection row (``evaluation_date`` — the next evaluation —, ``projected_state``, ``reason``).
    criteria : list of dict
        The criteria rows of the last evaluation in section order (columns of the run's criteria
        table: ``section, criterion_id, label, metric, window_days, channel, test, operator,
        threshold, min_denominator, value, numerator, denominator, status, result, gap`` …; rates are
        fractions).
    """

    seller_id: str
    marketplace_id: str
    run: runs_store.RunRecord | None
    status: dict[str, Any] | None = None
    projected: dict[str, Any] | None = None
    criteria: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_evaluation(self) -> date | None:
        return self.run.last_evaluation if self.run else None

    @property
    def next_evaluation(self) -> date | None:
        if self.projected and self.projected.get("evaluation_date"):
            return self.projected["evaluation_date"]
        return self.run.next_evaluation if self.run else None


def _mine(df: pd.DataFrame, marketplace_id: str) -> pd.DataFrame:
    return df[df["marketplace_id"] == marketplace_id] if len(df) else df


def scorecard(wh, policy: Policy, seller_id: str, marketplace_id: str) -> Scorecard:
    """The seller's status, projection and criteria on one marketplace in the newest run."""
    ev = evaluation(wh, policy, seller_id)
    if ev is None:
        return Scorecard(seller_id, marketplace_id, None)
    status = _records(_mine(seller_frame(ev, "statuses", seller_id), marketplace_id))
    projected = _records(_mine(seller_frame(ev, "projected", seller_id), marketplace_id))
    crit = _mine(seller_frame(ev, "criteria", seller_id), marketplace_id)
    if len(crit):
        order = {s: i for i, s in enumerate(SECTION_ORDER)}
        crit = crit.assign(_o=crit["section"].map(order).fillna(len(order)))
        crit = crit.sort_values("_o", kind="stable").drop(columns="_o")
    return Scorecard(
        seller_id,
        marketplace_id,
        ev.run,
        status=status[0] if status else None,
        projected=projected[0] if projected else None,
        criteria=_records(crit),
    )


def progress(row: Mapping[str, Any]) -> float | None:
    """How far a criterion's value is toward its bar, as a fraction 0–1 for a progress bar.

    For a criterion to meet with ``>``/``>=`` (volume, on-time rate, index): ``value / threshold``,
    capped at 1. For one with ``<``/``<=`` (a defect rate): 1 at a value of 0, 0 at twice the
    threshold or more (``1 − value / (2 × threshold)``), so the threshold is the middle of the bar and
    a passing value is the upper half. In a removal or alert section, where the comparison is the
    breach condition, the bar is its opposite (a rule "breach if > 0.60 %" reads as "<= 0.60 %").
    ``None`` when there is no value, no numeric threshold or
    the operator is an equality.
    """
    value, thr, op = row.get("value"), row.get("threshold"), row.get("operator")
    if str(row.get("section")) in BREACH_SECTIONS:  # the comparison is the breach: progress is not breaching
        op = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}.get(op, op)
    if is_null(value) or is_null(thr) or op not in ("<", "<=", ">", ">="):
        return None
    value, thr = float(value), float(thr)
    if op in (">", ">="):
        if thr <= 0:
            return 1.0 if value >= thr else 0.0
        return max(0.0, min(1.0, value / thr))
    if thr <= 0:
        return 1.0 if value <= thr else 0.0
    return max(0.0, min(1.0, 1.0 - value / (2.0 * thr)))


# -- defects -------------------------------------------------------------------------------------------


def all_defects(
    wh, policy: Policy, seller_id: str, marketplace_id: str, metric: str | None = None
) -> pd.DataFrame:
    """Every defective record behind the seller's metrics at the last evaluation on one marketplace,
    sorted by :data:`DEFECT_KEY` (columns :data:`cxops.metrics.defects.DEFECT_COLUMNS`; dates as
    ``datetime.date``). Empty when no run is stored."""
    ev = evaluation(wh, policy, seller_id)
    if ev is None:
        return pd.DataFrame(columns=DEFECT_COLUMNS)
    df = _mine(seller_frame(ev, "defects", seller_id), marketplace_id)
    if metric:
        df = df[df["metric"] == metric]
    df = df.sort_values(list(DEFECT_KEY), kind="stable").reset_index(drop=True)
    df["record_id"] = df["record_id"].astype(object).where(df["record_id"].notna(), "")
    return df


def _key(row: dict[str, Any]) -> tuple:
    return tuple("" if row[k] is None else (row[k].isoformat() if isinstance(row[k], date) else row[k])
                 for k in DEFECT_KEY)  # fmt: skip


def defect_page(
    wh,
    policy: Policy,
    seller_id: str,
    marketplace_id: str,
    *,
    after: tuple | None = None,
    limit: int = 50,
    metric: str | None = None,
) -> tuple[list[dict[str, Any]], tuple | None, int]:
    """One page of :func:`all_defects` after the key ``after`` (a :data:`DEFECT_KEY` tuple, dates ISO).

    Returns
    -------
    (rows, next_key, total)
        ``next_key`` is ``None`` on the last page; ``total`` counts every row of the list.
    """
    rows = _records(all_defects(wh, policy, seller_id, marketplace_id, metric))
    keys = [_key(r) for r in rows]
    start = 0 if after is None else bisect.bisect_right(keys, tuple(after))
    out = rows[start : start + limit]
    more = start + limit < len(rows)
    return out, (keys[start + limit - 1] if more else None), len(rows)


# -- trends --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """One metric's series with the policy's lines (:func:`cxops.report.vega.chart_lines`)."""

    metric: str
    window_days: int
    channel: str
    points: list[tuple[date, float | None]]
    lines: dict[str, float]


_CACHE: OrderedDict[tuple, list[Trend]] = OrderedDict()
_CACHE_LOCK = Lock()
#: Daily series kept in memory (per run, seller, marketplace): a page view computes one at most once.
CACHE_SIZE = 256


def trends(wh, policy: Policy, seller_id: str, marketplace_id: str, span: str = "90d") -> list[Trend]:
    """The main metrics (:data:`TREND_METRICS`) over ``span`` ending on the last evaluation's metrics day.

    ``"90d"``: one point a day, computed for this seller from the warehouse (the same facts as the
    run; cached per run). ``"12m"``: the run's metrics at each evaluation's metrics day of the last
    365 days. Lines from the criteria of the last evaluation. Empty when no run is stored.

    Raises
    ------
    ValueError
        An unknown span.
    """
    from cxops.report.vega import chart_lines

    if span not in SPANS:
        raise ValueError(f"unknown span {span!r}; known: {', '.join(SPANS)}")
    ev = evaluation(wh, policy, seller_id)
    if ev is None:
        return []
    key = (ev.run.run_id, seller_id, marketplace_id, span)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    end = ev.metrics_day
    first = end - timedelta(days=SPANS[span] - 1)
    metrics = [m for m, _, _ in TREND_METRICS]
    if span == "90d":
        from cxops.metrics.compute import compute_series

        series = compute_series(
            wh, first, end, policy.metric_options, seller_ids=[seller_id], metrics=metrics
        )
    else:
        series = ev.frame(
            "metrics",
            [seller_id],
            lambda t: t.metric.isin(metrics) & (t.as_of >= first) & (t.as_of <= end),
        )
    series = _mine(series, marketplace_id)
    crit = _mine(seller_frame(ev, "criteria", seller_id), marketplace_id)
    crit_rows = crit.to_dict("records") if len(crit) else []
    out = []
    for m, w, c in TREND_METRICS:
        s = series
        if len(s):
            s = s[(s["metric"] == m) & (s["window_days"].astype("Int64") == w) & (s["channel"] == c)]
            s = s.sort_values("as_of")
        pts = [
            (pd.Timestamp(d).date(), None if is_null(v) else float(v))
            for d, v in zip(s["as_of"] if len(s) else [], s["value"] if len(s) else [], strict=True)
        ]
        out.append(Trend(m, w, c, pts, chart_lines(crit_rows, m, w, c)))
    with _CACHE_LOCK:
        _CACHE[key] = out
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return out
