"""What ``reconcile`` returns: typed rows, verdicts and causes as message keys with their numbers.

Nothing here is text. A :class:`Message` names a catalog entry (``reconcile.cause.removed_feedback`` …)
and carries the raw values behind it — counts, dates, rates, other messages — which a renderer
(:mod:`cxops.report.reconcile`) formats in the reader's language. The value types below say how each
parameter is meant: a :class:`Count` of something (plural-aware), a pair of :class:`Counts`, a
:class:`Rate` of a metric, a :class:`Term` of a closed vocabulary (a metric or channel name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

VERDICTS = ("agrees", "differs", "no_raw_data", "not_computable")
"""Verdicts, in the order they are summarised."""


@dataclass(frozen=True)
class Message:
    """Something to say: a message-catalog key and its parameters (raw values, see the module doc).

    Parameters may be numbers (counts, shown with thousands separators), ``datetime.date`` (ISO),
    ``str`` (identifiers, shown as they are), :class:`Count`, :class:`Counts`, :class:`Rate`,
    :class:`Term`, :class:`Listed`, a tuple (values joined by ``reconcile.list_and``) or another
    :class:`Message` (``None``: nothing).
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Count:
    """``n`` things of a kind, singular or plural by ``n``.

    ``noun`` names the catalog entry ``reconcile.count.<noun>`` (``order``, ``shipment``, ``afn_order`` …)
    with its ``one`` and ``other`` forms.
    """

    n: float
    noun: str


@dataclass(frozen=True)
class Counts:
    """A numerator and its denominator (``3 / 50``); a count alone when the denominator is missing."""

    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class Rate:
    """A value of ``metric`` (a rate as a fraction, hours, an index …), shown by the metric's kind."""

    value: float | None
    metric: str


@dataclass(frozen=True)
class Term:
    """A word of a closed vocabulary: ``vocabulary`` is ``metric`` or ``channel``, ``name`` its identifier."""

    vocabulary: str
    name: str


@dataclass(frozen=True)
class Listed:
    """Values shown one after the other, separated by the catalog entry ``separator`` (a key)."""

    items: tuple
    separator: str


@dataclass(frozen=True)
class Cause:
    """A likely cause of a difference (or an informational note) for one reconciled row.

    Attributes
    ----------
    cause : str
        The cause key (``orders_missing``, ``removed_feedback``, ``timezone``, ``window`` …; the list is
        in :mod:`cxops.reconcile.causes`).
    message : Message
        The sentence with the numbers behind it.
    """

    cause: str
    message: Message


ROW_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "metric",
    "channel",
    "window_from",
    "window_to",
    "window_days",
    "reported_numerator",
    "reported_denominator",
    "reported_rate",
    "computed_numerator",
    "computed_denominator",
    "computed_rate",
    "diff_rate",
    "diff_numerator",
    "diff_denominator",
    "agrees",
    "verdict",
    "reason",
    "likely_causes",
    "computed_as",
    "reported_status",
    "target_value",
    "target_condition",
    "source_metric",
    "source_file",
    "reported_at",
    "account_status",
    "ahr_status",
]
"""Columns of :attr:`Reconciliation.rows` (see there)."""


@dataclass(frozen=True)
class Reconciliation:
    """Every reported metric next to the same metric computed from the raw data, same window.

    Attributes
    ----------
    rows : pandas.DataFrame
        One row per reported row, columns :data:`ROW_COLUMNS`, sorted by seller, marketplace, catalog
        order of the metric, window end and channel:

        - ``seller_id, marketplace_id, metric`` (as reported), ``channel``, ``window_from, window_to``
          (dates, inclusive) and ``window_days`` (= ``window_to - window_from + 1``);
        - ``reported_numerator, reported_denominator, reported_rate`` as in the report (float; rates
          are fractions); ``computed_*`` from the raw data over the same window and channel (counts
          of count metrics in the numerator, rate null; the median response time in the rate, with the
          number of replied messages in the denominator);
        - ``diff_rate`` = computed − reported (the reported rate, else the ratio of its counts),
          ``diff_numerator``, ``diff_denominator``;
        - ``agrees`` (bool, True only when ``verdict == "agrees"``) and ``verdict``: one of
          :data:`VERDICTS`; ``reason`` (:class:`Message` or None) says why for ``no_raw_data`` and
          ``not_computable``;
        - ``likely_causes``: list of :class:`Cause`; on agreeing rows only the informational
          ``window`` and ``channel`` notes; empty for rows not compared;
        - ``computed_as`` (:class:`Message` or None): the cxops metric and channel computed;
        - the report's ``status`` as ``reported_status``, and its ``target_value, target_condition,
          source_metric, source_file, reported_at``;
        - ``account_status`` and ``ahr_status``: the account status and the Account Health Rating
          status the marketplace reported for the seller and marketplace in the same report (the
          latest reported on or before the row's report day), verbatim (``NORMAL``, ``AT_RISK``,
          ``DEACTIVATED`` …; ``GREAT``, ``WARNED`` …), or null.
    as_of : datetime.date or None
        Only reported rows whose window ends by this day (``None``: all).
    """

    rows: pd.DataFrame
    as_of: date | None = None

    def verdict_counts(self) -> dict[str, int]:
        """Number of rows per verdict, every verdict of :data:`VERDICTS` included."""
        counts = self.rows["verdict"].value_counts() if len(self.rows) else {}
        return {v: int(counts.get(v, 0)) for v in VERDICTS}
