"""Scalable synthetic marketplace: canonical tables as Parquet, generated inside DuckDB.

:func:`generate_parquet` writes one ``<table>.parquet`` per canonical table the metric catalog reads,
for any number of sellers and days, in bounded memory: every table is a ``COPY (SELECT …) TO … (FORMAT
parquet)`` over DuckDB ``range()`` with hash-based randomness, never one Python object. See
:mod:`cxops.synth.generate` for the model and its Olist calibration.

:func:`attach_parquet` makes a directory of canonical Parquet files (written here or by anyone) the
warehouse tables of a :class:`cxops.warehouse.Warehouse` without importing them (views over the
files), so ``cxops.metrics.compute`` runs straight on Parquet.
"""

from cxops.synth.attach import attach_parquet, open_parquet
from cxops.synth.generate import CALIBRATION, SynthStats, generate_parquet

__all__ = ["CALIBRATION", "SynthStats", "attach_parquet", "generate_parquet", "open_parquet"]
