"""One evaluation's outcomes per seller, as the array state machine (:mod:`~cxops.lifecycle.batch`) reads.

:func:`decisions` reads them from criterion result rows (:func:`cxops.policy.evaluate.evaluate_policy`),
:func:`decisions_from_metrics` straight from a metrics frame without building those rows (for millions of
sellers). Both follow :func:`cxops.policy.outcome.section_outcome` and
:func:`cxops.lifecycle.evaluation.build_evaluations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxops.lifecycle.evaluation import _JUDGED
from cxops.policy.evaluate import KEYS, RESULT_COLUMNS, PreparedMetrics, prepare_metrics, section_grid
from cxops.policy.model import Policy
from cxops.policy.outcome import decision_flags

#: Section outcome codes.
MET, NOT_MET, INSUFFICIENT = 0, 1, 2
#: Findings part codes: removal rules are 0, 1, … in policy order; the alert level of rule ``j`` is
#: :func:`alert_part` ``(j)``.
ELIGIBILITY, ADMISSION, ENFORCEMENT = -1, -2, -3
_UNKNOWN = -(2**40)  # a result row of no known rule


def alert_part(j):
    """Findings part code of the alert level of removal rule ``j`` (int or array): ``-4 - j``."""
    return -4 - j


class Findings:
    """The deciding result rows of one evaluation (failures, breaches, missing data), in results order.

    Per row as arrays: ``pos`` (row of :attr:`Decisions.keys`), ``part`` (:data:`ELIGIBILITY`,
    :data:`ADMISSION`, :data:`ENFORCEMENT`, the removal rule's position, or :func:`alert_part` of it)
    and, once a replay keeps them, ``sid`` (its seller index). The rows themselves
    (:data:`RESULT_COLUMNS`) are built only for those asked (:meth:`frame`): a replay over 500 k
    sellers renders the reasons of few of them at most evaluations.
    """

    def __init__(self, blocks: list, pos, part, sid=None) -> None:
        self._blocks = [b for b in blocks if len(b)]  # GridRows or _FrameRows, rows in order
        self.pos = np.asarray(pos, np.int64)
        self.part = np.asarray(part, np.int64)
        self.sid = None if sid is None else np.asarray(sid, np.int64)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, pos, part) -> Findings:
        """Findings whose rows are already a frame (one row per finding)."""
        return cls([_FrameRows(frame.reset_index(drop=True))], pos, part)

    @classmethod
    def empty(cls) -> Findings:
        return cls([], [], [])

    def __len__(self) -> int:
        return len(self.pos)

    def with_sid(self, sid) -> Findings:
        """The same findings with the seller index of each row."""
        return Findings(self._blocks, self.pos, self.part, sid)

    def take(self, idx) -> Findings:
        """The findings at the ascending positions ``idx``."""
        idx = np.asarray(idx, np.int64)
        bounds = np.cumsum([0, *(len(b) for b in self._blocks)])
        blocks = []
        for b, lo, hi in zip(self._blocks, bounds[:-1], bounds[1:], strict=True):
            inside = idx[(idx >= lo) & (idx < hi)] - lo
            if len(inside):
                blocks.append(b.take(inside))
        sid = None if self.sid is None else self.sid[idx]
        return Findings(blocks, self.pos[idx], self.part[idx], sid)

    def frame(self, idx=None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The result rows (:data:`RESULT_COLUMNS`, or ``columns``), all or those at positions ``idx``
        (any order, repeats allowed), in that order."""
        if idx is not None:
            uniq, inverse = np.unique(np.asarray(idx, np.int64), return_inverse=True)
            return self.take(uniq).frame(columns=columns).iloc[inverse].reset_index(drop=True)
        frames = [b.frame(columns) for b in self._blocks]
        if frames:
            return pd.concat(frames, ignore_index=True)
        return pd.DataFrame(columns=list(RESULT_COLUMNS if columns is None else columns))


class _FrameRows:
    """Rows of a frame, with the :class:`cxops.policy.evaluate.GridRows` interface."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def __len__(self) -> int:
        return len(self._frame)

    def take(self, idx: np.ndarray) -> _FrameRows:
        return _FrameRows(self._frame.iloc[idx].reset_index(drop=True))

    def frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        if columns is None:
            return self._frame
        return self._frame[[c for c in columns if c in self._frame]]


@dataclass
class Decisions:
    """One evaluation's outcomes, one row per (seller, marketplace) of the results.

    Attributes
    ----------
    keys : DataFrame
        ``seller_id, marketplace_id, as_of`` (``as_of`` may be null).
    eligibility, admission : ndarray of int8
        :data:`MET`, :data:`NOT_MET` or :data:`INSUFFICIENT` (a section without criteria is met).
    breached : ndarray of bool, shape (sellers, removal rules)
        Removal rules breached at this evaluation, columns in policy order.
    findings : Findings
        The deciding result rows (failures, breaches, missing data), in results order.
    alerted : ndarray of bool, shape (sellers, removal rules), optional
        Removal rules at or over their alert level (default: none).
    enforcement : ndarray of int8, optional
        Outcome of the minimum order count (default: met).
    provisional, alert_provisional : ndarray of bool, shape (sellers, removal rules), optional
        The rule's breach (alert level) rests on a provisional value: one of its criteria is
        ``provisional`` (default: none). :func:`apply_provisional` says what that may do.
    value_provisional : ndarray of bool, shape (sellers, removal rules), optional
        Some criterion of the removal rule rests on a provisional value, whatever its outcome (the
        daily job's projected-breach alerts are marked with it; default: none).
    """

    keys: pd.DataFrame
    eligibility: np.ndarray
    admission: np.ndarray
    breached: np.ndarray
    findings: Findings
    alerted: np.ndarray | None = field(default=None)
    enforcement: np.ndarray | None = field(default=None)
    provisional: np.ndarray | None = field(default=None)
    alert_provisional: np.ndarray | None = field(default=None)
    value_provisional: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        n = len(self.keys)
        shape = self.breached.shape if self.breached.ndim == 2 else (n, 0)
        if self.alerted is None:
            self.alerted = np.zeros(shape, bool)
        if self.enforcement is None:
            self.enforcement = np.zeros(n, np.int8)
        if self.provisional is None:
            self.provisional = np.zeros(shape, bool)
        if self.alert_provisional is None:
            self.alert_provisional = np.zeros(shape, bool)
        if self.value_provisional is None:
            self.value_provisional = np.zeros(shape, bool)


def decisions(results: pd.DataFrame, policy: Policy) -> Decisions:
    """Section outcomes and breached rules per seller, from one evaluation's criterion results.

    Same rules as :func:`cxops.policy.outcome.section_outcome` and
    :func:`cxops.lifecycle.evaluation.build_evaluations`, without building objects per seller.

    Parameters
    ----------
    results : DataFrame
        :func:`cxops.policy.evaluate.evaluate_policy` output at one evaluation.
    policy : Policy
    """
    rules = [r.id for r in policy.removal.rules]
    res = results[results["section"].isin(_JUDGED)].reset_index(drop=True) if len(results) else results
    if res.empty:
        empty = np.zeros(0, np.int8)
        return Decisions(
            pd.DataFrame(columns=[*KEYS, "as_of"]),
            empty,
            empty,
            np.zeros((0, len(rules)), bool),
            Findings.empty(),
            alerted=np.zeros((0, len(rules)), bool),
        )
    flags = decision_flags(res, policy)
    pos = res.groupby(KEYS, sort=False).ngroup().to_numpy()
    n = int(pos.max()) + 1
    first = np.unique(pos, return_index=True)[1]
    as_of = res["as_of"] if "as_of" in res else pd.Series([None] * len(res))
    keys = pd.DataFrame(
        {
            "seller_id": res["seller_id"].to_numpy(object)[first],
            "marketplace_id": res["marketplace_id"].to_numpy(object)[first],
            "as_of": as_of.to_numpy(object)[first],
        }
    )
    section = res["section"].to_numpy(object)
    fail, insufficient = flags["fail"].to_numpy(bool), flags["insufficient"].to_numpy(bool)

    def outcome(name: str) -> np.ndarray:
        m = section == name
        f = np.bincount(pos[m & fail], minlength=n) > 0
        i = np.bincount(pos[m & insufficient], minlength=n) > 0
        return np.select([f, i], [NOT_MET, INSUFFICIENT], MET).astype(np.int8)

    rule_pos = pd.Series(range(len(rules)), index=rules, dtype="int64")
    part = np.full(len(res), ELIGIBILITY, np.int64)
    part[section == "admission"] = ADMISSION
    part[section == "enforcement"] = ENFORCEMENT
    by_rule, prov_rule = {}, {}
    value_prov = np.zeros((n, len(rules)), bool)
    provisional = (
        res["provisional"].fillna(False).to_numpy(bool) if "provisional" in res else np.zeros(len(res), bool)
    )
    for name in ("removal", "alert"):
        rows = section == name
        j = np.full(len(res), -1, np.int64)
        j[rows] = rule_pos.reindex(flags["rule"].to_numpy(object)[rows]).fillna(-1).to_numpy(np.int64)
        part[rows] = np.where(j[rows] < 0, _UNKNOWN, j[rows] if name == "removal" else alert_part(j[rows]))
        grid = np.zeros((n, len(rules)), bool)
        hit = rows & flags["breached"].to_numpy(bool) & (j >= 0)
        grid[pos[hit], j[hit]] = True
        by_rule[name] = grid
        prov = np.zeros((n, len(rules)), bool)
        prov[pos[hit & provisional], j[hit & provisional]] = True
        prov_rule[name] = prov
        if name == "removal":
            any_ = rows & provisional & (j >= 0)
            value_prov[pos[any_], j[any_]] = True
    deciding = (fail | insufficient) & (part != _UNKNOWN)
    findings = Findings.of_frame(res[deciding], pos[deciding], part[deciding])
    return Decisions(
        keys,
        outcome("eligibility"),
        outcome("admission"),
        by_rule["removal"],
        findings,
        alerted=by_rule["alert"],
        enforcement=outcome("enforcement"),
        provisional=prov_rule["removal"],
        alert_provisional=prov_rule["alert"],
        value_provisional=value_prov,
    )


def decisions_from_metrics(policy: Policy, metrics: pd.DataFrame | PreparedMetrics) -> Decisions:
    """:class:`Decisions` straight from a metrics frame, without the long results frame.

    Same outcomes as ``decisions(evaluate_policy(policy, metrics), policy)``: the sections are
    evaluated as (seller × criterion) grids (:func:`cxops.policy.evaluate.section_grid`) and only the
    deciding cells become result rows. This is what a replay over a million sellers wants from its
    ``get_results``.

    Parameters
    ----------
    policy : Policy
    metrics : DataFrame or PreparedMetrics
        Long metrics frame, one ``as_of`` per seller (:func:`cxops.policy.evaluate.evaluate_policy`),
        or metrics already prepared (:func:`cxops.policy.evaluate.prepare_wide` for a wide fetch).

    Raises
    ------
    ValueError
        As :func:`cxops.policy.evaluate.evaluate_criteria`.
    """
    prep = metrics if isinstance(metrics, PreparedMetrics) else prepare_metrics(metrics)
    n = len(prep.sellers)
    rules = [r.id for r in policy.removal.rules]
    codes: dict[str, np.ndarray] = {}
    by_rule = {name: np.zeros((n, len(rules)), bool) for name in ("removal", "alert")}
    prov_rule = {name: np.zeros((n, len(rules)), bool) for name in ("removal", "alert")}
    value_prov = np.zeros((n, len(rules)), bool)
    blocks, found_pos, found_part = [], [], []
    for section in _JUDGED:
        grid = section_grid(policy, prep, section)
        res = grid.result
        n_c = res.shape[1] if res.ndim == 2 else 0
        if n == 0 or n_c == 0:
            codes[section] = np.zeros(n, np.int8)
            continue
        fail = res == "fail"
        if policy.not_measured_mode(section) == "fail":
            fail |= res == "not_measured"
        skip = grid.criteria["skip_if_insufficient"].fillna(False).to_numpy(bool)
        insufficient = (res == "insufficient_data") & ~skip[None, :]
        if section in by_rule:
            crit_rule = grid.criteria["rule_id"].fillna(grid.criteria["criterion_id"]).to_numpy(object)
            rule_of = pd.Series(range(len(rules)), index=rules, dtype="int64").reindex(crit_rule).fillna(-1)
            rule_of = rule_of.to_numpy(np.int64)
            rule_fail = np.zeros_like(fail)
            provisional = grid.provisional
            for j in range(len(rules)):
                cols = rule_of == j
                if cols.any():
                    all_fail = fail[:, cols].all(axis=1)
                    by_rule[section][:, j] = all_fail
                    prov_rule[section][:, j] = all_fail & provisional[:, cols].any(axis=1)
                    if section == "removal":
                        value_prov[:, j] = provisional[:, cols].any(axis=1)
                    rule_fail[:, cols] = all_fail[:, None]
            deciding = rule_fail & (rule_of >= 0)[None, :]
            part_of = rule_of if section == "removal" else alert_part(rule_of)
            part = np.broadcast_to(part_of, res.shape)
        else:
            f_any, i_any = fail.any(axis=1), insufficient.any(axis=1)
            codes[section] = np.select([f_any, i_any], [NOT_MET, INSUFFICIENT], MET).astype(np.int8)
            deciding = fail | insufficient
            part = np.full(res.shape, _SECTION_PART[section])
        cells = np.flatnonzero(deciding.ravel())
        if len(cells):  # gathered, not yet rows: built only for the reasons rendered
            blocks.append(grid.take(cells))
            found_pos.append(cells // n_c)
            found_part.append(part.ravel()[cells])
    keys = prep.sellers[[*KEYS, "as_of"]].reset_index(drop=True)
    found = (
        Findings(blocks, np.concatenate(found_pos), np.concatenate(found_part))
        if blocks
        else Findings.empty()
    )
    return Decisions(
        keys,
        codes.get("eligibility", np.zeros(n, np.int8)),
        codes.get("admission", np.zeros(n, np.int8)),
        by_rule["removal"],
        found,
        alerted=by_rule["alert"],
        enforcement=codes.get("enforcement", np.zeros(n, np.int8)),
        provisional=prov_rule["removal"],
        alert_provisional=prov_rule["alert"],
        value_provisional=value_prov,
    )


_SECTION_PART = {"eligibility": ELIGIBILITY, "admission": ADMISSION, "enforcement": ENFORCEMENT}
