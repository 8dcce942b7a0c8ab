"""The metric catalog: the one declaration of every metric cxops computes.

Each :class:`MetricDef` says what a metric means (anchor, population, defect, sources), how it reads
(kind, unit, direction), where it is computed (windows, channels) and how: which record population it
aggregates (``family``, a name of :data:`cxops.metrics.families.POPULATIONS`), which sums of that
population are its numerator and denominator (:class:`Sum`), how they combine (``aggregation``) and
which inputs must be present for it to be measured (``requires``). The families that compute the
metrics, the response-time aggregation, ``explain``'s defect lists, the report's display kinds,
reconcile's targets and the README's metric table all derive from it.

Sources: ``DESIGN.md`` ("Metric semantics"), the reference program (``program.md``) and
``reference/metric-definitions.md`` (Amazon definitions A1–A43). Thresholds are never here: they live
in policy files.

Kinds
-----
``rate``
    ``value = numerator / denominator`` as a fraction in [0, 1]; null when the denominator is 0.
``count``
    ``value = numerator``; ``denominator`` is null.
``hours``
    a median in clock hours; ``denominator`` is the number of messages it is taken over.
``index``
    a mean on 0–100; ``numerator`` is the sum of points, ``denominator`` the number of ratings.
``days``
    ``value`` in days; numerator and denominator null.

Aggregations
------------
``ratio``
    sum of the numerator column / sum of the denominator column over the window (rates).
``mean``
    the same quotient, of points per record (the 0–100 index).
``count``
    the sum of the numerator column (no denominator).
``median``
    the median of a record column over the records counted in the denominator (non-additive).
``elapsed_days``
    days from the seller's start day to the as-of day (no records, no window).

Run ``python -m cxops.metrics.catalog --markdown`` for the table the README carries.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

ALL, MFN, AFN = "all", "mfn", "afn"

#: Display unit of each kind (the README table and the report's formatting read it).
UNITS = {"rate": "fraction", "count": "count", "hours": "hours", "index": "points 0–100", "days": "days"}

AGGREGATIONS = ("ratio", "mean", "count", "median", "elapsed_days")


@dataclass(frozen=True)
class Sum:
    """A window sum of a record population: a seller-day fact column added up over the window.

    Attributes
    ----------
    name : str
        Name of the fact column (e.g. ``defective``).
    column : str or None
        The record column it sums (a 0/1 flag or points); ``None`` counts the records.
    """

    name: str
    column: str | None = None


@dataclass(frozen=True)
class Need:
    """Input a metric needs to be measured: one of ``tables`` (``"feedback|claims"``: either) with
    every one of ``columns`` provided by its source."""

    tables: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class DefectRows:
    """How ``explain`` lists the records counted against a metric (its defective rows).

    Attributes
    ----------
    flag : str
        Condition on the records, ``"column"`` (== 1) or ``"!column"`` (== 0); several joined by
        ``&`` must all hold (``"f_delivered&!f_on_time"``).
    record_id : str
        Column identifying a record (``order_id`` or ``shipment_id``).
    kind : str
        The ``kind`` shown for each row; ``"odr"``: the defects of the order (negative feedback,
        A-to-z claim, chargeback).
    """

    flag: str
    record_id: str
    kind: str


@dataclass(frozen=True)
class Coverage:
    """How complete a metric's inputs are for the most recent days of its window.

    A metric with a coverage rule is **provisional** while, over the last ``lookback_days`` of its
    window (the policy's ``[provisional] lookback_days``, at most the window), fewer than the policy's
    ``min_coverage`` of the records ``expected`` have the input ``recorded``: data that arrives late
    (shipment confirmations, delivery scans) would otherwise count as defects. ``coverage`` =
    recorded / expected over those days, a fraction; null when nothing is expected there.

    Attributes
    ----------
    expected : str
        What the coverage is taken over (anchored on the metric's anchor date).
    recorded : str
        Which of them have the input recorded.
    expected_sum, recorded_sum : Sum
        The sums of the metric's record population counting them (``recorded_sum`` counts a subset
        of ``expected_sum``'s records); summed over the look-back days, not the window.
    """

    expected: str
    recorded: str
    expected_sum: Sum
    recorded_sum: Sum

    @property
    def sums(self) -> tuple[Sum, Sum]:
        """``(recorded_sum, expected_sum)``: the coverage's numerator and denominator."""
        return (self.recorded_sum, self.expected_sum)


@dataclass(frozen=True)
class MetricDef:
    """Declaration of one catalog metric.

    Attributes
    ----------
    name : str
    kind : str
        ``rate``, ``count``, ``hours``, ``index`` or ``days`` (see module docstring).
    windows : tuple of int
        Window lengths in marketplace-local days; empty for ``tenure_days``.
    channels : tuple of str
        ``all``, ``mfn``, ``afn``.
    anchor : str
        The date that places a record in a window.
    population : str
        What the denominator counts.
    defect : str
        What the numerator counts.
    sources : tuple of str
        Canonical tables it reads (``"feedback|claims"``: either).
    higher_is_better : bool
        Direction: a higher value is better (the numerator counts good units).
    family : str or None
        The record population it aggregates (:data:`cxops.metrics.families.POPULATIONS`); metrics of
        one population share one seller-day fact table. ``None`` for ``elapsed_days``.
    numerator, denominator : Sum or None
        The population's window sums read as numerator and denominator.
    aggregation : str
        ``ratio``, ``mean``, ``count``, ``median`` or ``elapsed_days`` (see module docstring).
    median_of : str or None
        For ``median``: the record column the median is taken of (e.g. ``hours``).
    requires : tuple of Need
        What must be imported (and provided by its source) for the metric to be measured; otherwise
        it is "not measured" with the reason. Orders are always present.
    defect_rows : DefectRows or None
        For metrics whose numerator (or denominator less numerator) counts defective records:
        how ``explain`` lists them with the day each drops out of the window.
    coverage : Coverage or None
        The metric's coverage rule (``None``: never provisional); its sums belong to ``family``.
    """

    name: str
    kind: str
    windows: tuple[int, ...]
    channels: tuple[str, ...]
    anchor: str
    population: str
    defect: str
    sources: tuple[str, ...]
    higher_is_better: bool = False
    family: str | None = None
    numerator: Sum | None = None
    denominator: Sum | None = None
    aggregation: str = "ratio"
    median_of: str | None = None
    requires: tuple[Need, ...] = ()
    defect_rows: DefectRows | None = None
    coverage: Coverage | None = None

    def __post_init__(self) -> None:
        if self.kind not in UNITS:
            raise ValueError(f"metric {self.name}: unknown kind {self.kind!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"metric {self.name}: unknown aggregation {self.aggregation!r}")
        if self.aggregation == "median" and not self.median_of:
            raise ValueError(f"metric {self.name}: a median needs median_of")
        if self.aggregation in ("ratio", "mean") and (self.numerator is None or self.denominator is None):
            raise ValueError(f"metric {self.name}: a {self.aggregation} needs a numerator and a denominator")
        if self.coverage is not None and self.family is None:
            raise ValueError(f"metric {self.name}: a coverage rule needs a record population (family)")

    @property
    def unit(self) -> str:
        """Display unit: ``fraction``, ``count``, ``hours``, ``points 0–100`` or ``days``."""
        return UNITS[self.kind]

    @property
    def direction(self) -> str:
        """``higher`` or ``lower``: which way is better."""
        return "higher" if self.higher_is_better else "lower"

    @property
    def sums(self) -> tuple[Sum, ...]:
        """The sums of its population it reads: numerator, denominator and its coverage's."""
        own = (self.numerator, self.denominator, *(self.coverage.sums if self.coverage else ()))
        return tuple(s for s in own if s is not None)


_ODR_REQ = (Need("feedback|claims"),)
_LSR_REQ = (Need("orders", ("latest_ship_at",)), Need("shipments", ("confirmed_at",)))
_OTDR_REQ = (Need("orders", ("latest_delivery_at",)), Need("shipments", ("delivered_at",)))
_RESPONSE_REQ = (Need("buyer_messages", ("first_response_at",)),)
_ORDERS = Sum("orders")

CATALOG: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef(
            "order_defect_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "every order placed in the window, cancelled ones included",
            "orders with negative feedback, an A-to-z claim or a chargeback that counts (one per order)",
            ("orders", "feedback|claims"),
            family="order_defects",
            numerator=Sum("defective", "f_defect"),
            denominator=_ORDERS,
            requires=_ODR_REQ,
            defect_rows=DefectRows("f_defect", "order_id", "odr"),
        ),
        MetricDef(
            "negative_feedback_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with a 1–2★ feedback (policy: negative_feedback_max_stars) not removed",
            ("orders", "feedback"),
            family="order_defects",
            numerator=Sum("negative_feedback", "f_negative_feedback"),
            denominator=_ORDERS,
            requires=(Need("feedback"),),
        ),
        MetricDef(
            "a_to_z_claim_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with an A-to-z claim not denied, withdrawn or reversed",
            ("orders", "claims"),
            family="order_defects",
            numerator=Sum("a_to_z", "f_a_to_z"),
            denominator=_ORDERS,
            requires=(Need("claims"),),
        ),
        MetricDef(
            "chargeback_rate",
            "rate",
            (60,),
            (ALL, MFN, AFN),
            "order date",
            "orders placed in the window",
            "orders with a service (non-fraud) chargeback not denied, withdrawn or reversed",
            ("orders", "claims"),
            family="order_defects",
            numerator=Sum("chargeback", "f_chargeback"),
            denominator=_ORDERS,
            requires=(Need("claims"),),
        ),
        MetricDef(
            "late_shipment_rate",
            "rate",
            (10, 30),
            (MFN,),
            "ship-by date",
            "MFN orders with a ship-by date in the window, less orders cancelled before shipping",
            "orders with a shipment confirmed after the ship-by deadline, or still unconfirmed",
            ("orders", "shipments"),
            family="late_shipments",
            numerator=Sum("late", "f_late"),
            denominator=_ORDERS,
            requires=_LSR_REQ,
            defect_rows=DefectRows("f_late", "order_id", "late_shipment"),
            coverage=Coverage(
                "MFN orders due to ship (ship-by date) in the look-back days, in the population",
                "orders with a shipment recorded (confirmed or not), or cancelled",
                _ORDERS,
                Sum("recorded", "f_recorded"),
            ),
        ),
        MetricDef(
            "pre_fulfillment_cancel_rate",
            "rate",
            (7,),
            (MFN,),
            "order date",
            "MFN orders placed in the window",
            "orders cancelled before shipping by the seller or the system (not via a buyer request)",
            ("orders", "cancellations"),
            family="cancellations",
            numerator=Sum("cancelled", "f_cancelled"),
            denominator=_ORDERS,
            # who cancelled decides whether it counts (C19): a source that does not say is not measured
            requires=(Need("cancellations", ("initiated_by",)),),
            defect_rows=DefectRows("f_cancelled", "order_id", "cancellation"),
        ),
        MetricDef(
            "valid_tracking_rate",
            "rate",
            (30,),
            (MFN,),
            "ship confirmation date",
            "MFN shipments confirmed in the window",
            "shipments with a tracking id (and a carrier scan where the source records scans)",
            ("orders", "shipments"),
            higher_is_better=True,
            family="tracking",
            numerator=Sum("valid", "f_valid"),
            denominator=Sum("shipments"),
            requires=(Need("shipments", ("confirmed_at", "tracking_id")),),
            defect_rows=DefectRows("!f_valid", "shipment_id", "invalid_tracking"),
        ),
        MetricDef(
            "on_time_delivery_rate",
            "rate",
            (14, 30),
            (ALL, MFN, AFN),
            "promised delivery date",
            "shipments with a recorded delivery date whose promised date is in the window",
            "shipments delivered on or before the promised local date",
            ("orders", "shipments"),
            higher_is_better=True,
            family="deliveries",
            numerator=Sum("on_time", "f_on_time"),
            denominator=Sum("delivered", "f_delivered"),
            requires=_OTDR_REQ,
            defect_rows=DefectRows("f_delivered&!f_on_time", "shipment_id", "late_delivery"),
            coverage=Coverage(
                "shipments confirmed or delivered whose promised delivery date is in the look-back days",
                "those with a delivery date recorded",
                Sum("expected", "f_expected"),
                Sum("arrived", "f_arrived"),
            ),
        ),
        MetricDef(
            "on_time_delivery_overdue",
            "count",
            (14, 30),
            (ALL, MFN, AFN),
            "promised delivery date",
            "—",
            "shipped but undelivered shipments past their promised date (not in the OTDR by default)",
            ("orders", "shipments"),
            family="deliveries",
            numerator=Sum("overdue", "f_overdue"),
            aggregation="count",
            requires=_OTDR_REQ,
        ),
        MetricDef(
            "late_response_rate",
            "rate",
            (90,),
            (ALL,),
            "message received",
            "buyer messages needing a response whose 24 h have passed or that were answered",
            "messages without a human reply within 24 clock hours",
            ("buyer_messages",),
            family="messages",
            numerator=Sum("late", "f_late"),
            denominator=Sum("messages"),
            requires=_RESPONSE_REQ,
        ),
        MetricDef(
            "median_first_response_hours",
            "hours",
            (90,),
            (ALL,),
            "message received",
            "answered buyer messages needing a response",
            "median clock hours to the first human reply",
            ("buyer_messages",),
            family="messages",
            denominator=Sum("replied"),
            aggregation="median",
            median_of="hours",
            requires=_RESPONSE_REQ,
        ),
        MetricDef(
            "customer_satisfaction_index",
            "index",
            (90,),
            (ALL,),
            "feedback date",
            "ratings received in the window (not removed; shared ones excluded by default)",
            "mean of 1★=0, 2★=25, 3★=50, 4★=75, 5★=100",
            ("orders", "feedback"),
            higher_is_better=True,
            family="ratings",
            numerator=Sum("points", "points"),
            denominator=Sum("ratings"),
            aggregation="mean",
            # only from a source covering every star level (not Amazon's 1–3★ feedback report, C8)
            requires=(Need("feedback", ("ratings_all_stars",)),),
        ),
        MetricDef(
            "order_count",
            "count",
            (30, 90),
            (ALL, MFN, AFN),
            "order date",
            "—",
            "orders placed in the window",
            ("orders",),
            higher_is_better=True,
            family="orders",
            numerator=_ORDERS,
            aggregation="count",
        ),
        MetricDef(
            "account_health_warnings",
            "count",
            (180,),
            (ALL,),
            "reported date",
            "—",
            "violations flagged as warnings",
            ("violations",),
            family="violations",
            numerator=Sum("warnings", "f_warning"),
            aggregation="count",
            requires=(Need("violations"),),
        ),
        MetricDef(
            "ip_complaints",
            "count",
            (90, 180),
            (ALL,),
            "reported date",
            "—",
            "intellectual-property complaints",
            ("violations",),
            family="violations",
            numerator=Sum("ip", "f_ip"),
            aggregation="count",
            requires=(Need("violations"),),
        ),
        MetricDef(
            "major_violations",
            "count",
            (90,),
            (ALL,),
            "reported date",
            "—",
            "violations of severity high or critical, and IP complaints",
            ("violations",),
            family="violations",
            numerator=Sum("major", "f_major"),
            aggregation="count",
            requires=(Need("violations"),),
        ),
        MetricDef(
            "tenure_days",
            "days",
            (),
            (ALL,),
            "registered date, else first order",
            "—",
            "days from the start to the as-of date",
            ("orders",),
            higher_is_better=True,
            aggregation="elapsed_days",
        ),
    )
}
"""All catalog metrics by name."""

#: Metrics whose records ``explain`` lists with the day each drops out of its window (catalog order).
DEFECT_METRICS: tuple[str, ...] = tuple(n for n, m in CATALOG.items() if m.defect_rows is not None)


def metric(name: str) -> MetricDef:
    """Catalog entry for ``name``.

    Raises
    ------
    KeyError
        For an unknown metric (the message lists the known ones).
    """
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(CATALOG)}") from None


