"""The warehouse: where canonical tables live. The only module that names an engine.

``connect(url)`` returns a :class:`Warehouse` wrapping an Ibis backend. URLs:

* ``duckdb:///path/to/file.duckdb`` or a plain path ending in ``.duckdb`` (the default is
  ``cxops.duckdb`` in the working directory, or env ``CXOPS_WAREHOUSE``);
* ``duckdb://:memory:`` or ``memory`` for an in-memory DuckDB (tests);
* ``pyspark:`` (an in-process local Spark, ``local[2]``), ``pyspark:MASTER`` (any Spark master
  URL, e.g. ``pyspark:local[4]`` or ``pyspark:yarn``) or ``spark://host:port`` (a standalone
  cluster) for PySpark (needs ``pyspark``: ``pip install 'cxops[spark]'``). Append
  ``?database=NAME`` to read and write the tables of that Spark database (default: the session's
  current database, normally ``default``).

Canonical tables are stored with exactly their contract columns and types (timestamps are UTC,
timezone-naive). Re-importing rows replaces them by key, so imports are idempotent.

Writes: an import (:mod:`cxops.ingest.staging`) stages and checks everything first, with a DuckDB
warehouse file attached read-only (other processes may read it meanwhile), then replaces the rows of
every affected table in one transaction — or changes nothing. :meth:`Warehouse.release` closes this
object's connection for that time; it reopens on next use. :meth:`Warehouse.upsert` (one table) costs
O(incoming rows): it deletes the stored rows with the incoming keys and inserts the new ones.

Provenance (see :class:`Provenance`): ``_cxops_columns`` (``table_name, column_name, source``) says
which contract columns each source provides; ``_cxops_coverage`` (``source, seller_id,
marketplace_id``) which sellers a source covers. A source without coverage rows covers every seller
(tables attached by hand, the lake snippet of the README). Metrics decide "not measured" per seller
from the sources that cover it, so one source never changes whether another seller's metric is
measured.

Spark notes: the session's configuration comes from the installation (``spark-defaults.conf`` in
``SPARK_CONF_DIR``, ``PYSPARK_SUBMIT_ARGS``): catalog, metastore, warehouse directory, resources.
cxops only forces the UTC session time zone and Arrow transfers, and for a local master fills in what
is not configured (no UI, 4 shuffle partitions, and a temporary ``spark.sql.warehouse.dir`` removed at
exit — with the default in-memory catalog such a session is ephemeral). Tables registered in the
catalog under the canonical names (Parquet, Delta, Hive, views…) are read as they are. An
already-running ``SparkSession`` in the process (a notebook) is reused.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from cxops import warehouse_lock
from cxops.canonical.schema import TABLES, TableSchema
from cxops.errors import WarehouseError

DEFAULT_WAREHOUSE = "cxops.duckdb"
#: DuckDB's memory cap of ``cxops evaluate`` (``--memory-limit`` / env ``CXOPS_MEMORY_LIMIT``); past it the
#: engine spills to disk.
DEFAULT_MEMORY_LIMIT = "3GB"
PROVENANCE_TABLE = "_cxops_columns"
COVERAGE_TABLE = "_cxops_coverage"
IMPORTS_TABLE = "_cxops_imports"
IMPORT_DAYS_TABLE = "_cxops_import_days"
#: Tables of the warehouse that are not canonical tables (bookkeeping of imports and provenance).
INTERNAL_TABLES = (PROVENANCE_TABLE, COVERAGE_TABLE, IMPORTS_TABLE, IMPORT_DAYS_TABLE)

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


@contextmanager
def registered(raw, rows: pa.Table, prefix: str = "_arrow") -> Iterator[str]:
    """Arrow ``rows`` visible to the DuckDB connection ``raw`` under a fresh name for the block, and
    unregistered after it. (Ibis's ``create_table`` / ``insert`` of an Arrow table registers it until
    the process exits: a job writing every evaluation's rows that way held them all.)"""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    raw.register(name, rows)
    try:
        yield name
    finally:
        raw.unregister(name)


def _qualified(raw, name: str) -> str:
    """``catalog.main."name"`` of a table in the connection's current database."""
    cat = raw.execute("SELECT current_database()").fetchone()[0]
    return f'"{cat}".main."{name}"'


def duckdb_replace(raw, schema: TableSchema, incoming: str, target: str) -> int:
    """Replace rows of ``target`` by key with the rows of relation ``incoming`` (inside a transaction).

    Creates ``target`` with the contract's columns if needed (and adds contract columns an older
    table lacks). Deletes the stored rows whose key is incoming, inserts the incoming rows by column
    name. O(incoming rows) writes; the key join reads the stored key columns.

    Returns
    -------
    int
        Stored rows replaced.
    """
    from cxops.canonical.rules import SQL_TYPES, column_defs, ident

    raw.execute(f"CREATE TABLE IF NOT EXISTS {target} ({column_defs(schema)})")
    for c in schema.columns:
        raw.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {ident(c.name)} {SQL_TYPES[c.dtype]}")
    on = " AND ".join(f"t.{ident(k)} = n.{ident(k)}" for k in schema.key)
    replaced = raw.execute(f"DELETE FROM {target} AS t USING {incoming} AS n WHERE {on}").fetchone()[0]
    cols = ", ".join(ident(c) for c in schema.column_names)
    casts = ", ".join(
        f"CAST({ident(c.name)} AS {SQL_TYPES[c.dtype]}) AS {ident(c.name)}" for c in schema.columns
    )
    raw.execute(f"INSERT INTO {target} ({cols}) SELECT {casts} FROM {incoming}")
    return int(replaced or 0)


@dataclass
class UpsertStats:
    """Rows written by :meth:`Warehouse.upsert`: ``inserted`` new keys, ``replaced`` existing keys."""

    inserted: int
    replaced: int


@dataclass
class Provenance:
    """What each source provides, and which sellers it covers.

    Attributes
    ----------
    columns : pandas.DataFrame
        ``table_name, column_name, source``: the contract columns (and markers such as
        :data:`cxops.canonical.schema.COMPLETE_RATINGS`) each source provides, per table.
    coverage : ibis.Table or None
        ``source, seller_id, marketplace_id``: the sellers each source covers (``None`` when no
        source recorded any). A source with no coverage rows covers every seller.
    """

    columns: pd.DataFrame
    coverage: ir.Table | None
    covered: frozenset[str] = frozenset()
    """Sources that listed the sellers they cover (the others cover every seller)."""


class Warehouse:
    """An Ibis backend holding the canonical tables, plus which columns each source provided.

    Attributes
    ----------
    con : ibis.BaseBackend
    url : str
    engine : str
        ``duckdb`` or ``pyspark``.
    """

    def __init__(
        self,
        con,
        url: str,
        engine: str,
        path: Path | None = None,
        read_only: bool = False,
        memory_limit: str | None = None,
    ):
        self._con = con
        self.url = url
        self.engine = engine
        self.path = path  # the DuckDB file, None for in-memory and Spark warehouses
        self.read_only = read_only  # how a DuckDB file is (re)opened on use
        self._memory_limit = memory_limit
        self._provenance: pd.DataFrame | None = None  # the provenance table, read once

    @property
    def con(self):
        """The Ibis backend (opened on first use, e.g. after :meth:`release`)."""
        if self._con is None:
            if self.read_only and not self.path.exists():  # a lazy warehouse before its first import
                self._con = ibis.duckdb.connect()
                _session(self._con, self._memory_limit)
            else:
                self._con = _connect_duckdb_file(self.path, self.read_only, self._memory_limit)
            self._provenance = None
        return self._con

    @con.setter
    def con(self, value) -> None:
        self._con = value

    def release(self) -> None:
        """Close the connection of a DuckDB warehouse file (it reopens on next use).

        An import calls this while it stages, so that it can attach the file read-only (other
        processes may read it meanwhile) and then write it in one short transaction. No-op for
        in-memory and Spark warehouses.
        """
        if self.path is not None and self._con is not None:
            disconnect(self._con)
            self._con = None
        self._provenance = None

    def memory_cap(self) -> int:
        """DuckDB's memory cap now (``memory_limit``), in bytes. DuckDB warehouses only."""
        (now,) = self.con.raw_sql("SELECT current_setting('memory_limit')").fetchone()
        return setting_bytes(now)

    @contextmanager
    def engine_memory(self, fraction: float) -> Iterator[None]:
        """DuckDB's memory cap lowered to ``fraction`` of its value while the block runs, then restored.

        For stages whose work is in Python (the lifecycle replay): DuckDB keeps the blocks it read
        cached up to its cap, so without this the process holds the engine's cap *and* the Python
        arrays at once. Lowering the cap evicts the cached blocks (they are re-read from the file, or
        the operating system's cache, when needed); queries run in the block spill past the lower cap.
        No-op on other engines.
        """
        if self.engine != "duckdb":
            yield
            return
        cap = self.memory_cap()
        low = min(cap, max(int(cap * fraction), 256 * 2**20))  # never above the cap itself
        self.con.raw_sql(f"SET memory_limit='{low // 2**20}MiB'")
        try:
            yield
        finally:
            limit = self._memory_limit or os.environ.get("CXOPS_MEMORY_LIMIT")
            self.con.raw_sql(f"SET memory_limit='{_memory_text(limit)}'" if limit else "RESET memory_limit")

    def spill(self) -> tuple[Path, int]:
        """DuckDB's spill directory (``temp_directory``: ``<warehouse>.tmp``) and the bytes its files
        hold now (``duckdb_temporary_files()``: temporary tables and operators past the memory cap).
        DuckDB only."""
        (folder,) = self.con.raw_sql("SELECT current_setting('temp_directory')").fetchone()
        (size,) = self.con.raw_sql("SELECT coalesce(sum(size), 0) FROM duckdb_temporary_files()").fetchone()
        return Path(folder), int(size)

    def cursor(self):
        """A second connection to this DuckDB database (``duckdb.DuckDBPyConnection``; close it after).

        Its queries run beside those of :attr:`con`, from another thread (DuckDB releases the GIL while
        a query runs); it sees committed tables, not :attr:`con`'s temporary ones. Settings such as
        ``threads`` and ``memory_limit`` are global: set on either, they hold for both. DuckDB only.
        """
        if self.engine != "duckdb":
            raise TypeError(f"a second connection needs a DuckDB warehouse, not {self.engine}")
        return self.con.con.cursor()

    # -- reading -----------------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        if self.engine == "pyspark":
            # a catalog lookup (also finds temporary views), much cheaper than SHOW TABLES
            return bool(self.con._session.catalog.tableExists(name))
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

    # -- writing -----------------------------------------------------------------------------
    def create_from(self, table: str, rows: pa.Table, *, temp: bool = False) -> None:
        """Create (or replace) ``table`` holding Arrow ``rows``; ``temp``: a temporary table.

        On DuckDB the rows are visible for the one statement only (:func:`registered`).
        """
        if self.engine != "duckdb":
            self.con.create_table(table, rows, temp=temp, overwrite=True)
            return
        kind = "TEMP TABLE" if temp else "TABLE"
        with registered(self.con.con, rows) as src:
            self.con.con.execute(f'CREATE OR REPLACE {kind} "{table}" AS SELECT * FROM "{src}"')

    def append(self, table: str, rows: pa.Table) -> None:
        """Append Arrow ``rows`` to the existing ``table`` (columns matched by name)."""
        if self.engine != "duckdb":
            self.con.insert(table, rows)
            return
        with registered(self.con.con, rows) as src:
            self.con.con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM "{src}"')

    # -- provenance --------------------------------------------------------------------------
    def provided_columns(self, table: str) -> set[str]:
        """Columns of canonical ``table`` that **every** source of it provides (all sellers together).

        A column not provided is *unknown*, never read as a value (for example Olist has no tracking
        ids, so the valid tracking rate is not measured rather than 0 %). This is the warehouse-wide
        view; metrics decide per seller from the sources that cover it (:meth:`provenance`).
        """
        prov = self._read_provenance()
        if prov is None:
            return set()
        df = prov.loc[prov["table_name"] == table, ["column_name", "source"]]
        if df.empty:
            return set()
        n_sources = df["source"].nunique()
        per_column = df.groupby("column_name")["source"].nunique()
        return set(per_column[per_column == n_sources].index)

    def provenance(self) -> Provenance | None:
        """What each source provides and which sellers it covers; ``None`` when nothing is recorded.

        Two small queries (the columns table, and the distinct sources of the coverage table); the
        coverage itself stays an engine table for the metrics to join.
        """
        prov = self._read_provenance()
        if prov is None:
            return None
        coverage = None
        covered: frozenset[str] = frozenset()
        if self.has_table(COVERAGE_TABLE):
            coverage = self.con.table(COVERAGE_TABLE)
            got = self.execute(coverage.select("source").distinct())
            covered = frozenset(got["source"])
            if not covered:
                coverage = None
        return Provenance(prov, coverage, covered)

    def _read_provenance(self) -> pd.DataFrame | None:
        """The whole provenance table (small), read once per warehouse object; None when absent.

        One query instead of one per table: on Spark every query costs about a second.
        """
        if self._provenance is None:
            if not self.has_table(PROVENANCE_TABLE):
                return None
            self._provenance = self.execute(self.con.table(PROVENANCE_TABLE))
        return self._provenance

    def record_provided(self, table: str, columns: list[str] | set[str], source: str) -> None:
        """Record that ``source`` provides ``columns`` of ``table`` (idempotent, adds to what it had).

        A source recorded only this way covers every seller (see :meth:`record_coverage`).
        """
        new = pd.DataFrame({"table_name": table, "column_name": sorted(set(columns)), "source": source})
        old = self._read_provenance()
        self._provenance = None
        if old is not None:
            new = pd.concat([old, new]).drop_duplicates(["table_name", "column_name", "source"])
        new = new.reset_index(drop=True)
        self.con.create_table(
            PROVENANCE_TABLE, pa.Table.from_pandas(new, preserve_index=False), overwrite=True
        )
        self._provenance = new

    def record_coverage(self, source: str, sellers: pd.DataFrame) -> None:
        """Record that ``source`` covers the sellers ``sellers`` (``seller_id, marketplace_id``).

        Imports record it in their commit; this is for sources registered by hand.
        """
        rows = sellers[["seller_id", "marketplace_id"]].drop_duplicates().assign(source=source)
        rows = rows[["source", "seller_id", "marketplace_id"]].reset_index(drop=True)
        if self.has_table(COVERAGE_TABLE):
            old = self.execute(self.con.table(COVERAGE_TABLE))
            rows = pd.concat([old, rows]).drop_duplicates().reset_index(drop=True)
        schema = ibis.schema({"source": "string", "seller_id": "string", "marketplace_id": "string"})
        self.con.create_table(
            COVERAGE_TABLE, pa.Table.from_pandas(rows, preserve_index=False), schema=schema, overwrite=True
        )

    # -- writing -----------------------------------------------------------------------------
    def upsert(self, schema: TableSchema, rows: pd.DataFrame | pa.Table) -> UpsertStats:
        """Insert or replace rows of a canonical table by its key, in one transaction.

        Costs O(incoming rows) on DuckDB: the stored rows with an incoming key are deleted (a join
        on the key columns) and the incoming rows inserted; the table is never rewritten. Imports use
        :mod:`cxops.ingest.staging` instead (every table of an import in one transaction).

        Parameters
        ----------
        schema : TableSchema
        rows : pandas.DataFrame or pyarrow.Table
            Validated rows (see :func:`cxops.ingest.validate.validate`); keys unique.

        Returns
        -------
        UpsertStats
        """
        incoming = rows if isinstance(rows, pa.Table) else to_arrow(rows, schema)
        if self.engine == "pyspark":
            if not self.has_table(schema.name):
                self.con.create_table(schema.name, incoming, schema=ibis_schema(schema))
                return UpsertStats(inserted=incoming.num_rows, replaced=0)
            return self._upsert_spark(schema, incoming)
        raw = self.con.con
        with registered(raw, incoming, "_incoming") as name:
            raw.execute("BEGIN TRANSACTION")
            try:
                replaced = duckdb_replace(raw, schema, name, _qualified(raw, schema.name))
                raw.execute("COMMIT")
            except BaseException:
                raw.execute("ROLLBACK")
                raise
        return UpsertStats(inserted=incoming.num_rows - replaced, replaced=replaced)

    def _merged(self, schema: TableSchema, inc: ir.Table) -> tuple[int, ir.Table]:
        """The stored rows whose key is not in ``inc``, plus ``inc``; and how many stored rows it replaces."""
        old = self.con.table(schema.name)
        key = list(schema.key)
        replaced = int(self.execute(old.semi_join(inc, key).count().name("n")))
        kept = old.anti_join(inc, key).select(schema.column_names)
        return replaced, kept.union(inc.select(schema.column_names))

    def _upsert_spark(self, schema: TableSchema, incoming: pa.Table) -> UpsertStats:
        """Spark upsert: Spark cannot overwrite a table it reads in the same query, so the merged rows
        are written to a staging table that then replaces the old one (drop, rename). The incoming rows
        are a temporary view (no files). Not atomic across tables: a failure between two tables'
        swaps leaves the earlier ones written."""
        name = schema.name
        tag = uuid.uuid4().hex[:8]
        tmp, stage = f"_incoming_{tag}", f"_staging_{name}_{tag}"
        inc = self.con.create_view(tmp, ibis.memtable(incoming, schema=ibis_schema(schema)))
        try:
            replaced, merged = self._merged(schema, inc)
            self.con.create_table(stage, merged)
            self.con.drop_table(name)
            self.con.rename_table(stage, name)
        finally:
            self.con._session.catalog.dropTempView(tmp)
            if self.has_table(stage):
                self.con.drop_table(stage, force=True)
        return UpsertStats(inserted=incoming.num_rows - replaced, replaced=replaced)

    def replace_table(self, name: str, df: pd.DataFrame | pa.Table) -> None:
        """Write a non-canonical table (results, logs) wholesale."""
        obj = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
        self.con.create_table(name, obj, overwrite=True)

    def close(self) -> None:
        """Close the connection (for Spark: stop the session, which other warehouses may share)."""
        if self._con is None:  # released by an import and not reopened since
            return
        if self.engine == "duckdb":
            disconnect(self._con)
            if self.path is not None:
                self._con = None
            return
        stop = getattr(self._con, "disconnect", None)
        if stop:
            stop()


def connect(
    url: str | None = None, *, read_only: bool = False, memory_limit: str | None = None, lazy: bool = False
) -> Warehouse:
    """Open the warehouse at ``url`` (see module docstring).

    Parameters
    ----------
    url : str, optional
        Default :func:`default_url`.
    read_only : bool
        Open a DuckDB file for reading only: other processes may read it at the same time, and
        nothing can be written (temporary tables still can). Ignored for memory and Spark.
    memory_limit : str, optional
        DuckDB's memory cap (``"4GB"``); past it DuckDB spills to ``<file>.tmp`` beside the
        warehouse. Default: env ``CXOPS_MEMORY_LIMIT``, else DuckDB's own (80 % of RAM).
    lazy : bool
        For a DuckDB file: hold no connection now, and open the file **read-only** on first use. An
        import writes through its own staging connection (:mod:`cxops.ingest.staging`), so the import
        commands open the warehouse this way and never lock readers out. An existing file is checked
        now (a damaged or foreign file fails here, before any work).

    Raises
    ------
    ValueError
        For an unrecognised URL or memory limit.
    ImportError
        For a Spark URL when ``pyspark`` is not installed.
    cxops.errors.WarehouseError
        When the file cannot be opened: not a DuckDB database (a zero-byte, truncated or foreign
        file), written by an incompatible DuckDB version, locked by another process, or unreadable.
    """
    url = url or default_url()
    if url.startswith("pyspark:") or url.startswith("spark://"):
        return Warehouse(_connect_spark(url), url, "pyspark")
    if url in ("memory", "duckdb://:memory:", ":memory:"):
        con = ibis.duckdb.connect()
        engine = "duckdb"
    elif url.startswith("duckdb://") or url.endswith(".duckdb") or url.endswith(".db"):
        path = Path(url.removeprefix("duckdb://")).expanduser()
        if lazy:
            if path.exists():
                try:
                    disconnect(_connect_duckdb_file(path, True))
                except WarehouseError as e:
                    if not getattr(e, "locked", False):  # a writer holds it: the file opens, the import waits
                        raise
            return Warehouse(None, url, "duckdb", path=path, read_only=True, memory_limit=memory_limit)
        con = _connect_duckdb_file(path, read_only, memory_limit)
        return Warehouse(con, url, "duckdb", path=path, read_only=read_only, memory_limit=memory_limit)
    else:
        raise ValueError(
            f"unrecognised warehouse URL {url!r}: use a path ending in .duckdb, duckdb:///PATH, "
            "memory, pyspark: or spark://HOST:PORT"
        )
    _session(con, memory_limit)
    return Warehouse(con, url, engine)


def _memory_text(limit: str) -> str:
    text = str(limit).strip()
    if not text or any(c in text for c in "'\\;"):
        raise ValueError(f"invalid memory limit {limit!r} (e.g. 4GB, 512MB)")
    return text


def _connect_duckdb_file(path: Path, read_only: bool = False, memory_limit: str | None = None):
    """An Ibis DuckDB backend on the warehouse file ``path`` (UTC session, no progress bar, the memory
    limit of :func:`connect`), or a :class:`~cxops.errors.WarehouseError` saying why not.

    A read-write connection holds the warehouse's writer lock (:mod:`cxops.warehouse_lock`) until it
    is closed with :func:`disconnect` (or garbage-collected)."""

    if path.exists() and not path.is_file():
        raise WarehouseError(f"warehouse {path} is not a file (a folder or a device)")
    if not read_only:
        path.resolve().parent.mkdir(parents=True, exist_ok=True)
        if not warehouse_lock.acquire(path):
            raise WarehouseError(
                f"warehouse {path} is in use by another process (an import is committing, or another "
                "command writes it)",
                hint="wait for the other cxops command to finish, or use a copy of the file",
            )
    try:
        con = _open_duckdb(path, read_only)
    except BaseException:
        if not read_only:
            warehouse_lock.release(path)
        raise
    if not read_only:
        con._cxops_writer = warehouse_lock.bind(con, path)
    _session(con, memory_limit)
    return con


def disconnect(con) -> None:
    """Close an Ibis DuckDB backend opened by :func:`connect`, and give back its writer lock."""
    con.disconnect()
    finalizer = getattr(con, "_cxops_writer", None)
    if finalizer is not None:
        finalizer()


def _open_duckdb(path: Path, read_only: bool):
    import duckdb

    try:
        con = ibis.duckdb.connect(str(path), read_only=read_only)
        con.list_tables()  # reads the catalog: a damaged file fails here, not in the middle of a job
        # a copy cut short can still hold its catalog: at least its used blocks must be in the file
        # (DuckDB itself may cut free blocks off the end)
        block, blocks = con.con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size()"
        ).fetchone()
        size = path.stat().st_size
        if size < block * blocks:
            con.disconnect()
            raise WarehouseError(
                f"warehouse {path} is truncated: the file has {size:,} bytes, its catalog needs "
                f"{block * blocks:,} (an interrupted copy?)",
                hint="copy the warehouse again, or re-import the data into a new file",
            )
    except duckdb.IOException as e:
        text = str(e)
        if "lock" in text.lower():
            err = WarehouseError(
                f"warehouse {path} is in use by another process (DuckDB allows one writer)",
                hint="wait for the other cxops command to finish, or use a copy of the file",
            )
            err.locked = True
            raise err from None
        raise WarehouseError(
            f"warehouse {path} cannot be opened: it is not a DuckDB database, or it is damaged or "
            f"truncated ({_first_line(text)})",
            hint="point --warehouse at a warehouse written by cxops, or re-import the data into a new file",
        ) from None
    except (duckdb.SerializationException, duckdb.InternalException, duckdb.InvalidInputException) as e:
        raise WarehouseError(
            f"warehouse {path} cannot be read: it is damaged or was written by an incompatible DuckDB "
            f"version ({_first_line(str(e))})",
            hint="re-import the data into a new warehouse file",
        ) from None
    except PermissionError as e:
        raise WarehouseError(f"warehouse {path} cannot be opened: {e.strerror}") from None
    except duckdb.Error as e:
        raise WarehouseError(f"warehouse {path} cannot be opened ({_first_line(str(e))})") from None
    return con


