"""The canonical data contract (v2): one schema per table.

Source: ``DESIGN.md`` ("Canonical tables (contract v1)"). A *seller order* is the unit:
``(seller_id, order_id)`` is unique in ``orders``; every child table carries both.

Conventions
-----------
* Instants (columns ending in ``_at``) are **UTC** and stored timezone-naive (the engine's session
  time zone is UTC). Importers turn naive source wall-clock times into UTC with the marketplace's
  IANA time zone.
* Calendar dates end in ``_date``.
* Enumerations are lower-case strings, except ``fulfillment_channel`` (``MFN`` / ``AFN``).

The schemas here are plain data; validation lives in :mod:`cxops.canonical.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

#: v2 adds the optional deadline tables (:data:`DEADLINE_TABLES`); a v1 warehouse is read unchanged
#: and gains them when they are first imported (no other table changes).
CONTRACT_VERSION = 2

#: Plausibility bounds of every instant (``timestamp``) and calendar date (``date``) column: a value
#: before :data:`EARLIEST` (or the column's own ``earliest``) or more than :data:`AHEAD` after the
#: import is quarantined with file, row and column, never stored (a year 9999, 0001 or 1900 is a
#: data error, and such a value breaks every later computation on the warehouse).
EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=366)
#: Words some tools accept as times. They name the moment of reading, not of the event, so they are
#: rejected wherever an instant or date is expected.
RELATIVE_TIME_WORDS = ("now", "today", "yesterday", "tomorrow")

# dtype names used below: "string", "timestamp" (UTC instant), "date", "int", "float", "bool"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Attributes
    ----------
    name : str
        Column name.
    dtype : str
        One of ``string``, ``timestamp`` (UTC instant), ``date``, ``int``, ``float``, ``bool``.
    required : bool
        A required column must be present in the file and non-null on every row.
    enum : tuple of str, optional
        Allowed values (after lower-casing, except where noted).
    min, max : float, optional
        Inclusive numeric bounds.
    earliest : datetime.date, optional
        Earliest plausible value of an instant or date column (default :data:`EARLIEST`); the latest
        is :data:`AHEAD` after the import.
    """

    name: str
    dtype: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    earliest: date | None = None

    def plausible_range(self, imported_at: datetime) -> tuple[datetime, datetime] | None:
        """Inclusive plausible ``(lowest, highest)`` of an instant or date column, else ``None``.

        Parameters
        ----------
        imported_at : datetime.datetime
            The import's instant (UTC, naive): the highest value is :data:`AHEAD` after it.
        """
        if self.dtype not in ("timestamp", "date"):
            return None
        lo = datetime.combine(self.earliest or EARLIEST, datetime.min.time())
        return lo, imported_at + AHEAD


@dataclass(frozen=True)
class Ordering:
    """A row-level invariant ``left <= right`` checked when both are non-null.

    ``severity`` is ``"error"`` (row quarantined) or ``"warning"`` (row kept, counted and reported
    as a data-quality flag). Timestamps of real sources are often slightly out of order (Olist has
    deliveries recorded before the carrier hand-over), so most orderings are warnings.
    """

    left: str
    right: str
    severity: str = "warning"


