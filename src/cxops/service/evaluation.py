"""The evaluation job: metrics → policy → lifecycle → a stored run, in bounded memory.

:func:`run_evaluation` replays a policy over its evaluation dates up to an as-of day for every seller
(or some), and stores the result as a run in the warehouse (:mod:`cxops.runs`). The data stays in the
engine; Python holds compact arrays:

1. **Metrics** — each family's seller-day facts are materialised once (temporary tables; built one
   range of seller ids at a time when the orders exceed DuckDB's cap at :data:`FACT_BYTES_PER_ORDER`,
   :func:`fact_parts`), then the metrics are computed from them by the engine: every catalog metric as
   of the as-of day and the last evaluation's metrics day, and :func:`history_metrics` (those the
   criteria test and the charts draw) as of each earlier evaluation's metrics day; at most
   :data:`METRICS_CHUNK` sellers per query (fewer under a small cap: :data:`METRICS_BYTES_PER_SELLER`;
   consecutive in output order: the engine holds one chunk's sellers × days), each chunk sorted and
   appended to the run's ``metrics`` table (:func:`cxops.metrics.compute.as_of_expr`).
2. **Criteria, once per evaluation date** — the rows of the (metric, window, channel) the criteria test
   are kept in the engine (:func:`cxops.runs.wide.pivot`: one row per day, seller and spec); each
   evaluation fetches its day's rows, scatters them into arrays (:func:`cxops.runs.wide.wide_arrays`)
   and evaluates the policy as a seller × criterion grid
   (:func:`cxops.lifecycle.decisions.decisions_from_metrics`). The last evaluation's full results are
   written to the run's ``criteria`` table, section by section, in chunks of sellers.
3. **Lifecycle** — :func:`cxops.lifecycle.replay` over the decisions (every transition's reason
   rendered while its evaluation's findings are at hand); the daily recovery check reads a daily series
   of the admission and removal metrics of the removed and recovering sellers only, from the same
   facts, for :data:`LOOK_AHEAD` days at a time per seller.
4. **Projection, benefits, defects** — the projected status (a one-evaluation replay from the final
   states on the as-of day's metrics), the benefits of the members, the defective records behind the
   last evaluation's metrics; then the run is registered.

A stored run is **reused** when the policy content, the data (fingerprint), the as-of day and the
sellers asked for match; it is **resumed** when they match but the run stopped earlier (its final
states are the replay's initial states, and only the later evaluations are computed); otherwise the
job recomputes from the first data day. Freshness: an as-of day whose metrics day is past the last
complete day of data is refused (``allow_stale`` overrides); evaluations past the last day of data are
never run — a window without data because the data ends never removes a seller.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from cxops import __version__, heap
from cxops.errors import NotFoundError
from cxops.lifecycle.benefits import BENEFIT_COLUMNS, compute_benefits
from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of, next_evaluation_date
from cxops.lifecycle.decisions import Decisions, decisions_from_metrics
from cxops.lifecycle.machine import LifecycleState
from cxops.lifecycle.project import PROJECTION_COLUMNS
from cxops.lifecycle.replay import daily_admission, replay
from cxops.metrics.catalog import CATALOG
from cxops.metrics.compute import (
    OUTPUT_COLUMNS,
    as_of_expr,
    load_inputs,
    marketplace_zones,
    prepare_sources,
    series_expr,
    universe,
)
from cxops.metrics.defects import DEFECT_COLUMNS, DEFECT_SCHEMA, defects_expr
from cxops.metrics.freshness import data_freshness
from cxops.metrics.records import Inputs
from cxops.policy.evaluate import KEYS, criterion_specs, prepare_wide, section_grid
from cxops.policy.model import SECTIONS, Policy
from cxops.report.charted import CHART_METRICS, VOLUME_METRIC
from cxops.runs import store
from cxops.runs.fingerprint import scan_tables
from cxops.runs.result import Evaluation, date_columns
from cxops.runs.tables import empty, to_arrow
from cxops.runs.wide import ORDER, in_order, only_specs, pivot, wide_arrays

try:
    import resource
except ImportError:  # Windows: no peak memory in the timings
    resource = None  # type: ignore[assignment]

Progress = Callable[[str, int, int], None]

#: Sellers per chunk when the last evaluation's criterion results are built and written.
CHUNK = 100_000
#: Sellers per engine query of the metrics (bounds the engine's memory: a chunk's sellers × days rows),
#: at most; fewer under a cap below :data:`METRICS_BYTES_PER_SELLER` × this.
METRICS_CHUNK = 10_000
#: Bytes of DuckDB's memory cap one seller's metrics take in a chunk's query (its sort by output order
#: and the window joins): 10,000 sellers of 200 orders ran within 3 GB, 2,000 of 100 within 600 MB
#: (bench/RESULTS.md).
METRICS_BYTES_PER_SELLER = 300_000
#: Bytes of DuckDB's memory cap a family's facts need per order when they are built in one query (the
#: joins of each order to its shipments, claims, feedback… hold every order of the query): 10 M orders
#: needed 0.6–1 GB (bench/RESULTS.md); three times that, so that a part fits with room to spare.
FACT_BYTES_PER_ORDER = 300
#: Days of daily recovery check computed at once for a seller newly out of the program (it stays out
#: for at least the policy's recovery period, typically longer than one evaluation period).
LOOK_AHEAD = 92
#: Share of DuckDB's memory cap it keeps while the lifecycle replay and what follows run in Python
#: (:meth:`cxops.warehouse.Warehouse.engine_memory`): the process then holds a quarter of the cap
#: beside the replay's arrays, not the whole cap (peak 5.1 → see bench/RESULTS.md at 10 M orders).
ENGINE_SHARE_IN_REPLAY = 0.25


def history_metrics(policy: Policy) -> frozenset[tuple[str, int | None, str]]:
    """The ``(metric, window_days, channel)`` a run keeps for every evaluation day, not only the last.

    Those the policy's criteria test (every section: the replay judges each evaluation on them) and
    those drawn over time (:data:`cxops.report.charted.CHART_METRICS`, ranked by
    :data:`~cxops.report.charted.VOLUME_METRIC`). The as-of day and the last evaluation's metrics day
    keep every catalog metric in every window and channel. Nothing reads the others on the earlier days,
    and they were most of a large run's rows: 42 per seller and day, of which the default policy and
    the charts read 12 (see bench/RESULTS.md).
    """
    return frozenset([*criterion_specs(policy), *CHART_METRICS, VOLUME_METRIC])


def note(key: str, /, **params) -> dict:
    """A note of an evaluation: a message-catalog key and its parameters (dates as ISO days).

    Notes are stored with the run as ``{"key", "params"}`` and rendered in the reader's language
    (:func:`cxops.report.format.note_text`); the English text is the catalog's ``note.*`` message.
    """
    return {"key": key, "params": {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}}


# -- the job ---------------------------------------------------------------------------------------


def run_evaluation(
    wh,
    policy: Policy,
    as_of: date,
    seller_ids=None,
    progress: Progress | None = None,
    *,
    allow_stale: bool = False,
    reuse: bool = True,
    persist: bool = True,
    outputs=None,
) -> Evaluation:
    """Evaluate ``policy`` up to ``as_of``: reuse a stored run, resume one, or compute and store one.

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
    policy : Policy
    as_of : date
        Evaluations on the policy's cadence up to this day are replayed (monthly by default: on the
        1st, judging metrics as of the last day of the previous month); the projection judges the
        metrics as of this day.
    seller_ids : iterable of str, optional
        Only these sellers.
    progress : callable ``(stage, done, total)``, optional
    allow_stale : bool
        Evaluate although ``as_of``'s metrics day is past the last complete day of data (a feed is
        behind). Evaluations past the last day of data are still not run.
    reuse : bool
        Use a stored run when one matches (default); False recomputes.
    persist : bool
        Store the run (default). False keeps it in temporary tables (a read-only connection works).
    outputs : cxops.service.outputs.EvaluationFolder, optional
        The folder the run will be written to: a stored run computed on DuckDB has its metrics files
        written there while its lifecycle replay runs (the job waits for them before it ends, and stops
        them if it fails); write the folder with its ``write`` after.

    Returns
    -------
    Evaluation

    Raises
    ------
    NotFoundError
        If no orders have been imported, or ``seller_ids`` are given and none has data up to ``as_of``.
    StaleDataError
        If the metrics day of ``as_of`` is past the last complete day and ``allow_stale`` is false.
    """
    t0 = time.perf_counter()
    scan, fresh = data_state(wh)
    lag = policy.cadence.metrics_lag_days
    day = metrics_as_of(policy, as_of)
    fresh.check(day, f"an evaluation as of {as_of} (metrics as of {day})", allow_stale)
    notes: list[dict] = []
    until = as_of
    if fresh.last_day is not None and day > fresh.last_day:
        until = fresh.last_day + timedelta(days=lag)
        notes.append(note("note.data_ends", last_day=fresh.last_day, until=until))
    phash = store.policy_hash(policy)
    fingerprint = scan.fingerprint()
    ids = None if seller_ids is None else sorted(set(seller_ids))
    if reuse:
        found = store.find_run(wh, phash, fingerprint.digest, as_of, ids)
        if found is not None:
            return Evaluation(
                wh, policy, found, reused=True, freshness=fresh, notes=notes + found.notes, sellers=ids
            )
    base = store.find_resumable(wh, phash, fingerprint.digest, until, ids) if reuse else None
    inp = load_inputs(wh, policy.metric_options)
    job = _Job(wh, policy, inp, fresh, as_of, until, ids, progress, persist, base, outputs)
    try:
        record = job.run(phash, fingerprint, notes, t0)
    except BaseException:
        store.ACTIVE.discard(job.run_id)
        job._drop_all()  # nothing half-written stays (a killed process leaves orphans: dropped later)
        raise
    return Evaluation(
        wh,
        policy,
        record,
        freshness=fresh,
        notes=record.notes,
        resumed_from=base.run_id if base else None,
        sellers=ids,
        temporary=not persist,
    )


def data_state(wh):
    """One read of each warehouse table: ``(scan, freshness)`` (fingerprint, first and last data day).

    Raises
    ------
    NotFoundError
        If no orders have been imported, or a marketplace used by the data is unknown.
    """
    scan = scan_tables(wh)
    if "orders" not in scan.frames:
        raise NotFoundError(
            f"no orders in the warehouse {wh.url}", hint="import data first: cxops import …, cxops demo"
        )
    try:
        zones = marketplace_zones(wh, _used_marketplaces(scan))
    except KeyError as e:
        raise NotFoundError(str(e).strip("'\"")) from None
    return scan, data_freshness(wh, zones, scan.extremes())


class _Job:
    """One computation of a run (see the module docstring)."""

    def __init__(self, wh, policy, inp, fresh, as_of, until, ids, progress, persist, base, outputs=None):
        self.wh, self.policy, self.fresh = wh, policy, fresh
        self.outputs = outputs if persist else None  # a second connection sees no temporary table
        self.as_of, self.until, self.ids = as_of, until, ids
        self.progress = progress or (lambda stage, done, total: None)
        self.persist = persist
        self.base: store.RunRecord | None = base
        self.run_id = store.new_run_id()
        store.ACTIVE.add(self.run_id)  # its tables are not orphans while it runs
        self.plain = inp if ids is None else _only_sellers(inp, ids)
        # facts, universe and messages materialised once per run in temporary tables, shared by the
        # metrics of every evaluation and by every daily recovery check
        self.inp = _Shared.of(self.plain, self._materialize)
        self._temp: list[str] = []
        self._covered: dict[tuple[str, str], tuple[date, date]] = {}  # daily check days computed
        self._met = pd.DataFrame(columns=["seller_id", "marketplace_id", "day", "admission_met"])
        self.timings: dict[str, float] = {}
        self.specs = criterion_specs(policy)
        self._tick, self._cpu = time.perf_counter(), time.process_time()

    # -- helpers ---------------------------------------------------------------------------------------
    def _lap(self, name: str) -> None:
        """Add the wall and CPU seconds (all threads) since the last lap to stage ``name``, and note the
        process's peak resident memory so far (``{name}_peak_mb``: which stage sets the peak)."""
        now, cpu = time.perf_counter(), time.process_time()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._tick, 3)
        self.timings[f"{name}_cpu"] = round(self.timings.get(f"{name}_cpu", 0.0) + cpu - self._cpu, 3)
        if resource is not None:  # kB on Linux
            self.timings[f"{name}_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        self._tick, self._cpu = now, cpu

    def _name(self, part: str) -> str:
        return store.table_name(self.run_id, part)

    def _create(self, part: str, obj) -> None:
        """The run's table ``part`` from an expression or Arrow rows (replacing it)."""
        temp = self._temporary(not self.persist)
        if isinstance(obj, pa.Table):
            self.wh.create_from(self._name(part), obj, temp=temp)
        else:
            self.wh.con.create_table(self._name(part), obj, temp=temp, overwrite=True)

    def _temporary(self, wanted: bool) -> bool:
        """Temporary tables where the engine has them (DuckDB); elsewhere tables named after the run,
        dropped when it ends (and, if it is killed, by the next commit: :func:`cxops.runs.drop_orphans`)."""
        return wanted and self.wh.engine == "duckdb"

    def _scratch(self) -> bool:
        """Whether the run's scratch tables (facts, the wide pivot) are temporary: yes, unless the run is
        stored in a DuckDB warehouse file. There they are tables of the file named after the run —
        compressed: at 100 M orders the facts took 1.1 GB of the file against 15 GB of DuckDB's spill
        as temporary tables (their blocks are stored uncompressed) — dropped when the run ends (if it
        is killed, by the next commit: :func:`cxops.runs.drop_orphans`)."""
        return not (self.persist and self.wh.path is not None)

    def _materialize(self, name: str, parts: list):
        """A scratch table (:meth:`_scratch`) of the union of ``parts`` (expressions), written one part
        at a time."""
        # a plain identifier on every engine (Spark's parser refuses ``order_defects@versions``)
        table = f"{store.table_prefix(self.run_id)}tmp{len(self._temp)}_{re.sub(r'[^0-9A-Za-z_]', '_', name)}"
        self._temp.append(table)
        return self._write_parts(table, parts, temp=self._scratch())

    def _write_parts(self, table: str, parts: list, *, temp: bool, overwrite: bool = False):
        """``table`` made of the union of ``parts`` (expressions), written one part at a time: the
        engine holds one part's work at once."""
        out = self.wh.con.create_table(table, parts[0], temp=self._temporary(temp), overwrite=overwrite)
        for part in parts[1:]:
            self.wh.con.insert(table, part)
        return out

    def _drop_temp(self) -> None:
        for name in [self._wide_name, *self._temp]:
            self.wh.con.drop_table(name, force=True)
        self._temp.clear()
        if self.inp.sources is not None:
            self.inp.sources.present = None  # set for this run only (prepare_sources)

    # -- the run ---------------------------------------------------------------------------------------
    def run(self, phash: str, fingerprint, notes: list[dict], t0: float) -> store.RunRecord:
        policy = self.policy
        start = self.fresh.first_day
        if start is None:
            raise NotFoundError(f"no orders in the warehouse {self.wh.url}", hint="import data first")
        dates = evaluation_dates(policy, start, self.until)
        if not dates:
            first = evaluation_dates(policy, start, start + timedelta(days=400))
            if first:
                notes.append(
                    note(
                        "note.no_evaluation",
                        until=self.until,
                        policy=policy.name,
                        start=start,
                        first=first[0],
                    )
                )
            else:
                notes.append(
                    note("note.no_evaluation_within_year", until=self.until, policy=policy.name, start=start)
                )
        early = [d for d in dates if d < policy.effective_from]
        if early:  # evaluating history with a policy not yet in force then: a backtest, said so
            notes.append(
                note(
                    "note.backtest",
                    early=len(early),
                    total=len(dates),
                    first=early[0],
                    last=early[-1],
                    effective=policy.effective_from,
                )
            )
        base = self.base
        self.inp.parts = fact_parts(self.wh, self.plain)
        new_dates = [d for d in dates if base is None or d > base.until]
        current = self.until
        days = sorted({metrics_as_of(policy, d) for d in new_dates} | {current})
        full = {current} | ({metrics_as_of(policy, dates[-1])} if dates else set())
        try:
            self._metrics(days, dates, full)
            self._lap("metrics")
            self._wide()
            self._lap("pivot")
            if self.outputs is not None:  # the metrics table is complete: its files written meanwhile
                self.outputs.metrics_ready(self.wh, self.run_id, self._name("metrics"), self.until)
            # the engine's heavy work is done: its cached blocks make room for the replay's arrays
            with self.wh.engine_memory(ENGINE_SHARE_IN_REPLAY):
                heap.prefer_mmap()  # the replay's per-evaluation arrays go back to the system when freed
                result, benefit_rows = self._replay(dates, new_dates)
                self._lap("replay")
                statuses = self._store_lifecycle(result, dates)
                del result
                heap.release()
                self._lap("store")
                self._projection(current)
                self._lap("projection")
                self._benefits(statuses, benefit_rows)
            # the defective records join every record family again: the whole cap (at a quarter of a
            # 1 GB cap, 10 M orders ran out of memory here)
            self._defects(metrics_as_of(policy, dates[-1]) if dates else current)
            self._lap("benefits_defects")
            if self.outputs is not None:
                self.timings.update(self.outputs.settle())
                self._lap("metrics_files_wait")
        except BaseException:
            if self.outputs is not None:  # before the run's tables are dropped
                self.outputs.settle(cancel=True)
            raise
        finally:
            self._drop_temp()
        if self.ids is not None and self.wh.execute(self.wh.con.table(self._name("metrics")).count()) == 0:
            self._drop_all()
            raise NotFoundError(
                f"no data for seller(s) {', '.join(self.ids)} up to {self.as_of} "
                "(unknown id, or the seller started later)"
            )
        try:
            nxt = next_evaluation_date(policy, self.as_of + timedelta(days=1))
        except IndexError:
            nxt = None
        self.timings["total"] = round(time.perf_counter() - t0, 3)
        record = store.RunRecord(
            run_id=self.run_id,
            policy_name=policy.name,
            policy_version=policy.version,
            policy_hash=phash,
            as_of=self.as_of,
            until=self.until,
            first_day=start,
            evaluation_dates=dates,
            next_evaluation=nxt,
            scope=None if self.ids is None else tuple(self.ids),
            fingerprint=fingerprint.digest,
            fingerprint_tables=fingerprint.tables,
            freshness=self.fresh.as_dict(),
            timings=self.timings,
            notes=notes,
            sellers=len(statuses),
            cxops_version=__version__,
        )
        if base is not None:
            record.notes = [*notes, note("note.resumed", run_id=base.run_id, until=base.until)]
        if self.persist:
            store.commit_run(self.wh, record)
            store.ACTIVE.discard(self.run_id)
        return record

    def _drop_all(self) -> None:
        prefix = store.table_prefix(self.run_id)
        for name in self.wh.con.list_tables():
            if name.startswith(prefix):
                self.wh.con.drop_table(name, force=True)

    # -- 1. metrics ------------------------------------------------------------------------------------
    def _metrics(self, days: list[date], dates: list[date], full: Collection[date] | None = None) -> None:
        """The metrics as of ``days`` into the run's ``metrics`` table (engine only): every catalog
        metric as of the days in ``full`` (default: every day), :func:`history_metrics` as of the
        others. When resuming, the earlier evaluations' metrics are copied from the stored run."""
        prepare_sources(self.wh, self.inp)  # which sellers' sources measure what (per-seller provenance)
        base = self.base
        # sellers in chunks (consecutive in output order), so that the engine's joins and sort hold one
        # chunk of sellers × days, not all of them: the table is the chunks appended in order
        chunks = self._seller_chunks() if base is None else [None]
        self.progress("metrics", 0, len(chunks))
        order = ibis.memtable(
            pd.DataFrame({"metric": list(CATALOG), "_order": range(len(CATALOG))}),
            schema={"metric": "string", "_order": "int64"},
        )
        full = set(days) if full is None else set(full)
        history = history_metrics(self.policy)
        whole, rest = [d for d in days if d in full], [d for d in days if d not in full]
        inp, keys = self.inp, None
        if chunks[0] is not None:  # the query reads its sellers from a table refilled for each chunk
            keys = f"{store.table_prefix(self.run_id)}chunk"
            self._temp.append(keys)
            self._chunk_keys(keys, chunks[0])
            inp = replace(self.inp, only=self.wh.con.table(keys))
        # the first call materialises each family's facts (temporary tables), the second reuses them
        parts = [as_of_expr(inp, whole)] if whole else []
        parts += [as_of_expr(inp, rest, metrics=history)] if rest else []
        expr = ibis.union(*parts) if len(parts) > 1 else parts[0]
        self._lap("facts")
        if base is not None:
            old_days = sorted({metrics_as_of(self.policy, d) for d in dates} - set(days))
            old = self.wh.con.table(base.table("metrics"))
            old = old.filter(old.as_of.isin(old_days))
            # the full days' rows as they are, the history metrics of the others
            whole_old = old.filter(old.as_of.isin(sorted(full)))
            old = whole_old.union(
                only_specs(old.filter(~old.as_of.isin(sorted(full))), sorted(history, key=str))
            )
            if self.ids is not None:
                old = old.filter(old.seller_id.isin(self.ids))
            expr = old.select(expr.columns).union(expr)
        # stored in the order of the output file (seller, metric in catalog order, window, channel,
        # day): sorted here, copied as it is later
        j = expr.left_join(order, "metric")
        expr = j.order_by(
            [
                j.seller_id,
                j.marketplace_id,
                j._order,
                j.window_days.asc(nulls_first=False),
                j.channel,
                j.as_of,
            ]
        ).select(*OUTPUT_COLUMNS)
        self._create("metrics", expr)
        self.progress("metrics", 1, len(chunks))
        # the same query for the other chunks, compiled once (building and compiling it is ~1.5 s)
        sql = self.wh.con.compile(expr) if len(chunks) > 1 else None
        for i, chunk in enumerate(chunks[1:], start=2):
            self._chunk_keys(keys, chunk)
            if self.wh.engine == "duckdb":
                self.wh.con.raw_sql(f'INSERT INTO "{self._name("metrics")}" {sql}')
            else:
                self.wh.con.insert(self._name("metrics"), expr)
            self.progress("metrics", i, len(chunks))

    def _chunk_keys(self, name: str, keys: pd.DataFrame) -> None:
        """The table ``name`` holding the ``(seller_id, marketplace_id)`` of one chunk."""
        self.wh.con.create_table(
            name, ibis.memtable(keys, schema=_KEY_SCHEMA), temp=self._temporary(True), overwrite=True
        )

    def _seller_chunks(self) -> list:
        """The run's sellers as frames of at most :data:`METRICS_CHUNK` ``(seller_id, marketplace_id)``,
        consecutive in the engine's order of those columns (``[None]``: all sellers in one query)."""
        u = universe(self.inp)
        n = int(self.wh.execute(u.count()))
        size = METRICS_CHUNK
        if self.wh.engine == "duckdb":
            size = min(size, max(self.wh.memory_cap() // METRICS_BYTES_PER_SELLER, 100))
        if n <= size:
            return [None]
        keys = self.wh.execute(u.select(*KEYS).order_by(KEYS))
        keys = pd.DataFrame({c: keys[c].astype(object) for c in KEYS})
        return [keys.iloc[lo : lo + size].reset_index(drop=True) for lo in range(0, n, size)]

    # -- 2. criteria -----------------------------------------------------------------------------------
    @property
    def _wide_name(self) -> str:
        return f"{store.table_prefix(self.run_id)}wide"

    def _wide(self) -> None:
        """The metrics the criteria test, one row per (day, seller, spec) (:func:`pivot`), ordered by day
        so one day reads few blocks; a scratch table (:meth:`_scratch`). The name is the run's own:
        created once, never overwritten (an overwrite copies a temporary table)."""
        m = self.wh.con.table(self._name("metrics"))
        wide = pivot(m, self.specs).order_by(["as_of", *(ORDER if self.specs else KEYS)])
        self.wh.con.create_table(self._wide_name, wide, temp=self._temporary(self._scratch()))

    def _fetch(self, day: date) -> tuple[pd.DataFrame, tuple]:
        """Sellers and wide arrays of ``day`` (sorted by seller, marketplace). The rows are read in the
        wide table's stored order (:meth:`_wide`), not sorted again (half a second a day at 500,000
        sellers); :func:`in_order` sorts them only if an engine returned them otherwise."""
        w = self.wh.con.table(self._wide_name)
        rows = self.wh.con.to_pyarrow(w.filter(w.as_of == day))
        return wide_arrays(in_order(rows, ORDER if self.specs else KEYS), len(self.specs))

    def _prepared(self, sellers: pd.DataFrame, arrays: tuple, rows: slice | None = None):
        n, d, v, s, c = arrays
        if rows is not None:
            sellers, n, d, v, s, c = sellers.iloc[rows], n[rows], d[rows], v[rows], s[rows], c[rows]
        return prepare_wide(sellers, self.specs, n, d, v, s, c)

    def _criteria(self, sellers: pd.DataFrame, arrays: tuple, when: date) -> None:
        """The last evaluation's criterion results, every section, into the run's ``criteria`` table
        (sections in policy order, then sellers, then criteria: the order of ``evaluate_policy``)."""
        name = self._name("criteria")
        self._create("criteria", empty("criteria"))
        for section in SECTIONS:
            for lo in range(0, len(sellers), CHUNK):
                grid = section_grid(
                    self.policy, self._prepared(sellers, arrays, slice(lo, lo + CHUNK)), section
                )
                if grid.result.size == 0:
                    continue
                df = grid.frame()
                df.insert(2, "evaluation_date", when)
                self.wh.append(name, to_arrow(df, "criteria"))

    # -- 3. lifecycle ----------------------------------------------------------------------------------
    def _replay(self, dates: list[date], new_dates: list[date]):
        policy = self.policy
        k_benefits = _benefit_evaluations(policy)
        benefit_dates = set(dates[-k_benefits:]) if k_benefits else set()
        benefit_rows: list[pd.DataFrame] = []
        last = dates[-1] if dates else None
        done = [0]

        def decided(when: date, sellers: pd.DataFrame, arrays: tuple) -> Decisions:
            if when in benefit_dates:
                benefit_rows.append(self._benefit_passes(sellers, arrays, when))
            if when == last:
                self._criteria(sellers, arrays, when)
            return decisions_from_metrics(policy, self._prepared(sellers, arrays))

        def get_results(when: date) -> Decisions:
            done[0] += 1
            self.progress("evaluations", done[0], len(new_dates))
            sellers, arrays = self._fetch(metrics_as_of(policy, when))
            return decided(when, sellers, arrays)

        # evaluations before a resumed run's end: only what the benefits and the criteria need
        for when in dates:
            if when not in new_dates and (when in benefit_dates or when == last):
                decided(when, *self._fetch(metrics_as_of(policy, when)))
        if last is None:
            self._create("criteria", empty("criteria"))
        initial, start = None, None
        self._create("statuses", empty("statuses"))
        if self.base is not None:  # resume from the stored run's final states, the day after its end
            initial = self._base_frame("final")
            start = self.base.until + timedelta(days=1)
            self.wh.con.insert(self._name("statuses"), self._base_table("statuses"))
        result = replay(
            policy,
            new_dates,
            get_results,
            self._daily,
            initial=initial,
            until=self.until,
            keep_sections=None,
            reasons="transitions",
            start=start,
            statuses_to=self._write_statuses,  # each evaluation's rows written as it is decided
        )
        return result, benefit_rows

    def _write_statuses(self, rows: pd.DataFrame) -> None:
        """Append one evaluation's status rows to the run's ``statuses`` table."""
        self.wh.append(self._name("statuses"), to_arrow(rows, "statuses"))
        heap.release()  # the evaluation's freed arrays: back to the system before the next

    def _daily(self, sellers: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
        """Daily admission check (``get_daily_admission`` of the replay) for removed/recovering sellers.

        A seller's daily values do not depend on its state, so each seller's check is computed once
        for a stretch of :data:`LOOK_AHEAD` days from the first day it is asked for, and later periods
        read it from memory: an engine query only for sellers not yet covered (newly removed). Only the
        days met are kept (a missing day counts as not met)."""
        want = pd.DataFrame({c: sellers[c].astype(str) for c in KEYS}).drop_duplicates()
        cov = self._covered
        hi = np.array(
            [cov.get(k, (None, date.min))[1] for k in zip(want.seller_id, want.marketplace_id, strict=True)]
        )
        lo = np.array(
            [cov.get(k, (date.max, None))[0] for k in zip(want.seller_id, want.marketplace_id, strict=True)]
        )
        missing = want[(hi < last) | (lo > first)]
        if len(missing):
            end = min(max(last, first + timedelta(days=LOOK_AHEAD - 1)), self.until)
            met = self._daily_query(missing, first, end)
            keys = set(zip(missing.seller_id, missing.marketplace_id, strict=True))
            for k in keys:
                cov[k] = (first, end)
            old = self._met
            if len(old):
                old = old[[k not in keys for k in zip(old.seller_id, old.marketplace_id, strict=True)]]
            self._met = pd.concat([old, met], ignore_index=True) if len(old) else met
        m = self._met
        if not len(m):
            return m
        m = m[(m["day"] >= first)]  # earlier days are never asked again
        self._met = m
        mine = m.merge(want, on=KEYS)
        return mine[mine["day"] <= last].reset_index(drop=True)

    def _daily_query(self, sellers: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
        """The met days of ``sellers`` in ``[first, last]``: their admission and removal metrics as a
        daily series from the run's facts, pivoted wide in the engine and judged a week of days at a
        time (:func:`cxops.lifecycle.replay.daily_admission`)."""
        policy = self.policy
        lo, hi = metrics_as_of(policy, first), metrics_as_of(policy, last)
        keys = ibis.memtable(sellers.reset_index(drop=True))
        metrics = sorted({c.metric for s in ("admission", "removal") for _, c in policy.criteria(s)})
        specs = [spec for spec in self.specs if spec[0] in metrics]
        series = series_expr(replace(self.inp, only=keys), lo, hi, None, metrics)
        name = f"{store.table_prefix(self.run_id)}daily"
        self.wh.con.drop_table(name, force=True)
        self.wh.con.create_table(name, pivot(series, specs), temp=self._temporary(True))
        out = []
        try:
            t = self.wh.con.table(name)
            for chunk_lo in pd.date_range(lo, hi, freq="7D").date:
                chunk_hi = min(hi, chunk_lo + timedelta(days=6))
                part = t.filter((t.as_of >= chunk_lo) & (t.as_of <= chunk_hi))
                order = ["as_of", *(ORDER if specs else KEYS)]
                fetched = in_order(self.wh.con.to_pyarrow(part.order_by(order)), order)  # a key once
                rows, arrays = wide_arrays(fetched, len(specs))
                if len(rows):
                    met = daily_admission(policy, prepare_wide(rows, specs, *arrays))
                    out.append(met[met["admission_met"].astype(bool)])
        finally:
            self.wh.con.drop_table(name, force=True)
        if not out:
            return pd.DataFrame(columns=["seller_id", "marketplace_id", "day", "admission_met"])
        return pd.concat(out, ignore_index=True)

    def _store_lifecycle(self, result, dates: list[date]) -> pd.DataFrame:
        """Transitions and final states into the run (the statuses are written as the replay decides
        them); returns the last evaluation's statuses."""
        transitions = result.transitions
        if self.base is not None:
            old_t = self._base_frame("transitions")
            transitions = pd.concat([old_t, transitions], ignore_index=True) if len(old_t) else transitions
        self._create(
            "transitions", to_arrow(transitions, "transitions") if len(transitions) else empty("transitions")
        )
        final = result.state_table  # every field needed to resume (enforcement too)
        self._create("final", to_arrow(final, "final") if len(final) else empty("final"))
        self.final = final
        statuses = result.statuses  # the last new evaluation's rows
        if not dates:
            return statuses.iloc[0:0]
        if len(statuses) and statuses["evaluation_date"].iloc[0] == dates[-1]:
            return statuses.reset_index(drop=True)
        # no new evaluation (a resumed run): the last one is the stored run's
        t = self.wh.con.table(self._name("statuses"))
        return date_columns(self.wh.execute(t.filter(t.evaluation_date == dates[-1])))

    def _base_table(self, part: str):
        t = self.wh.con.table(self.base.table(part))
        if self.ids is not None:
            t = t.filter(t.seller_id.isin(self.ids))
        return t

    def _base_frame(self, part: str) -> pd.DataFrame:
        return date_columns(self.wh.execute(self._base_table(part)))

    # -- 4. projection, benefits, defects --------------------------------------------------------------
    def _projection(self, current: date) -> None:
        """Status each seller would get at the next evaluation from the metrics as of ``current``
        (field case C28): one evaluation replayed from the final states, nothing else."""
        sellers, arrays = self._fetch(current)
        if sellers.empty:
            self._create("projected", empty("projected"))
            return
        dec = decisions_from_metrics(self.policy, self._prepared(sellers, arrays))
        when = next_evaluation_date(
            self.policy, current + timedelta(days=self.policy.cadence.metrics_lag_days)
        )
        res = replay(
            self.policy,
            [when],
            lambda d: dec,
            lambda s, a, b: pd.DataFrame(columns=["seller_id", "marketplace_id", "day", "admission_met"]),
            initial=self.final,
            keep_sections=None,
            reasons="latest",
        )
        now = self.final[KEYS + ["state"]]
        proj = sellers[KEYS].merge(res.statuses, on=KEYS, how="left")
        proj = proj.merge(now.rename(columns={"state": "current"}), on=KEYS, how="left")
        out = pd.DataFrame(
            {
                "seller_id": proj["seller_id"],
                "marketplace_id": proj["marketplace_id"],
                "evaluation_date": when,
                "state": proj["current"].fillna(LifecycleState.NOT_ELIGIBLE.value),
                "projected_state": proj["state"],
                "projected_since": proj["since"],
                "reason": proj["reason"],
                "reason_key": proj["reason_key"],
                "reason_params": proj["reason_params"],
            }
        )[PROJECTION_COLUMNS]
        out = out.sort_values(KEYS, kind="stable").reset_index(drop=True)
        self._create("projected", to_arrow(out, "projected"))

    def _benefit_passes(self, sellers: pd.DataFrame, arrays: tuple, when: date) -> pd.DataFrame:
        """The passed benefit criteria at one evaluation (all :func:`compute_benefits` needs: an incentive
        needs a pass at each of its last evaluations, a recommendation one at the last)."""
        grid = section_grid(self.policy, self._prepared(sellers, arrays), "benefits")
        if grid.result.size == 0:
            return pd.DataFrame()
        cells = np.flatnonzero(grid.result.ravel() == "pass")
        rows = grid.frame(cells)[[*KEYS, "section", "criterion_id", "rule_id", "result", "value"]]
        return rows.assign(evaluation_date=when)

    def _benefits(self, statuses: pd.DataFrame, rows: list[pd.DataFrame]) -> None:
        history = (
            pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else None
        )
        sellers = None
        if self.wh.has_table("sellers"):
            s = self.inp.tables["sellers"]
            sellers = self.wh.execute(s.select("seller_id", "marketplace_id", "primary_category"))
        out = compute_benefits(
            self.policy, statuses, history if history is not None else pd.DataFrame(), sellers
        )
        self._create(
            "benefits", to_arrow(out[BENEFIT_COLUMNS], "benefits") if len(out) else empty("benefits")
        )

    def _defects(self, day: date) -> None:
        """The defective records behind every seller's metrics on ``day`` (what ``explain`` lists)."""
        parts = [defects_expr(inp, day) for inp in self.inp.split(self.plain)]  # as the facts: in parts
        if parts[0] is None:
            parts = [ibis.memtable(pd.DataFrame(columns=DEFECT_COLUMNS), schema=DEFECT_SCHEMA)]
        self._write_parts(self._name("defects"), parts, temp=not self.persist, overwrite=True)


def fact_parts(wh, inp: Inputs, cap_bytes: int | None = None) -> tuple[str, ...]:
    """Seller ids splitting the sellers into ranges of about equal orders, each small enough for its
    facts to be built within DuckDB's memory cap (:data:`FACT_BYTES_PER_ORDER` per order); ``()``
    when all the orders fit in one query (and on engines other than DuckDB, which manage their own).

    Parameters
    ----------
    wh : Warehouse
    inp : Inputs
        The run's inputs (their ``orders`` table).
    cap_bytes : int, optional
        The memory cap in bytes (default: the connection's ``memory_limit``).

    Returns
    -------
    tuple of str
        Sorted seller ids; part *k* holds the sellers in ``[ids[k-1], ids[k])`` (open at both ends).
    """
    orders = inp.tables.get("orders")
    if wh.engine != "duckdb" or orders is None:
        return ()
    per_part = max((cap_bytes or wh.memory_cap()) // FACT_BYTES_PER_ORDER, 1)
    n = int(wh.execute(orders.count()))
    k = -(-n // per_part)
    if k <= 1:
        return ()
    counts = wh.execute(orders.group_by("seller_id").aggregate(n=orders.count()).order_by("seller_id"))
    cum = counts["n"].to_numpy().cumsum()
    at = np.searchsorted(cum, [n * j / k for j in range(1, k)], side="right")
    ids = counts["seller_id"].astype(object).to_numpy()
    return tuple(sorted({str(ids[i]) for i in at if 0 < i < len(ids)}))


_KEY_SCHEMA = dict.fromkeys(KEYS, "string")


def _used_marketplaces(scan) -> set[str]:
    """Marketplaces with rows in the tables that have a marketplace (from a table scan)."""
    used: set[str] = set()
    for name in ("orders", "sellers", "violations", "buyer_messages"):
        df = scan.frames.get(name)
        if df is not None and "marketplace_id" in df.columns:
            used |= {m for m in df["marketplace_id"] if isinstance(m, str)}
    return used


def _benefit_evaluations(policy: Policy) -> int:
    """How many of the last evaluations the benefits look at."""
    b = policy.benefits
    k = max((i.evaluations for i in b.incentives), default=0)
    return max(k, 1 if b.recommendations else 0)


@dataclass
class _Shared(Inputs):
    """Inputs whose shared expressions (each family's seller-day facts, the universe, the messages) are
    materialised once, by ``materialize(name, expr)``, and can be read for some ``(seller_id,
    marketplace_id)`` keys only (``only``: a daily recovery check reads the run's facts of the sellers
    out of the program)."""

    materialize: Callable | None = None
    only: object | None = None
    parts: tuple[str, ...] = ()

    def split(self, inp: Inputs) -> list[Inputs]:
        """``inp`` as one plain copy per range of sellers between :attr:`parts` (``[inp]``: none)."""
        if not self.parts:
            return [inp]
        bounds = [None, *self.parts, None]
        return [inp.for_sellers(lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False)]

    @classmethod
    def of(cls, inp: Inputs, materialize) -> _Shared:
        fields = {f.name: getattr(inp, f.name) for f in dataclasses.fields(Inputs) if f.name != "_cache"}
        return cls(**{**fields, "reuse": True, "window": None}, materialize=materialize)

    def cached(self, name: str, build):
        """``build``'s table, materialised once by ``materialize(name, parts)``: built over the sellers
        of each range between :attr:`parts` (seller ids; see :func:`fact_parts`), the ranges in order."""
        key = (name, self.options.model_dump_json(), self.window)
        if key not in self._cache:
            self._cache[key] = self.materialize(name, [build(i) for i in self.split(self)])
        table = self._cache[key]
        if self.only is not None and set(KEYS) <= set(table.columns):
            table = table.semi_join(self.only, KEYS)
        return table


def _only_sellers(inp: Inputs, seller_ids) -> Inputs:
    """``inp`` reading only the rows of ``seller_ids`` (a semi-join on every table with a seller)."""
    ids = ibis.memtable(pd.DataFrame({"seller_id": pd.Series(sorted(set(seller_ids)), dtype=object)}))
    tables = {
        name: (t.semi_join(ids, "seller_id") if "seller_id" in t.columns else t)
        for name, t in inp.tables.items()
    }
    return replace(inp, tables=tables, _cache={})


def explain_seller(
    wh,
    policy: Policy,
    seller_id: str,
    as_of: date,
    marketplace: str | None = None,
    *,
    allow_stale: bool = False,
    progress: Progress | None = None,
) -> tuple[Evaluation, pd.DataFrame]:
    """A seller's standing as of ``as_of``: the evaluation to read and the seller's status rows.

    Reads a stored run that answers (same policy, data, as-of day, the seller evaluated); resumes from
    one that stopped earlier; else computes the seller alone without storing anything (works on a
    read-only connection).

    Returns
    -------
    (Evaluation, DataFrame)
        The evaluation, and the seller's status rows at the last evaluation (one per marketplace, or the
        one of ``marketplace``).

    Raises
    ------
    NotFoundError
        If the seller has no evaluation up to ``as_of``.
    StaleDataError
        As :func:`run_evaluation`.
    """
    ev = run_evaluation(wh, policy, as_of, [seller_id], progress, allow_stale=allow_stale, persist=False)
    mine = ev.latest_statuses([seller_id])
    if marketplace:
        mine = mine[mine["marketplace_id"] == marketplace]
    if mine.empty:
        raise NotFoundError(
            f"seller {seller_id!r} has no evaluation up to {as_of} (unknown id, or no data before then)"
        )
    return ev, mine.reset_index(drop=True)