def _session(con, memory_limit: str | None) -> None:
    """UTC session, no progress bar, and the memory limit (argument, else env ``CXOPS_MEMORY_LIMIT``)."""
    con.raw_sql("SET enable_progress_bar=false")
    con.raw_sql("SET TimeZone='UTC'")
    limit = memory_limit or os.environ.get("CXOPS_MEMORY_LIMIT")
    if limit:
        try:
            con.raw_sql(f"SET memory_limit='{_memory_text(limit)}'")
        except Exception as e:
            raise ValueError(f"invalid memory limit {limit!r} (e.g. 4GB, 512MB): {e}") from None


_UNITS = {"bytes": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}  # fmt: skip


def setting_bytes(text: str) -> int:
    """Bytes of a DuckDB size setting as it prints it (``'2.7 GiB'``, ``'512.0 MiB'``)."""
    number, _, unit = str(text).strip().partition(" ")
    return int(float(number) * _UNITS[(unit or "bytes").lower()])


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


#: Settings of an in-process local Spark (``pyspark:``): small shuffles, no UI, no progress bars.
LOCAL_SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}
#: Settings of every Spark session cxops opens: UTC, and Arrow for moving data to and from pandas.
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_master(url: str) -> tuple[str, str | None]:
    """Spark master URL and database of a warehouse URL.

    ``pyspark:`` -> ``local[2]``; ``pyspark:MASTER`` -> ``MASTER``; ``spark://HOST:PORT`` as is.
    A ``?database=NAME`` query selects the Spark database.

    Examples
    --------
    >>> spark_master("pyspark:")
    ('local[2]', None)
    >>> spark_master("spark://10.0.0.5:7077?database=lake")
    ('spark://10.0.0.5:7077', 'lake')
    """
    base, _, query = url.partition("?")
    params = parse_qs(query)
    unknown = sorted(set(params) - {"database"})
    if unknown:
        raise ValueError(f"unknown Spark warehouse URL parameter(s) {', '.join(unknown)} in {url!r}")
    database = params["database"][-1] if "database" in params else None
    if base.startswith("pyspark:"):
        master = base.removeprefix("pyspark:").removeprefix("//") or "local[2]"
    else:
        parts = urlsplit(base)
        master = f"{parts.scheme}://{parts.netloc}"
    return master, database


