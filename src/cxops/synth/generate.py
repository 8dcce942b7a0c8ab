"""Write a synthetic marketplace as canonical Parquet files, generated inside DuckDB in bounded memory.

:func:`generate` builds the seller and unit tables (small) and a view with one row per seller order
(every value a hash of the seed, the row index and a stream number: see :mod:`cxops.synth.draws`).
It then works through the sellers a chunk of about :data:`CHUNK_ORDERS` orders at a time: the chunk's
orders are computed once into a temporary table, each canonical table's query reads it, and the rows
are appended to that table's one Parquet file. Memory therefore depends on the chunk, not on the
number of orders (about 1.2 GB resident at any size). Rows keep the order of the sellers and their
orders, and the same arguments give byte-identical files whatever the threads. The model and its
calibration: :mod:`cxops.synth.model`, :mod:`cxops.synth.calibration`; scripted sellers:
:mod:`cxops.synth.stories`.

Files are written into a temporary folder inside ``out_dir`` and moved into place when every table
is complete, the manifest (``_cxops_columns.json``) last.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cxops.canonical.schema import TABLES
from cxops.errors import InputError
from cxops.synth import calendars as cal
from cxops.synth import deadlines as dl
from cxops.synth.draws import doubles
from cxops.synth.model import (
    CORE_COLUMNS,
    MARKETPLACES,
    Spec,
    due_pairs,
    orders_view_sql,
    sellers_sql,
    ship_pairs,
    table_sql,
    units_sql,
)
from cxops.synth.stories import DIMENSIONS, Story

#: Tables written, in load order.
WRITTEN = (
    "marketplaces",
    "sellers",
    "orders",
    "order_items",
    "shipments",
    "cancellations",
    "feedback",
    "claims",
    "buyer_messages",
    "returns",
    "violations",
)
#: Tables with rows per seller order (written chunk by chunk); the others are written first.
PER_ORDER = (
    "orders",
    "order_items",
    "shipments",
    "cancellations",
    "feedback",
    "claims",
    "buyer_messages",
    "returns",
)
#: Also written with ``deadlines=True`` (contract v2's deadline inputs: :mod:`cxops.synth.deadlines`).
DEADLINE_WRITTEN = dl.TABLES
MANIFEST = "_cxops_columns.json"
#: Seller orders materialised at a time, and rows per Parquet row group.
CHUNK_ORDERS = 500_000
ROW_GROUP = 1 << 18

Progress = Callable[[str, int, int], None]


@dataclass
class SynthResult:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out_dir : Path
    rows : dict
        Rows per table.
    files : dict
        Path per table.
    seconds : float
        Wall time.
    start, end : date
        First and last local day of data.
    sellers : int
    seed : int
    stories : dict
        Seller id -> storyline name, for the storylines in the data.
    """

    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    start: date | None = None
    end: date | None = None
    sellers: int = 0
    seed: int = 0
    stories: dict[str, str] = field(default_factory=dict)


