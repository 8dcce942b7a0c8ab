"""Test helper: a small generated marketplace as canonical frames, and frames written as canonical files."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from cxops.synth import generate
from cxops.synth.generate import WRITTEN


def generate_tables(
    seed: int,
    sellers: int,
    days: int,
    end: date = date(2026, 10, 31),
    orders_per_seller: float = 300.0,
    stories=(),
) -> dict[str, pd.DataFrame]:
    """Every canonical table of a marketplace from :func:`cxops.synth.generate`, as frames (``stories``:
    scripted sellers, e.g. :data:`cxops.synth.stories.DEMO_STORIES`, for enrolments and removals)."""
    with tempfile.TemporaryDirectory() as d:
        generate(
            d,
            sellers,
            days,
            seed=seed,
            end=end,
            orders_per_seller=orders_per_seller,
            stories=stories,
            threads=1,
        )
        return {name: pd.read_parquet(Path(d) / f"{name}.parquet") for name in WRITTEN}


def write_tables(tables: dict[str, pd.DataFrame], directory: str | Path, fmt: str = "parquet") -> list[Path]:
    """One ``<table>.parquet`` or ``<table>.csv`` per frame (CSV: ISO instants without an offset, i.e.
    UTC; empty cells for nulls; booleans ``true``/``false``), the layout ``cxops import canonical`` reads."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            frame = df.copy()
            for col in frame.columns:
                if pd.api.types.is_bool_dtype(frame[col]):
                    frame[col] = frame[col].map({True: "true", False: "false"})
            frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        written.append(path)
    return written
