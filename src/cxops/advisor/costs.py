"""Cost trade-offs: what each way of serving buyers better would change, cost and bring a seller.

For one seller on one marketplace, from its current metrics (a long metrics frame, one ``as_of``), its
lifecycle state and a cost sheet (:mod:`cxops.advisor.cost_sheet`), each option of :data:`OPTIONS`
(status quo; carrier-integrated shipping; free return labels; marketplace fulfilment, AFN; and the
meaningful combinations) gets:

- **projected metrics**: the metric rows the option changes, changed as the sheet says (each change is
  listed as an :class:`Assumption` with its figure and source);
- **program status**: the real policy (:func:`cxops.policy.evaluate.evaluate_policy`) and lifecycle
  (:func:`cxops.lifecycle.replay.replay`) run from the seller's state over the next ``horizon``
  publishing evaluations, with the projected metrics held at each — the state at the next evaluation
  ("would they be admitted?") and at the last ("do they stay enrolled?");
- **benefits**: :func:`cxops.lifecycle.benefits.compute_benefits` on that replay (the fee discount
  tier, judged on the weakest of its evaluations), valued on the fee the sheet maps it to;
- **monthly cost** (extra over the status quo, in the sheet's currency), **net effect** (benefits gained
  minus extra cost) and **break-even**: the monthly order volume from which the option pays for itself
  (volumes, fees and costs scaled with the seller's mix; benefits only where the policy still grants
  them at that volume, found by bisection with the real policy), and the monthly storage fees at which
  the discount it wins pays for it at today's volume.

Monthly volumes are the 30-day counts at the as-of day (``order_count`` per channel; returns requested).
Nothing here reads a file or a warehouse: :mod:`cxops.service.costs` gathers the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cxops.advisor.cost_sheet import CostSheet
from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import metrics_as_of, next_publication_date
from cxops.lifecycle.replay import daily_admission, replay
from cxops.lifecycle.states import MEMBERS
from cxops.metrics.catalog import CATALOG
from cxops.policy.evaluate import KEYS, evaluate_policy
from cxops.policy.model import Policy

#: The single options, in display order; combinations are built from them (:func:`option_sets`).
OPTIONS: tuple[str, ...] = ("carrier_integrated", "free_return_labels", "afn")
STATUS_QUO = "status_quo"
#: Metric families counted in orders, shipments, ratings or messages: they scale with volume
#: (violations and tenure do not).
_NOT_SCALED = {"tenure_days", "account_health_warnings", "ip_complaints", "major_violations"}
_MEMBER_STATES = {s.value for s in MEMBERS}


@dataclass(frozen=True)
class Assumption:
    """One change an option makes: ``what`` (a catalog key, e.g. ``costs.assume.vtr``) with its
    parameters, and the sheet field and source it comes from."""

    key: str
    params: dict
    field: str
    source: str


@dataclass(frozen=True)
class Volumes:
    """Monthly volumes (orders per channel, returns) and where each came from (``measured`` /
    ``sheet`` / ``none``)."""

    orders_mfn: float
    orders_afn: float
    returns: float | None
    origin: dict[str, str]

    @property
    def orders(self) -> float:
        return self.orders_mfn + self.orders_afn


@dataclass
class OptionResult:
    """One option's projection.

    Attributes
    ----------
    option : str
        ``status_quo`` or option names joined by ``+``.
    metrics : list of dict
        The criterion metrics before and after (``metric, window_days, channel, before, after``;
        rates as fractions, the index 0–100).
    next_state, steady_state : str
        Lifecycle state at the next evaluation and at the last of the horizon.
    next_reason, steady_reason : str
        Reason keys of those states.
    admission : str
        Admission outcome at the next evaluation's results (``met`` / ``not_met`` /
        ``insufficient_data``), all criteria of the section judged by the policy.
    failing : list of str
        Criteria (``section:criterion_id``) failing at the projected metrics.
    benefits : list of dict
        ``benefit, detail, value`` rows of :func:`compute_benefits` at the end of the horizon.
    discount : float
        Sum of the tier values of the incentives the sheet maps to storage fees (fraction).
    extra_cost : float or None
        Extra monthly cost over the status quo (``None``: a rate it needs is not in the sheet).
    benefit_value, net : float or None
        Money of the discounts per month, and the net effect over the status quo per month.
    break_even_orders : float or None
        Monthly orders from which the option pays for itself (``None``: see ``break_even_note``).
    break_even_storage : float or None
        Monthly storage fees at which the discount it wins pays for it at today's volume.
    missing : list of str
        Sheet fields needed for the money figures and not given.
    """

    option: str
    assumptions: list[Assumption] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    next_state: str = ""
    next_reason: str = ""
    steady_state: str = ""
    steady_reason: str = ""
    admission: str = ""
    failing: list[str] = field(default_factory=list)
    benefits: list[dict] = field(default_factory=list)
    discount: float = 0.0
    extra_cost: float | None = 0.0
    fixed_cost: float = 0.0
    benefit_value: float | None = 0.0
    net: float | None = 0.0
    break_even_orders: float | None = None
    break_even_storage: float | None = None
    break_even_note: str = ""
    missing: list[str] = field(default_factory=list)
    applicable: bool = True


@dataclass
class CostAdvice:
    """The options of one seller on one marketplace (:func:`advise_costs`)."""

    seller_id: str
    marketplace_id: str
    as_of: date
    evaluation_dates: list[date]
    currency: str
    sheet_source: str
    volumes: Volumes
    current_state: str
    options: list[OptionResult]
    notes: list[str] = field(default_factory=list)


# -- metric changes ------------------------------------------------------------------------------------


def _recompute(frame: pd.DataFrame, mask: np.ndarray) -> None:
    """Value and status of the rows in ``mask`` from their (changed) numerator and denominator."""
    kinds = frame["metric"].map(lambda m: CATALOG[m].kind if m in CATALOG else "").to_numpy(object)
    num = frame["numerator"].to_numpy(float)
    den = frame["denominator"].to_numpy(float)
    measured = frame["status"].to_numpy(object) != "not_measured"
    ratio = mask & measured & np.isin(kinds, ["rate", "index"])
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(den > 0, num / den, np.nan)
    vals = frame["value"].to_numpy(float).copy()
    vals[ratio] = value[ratio]
    count = mask & measured & (kinds == "count")
    vals[count] = num[count]
    frame["value"] = vals
    status = frame["status"].to_numpy(object).copy()
    empty = ratio & ~(den > 0)
    status[empty] = "no_data"
    status[ratio & (den > 0) & (status == "no_data")] = "ok"
    frame["status"] = status


def _windows(frame: pd.DataFrame) -> np.ndarray:
    """Window days of each row, -1 where none."""
    return frame["window_days"].astype("Int64").fillna(-1).to_numpy("int64")


def _rows(frame: pd.DataFrame, metric: str, channel: str | None = None) -> np.ndarray:
    mask = frame["metric"].eq(metric).to_numpy(bool)
    if channel is not None:
        mask = mask & frame["channel"].eq(channel).to_numpy(bool)
    return mask & (frame["status"].to_numpy(object) != "not_measured")


def with_carrier_integrated(frame: pd.DataFrame, sheet: CostSheet) -> pd.DataFrame:
    """Every seller-fulfilled shipment with a valid tracking id at the sheet's rate (the reference:
    carrier-integrated shipping "secures the valid tracking rate")."""
    out = frame.copy()
    mask = _rows(out, "valid_tracking_rate", "mfn")
    den = out["denominator"].to_numpy(float)
    num = out["numerator"].to_numpy(float).copy()
    rate = sheet.options.carrier_integrated.valid_tracking_rate
    num[mask] = np.maximum(num[mask], den[mask] * rate)  # never worse than today
    out["numerator"] = num
    _recompute(out, mask)
    return out


def with_free_return_labels(frame: pd.DataFrame, sheet: CostSheet) -> pd.DataFrame:
    """The customer satisfaction index raised by the sheet's points, capped at 100 (reference: about
    9 points)."""
    out = frame.copy()
    mask = _rows(out, "customer_satisfaction_index") & (out["denominator"].to_numpy(float) > 0)
    points = sheet.options.free_return_labels.satisfaction_points
    value = out["value"].to_numpy(float)
    new = np.clip(value + points, 0, 100)
    num = out["numerator"].to_numpy(float).copy()
    num[mask] = (new * out["denominator"].to_numpy(float))[mask]
    out["numerator"] = num
    _recompute(out, mask)
    return out


def afn_rate(frame: pd.DataFrame, sheet: CostSheet, window: int) -> tuple[float, str]:
    """The on-time delivery rate of orders moved to AFN: the seller's own AFN rate of that window when
    measured with deliveries, else the sheet's (``measured`` / ``sheet``)."""
    mask = _rows(frame, "on_time_delivery_rate", "afn") & (_windows(frame) == window)
    if mask.any():
        den = float(frame.loc[mask, "denominator"].iloc[0])
        if den > 0:
            return float(frame.loc[mask, "value"].iloc[0]), "measured"
    return sheet.options.afn.on_time_delivery_rate, "sheet"


