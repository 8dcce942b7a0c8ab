"""Outputs of an evaluation: files streamed by the engine, the HTML report, and standard output.

``write_evaluation`` writes, all-or-nothing (:class:`cxops.report.files.AtomicFolder`), each result of a
run as Parquet and CSV — copied by the engine from the run's tables, never held in Python — plus the
self-contained ``report.html`` and ``manifest.json``. The report gets only what it shows: counts from
the engine, and the rows of the sellers it lists (:func:`report_sellers`). An
:class:`EvaluationFolder` opened before the run lets the job have the metrics files — most of the
bytes — written while its lifecycle replay runs.

CSV conventions are those of :mod:`cxops.report.files` (ISO dates, empty nulls, ``True``/``False``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import date
from pathlib import Path
from typing import IO

import ibis
import pandas as pd

from cxops.policy.explain import MARKETPLACE_CRITERION
from cxops.report.charted import CHART_METRICS, VOLUME_METRIC
from cxops.report.files import AtomicFolder, dump, sha256_file, to_csv
from cxops.report.html import REPORT_SELLERS, render_report
from cxops.runs.result import Evaluation

Progress = Callable[[str, int, int], None]

#: Output name -> run part, in the order they are written.
FILES: dict[str, str] = {
    "scorecards": "criteria",
    "statuses": "statuses",
    "transitions": "transitions",
    "metrics": "metrics",
    "benefits": "benefits",
    "projected": "projected",
}
_KEYS = ["seller_id", "marketplace_id"]


def output_expr(ev: Evaluation, name: str):
    """The Ibis expression written as output ``name`` (see :data:`FILES`), in its output order."""
    t = ev.table(FILES[name])
    return metrics_output(t, ev.run.until) if name == "metrics" else t


def metrics_output(metrics, until: date):
    """The rows of a run's ``metrics`` table (Ibis table) written as the ``metrics`` output: every
    metric as of the run's last day ``until``; the earlier evaluation days without their "not
    measured" rows. The table is stored in the file's order (seller, metric in catalog order, window,
    channel, day)."""
    return metrics.filter((metrics.as_of == until) | (metrics.status != "not_measured"))


#: Columns that hold counts (stored as doubles beside fractional values): whole numbers written as such.
COUNT_COLUMNS = ("numerator", "denominator", "min_denominator", "gap")


def _csv_expr(expr):
    """Booleans as ``True``/``False`` (as pandas writes them); counts without a decimal part (``9``, not
    ``9.0``): the :data:`COUNT_COLUMNS`, and ``value`` of count and day metrics (catalog kinds
    ``count``/``days``) — a rate stays a rate (``1.0``), as ``cxops metrics`` writes it; everything else
    as is."""
    from cxops.metrics.catalog import CATALOG

    whole_metrics = [m.name for m in CATALOG.values() if m.kind in ("count", "days")]
    schema = expr.schema()
    cols = {}
    for c, typ in schema.items():
        x = expr[c]
        if typ.is_boolean():
            x = ibis.ifelse(x.isnull(), ibis.null("string"), x.ifelse("True", "False"))
        elif typ.is_floating() and (c in COUNT_COLUMNS or (c == "value" and "metric" in schema)):
            whole = ~x.isnan() & ~x.isinf() & (x.abs() < 1e15) & (x == x.floor())
            if c == "value":
                whole = whole & expr["metric"].isin(whole_metrics)
            x = ibis.cases((x.isnull(), ibis.null("string")), (whole, x.cast("int64").cast("string")),
                           else_=x.cast("string"))  # fmt: skip
        cols[c] = x
    return expr.select(**cols)


def write_evaluation(
    ev: Evaluation, out: str | Path, lang: str = "en", progress: Progress | None = None
) -> Path:
    """Write every result of ``ev`` (Parquet + CSV), ``report.html`` and ``manifest.json`` into ``out``.

    The folder is replaced only when complete (see :class:`cxops.report.files.AtomicFolder`). To have
    the metrics files written while the run is computed, open an :class:`EvaluationFolder` before it.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    cxops.errors.OutputError
        When ``out`` is a file or cannot be written.
    """
    with EvaluationFolder(out, lang) as folder:
        return folder.write(ev, progress)


class EvaluationFolder:
    """The output folder of one evaluation, opened before its run is computed; all-or-nothing
    (:class:`cxops.report.files.AtomicFolder`: an exception in the ``with`` block discards it).

    The metrics files are most of an evaluation's output (13.7 GB of CSV at 500,000 sellers) and depend
    only on the run's ``metrics`` table, complete before the lifecycle replay — which runs in Python on
    one core. The job (:func:`cxops.service.evaluation.run_evaluation` with ``outputs=`` this folder)
    calls :meth:`metrics_ready` then, and DuckDB writes ``metrics.parquet`` and ``metrics.csv`` (and
    their checksums) on a second connection, in a thread, while the replay runs; the job waits for them
    (:meth:`settle`) before it ends, or stops them if it fails. :meth:`write` writes the other files —
    and the metrics files too, unless they were written for this very run (a reused run, another
    engine, or a failed early write: written after the run, as :func:`write_evaluation` does).

    Parameters
    ----------
    out : str or Path
        The folder to write (replaced when complete).
    lang : str
        Language of ``report.html``.

    Raises
    ------
    cxops.errors.OutputError
        When ``out`` is a file or cannot be written.

    Examples
    --------
    >>> with EvaluationFolder(out) as folder:  # doctest: +SKIP
    ...     ev = run_evaluation(wh, policy, as_of, outputs=folder)
    ...     folder.write(ev)
    """

    def __init__(self, out: str | Path, lang: str = "en"):
        self.folder = AtomicFolder(out)
        self.path = self.folder.path
        self.lang = lang
        self.room: dict[str, float] = {}  # the disk space checked before the early write (GB)
        self._early: _MetricsFiles | None = None

    def __enter__(self) -> EvaluationFolder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.settle(cancel=exc_type is not None)
        self.folder.__exit__(exc_type, exc, tb)

    def metrics_ready(self, wh, run_id: str, table: str, until: date) -> None:
        """Start writing the metrics files of run ``run_id`` from its complete, committed ``metrics``
        table ``table`` (as :func:`metrics_output` with ``until``), in a thread on a second DuckDB
        connection — when the disk has room for them beside what the run still needs
        (:func:`room_for_metrics_files`). Otherwise, and on other engines, nothing: :meth:`write` writes
        them after the run."""
        if wh.engine != "duckdb":
            return
        self.settle(cancel=True)
        self.room = room_for_metrics_files(wh, table, self.path)
        if self.room["free_gb"] < self.room["need_gb"]:
            return
        expr = metrics_output(wh.con.table(table), until)
        self._early = _MetricsFiles(
            run_id, wh, wh.con.compile(expr), wh.con.compile(_csv_expr(expr)), self.path
        )

    def settle(self, cancel: bool = False) -> dict[str, float]:
        """Wait for the metrics files being written (``cancel``: stop them first, and remove them).

        Returns
        -------
        dict
            Seconds the files took (``metrics_files``), when they were written, and the disk space
            checked before (``metrics_files_free_gb``, ``metrics_files_need_gb``). A failure to write
            them is not raised here: :meth:`write` writes them again and reports it.
        """
        room = {f"metrics_files_{k}": v for k, v in self.room.items()}
        early = self._early
        if early is None:
            return room
        early.wait(cancel)
        if early.rows is None:
            self._early = None
            return room
        return {**room, "metrics_files": early.seconds}

    def write(self, ev: Evaluation, progress: Progress | None = None) -> Path:
        """Write every output of ``ev`` not written yet, the report and the manifest, and put the folder
        in place; returns it (see :func:`write_evaluation`)."""
        progress = progress or (lambda stage, done, total: None)
        self.settle()
        early = self._early
        if early is not None and (early.run_id != ev.run.run_id or ev.temporary):
            early = self._early = None  # another run's files: written again below, over them
        steps = 2 * len(FILES) + 1
        done = 0
        rows: dict[str, int] = {}
        digests = early.digests if early is not None else {}
        path = self.path
        for name in FILES:
            if name == "metrics" and early is not None:
                rows["metrics.parquet"] = rows["metrics.csv"] = early.rows
                done += 2
                progress("outputs", done, steps)
                continue
            expr = output_expr(ev, name)
            n = int(ev.wh.execute(expr.count()))
            rows[f"{name}.parquet"] = rows[f"{name}.csv"] = n
            if ev.wh.engine == "duckdb":  # the engine streams the rows to the files
                ev.wh.con.to_parquet(expr, path / f"{name}.parquet")
                done += 1
                progress("outputs", done, steps)
                split = _seller_bounds(ev, name, n) if name in SELLER_ORDERED and not ev.temporary else []
                _ordered_csv(ev.wh, _csv_expr(expr), path / f"{name}.csv", split)
            else:  # engines that write folders of part files: batches of rows through Arrow
                _write_batches(ev, expr, path / f"{name}.parquet", path / f"{name}.csv")
                done += 1
            done += 1
            progress("outputs", done, steps)
        write_report(ev, path / "report.html", self.lang)
        progress("outputs", steps, steps)
        return self.folder.commit(
            {
                "run_id": ev.run.run_id,
                "policy": f"{ev.policy.name} {ev.policy.version}",
                "policy_hash": ev.run.policy_hash,
                "as_of": ev.as_of.isoformat(),
                "data_fingerprint": ev.run.fingerprint,
            },
            rows,
            digests,
        )


#: Bytes of disk the metrics files take per row of the run's ``metrics`` table: 82–84 of CSV and 1.6–2.6
#: of Parquet at 50,000 sellers (bench/RESULTS.md), with room.
METRICS_FILE_BYTES_PER_ROW = 100


def room_for_metrics_files(wh, table: str, folder: Path) -> dict[str, float]:
    """The disk space (GB) free where the metrics files of run table ``table`` are written early
    (``free_gb``) and what that needs (``need_gb``): the files (:data:`METRICS_FILE_BYTES_PER_ROW` ×
    the table's rows) and — when DuckDB spills to the same file system — as much again as its spill
    holds now plus its memory cap. The run's later stages still spill (the lifecycle replay lowers the
    cap: what was in memory goes to disk; the defective records join the record families again), and
    a disk that fills then fails the whole run, while files written after the run only need their own
    room once the run's scratch tables are dropped (at 100 M orders the spill peaked near 11 GB in the
    metrics stage; the facts as temporary tables had held 15 GB)."""
    rows = int(wh.execute(wh.con.table(table).count()))
    need = rows * METRICS_FILE_BYTES_PER_ROW
    spill_dir, spilled = wh.spill()
    probe = spill_dir if spill_dir.exists() else spill_dir.parent
    if probe.exists() and os.stat(probe).st_dev == os.stat(folder).st_dev:
        need += spilled + wh.memory_cap()
    return {"free_gb": round(shutil.disk_usage(folder).free / 1e9, 2), "need_gb": round(need / 1e9, 2)}


class _MetricsFiles:
    """``metrics.parquet`` and ``metrics.csv`` written from compiled queries on a thread with its own
    DuckDB connection (:meth:`cxops.warehouse.Warehouse.cursor`), then their SHA-256 for the manifest
    and their flush to disk. The CSV on one DuckDB thread — a global setting, restored after — so that
    its rows stay in order (:func:`_ordered_csv`) and the replay keeps the other core."""

    def __init__(self, run_id: str, wh, parquet_sql: str, csv_sql: str, folder: Path):
        self.run_id = run_id
        self.rows: int | None = None
        self.digests: dict[str, str] = {}  # file name -> SHA-256, for the manifest
        self.seconds = 0.0
        self._files = (folder / "metrics.parquet", folder / "metrics.csv")
        self._stop = False
        self._threads: int | None = None  # DuckDB's setting while the CSV is written on one thread
        self._cursor = wh.cursor()
        pool = ThreadPoolExecutor(1, thread_name_prefix="cxops-metrics-files")
        self._future: Future | None = pool.submit(self._copy, parquet_sql, csv_sql)
        pool.shutdown(wait=False)

    def _copy(self, parquet_sql: str, csv_sql: str) -> int:
        t0 = time.perf_counter()
        cur = self._cursor
        parquet, csv = (str(f) for f in self._files)
        (n,) = cur.execute(f"COPY ({parquet_sql}) TO {parquet!r} (FORMAT parquet)").fetchone()
        if self._stop:
            raise InterruptedError
        (threads,) = cur.execute("SELECT current_setting('threads')").fetchone()
        self._threads = int(threads)  # restored by wait() if an interrupt stops the restore below
        cur.execute("SET threads = 1")
        try:
            (m,) = cur.execute(f"COPY ({csv_sql}) TO {csv!r} (FORMAT csv, HEADER 1)").fetchone()
        finally:
            cur.execute(f"SET threads = {self._threads}")
            self._threads = None
        if m != n:  # the same query: never expected
            raise RuntimeError(f"metrics.parquet has {n} rows, metrics.csv {m}")
        for f in self._files:  # the manifest's checksums and the flush to disk, here too
            self.digests[f.name] = sha256_file(f)
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        self.seconds = round(time.perf_counter() - t0, 3)
        return int(n)

    def wait(self, cancel: bool) -> None:
        """Wait for the files (``cancel``: interrupt the engine first); keep their rows, or remove
        them when they failed or were stopped. Interrupted itself (Ctrl-C), it leaves the thread to
        the next call."""
        future = self._future
        if future is None:
            return
        self._stop = self._stop or cancel
        while cancel and not future.done():
            self._cursor.interrupt()  # stops the running COPY; the flag stops the next one
            futures_wait([future], timeout=0.1)
        try:
            rows = future.result()
        except Exception:  # noqa: BLE001 - written again, and any error reported, by write()
            rows = None
        self._future = None
        self.rows = None if cancel else rows
        if self._threads is not None:
            self._cursor.execute(f"SET threads = {self._threads}")
        self._cursor.close()
        if self.rows is None:
            for f in self._files:
                f.unlink(missing_ok=True)


#: Outputs whose run table is stored sorted by seller (:meth:`cxops.service.evaluation._Job._metrics`):
#: their CSV is written in ranges of sellers side by side, each range in order, and the parts joined.
SELLER_ORDERED = frozenset({"metrics"})


def _seller_bounds(ev: Evaluation, name: str, rows: int, parts: int | None = None) -> list[str]:
    """Seller ids splitting output ``name`` of ``rows`` rows into ``parts`` ranges of about equal rows
    (default: one per DuckDB thread); ``[]`` for one range. Read from the output's order (its run
    table's stored order): the seller of every ``rows / parts``-th row."""
    con = ev.wh.con
    if parts is None:
        parts = _threads(con)
    if parts < 2 or rows < 2 * parts:
        return []
    sql = con.compile(output_expr(ev, name).select("seller_id"))
    bounds = []
    for i in range(1, parts):
        offset = rows * i // parts
        (sid,) = con.raw_sql(f"SELECT seller_id FROM ({sql}) LIMIT 1 OFFSET {offset}").fetchone()
        if sid is not None and (not bounds or sid > bounds[-1]):
            bounds.append(sid)
    return bounds