@dataclass(frozen=True)
class TableSchema:
    """Schema of one canonical table.

    Attributes
    ----------
    name : str
        Table name (also the file stem for ``cxops import canonical``).
    columns : tuple of Column
    key : tuple of str
        Columns that identify a row; unique within the table. Re-importing a row with an existing
        key replaces it.
    required_table : bool
        Whether a data set must provide this table.
    orderings : tuple of Ordering
        Row-level invariants.
    derived : bool
        Written by cxops itself (derived deadlines, their change log), never read from a source file.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_table: bool = False
    orderings: tuple[Ordering, ...] = field(default_factory=tuple)
    derived: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, dtype: str, required: bool = False, **kw) -> Column:
    return Column(name, dtype, required, **kw)


#: A provenance marker (not a column): the feedback source covers every star level, so a satisfaction
#: index can be computed from it. Amazon's feedback report lists only 1–3★ (field case C8) and does not
#: carry it; with several feedback sources the marker counts only if every source has it.
COMPLETE_RATINGS = "ratings_all_stars"

CHANNELS = ("MFN", "AFN")
CANCEL_INITIATORS = ("seller", "buyer", "system", "unknown")
CLAIM_KINDS = ("a_to_z", "chargeback")
CLAIM_DECISIONS = ("pending", "granted", "denied", "withdrawn", "reversed")
VIOLATION_KINDS = (
    "ip_complaint",
    "listing_policy",
    "authenticity",
    "safety",
    "restricted_product",
    "review_manipulation",
    "other",
)
SEVERITIES = ("low", "medium", "high", "critical")

MARKETPLACES = TableSchema(
    "marketplaces",
    (
        _c("marketplace_id", "string", True),
        _c("timezone", "string", True),
        _c("country", "string", True),
        _c("currency", "string"),
        _c("weekend", "string"),
    ),
    key=("marketplace_id",),
)

SELLERS = TableSchema(
    "sellers",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("name", "string"),
        _c("registered_at", "timestamp", earliest=date(1995, 1, 1)),  # the first marketplaces: 1995
        _c("primary_category", "string"),
        _c("country", "string"),
    ),
    key=("seller_id", "marketplace_id"),
    required_table=True,
)

ORDERS = TableSchema(
    "orders",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("purchased_at", "timestamp", True),
        _c("fulfillment_channel", "string", True, enum=CHANNELS),
        _c("latest_ship_at", "timestamp"),
        _c("latest_delivery_at", "timestamp"),
        _c("units", "int", min=0),
        _c("order_total", "float", min=0),
        _c("currency", "string"),
        _c("category", "string"),
        _c("is_premium", "bool"),
        _c("is_business", "bool"),
    ),
    key=("seller_id", "order_id"),
    required_table=True,
    orderings=(
        Ordering("purchased_at", "latest_ship_at"),
        Ordering("purchased_at", "latest_delivery_at"),
    ),
)

ORDER_ITEMS = TableSchema(
    "order_items",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("line_id", "string", True),
        _c("sku", "string"),
        _c("product_id", "string"),
        _c("category", "string"),
        _c("quantity", "int", min=0),
        _c("unit_price", "float", min=0),
    ),
    key=("seller_id", "order_id", "line_id"),
)

SHIPMENTS = TableSchema(
    "shipments",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("shipment_id", "string", True),
        _c("confirmed_at", "timestamp"),
        _c("carrier", "string"),
        _c("tracking_id", "string"),
        _c("first_scan_at", "timestamp"),
        _c("delivered_at", "timestamp"),
        _c("units", "int", min=0),
    ),
    key=("seller_id", "order_id", "shipment_id"),
    orderings=(Ordering("confirmed_at", "delivered_at"), Ordering("first_scan_at", "delivered_at")),
)

CANCELLATIONS = TableSchema(
    "cancellations",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("cancelled_at", "timestamp", True),
        _c("initiated_by", "string", True, enum=CANCEL_INITIATORS),
        _c("reason", "string"),
        _c("via_buyer_request", "bool"),
    ),
    key=("seller_id", "order_id"),
)

FEEDBACK = TableSchema(
    "feedback",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("rating", "int", True, min=1, max=5),
        _c("submitted_at", "timestamp", True),
        _c("removed_at", "timestamp"),
        _c("is_shared", "bool"),
        _c("comment", "string"),
    ),
    key=("seller_id", "order_id"),
    orderings=(Ordering("submitted_at", "removed_at", "error"),),
)

CLAIMS = TableSchema(
    "claims",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("claim_id", "string", True),
        _c("kind", "string", True, enum=CLAIM_KINDS),
        _c("filed_at", "timestamp", True),
        _c("decision", "string", enum=CLAIM_DECISIONS),
        _c("decided_at", "timestamp"),
        _c("is_fraud", "bool"),
    ),
    key=("seller_id", "order_id", "claim_id"),
    orderings=(Ordering("filed_at", "decided_at", "error"),),
)

BUYER_MESSAGES = TableSchema(
    "buyer_messages",
    (
        _c("seller_id", "string", True),
        _c("message_id", "string", True),
        _c("received_at", "timestamp", True),
        _c("order_id", "string"),
        _c("thread_id", "string"),
        _c("first_response_at", "timestamp"),
        _c("no_response_needed", "bool"),
        _c("is_auto_reply", "bool"),
        # Extension to contract v1: places a message without an order in a marketplace.
        _c("marketplace_id", "string"),
    ),
    key=("seller_id", "message_id"),
    orderings=(Ordering("received_at", "first_response_at", "error"),),
)

RETURNS = TableSchema(
    "returns",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("return_id", "string", True),
        _c("requested_at", "timestamp", True),
        _c("reason", "string"),
        _c("is_seller_fault", "bool"),
        _c("free_return_label", "bool"),
    ),
    key=("seller_id", "order_id", "return_id"),
)

VIOLATIONS = TableSchema(
    "violations",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("violation_id", "string", True),
        _c("kind", "string", True, enum=VIOLATION_KINDS),
        _c("reported_at", "timestamp", True),
        _c("severity", "string", enum=SEVERITIES),
        _c("is_warning", "bool"),
        _c("resolved_at", "timestamp"),
    ),
    key=("seller_id", "marketplace_id", "violation_id"),
)

REPORTED_METRICS = TableSchema(
    "reported_metrics",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        # a catalog metric name where one matches (order_defect_rate, late_shipment_rate, …), else the
        # source's own name in snake case (unit_on_time_delivery_rate, invoice_defect_rate, ahr_score …)
        _c("metric", "string", True),
        _c("channel", "string", True, enum=("all", "mfn", "afn")),
        _c("window_from", "date", True),  # the reporting date range in the document, inclusive
        _c("window_to", "date", True),
        _c("window_days", "int", min=0),
        _c("numerator", "float", min=0),  # defect count (e.g. orderWithDefects.count)
        _c("denominator", "float", min=0),  # population (e.g. orderCount)
        _c("rate", "float"),  # as reported: a fraction
        _c("target_value", "float"),
        _c("target_condition", "string"),  # LESS_THAN, GREATER_THAN, EQUALS, …
        _c("status", "string"),  # GOOD, BAD, NONE, WARNED, … as reported
        _c("source_metric", "string"),  # the document's field, e.g. orderDefectRate.mfn
        _c("source_file", "string"),
        _c("reported_at", "timestamp"),
    ),
    key=("seller_id", "marketplace_id", "metric", "channel", "window_from", "window_to"),
    orderings=(Ordering("window_from", "window_to", "error"),),
)
"""Metrics as a marketplace reports them (Amazon's account health report), for ``cxops reconcile``."""

#: Statuses of a fetched report: it held data, or the marketplace answered "no data".
SNAPSHOT_STATUSES = ("data", "no_data")

REPORT_SNAPSHOTS = TableSchema(
    "report_snapshots",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("report_type", "string", True),  # e.g. GET_V2_SELLER_PERFORMANCE_REPORT
        _c("window_from", "date", True),  # the window the report returned (its data), inclusive
        _c("window_to", "date", True),
        _c("fetched_on", "date", True),  # when the report was fetched (UTC date)
        _c("status", "string", True, enum=SNAPSHOT_STATUSES),
        _c("requested_from", "date"),  # the window asked for, when known (--requested)
        _c("requested_to", "date"),
        _c("rows", "int", min=0),  # reported_metrics rows the report gave
        _c("detail", "string"),  # why no data (processingStatus CANCELLED, empty file …)
        _c("source_file", "string"),
    ),
    key=("seller_id", "marketplace_id", "report_type", "window_from", "window_to", "fetched_on"),
    orderings=(
        Ordering("window_from", "window_to", "error"),
        Ordering("requested_from", "requested_to", "error"),
    ),
)
"""Every fetched report of a seller, per fetch date and window (data or "no data"): the history of
reported snapshots, which ``reported_metrics`` (one row per metric and window) does not keep."""

