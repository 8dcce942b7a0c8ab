"""Decisions the past cannot rewrite: revision events when later imports restate their values.

Every import records the days it changed (``_cxops_imports`` / ``_cxops_import_days`` in the
warehouse, :mod:`cxops.ingest.staging`). At the next daily run, :func:`revision_events` looks at the
decisions already logged (``transition`` events to ``at_risk``, ``removed``, ``suspended`` or
``blocked`` with the deciding metric) whose metric window covers a restated day, recomputes that metric
as of the decision's metrics day in the engine (one query for all of them), and where the numerator,
denominator or value changed logs a ``revision`` event beside the decision: old and new numerator,
denominator and value, and the imports that caused it. The decision itself stays as made.

What follows is the default of the issue (the policy language has no option for it yet): a removal,
suspension or block whose new value no longer breaches its limit is flagged for operator review
(``details.review = true``), never undone automatically; a warning is only annotated.
"""

from __future__ import annotations

import operator as op
from datetime import date, datetime

import numpy as np
import pandas as pd

from cxops.metrics.compute import as_of_expr
from cxops.policy.model import Policy
from cxops.warehouse import IMPORT_DAYS_TABLE, IMPORTS_TABLE

#: Decisions whose restated values are checked.
DECISION_STATES = ("at_risk", "removed", "suspended", "blocked")
#: Decisions that an operator reviews when their values no longer breach.
REVIEWED_STATES = ("removed", "suspended", "blocked")
_OPS = {">": op.gt, ">=": op.ge, "<": op.lt, "<=": op.le, "==": op.eq}


def restated_days(wh, since: datetime | None, upto: date) -> pd.DataFrame:
    """Days up to ``upto`` that imports committed after ``since`` (UTC) changed: ``import_id, day``.

    Empty when the warehouse keeps no import log, or ``since`` is None (no run yet).
    """
    if since is None or not (wh.has_table(IMPORTS_TABLE) and wh.has_table(IMPORT_DAYS_TABLE)):
        return pd.DataFrame(columns=["import_id", "day"])
    imports = wh.table(IMPORTS_TABLE)
    days = wh.table(IMPORT_DAYS_TABLE)
    naive = since.replace(tzinfo=None) if since.tzinfo else since
    ids = imports.filter(imports.committed_at > naive).select("import_id")
    q = days.semi_join(ids, "import_id").filter(days.day <= upto).select("import_id", "day").distinct()
    out = wh.execute(q)
    out["day"] = pd.to_datetime(out["day"]).dt.date
    return out


