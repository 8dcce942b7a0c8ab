"""Pydantic models of a program policy (the content of a policy TOML file).

A policy is versioned configuration: name, version, ``effective_from``, the marketplaces it covers, the
evaluation cadence, the metric options it needs, and five sections:

- ``eligibility``: who is evaluated at all. Each criterion is a condition to **meet**
  (``tenure_days >= 180``). Any criterion failing, or with insufficient data, makes the seller not
  eligible. Sellers outside ``marketplaces`` are not eligible ("marketplace not in program").
- ``admission``: the bars an eligible seller must **meet** at an evaluation to be enrolled
  (``order_defect_rate < 0.0045``). Insufficient data means "not admitted" (the reason is given).
- ``removal``: rules whose criteria express the **breach** (``order_defect_rate > 0.006``). A rule is
  breached when *all* its criteria are breached (eBay-style "rate and count", field case C28). A rule
  removes an enrolled seller after ``consecutive`` breached evaluations in a row; the earlier ones put the
  seller ``at_risk``. Insufficient data or an unmeasured metric is never a breach (field case C23).
- ``recovery``: a removed seller re-enters the evaluation pool after ``stable_days`` consecutive days on
  which the admission bars are met.
- ``benefits``: standard benefits, tiered incentives and recommendations for enrolled sellers.

Optional enforcement (``customer-excellence`` uses none of it; see :class:`Enforcement`): an
``alert_threshold`` beside a removal criterion's ``threshold`` (warn before the limit), a minimum order
count below which removal rules and alert levels do not apply, suspension instead of removal, action
plans with an immunity period, a repeat count that blocks permanently, and daily checks whose status
changes are published on a weekly or monthly cadence (:class:`Cadence`).

Two derived sections are evaluated like the others when configured: ``alert`` (the removal rules at
their alert levels: a criterion whose comparison holds at its ``alert_threshold`` is a ``fail``, read
like a breach) and ``enforcement`` (the minimum order count, a condition to meet).

Whatever the section, a criterion *result* is always read from the seller's side: ``pass`` is good for
the seller, ``fail`` is bad. In ``removal`` a criterion whose comparison holds is therefore a ``fail``
(a breach).

Units: rates are **fractions** (0.45 % is written 0.0045), windows and tenure are days, response times
are hours, the satisfaction index is 0–100. Source of the reference numbers: ``program.md``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxops.metrics.options import PROVISIONAL_OPTIONS, MetricOptions
from cxops.policy.catalog import METRICS

Operator = Literal["<", "<=", ">", ">=", "=="]
Test = Literal["value", "numerator", "denominator"]
Channel = Literal["all", "mfn", "afn"]
Section = Literal["eligibility", "admission", "removal", "benefits", "alert", "enforcement"]

#: Sections evaluated criterion by criterion (recovery reuses the admission criteria). ``alert`` and
#: ``enforcement`` are derived from the removal rules' alert thresholds and ``[enforcement]``; a policy
#: without them has no criteria there.
SECTIONS: tuple[str, ...] = ("eligibility", "admission", "removal", "benefits", "alert", "enforcement")
#: Sections whose criteria express a breach (a comparison that holds is a ``fail``).
BREACH_SECTIONS: tuple[str, ...] = ("removal", "alert")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cadence(_Strict):
    """When evaluations happen (``[cadence]``).

    Attributes
    ----------
    every : {"month", "week", "day"}
        Evaluation frequency. Monthly by default.
    day_of_month : int
        Day of the month of a monthly evaluation (1–28).
    weekday : int
        Day of the week of a weekly evaluation (0 = Monday … 6 = Sunday).
    metrics_lag_days : int
        Metrics are judged as of ``evaluation date - metrics_lag_days`` (1: an evaluation on the 1st
        judges the last day of the previous month).
    publish_every : {"week", "month"} or None
        Only with ``every = "day"`` (Etsy-style: assessed every day, status changes published on a
        cadence): automatic status changes are made only on publication days — each ``weekday``
        (``"week"``) or each ``day_of_month`` (``"month"``) — from that day's assessment. The other
        days still record alert-level crossings (events), and operator actions take effect on their
        day. ``None`` (default): every evaluation publishes.
    """

    every: Literal["month", "week", "day"] = "month"
    day_of_month: int = Field(1, ge=1, le=28)
    weekday: int = Field(0, ge=0, le=6)
    metrics_lag_days: int = Field(1, ge=0)
    publish_every: Literal["week", "month"] | None = None


class Criterion(_Strict):
    """One comparison of a metric with a threshold.

    In ``eligibility``, ``admission`` and ``benefits`` the comparison is the condition to meet; in
    ``removal`` it is the breach condition (see the module docstring).

    Attributes
    ----------
    id : str
        Unique within its section.
    metric : str
        A metric of :data:`cxops.policy.catalog.METRICS`.
    window_days : int or None
        One of the metric's windows. May be omitted when the metric has a single window.
    channel : {"all", "mfn", "afn"} or None
        One of the metric's channels. May be omitted: then the metric's only channel, else ``all``.
    operator : {"<", "<=", ">", ">=", "=="}
        ``<``/``>`` are strict, ``<=``/``>=`` inclusive: a value exactly at the threshold passes
        ``<=`` and fails ``<``.
    threshold : float
        Rates are fractions (0.45 % is 0.0045).
    test : {"value", "numerator", "denominator"}
        What is compared: the metric value, the numerator (a count cap such as "at most 3 defective
        orders") or the denominator (a volume floor such as "at least 100 orders").
    min_denominator : float or None
        Below this denominator (or with no denominator) the result is ``insufficient_data``.
    skip_if_insufficient : bool
        When the result is ``insufficient_data`` the criterion is left out of the section outcome
        instead of blocking it (e.g. an MFN-only metric for a seller who only sells through AFN).
    label : str or None
        Human-readable name used in reasons; defaults to the id.
    fail_label : str or None
        Name used in the reason when the criterion fails (e.g. label "transaction volume",
        fail_label "volume below minimum" → "volume below minimum (80 < 100)"); defaults to the label.
    min_coverage : float or None
        The coverage below which this criterion's metric is provisional (a fraction; default the
        policy's ``[provisional] min_coverage``). Only metrics with a coverage rule are ever
        provisional (:class:`cxops.metrics.catalog.Coverage`).
    alert_threshold : float or None
        Removal criteria only: the alert level beside the limit, compared with the same operator
        (``operator = ">"``, ``threshold = 0.006``, ``alert_threshold = 0.005``: alert above 0.5 %,
        breach above 0.6 %). It must lie before the limit. A rule whose criteria all hold at their
        alert levels (a criterion without one uses its limit) has crossed its alert level: a warning
        event, and ``at_risk`` for an enrolled seller (:mod:`cxops.lifecycle.table`).
    """

    id: str = Field(min_length=1)
    metric: str
    window_days: int | None = None
    channel: Channel | None = None
    operator: Operator
    threshold: float
    test: Test = "value"
    min_denominator: float | None = Field(None, ge=0)
    skip_if_insufficient: bool = False
    label: str | None = None
    fail_label: str | None = None
    alert_threshold: float | None = None
    min_coverage: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _defaults_from_catalog(cls, data: Any) -> Any:
        # Fill an omitted window/channel when the catalog offers only one; unknown metrics and
        # windows not offered are reported by cxops.policy.checks with their key path.
        if not isinstance(data, dict) or not isinstance(data.get("metric"), str):
            return data
        spec = METRICS.get(data["metric"])
        if spec is None:
            return data
        data = dict(data)
        if data.get("window_days") is None and len(spec.windows) == 1:
            data["window_days"] = spec.windows[0]
        if data.get("channel") is None:
            data["channel"] = spec.channels[0] if len(spec.channels) == 1 else "all"
        return data

    @property
    def display_label(self) -> str:
        """The label, or the id when there is none."""
        return self.label or self.id


class _CriteriaSection(_Strict):
    criteria: list[Criterion] = Field(default_factory=list)
    not_measured: Literal["skip", "fail"] = "skip"


class Eligibility(_CriteriaSection):
    """``[eligibility]``: criteria to meet to be evaluated at all.

    ``not_measured = "skip"`` (default) leaves a criterion whose metric is not measured out of the
    outcome (the result is still shown); ``"fail"`` makes it block eligibility.
    """


class Admission(_CriteriaSection):
    """``[admission]``: the bars to meet at an evaluation to be enrolled (also the recovery bars).

    ``not_measured = "skip"`` (default) lets a marketplace without, e.g., buyer-message data still be
    evaluated; ``"fail"`` makes an unmeasured metric block admission.
    """


_CRITERION_KEYS = frozenset(Criterion.model_fields) - {"id", "label"}  # fail_label goes to the criterion


class RemovalRule(_Strict):
    """One removal rule: breached when **all** its criteria are breached.

    A rule with a single criterion may be written flat (the criterion's keys on the rule itself; the
    criterion then takes the rule's id and label).

    Attributes
    ----------
    id : str
        Unique among removal rules.
    consecutive : int
        Number of consecutive breached evaluations that remove the seller (default 1: immediately).
    warn_state : {"at_risk"}
        State of a seller whose rule is breached fewer than ``consecutive`` times in a row.
    criteria : list of Criterion
        Breach conditions, all of which must hold.
    """

    id: str = Field(min_length=1)
    label: str | None = None
    consecutive: int = Field(1, ge=1)
    warn_state: Literal["at_risk"] = "at_risk"
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _flat_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and "criteria" not in data and "metric" in data:
            rule = {k: v for k, v in data.items() if k not in _CRITERION_KEYS}
            criterion = {k: v for k, v in data.items() if k in _CRITERION_KEYS}
            criterion["id"] = data.get("id", "")
            if "label" in data:
                criterion["label"] = data["label"]
            rule["criteria"] = [criterion]
            return rule
        return data

    @property
    def display_label(self) -> str:
        """The label, or the id when there is none."""
        return self.label or self.id


class Removal(_Strict):
    """``[removal]``: the removal rules (``[[removal.rules]]``)."""

    rules: list[RemovalRule] = Field(default_factory=list)


class Enforcement(_Strict):
    """``[enforcement]``: how removal rules are enforced (all optional; the defaults are the plain program).

    Attributes
    ----------
    action : {"remove", "suspend"}
        What a removal rule (or lost eligibility) does to a member. ``remove`` (default): the seller is
        ``removed`` and recovers on its own after ``recovery.stable_days``. ``suspend``: the seller is
        ``suspended`` and comes back only when an operator reinstates it or accepts its action plan.
    min_orders : int or None
        Below this many orders (``order_count`` over ``min_orders_window_days``, all channels) the
        removal rules and alert levels do not apply: no warning, no removal (eligibility still does).
    min_orders_window_days : int or None
        A window of ``order_count`` (30 or 90); required with ``min_orders``.
    immunity_days : int
        A seller reinstated by an operator or whose action plan is accepted is ``immune`` for this many
        days (the day of the decision included): breaches are logged as events but do not remove or
        suspend. The first published evaluation after the last immune day re-assesses the seller as a
        member. 0: no immunity — a reinstatement (without its own ``until``) makes the seller
        ``enrolled`` on the decision day, judged as a member at the next published evaluation.
    block_after : int or None
        The ``block_after``-th automatic removal or suspension of a seller blocks it permanently
        (``blocked``), which only an operator's ``lift_block`` undoes. ``None``: never.
    """

    action: Literal["remove", "suspend"] = "remove"
    min_orders: int | None = Field(None, ge=1)
    min_orders_window_days: int | None = None
    immunity_days: int = Field(0, ge=0)
    block_after: int | None = Field(None, ge=1)


class Provisional(_Strict):
    """``[provisional]``: what values computed on incomplete inputs may do.

    A metric with a coverage rule (:class:`cxops.metrics.catalog.Coverage`: the late shipment rate —
    shipments recorded for the orders due to ship; the on-time delivery rate — deliveries recorded for
    the shipments promised) is **provisional** when, over the last ``lookback_days`` of its window,
    its coverage is below ``min_coverage`` (a criterion may set its own ``min_coverage``). Its
    criterion results carry ``provisional = true`` and the coverage.

    Attributes
    ----------
    min_coverage : float
        Fraction (default 0.95: provisional below 95 %).
    lookback_days : int
        The last days of the window the coverage is taken over (default 3: data for the last three
        days may still be arriving; at most the window).
    can_warn : bool
        A removal rule breached on provisional values warns (``at_risk``, reason marked provisional)
        and an alert level crossed on them alerts (default ``true``); ``false``: such breaches are not
        breaches.
    can_remove : bool
        A removal rule breached on provisional values at its ``consecutive``-th evaluation removes
        (or suspends, blocks) the seller (default ``false``: the seller is warned instead, the breach
        still counts toward ``consecutive``, and the first evaluation with complete coverage that
        still breaches removes).
    """

    min_coverage: float = Field(0.95, ge=0, le=1)
    lookback_days: int = Field(3, ge=1)
    can_warn: bool = True
    can_remove: bool = False


#: Criterion id of the derived ``enforcement`` criterion (the minimum order count).
MIN_ORDERS_CRITERION = "min_orders"


class Recovery(_Strict):
    """``[recovery]``: consecutive days with the admission bars met before a removed seller is a candidate."""

    stable_days: int = Field(45, ge=1)


class StandardBenefit(_Strict):
    """A benefit every enrolled seller gets."""

    id: str = Field(min_length=1)
    label: str


class Tier(_Strict):
    """One tier of an incentive: the judged value must be ``>= at_least``; ``value`` is what is granted
    (e.g. a discount fraction, 0.05 = 5 %)."""

    at_least: float
    value: float
    label: str


class Incentive(_Strict):
    """A tiered incentive judged on the weakest value of a criterion over the last evaluations.

    Attributes
    ----------
    criterion : Criterion
        The base bar (a condition to meet); it must pass at each of the last ``evaluations``.
    evaluations : int
        How many of the most recent evaluations are judged (3 = the last three months).
    categories : list of str
        Case-insensitive substrings of the seller's ``primary_category``; empty = every category.
    marketplaces : list of str
        Marketplaces it applies to; empty = every marketplace of the program.
    tiers : list of Tier
        Ascending ``at_least``; the highest tier reached by the weakest value is granted.
    """

    id: str = Field(min_length=1)
    label: str
    criterion: Criterion
    evaluations: int = Field(3, ge=1)
    categories: list[str] = Field(default_factory=list)
    marketplaces: list[str] = Field(default_factory=list)
    tiers: list[Tier] = Field(min_length=1)


class Recommendation(_Strict):
    """A recommendation for enrolled sellers meeting ``criterion`` at the last evaluation."""

    id: str = Field(min_length=1)
    label: str
    criterion: Criterion
    marketplaces: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)


class Benefits(_Strict):
    """``[benefits]``: ``standard``, ``incentives`` and ``recommendations``."""

    standard: list[StandardBenefit] = Field(default_factory=list)
    incentives: list[Incentive] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)


class Policy(_Strict):
    """A complete, validated program policy.

    Attributes
    ----------
    lifecycle : {"program", "standing"}
        ``program`` (default): enrolment with admission, removal and recovery. ``standing``: a standards
        check such as Amazon account health, where each evaluation re-judges the admission bars —
        met → ``enrolled`` (in good standing), not met → ``at_risk``, insufficient data → ``candidate``;
        removal rules and recovery are not used.
    marketplaces : list of str
        Marketplace ids in the program; empty = all.
    enforcement : Enforcement
        How removal rules are enforced (``[enforcement]``: suspension, minimum order count, immunity,
        repeat blocks); the defaults are the plain program.
    provisional : Provisional
        What values on incomplete inputs may do (``[provisional]``). Its level and look-back are also
        the engine's (``metric_options.provisional_min_coverage`` / ``provisional_lookback_days``,
        derived from it; setting those in ``[metric_options]`` is refused).
    """

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective_from: date
    description: str = ""
    marketplaces: list[str] = Field(default_factory=list)
    lifecycle: Literal["program", "standing"] = "program"
    cadence: Cadence = Field(default_factory=Cadence)
    metric_options: MetricOptions = Field(default_factory=MetricOptions)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    admission: Admission = Field(default_factory=Admission)
    removal: Removal = Field(default_factory=Removal)
    enforcement: Enforcement = Field(default_factory=Enforcement)
    recovery: Recovery = Field(default_factory=Recovery)
    benefits: Benefits = Field(default_factory=Benefits)
    provisional: Provisional = Field(default_factory=Provisional)

    @model_validator(mode="after")
    def _engine_coverage(self) -> Policy:
        # one declaration: [provisional] sets the engine's level and look-back ([metric_options] may
        # only repeat them, as a dumped policy does)
        derived = {
            "provisional_min_coverage": self.provisional.min_coverage,
            "provisional_lookback_days": self.provisional.lookback_days,
        }
        for key in sorted(self.metric_options.model_fields_set & set(PROVISIONAL_OPTIONS)):
            if getattr(self.metric_options, key) != derived[key]:
                raise ValueError(
                    f"metric_options.{key} is set by [provisional] (min_coverage, lookback_days), "
                    "not in [metric_options]"
                )
        options = self.metric_options.model_copy(update=derived)
        object.__setattr__(self, "metric_options", options)
        return self

    def min_coverage(self, criterion: Criterion) -> float:
        """The coverage below which ``criterion``'s metric is provisional (its own, else the policy's)."""
        return self.provisional.min_coverage if criterion.min_coverage is None else criterion.min_coverage

    def criteria(self, section: str) -> list[tuple[str | None, Criterion]]:
        """Criteria of a section as ``(rule_id, criterion)`` pairs.

        ``rule_id`` is the removal rule id (also in ``alert``: the rule's criteria with their
        ``alert_threshold`` as threshold, for the rules that have one), the incentive or
        recommendation id for ``benefits``, and ``None`` for ``eligibility``, ``admission`` and
        ``enforcement`` (the minimum order count, criterion id :data:`MIN_ORDERS_CRITERION`).

        Raises
        ------
        ValueError
            If ``section`` is not one of :data:`SECTIONS`.
        """
        if section == "eligibility":
            return [(None, c) for c in self.eligibility.criteria]
        if section == "admission":
            return [(None, c) for c in self.admission.criteria]
        if section == "removal":
            return [(r.id, c) for r in self.removal.rules for c in r.criteria]
        if section == "benefits":
            return [(i.id, i.criterion) for i in self.benefits.incentives] + [
                (r.id, r.criterion) for r in self.benefits.recommendations
            ]
        if section == "alert":
            return [
                (
                    r.id,
                    c.model_copy(
                        update={"threshold": c.threshold if c.alert_threshold is None else c.alert_threshold}
                    ),
                )
                for r in self.alert_rules
                for c in r.criteria
            ]
        if section == "enforcement":
            e = self.enforcement
            if e.min_orders is None:
                return []
            c = Criterion(
                id=MIN_ORDERS_CRITERION,
                metric="order_count",
                window_days=e.min_orders_window_days,
                channel="all",
                operator=">=",
                threshold=e.min_orders,
            )
            return [(None, c)]
        raise ValueError(f"unknown section {section!r}; expected one of {', '.join(SECTIONS)}")

    @property
    def alert_rules(self) -> list[RemovalRule]:
        """Removal rules with an alert level (a criterion with an ``alert_threshold``), in policy order."""
        return [r for r in self.removal.rules if any(c.alert_threshold is not None for c in r.criteria)]

    def not_measured_mode(self, section: str) -> str:
        """How an unmeasured metric counts in a section: ``"skip"`` or ``"fail"``."""
        if section == "eligibility":
            return self.eligibility.not_measured
        if section == "admission":
            return self.admission.not_measured
        return "skip"

    def in_program(self, marketplace_id: str) -> bool:
        """Whether a marketplace is covered (an empty list covers every marketplace)."""
        return not self.marketplaces or marketplace_id in self.marketplaces