def with_afn(frame: pd.DataFrame, sheet: CostSheet) -> pd.DataFrame:
    """A share of the MFN orders moved to marketplace fulfilment.

    Every MFN row of a metric loses that share of its numerator and denominator (rates unchanged; a
    channel left without orders has no data), the AFN row gains it; the on-time delivery rate of the
    moved deliveries becomes the AFN rate (:func:`afn_rate`), in the AFN and the all-channel rows.
    """
    share = sheet.options.afn.share
    out = frame.copy()
    num = out["numerator"].to_numpy(float).copy()
    den = out["denominator"].to_numpy(float).copy()
    touched = np.zeros(len(out), bool)
    win = _windows(out)
    for metric in out["metric"].unique():
        for w in np.unique(win[out["metric"].eq(metric).to_numpy(bool)]):
            at = out["metric"].eq(metric).to_numpy(bool) & (win == w)
            mfn = at & _rows(out, metric, "mfn")
            if not mfn.any():
                continue
            i = int(np.flatnonzero(mfn)[0])
            m_num, m_den = num[i], den[i]
            moved_num, moved_den = share * np.nan_to_num(m_num), share * m_den
            if metric == "on_time_delivery_rate":
                moved_num = moved_den * afn_rate(frame, sheet, int(w))[0]
            num[i], den[i] = m_num - share * np.nan_to_num(m_num), m_den - moved_den
            touched[i] = True
            afn = at & _rows(out, metric, "afn")
            for j in np.flatnonzero(afn):
                num[j] += moved_num
                den[j] = den[j] + moved_den if not np.isnan(den[j]) else den[j]
                touched[j] = True
            if metric == "on_time_delivery_rate":
                for j in np.flatnonzero(at & _rows(out, metric, "all")):
                    num[j] += moved_num - share * np.nan_to_num(m_num)
                    touched[j] = True
    out["numerator"], out["denominator"] = num, den
    _recompute(out, touched)
    return out