def revision_events(wh, inp, policy: Policy, decisions: pd.DataFrame, restated: pd.DataFrame) -> pd.DataFrame:
    """Revision events (event-log rows) of the ``decisions`` whose values the ``restated`` days change.

    Parameters
    ----------
    inp : cxops.metrics.records.Inputs
        The run's inputs (sources prepared).
    decisions : DataFrame
        Logged ``transition`` events (event-log columns, with ``id``).
    restated : DataFrame
        :func:`restated_days`.
    """
    if decisions.empty or restated.empty:
        return pd.DataFrame()
    d = decisions[
        decisions["to_state"].isin(DECISION_STATES)
        & decisions["metric"].notna()
        & decisions["as_of"].notna()
        & decisions["window_days"].notna()
    ].copy()
    if d.empty:
        return pd.DataFrame()
    as_of = pd.to_datetime(d["as_of"]).to_numpy("datetime64[D]")
    window = d["window_days"].astype(int).to_numpy()
    lo = as_of - window.astype("timedelta64[D]") + np.timedelta64(1, "D")
    days = np.array(sorted(set(restated["day"])), "datetime64[D]")
    # a restated day inside [lo, as_of]: the first restated day >= lo is <= as_of
    at = np.searchsorted(days, lo)
    hit = (at < len(days)) & (days[np.minimum(at, len(days) - 1)] <= as_of)
    d = d[hit]
    if d.empty:
        return pd.DataFrame()
    d["channel"] = [_channel(policy, r, m, w) for r, m, w in zip(d["rule_id"], d["metric"], d["window_days"],
                                                                 strict=True)]  # fmt: skip
    d["as_of"] = pd.to_datetime(d["as_of"]).dt.date
    d["window_days"] = d["window_days"].astype(int)
    expr = as_of_expr(inp, sorted(set(d["as_of"])))
    keys = d[["seller_id", "marketplace_id", "metric", "window_days", "channel", "as_of"]].drop_duplicates()
    import ibis

    now = wh.execute(expr.semi_join(ibis.memtable(keys.reset_index(drop=True)), list(keys.columns)))
    now["as_of"] = pd.to_datetime(now["as_of"]).dt.date
    now["window_days"] = now["window_days"].astype(int)
    j = d.merge(now[[*keys.columns, "numerator", "denominator", "value"]], on=list(keys.columns), how="left",
                suffixes=("", "_new"))  # fmt: skip
    changed = ~(_same(j["numerator"], j["numerator_new"]) & _same(j["denominator"], j["denominator_new"])
                & _same(j["value"], j["value_new"]))  # fmt: skip
    j = j[changed]
    if j.empty:
        return pd.DataFrame()
    import_ids = sorted(int(i) for i in restated["import_id"].unique())
    rows = []
    for r in j.to_dict("records"):
        new_value = r["value_new"]
        cmp = _OPS.get(r["operator"] or "")
        still = bool(cmp(new_value, r["threshold"])) if cmp and pd.notna(new_value) else False
        review = r["to_state"] in REVIEWED_STATES and not still
        rows.append(
            {
                "seller_id": r["seller_id"],
                "marketplace_id": r["marketplace_id"],
                "kind": "revision",
                "from_state": r["from_state"],
                "to_state": r["to_state"],
                "rule_id": r["rule_id"],
                "metric": r["metric"],
                "value": _num(new_value),
                "numerator": _num(r["numerator_new"]),
                "denominator": _num(r["denominator_new"]),
                "threshold": _num(r["threshold"]),
                "operator": r["operator"],
                "window_days": int(r["window_days"]),
                "event_date": r["event_date"],
                "as_of": r["as_of"],
                "policy_version": r.get("policy_version"),
                "actor": "system",
                "reason": (
                    f"restated data changes the values behind the {r['to_state']} decision of "
                    f"{r['event_date']}"
                    + ("; the values no longer breach: flagged for operator review" if review else "")
                ),
                "details": {
                    "event_id": int(r["id"]),
                    "old": {
                        "numerator": _num(r["numerator"]),
                        "denominator": _num(r["denominator"]),
                        "value": _num(r["value"]),
                    },
                    "new": {
                        "numerator": _num(r["numerator_new"]),
                        "denominator": _num(r["denominator_new"]),
                        "value": _num(new_value),
                    },
                    "imports": import_ids,
                    "still_breaches": still,
                    "review": review,
                },  # fmt: skip
                "idempotency_key": f"revision:{int(r['id'])}:{_num(r['numerator_new'])}:"
                f"{_num(r['denominator_new'])}",
            }
        )
    return pd.DataFrame(rows)


def _channel(policy: Policy, rule_id, metric: str, window) -> str:
    """The channel of the criterion that decided (``all`` when it cannot be told)."""
    for section in ("removal", "eligibility", "admission"):
        for rule, c in policy.criteria(section):
            if (
                c.metric == metric
                and (rule_id is None or rule == rule_id)
                and (c.window_days in (None, window))
            ):
                return c.channel or "all"
    return "all"


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    x, y = a.astype(float).to_numpy(), b.astype(float).to_numpy()
    return (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=0, atol=1e-12)


def _num(v):
    return None if v is None or pd.isna(v) else float(v)