#: Calendars of a marketplace's ship-by deadlines (see :mod:`cxops.deadlines.calendars`).
CALENDARS = ("public", "carrier")
DAY_CONVENTIONS = ("day0", "day1")

DEADLINE_RULES = TableSchema(
    "deadline_rules",
    (
        _c("marketplace_id", "string", True),
        _c("holiday_subdivision", "string"),  # a ``holidays`` subdivision code (US state, DE Land …)
        _c("skip_holidays", "bool"),  # deadlines skip public holidays (default true); false: weekends only
        _c("cutoff", "string"),  # local HH:MM; an order at or after it counts as received the next day
        _c("deadline_time", "string"),  # local HH:MM of the deadline on the ship-by day (default: cutoff)
        _c("order_day", "string", enum=DAY_CONVENTIONS),  # the received day is day 0 (default) or day 1
        _c("default_handling_days", "int", min=0, max=60),  # no SKU or seller setting; none: not derived
        _c("carrier_weekend", "string"),  # weekdays carriers do not pick up, e.g. "SUN" (a carrier calendar)
    ),
    key=("marketplace_id",),
)
"""How a marketplace computes ship-by deadlines (optional; absent: the defaults of
:class:`cxops.deadlines.calendars.DeadlineRule`)."""

CALENDAR_DAYS = TableSchema(
    "calendar_days",
    (
        _c("marketplace_id", "string", True),
        _c("calendar", "string", True, enum=CALENDARS),
        _c("day", "date", True),
        _c("closed", "bool", True),  # true: closed (a holiday the library lacks); false: a working day
        _c("name", "string"),
        _c("recorded_at", "timestamp"),
    ),
    key=("marketplace_id", "calendar", "day"),
)
"""A marketplace's own calendar days over the ``holidays`` library's (public) and its carrier calendar."""

SELLER_CALENDAR_DAYS = TableSchema(
    "seller_calendar_days",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("day", "date", True),
        _c("closed", "bool", True),  # true: not operating (holiday mode); false: works a weekend/holiday
        _c("reason", "string"),
        _c("recorded_at", "timestamp"),
    ),
    key=("seller_id", "marketplace_id", "day"),
)
"""Per-seller overrides of the marketplace calendar, one row per local day."""

