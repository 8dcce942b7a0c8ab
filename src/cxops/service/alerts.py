"""Alerts of the daily job: what it computes, in the engine and in array operations.

Three sources (stored by :func:`cxops.store.append_alerts`, kinds :data:`cxops.store.ALERT_KINDS`):

- **alert level crossed** — the lifecycle's ``alert`` events (a removal rule at its ``alert_threshold``
  for the first time since it was last below): :func:`level_alerts`;
- **new defect records** — a 1–2★ rating (``negative_feedback_max_stars`` of the policy's metric
  options; removed ratings and, with ``shared_feedback = "exclude"``, shared ones left out, as the
  order defect rate counts them), an A-to-z claim or a chargeback (not fraud, not denied, withdrawn or
  reversed: as the order defect rate counts them) whose marketplace-local
  day (submitted / filed) is one of the days run: :func:`record_alerts_expr` (one engine query for all
  the days of a run);
- **projected breach** — :func:`project_breach`: for each removal criterion on a defect rate
  (``value``, operator ``>`` or ``>=``, :data:`PROJECTED_METRICS`), the first day within
  :data:`HORIZON_DAYS` on which the rate would breach the limit if new orders keep coming at the
  recent daily rate (:data:`RECENT_DAYS`) without defects while the window's old orders and defects
  roll off — and how many more defect-free orders by then keep it within the limit.

An alert's ``idempotency_key`` makes it once only: a record alerts once ever; a level crossing once per
rule and day; a projection once per rule and projected date (a projection that moves to another day
alerts again — the seller's outlook changed).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from cxops.metrics.defects import population
from cxops.metrics.records import NOT_COUNTING_DECISIONS, utc_window
from cxops.policy.model import Policy

KEYS = ["seller_id", "marketplace_id"]
#: Days of orders behind "the recent daily order rate" (choice).
RECENT_DAYS = 14
#: How far ahead a breach is projected, in days (choice).
HORIZON_DAYS = 30
#: Removal metrics whose breach can be projected: rates of defective records over a population.
PROJECTED_METRICS = ("order_defect_rate", "late_shipment_rate", "pre_fulfillment_cancel_rate")


def alert_key(*parts) -> str:
    """A short idempotency key from the alert's identifying parts (``alert:`` + SHA-1 hex)."""
    return "alert:" + hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def level_alerts(events: pd.DataFrame, program: str) -> pd.DataFrame:
    """Alerts of the lifecycle's ``alert`` events (an alert level crossed), with the deciding finding.

    Parameters
    ----------
    events : DataFrame
        :attr:`cxops.lifecycle.replay.ReplayResult.events`.
    """
    a = events[events["kind"] == "alert"]
    if a.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "seller_id": a["seller_id"].to_numpy(object),
            "marketplace_id": a["marketplace_id"].to_numpy(object),
            "kind": "alert_level",
            "alert_date": a["date"].to_numpy(object),
            "rule_id": a["rule_id"].to_numpy(object),
            "metric": a["metric"].to_numpy(object),
            "value": pd.to_numeric(a["value"], errors="coerce").to_numpy(float),
            "threshold": pd.to_numeric(a["threshold"], errors="coerce").to_numpy(float),
            "operator": a["operator"].to_numpy(object),
            "numerator": a["numerator"].to_numpy(float),
            "denominator": a["denominator"].to_numpy(float),
            "window_days": pd.to_numeric(a["window_days"], errors="coerce").to_numpy(float),
        }
    )
    out["evidence"] = [
        {"as_of": str(d) if d is not None else None, "reason": r, "reason_key": k}
        for d, r, k in zip(a["as_of"], a["reason"], a["reason_key"], strict=True)
    ]
    out["idempotency_key"] = [
        alert_key(program, s, m, "alert_level", d, r)
        for s, m, d, r in zip(out.seller_id, out.marketplace_id, out.alert_date, out.rule_id, strict=True)
    ]
    return out