def family_metrics(family: str) -> tuple[MetricDef, ...]:
    """The catalog metrics aggregating the record population ``family`` (catalog order)."""
    return tuple(m for m in CATALOG.values() if m.family == family)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The README's metric table: one row per catalog metric (Markdown, ends with a newline)."""
    head = "| Metric | Kind (unit) | Better | Windows (days) | Channels | Anchor | Counts | Over | Needs |"
    rows = [head, "|" + "---|" * 9]
    for m in CATALOG.values():
        windows = ", ".join(str(w) for w in m.windows) or "—"
        needs = "; ".join(
            _cell(n.tables.replace("|", " or ")) + (f" ({', '.join(n.columns)})" if n.columns else "")
            for n in m.requires
        )
        rows.append(
            "| "
            + " | ".join(
                [
                    f"`{m.name}`",
                    m.kind if m.unit == m.kind else f"{m.kind} ({m.unit})",
                    m.direction,
                    windows,
                    ", ".join(m.channels),
                    m.anchor,
                    _cell(m.defect),
                    _cell(m.population),
                    needs or "orders",
                ]
            )
            + " |"
        )
    return "\n".join(rows) + "\n"


#: The README's metric table sits between these two lines.
TABLE_BEGIN = "<!-- metric-table:begin (generated: python -m cxops.metrics.catalog --readme README.md) -->"
TABLE_END = "<!-- metric-table:end -->"


