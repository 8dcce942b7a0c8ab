"""Test helper: a small generated marketplace in a DuckDB file, for the daily job's tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from _synth import generate_tables, write_tables

from cxops.ingest.canonical_files import import_canonical
from cxops.warehouse import connect

END = date(2026, 10, 31)


def marketplace(directory: Path, seed: int = 3, sellers: int = 12, days: int = 150):
    """A warehouse file with a generated marketplace (data up to :data:`END`); returns its path."""
    write_tables(generate_tables(seed, sellers, days, end=END), directory / "data")
    path = directory / "w.duckdb"
    wh = connect(str(path))
    import_canonical(wh, directory / "data", None)
    wh.close()
    return path