def record_alerts_expr(inp, first: date, last: date):
    """New negative feedback, A-to-z claims and chargebacks whose local day is in ``first..last``.

    One engine expression: ``seller_id, marketplace_id, kind, alert_date, order_id, record_id,
    rating, decision`` (``None`` when the warehouse has neither table).
    """
    opt = inp.options
    o = inp.tables["orders"].select("seller_id", "order_id", "marketplace_id")
    parts = []
    if "feedback" in inp.tables:
        f = inp.tables["feedback"]
        cond = (f.rating <= opt.negative_feedback_max_stars) & f.removed_at.isnull()
        if opt.shared_feedback == "exclude":
            cond = cond & ~f.is_shared.fill_null(False)
        j = f.filter(cond).join(o, ["seller_id", "order_id"])
        day = inp.local(j.submitted_at, j.marketplace_id)
        parts.append(
            j.select(
                "seller_id",
                "marketplace_id",
                kind=ibis.literal("negative_feedback"),
                alert_date=day,
                order_id=j.order_id,
                record_id=j.order_id,
                rating=j.rating.cast("int64"),
                decision=ibis.null("string"),
            )
        )
    if "claims" in inp.tables:
        c = inp.tables["claims"]
        cond = c.kind.isin(["a_to_z", "chargeback"]) & ~(
            (c.kind == "chargeback") & c.is_fraud.fill_null(False)
        )
        cond = cond & (c.decision.isnull() | ~c.decision.isin(NOT_COUNTING_DECISIONS))
        j = c.filter(cond).join(o, ["seller_id", "order_id"])
        day = inp.local(j.filed_at, j.marketplace_id)
        parts.append(
            j.select(
                "seller_id",
                "marketplace_id",
                kind=(j.kind == "a_to_z").ifelse(ibis.literal("a_to_z_claim"), ibis.literal("chargeback")),
                alert_date=day,
                order_id=j.order_id,
                record_id=j.claim_id,
                rating=ibis.null("int64"),
                decision=j.decision,
            )
        )
    if not parts:
        return None
    u = ibis.union(*parts)
    return u.filter((u.alert_date >= first) & (u.alert_date <= last))


def record_alerts(rows: pd.DataFrame, program: str, members: pd.DataFrame) -> pd.DataFrame:
    """Alert rows of new defect records (from :func:`record_alerts_expr`) of the program's members."""
    if rows is None or rows.empty or members.empty:
        return pd.DataFrame()
    rows = rows.merge(members[KEYS].drop_duplicates(), on=KEYS)
    if rows.empty:
        return rows
    out = rows[[*KEYS, "kind", "alert_date", "order_id"]].copy()
    out["alert_date"] = pd.to_datetime(rows["alert_date"]).dt.date.to_numpy(object)
    out["rating"] = rows["rating"].astype("Int64").astype(object).where(rows["rating"].notna(), None)
    out["metric"] = "order_defect_rate"
    out["evidence"] = [
        {"record_id": str(r), "decision": d if isinstance(d, str) else None, "counts_in": "order_defect_rate",
         "not_counting_decisions": list(NOT_COUNTING_DECISIONS)}
        for r, d in zip(rows["record_id"], rows["decision"], strict=True)
    ]  # fmt: skip
    out["idempotency_key"] = [
        alert_key(program, s, m, k, r)
        for s, m, k, r in zip(rows.seller_id, rows.marketplace_id, rows.kind, rows.record_id, strict=True)
    ]
    return out.drop_duplicates("idempotency_key").reset_index(drop=True)


@dataclass(frozen=True)
class Projection:
    """Arrays of :func:`project_breach`, one entry per seller (``-1`` / NaN where no breach is projected).

    ``days_ahead`` (1..horizon), ``numerator`` / ``denominator`` / ``value`` the projected counts and rate
    on that day, ``orders_needed`` the defect-free orders beyond the expected ones that keep the rate
    within the limit (-1: none can, the limit is 0).
    """

    days_ahead: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    orders_needed: np.ndarray


