"""Names, windows, channels and kinds of the metrics a policy may reference.

This is a view of :data:`cxops.metrics.catalog.CATALOG` (the policy layer depends on the metric
declarations only, never on metric code). A criterion is validated against it: the metric
must exist, and its ``window_days`` and ``channel`` must be ones the metric is computed for.

``kind`` tells the evaluator how to read a value:

- ``rate``: a fraction in [0, 1] (0.0045 = 0.45 %) with integer numerator and denominator;
- ``count``: a non-negative integer count (orders, violations, overdue shipments);
- ``days``: whole days (tenure);
- ``hours``: clock hours (response time), not an integer;
- ``index``: a score 0–100 (customer satisfaction), not an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cxops.metrics.catalog import CATALOG

MetricKind = Literal["rate", "count", "days", "hours", "index"]

CHANNELS: tuple[str, ...] = ("all", "mfn", "afn")


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the catalog.

    Attributes
    ----------
    name : str
        Metric name as it appears in the ``metric`` column of the metrics frame.
    windows : tuple of (int or None)
        Window lengths in days the metric is computed for; ``(None,)`` for metrics without a window.
    channels : tuple of str
        Fulfilment channels the metric is computed for (``all``, ``mfn``, ``afn``).
    kind : {"rate", "count", "days", "hours", "index"}
        How the value reads (see module docstring).
    has_coverage : bool
        The metric has a coverage rule: it can be provisional (:class:`cxops.metrics.catalog.Coverage`).
    """

    name: str
    windows: tuple[int | None, ...]
    channels: tuple[str, ...]
    kind: MetricKind
    has_coverage: bool = False


#: The metric catalog (:data:`cxops.metrics.catalog.CATALOG`) as the policy layer sees it.
METRICS: dict[str, MetricSpec] = {
    name: MetricSpec(name, tuple(m.windows) or (None,), tuple(m.channels), m.kind, m.coverage is not None)  # type: ignore[arg-type]
    for name, m in CATALOG.items()
}

#: Sorted metric names, for messages.
METRIC_NAMES: tuple[str, ...] = tuple(sorted(METRICS))