def _connect_spark(url: str):
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the Spark warehouse needs pyspark: pip install 'cxops[spark]'") from e
    master, database = spark_master(url)
    builder = SparkSession.builder.master(master).appName("cxops")
    for k, v in SPARK_CONF.items():
        builder = builder.config(k, v)
    if master.startswith("local") and SparkSession.getActiveSession() is None:
        configured = _configured_spark_keys()  # spark-defaults.conf wins over these local defaults
        local = dict(LOCAL_SPARK_CONF)
        if "spark.sql.warehouse.dir" not in configured:
            # Managed tables of the in-memory catalog would outlive it in ./spark-warehouse and make
            # the next run fail with LOCATION_ALREADY_EXISTS: use a private directory, removed at exit.
            wdir = tempfile.mkdtemp(prefix="cxops-spark-")
            atexit.register(shutil.rmtree, wdir, True)
            local["spark.sql.warehouse.dir"] = wdir
        for k, v in local.items():
            if k not in configured:
                builder = builder.config(k, v)
    session = builder.getOrCreate()
    con = ibis.pyspark.connect(session)
    for k, v in SPARK_CONF.items():  # also on a session that already existed
        session.conf.set(k, v)
    con._register_in_memory_table = _arrow_memtables(con)
    if master.startswith("local"):
        session.sparkContext.setLogLevel("ERROR")  # an in-process Spark: keep the terminal readable
    if database:
        session.catalog.setCurrentDatabase(database)
    return con