_CHANGES: dict[str, Callable[[pd.DataFrame, CostSheet], pd.DataFrame]] = {
    "afn": with_afn,
    "carrier_integrated": with_carrier_integrated,
    "free_return_labels": with_free_return_labels,
}


def option_sets(sheet: CostSheet, volumes: Volumes) -> list[tuple[str, ...]]:
    """The options compared: the status quo, each option, and the combinations that mean something
    (carrier integration with AFN only when some MFN orders stay: ``afn.share`` < 1)."""
    partial = sheet.options.afn.share < 1
    sets: list[tuple[str, ...]] = [(), *((o,) for o in OPTIONS)]
    sets.append(("carrier_integrated", "free_return_labels"))
    sets.append(("free_return_labels", "afn"))
    if partial:
        sets.append(("carrier_integrated", "afn"))
        sets.append(("carrier_integrated", "free_return_labels", "afn"))
    return sets


def project_metrics(frame: pd.DataFrame, options: tuple[str, ...], sheet: CostSheet) -> pd.DataFrame:
    """``frame`` with the changes of ``options`` (AFN first: the other changes apply to what stays MFN)."""
    out = frame
    for name in sorted(options, key=lambda o: (o != "afn", OPTIONS.index(o))):
        out = _CHANGES[name](out, sheet)
    return out