def _breaches(num: np.ndarray, den: np.ndarray, threshold: float, operator: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return (v > threshold) if operator == ">" else (v >= threshold)


def project_breach(
    orders: np.ndarray,
    defects: np.ndarray,
    threshold: float,
    operator: str,
    *,
    min_denominator: float | None = None,
    recent_days: int = RECENT_DAYS,
    horizon: int = HORIZON_DAYS,
) -> Projection:
    """The first day a rate would breach ``value <operator> threshold`` as old records roll off.

    Parameters
    ----------
    orders, defects : ndarray, shape (sellers, window_days)
        Records (the metric's population, e.g. orders by order date) and defective records per day of
        the current window, oldest day first (column 0 is the day ``window_days - 1`` days before the
        metrics day). On day ``k`` ahead the ``k`` oldest days have rolled off.
    threshold : float
        The limit, a fraction.
    operator : {">", ">="}
        The removal criterion's breach condition.
    min_denominator : float, optional
        Below it the criterion has insufficient data and does not breach.
    recent_days, horizon : int
        New records arrive each day at the mean daily count of the last ``recent_days`` days, without
        defects; days 1..``horizon`` ahead (at most the window) are projected.

    Returns
    -------
    Projection
        For sellers already in breach today nothing is projected.
    """
    orders = np.asarray(orders, float)
    defects = np.asarray(defects, float)
    n_sellers, window = orders.shape
    horizon = min(horizon, window)
    now_n, now_d = orders.sum(1), defects.sum(1)
    rate = orders[:, max(window - recent_days, 0) :].sum(1) / min(recent_days, window)
    k = np.arange(1, horizon + 1)
    den = now_n[:, None] - np.cumsum(orders[:, :horizon], 1) + rate[:, None] * k[None, :]
    num = now_d[:, None] - np.cumsum(defects[:, :horizon], 1)
    hit = _breaches(num, den, threshold, operator) & (num > 0)
    if min_denominator is not None:
        hit &= den >= min_denominator
    now = _breaches(now_d, now_n, threshold, operator)
    if min_denominator is not None:
        now &= now_n >= min_denominator
    hit &= ~now[:, None]
    any_hit = hit.any(1)
    first = np.where(any_hit, hit.argmax(1), -1)
    rows = np.flatnonzero(any_hit)
    days = np.full(n_sellers, -1, np.int64)
    pn, pd_, pv, need = (np.full(n_sellers, np.nan) for _ in range(4))
    days[rows] = first[rows] + 1
    pn[rows] = num[rows, first[rows]]
    pd_[rows] = den[rows, first[rows]]
    pv[rows] = pn[rows] / pd_[rows]
    if threshold > 0:
        gap = pn[rows] / threshold - pd_[rows]
        # ">": within when num/(den+x) <= t, x >= gap; ">=": within when < t, x > gap
        need[rows] = np.ceil(gap - 1e-9) if operator == ">" else np.floor(gap + 1e-9) + 1
        need[rows] = np.maximum(need[rows], 1)
    else:
        need[rows] = -1
    return Projection(days, pn, pd_, pv, need)


def projection_specs(policy: Policy) -> list[tuple[str, object]]:
    """``(rule_id, criterion)`` of the removal criteria whose breach can be projected."""
    return [
        (rule, c)
        for rule, c in policy.criteria("removal")
        if c.metric in PROJECTED_METRICS and c.test == "value" and c.operator in (">", ">=")
    ]


def projected_alerts(
    wh, inp, policy: Policy, day: date, alert_day: date, members: pd.DataFrame
) -> pd.DataFrame:
    """Projected-breach alerts of ``members`` from their records up to the metrics day ``day``.

    One engine query per projectable criterion (records per seller and day of its window, members
    only); the projection itself is :func:`project_breach` over all sellers at once.
    """
    specs = projection_specs(policy)
    if not specs or members.empty:
        return pd.DataFrame()
    keys = ibis.memtable(members[KEYS].drop_duplicates().reset_index(drop=True))
    out = []
    for rule, c in specs:
        window = c.window_days or 60
        lo = day - timedelta(days=window - 1)
        # the records of the window only, as known on the day
        r = population(inp.with_window(utc_window(lo, day)).seen_on(day), c.metric)
        if c.channel not in (None, "all"):
            r = r.filter(r.channel == c.channel)
        r = r.filter((r.day >= lo) & (r.day <= day)).semi_join(keys, KEYS)
        g = r.group_by([*KEYS, "day"]).aggregate(n=r.count(), d=r.is_defect.sum())
        df = wh.execute(g)
        if df.empty:
            continue
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(df[KEYS]))
        offset = (pd.to_datetime(df["day"]) - pd.Timestamp(lo)).dt.days.to_numpy()
        n = np.zeros((len(uniques), window))
        d = np.zeros((len(uniques), window))
        np.add.at(n, (codes, offset), df["n"].to_numpy(float))
        np.add.at(d, (codes, offset), df["d"].fillna(0).to_numpy(float))
        p = project_breach(n, d, c.threshold, c.operator, min_denominator=c.min_denominator)
        rate = n[:, -RECENT_DAYS:].sum(1) / min(RECENT_DAYS, window)
        rows = np.flatnonzero(p.days_ahead > 0)
        for i in rows.tolist():
            seller, market = uniques[i]
            ahead = int(p.days_ahead[i])
            projected = day + timedelta(days=ahead)
            rolled = [int(x) for x in n[i, :ahead]]
            out.append(
                {
                    "seller_id": seller,
                    "marketplace_id": market,
                    "kind": "projected_breach",
                    "alert_date": alert_day,
                    "rule_id": rule,
                    "metric": c.metric,
                    "value": float(p.value[i]),
                    "threshold": c.threshold,
                    "operator": c.operator,
                    "numerator": float(p.numerator[i]),
                    "denominator": float(p.denominator[i]),
                    "window_days": window,
                    "projected_date": projected,
                    "orders_needed": int(p.orders_needed[i]) if p.orders_needed[i] >= 0 else None,
                    "evidence": json.loads(
                        json.dumps(
                            {
                                "metrics_day": day.isoformat(),
                                "numerator_now": float(d[i].sum()),
                                "denominator_now": float(n[i].sum()),
                                "recent_daily_orders": float(rate[i]),
                                "orders_rolling_off": rolled,
                                "defects_rolling_off": [int(x) for x in d[i, :ahead]],
                                "channel": c.channel,
                                "assumes": "new orders at the recent daily rate, without defects",
                            }
                        )
                    ),
                    "idempotency_key": alert_key(policy.name, seller, market, "projected_breach", rule,
                                                 c.metric,
                                                 window, projected),
                }
            )  # fmt: skip
    return pd.DataFrame(out)


