"""Vectorised evaluation of policy criteria against a metrics frame.

The criteria of a section form a small table; each criterion is matched to its metric rows once (a
column of row positions per seller), the (seller × criterion) grid is gathered with numpy from the
metrics frame (``docs/interfaces.md``, one ``as_of`` per seller), and results, comparisons and gaps
are computed column-wise. There is no Python loop over sellers.

Result of a criterion (always read from the seller's side):

- ``not_measured``: the metric's status is ``not_measured`` or the metric has no row for the seller;
- ``insufficient_data``: the tested quantity is null (status ``no_data``: zero denominator), or the
  denominator is below ``min_denominator`` (or null while a minimum is set) — field case C23;
- otherwise the comparison ``tested op threshold``: in ``eligibility``, ``admission`` and ``benefits``
  it holding is a ``pass``; in ``removal`` (and ``alert``, the removal rules at their alert levels) it
  is the breach, so it holding is a ``fail``.

Comparisons are on floats as delivered (rates are exact quotients ``numerator / denominator``, so a rate
exactly at a decimal threshold compares equal); ``gap`` uses exact integer arithmetic
(:mod:`cxops.policy.gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxops.policy.catalog import METRICS
from cxops.policy.explain import MARKETPLACE_CRITERION
from cxops.policy.gap import integer_gap, threshold_fraction
from cxops.policy.model import BREACH_SECTIONS, SECTIONS, Policy
from cxops.policy.outcome import OUTCOME_COLUMNS, section_outcome

__all__ = [
    "KEYS",
    "OUTCOME_COLUMNS",
    "RESULT_COLUMNS",
    "SectionGrid",
    "criteria_table",
    "evaluate_criteria",
    "evaluate_policy",
    "prepare_metrics",
    "section_grid",
    "section_outcome",
]

KEYS = ["seller_id", "marketplace_id"]

#: Columns of :func:`evaluate_criteria` output, in order.
RESULT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "section",
    "criterion_id",
    "label",
    "metric",
    "window_days",
    "channel",
    "test",
    "operator",
    "threshold",
    "min_denominator",
    "value",
    "numerator",
    "denominator",
    "status",
    "result",
    "gap",
    "rule_id",
    "skip_if_insufficient",
    "as_of",
    "fail_label",
]


_METRIC_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "channel",
    "metric",
    "window_days",
    "as_of",
    "numerator",
    "denominator",
    "value",
    "status",
]

_NO_WINDOW = -1


def criteria_table(policy: Policy, section: str) -> pd.DataFrame:
    """The criteria of a section as a table (one row per criterion).

    Returns
    -------
    DataFrame
        ``section, rule_id, criterion_id, label, metric, window_days, channel, test, operator,
        threshold, min_denominator, skip_if_insufficient, kind, bound_p, bound_q`` where
        ``bound_p / bound_q`` is the threshold as an exact fraction.

    Raises
    ------
    ValueError
        For an unknown section.
    """
    rows = []
    for rule_id, c in policy.criteria(section):
        p, q = threshold_fraction(c.threshold)
        rows.append(
            {
                "section": section,
                "rule_id": rule_id,
                "criterion_id": c.id,
                "label": c.display_label,
                "fail_label": c.fail_label,
                "metric": c.metric,
                "window_days": c.window_days,
                "channel": c.channel,
                "test": c.test,
                "operator": c.operator,
                "threshold": float(c.threshold),
                "min_denominator": c.min_denominator,
                "skip_if_insufficient": c.skip_if_insufficient,
                "kind": METRICS[c.metric].kind,
                "bound_p": p,
                "bound_q": q,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "section",
            "rule_id",
            "criterion_id",
            "label",
            "fail_label",
            "metric",
            "window_days",
            "channel",
            "test",
            "operator",
            "threshold",
            "min_denominator",
            "skip_if_insufficient",
            "kind",
            "bound_p",
            "bound_q",
        ],
    )
    table["window_days"] = table["window_days"].astype("Int64")
    table["threshold"] = table["threshold"].astype(float)
    table["min_denominator"] = table["min_denominator"].astype(float)
    return table


@dataclass(frozen=True)
class _Prepared:
    """A metrics frame indexed for gathers: one row per seller, metric rows by (seller, key)."""

    sellers: pd.DataFrame  # seller_id, marketplace_id, as_of — in order of first appearance
    sid: np.ndarray  # seller position of each metric row
    frame: pd.DataFrame  # the metric columns, positional index
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    status: np.ndarray  # object array


def _prepare_metrics(metrics: pd.DataFrame) -> _Prepared:
    missing = [c for c in _METRIC_COLUMNS if c not in metrics.columns]
    if missing:
        raise ValueError(f"metrics frame lacks columns: {', '.join(missing)}")
    m = metrics[_METRIC_COLUMNS].reset_index(drop=True)
    sid = m.groupby(KEYS, sort=False).ngroup().to_numpy()
    first = np.unique(sid, return_index=True)[1]
    sellers = m.loc[first, KEYS + ["as_of"]].reset_index(drop=True)
    as_of_code = pd.factorize(m["as_of"])[0]
    if len(m) and (as_of_code != as_of_code[first][sid]).any():
        raise ValueError("metrics frame holds several as_of dates for a seller; evaluate one as_of at a time")
    return _Prepared(
        sellers=sellers,
        sid=sid,
        frame=m,
        numerator=pd.to_numeric(m["numerator"], errors="coerce").to_numpy(float, na_value=np.nan),
        denominator=pd.to_numeric(m["denominator"], errors="coerce").to_numpy(float, na_value=np.nan),
        value=pd.to_numeric(m["value"], errors="coerce").to_numpy(float, na_value=np.nan),
        status=m["status"].to_numpy(object, na_value=None),
    )


def _positions(prep: _Prepared, crit: pd.DataFrame) -> np.ndarray:
    """``pos[seller, criterion]``: the metric row of each seller for each criterion, -1 if none.

    Raises
    ------
    ValueError
        If a seller has several rows for a metric/window/channel a criterion uses.
    """
    m = prep.frame
    n_sellers = len(prep.sellers)
    window = pd.array(m["window_days"], dtype="Int64").fillna(_NO_WINDOW).to_numpy("int64")
    pos = np.full((n_sellers, len(crit)), -1, dtype=np.int64)
    cache: dict[tuple, np.ndarray] = {}
    for j, (metric, w, channel) in enumerate(
        zip(crit["metric"], crit["window_days"].fillna(_NO_WINDOW), crit["channel"], strict=True)
    ):
        if metric is None or pd.isna(metric):
            continue
        key = (metric, int(w), channel)
        if key not in cache:
            mask = m["metric"].eq(metric).to_numpy(bool) & (window == int(w))
            mask &= m["channel"].eq(channel).to_numpy(bool)
            rows = np.flatnonzero(mask)
            column = np.full(n_sellers, -1, dtype=np.int64)
            if len(rows):
                counts = np.bincount(prep.sid[rows], minlength=n_sellers)
                if counts.max() > 1:
                    dup = prep.sellers.iloc[int(np.argmax(counts))]
                    raise ValueError(
                        f"metrics frame has duplicate rows, e.g. {dup.seller_id}/{dup.marketplace_id} "
                        f"{metric} {None if w == _NO_WINDOW else int(w)} {channel}"
                    )
                column[prep.sid[rows]] = rows
            cache[key] = column
        pos[:, j] = cache[key]
    return pos


def _compare(tested: np.ndarray, op: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.select(
            [op == "<", op == "<=", op == ">", op == ">=", op == "=="],
            [
                tested < threshold,
                tested <= threshold,
                tested > threshold,
                tested >= threshold,
                tested == threshold,
            ],
            default=False,
        )


def _is_count(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x >= 0) & (np.floor(x) == x) & (x < 2**53)


def _gaps(
    num: np.ndarray,
    den: np.ndarray,
    tested: np.ndarray,
    test: np.ndarray,
    kind: np.ndarray,
    operator: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    decided: np.ndarray,
) -> np.ndarray:
    """Gap per row (float, nan where none); see :mod:`cxops.policy.gap`."""
    rate_value = (test == "value") & (kind == "rate") & _is_count(num) & _is_count(den)
    with np.errstate(invalid="ignore"):
        rate_value &= (den > 0) & (num <= den)
    count_value = (test == "value") & np.isin(kind, ["count", "days"]) & _is_count(tested)
    count_test = np.isin(test, ["numerator", "denominator"]) & _is_count(tested)
    usable = decided & (rate_value | count_value | count_test)
    x = np.where(usable, np.where(rate_value, num, tested), 0).astype(np.int64)
    den_i = np.where(usable & rate_value, den, 1).astype(np.int64)
    safe = np.abs(p.astype(float) * den_i.astype(float)) < 2**62  # overflow guard for p * den
    usable &= safe
    bound_num = p * np.where(safe, den_i, 1)
    bounded_by_den = rate_value | ((test == "numerator") & (kind == "rate") & _is_count(den))
    hi = np.where(bounded_by_den, np.where(np.isfinite(den), den, np.inf), np.inf)
    gap = integer_gap(x, bound_num, q, operator, np.zeros(len(x)), hi)
    return np.where(usable, gap, np.nan)


def _with_marketplace_row(policy: Policy, crit: pd.DataFrame, section: str) -> pd.DataFrame:
    if section != "eligibility" or not policy.marketplaces:
        return crit
    row = {c: None for c in crit.columns}
    row.update(
        section=section,
        criterion_id=MARKETPLACE_CRITERION,
        label="marketplace in program",
        fail_label="marketplace not in program",
        test="value",
        skip_if_insufficient=False,
        kind="marketplace",
        bound_p=0,
        bound_q=1,
    )
    out = pd.concat(
        [pd.DataFrame([row]).astype({"bound_p": "int64", "bound_q": "int64"}), crit], ignore_index=True
    )
    out["window_days"] = out["window_days"].astype("Int64")
    return out


@dataclass(frozen=True)
class SectionGrid:
    """One section's criterion results as a (seller × criterion) grid, before any long frame is built.

    Attributes
    ----------
    section : str
    sellers : DataFrame
        ``seller_id, marketplace_id, as_of``, one row per seller (grid rows), in order of first
        appearance in the metrics frame.
    criteria : DataFrame
        :func:`criteria_table` of the section (grid columns), with the ``marketplace_in_program`` row
        first when the policy lists marketplaces.
    result : ndarray of str, shape (sellers, criteria)
        ``pass``, ``fail``, ``insufficient_data`` or ``not_measured`` (see the module docstring).
    """

    section: str
    sellers: pd.DataFrame
    criteria: pd.DataFrame
    result: np.ndarray
    _cells: dict

    def frame(self, cells: np.ndarray | None = None) -> pd.DataFrame:
        """Result rows (:data:`RESULT_COLUMNS`) of the given flat cell positions (row-major:
        ``seller * n_criteria + criterion``), default all, in that order."""
        n_s, n_c = self.result.shape
        cells = np.arange(n_s * n_c) if cells is None else np.asarray(cells, np.int64)
        c = {k: v[cells] for k, v in self._cells.items()}
        s_idx, c_idx = cells // max(n_c, 1), cells % max(n_c, 1)
        crit, sellers = self.criteria, self.sellers
        result = self.result.ravel()[cells]
        marketplace = c["kind"] == "marketplace"
        decided = np.isin(result, ["pass", "fail"]) & ~marketplace
        gap = _gaps(
            c["num"],
            c["den"],
            c["tested"],
            c["test"],
            c["kind"],
            c["op"],
            c["bound_p"],
            c["bound_q"],
            decided,
        )
        return pd.DataFrame(
            {
                "seller_id": sellers["seller_id"].take(s_idx).reset_index(drop=True),
                "marketplace_id": sellers["marketplace_id"].take(s_idx).reset_index(drop=True),
                "section": self.section,
                "criterion_id": crit["criterion_id"].take(c_idx).reset_index(drop=True),
                "label": crit["label"].take(c_idx).reset_index(drop=True),
                "metric": crit["metric"].take(c_idx).reset_index(drop=True),
                "window_days": crit["window_days"].take(c_idx).reset_index(drop=True),
                "channel": crit["channel"].take(c_idx).reset_index(drop=True),
                "test": c["test"],
                "operator": c["op"],
                "threshold": c["threshold"],
                "min_denominator": c["min_den"],
                "value": c["val"],
                "numerator": c["num"],
                "denominator": c["den"],
                "status": c["status"],
                "result": result,
                "gap": pd.array(gap, dtype="Int64"),  # integral floats; nan -> <NA>
                "rule_id": crit["rule_id"].take(c_idx).reset_index(drop=True),
                "skip_if_insufficient": crit["skip_if_insufficient"].to_numpy(bool)[c_idx],
                "as_of": sellers["as_of"].take(s_idx).reset_index(drop=True),
                "fail_label": crit["fail_label"].take(c_idx).reset_index(drop=True),
            }
        )


def section_grid(policy: Policy, prep: _Prepared, section: str) -> SectionGrid:
    """Evaluate one section on prepared metrics as a grid (see :class:`SectionGrid`)."""
    crit = _with_marketplace_row(policy, criteria_table(policy, section), section)
    n_s, n_c = len(prep.sellers), len(crit)
    s_idx = np.repeat(np.arange(n_s), n_c)
    c_idx = np.tile(np.arange(n_c), n_s)
    row = _positions(prep, crit)[s_idx, c_idx] if n_s and n_c else np.zeros(0, np.int64)
    has = row >= 0

    def gather(values: np.ndarray, missing):
        return np.where(has, values[row], missing) if len(values) else np.full(len(row), missing)

    num = gather(prep.numerator, np.nan).astype(float)
    den = gather(prep.denominator, np.nan).astype(float)
    val = gather(prep.value, np.nan).astype(float)
    status = gather(prep.status, None).astype(object)

    def criterion(column: str, dtype=None) -> np.ndarray:
        values = crit[column].to_numpy(dtype) if dtype else crit[column].to_numpy(object)
        return values[c_idx]

    test, kind, op = criterion("test"), criterion("kind"), criterion("operator")
    threshold = crit["threshold"].to_numpy(float, na_value=np.nan)[c_idx]
    min_den = crit["min_denominator"].to_numpy(float, na_value=np.nan)[c_idx]
    tested = np.select([test == "numerator", test == "denominator"], [num, den], default=val)
    not_measured = ~has | (status == "not_measured")
    with np.errstate(invalid="ignore"):
        insufficient = np.isnan(tested) | (~np.isnan(min_den) & (np.isnan(den) | (den < min_den)))
    holds = _compare(tested, op, threshold)
    when_holds, otherwise = ("fail", "pass") if section in BREACH_SECTIONS else ("pass", "fail")
    result = np.select(
        [not_measured, insufficient, holds],
        ["not_measured", "insufficient_data", when_holds],
        default=otherwise,
    ).astype(object)
    marketplace = kind == "marketplace"
    if marketplace.any():
        inside = prep.sellers["marketplace_id"].isin(policy.marketplaces).to_numpy(bool)[s_idx]
        result = np.where(marketplace, np.where(inside, "pass", "fail"), result)
        status = np.where(marketplace, "ok", status)
    cells = {
        "num": num,
        "den": den,
        "val": val,
        "status": status,
        "test": test,
        "kind": kind,
        "op": op,
        "threshold": threshold,
        "min_den": min_den,
        "tested": tested,
        "bound_p": crit["bound_p"].to_numpy(np.int64)[c_idx],
        "bound_q": crit["bound_q"].to_numpy(np.int64)[c_idx],
    }
    return SectionGrid(section, prep.sellers, crit, result.reshape(n_s, n_c), cells)


def prepare_metrics(metrics: pd.DataFrame) -> _Prepared:
    """Index a long metrics frame for :func:`section_grid` (checks its columns and one ``as_of`` per seller).

    Raises
    ------
    ValueError
        For missing metric columns or several ``as_of`` per seller.
    """
    return _prepare_metrics(metrics)


def _evaluate_prepared(policy: Policy, prep: _Prepared, section: str) -> pd.DataFrame:
    if (
        len(prep.sellers) == 0
        or len(_with_marketplace_row(policy, criteria_table(policy, section), section)) == 0
    ):
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return section_grid(policy, prep, section).frame()


def evaluate_criteria(policy: Policy, metrics: pd.DataFrame, section: str) -> pd.DataFrame:
    """Evaluate the criteria of one section for every seller of the metrics frame.

    Parameters
    ----------
    policy : Policy
    metrics : DataFrame
        Long metrics frame of ``docs/interfaces.md`` (``seller_id, marketplace_id, channel, metric,
        window_days, as_of, numerator, denominator, value, status``), one ``as_of`` per seller.
    section : {"eligibility", "admission", "removal", "benefits", "alert", "enforcement"}

    Returns
    -------
    DataFrame
        One row per (seller_id, marketplace_id, criterion), sellers in order of first appearance and
        criteria in policy order; columns :data:`RESULT_COLUMNS`. ``result`` is ``pass``, ``fail``,
        ``insufficient_data`` or ``not_measured``; ``value``/``numerator``/``denominator``/``status``
        are the metric's; ``gap`` (Int64, nullable) is the signed change of the tested integer
        quantity — for a rate tested on its value, of the numerator at the same denominator — that
        would flip the result (:mod:`cxops.policy.gap`); null for hours/index values, ``==``, and rows
        without a pass/fail. In ``eligibility``, when the policy lists marketplaces, a first row
        ``marketplace_in_program`` (no metric) fails for sellers outside them ("marketplace not in
        program").

    Raises
    ------
    ValueError
        For an unknown section, missing metric columns, several ``as_of`` per seller, or duplicate
        metric rows for a metric/window/channel a criterion uses.
    """
    return _evaluate_prepared(policy, _prepare_metrics(metrics), section)


def evaluate_policy(policy: Policy, metrics: pd.DataFrame) -> pd.DataFrame:
    """Evaluate every section (:data:`cxops.policy.model.SECTIONS`) and concatenate the results.

    This is what the lifecycle replay expects from ``get_results``. See :func:`evaluate_criteria`.
    """
    prep = _prepare_metrics(metrics)
    frames = [f for f in (_evaluate_prepared(policy, prep, s) for s in SECTIONS) if len(f)]
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    return pd.concat(frames, ignore_index=True)