def _threads(con) -> int:
    """DuckDB's ``threads`` setting (global to the database)."""
    (threads,) = con.raw_sql("SELECT current_setting('threads')").fetchone()
    return int(threads)


def _ordered_csv(wh, expr, path: Path, split: list[str] | None = None) -> None:
    """``COPY`` ``expr`` to a CSV file, its rows in order: with several threads, DuckDB 1.5 writes the
    rows of an expression with computed text columns (:func:`_csv_expr`) in blocks out of order — the
    file held the right rows in a shuffled order. So each ``COPY`` runs on one thread; with ``split``
    (seller ids, ascending; ``expr`` in seller order), the ranges of sellers they bound are written at
    the same time, one thread each, to part files joined in order (the metrics CSV of 500 k sellers,
    13.8 GB, took 176 s on one thread)."""
    con = wh.con
    threads = _threads(con)
    con.raw_sql("SET threads = 1")
    try:
        if not split:
            con.to_csv(expr, path)
            return
        edges = [None, *split, None]
        exprs = []
        for lo, hi in zip(edges, edges[1:], strict=False):
            e = expr
            if lo is not None:
                e = e.filter(e.seller_id >= lo)
            if hi is not None:
                e = e.filter(e.seller_id < hi)
            exprs.append(con.compile(e))
        files = [path, *(path.with_name(f"{path.name}.part{i}") for i in range(1, len(exprs)))]

        def copy(i: int) -> None:
            cursor = wh.cursor()  # its own connection to the database: runs beside the others
            try:
                cursor.execute(f"COPY ({exprs[i]}) TO {str(files[i])!r} (FORMAT 'csv', HEADER {int(i == 0)})")
            finally:
                cursor.close()

        with ThreadPoolExecutor(len(exprs)) as pool:
            list(pool.map(copy, range(len(exprs))))
        with path.open("ab") as out:
            for part in files[1:]:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
                part.unlink()
    finally:
        con.raw_sql(f"SET threads = {threads}")