def mark_provisional(alerts: pd.DataFrame, dec, policy: Policy) -> pd.DataFrame:
    """``alerts`` with ``provisional``: whether the metric value behind the alert is provisional.

    An ``alert_level`` alert rests on the rule's alert-level criteria, a ``projected_breach`` on its
    removal criteria; either is provisional when one of those criteria's values is (the catalog's
    coverage rule below the policy's ``[provisional] min_coverage``:
    :attr:`cxops.lifecycle.decisions.Decisions.alert_provisional` / ``value_provisional``). An alert on
    a record (feedback, claim, chargeback) is never provisional.

    Parameters
    ----------
    alerts : DataFrame
        Alerts of one day (``seller_id, marketplace_id, kind, rule_id``, …).
    dec : Decisions or None
        The decisions of the same metrics day (``None``: not computed; nothing is marked).
    policy : Policy
    """
    out = alerts.copy()
    flags = np.zeros(len(out), bool)
    if dec is None or out.empty or len(dec.keys) == 0:
        return out.assign(provisional=flags)
    rules = pd.Series(range(len(policy.removal.rules)), index=[r.id for r in policy.removal.rules])
    seller = pd.MultiIndex.from_frame(dec.keys[KEYS].astype(object))
    i = seller.get_indexer(pd.MultiIndex.from_frame(out[KEYS].astype(object)))
    j = rules.reindex(out["rule_id"].astype(object) if "rule_id" in out else [None] * len(out))
    j = j.fillna(-1).to_numpy(np.int64)
    ok = (i >= 0) & (j >= 0)
    kind = out["kind"].to_numpy(object)
    for name, grid in (("alert_level", dec.alert_provisional), ("projected_breach", dec.value_provisional)):
        m = ok & (kind == name)
        flags[m] = grid[i[m], j[m]]
    return out.assign(provisional=flags)


def no_nan(v):
    """None for NaN / NA (JSON and SQL want a missing value, not a float NaN)."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v
