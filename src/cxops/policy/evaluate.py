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

A result is **provisional** (``provisional`` true, with the metric's ``coverage``) when the metric's
input coverage over the last days of its window is below the criterion's ``min_coverage`` (default the
policy's ``[provisional] min_coverage``; :class:`cxops.policy.model.Provisional` says what a
provisional breach may do). The result itself is computed as usual.

Comparisons are on floats as delivered (rates are exact quotients ``numerator / denominator``, so a rate
exactly at a decimal threshold compares equal); ``gap`` uses exact integer arithmetic
(:mod:`cxops.policy.gap`).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    "PreparedMetrics",
    "RESULT_COLUMNS",
    "SectionGrid",
    "criteria_table",
    "criterion_specs",
    "evaluate_criteria",
    "evaluate_policy",
    "prepare_metrics",
    "prepare_wide",
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
    "coverage",
    "provisional",
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
        threshold, min_denominator, skip_if_insufficient, kind, bound_p, bound_q, min_coverage`` where
        ``bound_p / bound_q`` is the threshold as an exact fraction and ``min_coverage`` the coverage
        below which the criterion's metric is provisional.

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
                "min_coverage": policy.min_coverage(c),
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
            "min_coverage",
        ],
    )
    table["min_coverage"] = table["min_coverage"].astype(float)
    table["window_days"] = table["window_days"].astype("Int64")
    table["threshold"] = table["threshold"].astype(float)
    table["min_denominator"] = table["min_denominator"].astype(float)
    return table


@dataclass(frozen=True)
class _Prepared:
    """Metrics indexed for gathers: one row per seller, metric rows by (seller, key).

    Built from a long metrics frame (:func:`prepare_metrics`: ``frame`` holds the rows, ``sid`` their
    seller) or from a wide fetch (:func:`prepare_wide`: one block of ``len(sellers)`` rows per
    (metric, window, channel) in ``specs``; ``frame`` and ``sid`` are None).
    """

    sellers: pd.DataFrame  # seller_id, marketplace_id, as_of — in order of first appearance
    sid: np.ndarray | None  # seller position of each metric row
    frame: pd.DataFrame | None  # the metric columns, positional index
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    status: np.ndarray  # object array; None where a seller has no row
    specs: dict[tuple, int] | None = None  # wide: (metric, window or -1, channel) -> block
    coverage: np.ndarray | None = None  # float, NaN where none; None: no coverage known


#: Public name of the prepared-metrics type (:func:`prepare_metrics`, :func:`prepare_wide`).
PreparedMetrics = _Prepared


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
        coverage=(
            pd.to_numeric(metrics["coverage"], errors="coerce").to_numpy(float, na_value=np.nan)
            if "coverage" in metrics.columns
            else None
        ),
    )


def _positions(prep: _Prepared, crit: pd.DataFrame) -> np.ndarray:
    """``pos[seller, criterion]``: the metric row of each seller for each criterion, -1 if none.

    Raises
    ------
    ValueError
        If a seller has several rows for a metric/window/channel a criterion uses.
    """
    if prep.specs is not None:
        return _wide_positions(prep, crit)
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


def _wide_positions(prep: _Prepared, crit: pd.DataFrame) -> np.ndarray:
    """:func:`_positions` of wide prepared metrics: block ``k`` of a spec, -1 where a seller has no row."""
    n = len(prep.sellers)
    pos = np.full((n, len(crit)), -1, dtype=np.int64)
    for j, (metric, w, channel) in enumerate(
        zip(crit["metric"], crit["window_days"].fillna(_NO_WINDOW), crit["channel"], strict=True)
    ):
        if metric is None or pd.isna(metric):
            continue
        k = prep.specs.get((metric, int(w), channel))
        if k is None:
            continue
        rows = np.arange(k * n, (k + 1) * n, dtype=np.int64)
        pos[:, j] = np.where(prep.status[rows] != None, rows, -1)  # noqa: E711 (object array)
    return pos


def criterion_specs(policy: Policy) -> list[tuple[str, int | None, str]]:
    """Distinct ``(metric, window_days, channel)`` the criteria of every section test, in policy order."""
    out: dict[tuple, None] = {}
    for section in SECTIONS:
        for _, c in policy.criteria(section):
            out[(c.metric, c.window_days, c.channel)] = None
    return list(out)


