"""Turn criterion results (a DataFrame) into per-seller :class:`~cxops.lifecycle.machine.Evaluation` objects.

The section outcomes are computed vectorised (:func:`cxops.policy.evaluate.section_outcome`); only the
criteria that decide something (failures, breaches, missing data) become :class:`Finding` objects.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cxops.lifecycle.machine import Evaluation, Finding
from cxops.policy.evaluate import KEYS, RESULT_COLUMNS
from cxops.policy.explain import criterion_reason, tested_quantity
from cxops.policy.model import Policy
from cxops.policy.outcome import decision_flags, section_outcome

#: Sections the state machine reads (benefits are judged separately, after the replay).
_JUDGED = ("eligibility", "admission", "removal", "alert", "enforcement")


def _scalar(x: Any) -> Any:
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, float) and x != x:  # NaN
        return None
    return x.item() if hasattr(x, "item") else x


def _as_date(x: Any) -> date | None:
    x = _scalar(x)
    if isinstance(x, pd.Timestamp):
        return x.date()
    return x


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (nulls as None); faster than ``to_dict`` on Arrow columns."""
    present = [c for c in columns if c in frame]
    arrays = [frame[c].to_numpy(object, na_value=None) for c in present]
    return [dict(zip(present, values, strict=True)) for values in zip(*arrays, strict=True)]


def finding_from_row(row: dict[str, Any]) -> Finding:
    """A :class:`Finding` from one result row (a dict of :data:`cxops.policy.evaluate.RESULT_COLUMNS`)."""
    window = _scalar(row.get("window_days"))
    threshold = _scalar(row.get("threshold"))
    value = _scalar(tested_quantity(row))
    numerator, denominator = _scalar(row.get("numerator")), _scalar(row.get("denominator"))
    return Finding(
        criterion_id=row["criterion_id"],
        rule_id=_scalar(row.get("rule_id")),
        metric=_scalar(row.get("metric")),
        window_days=int(window) if window is not None else None,
        channel=_scalar(row.get("channel")),
        test=row.get("test") or "value",
        operator=_scalar(row.get("operator")),
        threshold=float(threshold) if threshold is not None else None,
        value=float(value) if value is not None else None,
        result=row["result"],
        reason=criterion_reason(row),
        numerator=float(numerator) if numerator is not None else None,
        denominator=float(denominator) if denominator is not None else None,
        provisional=bool(_scalar(row.get("provisional")) or False),
        coverage=_scalar(row.get("coverage")),
    )


def build_evaluations(
    results: pd.DataFrame, policy: Policy, evaluation_date: date
) -> dict[tuple[str, str], Evaluation]:
    """One :class:`Evaluation` per (seller, marketplace) of a results frame.

    Parameters
    ----------
    results : DataFrame
        :func:`cxops.policy.evaluate.evaluate_policy` output at one evaluation (one ``as_of`` per
        seller).
    policy : Policy
    evaluation_date : datetime.date

    Returns
    -------
    dict
        ``(seller_id, marketplace_id) -> Evaluation``. When a row has no ``as_of`` the evaluation date
        minus the policy's metrics lag is used.
    """
    if results.empty:
        return {}
    results = results[results["section"].isin(_JUDGED)].reset_index(drop=True)
    if results.empty:
        return {}
    flags = decision_flags(results, policy)
    outcomes = section_outcome(results, policy, flags)
    columns = [outcomes[c].to_numpy(object) for c in ("seller_id", "marketplace_id", "section", "outcome")]
    outcome = {(s, m, sec): o for s, m, sec, o in zip(*columns, strict=True) if o != "met"}

    deciding = (flags["fail"] | flags["insufficient"]).to_numpy(bool)
    findings: dict[tuple[str, str], dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    breaches: dict[tuple[str, str], dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    alerts: dict[tuple[str, str], dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for row in _records(results[deciding], RESULT_COLUMNS):
        key = (row["seller_id"], row["marketplace_id"])
        finding = finding_from_row(row)
        if row["section"] in ("removal", "alert"):
            by_rule = breaches if row["section"] == "removal" else alerts
            by_rule[key][finding.rule_id or finding.criterion_id].append(finding)
        else:
            findings[key][row["section"]].append(finding)

    rule_order = {r.id: i for i, r in enumerate(policy.removal.rules)}
    default_as_of = evaluation_date - timedelta(days=policy.cadence.metrics_lag_days)
    first = np.unique(flags["group"].to_numpy(), return_index=True)[1]
    sellers = results.iloc[first][["seller_id", "marketplace_id", "as_of"]].drop_duplicates(KEYS)
    out: dict[tuple[str, str], Evaluation] = {}
    for seller, marketplace, as_of in zip(
        *(sellers[c].to_numpy(object) for c in sellers.columns), strict=True
    ):
        key = (seller, marketplace)
        seller_findings = findings.get(key, {})
        seller_breaches = breaches.get(key, {})
        ordered = sorted(seller_breaches, key=lambda r: rule_order.get(r, len(rule_order)))
        seller_alerts = alerts.get(key, {})
        alerted = sorted(seller_alerts, key=lambda r: rule_order.get(r, len(rule_order)))
        out[key] = Evaluation(
            seller_id=seller,
            marketplace_id=marketplace,
            date=evaluation_date,
            as_of=_as_date(as_of) or default_as_of,
            eligibility=outcome.get((seller, marketplace, "eligibility"), "met"),
            admission=outcome.get((seller, marketplace, "admission"), "met"),
            eligibility_findings=tuple(seller_findings.get("eligibility", ())),
            admission_findings=tuple(seller_findings.get("admission", ())),
            breaches={r: tuple(seller_breaches[r]) for r in ordered},
            enforcement=outcome.get((seller, marketplace, "enforcement"), "met"),
            enforcement_findings=tuple(seller_findings.get("enforcement", ())),
            alerts={r: tuple(seller_alerts[r]) for r in alerted},
        )
    return out
