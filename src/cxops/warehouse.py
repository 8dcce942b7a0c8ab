"""The warehouse: where canonical tables live. The only module that names an engine.

``connect(url)`` returns a :class:`Warehouse` wrapping an Ibis backend. URLs:

* ``duckdb:///path/to/file.duckdb`` or a plain path ending in ``.duckdb`` (the default is
  ``cxops.duckdb`` in the working directory, or env ``CXOPS_WAREHOUSE``);
* ``duckdb://:memory:`` or ``memory`` for an in-memory DuckDB (tests);
* ``pyspark:`` (local master) or ``spark://host:port`` for PySpark (needs ``pyspark`` installed).

Canonical tables are stored with exactly their contract columns and types (timestamps are UTC,
timezone-naive). Re-importing rows replaces them by key, so imports are idempotent.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import pyarrow as pa

from cxops.canonical.schema import TABLES, TableSchema

DEFAULT_WAREHOUSE = "cxops.duckdb"
PROVENANCE_TABLE = "_cxops_columns"

_IBIS_TYPES = {
    "string": dt.string,
    "timestamp": dt.Timestamp(scale=6),
    "date": dt.date,
    "int": dt.int64,
    "float": dt.float64,
    "bool": dt.boolean,
}
_ARROW_TYPES = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


def default_url() -> str:
    """Warehouse URL from env ``CXOPS_WAREHOUSE``, else ``cxops.duckdb`` in the working directory."""
    return os.environ.get("CXOPS_WAREHOUSE") or DEFAULT_WAREHOUSE


def ibis_schema(schema: TableSchema) -> ibis.Schema:
    """Ibis schema of a canonical table (contract columns only)."""
    return ibis.schema({c.name: _IBIS_TYPES[c.dtype] for c in schema.columns})


def to_arrow(df: pd.DataFrame, schema: TableSchema) -> pa.Table:
    """Convert validated rows to an Arrow table with exactly the contract's columns and types.

    Columns absent from ``df`` become all-null columns.
    """
    arrays = []
    fields = []
    n = len(df)
    for c in schema.columns:
        typ = _ARROW_TYPES[c.dtype]
        if c.name in df.columns:
            s = df[c.name]
            if c.dtype == "date":
                s = pd.to_datetime(s).dt.date
            values = s.astype(object).where(s.notna(), None).tolist()
            arrays.append(pa.array(values, type=typ))
        else:
            arrays.append(pa.nulls(n, type=typ))
        fields.append(pa.field(c.name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


@dataclass
class UpsertStats:
    """Rows written by :meth:`Warehouse.upsert`: ``inserted`` new keys, ``replaced`` existing keys."""

    inserted: int
    replaced: int


class Warehouse:
    """An Ibis backend holding the canonical tables, plus which columns each source provided.

    Attributes
    ----------
    con : ibis.BaseBackend
    url : str
    engine : str
        ``duckdb`` or ``pyspark``.
    """

    def __init__(self, con, url: str, engine: str):
        self.con = con
        self.url = url
        self.engine = engine

    # -- reading -----------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def table(self, name: str) -> ibis.Table:
        """The stored table ``name``.

        Raises
        ------
        KeyError
            If the table has not been imported.
        """
        if not self.has_table(name):
            raise KeyError(f"table {name!r} is not in the warehouse {self.url}; import it first")
        return self.con.table(name)

    def execute(self, expr) -> pd.DataFrame:
        """Run an Ibis expression on this backend (never on Ibis's default backend)."""
        return self.con.to_pandas(expr)

    def tables_present(self) -> set[str]:
        return {t for t in TABLES if self.has_table(t)}

    # -- provenance --------------------------------------------------------------------------
    def provided_columns(self, table: str) -> set[str]:
        """Columns of canonical ``table`` that some imported source actually provides.

        A column not provided is *unknown*, never read as a value (for example Olist has no tracking
        ids, so the valid tracking rate is not measured rather than 0 %).
        """
        if not self.has_table(PROVENANCE_TABLE):
            return set()
        t = self.con.table(PROVENANCE_TABLE)
        df = self.execute(t.filter(t.table_name == table).select("column_name"))
        return set(df["column_name"])

    def record_provided(self, table: str, columns: list[str] | set[str], source: str) -> None:
        """Record that ``source`` provides ``columns`` of ``table`` (idempotent)."""
        new = pd.DataFrame({"table_name": table, "column_name": sorted(set(columns)), "source": source})
        if self.has_table(PROVENANCE_TABLE):
            old = self.execute(self.con.table(PROVENANCE_TABLE))
            new = pd.concat([old, new]).drop_duplicates(["table_name", "column_name", "source"])
        self.con.create_table(
            PROVENANCE_TABLE,
            pa.Table.from_pandas(new.reset_index(drop=True), preserve_index=False),
            overwrite=True,
        )

    # -- writing -----------------------------------------------------------------------------
    def upsert(self, schema: TableSchema, rows: pd.DataFrame) -> UpsertStats:
        """Insert or replace rows of a canonical table by its key.

        Parameters
        ----------
        schema : TableSchema
        rows : pandas.DataFrame
            Validated rows (see :func:`cxops.canonical.validate.validate`); keys unique.

        Returns
        -------
        UpsertStats
        """
        incoming = to_arrow(rows, schema)
        name = schema.name
        if not self.has_table(name):
            self.con.create_table(name, incoming, schema=ibis_schema(schema))
            return UpsertStats(inserted=incoming.num_rows, replaced=0)
        tmp = f"_incoming_{uuid.uuid4().hex[:8]}"
        inc = self.con.create_table(tmp, incoming, schema=ibis_schema(schema))
        try:
            old = self.con.table(name)
            key = list(schema.key)
            replaced = int(self.execute(old.semi_join(inc, key).count().name("n")))
            kept = old.anti_join(inc, key).select(schema.column_names)
            merged = kept.union(inc.select(schema.column_names))
            self.con.create_table(name, merged, overwrite=True)
        finally:
            self.con.drop_table(tmp, force=True)
        return UpsertStats(inserted=incoming.num_rows - replaced, replaced=replaced)

    def replace_table(self, name: str, df: pd.DataFrame | pa.Table) -> None:
        """Write a non-canonical table (results, logs) wholesale."""
        obj = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
        self.con.create_table(name, obj, overwrite=True)

    def close(self) -> None:
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect:
            disconnect()


def connect(url: str | None = None) -> Warehouse:
    """Open the warehouse at ``url`` (see module docstring).

    Raises
    ------
    ValueError
        For an unrecognised URL.
    ImportError
        For a Spark URL when ``pyspark`` is not installed.
    """
    url = url or default_url()
    if url in ("memory", "duckdb://:memory:", ":memory:"):
        con = ibis.duckdb.connect()
        engine = "duckdb"
    elif url.startswith("duckdb://") or url.endswith(".duckdb") or url.endswith(".db"):
        path = url.removeprefix("duckdb://")
        if path.startswith("/") and url.startswith("duckdb:///"):
            path = path  # absolute
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(str(Path(path).expanduser()))
        engine = "duckdb"
    elif url.startswith("pyspark:") or url.startswith("spark://"):
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("the Spark warehouse needs pyspark: pip install 'cxops[spark]'") from e
        master = "local[2]" if url.startswith("pyspark:") else url
        session = (
            SparkSession.builder.master(master)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="cxops-spark-"))
            .getOrCreate()
        )
        con = ibis.pyspark.connect(session)
        engine = "pyspark"
    else:
        raise ValueError(
            f"unrecognised warehouse URL {url!r}: use a path ending in .duckdb, duckdb:///PATH, "
            "memory, pyspark: or spark://HOST:PORT"
        )
    if engine == "duckdb":
        con.raw_sql("SET enable_progress_bar=false")
        con.raw_sql("SET TimeZone='UTC'")
    return Warehouse(con, url, engine)