def _write_batches(ev: Evaluation, expr, parquet: Path, csv: Path, batch: int = 500_000) -> None:
    """Write ``expr`` to one Parquet and one CSV file a batch of rows at a time."""
    import pyarrow.parquet as pq

    from cxops.report.files import prepare_for_parquet

    writer = None
    with csv.open("w", encoding="utf-8", newline="") as fh:
        first = True
        for rb in ev.wh.con.to_pyarrow_batches(expr, chunk_size=batch):
            frame = _typed_batch(rb)
            table = prepare_for_parquet(frame)
            if writer is None:
                writer = pq.ParquetWriter(parquet, table.schema)
            writer.write_table(table.cast(writer.schema))
            text = to_csv(frame)
            fh.write(text if first else text.split("\n", 1)[1])
            first = False
        if first:  # no rows: the header alone
            empty_frame = _typed_batch(expr.schema().to_pyarrow().empty_table())
            fh.write(to_csv(empty_frame))
            writer = pq.ParquetWriter(parquet, prepare_for_parquet(empty_frame).schema)
    if writer is not None:
        writer.close()


def _typed_batch(batch) -> pd.DataFrame:
    import pyarrow as pa

    from cxops.runs.result import typed_frame

    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    return typed_frame(table)


# -- the report ------------------------------------------------------------------------------------