HANDLING_TIMES = TableSchema(
    "handling_times",
    (
        _c("seller_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("sku", "string", True),  # "*": the seller's default for SKUs without their own setting
        _c("effective_from", "timestamp", True),  # UTC instant the setting took effect
        _c("handling_days", "int", True, min=0, max=60),  # business days
        _c("effective_to", "timestamp"),  # UTC instant it ended (exclusive); none: until the next setting
    ),
    key=("seller_id", "marketplace_id", "sku", "effective_from"),
    orderings=(Ordering("effective_from", "effective_to", "error"),),
)
"""Per-SKU handling-time settings with effective dates: an order uses the settings in force when placed."""

SHIP_BY_CORRECTIONS = TableSchema(
    "ship_by_corrections",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("corrected_at", "timestamp", True),
        _c("new_latest_ship_at", "timestamp", True),
        _c("old_latest_ship_at", "timestamp"),
        _c("corrected_by", "string"),  # e.g. marketplace, operator:alice
        _c("reason", "string"),
    ),
    key=("seller_id", "order_id", "corrected_at"),
)
"""Ship-by corrections by the marketplace or an operator: the latest one per order is the deadline."""

SHIP_BY_DERIVED = TableSchema(
    "ship_by_derived",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("marketplace_id", "string", True),
        _c("latest_ship_at", "timestamp", True),
        _c("handling_days", "int", True, min=0),
        _c("received_date", "date"),
        _c("ship_by_date", "date"),
        _c("handling_source", "string"),  # sku, seller, marketplace
        _c("derived_at", "timestamp"),
    ),
    key=("seller_id", "order_id"),
    derived=True,
)
"""Ship-by deadlines cxops derived for orders whose source gives none (the provenance of each)."""

DEADLINE_CHANGES = TableSchema(
    "deadline_changes",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("changed_at", "timestamp", True),
        _c("old_latest_ship_at", "timestamp"),
        _c("new_latest_ship_at", "timestamp"),
        _c("reason", "string"),
    ),
    key=("seller_id", "order_id", "changed_at"),
    derived=True,
)
"""The log of derived deadlines recomputed after a calendar, rule or handling-time change."""

ATTEMPT_OUTCOMES = ("delivered", "failed", "refused", "returned")

DELIVERY_ATTEMPTS = TableSchema(
    "delivery_attempts",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("shipment_id", "string", True),
        _c("attempt", "int", True, min=1),  # 1 = the first attempt
        _c("attempted_at", "timestamp", True),
        _c("outcome", "string", enum=ATTEMPT_OUTCOMES),
    ),
    key=("seller_id", "order_id", "shipment_id", "attempt"),
)
"""Carrier delivery attempts per shipment (first and later), so a delivery deadline can run from the
first attempt (``MetricOptions.delivery_event``)."""

DELIVERY_CONFIRMATIONS = TableSchema(
    "delivery_confirmations",
    (
        _c("seller_id", "string", True),
        _c("order_id", "string", True),
        _c("confirmed_at", "timestamp", True),  # UTC instant the buyer answered
        _c("arrived_on_time", "bool", True),  # the buyer's answer: did the order arrive on time?
    ),
    key=("seller_id", "order_id"),
)
"""The buyer's answer to "did your order arrive on time?" (one per seller order): with
``MetricOptions.shipped_event = "any"``, an on-time answer is a signal the order shipped in time, seen
from the local day it was given; "not on time" is no signal."""

#: The optional deadline tables (contract extension; absent: deadlines as the sources give them).
DEADLINE_TABLES = (
    "deadline_rules",
    "calendar_days",
    "seller_calendar_days",
    "handling_times",
    "ship_by_corrections",
    "ship_by_derived",
    "deadline_changes",
    "delivery_attempts",
    "delivery_confirmations",
)

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        MARKETPLACES,
        SELLERS,
        ORDERS,
        ORDER_ITEMS,
        SHIPMENTS,
        CANCELLATIONS,
        FEEDBACK,
        CLAIMS,
        BUYER_MESSAGES,
        RETURNS,
        VIOLATIONS,
        REPORTED_METRICS,
        REPORT_SNAPSHOTS,
        DEADLINE_RULES,
        CALENDAR_DAYS,
        SELLER_CALENDAR_DAYS,
        HANDLING_TIMES,
        SHIP_BY_CORRECTIONS,
        SHIP_BY_DERIVED,
        DEADLINE_CHANGES,
        DELIVERY_ATTEMPTS,
        DELIVERY_CONFIRMATIONS,
    )
}
"""All canonical tables by name, in load order (parents before children)."""


def table(name: str) -> TableSchema:
    """Return the schema of canonical table ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a canonical table.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown canonical table {name!r}; known: {', '.join(TABLES)}") from None