def generate(
    out_dir: str | Path,
    sellers: int,
    days: int = 730,
    *,
    seed: int = 7,
    end: date = date(2026, 10, 31),
    orders_per_seller: float = 100.0,
    stories: Sequence[Story] = (),
    memory_limit: str = "4GB",
    threads: int | None = None,
    progress: Progress | None = None,
    chunk_orders: int = CHUNK_ORDERS,
    deadlines: bool = False,
) -> SynthResult:
    """Write a synthetic marketplace as one ``<table>.parquet`` per canonical table in ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed; files of the same names are replaced.
    sellers : int
        Number of sellers (``S0001`` …, zero-padded to at least four digits); about 6 % also sell on
        a second marketplace (a second ``sellers`` row).
    days : int
        Days of data, ending on ``end`` (marketplace-local days).
    seed : int
        Same seed and arguments → byte-identical files.
    end : date
        Last local day of data; the data cut is the end of that day in every marketplace.
    orders_per_seller : float
        Mean seller orders per seller over the period: the expected number of orders is ``sellers ×
        orders_per_seller`` (sizes lognormal with Olist's spread), plus the storylines' own volume.
    stories : sequence of Story
        Scripted sellers (:data:`cxops.synth.stories.DEMO_STORIES` for the demo).
    memory_limit : str
        DuckDB memory limit while generating (bounds peak memory whatever the size).
    threads : int, optional
        DuckDB threads (default: all cores); the files do not depend on it.
    progress : callable, optional
        Called as ``progress(table, done, total)`` after each table (of each chunk of sellers).
    chunk_orders : int
        About this many seller orders are materialised at a time (bounds memory); the files do not
        depend on it.
    deadlines : bool
        Also write the deadline inputs a marketplace hands over (:data:`DEADLINE_WRITTEN`:
        handling-time settings with effective dates, planned holiday-mode closures, ship-by
        corrections, failed first delivery attempts, buyers' on-time answers; see
        :mod:`cxops.synth.deadlines`). The orders' ship-by dates then follow the handling time in
        force when each was placed, so the other tables differ from ``deadlines=False`` (default:
        the benchmarks' data).

    Returns
    -------
    SynthResult

    Raises
    ------
    InputError
        If ``sellers``, ``days`` or ``orders_per_seller`` is not positive, or a story names an unknown
        marketplace or a seller twice.
    """
    if sellers < 1 or days < 1 or not orders_per_seller > 0:
        raise InputError("sellers, days and orders_per_seller must be positive")
    _check_stories(stories)
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".synth-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    spec = Spec(seed, sellers, days, end, float(orders_per_seller), tuple(stories), deadlines=deadlines)
    written = WRITTEN + (DEADLINE_WRITTEN if deadlines else ())
    result = SynthResult(out_dir=out, start=spec.start, end=end, sellers=sellers, seed=seed)
    con = duckdb.connect()
    try:
        _write(con, spec, tmp, result, threads, memory_limit, progress, chunk_orders)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    for name in written:
        target = out / f"{name}.parquet"
        os.replace(tmp / f"{name}.parquet", target)
        result.files[name] = target
    manifest = {
        "provided": {name: TABLES[name].column_names for name in written},
        "rows": result.rows,
        "sellers": sellers,
        "days": days,
        "start": spec.start.isoformat(),
        "end": end.isoformat(),
        "seed": seed,
        "orders_per_seller": orders_per_seller,
        "deadlines": deadlines,
        "stories": result.stories,
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
    os.replace(tmp / MANIFEST, out / MANIFEST)
    tmp.rmdir()
    result.seconds = time.perf_counter() - t0
    return result


def _chunks(n_orders: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Consecutive unit-id ranges ``[first, last]`` holding about ``size`` orders each."""
    out, first, acc = [], None, 0
    for unit, n in n_orders:
        first = unit if first is None else first
        acc += n
        if acc >= size:
            out.append((first, unit))
            first, acc = None, 0
    if first is not None:
        out.append((first, n_orders[-1][0]))
    return out


def _write(
    con: duckdb.DuckDBPyConnection,
    spec: Spec,
    tmp: Path,
    result: SynthResult,
    threads: int | None,
    memory_limit: str,
    progress: Progress | None,
    chunk_orders: int,
) -> None:
    """Create the working tables and the order view, then write every table into ``tmp``.

    The per-order tables are written one chunk of sellers at a time: the chunk's rows of the order
    view are materialised once (temporary table ``_o``) and every table's query reads them; its rows
    (as Arrow) go to that table's Parquet writer (:class:`_Sink`), which stays open across chunks and
    cuts row groups of a fixed size, so neither the chunking nor the threads change a byte. (Writing
    each chunk with DuckDB's ``COPY`` and merging the parts costs more, and DuckDB's row groups depend
    on the threads.)
    """
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    # rows in unit and order order, whatever the threads: insertion order kept, and every join probes
    # with the order stream against the small lookup table it is written with (the optimizer would
    # otherwise build on the order side, whose size it cannot estimate, and emit rows by day)
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    weights, buckets = cal.day_weights(spec.start, spec.days)
    ship = cal.deadline_table(list(MARKETPLACES), spec.start, spec.days, ship_pairs(spec.deadlines))
    due = cal.deadline_table(list(MARKETPLACES), spec.start, spec.days, due_pairs())
    for name, frame in (("_days", weights), ("_wb", buckets), ("_ship", ship), ("_due", due)):
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    con.execute("CREATE TEMP TABLE _sellers AS " + doubles(sellers_sql(spec)))
    con.execute("CREATE TEMP TABLE _units AS " + doubles(units_sql(spec)))
    n_orders = con.execute("SELECT unit_id, n_orders FROM _units ORDER BY unit_id").fetchall()
    total = sum(n for _, n in n_orders)
    spec = replace(spec, order_width=max(7, len(str(total)) + 1))
    con.execute("CREATE TEMP VIEW _ov AS " + doubles(orders_view_sql(spec)))
    chunks = _chunks(n_orders, chunk_orders)
    extra = dl.TABLES if spec.deadlines else ()
    whole = [n for n in WRITTEN if n not in PER_ORDER] + [n for n in extra if n not in dl.PER_ORDER]
    per_order = list(PER_ORDER) + [n for n in extra if n in dl.PER_ORDER]
    steps = len(whole) + len(chunks) * len(per_order)
    done = 0
    writer = _Writer(tmp)
    try:
        for name in whole:
            writer.put(name, con.execute(doubles(_sql(name, spec))).arrow().read_all())
            done += 1
            if progress:
                progress(name, done, steps)
        cols = ", ".join(CORE_COLUMNS)
        for first, last in chunks:
            view = f"SELECT {cols} FROM _ov WHERE unit_id BETWEEN {first} AND {last}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE _o AS {view}")
            for name in per_order:
                writer.put(name, con.execute(doubles(_sql(name, spec))).arrow().read_all())
                done += 1
                if progress:
                    progress(name, done, steps)
    finally:
        rows = writer.close()
    result.rows = {name: rows[name] for name in WRITTEN + extra}
    result.stories = {spec.seller_id(s.seller): s.name for s in spec.active_stories}


def _sql(name: str, spec: Spec) -> str:
    return dl.table_sql(name, spec) if name in dl.TABLES else table_sql(name, spec)


class _Sink:
    """A Parquet file written in row groups of :data:`ROW_GROUP` rows whatever the tables it gets,
    so the file does not depend on how the rows were chunked."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.pending: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        # one chunk per column: pages must not follow the batches DuckDB happened to hand over
        self.pending.append(table.combine_chunks())
        self.rows += table.num_rows
        if sum(t.num_rows for t in self.pending) >= ROW_GROUP:
            whole = pa.concat_tables(self.pending).combine_chunks()
            full = whole.num_rows // ROW_GROUP * ROW_GROUP
            self.writer.write_table(whole.slice(0, full), row_group_size=ROW_GROUP)
            self.pending = [whole.slice(full)]

    def close(self) -> None:
        whole = pa.concat_tables(self.pending).combine_chunks() if self.pending else None
        if whole is not None and whole.num_rows:
            self.writer.write_table(whole, row_group_size=ROW_GROUP)
        self.writer.close()


class _Writer:
    """Writes tables to ``<directory>/<table>.parquet``, one :class:`_Sink` per table.

    Written in the calling thread on purpose: handing DuckDB's Arrow buffers to a writer thread
    overlapped the encoding with the next query, but the resident size then grew with every chunk
    (buffers freed by another thread than the one that allocated them) — 2.2 GB at 6 M orders instead
    of a flat 1.1 GB.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.sinks: dict[str, _Sink] = {}

    def put(self, name: str, table: pa.Table) -> None:
        if name not in self.sinks:
            self.sinks[name] = _Sink(self.directory / f"{name}.parquet", table.schema)
        self.sinks[name].add(table)

    def close(self) -> dict[str, int]:
        """Finish every file; returns rows per table."""
        for sink in self.sinks.values():
            sink.close()
        return {name: sink.rows for name, sink in self.sinks.items()}


def _check_stories(stories: Sequence[Story]) -> None:
    seen = set()
    for s in stories:
        if s.marketplace not in MARKETPLACES:
            raise InputError(
                f"story {s.name!r}: marketplace {s.marketplace!r} is not one of {', '.join(MARKETPLACES)}"
            )
        if s.seller < 1 or s.seller in seen:
            raise InputError(f"story {s.name!r}: seller number {s.seller} is not positive or used twice")
        seen.add(s.seller)
        bad = {d for e in s.episodes for d in e.dimensions} | set(s.quality_by_dimension)
        if bad - set(DIMENSIONS):
            raise InputError(
                f"story {s.name!r}: unknown quality dimension(s) {sorted(bad - set(DIMENSIONS))}"
            )
