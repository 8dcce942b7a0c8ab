"""Synthetic marketplaces: one generator, one calibration, any size, as canonical Parquet files.

:func:`generate` writes one ``<table>.parquet`` per canonical table for any number of sellers and days,
generated inside DuckDB in bounded memory (:mod:`cxops.synth.generate`), from the model of
:mod:`cxops.synth.model` and the figures of :mod:`cxops.synth.calibration` (Olist-measured where Olist
has the data, each with its source). Scripted sellers (:mod:`cxops.synth.stories`) are a layer on top:
``cxops demo`` uses :data:`DEMO_STORIES`, ``cxops synth`` and the benchmarks none. With
``deadlines=True`` (the CLI's default, ``--no-deadlines`` to leave out; the benchmarks leave them out)
it also writes contract v2's deadline inputs (:mod:`cxops.synth.deadlines`).

:func:`attach_parquet` makes a directory of canonical Parquet files (written here or by anyone) the
warehouse tables of a :class:`cxops.warehouse.Warehouse` without importing them (views over the
files), so ``cxops.metrics.compute`` runs straight on Parquet.
"""

from cxops.synth.attach import attach_parquet, open_parquet
from cxops.synth.calibration import CALIBRATION, OLIST
from cxops.synth.generate import SynthResult, generate
from cxops.synth.stories import DEMO_ORDERS_PER_SELLER, DEMO_STORIES, Episode, ScriptedViolation, Story

__all__ = [
    "CALIBRATION",
    "DEMO_ORDERS_PER_SELLER",
    "DEMO_STORIES",
    "OLIST",
    "Episode",
    "ScriptedViolation",
    "Story",
    "SynthResult",
    "attach_parquet",
    "generate",
    "open_parquet",
]