_STATE_RANK = ["at_risk", "removed", "recovering", "enrolled", "candidate", "not_eligible"]


def report_sellers(ev: Evaluation, limit: int = REPORT_SELLERS) -> tuple[pd.DataFrame, int]:
    """The sellers the report lists, and how many sellers there are.

    First those whose status changed at or after the last evaluation, then by state (at risk, removed,
    recovering, enrolled, candidate, not eligible), members failing a criterion before other members,
    then by orders (90 days) — at most ``limit``. Ranked in the engine.

    Returns
    -------
    (DataFrame, int)
        ``seller_id, marketplace_id`` of the listed sellers (ranked), and the number of sellers.
    """
    last = ev.run.last_evaluation
    if last is None:
        return pd.DataFrame(columns=_KEYS), 0
    s = ev.table("statuses")
    s = s.filter(s.evaluation_date == last).select("seller_id", "marketplace_id", "state")
    total = int(ev.wh.execute(s.count()))
    prev = ev.run.evaluation_dates[-2] if len(ev.run.evaluation_dates) > 1 else None
    t = ev.table("transitions")
    changed = t.filter(t.date > prev) if prev is not None else t
    changed = changed.select("seller_id", "marketplace_id").distinct().mutate(changed=ibis.literal(1))
    c = ev.table("criteria")
    failing = c.filter((c.result == "fail") & c.section.isin(["admission", "removal"]))
    failing = failing.group_by(_KEYS).aggregate(failing=failing.count())
    m = ev.table("metrics")
    metric, window, channel = VOLUME_METRIC
    vol = m.filter(
        (m.as_of == ev.metrics_day)
        & (m.metric == metric)
        & (m.window_days == window)
        & (m.channel == channel)
    ).select("seller_id", "marketplace_id", volume=m.value)
    j = s.left_join(changed, _KEYS).select(s, "changed")
    j = j.left_join(failing, _KEYS).select(j, "failing")
    j = j.left_join(vol, _KEYS).select(j, "volume")
    rank = ibis.cases(*[(j.state == st, i) for i, st in enumerate(_STATE_RANK)], else_=len(_STATE_RANK))
    ranked = j.order_by(
        [
            j.changed.fill_null(0).desc(),
            rank,
            (j.failing.fill_null(0) > 0).desc(),
            j.volume.fill_null(0).desc(),
            j.seller_id,
            j.marketplace_id,
        ]
    ).limit(limit)
    return ev.wh.execute(ranked.select(*_KEYS)), total