def prepare_wide(
    sellers: pd.DataFrame,
    specs: list[tuple[str, int | None, str]],
    numerator: np.ndarray,
    denominator: np.ndarray,
    value: np.ndarray,
    status: np.ndarray,
    coverage: np.ndarray | None = None,
) -> _Prepared:
    """Index metrics fetched wide (one row per seller, one column per spec) for :func:`section_grid`.

    The same results as :func:`prepare_metrics` of the equivalent long frame, without building it.

    Parameters
    ----------
    sellers : DataFrame
        ``seller_id, marketplace_id, as_of``, one row per seller (grid rows, in this order).
    specs : list of (metric, window_days or None, channel)
        The columns, e.g. :func:`criterion_specs`.
    numerator, denominator, value : ndarray of float, shape (sellers, specs)
        NaN where null.
    status : ndarray of object, shape (sellers, specs)
        ``ok``, ``no_data``, ``not_measured`` or ``provisional``; None where the seller has no row for
        the spec.
    coverage : ndarray of float, shape (sellers, specs), optional
        The metrics' coverage (NaN where none).

    Raises
    ------
    ValueError
        If the arrays do not have the shape ``(len(sellers), len(specs))``.
    """
    shape = (len(sellers), len(specs))
    for name, a in (
        ("numerator", numerator),
        ("denominator", denominator),
        ("value", value),
        ("status", status),
        *([] if coverage is None else [("coverage", coverage)]),
    ):
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape}")
    index = {
        (m, _NO_WINDOW if w is None or pd.isna(w) else int(w), c): k for k, (m, w, c) in enumerate(specs)
    }

    def flat(a: np.ndarray, dtype) -> np.ndarray:
        return np.ascontiguousarray(a.T, dtype=dtype).reshape(-1)

    return _Prepared(
        sellers=sellers.reset_index(drop=True)[KEYS + ["as_of"]],
        sid=None,
        frame=None,
        numerator=flat(numerator, float),
        denominator=flat(denominator, float),
        value=flat(value, float),
        status=flat(status, object),
        specs=index,
        coverage=None if coverage is None else flat(coverage, float),
    )


#: Criterion operators, by the code :func:`_compare` takes.
_OPERATORS = ("<", "<=", ">", ">=", "==")