def update_readme(text: str) -> str:
    """``text`` (a README) with the metric table between :data:`TABLE_BEGIN` and :data:`TABLE_END`
    replaced by :func:`markdown_table`.

    Raises
    ------
    ValueError
        If the markers are missing or out of order.
    """
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin:
        raise ValueError(f"no metric table markers ({TABLE_BEGIN} … {TABLE_END}) in the README")
    return text[: begin + len(TABLE_BEGIN)] + "\n" + markdown_table() + text[end:]


def main(argv: list[str] | None = None) -> int:
    """``python -m cxops.metrics.catalog --markdown``: print the README's metric table;
    ``--readme README.md``: rewrite the table in place."""
    ap = argparse.ArgumentParser(prog="python -m cxops.metrics.catalog", description=__doc__.split("\n")[0])
    ap.add_argument("--markdown", action="store_true", help="print the README's metric table")
    ap.add_argument("--readme", metavar="PATH", help="rewrite the metric table of this README in place")
    args = ap.parse_args(argv)
    if args.readme:
        from pathlib import Path

        path = Path(args.readme)
        try:
            new = update_readme(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        path.write_text(new, encoding="utf-8")
    elif args.markdown:
        sys.stdout.write(markdown_table())
    else:
        for name, m in CATALOG.items():
            print(f"{name}\t{m.kind}\t{','.join(map(str, m.windows))}\t{','.join(m.channels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
