"""Section outcomes: from criterion results to met / not met / insufficient data per seller.

Rules (the policy supplies each section's ``not_measured`` mode):

- ``eligibility``, ``admission``, ``benefits``: ``not_met`` if any criterion fails (or is not measured
  under ``not_measured = "fail"``); else ``insufficient_data`` if any criterion lacks data (unless it
  is ``skip_if_insufficient``); else ``met``.
- ``removal``: a rule is breached when all its criteria fail; ``not_met`` if any rule is breached, else
  ``met``. Insufficient data and unmeasured metrics are never a breach (field case C23). ``alert`` (the
  removal rules at their alert levels) is read the same way; ``enforcement`` like ``eligibility``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.policy.model import BREACH_SECTIONS, SECTIONS, Policy

KEYS = ["seller_id", "marketplace_id"]

#: Columns of :func:`section_outcome` output, in order.
OUTCOME_COLUMNS = ["seller_id", "marketplace_id", "section", "outcome", "failed", "insufficient", "breached"]


def decision_flags(results: pd.DataFrame, policy: Policy | None = None) -> pd.DataFrame:
    """Per result row: which (seller, marketplace, section) group it is in and what it counts as.

    Parameters
    ----------
    results : DataFrame
        :func:`cxops.policy.evaluate.evaluate_criteria` / ``evaluate_policy`` output.
    policy : Policy, optional
        Supplies the ``not_measured`` modes; without it unmeasured metrics are skipped.

    Returns
    -------
    DataFrame
        Same index as ``results``: ``group`` (int, one per seller/marketplace/section), ``fail``
        (counts against the section; in removal: belongs to a breached rule), ``insufficient``
        (blocks with insufficient data), ``breached`` (removal rows of a breached rule) and ``rule``
        (removal rule id, else the criterion id).
    """
    n = len(results)
    group = results.groupby(KEYS + ["section"], sort=False).ngroup().to_numpy() if n else np.zeros(0, int)
    section = results["section"].to_numpy(object)
    result = results["result"].to_numpy(object)
    failing_modes = [s for s in SECTIONS if policy is not None and policy.not_measured_mode(s) == "fail"]
    fail = (result == "fail") | (np.isin(section, failing_modes) & (result == "not_measured"))
    if "skip_if_insufficient" in results:
        skip = results["skip_if_insufficient"].fillna(False).to_numpy(bool)
    else:
        skip = np.zeros(n, bool)
    insufficient = (result == "insufficient_data") & ~skip
    criterion = results["criterion_id"].to_numpy(object)
    if "rule_id" in results:
        rule = results["rule_id"].to_numpy(object, na_value=None)
        rule = np.where(pd.isna(rule), criterion, rule)
    else:
        rule = criterion
    breached = np.zeros(n, bool)
    removal = np.flatnonzero(np.isin(section, BREACH_SECTIONS))
    if len(removal):
        codes = pd.factorize(rule[removal])[0]
        key = group[removal] * (codes.max() + 1) + codes
        all_fail = pd.Series(fail[removal]).groupby(key).transform("all").to_numpy(bool)
        breached[removal] = all_fail
        fail[removal] = all_fail
        insufficient[removal] = False
    return pd.DataFrame(
        {"group": group, "fail": fail, "insufficient": insufficient, "breached": breached, "rule": rule},
        index=results.index,
    )


def _lists(n_groups: int, group: np.ndarray, values: np.ndarray) -> list[list]:
    out: list[list] = [[] for _ in range(n_groups)]
    for g, v in zip(group.tolist(), values.tolist(), strict=True):
        if v not in out[g]:
            out[g].append(v)
    return out


def section_outcome(
    results: pd.DataFrame, policy: Policy | None = None, flags: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Summarise criterion results per seller and section (rules in the module docstring).

    Parameters
    ----------
    results : DataFrame
        :func:`cxops.policy.evaluate.evaluate_criteria` or ``evaluate_policy`` output (any sections).
    policy : Policy, optional
        Supplies each section's ``not_measured`` mode; without it unmeasured metrics are skipped.
    flags : DataFrame, optional
        :func:`decision_flags` of ``results`` if already computed.

    Returns
    -------
    DataFrame
        Columns :data:`OUTCOME_COLUMNS`, one row per (seller, marketplace, section) present in
        ``results``. ``outcome`` is ``met``, ``not_met`` or ``insufficient_data``; ``failed`` and
        ``insufficient`` list criterion ids (for removal: the criteria of breached rules);
        ``breached`` lists breached removal rule ids. A section without criteria has no row: treat it
        as ``met``.
    """
    if results.empty:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    flags = decision_flags(results, policy) if flags is None else flags
    group = flags["group"].to_numpy()
    n_groups = int(group.max()) + 1
    first = np.unique(group, return_index=True)[1]
    out = results.iloc[first][KEYS + ["section"]].reset_index(drop=True)
    fail, insufficient, breached = (flags[c].to_numpy(bool) for c in ("fail", "insufficient", "breached"))
    any_fail = np.bincount(group, weights=fail, minlength=n_groups) > 0
    any_insufficient = np.bincount(group, weights=insufficient, minlength=n_groups) > 0
    out["outcome"] = np.select([any_fail, any_insufficient], ["not_met", "insufficient_data"], default="met")
    criterion = results["criterion_id"].to_numpy(object)
    out["failed"] = _lists(n_groups, group[fail], criterion[fail])
    out["insufficient"] = _lists(n_groups, group[insufficient], criterion[insufficient])
    out["breached"] = _lists(n_groups, group[breached], flags["rule"].to_numpy(object)[breached])
    return out[OUTCOME_COLUMNS]
