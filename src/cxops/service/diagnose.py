"""``cxops diagnose``: the root cause of a seller's metrics that fail or are near their bar, and the
performance log.

For each defect-driven metric window (order defect rate, late shipment rate, pre-fulfillment cancel
rate, valid tracking rate, on-time delivery rate) that a criterion of the policy judges, the seller's
standing is read from the policy's own evaluation of the engine's metrics as of the day:

``fail``
    a criterion on it fails (a bar not met, a removal limit breached);
``near``
    it passes, but the policy's alert level is crossed (``alert`` section), or the tested quantity is
    within ``near`` (a fraction, default :data:`NEAR_FRACTION`) of the bar on the bad side: for a bar
    the value must stay under, ``tested >= (1 - near) * threshold``; for a rate that must stay above,
    the defect rate ``1 - value >= (1 - near) * (1 - threshold)``; for a count or volume that must
    stay above, ``tested <= (1 + near) * threshold``. The bars are the policy's, never copied here;
``ok``
    otherwise. A window under the criterion's minimum volume (insufficient data, not judged) whose
    value is on the failing side of the bar is ``near`` too: it fails once the volume is reached.

The failing and near windows are broken down by :mod:`cxops.metrics.breakdown` (one query); its totals
are the engine's numerator and denominator exactly, and a mismatch is a bug (``RuntimeError``).
Nothing here writes except :func:`write_log` (all-or-nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from cxops.errors import InputError, NotFoundError
from cxops.metrics.breakdown import (
    DIMENSIONS,
    LOG_COLUMNS,
    UNAVAILABLE,
    Target,
    pareto_frame,
    performance_log,
    seller_inputs,
)
from cxops.metrics.catalog import ALL, CATALOG, DEFECT_METRICS
from cxops.metrics.compute import compute_metrics, load_inputs
from cxops.policy.evaluate import evaluate_policy
from cxops.policy.model import BREACH_SECTIONS, Policy
from cxops.report.diagnose import HEADLINE_MAX

#: Default "near": within this fraction of the bar (see the module docstring). A choice of cxops.
NEAR_FRACTION = 0.2
#: Sections whose criteria judge the seller's standing (benefit tiers are not bars to keep).
JUDGING_SECTIONS = ("eligibility", "admission", "removal", "alert")
#: Default groups per dimension in one page.
DEFAULT_LIMIT = 10
STATUS_ORDER = ("fail", "near", "ok", "unjudged")


@dataclass(frozen=True)
class Finding:
    """One metric window of the seller, its standing and its defects broken down.

    Attributes
    ----------
    target : Target
    status : {"fail", "near", "ok", "unjudged"}
        ``unjudged``: asked for with ``metric`` but no criterion of the policy tests it.
    criteria : list of dict
        The policy's criteria on it (``section, criterion_id, operator, threshold, test, result,
        status``), as evaluated.
    value : float or None
        The metric as the engine computes it (a fraction; higher is better for valid tracking and
        on-time delivery).
    numerator, denominator : int
        The engine's counts.
    defects, records : int
        Defective records and all records of the window (``defects`` = numerator, or denominator less
        numerator where higher is better; ``records`` = denominator).
    higher_is_better : bool
    groups : pandas.DataFrame
        The page of :data:`cxops.metrics.breakdown.PARETO_COLUMNS` rows of this window (plus the top
        :data:`HEADLINE_MAX` ranks), ``value_without`` and ``value_without_top`` in the metric's terms.
    group_counts : dict
        Dimension -> how many groups it has (for paging).
    """

    target: Target
    status: str
    criteria: list[dict]
    value: float | None
    numerator: int
    denominator: int
    defects: int
    records: int
    higher_is_better: bool
    groups: pd.DataFrame
    group_counts: dict[str, int] = field(default_factory=dict)

    def dimension(self, name: str) -> pd.DataFrame:
        """The page of groups of one dimension, by rank."""
        g = self.groups
        return g[g["dimension"] == name].reset_index(drop=True)

    @property
    def dimensions(self) -> list[str]:
        """The dimensions broken down, in display order."""
        return [d for d in DIMENSIONS if d in self.group_counts]


@dataclass(frozen=True)
class Diagnosis:
    """The root cause of one seller's metrics as of a day.

    Attributes
    ----------
    seller_id : str
    as_of : datetime.date
    policy : str
        The policy's name and version.
    near : float
        The fraction of the bar counted as "near".
    findings : list of Finding
        Failing first, then near (then the others when asked for by metric).
    judged : list of dict
        Every judged metric window with its status (also the ``ok`` ones), for the summary.
    unavailable : dict
        Dimensions the data does not hold -> why.
    offset, limit : int
        The page of groups per dimension.
    """

    seller_id: str
    as_of: date
    policy: str
    near: float
    findings: list[Finding]
    judged: list[dict]
    unavailable: dict[str, str]
    offset: int = 0
    limit: int | None = DEFAULT_LIMIT


def checked_day(wh, as_of: date | None, what: str, allow_stale: bool = False) -> date:
    """``as_of``, or the last complete day of data when it is None.

    Raises
    ------
    NotFoundError
        If the warehouse holds no orders.
    StaleDataError
        If ``as_of`` is past the last complete day (unless ``allow_stale``).
    """
    from cxops.service.evaluation import data_state

    _, fresh = data_state(wh)
    if as_of is None:
        if fresh.complete_day is None:
            raise NotFoundError("the warehouse holds no orders", hint="import data first: cxops import …")
        return fresh.complete_day
    fresh.check(as_of, f"{what} as of {as_of}", allow_stale)
    return as_of


def _bad_upwards(section: str, operator: str) -> bool:
    """Whether a larger tested quantity is worse for the seller under this criterion."""
    meets_below = operator in ("<", "<=")
    return meets_below if section not in BREACH_SECTIONS else operator in (">", ">=")


def _on_bad_side(tested: float, operator: str, threshold: float, upwards: bool) -> bool:
    """Whether ``tested`` is past the bar on the side that fails (the bar itself decided by the
    operator: a value at the bar of ``<=`` passes, of ``<`` fails)."""
    if upwards:
        return tested > threshold if operator in ("<=", ">") else tested >= threshold
    return tested < threshold if operator in (">=", "<") else tested <= threshold


def criterion_status(row: dict, near: float) -> str:
    """``fail``, ``near`` or ``ok`` for one evaluated criterion row (see the module docstring). A row
    with insufficient data (under the criterion's minimum volume) whose value is on the failing side
    of the bar is ``near``; other rows without a pass or fail (not measured) are ``ok``.

    Parameters
    ----------
    row : dict
        ``section, operator, threshold, test, result, value, numerator, denominator``.
    near : float
        A fraction of the bar, 0–1.
    """
    result = str(row.get("result"))
    if result == "fail":
        return "near" if row.get("section") == "alert" else "fail"
    if result not in ("pass", "insufficient_data") or str(row.get("operator")) == "==":
        return "ok"
    test = str(row.get("test") or "value")
    tested = row.get(test)
    thr = float(row["threshold"])
    if tested is None or pd.isna(tested):
        return "ok"
    tested = float(tested)
    upwards = _bad_upwards(str(row["section"]), str(row["operator"]))
    if result == "insufficient_data" and _on_bad_side(tested, str(row["operator"]), thr, upwards):
        return "near"  # below the minimum volume, but on the failing side of the bar
    if upwards:
        return "near" if tested >= (1 - near) * thr else "ok"
    if test == "value" and CATALOG[row["metric"]].kind == "rate":
        return "near" if 1 - tested >= (1 - near) * (1 - thr) else "ok"
    return "near" if tested <= (1 + near) * thr else "ok"


def _worst(statuses) -> str:
    return min(statuses, key=STATUS_ORDER.index)


def judged_windows(metrics: pd.DataFrame, results: pd.DataFrame, near: float) -> pd.DataFrame:
    """Every (marketplace, metric, window, channel) of a defect-driven metric some criterion judges,
    with its worst ``status`` and its criteria (a list of dicts)."""
    r = results[results["metric"].isin(DEFECT_METRICS) & results["section"].isin(JUDGING_SECTIONS)]
    rows: dict[tuple, dict] = {}
    for c in r.to_dict("records"):  # a handful of criteria, not orders
        key = (c["marketplace_id"], c["metric"], int(c["window_days"]), c["channel"])
        c["status"] = criterion_status(c, near)
        slot = rows.setdefault(key, {"criteria": []})
        slot["criteria"].append(
            {
                k: c.get(k)
                for k in ("section", "criterion_id", "operator", "threshold", "test", "result", "status")
            }
        )
    out = [
        {
            "marketplace_id": k[0],
            "metric": k[1],
            "window_days": k[2],
            "channel": k[3],
            "status": _worst(c["status"] for c in v["criteria"]),
            "criteria": v["criteria"],
        }
        for k, v in rows.items()
    ]
    return pd.DataFrame(
        out, columns=["marketplace_id", "metric", "window_days", "channel", "status", "criteria"]
    )


def _engine_row(metrics: pd.DataFrame, t: Target) -> dict | None:
    m = metrics[
        (metrics["marketplace_id"] == t.marketplace_id)
        & (metrics["metric"] == t.metric)
        & (metrics["window_days"] == t.window_days)
        & (metrics["channel"] == t.channel)
    ]
    return None if m.empty else m.iloc[0].to_dict()


def _measured(row: dict | None) -> bool:
    return (
        row is not None and str(row.get("status")) != "not_measured" and not pd.isna(row.get("denominator"))
    )


def diagnose(
    wh,
    policy: Policy,
    seller_id: str,
    as_of: date | None = None,
    *,
    marketplace_id: str | None = None,
    metric: str | None = None,
    near: float = NEAR_FRACTION,
    offset: int = 0,
    limit: int | None = DEFAULT_LIMIT,
    allow_stale: bool = False,
) -> Diagnosis:
    """The root cause of ``seller_id``'s failing and near metrics as of ``as_of``.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    policy : Policy
        Its criteria give the bars; its metric options the semantics.
    seller_id : str
    as_of : datetime.date, optional
        The last marketplace-local day of every window (default: the last complete day of data).
    marketplace_id : str, optional
    metric : str, optional
        Break down this defect-driven metric whatever its standing (each window a criterion tests; the
        catalog's windows on ``all`` — or its only channel — when none does).
    near : float
        A fraction, 0 ≤ near < 1 (see the module docstring).
    offset, limit : int
        The page of groups per dimension (``limit`` None: every group).
    allow_stale : bool
        Compute although ``as_of`` is past the last complete day of data.

    Returns
    -------
    Diagnosis

    Raises
    ------
    InputError
        For an unknown or not defect-driven ``metric``, or ``near`` / the page out of range.
    NotFoundError
        If the seller has no orders in the warehouse (or on ``marketplace_id``).
    StaleDataError
        If ``as_of`` is past the last complete day (unless ``allow_stale``).
    """
    if metric is not None and metric not in DEFECT_METRICS:
        raise InputError(
            f"--metric {metric!r} cannot be broken down",
            hint="one of " + ", ".join(DEFECT_METRICS),
        )
    if not 0 <= near < 1:
        raise InputError(f"--near must be a fraction from 0 to under 1, not {near}")
    if offset < 0 or (limit is not None and limit < 1):
        raise InputError("the page of groups needs offset >= 0 and limit >= 1")
    as_of = checked_day(wh, as_of, "a diagnosis", allow_stale)
    loaded = load_inputs(wh, policy.metric_options)  # read once: the engine's, then the breakdown's
    metrics = compute_metrics(wh, as_of, policy.metric_options, seller_ids=[seller_id], inputs=loaded)
    if marketplace_id is not None:
        metrics = metrics[metrics["marketplace_id"] == marketplace_id]
    if metrics.empty:
        where = f" on {marketplace_id}" if marketplace_id else ""
        raise NotFoundError(f"seller {seller_id!r} has no orders{where} up to {as_of}")
    results = evaluate_policy(policy, metrics)
    judged = judged_windows(metrics, results, near)
    if metric is None:
        chosen = judged[judged["status"].isin(["fail", "near"])]
    else:
        chosen = judged[judged["metric"] == metric]
        if chosen.empty:
            d = CATALOG[metric]
            channel = ALL if ALL in d.channels else d.channels[0]
            mps = sorted(metrics["marketplace_id"].unique())
            chosen = pd.DataFrame(
                [
                    {"marketplace_id": mp, "metric": metric, "window_days": w, "channel": channel,
                     "status": "unjudged", "criteria": []}
                    for mp in mps for w in d.windows
                ]
            )  # fmt: skip
    chosen = chosen.assign(_s=chosen["status"].map(STATUS_ORDER.index) if len(chosen) else [])
    chosen = chosen.assign(_m=chosen["metric"].map(list(CATALOG).index) if len(chosen) else [])
    chosen = chosen.sort_values(["_s", "marketplace_id", "_m", "window_days", "channel"], kind="stable")
    targets, engine, statuses = [], [], []
    for row in chosen.to_dict("records"):
        t = Target(
            seller_id, row["marketplace_id"], row["metric"], int(row["window_days"]), row["channel"], as_of
        )
        e = _engine_row(metrics, t)
        if not _measured(e):
            continue
        targets.append(t)
        engine.append(e)
        statuses.append(row)
    inp = seller_inputs(loaded, seller_id)
    pareto, totals = pareto_frame(wh, inp, targets, offset=offset, limit=limit, keep_top=HEADLINE_MAX)
    findings = []
    for i, (t, e, row) in enumerate(zip(targets, engine, statuses, strict=True)):
        findings.append(_finding(i, t, e, row, pareto, totals))
    return Diagnosis(
        seller_id=seller_id,
        as_of=as_of,
        policy=f"{policy.name} {policy.version}",
        near=near,
        findings=findings,
        judged=judged.drop(columns="criteria").to_dict("records"),
        unavailable=dict(UNAVAILABLE),
        offset=offset,
        limit=limit,
    )


def _finding(i: int, t: Target, e: dict, row: dict, pareto: pd.DataFrame, totals: pd.DataFrame) -> Finding:
    higher = CATALOG[t.metric].higher_is_better
    num, den = int(e["numerator"]), int(e["denominator"])
    tot = totals[totals["target"] == i]
    records = int(tot["total_records"].iloc[0]) if len(tot) else 0
    defects = int(tot["total_defects"].iloc[0]) if len(tot) else 0
    if records != den or defects != (den - num if higher else num):
        raise RuntimeError(
            f"diagnose: {t.metric} {t.window_days}d {t.channel} of {t.seller_id}: the breakdown counts "
            f"{defects}/{records} records, the metric engine {num}/{den}"
        )
    g = pareto[pareto["target"] == i].drop(columns="target").reset_index(drop=True)
    for col in ("defect_rate_without", "defect_rate_without_top"):
        name = col.replace("defect_rate", "value")
        g[name] = (1 - g[col]) if higher else g[col]
    counts = g.groupby("dimension")["groups"].max().astype(int).to_dict() if len(g) else {}
    return Finding(
        target=t,
        status=row["status"],
        criteria=list(row["criteria"]),
        value=None if pd.isna(e.get("value")) else float(e["value"]),
        numerator=num,
        denominator=den,
        defects=defects,
        records=records,
        higher_is_better=higher,
        groups=g,
        group_counts={d: counts[d] for d in DIMENSIONS if d in counts},
    )


def log_frame(
    wh,
    policy: Policy,
    seller_id: str,
    as_of: date | None = None,
    *,
    marketplace_id: str | None = None,
    allow_stale: bool = False,
) -> pd.DataFrame:
    """The seller's performance log (:func:`cxops.metrics.breakdown.performance_log`): every record in
    each window of each measured defect-driven metric with its defect flag and reason.

    Raises
    ------
    NotFoundError
        If the seller has no record in any window.
    StaleDataError
        If ``as_of`` is past the last complete day (unless ``allow_stale``).
    """
    as_of = checked_day(wh, as_of, "a performance log", allow_stale)
    df = performance_log(wh, seller_id, as_of, policy.metric_options, marketplace_id)
    if df.empty:
        raise NotFoundError(f"seller {seller_id!r} has no order in any window as of {as_of}")
    return df


def write_log(df: pd.DataFrame, path: Path, fmt: str | None = None) -> Path:
    """Write a performance log all-or-nothing (CSV or Parquet by ``fmt`` or the file's suffix).

    Raises
    ------
    OutputError
        If the file cannot be written (nothing is left behind).
    """
    from cxops.report.files import write_frame_atomic

    return write_frame_atomic(df[LOG_COLUMNS], path, fmt)
