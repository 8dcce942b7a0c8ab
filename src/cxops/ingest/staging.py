"""The staging area of one import, and its single-transaction commit.

An import runs in two phases on one DuckDB connection:

1. **Stage.** Files are scanned, checked (:mod:`cxops.canonical.rules`) and written as staging
   tables; rows are merged with what the warehouse holds and the days they change are found. For a
   DuckDB warehouse file, this object's own connection is released and the file is attached
   **read-only** (other processes may read the warehouse meanwhile); the staging tables live in an
   in-memory database of the import's connection, which DuckDB spills to a private folder beside the
   warehouse (``.<name>.cxops-import-<pid>``) beyond its memory limit, so memory stays bounded and
   nothing of it is ever in the warehouse. When the input files are large beside the memory limit
   (more than half of it: :func:`stage_on_disk`), the staging tables are a database file in that
   folder instead: DuckDB stores them compressed and can drop their blocks from memory without
   writing them, where spilling an in-memory database of 100 M orders wrote 38 GB of temporary
   files and still ran out of memory at a 2 GB limit (its hash aggregations found no block to evict).
2. **Commit.** Holding the warehouse's writer lock (:mod:`cxops.warehouse_lock`, which every cxops
   read-write connection holds too), the import copies the file into its staging folder, attaches
   the copy read-write and, in **one transaction**, every affected table has the rows with incoming
   keys deleted and the staged rows inserted, the provenance and the import log written — or
   nothing changes. If another import committed in between (the import log moved on), the
   transaction is rolled back and :class:`~cxops.errors.ConflictError` raised. The copy is then
   checkpointed, flushed to disk and renamed over the warehouse file (an atomic ``rename``).

   Readers are therefore never refused while an import writes: until the rename they read the old
   file, after it the new one (a reader that keeps a connection open keeps reading the old file
   until it reconnects; the web reconnects when the file changes). The cost is one copy of the file
   (about 6 s for a 2.2 GB warehouse of 10 M orders here) and free space for it beside the
   warehouse. ``CXOPS_IMPORT_COMMIT=in-place`` commits in the file itself instead (no copy; readers
   are refused during the commit, and the commit waits for them to close). The commit is also made
   in place when a write-ahead log of an interrupted writer lies beside the file (DuckDB replays it
   on attach), or when this process itself holds another read-write connection to it.

Killed at any point, the warehouse is as it was before the commit or as after it (before the rename
the file was never touched; in place, DuckDB's write-ahead log rolls back); the staging folder of a
killed import, with its copy, is removed by the next import. An in-memory
warehouse (tests) stages in an attached in-memory database of its own connection. A Spark warehouse
stages in a local DuckDB (the stored tables it merges with are read into it) and commits table by
table with Spark's staged swap: best effort, not one transaction.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from cxops import warehouse_lock
from cxops.canonical.rules import ident, literal
from cxops.canonical.schema import TABLES
from cxops.errors import ConflictError, InputError, WarehouseError
from cxops.warehouse import (
    COVERAGE_TABLE,
    IMPORT_DAYS_TABLE,
    IMPORTS_TABLE,
    PROVENANCE_TABLE,
    Warehouse,
    duckdb_replace,
    registered,
    setting_bytes,
)

#: Env var: DuckDB memory limit of an import (default :data:`DEFAULT_MEMORY_LIMIT`).
MEMORY_ENV = "CXOPS_IMPORT_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
#: Seconds to wait for another writer (an import, ``evaluate``, the daily job) before committing.
LOCK_WAIT_SECONDS = 30.0
#: Env var: where an import's staging tables live, ``memory``, ``file`` or ``auto`` (default:
#: :func:`stage_on_disk`).
STAGE_ENV = "CXOPS_IMPORT_STAGE"
#: Env var: how an import commits to a DuckDB file, ``swap`` (default) or ``in-place`` (see the module).
COMMIT_ENV = "CXOPS_IMPORT_COMMIT"
#: Env var (tests): seconds to pause inside the commit transaction after each table, so that a test
#: can kill an import in the middle of its commit.
PAUSE_ENV = "CXOPS_DEBUG_COMMIT_PAUSE"
_PREFIX = ".cxops-import-"


def memory_limit() -> str:
    """DuckDB memory limit of an import: env ``CXOPS_IMPORT_MEMORY_LIMIT``, else 2 GB."""
    return os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT


def stage_on_disk(input_bytes: int | None, limit_bytes: int) -> bool:
    """Whether an import of files of ``input_bytes`` stages in a database file rather than in memory.

    ``CXOPS_IMPORT_STAGE=memory|file`` decides; otherwise (``auto``) on disk when the input files
    (compressed Parquet or CSV on disk) take more than half of the DuckDB memory limit: staged with
    their check columns they take several times their size. Unknown sizes stage in memory.

    Raises
    ------
    InputError
        If the environment variable holds another value.
    """
    mode = (os.environ.get(STAGE_ENV) or "auto").strip().lower()
    if mode not in ("auto", "memory", "file"):
        raise InputError(f"{STAGE_ENV} must be memory, file or auto, not {mode!r}")
    if mode != "auto":
        return mode == "file"
    return input_bytes is not None and input_bytes > limit_bytes / 2


@dataclass
class Replacement:
    """One table to replace by key in the commit.

    Attributes
    ----------
    table : str
        Canonical table.
    relation : str
        Staging relation with the final rows (contract columns; keys unique).
    """

    table: str
    relation: str


@dataclass
class CommitPlan:
    """Everything one import writes.

    Attributes
    ----------
    source : str
        The import source (provenance label, e.g. ``canonical:/data/x``).
    kind : str
        ``canonical``, ``olist``, ``amazon`` …
    tables : list of Replacement
        In load order.
    provided : dict
        Table -> columns (and markers) the source provides; recorded per source.
    coverage : str, optional
        Staging relation ``seller_id, marketplace_id``: the sellers the source covers.
    days : str, optional
        Staging relation ``table_name, day, rows_changed`` written to the import log.
    counts : (int, int, int)
        Rows read, loaded and quarantined, for the import log.
    builtin_provided : dict
        Table -> columns provided by built-in rows (source ``builtin``, covering every seller).
    """

    source: str
    kind: str
    tables: list[Replacement] = field(default_factory=list)
    provided: dict[str, list[str]] = field(default_factory=dict)
    coverage: str | None = None
    days: str | None = None
    counts: tuple[int, int, int] = (0, 0, 0)
    builtin_provided: dict[str, list[str]] = field(default_factory=dict)


class Staging:
    """The staging area of one import on warehouse ``wh`` (a context manager).

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        Where staging SQL runs.
    wcat : str or None
        Catalog of the warehouse as seen from ``con`` (``None``: no stored table is readable yet, or a
        Spark warehouse: see :meth:`stored`).
    scat : str
        Catalog of the staging tables.
    imported_at : datetime.datetime
        The import's instant (UTC, naive).
    """

    def __init__(self, wh: Warehouse, memory: str | None = None, input_bytes: int | None = None):
        self.wh = wh
        self.memory = memory or memory_limit()
        #: Bytes of the input files when known (:func:`stage_on_disk`).
        self.input_bytes = input_bytes
        self.imported_at = datetime.now(UTC).replace(tzinfo=None)
        self.con: duckdb.DuckDBPyConnection | None = None
        self.wcat: str | None = None
        self.scat = "stage"
        self._dir: Path | None = None
        self._own = False
        self._generation: int | None = None
        self._spark_tables: dict[str, str] = {}
        self._n = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Staging:
        wh = self.wh
        if wh.engine == "duckdb" and wh.path is not None:
            wh.release()
            path = Path(wh.path)
            _remove_stale(path)
            self._dir = path.parent / f".{path.name}{_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
            self._dir.mkdir()
            self.con = duckdb.connect(
                config={"memory_limit": self.memory, "temp_directory": str(self._dir / "spill")}
            )
            self._own = True
            self._setup()
            if path.exists():
                self._attach(read_only=True)
            (limit,) = self.con.execute("SELECT current_setting('memory_limit')").fetchone()
            where = (
                self._dir / "stage.duckdb" if stage_on_disk(self.input_bytes, setting_bytes(limit)) else None
            )
            self.con.execute(f"ATTACH {literal(str(where)) if where else repr(':memory:')} AS {self.scat}")
        elif wh.engine == "duckdb":
            self.con = wh.con.con
            self.scat = f"cxops_stage_{uuid.uuid4().hex[:8]}"
            self.con.execute(f"ATTACH ':memory:' AS {self.scat}")
            self.wcat = self.con.execute("SELECT current_database()").fetchone()[0]
        else:  # Spark: stage locally
            self.con = duckdb.connect(config={"memory_limit": self.memory})
            self._own = True
            self._setup()
            self.con.execute(f"ATTACH ':memory:' AS {self.scat}")
        self._generation = self._read_generation()
        return self

    def _setup(self) -> None:
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET enable_progress_bar=false")

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Drop the staging area (its folder too); the warehouse object reopens on next use."""
        if self.con is None:
            return
        if self._own:
            self.con.close()
        else:
            try:
                self.con.execute(f"DETACH {self.scat}")
            except duckdb.Error:
                pass
        self.con = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _attach(self, read_only: bool, file: Path | None = None) -> None:
        """Attach the warehouse file (or ``file``, its copy) as ``w`` (read-only while staging,
        read-write to commit)."""
        path = str(file or Path(self.wh.path))
        mode = " (READ_ONLY)" if read_only else ""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                self.con.execute(f"ATTACH {literal(path)} AS w{mode}")
                break
            except duckdb.Error as e:
                msg = str(e)
                if "lock" in msg.lower() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                if "lock" in msg.lower():
                    raise ConflictError(
                        f"warehouse {path} is in use by another process; nothing was imported",
                        hint="close the other cxops process (or reader) and import again",
                    ) from None
                raise WarehouseError(f"warehouse {path} cannot be opened: {msg.splitlines()[0]}") from None
        self.wcat = "w"

    # -- names and queries ---------------------------------------------------------------------
    def name(self, base: str) -> str:
        """A new qualified name for a staging table: ``stage.main."<base>_<n>"``."""
        self._n += 1
        return f'{self.scat}.main."{base}_{self._n}"'

    def sql(self, query: str, params: list | None = None):
        """Run ``query`` on the staging connection; returns the DuckDB result."""
        return self.con.execute(query, params or [])

    def scalar(self, query: str):
        return self.con.execute(query).fetchone()[0]

    def df(self, query: str) -> pd.DataFrame:
        """Fetch a (small) result as pandas (through Arrow)."""
        return self.con.execute(query).arrow().read_all().to_pandas()

    def stored(self, table: str) -> str | None:
        """Qualified name of the stored table ``table`` as it was when staging began, or ``None``.

        For Spark the stored table is read into the staging database on first use.
        """
        if self.wh.engine == "pyspark":
            if table not in self._spark_tables:
                if not self.wh.has_table(table):
                    return None
                arrow = self.wh.con.to_pyarrow(self.wh.table(table))
                name = self.name(f"stored_{table}")
                with registered(self.con, arrow, "_spark") as tmp:
                    self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {tmp}")
                self._spark_tables[table] = name
            return self._spark_tables[table]
        if self.wcat is None:
            return None
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
            "AND table_name = ?",
            [self.wcat, table],
        ).fetchone()[0]
        return f'{self.wcat}.main."{table}"' if found else None

    def stored_columns(self, table: str) -> list[str]:
        name = self.stored(table)
        if name is None:
            return []
        return [r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()]

    def put(self, data: pd.DataFrame | pa.Table, base: str = "frame") -> str:
        """Copy a pandas or Arrow table into a new staging table; returns its qualified name."""
        name = self.name(base)
        arrow = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        with registered(self.con, arrow, "_put") as tmp:
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {tmp}")
        return name

    def _read_generation(self) -> int:
        if self.wh.engine == "pyspark":
            return 0
        t = self.stored(IMPORTS_TABLE)
        if t is None:
            return 0
        return int(self.scalar(f"SELECT coalesce(max(import_id), 0) FROM {t}"))

    # -- commit --------------------------------------------------------------------------------
    def commit(self, plan: CommitPlan) -> dict[str, int]:
        """Write ``plan`` in one transaction (DuckDB) or table by table (Spark).

        Returns
        -------
        dict
            Table -> stored rows replaced (the others inserted).

        Raises
        ------
        ConflictError
            Another import committed since staging began, or the file stays locked; nothing written.
        """
        if self.wh.engine == "pyspark":
            return self._commit_spark(plan)
        if self.wh.path is None:
            return self._transaction(plan)
        path = Path(self.wh.path)
        if self.wcat is not None:
            self.con.execute("DETACH w")
            self.wcat = None
        in_process = warehouse_lock.held(path)  # this process writes the file through another connection
        if not warehouse_lock.acquire(path, LOCK_WAIT_SECONDS):
            raise ConflictError(
                f"warehouse {path} is being written by another process; nothing was imported",
                hint="wait for the other cxops command (import, evaluate, run), then import again",
            )
        try:
            copy = self._copy(path, in_process)
            self._attach(read_only=False, file=copy)
            replaced = self._transaction(plan)
            if copy is not None:
                self.con.execute("CHECKPOINT w")
            self.con.execute("DETACH w")
            self.wcat = None
            if copy is not None:
                _install(copy, path)
        finally:
            warehouse_lock.release(path)
        self.wh.release()  # the next use opens the committed file
        return replaced

    def _copy(self, path: Path, in_process: bool) -> Path | None:
        """The copy of the warehouse to commit into, or ``None`` to commit in place (see the module)."""
        mode = (os.environ.get(COMMIT_ENV) or "swap").strip().lower()
        if mode not in ("swap", "in-place"):
            raise WarehouseError(f"{COMMIT_ENV}={mode!r}: use swap or in-place")
        if mode == "in-place" or in_process or Path(f"{path}.wal").exists():
            return None
        copy = self._dir / "commit.duckdb"
        if path.exists():
            try:
                shutil.copyfile(path, copy)
            except OSError as e:
                raise WarehouseError(
                    f"cannot copy warehouse {path} to commit the import beside it: {e.strerror}; "
                    "nothing was imported",
                    hint=f"free disk space for one copy of the warehouse, or set {COMMIT_ENV}=in-place",
                ) from None
        return copy

    def _transaction(self, plan: CommitPlan) -> dict[str, int]:
        """The commit's one transaction on the attached warehouse (or its copy)."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            now = self._generation_now()
            if now != self._generation:
                raise ConflictError(
                    "another import was committed to the warehouse while this one was being staged; "
                    "nothing was imported",
                    hint="run the import again",
                )
            replaced = {}
            pause = float(os.environ.get(PAUSE_ENV) or 0)
            for r in plan.tables:
                target = f'{self.wcat}.main."{r.table}"'
                replaced[r.table] = duckdb_replace(con, TABLES[r.table], r.relation, target)
                if pause:
                    time.sleep(pause)
            self._write_provenance(plan)
            self._write_log(plan, now + 1)
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        self.wh._provenance = None
        return replaced

    def _generation_now(self) -> int:
        t = f'{self.wcat}.main."{IMPORTS_TABLE}"'
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [self.wcat, IMPORTS_TABLE],
        ).fetchone()[0]
        return int(self.scalar(f"SELECT coalesce(max(import_id), 0) FROM {t}")) if exists else 0

    def _write_provenance(self, plan: CommitPlan) -> None:
        con, w = self.con, self.wcat
        prov = f'{w}.main."{PROVENANCE_TABLE}"'
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {prov} (table_name VARCHAR, column_name VARCHAR, source VARCHAR)"
        )
        rows = [(t, c, plan.source) for t, cols in plan.provided.items() for c in sorted(set(cols))]
        rows += [(t, c, "builtin") for t, cols in plan.builtin_provided.items() for c in sorted(set(cols))]
        if rows:
            values = ", ".join(f"({literal(a)}, {literal(b)}, {literal(c)})" for a, b, c in rows)
            con.execute(
                f"INSERT INTO {prov} SELECT * FROM (VALUES {values}) AS v(table_name, column_name, source) "
                f"EXCEPT SELECT table_name, column_name, source FROM {prov}"
            )
        if plan.coverage is not None:
            cov = f'{w}.main."{COVERAGE_TABLE}"'
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {cov} "
                "(source VARCHAR, seller_id VARCHAR, marketplace_id VARCHAR)"
            )
            con.execute(
                f"INSERT INTO {cov} SELECT DISTINCT {literal(plan.source)}, seller_id, marketplace_id "
                f"FROM {plan.coverage} AS n WHERE NOT EXISTS (SELECT 1 FROM {cov} AS o WHERE o.source = "
                f"{literal(plan.source)} AND o.seller_id = n.seller_id AND o.marketplace_id IS NOT DISTINCT "
                "FROM n.marketplace_id)"
            )

    def _write_log(self, plan: CommitPlan, import_id: int) -> None:
        con, w = self.con, self.wcat
        log = f'{w}.main."{IMPORTS_TABLE}"'
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {log} (import_id BIGINT, source VARCHAR, kind VARCHAR, "
            "started_at TIMESTAMP, committed_at TIMESTAMP, rows_read BIGINT, rows_loaded BIGINT, "
            "rows_quarantined BIGINT)"
        )
        read, loaded, quarantined = plan.counts
        con.execute(
            f"INSERT INTO {log} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                import_id,
                plan.source,
                plan.kind,
                self.imported_at,
                datetime.now(UTC).replace(tzinfo=None),
                read,
                loaded,
                quarantined,
            ],
        )
        days = f'{w}.main."{IMPORT_DAYS_TABLE}"'
        con.execute(f"CREATE TABLE IF NOT EXISTS {days} (import_id BIGINT, table_name VARCHAR, day DATE)")
        if plan.days is not None:
            con.execute(f"INSERT INTO {days} SELECT {import_id}, table_name, day FROM {plan.days}")

    def _commit_spark(self, plan: CommitPlan) -> dict[str, int]:
        wh = self.wh
        replaced = {}
        for r in plan.tables:
            schema = TABLES[r.table]
            cols = ", ".join(ident(c) for c in schema.column_names)
            arrow = self.con.execute(f"SELECT {cols} FROM {r.relation}").arrow().read_all()
            replaced[r.table] = wh.upsert(schema, arrow).replaced
        for t, cols in plan.provided.items():
            wh.record_provided(t, cols, plan.source)
        for t, cols in plan.builtin_provided.items():
            wh.record_provided(t, cols, "builtin")
        if plan.coverage is not None:
            wh.record_coverage(
                plan.source, self.df(f"SELECT DISTINCT seller_id, marketplace_id FROM {plan.coverage}")
            )
        return replaced


def _install(copy: Path, path: Path) -> None:
    """Rename the committed ``copy`` over the warehouse ``path``, durably (file and folder synced)."""
    if Path(f"{copy}.wal").exists():  # the checkpoint must have folded everything into the file
        raise WarehouseError(f"the import's copy {copy} kept a write-ahead log; nothing was imported")
    fd = os.open(copy, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if path.exists():
        shutil.copymode(path, copy)
    if os.environ.get(PAUSE_ENV):
        time.sleep(float(os.environ[PAUSE_ENV]))
    os.replace(copy, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(path: Path) -> None:
    """Remove the staging folders of killed imports of the warehouse ``path`` (their process is gone)."""
    for d in path.parent.glob(f".{path.name}{_PREFIX}*"):
        pid = d.name[len(f".{path.name}{_PREFIX}") :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def union_sql(relations: Iterable[str]) -> str | None:
    """``(SELECT * FROM a UNION ALL BY NAME SELECT * FROM b …)`` or ``None`` for no relation."""
    rels = list(relations)
    if not rels:
        return None
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM {r}" for r in rels) + ")"
