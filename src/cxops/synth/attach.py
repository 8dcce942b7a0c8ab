"""Run the metrics straight on canonical Parquet files: register them as warehouse views.

``attach_parquet(wh, directory)`` creates, for every ``<table>.parquet`` of a canonical table in
``directory`` (a file, or a directory of part files ``<table>/*.parquet``), a view named after the
table over the file(s) (Ibis ``read_parquet``; DuckDB reads the files at query time, nothing is
copied), and records the columns the source provides: from ``_cxops_columns.json`` when present
(written by :func:`cxops.synth.generate`), else every contract column in the file. Rows are
not validated: use ``cxops import canonical`` for untrusted files.
"""

from __future__ import annotations

import json
from pathlib import Path

from cxops.canonical.schema import COMPLETE_RATINGS, TABLES
from cxops.synth.generate import MANIFEST
from cxops.warehouse import Warehouse, connect


def _source(directory: Path, name: str) -> str | None:
    f = directory / f"{name}.parquet"
    if f.is_file():
        return str(f)
    d = directory / name
    if d.is_dir() and any(d.glob("*.parquet")):
        return str(d / "*.parquet")
    return None


def attach_parquet(wh: Warehouse, directory: str | Path) -> dict[str, str]:
    """Register the canonical Parquet files in ``directory`` as tables of ``wh``.

    Parameters
    ----------
    wh : Warehouse
        A DuckDB warehouse (typically ``connect("memory")``).
    directory : str or Path

    Returns
    -------
    dict
        Table name -> the file (or glob) it reads.

    Raises
    ------
    FileNotFoundError
        If ``directory`` has no ``orders.parquet``.
    ValueError
        If a file lacks a required contract column.
    """
    directory = Path(directory)
    if _source(directory, "orders") is None:
        raise FileNotFoundError(f"{directory}: no orders.parquet")
    manifest = directory / MANIFEST
    provided = json.loads(manifest.read_text())["provided"] if manifest.is_file() else {}
    found: dict[str, str] = {}
    for name, schema in TABLES.items():
        src = _source(directory, name)
        if src is None:
            continue
        t = wh.con.read_parquet(src, table_name=name)
        cols = set(t.columns)
        missing = [c for c in schema.required_columns if c not in cols]
        if missing:
            raise ValueError(f"{src}: required column(s) {', '.join(missing)} missing")
        absent = [c for c in schema.column_names if c not in cols]
        if absent:  # the metrics select contract columns: give the view every one of them (null)
            types = {
                "string": "VARCHAR",
                "timestamp": "TIMESTAMP",
                "date": "DATE",
                "int": "BIGINT",
                "float": "DOUBLE",
                "bool": "BOOLEAN",
            }
            extra = ", ".join(f"CAST(NULL AS {types[schema.column(c).dtype]}) AS {c}" for c in absent)
            wh.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name}_x AS SELECT *, {extra} FROM {name}")
            wh.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_x")
        prov = provided.get(name) or [c for c in schema.column_names if c in cols]
        if name == "feedback":
            prov = [*prov, COMPLETE_RATINGS]  # synthetic ratings cover every star level
        wh.record_provided(name, prov, f"parquet:{src}")
        found[name] = src
    return found


def open_parquet(
    directory: str | Path, threads: int | None = None, memory_limit: str | None = None
) -> Warehouse:
    """An in-memory DuckDB warehouse whose canonical tables are the Parquet files in ``directory``."""
    wh = connect("memory")
    if threads:
        wh.con.raw_sql(f"SET threads={int(threads)}")
    if memory_limit:
        wh.con.raw_sql(f"SET memory_limit='{memory_limit}'")
    attach_parquet(wh, directory)
    return wh