def write_report(ev: Evaluation, path: Path, lang: str = "en", limit: int = REPORT_SELLERS) -> Path:
    """Render ``report.html`` for ``ev``: counts over every seller, details of :func:`report_sellers`.

    One set of numbers: the sellers table and the charts show metrics as of the last evaluation's
    metrics day, the day its criteria judged.
    """
    listed, total = report_sellers(ev, limit)
    keys = ibis.memtable(listed.astype(str)) if len(listed) else None

    def rows(part: str, where=None) -> pd.DataFrame:
        t = ev.table(part)
        if where is not None:
            t = t.filter(where(t))
        if keys is None:
            return ev.read(t.limit(0))
        return ev.read(t.semi_join(keys, _KEYS))

    last = ev.run.last_evaluation
    statuses = rows("statuses", lambda t: t.evaluation_date == last) if last else rows("statuses")
    specs = list(CHART_METRICS) + [VOLUME_METRIC]
    day = ev.metrics_day
    eval_days = sorted(set(_metric_days(ev)))

    def chart_rows(t):
        cond = ibis.or_(*[(t.metric == m) & (t.window_days == w) & (t.channel == c) for m, w, c in specs])
        return cond & t.as_of.isin(eval_days)

    series = rows("metrics", chart_rows)
    metrics = series[series["as_of"] == day] if len(series) else series
    summary, overview = _counts(ev)
    return render_report(
        path,
        policy_name=ev.policy.name,
        policy_version=ev.policy.version,
        as_of=ev.as_of,
        statuses=statuses,
        criteria=rows("criteria"),
        transitions=rows("transitions"),
        benefits=rows("benefits"),
        series=series,
        metrics=metrics,
        lang=lang,
        state_counts=summary,
        criteria_counts=overview,
        total_sellers=total,
        order=list(zip(listed["seller_id"], listed["marketplace_id"], strict=True)),
    )


