"""Metric families: metrics that share one record population and one seller-day fact table.

The catalog (:mod:`cxops.metrics.catalog`) declares each metric: the record population it aggregates
(``family``), the sums it reads and how. This module finds each record population
(:data:`POPULATIONS`: the function of :mod:`cxops.metrics.records` named after it builds its records)
and derives the families from the catalog: a family's windows, channels, sums, outputs and "not
measured" reasons are those of its catalog metrics. Window sums of the facts give every additive
metric; the response-time population (:data:`NON_ADDITIVE`) is aggregated by
:mod:`cxops.metrics.responses`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from cxops.metrics import records
from cxops.metrics.catalog import AFN, ALL, CATALOG, MFN, MetricDef, Need
from cxops.metrics.records import Inputs
from cxops.metrics.unmeasured import Unmeasured, missing_inputs, no_any

GROUP = ["seller_id", "marketplace_id", "channel", "day"]


@dataclass(frozen=True)
class Output:
    """How one metric reads a family's window sums.

    ``numerator`` / ``denominator`` name sum columns (``None``: not applicable). ``value`` is
    ``"ratio"`` (numerator / denominator, null when the denominator is 0), ``"numerator"`` (a count)
    or ``"ratio100"`` (an index already in points: numerator / denominator). ``coverage`` names the
    ``(recorded, expected)`` sum columns of the metric's coverage rule
    (:class:`cxops.metrics.catalog.Coverage`), summed over the look-back days; ``None``: no rule.
    """

    metric: str
    numerator: str | None
    denominator: str | None
    value: str = "ratio"
    windows: tuple[int, ...] | None = None  # None: all of the family's windows
    coverage: tuple[str, str] | None = None


@dataclass(frozen=True)
class Family:
    """A group of metrics computed from one fact table.

    Attributes
    ----------
    name : str
    windows : tuple of int
    channels : tuple of str
    records : callable
        ``Inputs -> ibis.Table`` with ``GROUP`` columns plus flag columns.
    sums : dict
        Sum column -> expression builder on the records table (``None`` = row count).
    outputs : tuple of Output
    measured : callable
        ``Inputs -> dict[metric, None | reason]``: ``None`` when measured, else why not.
    versions : callable, optional
        ``Inputs -> ibis.Table``: the records with their versions over the as-of days (columns
        ``seen_from, seen_to`` where a later fact changes a record; see
        :func:`cxops.metrics.records.visible`), e.g. :func:`cxops.metrics.records.late_shipments_versions`.
    """

    name: str
    windows: tuple[int, ...]
    channels: tuple[str, ...]
    records: Callable[[Inputs], ir.Table]
    sums: dict[str, str | None]
    outputs: tuple[Output, ...]
    measured: Callable[[Inputs], dict[str, str | None]]
    versions: Callable[[Inputs], ir.Table] | None = None

    def facts(self, inp: Inputs, versioned: bool = False) -> ir.Table:
        """Seller-day facts: ``seller_id, marketplace_id, channel, day`` + one column per sum.

        With ``versioned`` (and :attr:`versions`), facts of records whose result changes on a later
        as-of day carry ``seen_from, seen_to`` (local days; null for the others): the caller keeps the
        rows in force as of each day (:func:`cxops.metrics.records.visible`). Otherwise the records as
        of ``inp.seen_through`` (default: the final ones), one row per seller, marketplace, channel, day.
        """
        r = (self.versions if versioned and self.versions is not None else self.records)(inp)
        group = GROUP + [c for c in ("seen_from", "seen_to") if c in r.columns]
        aggs = {
            name: (r.count() if col is None else r[col].sum()).cast("int64")
            for name, col in self.sums.items()
        }
        f = r.group_by(group).aggregate(**aggs)
        if ALL in self.channels and (MFN in self.channels or AFN in self.channels):
            tot = f.group_by([c for c in group if c != "channel"]).aggregate(
                **{name: f[name].sum() for name in self.sums}
            )
            tot = tot.mutate(channel=ibis.literal(ALL)).select(f.columns)
            f = f.union(tot)
        return f


#: Record population name (a catalog entry's ``family``) -> the function of :mod:`cxops.metrics.records`
#: of that name building its records: an Ibis table with ``seller_id, marketplace_id, channel, day``
#: plus the columns its metrics' sums read. A new population is a new function there, nothing else.
POPULATIONS: dict[str, Callable[[Inputs], ir.Table]] = {
    m.family: getattr(records, m.family) for m in CATALOG.values() if m.family is not None
}

#: Populations whose metrics do not add up over days (a record counts once its outcome is known; a
#: median): aggregated by :func:`cxops.metrics.responses.response_sums`, not by seller-day facts.
NON_ADDITIVE = frozenset({"messages"})


def unmeasured(inp: Inputs, requires: tuple[Need, ...]) -> Unmeasured | None:
    """Why a metric requiring ``requires`` (:attr:`MetricDef.requires`) is not measured on ``inp``, or
    ``None`` when it is. A need naming several tables (``feedback|claims``) is met by any of them."""
    for need in requires:
        alts = need.tables.split("|")
        if len(alts) == 1:
            reason = missing_inputs(inp, [(alts[0], need.columns)])
            if reason is not None:
                return reason
        elif not any(t in inp.tables and inp.has(t, *need.columns) for t in alts):
            return no_any(alts)
    return None


def _ordered(values, order) -> tuple:
    return tuple(v for v in order if v in set(values))


def _family(name: str, metrics: list[MetricDef]) -> Family:
    windows = tuple(sorted({w for m in metrics for w in m.windows}))
    channels = _ordered([c for m in metrics for c in m.channels], (ALL, MFN, AFN))
    sums: dict[str, str | None] = {}
    for m in metrics:
        for s in m.sums:
            if sums.setdefault(s.name, s.column) != s.column:
                raise ValueError(f"family {name}: sum {s.name!r} declared over two columns")
    outputs = tuple(
        Output(
            m.name,
            m.numerator.name if m.numerator else None,
            m.denominator.name if m.denominator else None,
            "numerator" if m.aggregation == "count" else "ratio",
            m.windows,
            tuple(c.name for c in m.coverage.sums) if m.coverage else None,  # type: ignore[arg-type]
        )
        for m in metrics
    )
    reqs = {m.name: m.requires for m in metrics}
    return Family(
        name,
        windows,
        channels,
        POPULATIONS[name],
        sums,
        outputs,
        lambda inp: {metric: unmeasured(inp, r) for metric, r in reqs.items()},
        getattr(records, f"{name}_versions", None),
    )


def _families() -> tuple[Family, ...]:
    by_family: dict[str, list[MetricDef]] = {}
    for m in CATALOG.values():
        if m.family is not None and m.family not in NON_ADDITIVE:
            by_family.setdefault(m.family, []).append(m)
    return tuple(_family(name, ms) for name, ms in by_family.items())


FAMILIES: tuple[Family, ...] = _families()
"""The additive families of the catalog, in catalog order (derived from :data:`CATALOG`)."""