def _configured_spark_keys() -> set[str]:
    """Spark settings given by the installation (``spark-defaults.conf``, ``PYSPARK_SUBMIT_ARGS``)."""
    try:
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized()  # starts the JVM, which reads spark-defaults.conf
        keys = {k for k, _ in SparkConf().getAll()}
    except Exception:  # pragma: no cover - private PySpark API; fall back to cxops's defaults
        return set()
    return keys - {"spark.ui.showConsoleProgress"}  # PySpark's launcher always sets it


def _arrow_memtables(con):
    """Register Ibis in-memory tables (calendars, channel lists, loaded rows) in Spark through Arrow.

    Ibis 12 hands Spark a pandas frame; with pandas 3's Arrow-backed strings PySpark 4.0 falls back
    to a Python RDD, and every query touching it then starts Python worker processes (measured: the
    catalog as of 3 days for 12 sellers took 141 s instead of 32 s on 2 cores). PySpark >= 4.0 builds
    a JVM-side DataFrame straight from an Arrow table.
    """
    from ibis.backends.pyspark.datatypes import PySparkSchema

    fallback = con._register_in_memory_table
    session = con._session

    def register(op) -> None:
        table = op.data.to_pyarrow(op.schema)
        if table.num_rows == 0 or not hasattr(session, "_create_from_arrow_table"):
            return fallback(op)
        df = session.createDataFrame(table, schema=PySparkSchema.from_ibis(op.schema))
        df.createOrReplaceTempView(op.name)

    return register