def scaled(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Metrics at ``factor`` times the volume: counts of orders, shipments, ratings and messages
    scaled, every rate and the index unchanged (violations and tenure do not scale)."""
    out = frame.copy()
    mask = ~out["metric"].isin(_NOT_SCALED).to_numpy(bool)
    for c in ("numerator", "denominator"):
        v = out[c].to_numpy(float).copy()
        v[mask] *= factor
        out[c] = v
    kinds = out["metric"].map(lambda m: CATALOG[m].kind if m in CATALOG else "").to_numpy(object)
    counts = mask & (kinds == "count")
    v = out["value"].to_numpy(float).copy()
    v[counts] *= factor
    out["value"] = v
    return out


# -- program status ------------------------------------------------------------------------------------


def horizon(policy: Policy) -> int:
    """Evaluations projected: enough for every tiered incentive to be judged and every removal rule
    to reach its consecutive count after an admission (at least 2)."""
    incentives = [i.evaluations for i in policy.benefits.incentives]
    rules = [r.consecutive + 1 for r in policy.removal.rules]
    return max([2, *incentives, *rules])


def evaluation_days(policy: Policy, as_of: date, n: int) -> list[date]:
    """The next ``n`` publishing evaluation dates after the metrics day ``as_of``."""
    day = next_publication_date(policy, as_of + timedelta(days=policy.cadence.metrics_lag_days))
    out = [day]
    while len(out) < n:
        out.append(next_publication_date(policy, out[-1] + timedelta(days=1)))
    return out


@dataclass(frozen=True)
class Status:
    """A scenario's program status: lifecycle state and reason key at the next and the last
    evaluation, the admission outcome and failing criteria at the projected metrics, and the benefits
    at the end (:func:`compute_benefits` rows)."""

    next_state: str
    next_reason: str
    steady_state: str
    steady_reason: str
    admission: str
    failing: tuple[str, ...]
    benefits: pd.DataFrame


def _as(frame: pd.DataFrame | None, sid: str) -> pd.DataFrame | None:
    return None if frame is None else frame.assign(seller_id=sid)


def program_status(
    policy: Policy,
    scenarios: dict,
    state: pd.DataFrame | None,
    dates: list[date],
    sellers: pd.DataFrame | None,
) -> dict:
    """Replay the seller's lifecycle over ``dates`` for every scenario at once, each scenario's metrics
    held at every evaluation (the policy and the lifecycle run on the scenarios as on sellers).

    Parameters
    ----------
    scenarios : dict of key to DataFrame
        One seller's long metrics frame per scenario (one ``as_of``; re-dated to each evaluation's
        metrics day).
    state : DataFrame or None
        The seller's state row (:data:`cxops.lifecycle.batch.STATE_COLUMNS`); ``None``: a new seller.
    sellers : DataFrame or None
        The seller's ``seller_id, marketplace_id, primary_category`` row.

    Returns
    -------
    dict of key to Status
    """
    from cxops.policy.outcome import section_outcome

    if not scenarios:
        return {}
    ids = {key: f"scenario-{i}" for i, key in enumerate(scenarios)}
    metrics = pd.concat([_as(f, ids[k]) for k, f in scenarios.items()], ignore_index=True)
    states = None
    if state is not None and len(state):
        states = pd.concat([_as(state, sid) for sid in ids.values()], ignore_index=True)
    cats = None
    if sellers is not None and len(sellers):
        cats = pd.concat([_as(sellers, sid) for sid in ids.values()], ignore_index=True)
    first = evaluate_policy(policy, metrics.assign(as_of=metrics_as_of(policy, dates[0])))
    met = daily_admission(policy, metrics)[[*KEYS, "admission_met"]]

    def get_results(when: date) -> pd.DataFrame:
        return first.assign(as_of=metrics_as_of(policy, when))

    def get_daily(who: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
        days = pd.DataFrame({"day": pd.date_range(start, end, freq="D").date})
        grid = who[KEYS].merge(days, how="cross").merge(met, on=KEYS, how="left")
        return grid.assign(admission_met=grid["admission_met"].fillna(False).astype(bool))

    res = replay(
        policy, dates, get_results, get_daily, initial=states, keep_sections=("benefits",), reasons="latest"
    )
    statuses = res.statuses.sort_values("evaluation_date", kind="stable")
    benefits = compute_benefits(policy, res.statuses, res.results, cats)
    admission = first[first["section"] == "admission"]
    outcome = section_outcome(admission, policy) if len(admission) else pd.DataFrame(columns=["seller_id"])
    failing = first[
        (first["result"] == "fail") & first["section"].isin(["eligibility", "admission", "removal"])
    ]
    out = {}
    for key, sid in ids.items():
        st = statuses[statuses["seller_id"] == sid]
        oc = outcome[outcome["seller_id"] == sid]
        fl = failing[failing["seller_id"] == sid]
        out[key] = Status(
            next_state=str(st["state"].iloc[0]),
            next_reason=str(st["reason_key"].iloc[0]),
            steady_state=str(st["state"].iloc[-1]),
            steady_reason=str(st["reason_key"].iloc[-1]),
            admission=str(oc["outcome"].iloc[0]) if len(oc) else "met",
            failing=tuple(f"{a}:{b}" for a, b in zip(fl["section"], fl["criterion_id"], strict=True)),
            benefits=benefits[benefits["seller_id"] == sid].reset_index(drop=True),
        )
    return out


def storage_discount(benefits: pd.DataFrame, sheet: CostSheet) -> float:
    """Sum of the tier values (fractions) of the granted incentives the sheet maps to storage fees."""
    if benefits.empty:
        return 0.0
    mapped = benefits[benefits["benefit"].isin(list(sheet.benefits))]
    return float(mapped["value"].fillna(0).sum())


# -- money ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Money:
    variable: float | None  # extra cost per month at today's volume, scaling with it
    fixed: float
    storage_added: float | None  # storage fees added per month (AFN)
    missing: tuple[str, ...]


def _money(options: tuple[str, ...], sheet: CostSheet, v: Volumes) -> _Money:
    r, o = sheet.rates, sheet.options
    share = o.afn.share if "afn" in options else 0.0
    mfn_left = v.orders_mfn * (1 - share)
    moved = v.orders_mfn * share
    parts: list[float] = []
    missing: list[str] = []

    def need(name: str):
        value = getattr(r, name)
        if value is None:
            missing.append(f"rates.{name}")
        return value

    if "carrier_integrated" in options and mfn_left > 0:
        c = need("mfn_logistics_per_order")
        parts.append(o.carrier_integrated.logistics_increase * c * mfn_left if c is not None else math.nan)
    if "free_return_labels" in options:
        c = need("return_handling_per_return")
        if v.returns is None:
            missing.append("volumes.returns")
        ok = c is not None and v.returns is not None
        parts.append(o.free_return_labels.return_handling_increase * c * v.returns if ok else math.nan)
    storage_added = 0.0
    if "afn" in options and moved > 0:
        fee, store, own = (
            need("afn_fee_per_order"),
            need("afn_storage_per_order"),
            need("mfn_logistics_per_order"),
        )
        ok = None not in (fee, store, own)
        parts.append(moved * (fee + store - own) if ok else math.nan)
        storage_added = moved * store if store is not None else None
    fixed = sum(getattr(o, name).monthly_fee for name in options)
    variable = float(sum(parts)) if not any(math.isnan(p) for p in parts) else None
    return _Money(variable, fixed, storage_added, tuple(dict.fromkeys(missing)))


def _benefit_money(discount: float, storage: float | None, added: float | None) -> float | None:
    if discount == 0:
        return 0.0
    if storage is None or added is None:
        return None
    return discount * (storage + added)


# -- the advice ----------------------------------------------------------------------------------------


_SHOWN = ("valid_tracking_rate", "on_time_delivery_rate", "customer_satisfaction_index", "late_shipment_rate")


def _metric_rows(policy: Policy, before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    """The criterion metrics an option changes, before and after."""
    specs = {}
    for section in ("admission", "removal", "benefits"):
        for _, c in policy.criteria(section):
            if c.metric in _SHOWN:
                specs[(c.metric, c.window_days, c.channel)] = None
    rows = []
    for metric, w, ch in specs:

        def pick(f: pd.DataFrame, metric=metric, w=w, ch=ch):
            m = f[(f["metric"] == metric) & (f["channel"] == ch) & (_windows(f) == (-1 if w is None else w))]
            return None if m.empty or pd.isna(m["value"].iloc[0]) else float(m["value"].iloc[0])

        b, a = pick(before), pick(after)
        if b != a:
            rows.append({"metric": metric, "window_days": w, "channel": ch, "before": b, "after": a})
    return rows


def _assumptions(options: tuple[str, ...], sheet: CostSheet, metrics: pd.DataFrame) -> list[Assumption]:
    o = sheet.options
    ci, fr = o.carrier_integrated, o.free_return_labels
    out = []

    def add(key: str, params: dict, field: str, source: str | None = None) -> None:
        out.append(Assumption(key, params, field, source or sheet.source_of(field)))

    if "carrier_integrated" in options:
        add(
            "costs.assume.carrier_cost",
            {"increase": ci.logistics_increase},
            "options.carrier_integrated.logistics_increase",
        )
        add(
            "costs.assume.carrier_vtr",
            {"rate": ci.valid_tracking_rate},
            "options.carrier_integrated.valid_tracking_rate",
        )
    if "free_return_labels" in options:
        add(
            "costs.assume.returns_cost",
            {"increase": fr.return_handling_increase},
            "options.free_return_labels.return_handling_increase",
        )
        add(
            "costs.assume.returns_csat",
            {"points": fr.satisfaction_points},
            "options.free_return_labels.satisfaction_points",
        )
    if "afn" in options:
        rate, origin = afn_rate(metrics, sheet, 30)
        add("costs.assume.afn_share", {"share": o.afn.share}, "options.afn.share")
        add(
            f"costs.assume.afn_otdr_{origin}",
            {"rate": rate},
            "options.afn.on_time_delivery_rate",
            None if origin == "sheet" else "warehouse",
        )
    for name in options:
        fee = getattr(o, name).monthly_fee
        if fee:
            add("costs.assume.monthly_fee", {"fee": fee}, f"options.{name}.monthly_fee")
    return out


def advise_costs(
    policy: Policy,
    metrics: pd.DataFrame,
    state: pd.DataFrame | None,
    sheet: CostSheet,
    volumes: Volumes,
    sellers: pd.DataFrame | None = None,
) -> CostAdvice:
    """Each option's projected metrics, program status, benefits, monthly cost, net and break-even.

    Parameters
    ----------
    policy : Policy
    metrics : DataFrame
        The seller's long metrics frame on one marketplace, one ``as_of`` (every catalog metric the
        policy reads).
    state : DataFrame or None
        The seller's lifecycle state row (:data:`cxops.lifecycle.batch.STATE_COLUMNS`) at the as-of day.
    sheet : CostSheet
    volumes : Volumes
        Monthly volumes (the money basis).
    sellers : DataFrame, optional
        ``seller_id, marketplace_id, primary_category`` (category-restricted incentives).

    Raises
    ------
    ValueError
        ``metrics`` is empty or holds several sellers, marketplaces or as-of days.
    """
    keys = metrics[KEYS].drop_duplicates()
    if len(keys) != 1 or metrics["as_of"].nunique() != 1:
        raise ValueError("advise_costs takes one seller's metrics on one marketplace, as of one day")
    seller_id, marketplace_id = keys.iloc[0]
    as_of = pd.Timestamp(metrics["as_of"].iloc[0]).date()
    dates = evaluation_days(policy, as_of, horizon(policy))
    sets = option_sets(sheet, volumes)
    projected = {opts: project_metrics(metrics, opts, sheet) for opts in sets}
    status = program_status(policy, {(o, 1.0): projected[o] for o in sets}, state, dates, sellers)
    storage = sheet.rates.storage_fees_per_month
    base_discount = storage_discount(status[((), 1.0)].benefits, sheet)
    base_value = _benefit_money(base_discount, storage, 0.0)
    results = []
    for opts in sets:
        st = status[(opts, 1.0)]
        money = _money(opts, sheet, volumes)
        discount = storage_discount(st.benefits, sheet)
        value = _benefit_money(discount, storage, money.storage_added)
        r = OptionResult(
            option="+".join(opts) or STATUS_QUO,
            assumptions=_assumptions(opts, sheet, metrics),
            metrics=_metric_rows(policy, metrics, projected[opts]),
            next_state=st.next_state,
            next_reason=st.next_reason,
            steady_state=st.steady_state,
            steady_reason=st.steady_reason,
            admission=st.admission,
            failing=list(st.failing),
            benefits=st.benefits[["benefit", "detail", "value"]].to_dict("records"),
            discount=discount,
            fixed_cost=money.fixed,
            missing=list(money.missing),
            benefit_value=value,
            applicable=not (("carrier_integrated" in opts or "afn" in opts) and volumes.orders_mfn <= 0),
        )
        r.extra_cost = None if money.variable is None else money.variable + money.fixed
        known = r.extra_cost is not None and value is not None and base_value is not None
        r.net = value - base_value - r.extra_cost if known else None
        results.append(r)
    searches = {}
    for opts, r in zip(sets, results, strict=True):
        if opts:
            search = _break_even(r, _money(opts, sheet, volumes), base_discount, base_value, volumes)
            if search is not None:
                searches[opts] = search
    wanted = {o: (round(r.discount, 9), round(base_discount, 9)) for o, r in zip(sets, results, strict=True)}
    floors = _policy_floors(policy, searches, wanted, projected, state, dates, sellers, sheet, volumes.orders)
    for opts, r in zip(sets, results, strict=True):
        if opts in floors:
            r.break_even_orders = floors[opts]
            r.break_even_note = "costs.breakeven.policy_floor"
    return CostAdvice(
        seller_id=str(seller_id),
        marketplace_id=str(marketplace_id),
        as_of=as_of,
        evaluation_dates=dates,
        currency=sheet.currency,
        sheet_source=sheet.source,
        volumes=volumes,
        current_state=str(state["state"].iloc[0]) if state is not None and len(state) else "not_eligible",
        options=results,
    )


def _break_even(
    r: OptionResult, money: _Money, base_discount: float, base_value: float | None, volumes: Volumes
) -> list[float] | None:
    """Fill the break-evens of ``r`` that need no policy evaluation; return the volume bracket
    ``[lo, hi]`` (monthly orders) to search for the policy's floor, or ``None``."""
    if r.net is None or money.variable is None:
        r.break_even_note = "costs.breakeven.missing"
        return None
    # the storage fees at which the discount won pays for the option at today's volume
    gained = r.discount - base_discount
    if gained > 0:
        added = money.storage_added or 0.0
        r.break_even_storage = max(0.0, (money.variable + money.fixed - r.discount * added) / gained)
    v0 = volumes.orders
    if v0 <= 0:
        r.break_even_note = "costs.breakeven.no_orders"
        return None
    margin = r.benefit_value - base_value - money.variable  # per month at today's volume, scales with it
    if margin <= 0:
        r.break_even_note = (
            "costs.breakeven.never" if money.variable + money.fixed > 0 else "costs.breakeven.free"
        )
        return None
    if money.fixed == 0 and money.variable <= 0:  # it saves money at every volume
        r.break_even_note = "costs.breakeven.free"
        return None
    floor = money.fixed / margin * v0  # where the linear net crosses zero
    r.break_even_orders = floor
    if floor >= v0 or (r.discount == 0 and base_discount == 0):  # no benefit the policy could take away
        return None
    # below ``floor`` the net is negative anyway; above it the policy must still grant the same
    return [math.floor(floor), math.ceil(v0), floor]