def _compare(tested: np.ndarray, op_code: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """``tested <op> threshold`` per cell, ``op_code`` indexing :data:`_OPERATORS` (False for -1)."""
    with np.errstate(invalid="ignore"):
        return np.select(
            [op_code == i for i in range(len(_OPERATORS))],
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

    @property
    def provisional(self) -> np.ndarray:
        """ndarray of bool, shape (sellers, criteria): the result rests on a provisional metric."""
        return np.asarray(self._cells["provisional"], bool).reshape(self.result.shape)

    def take(self, cells: np.ndarray | None = None) -> GridRows:
        """The given flat cell positions (row-major: ``seller * n_criteria + criterion``), default all,
        in that order, gathered as arrays (:class:`GridRows`): no frame is built."""
        n_s, n_c = self.result.shape
        cells = np.arange(n_s * n_c) if cells is None else np.asarray(cells, np.int64)
        return GridRows(
            self.section,
            self.sellers,
            self.criteria,
            cells // max(n_c, 1),
            cells % max(n_c, 1),
            self.result.ravel()[cells],
            {k: v[cells] for k, v in self._cells.items()},
        )

    def frame(self, cells: np.ndarray | None = None) -> pd.DataFrame:
        """Result rows (:data:`RESULT_COLUMNS`) of the given flat cell positions (row-major:
        ``seller * n_criteria + criterion``), default all, in that order."""
        return self.take(cells).frame()


@dataclass(frozen=True)
class GridRows:
    """Some cells of a :class:`SectionGrid`, gathered as arrays: the result rows they are, built as a
    frame only when asked (:meth:`frame`). A replay keeps each evaluation's deciding cells so and
    builds rows only for the reasons it renders.

    Attributes
    ----------
    section : str
    sellers : DataFrame
        ``seller_id, marketplace_id, as_of``; row ``s_idx[i]`` is the seller of cell ``i``.
    criteria : DataFrame
        The grid's criteria; row ``c_idx[i]`` is the criterion of cell ``i``.
    s_idx, c_idx : ndarray of int64, shape (cells,)
    result : ndarray of str, shape (cells,)
    cells : dict of str to ndarray, each shape (cells,)
        The grid's per-cell values (numerator, denominator, value, status, test, …).
    """

    section: str
    sellers: pd.DataFrame
    criteria: pd.DataFrame
    s_idx: np.ndarray
    c_idx: np.ndarray
    result: np.ndarray
    cells: dict

    def __len__(self) -> int:
        return len(self.result)

    def take(self, idx: np.ndarray) -> GridRows:
        """The cells at positions ``idx``; the sellers frame is cut to theirs (a kept subset does not
        hold every seller of its evaluation)."""
        idx = np.asarray(idx, np.int64)
        seller_rows, s_idx = np.unique(self.s_idx[idx], return_inverse=True)
        return GridRows(
            self.section,
            self.sellers.iloc[seller_rows].reset_index(drop=True),
            self.criteria,
            s_idx.astype(np.int64),
            self.c_idx[idx],
            self.result[idx],
            {k: v[idx] for k, v in self.cells.items()},
        )

    def frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The result rows (:data:`RESULT_COLUMNS`, or those of ``columns`` in their order), in cell
        order; a column not asked for is not computed (``gap`` is most of the work)."""
        c, s_idx, c_idx, result = self.cells, self.s_idx, self.c_idx, self.result
        crit, sellers = self.criteria, self.sellers

        def gap():
            marketplace = c["kind"] == "marketplace"
            decided = np.isin(result, ["pass", "fail"]) & ~marketplace
            gaps = _gaps(
                c["num"], c["den"], c["tested"], c["test"], c["kind"], c["op"], c["bound_p"], c["bound_q"],
                decided,
            )  # fmt: skip
            return pd.array(gaps, dtype="Int64")  # integral floats; nan -> <NA>

        def of_seller(name):
            return lambda: sellers[name].take(s_idx).reset_index(drop=True)

        def of_criterion(name):
            return lambda: crit[name].take(c_idx).reset_index(drop=True)

        build = {
            "seller_id": of_seller("seller_id"),
            "marketplace_id": of_seller("marketplace_id"),
            "section": lambda: self.section,
            "criterion_id": of_criterion("criterion_id"),
            "label": of_criterion("label"),
            "metric": of_criterion("metric"),
            "window_days": of_criterion("window_days"),
            "channel": of_criterion("channel"),
            "test": lambda: c["test"],
            "operator": lambda: c["op"],
            "threshold": lambda: c["threshold"],
            "min_denominator": lambda: c["min_den"],
            "value": lambda: c["val"],
            "numerator": lambda: c["num"],
            "denominator": lambda: c["den"],
            "status": lambda: c["status"],
            "result": lambda: result,
            "gap": gap,
            "rule_id": of_criterion("rule_id"),
            "skip_if_insufficient": lambda: crit["skip_if_insufficient"].to_numpy(bool)[c_idx],
            "as_of": of_seller("as_of"),
            "fail_label": of_criterion("fail_label"),
            "coverage": lambda: c["coverage"],
            "provisional": lambda: c["provisional"],
        }
        names = RESULT_COLUMNS if columns is None else columns
        return pd.DataFrame({name: build[name]() for name in names}, index=pd.RangeIndex(len(result)))


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
    if prep.coverage is not None:
        coverage = gather(prep.coverage, np.nan).astype(float)
    else:
        coverage = np.full(len(row), np.nan)

    def criterion(column: str, dtype=None) -> np.ndarray:
        values = crit[column].to_numpy(dtype) if dtype else crit[column].to_numpy(object)
        return values[c_idx]

    test, kind, op = criterion("test"), criterion("kind"), criterion("operator")
    threshold = crit["threshold"].to_numpy(float, na_value=np.nan)[c_idx]
    min_den = crit["min_denominator"].to_numpy(float, na_value=np.nan)[c_idx]
    min_cov = crit["min_coverage"].to_numpy(float, na_value=np.nan)[c_idx]
    # per criterion, then spread over the cells: no string comparison per cell
    tests, ops = crit["test"].tolist(), crit["operator"].tolist()
    test_code = np.array([{"numerator": 0, "denominator": 1}.get(t, 2) for t in tests], np.int8)[c_idx]
    op_code = np.array([_OPERATORS.index(o) if o in _OPERATORS else -1 for o in ops], np.int8)[c_idx]
    tested = np.select([test_code == 0, test_code == 1], [num, den], default=val)
    not_measured = ~has | (status == "not_measured")
    with np.errstate(invalid="ignore"):
        insufficient = np.isnan(tested) | (~np.isnan(min_den) & (np.isnan(den) | (den < min_den)))
    holds = _compare(tested, op_code, threshold)
    when_holds, otherwise = ("fail", "pass") if section in BREACH_SECTIONS else ("pass", "fail")
    outcome = np.select([not_measured, insufficient, holds], [0, 1, 2], default=3)
    result = np.array(["not_measured", "insufficient_data", when_holds, otherwise], object)[outcome]
    with np.errstate(invalid="ignore"):
        # below the criterion's level; a frame without coverage but marked provisional counts too
        provisional = (coverage < min_cov) | (np.isnan(coverage) & (status == "provisional"))
    provisional &= ~not_measured
    marketplace = (crit["kind"].to_numpy(object) == "marketplace")[c_idx]
    if marketplace.any():
        inside = prep.sellers["marketplace_id"].isin(policy.marketplaces).to_numpy(bool)[s_idx]
        result = np.where(marketplace, np.where(inside, "pass", "fail"), result)
        status = np.where(marketplace, "ok", status)
        provisional &= ~marketplace
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
        "coverage": coverage,
        "provisional": provisional,
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
