"""Outputs of an evaluation: files streamed by the engine, the HTML report, and standard output.

``write_evaluation`` writes, all-or-nothing (:class:`cxops.report.files.AtomicFolder`), each result of a
run as Parquet and CSV — copied by the engine from the run's tables, never held in Python — plus the
self-contained ``report.html`` and ``manifest.json``. The report gets only what it shows: counts from
the engine, and the rows of the sellers it lists (:func:`report_sellers`).

CSV conventions are those of :mod:`cxops.report.files` (ISO dates, empty nulls, ``True``/``False``).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import ibis
import pandas as pd

from cxops.policy.explain import MARKETPLACE_CRITERION
from cxops.report.charted import CHART_METRICS, VOLUME_METRIC
from cxops.report.files import AtomicFolder, dump, to_csv
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
    if name != "metrics":
        return t
    # every metric as of the last day; earlier evaluation days without their "not measured" rows
    # (the table is stored in the file's order: seller, metric in catalog order, window, channel, day)
    return t.filter((t.as_of == ev.run.until) | (t.status != "not_measured"))


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

    The folder is replaced only when complete (see :class:`cxops.report.files.AtomicFolder`).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    cxops.errors.OutputError
        When ``out`` is a file or cannot be written.
    """
    progress = progress or (lambda stage, done, total: None)
    steps = 2 * len(FILES) + 1
    with AtomicFolder(out) as folder:
        done = 0
        rows: dict[str, int] = {}
        for name in FILES:
            expr = output_expr(ev, name)
            n = int(ev.wh.execute(expr.count()))
            rows[f"{name}.parquet"] = rows[f"{name}.csv"] = n
            if ev.wh.engine == "duckdb":  # the engine streams the rows to the files
                ev.wh.con.to_parquet(expr, folder.path / f"{name}.parquet")
                done += 1
                progress("outputs", done, steps)
                split = _seller_bounds(ev, name) if name in SELLER_ORDERED and not ev.temporary else []
                _ordered_csv(ev.wh.con, _csv_expr(expr), folder.path / f"{name}.csv", split)
            else:  # engines that write folders of part files: batches of rows through Arrow
                _write_batches(ev, expr, folder.path / f"{name}.parquet", folder.path / f"{name}.csv")
                done += 1
            done += 1
            progress("outputs", done, steps)
        write_report(ev, folder.path / "report.html", lang)
        progress("outputs", steps, steps)
        return folder.commit(
            {
                "run_id": ev.run.run_id,
                "policy": f"{ev.policy.name} {ev.policy.version}",
                "policy_hash": ev.run.policy_hash,
                "as_of": ev.as_of.isoformat(),
                "data_fingerprint": ev.run.fingerprint,
            },
            rows,
        )


#: Outputs whose run table is stored sorted by seller (:meth:`cxops.service.evaluation._Job._metrics`):
#: their CSV is written in ranges of sellers side by side, each range in order, and the parts joined.
SELLER_ORDERED = frozenset({"metrics"})


def _seller_bounds(ev: Evaluation, name: str, parts: int | None = None) -> list[str]:
    """Seller ids splitting output ``name`` into ``parts`` ranges of about equal rows (default: one per
    DuckDB thread); ``[]`` for one range. Read from the stored order: the seller of every
    ``rows / parts``-th row."""
    con = ev.wh.con
    if parts is None:
        (threads,) = con.raw_sql("SELECT current_setting('threads')").fetchone()
        parts = int(threads)
    t = ev.table(FILES[name])
    n = int(ev.wh.execute(t.count()))
    if parts < 2 or n < 2 * parts:
        return []
    sql = con.compile(t.select("seller_id"))
    bounds = []
    for i in range(1, parts):
        (sid,) = con.raw_sql(f"SELECT seller_id FROM ({sql}) LIMIT 1 OFFSET {n * i // parts}").fetchone()
        if sid is not None and (not bounds or sid > bounds[-1]):
            bounds.append(sid)
    return bounds


def _ordered_csv(con, expr, path: Path, split: list[str] | None = None) -> None:
    """``COPY`` ``expr`` to a CSV file, its rows in order: with several threads, DuckDB 1.5 writes the
    rows of an expression with computed text columns (:func:`_csv_expr`) in blocks out of order — the
    file held the right rows in a shuffled order. So each ``COPY`` runs on one thread; with ``split``
    (seller ids, ascending; ``expr`` in seller order), the ranges of sellers they bound are written at
    the same time, one thread each, to part files joined in order (the metrics CSV of 500 k sellers,
    13.8 GB, took 176 s on one thread)."""
    (threads,) = con.raw_sql("SELECT current_setting('threads')").fetchone()
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
            cursor = con.con.cursor()  # its own connection to the database: runs beside the others
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
        con.raw_sql(f"SET threads = {int(threads)}")


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
