"""Benefits of program members at the last evaluation (``[benefits]`` of the policy).

Members are sellers ``enrolled`` or ``at_risk`` (warned but still in the program) at the last
evaluation date of ``statuses``. They get:

- every standard benefit;
- each tiered incentive whose criterion passed at each of the last ``evaluations`` evaluation dates
  (reference: on-time delivery rate ≥ 98 % in each of the last 3 months), restricted to the incentive's
  marketplaces and categories (case-insensitive substrings of ``primary_category``); the tier is the
  highest whose ``at_least`` the *weakest* of those values reaches (5 % at ≥ 98 %, 7.5 % at ≥ 99 %,
  10 % at ≥ 99.5 %);
- each recommendation whose criterion passed at the last evaluation, in its marketplaces
  (reference: transparency recommendation in US/CA with valid tracking rate ≥ 99 %).

Source: ``program.md``, "Benefits of enrolled sellers".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.lifecycle.machine import MEMBERS
from cxops.policy.evaluate import KEYS
from cxops.policy.explain import format_quantity
from cxops.policy.model import Incentive, Policy, Recommendation

BENEFIT_COLUMNS = ["seller_id", "marketplace_id", "benefit", "detail", "value"]


def _category_match(members: pd.DataFrame, sellers: pd.DataFrame | None, categories: list[str]) -> pd.Series:
    if not categories:
        return pd.Series(True, index=members.index)
    if sellers is None or "primary_category" not in sellers:
        return pd.Series(False, index=members.index)
    cats = members.merge(sellers[KEYS + ["primary_category"]].drop_duplicates(KEYS), on=KEYS, how="left")
    text = cats["primary_category"].fillna("").astype(str).str.lower()
    hit = np.zeros(len(cats), dtype=bool)
    for category in categories:
        hit |= text.str.contains(category.lower(), regex=False).to_numpy()
    return pd.Series(hit, index=members.index)


def _scope(members: pd.DataFrame, sellers, marketplaces: list[str], categories: list[str]) -> pd.DataFrame:
    members = members.reset_index(drop=True)
    keep = _category_match(members, sellers, categories)
    if marketplaces:
        keep &= members["marketplace_id"].isin(marketplaces)
    return members[keep]


def _criterion_rows(history: pd.DataFrame, rule_id: str, criterion_id: str) -> pd.DataFrame:
    if history.empty:
        return history
    mask = (history["section"] == "benefits") & (history["criterion_id"] == criterion_id)
    if "rule_id" in history:
        mask &= history["rule_id"].isna() | (history["rule_id"] == rule_id)
    return history[mask]


def _incentive(
    incentive: Incentive, members: pd.DataFrame, history: pd.DataFrame, sellers, last
) -> pd.DataFrame:
    scoped = _scope(members, sellers, incentive.marketplaces, incentive.categories)
    rows = _criterion_rows(history, incentive.id, incentive.criterion.id)
    if scoped.empty or rows.empty:
        return pd.DataFrame(columns=BENEFIT_COLUMNS)
    dates = sorted(d for d in rows["evaluation_date"].unique() if d <= last)[-incentive.evaluations :]
    if len(dates) < incentive.evaluations:
        return pd.DataFrame(columns=BENEFIT_COLUMNS)
    window = rows[rows["evaluation_date"].isin(dates)].merge(scoped, on=KEYS)
    judged = window.groupby(KEYS).agg(
        n=("evaluation_date", "nunique"),
        passed=("result", lambda r: bool((r == "pass").all())),
        weakest=("value", "min"),
    )
    judged = judged[(judged["n"] == incentive.evaluations) & judged["passed"]].reset_index()
    bars = np.array([t.at_least for t in incentive.tiers])
    tier_index = np.searchsorted(bars, judged["weakest"].to_numpy(float), side="right") - 1
    judged = judged[tier_index >= 0].assign(tier=tier_index[tier_index >= 0])
    metric = incentive.criterion.metric
    label = incentive.criterion.display_label
    judged["benefit"] = incentive.id
    judged["detail"] = [
        f"{incentive.label}: {incentive.tiers[t].label} (weakest {label} of the last "
        f"{incentive.evaluations} evaluations: {format_quantity(w, metric)})"
        for t, w in zip(judged["tier"], judged["weakest"], strict=True)
    ]
    judged["value"] = [incentive.tiers[t].value for t in judged["tier"]]
    return judged[BENEFIT_COLUMNS]


def _recommendation(
    rec: Recommendation, members: pd.DataFrame, history: pd.DataFrame, sellers, last
) -> pd.DataFrame:
    scoped = _scope(members, sellers, rec.marketplaces, rec.categories)
    rows = _criterion_rows(history, rec.id, rec.criterion.id)
    if scoped.empty or rows.empty:
        return pd.DataFrame(columns=BENEFIT_COLUMNS)
    latest = rows[(rows["evaluation_date"] == last) & (rows["result"] == "pass")].merge(scoped, on=KEYS)
    metric = rec.criterion.metric
    latest = latest.assign(
        benefit=rec.id,
        detail=[
            f"{rec.label} ({rec.criterion.display_label} {format_quantity(v, metric)})"
            for v in latest["value"]
        ],
    )
    return latest[BENEFIT_COLUMNS]


def compute_benefits(
    policy: Policy,
    statuses: pd.DataFrame,
    results_history: pd.DataFrame,
    sellers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Benefits of the sellers who are members at the last evaluation.

    Parameters
    ----------
    policy : Policy
    statuses : DataFrame
        :attr:`cxops.lifecycle.replay.ReplayResult.statuses` (``seller_id, marketplace_id,
        evaluation_date, state``).
    results_history : DataFrame
        :attr:`cxops.lifecycle.replay.ReplayResult.results`: criterion results of every evaluation
        with an ``evaluation_date`` column (benefit criteria are in section ``benefits``).
    sellers : DataFrame, optional
        ``seller_id, marketplace_id, primary_category``; needed for category-restricted incentives.

    Returns
    -------
    DataFrame
        ``seller_id, marketplace_id, benefit, detail, value``: one row per benefit granted. ``value``
        is the tier value for incentives (a fraction, 0.05 = 5 % discount), the metric value for
        recommendations, null for standard benefits.
    """
    if statuses.empty:
        return pd.DataFrame(columns=BENEFIT_COLUMNS)
    last = statuses["evaluation_date"].max()
    at_last = statuses[statuses["evaluation_date"] == last]
    members = at_last[at_last["state"].isin([s.value for s in MEMBERS])][KEYS].drop_duplicates()
    frames = []
    if policy.benefits.standard and not members.empty:
        standard = pd.DataFrame(
            [{"benefit": b.id, "detail": b.label, "value": np.nan} for b in policy.benefits.standard]
        )
        frames.append(members.merge(standard, how="cross"))
    history = results_history if results_history is not None else pd.DataFrame()
    for incentive in policy.benefits.incentives:
        frames.append(_incentive(incentive, members, history, sellers, last))
    for rec in policy.benefits.recommendations:
        frames.append(_recommendation(rec, members, history, sellers, last))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=BENEFIT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[BENEFIT_COLUMNS]
    out["value"] = out["value"].astype(float)
    return out.sort_values(KEYS, kind="stable").reset_index(drop=True)
