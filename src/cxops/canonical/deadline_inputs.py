"""The inputs deadlines are judged on, and which of them a source holds.

A late shipment or on-time delivery is only as good as its inputs: the ship-by and promised-delivery
deadlines (from the source, else derived from handling times and calendars), the shipped events
(ship confirmation, first carrier scan, delivery, tracking id) and the optional deadline tables of
contract v2. Each input is declared once here with the canonical columns or tables that carry it;
an import's provided columns (:attr:`cxops.ingest.report.ImportReport.provided`) tell which it
brought, and each importer declares which a source of its kind can hold at all (``DEADLINE_INPUTS``
of :mod:`cxops.ingest.olist` and :mod:`cxops.ingest.amazon.importer`; canonical files can hold every
one), so the import report says what is there, what these files lacked, and what the source never
holds (to import with ``cxops import canonical``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class DeadlineInput:
    """One input of the deadline metrics.

    Attributes
    ----------
    name : str
        Identifier (``ship_by``, ``first_scan`` …).
    label : str
        What a user reads (``ship-by deadlines``).
    tables : tuple of str
        Canonical tables carrying it (any one of them).
    column : str, optional
        The column of those tables carrying it; ``None``: the table itself.
    """

    name: str
    label: str
    tables: tuple[str, ...]
    column: str | None = None

    def provided_by(self, provided: Mapping[str, Iterable[str]]) -> bool:
        """Whether columns ``provided`` (table -> provided columns) include this input."""
        if self.column is None:
            return any(t in provided for t in self.tables)
        return any(self.column in set(provided.get(t, ())) for t in self.tables)

    @property
    def where(self) -> str:
        """The canonical place of the input (``orders.latest_ship_at``, ``handling_times``)."""
        return " / ".join(f"{t}.{self.column}" if self.column else t for t in self.tables)


DEADLINE_INPUTS: tuple[DeadlineInput, ...] = (
    DeadlineInput("ship_by", "ship-by deadlines", ("orders",), "latest_ship_at"),
    DeadlineInput("promised_delivery", "promised delivery dates", ("orders",), "latest_delivery_at"),
    DeadlineInput("ship_confirmation", "ship confirmations", ("shipments",), "confirmed_at"),
    DeadlineInput("first_scan", "first carrier scans", ("shipments",), "first_scan_at"),
    DeadlineInput("delivery", "deliveries", ("shipments",), "delivered_at"),
    DeadlineInput("tracking", "tracking ids", ("shipments",), "tracking_id"),
    DeadlineInput("calendars", "calendars", ("deadline_rules", "calendar_days", "seller_calendar_days")),
    DeadlineInput("handling_times", "handling-time settings", ("handling_times",)),
    DeadlineInput("ship_by_corrections", "ship-by corrections", ("ship_by_corrections",)),
    DeadlineInput("delivery_attempts", "delivery attempts", ("delivery_attempts",)),
    DeadlineInput("delivery_confirmations", "buyer delivery confirmations", ("delivery_confirmations",)),
)
"""Every deadline input, in the order the import report lists them."""

BY_NAME = {i.name: i for i in DEADLINE_INPUTS}

#: Status of an input in one import (:func:`deadline_inputs`).
PROVIDED, NOT_IN_FILES, NOT_HELD = "provided", "not in these files", "not held by the source"


def deadline_inputs(
    provided: Mapping[str, Iterable[str]], declared: Iterable[str] | None = None
) -> dict[str, str]:
    """Each deadline input's status in one import.

    Parameters
    ----------
    provided : mapping
        Table -> the contract columns the import provided.
    declared : iterable of str, optional
        The inputs a source of this kind can hold (its importer's ``DEADLINE_INPUTS``); ``None``:
        every input (canonical files).

    Returns
    -------
    dict
        Input name -> :data:`PROVIDED`, :data:`NOT_IN_FILES` (the source can hold it, these files did
        not) or :data:`NOT_HELD` (the source never holds it), in :data:`DEADLINE_INPUTS` order.

    Raises
    ------
    KeyError
        A declared name that is not a deadline input.
    """
    names = set(BY_NAME) if declared is None else set(declared)
    unknown = sorted(names - set(BY_NAME))
    if unknown:
        raise KeyError(f"unknown deadline input(s) {unknown}; known: {', '.join(BY_NAME)}")
    return {
        i.name: PROVIDED if i.provided_by(provided) else NOT_IN_FILES if i.name in names else NOT_HELD
        for i in DEADLINE_INPUTS
    }


def deadline_note(status: Mapping[str, str], source: str) -> str:
    """One line for the import report: the inputs provided, missing from the files, never held."""
    by = {s: [BY_NAME[n] for n, v in status.items() if v == s] for s in (PROVIDED, NOT_IN_FILES, NOT_HELD)}
    given = ", ".join(f"{i.label} ({i.where})" for i in by[PROVIDED]) or "none"
    parts = [f"deadline inputs provided: {given}"]
    if by[NOT_IN_FILES]:
        parts.append("not in these files: " + ", ".join(i.label for i in by[NOT_IN_FILES]))
    if by[NOT_HELD]:
        parts.append(
            f"not held by {source}: "
            + ", ".join(i.label for i in by[NOT_HELD])
            + " (import them with cxops import canonical)"
        )
    return "; ".join(parts)
