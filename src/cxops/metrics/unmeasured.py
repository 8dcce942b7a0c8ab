"""Why a metric is not measured, as a sentence and as a message key with its parameters.

A metric whose inputs are absent is *not measured* (``DESIGN.md``, "Canonical tables"): its ``note``
in the metrics output says why. :class:`Unmeasured` is that note — a ``str``, so every output keeps
the English sentence it always had — carrying the message key and parameters a renderer needs to say
it in another language (catalog keys ``not_measured.<key>``).
"""

from __future__ import annotations

from typing import Any


class Unmeasured(str):
    """Why a metric is not measured: the English note, with ``key`` and ``params`` for the catalogs.

    Parameters
    ----------
    key : str
        ``no_table`` (``table``), ``not_provided`` (``table``, ``columns``: comma-separated) or
        ``no_feedback_or_claims``; the message is ``not_measured.<key>``.
    text : str
        The English sentence (the value of the string).
    **params : str
        The message's parameters.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, text: str, **params: Any) -> Unmeasured:
        obj = super().__new__(cls, text)
        obj.key = key
        obj.params = dict(params)
        return obj

    def __getnewargs_ex__(self):
        return (self.key, str(self)), dict(self.params)


def no_table(table: str) -> Unmeasured:
    """``no <table> data imported``: the canonical table is absent."""
    return Unmeasured("no_table", f"no {table} data imported", table=table)


def not_provided(table: str, columns: list[str]) -> Unmeasured:
    """``the <table> source does not provide <columns>``: a column the metric needs is not provided."""
    cols = ", ".join(columns)
    return Unmeasured(
        "not_provided", f"the {table} source does not provide {cols}", table=table, columns=cols
    )


def no_feedback_or_claims() -> Unmeasured:
    """``no feedback or claims data imported``: the order defect rate has none of its sources."""
    return no_any(["feedback", "claims"])


def missing_inputs(inp, needs: list[tuple[str, tuple[str, ...]]]) -> Unmeasured | None:
    """Why a metric needing ``needs`` is not measured on ``inp``, or ``None`` when it is.

    Parameters
    ----------
    inp : cxops.metrics.records.Inputs
    needs : list of (table, columns)
        Canonical tables the metric reads, each with the columns its source must provide.
    """
    for table, cols in needs:
        if table not in inp.tables:
            return no_table(table)
        if not inp.has(table, *cols):
            return not_provided(table, [c for c in cols if c not in inp.provided.get(table, set())])
    return None


def no_any(tables: list[str]) -> Unmeasured:
    """``no <a> or <b> data imported``: a metric readable from any of ``tables`` has none of them.

    The message key is ``no_<a>_or_<b>`` (``not_measured.no_feedback_or_claims``)."""
    return Unmeasured("no_" + "_or_".join(tables), f"no {' or '.join(tables)} data imported")