def _metric_days(ev: Evaluation) -> list:
    from cxops.lifecycle.cadence import metrics_as_of

    return [metrics_as_of(ev.policy, d) for d in ev.run.evaluation_dates]


def _counts(ev: Evaluation) -> tuple[dict[str, int], pd.DataFrame]:
    """Sellers per state at the last evaluation, and criterion results per criterion (engine counts)."""
    last = ev.run.last_evaluation
    if last is None:
        return {}, pd.DataFrame()
    s = ev.table("statuses")
    s = s.filter(s.evaluation_date == last)
    states = ev.wh.execute(s.group_by("state").aggregate(n=s.count()))
    c = ev.table("criteria")
    first = c.group_by(["section", "criterion_id"]).aggregate(
        **{col: c[col].first() for col in c.columns if col not in ("section", "criterion_id")},
        _n=c.count(),
    )
    results = c.group_by(["section", "criterion_id", "result"]).aggregate(n=c.count())
    overview = ev.read(first)
    counts = ev.wh.execute(results)
    if len(counts):
        wide = counts.pivot_table(
            index=["section", "criterion_id"], columns="result", values="n", aggfunc="sum"
        )
        overview = overview.merge(
            wide.fillna(0).astype(int).reset_index(), on=["section", "criterion_id"], how="left"
        )
    # policy order within each section (the marketplace row first, as the criteria are listed)
    rank = {}
    for section in ("eligibility", "admission", "removal", "benefits"):
        rank[(section, MARKETPLACE_CRITERION)] = -1
        for i, (_, c) in enumerate(ev.policy.criteria(section)):
            rank.setdefault((section, c.id), i)
    overview["_rank"] = [
        rank.get(k, 10**6) for k in zip(overview["section"], overview["criterion_id"], strict=True)
    ]
    overview = overview.sort_values(["_rank", "criterion_id"], kind="stable").drop(columns=["_rank", "_n"])
    states_n = dict(zip(states["state"], states["n"].astype(int), strict=True))
    return states_n, overview.reset_index(drop=True)


def newest_transitions(ev: Evaluation, n: int = 30) -> pd.DataFrame:
    """The ``n`` newest status changes (by date, then seller), oldest of them first (as a table reads)."""
    t = ev.table("transitions")
    newest = ev.read(t.order_by([t.date.desc(), t.seller_id.desc(), t.marketplace_id.desc()]).limit(n))
    return newest.iloc[::-1].reset_index(drop=True)


# -- standard output -------------------------------------------------------------------------------


def emit_criteria(ev: Evaluation, fmt: str, stream: IO | None = None, batch: int = 200_000) -> int:
    """Every criterion of every seller at the last evaluation with the seller's state and since, to
    ``stream`` as ``jsonl`` or ``csv``, a batch of rows at a time (never the whole table in memory).

    Returns
    -------
    int
        Rows written.
    """
    stream = stream if stream is not None else sys.stdout
    latest = ev.latest_statuses()[[*_KEYS, "state", "since"]]
    t = ev.table("criteria")
    total = int(ev.wh.execute(t.count()))
    written = 0
    for lo in range(0, max(total, 1), batch):
        part = ev.read(t.limit(batch, offset=lo)) if total else ev.read(t)
        frame = part.merge(latest, on=_KEYS, how="left")
        if fmt == "csv":
            text = to_csv(frame)
            stream.write(text if written == 0 else text.split("\n", 1)[1])
        else:
            dump(frame, fmt, stream)
        written += len(frame)
        if not total:
            break
    if hasattr(stream, "flush"):
        stream.flush()
    return written