#: Volumes tried per option and round of the search for the policy's floor (one replay per round).
SEARCH_POINTS = 48


def _policy_floors(
    policy: Policy,
    searches: dict[tuple, list[float]],
    wanted: dict[tuple, tuple[float, float]],
    projected: dict[tuple, pd.DataFrame],
    state: pd.DataFrame | None,
    dates: list[date],
    sellers: pd.DataFrame | None,
    sheet: CostSheet,
    v0: float,
) -> dict[tuple, float]:
    """The smallest whole monthly volume of each option's bracket ``[lo, hi, money break-even]`` at
    which the policy still grants what it grants at today's volume: ``wanted[opts]`` (the option's and
    the status quo's discount). Volume floors and minimum denominators are the policy's own: every
    candidate volume is judged by :func:`program_status`, all options' candidates of a round in one
    replay; more volume is assumed never to take a benefit away. An option whose money break-even
    already holds is left out of the answer (the break-even is the money one)."""

    def judge(points: dict[tuple, list[float]]):
        scen = {}
        for opts, vs in points.items():
            for v in vs:
                scen[(opts, v / v0)] = scaled(projected[opts], v / v0)
                scen[((), v / v0)] = scaled(projected[()], v / v0)
        got = program_status(policy, scen, state, dates, sellers)

        def holds(opts: tuple, v: float) -> bool:
            pair = (
                round(storage_discount(got[(opts, v / v0)].benefits, sheet), 9),
                round(storage_discount(got[((), v / v0)].benefits, sheet), 9),
            )
            return pair == wanted[opts]

        return holds

    brackets = {o: (int(b[0]), int(b[1])) for o, b in searches.items()}
    money = {o: b[2] for o, b in searches.items() if b[2] > 0}
    if money:
        holds = judge({o: [v] for o, v in money.items()})
        for o, v in money.items():
            if holds(o, v):
                del brackets[o]
    answers: dict[tuple, float] = {}
    while brackets:
        points = {}
        for o, (lo, hi) in list(brackets.items()):
            if hi - lo <= 1:
                answers[o] = float(hi)
                del brackets[o]
                continue
            step = max(1, math.ceil((hi - lo) / (SEARCH_POINTS + 1)))
            points[o] = [float(v) for v in range(lo + step, hi, step)]
        if not points:
            break
        holds = judge(points)
        for o, vs in points.items():
            lo, hi = brackets[o]
            ok = [v for v in vs if holds(o, v)]
            hi = int(min(ok)) if ok else hi
            lo = int(max([v for v in vs if v < hi], default=lo))
            brackets[o] = (lo, hi)
    return answers
