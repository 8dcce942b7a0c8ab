"""The evaluation job in the engine (cxops.service.evaluation) against an independent computation.

The reference is the straightforward way to run a policy, with pandas frames throughout: every metric
as a long frame (``compute_at``), ``evaluate_policy`` per evaluation date, the lifecycle ``replay`` fed
with those result frames and a daily series (``compute_series``) for the recovery check, benefits from
the kept results, the projection with the per-seller ``project_all``. The job computes the same things
another way — metrics written by the engine, criteria as grids from a wide fetch, the recovery check
from shared facts with a look-ahead, the projection as a one-evaluation replay — and must agree on every
status, transition, criterion, benefit, projected status and metric.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _synth import generate_tables as generate
from _synth import write_tables

from cxops.ingest.canonical_files import import_canonical
from cxops.lifecycle.benefits import compute_benefits
from cxops.lifecycle.cadence import evaluation_dates, metrics_as_of
from cxops.lifecycle.project import project_all
from cxops.lifecycle.replay import daily_admission, replay
from cxops.metrics.compute import compute_at, compute_series, load_inputs
from cxops.metrics.defects import DEFECT_COLUMNS
from cxops.metrics.records import Inputs
from cxops.metrics.records import orders as order_records
from cxops.policy.evaluate import evaluate_policy
from cxops.policy.load import load_policy
from cxops.policy.model import SECTIONS
from cxops.report.charted import CHART_METRICS, VOLUME_METRIC
from cxops.service.evaluation import run_evaluation
from cxops.synth.stories import DEMO_STORIES
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo_wh(tmp_path_factory):
    d = tmp_path_factory.mktemp("job")
    # the demo's storylines with every kind of transition (removed, recovering, back to enrolled)
    wanted = ("star", "improver", "ip_complaint", "warnings", "at_risk", "removed_odr", "odr_recovered")
    stories = [replace(s, seller=i + 1) for i, s in enumerate(s for s in DEMO_STORIES if s.name in wanted)]
    tables = generate(seed=7, sellers=60, days=540, end=date(2026, 10, 31), stories=stories)
    write_tables(tables, d / "data", "parquet")
    wh = connect(str(d / "w.duckdb"))
    import_canonical(wh, d / "data", None)
    return wh


def reference(wh, policy, as_of):
    """The evaluation computed with pandas frames (see the module docstring)."""
    options = policy.metric_options
    inp = load_inputs(wh, options)
    inp.reuse = True
    start = pd.Timestamp(wh.execute(order_records(inp).day.min().name("d"))).date()
    dates = evaluation_dates(policy, start, as_of)
    days = sorted({metrics_as_of(policy, d) for d in dates} | {as_of})
    metrics = compute_at(wh, days, options, inputs=inp)
    by_day = dict(iter(metrics.groupby("as_of", sort=True)))
    # a run keeps every metric of the as-of day and of the last evaluation's metrics day, and of the
    # earlier days those the criteria test and the charts draw
    tested = {(c.metric, c.window_days, c.channel) for s in SECTIONS for _, c in policy.criteria(s)}
    kept = tested | set(CHART_METRICS) | {VOLUME_METRIC}
    triples = zip(metrics["metric"], metrics["window_days"], metrics["channel"], strict=True)
    in_kept = np.array([(m, None if pd.isna(w) else int(w), c) in kept for m, w, c in triples])
    metrics = metrics[metrics["as_of"].isin([as_of, metrics_as_of(policy, dates[-1])]) | in_kept]

    def get_results(when):
        m = by_day.get(metrics_as_of(policy, when))
        return pd.DataFrame() if m is None or m.empty else evaluate_policy(policy, m)

    def get_daily(sellers, first, last):
        wanted = sorted({c.metric for s in ("admission", "removal") for _, c in policy.criteria(s)})
        series = compute_series(
            wh,
            metrics_as_of(policy, first),
            metrics_as_of(policy, last),
            options,
            seller_ids=sorted(set(sellers["seller_id"])),
            metrics=wanted,
            inputs=inp,
        )
        return daily_admission(policy, series.merge(sellers, on=["seller_id", "marketplace_id"]))

    result = replay(policy, dates, get_results, get_daily, until=as_of, keep_sections=("benefits",))
    criteria = evaluate_policy(policy, by_day[metrics_as_of(policy, dates[-1])])
    criteria.insert(2, "evaluation_date", dates[-1])
    sellers = wh.execute(wh.table("sellers").select("seller_id", "marketplace_id", "primary_category"))
    benefits = compute_benefits(policy, result.statuses, result.results, sellers)
    projected = project_all(policy, result.states, evaluate_policy(policy, by_day[as_of]))
    return {
        "metrics": metrics,
        "statuses": result.statuses,
        "transitions": result.transitions,
        "criteria": criteria,
        "benefits": benefits,
        "projected": projected,
        "final": result.state_table,
    }


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], what: str) -> None:
    """Equal as values (dates as dates, numbers as floats, nulls alike), rows sorted by ``keys``."""
    assert list(a.columns) == list(b.columns), what
    assert len(a) == len(b), f"{what}: {len(a)} vs {len(b)} rows"

    def norm(df):
        df = df.sort_values(keys, kind="stable").reset_index(drop=True).copy()
        for c in df.columns:
            s = df[c]
            values = [v for v in s if not _null(v)]
            if pd.api.types.is_numeric_dtype(s) or all(
                isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values
            ):
                df[c] = pd.to_numeric(s, errors="coerce").astype(float)
            else:
                df[c] = s.map(lambda v: None if _null(v) else str(v))
        return df

    pd.testing.assert_frame_equal(norm(a), norm(b), check_dtype=False, obj=what)


def _null(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


@pytest.fixture(scope="module")
def both(demo_wh):
    policy = load_policy("customer-excellence")
    ref = reference(demo_wh, policy, AS_OF)
    ev = run_evaluation(demo_wh, policy, AS_OF, reuse=False, persist=False)  # resumed below
    return policy, ref, ev


def test_the_data_has_every_kind_of_transition(both):
    _, ref, _ = both
    moves = set(zip(ref["transitions"]["from_state"], ref["transitions"]["to_state"], strict=True))
    # a test that could not fail: removals, warnings and recoveries must be there to be compared
    assert {("enrolled", "at_risk"), ("removed", "recovering")} <= moves, moves
    assert any(to == "removed" for _, to in moves) and any(f == "recovering" for f, _ in moves), moves


def test_statuses_and_transitions_equal_the_reference(both):
    _, ref, ev = both
    mine = ev.frame("statuses")
    keys = ["evaluation_date", "seller_id", "marketplace_id"]
    last = mine["evaluation_date"].max()
    cols = [c for c in mine.columns if c not in ("reason", "reason_params")]
    _same(mine[cols], ref["statuses"][cols], keys, "statuses")
    # the reasons are rendered for the last evaluation (every transition has its own)
    _same(
        mine[mine.evaluation_date == last],
        ref["statuses"][ref["statuses"].evaluation_date == last],
        keys,
        "last",
    )
    tkeys = ["date", "seller_id", "marketplace_id", "to_state"]
    _same(ev.frame("transitions"), ref["transitions"], tkeys, "transitions")
    _same(ev.frame("final"), ref["final"], ["seller_id", "marketplace_id"], "final")


def test_criteria_benefits_and_projection_equal_the_reference(both):
    _, ref, ev = both
    ckeys = ["section", "seller_id", "marketplace_id", "criterion_id", "rule_id"]
    _same(ev.frame("criteria"), ref["criteria"], ckeys, "criteria")
    _same(ev.frame("benefits"), ref["benefits"], ["seller_id", "marketplace_id", "benefit"], "benefits")
    _same(ev.frame("projected"), ref["projected"], ["seller_id", "marketplace_id"], "projected")
    assert len(ev.frame("benefits")) > 0 and len(ev.frame("projected")) > 0


def test_metrics_equal_the_reference(both):
    _, ref, ev = both
    keys = ["seller_id", "marketplace_id", "metric", "window_days", "channel", "as_of"]
    _same(ev.frame("metrics")[ref["metrics"].columns], ref["metrics"], keys, "metrics")


def test_earlier_days_keep_the_tested_and_charted_metrics_the_last_days_all(both):
    _, _, ev = both
    m = ev.frame("metrics")
    triples = {
        day: set(zip(g["metric"], g["window_days"].astype("Int64").astype(object), g["channel"], strict=True))
        for day, g in m.groupby("as_of")
    }
    last = metrics_as_of(ev.policy, ev.evaluation_dates[-1])
    full = {day for day in triples if day in (AS_OF, last)}
    assert full == {AS_OF, last}
    # by hand: the default policy's criteria (src/cxops/policy/packs/customer-excellence.toml), the charts'
    kept = {
        ("order_defect_rate", 60, "all"),
        ("late_shipment_rate", 30, "mfn"),
        ("valid_tracking_rate", 30, "mfn"),
        ("on_time_delivery_rate", 30, "all"),
        ("customer_satisfaction_index", 90, "all"),
        ("late_response_rate", 90, "all"),
        ("median_first_response_hours", 90, "all"),
        ("order_count", 90, "all"),
        ("ip_complaints", 90, "all"),
        ("major_violations", 90, "all"),
        ("account_health_warnings", 180, "all"),
        ("tenure_days", None, "all"),
    }
    for day, got in triples.items():
        got = {(mt, None if pd.isna(w) else int(w), c) for mt, w, c in got}
        if day in full:
            assert len(got) == 42 and kept < got, day  # every catalog (metric, window, channel)
        else:
            assert got == kept, day


def test_resuming_a_stored_run_equals_a_full_replay(demo_wh, both):
    policy, _, full = both
    earlier = AS_OF - timedelta(days=75)  # stops mid-period: the daily check continues from it
    base = run_evaluation(demo_wh, policy, earlier, reuse=False)
    resumed = run_evaluation(demo_wh, policy, AS_OF)
    assert resumed.resumed_from == base.run.run_id and not resumed.reused
    for part, keys in (
        ("transitions", ["date", "seller_id", "marketplace_id", "to_state"]),
        ("final", ["seller_id", "marketplace_id"]),
        ("criteria", ["section", "seller_id", "marketplace_id", "criterion_id", "rule_id"]),
        ("projected", ["seller_id", "marketplace_id"]),
        ("benefits", ["seller_id", "marketplace_id", "benefit"]),
        ("metrics", ["seller_id", "marketplace_id", "metric", "window_days", "channel", "as_of"]),
    ):
        _same(resumed.frame(part), full.frame(part), keys, part)
    cols = [c for c in full.frame("statuses").columns if c not in ("reason", "reason_params")]
    skeys = ["evaluation_date", "seller_id", "marketplace_id"]
    _same(resumed.frame("statuses")[cols], full.frame("statuses")[cols], skeys, "statuses")


def test_resuming_without_a_new_evaluation_keeps_the_stored_statuses(demo_wh, both):
    """Resumed within one evaluation period: no evaluation is replayed, so the last evaluation's
    statuses (what the benefits are computed from) are read back from the stored run's."""
    policy = both[0]
    base = run_evaluation(demo_wh, policy, date(2026, 10, 5), reuse=False)
    resumed = run_evaluation(demo_wh, policy, date(2026, 10, 20))
    full = run_evaluation(demo_wh, policy, date(2026, 10, 20), reuse=False, persist=False)
    assert resumed.resumed_from == base.run.run_id
    assert resumed.evaluation_dates[-1] == date(2026, 10, 1) == base.evaluation_dates[-1]
    assert len(full.frame("benefits")) > 0
    for part, keys in (
        ("statuses", ["evaluation_date", "seller_id", "marketplace_id"]),
        ("benefits", ["seller_id", "marketplace_id", "benefit"]),
        ("final", ["seller_id", "marketplace_id"]),
        ("projected", ["seller_id", "marketplace_id"]),
    ):
        _same(resumed.frame(part), full.frame(part), keys, part)


def test_explain_reads_the_stored_run_for_one_seller(demo_wh, both):
    policy, _, full = both
    seller = full.frame("transitions")["seller_id"].iloc[0]
    mine = run_evaluation(demo_wh, policy, AS_OF, [seller], persist=False)
    # the stored run of every seller answers: nothing is computed
    assert mine.reused and mine.run.as_of == AS_OF and mine.run.scope is None
    assert set(mine.latest_statuses([seller])["seller_id"]) == {seller}


def test_output_files_are_the_run(both, tmp_path: Path):
    from cxops.report.files import read_frame, verify_manifest
    from cxops.service.outputs import write_evaluation

    _, ref, ev = both
    out = write_evaluation(ev, tmp_path / "out")
    assert verify_manifest(out) == []
    scorecards = read_frame(out / "scorecards.parquet")
    assert len(scorecards) == len(ref["criteria"])
    metrics = read_frame(out / "metrics.csv")
    keep = ref["metrics"][(ref["metrics"]["as_of"] == AS_OF) | (ref["metrics"]["status"] != "not_measured")]
    assert len(metrics) == len(keep)


def test_report_lists_the_sellers_to_look_at_and_counts_every_seller(both, tmp_path: Path):
    import re

    from cxops.service.outputs import report_sellers, write_report

    _, _, ev = both
    listed, total = report_sellers(ev, limit=10)
    statuses = ev.latest_statuses()
    assert total == len(statuses) > 10 and len(listed) == 10
    # the sellers whose status changed at the last evaluation come first
    last, previous = ev.evaluation_dates[-1], ev.evaluation_dates[-2]
    t = ev.frame("transitions")
    changed = set(zip(t[t.date > previous].seller_id, t[t.date > previous].marketplace_id, strict=True))
    first = list(zip(listed.seller_id, listed.marketplace_id, strict=True))[: len(changed)]
    assert set(first) == changed or len(changed) > 10
    html = write_report(ev, tmp_path / "r.html", limit=10).read_text()
    assert f"10 of {total} sellers are listed" in " ".join(html.split())
    assert html.count('<details class="seller"') == 10 and 'id="cx-search"' in html
    assert not re.search(r'(src|href)="(https?:)?//|<script src|<link ', html)  # nothing fetched
    # the summary counts every seller, not the listed ones
    counts = dict(zip(*np.unique(statuses["state"], return_counts=True), strict=True))
    summary = re.search(r'<section id="summary">.*?</section>', html, flags=re.S).group(0)
    assert f'<th class="n">{total:,}</th>' in summary
    for state, n in counts.items():
        assert re.search(rf'class="b {state}">[^<]*</span></td><td class="n">{n:,}</td>', summary), state
    assert last


def test_report_sellers_table_shows_the_numbers_the_criteria_judged(both, tmp_path: Path):
    import re

    from cxops.report.format import format_value
    from cxops.service.outputs import write_report

    _, _, ev = both
    html = write_report(ev, tmp_path / "r.html").read_text()
    crit = ev.frame("criteria")
    odr = crit[(crit.criterion_id == "odr") & (crit.section == "admission")]
    volume = crit[crit.criterion_id == "order_volume"]
    checked = 0
    for row in odr.itertuples():
        m = re.search(
            rf'<tr><td><a href="#[^"]+">{row.seller_id}</a></td><td>{row.marketplace_id}</td>(.*?)</tr>', html
        )
        cells = re.findall(r'<td class="n">([^<]*)</td>', m.group(1))
        # orders (90 days) and the order defect rate: the values of the criteria, same day
        vol = volume[(volume.seller_id == row.seller_id) & (volume.marketplace_id == row.marketplace_id)]
        if len(vol) and vol["value"].iloc[0] > 0:
            assert cells[0] == f"{int(vol['value'].iloc[0]):,}", (row.seller_id, cells)
        assert cells[1] == format_value(row.value, "order_defect_rate", status=row.status), (
            row.seller_id,
            cells,
        )
        checked += 1
    assert checked == len(odr) > 0


def test_the_newest_transitions_are_the_ones_shown(both):
    from cxops.service.outputs import newest_transitions

    _, _, ev = both
    t = ev.frame("transitions")
    shown = newest_transitions(ev, 5)
    assert len(shown) == 5 and list(shown["date"]) == sorted(shown["date"])
    assert min(shown["date"]) >= sorted(t["date"])[-5]


def test_metrics_in_seller_chunks_equal_one_query(demo_wh, both, monkeypatch):
    """The metrics computed a chunk of sellers at a time (as at scale) are the same table, row for row and
    in the same order, and so is everything decided from them."""
    from cxops.service import evaluation

    policy, _, full = both
    monkeypatch.setattr(evaluation, "METRICS_CHUNK", 7)  # 60 sellers: 9 chunks, the last one short
    chunked = run_evaluation(demo_wh, policy, AS_OF, reuse=False, persist=False)
    assert chunked.run.run_id != full.run.run_id
    for part in ("metrics", "statuses", "transitions", "final", "criteria", "benefits", "projected"):
        pd.testing.assert_frame_equal(chunked.frame(part), full.frame(part), obj=part)
    m = chunked.frame("metrics")
    assert m["seller_id"].nunique() > 7 * 8  # the chunks were needed


def test_facts_built_in_seller_parts_equal_one_query(demo_wh, both, monkeypatch):
    """Each family's facts built one range of sellers at a time (as at 100 M orders, so that a part's
    joins fit DuckDB's memory cap) give the same run, row for row; the ranges split the orders evenly."""
    from cxops.metrics.compute import load_inputs
    from cxops.service import evaluation

    policy, _, full = both
    inp = load_inputs(demo_wh)
    orders = demo_wh.execute(inp.tables["orders"].select("seller_id"))["seller_id"]
    cap = 3 * 2**30
    monkeypatch.setattr(evaluation, "FACT_BYTES_PER_ORDER", cap // (len(orders) // 4 + 1))
    parts = evaluation.fact_parts(demo_wh, inp, cap)
    assert len(parts) == 3 and list(parts) == sorted(parts)  # 4 ranges
    edges = ["", *parts, "\U0010ffff"]  # below and above every id
    sizes = [int(((orders >= lo) & (orders < hi)).sum()) for lo, hi in zip(edges, edges[1:], strict=False)]
    assert sum(sizes) == len(orders) and max(sizes) - min(sizes) < len(orders) / 4  # about equal

    monkeypatch.setattr(type(demo_wh), "memory_cap", lambda _self: cap)
    built = []
    real = Inputs.for_sellers
    monkeypatch.setattr(
        Inputs, "for_sellers", lambda self, lo, hi: built.append((lo, hi)) or real(self, lo, hi)
    )
    split = run_evaluation(demo_wh, policy, AS_OF, reuse=False, persist=False)
    assert built[:4] == [(None, parts[0]), (parts[0], parts[1]), (parts[1], parts[2]), (parts[2], None)]
    for part in ("metrics", "statuses", "transitions", "final", "criteria", "benefits", "projected"):
        pd.testing.assert_frame_equal(split.frame(part), full.frame(part), obj=part)
    keys = list(DEFECT_COLUMNS)
    d1, d2 = (e.frame("defects").sort_values(keys, ignore_index=True) for e in (split, full))
    pd.testing.assert_frame_equal(d1, d2, obj="defects")
    assert len(d1) > 0
    assert evaluation.fact_parts(demo_wh, inp, 2**40) == ()  # a large cap: one query


def test_metrics_csv_rows_are_in_the_stored_order(both, tmp_path: Path):
    """``metrics.csv`` lists the rows in the order of ``metrics.parquet`` (seller, metric, window,
    channel, day); DuckDB's multi-threaded CSV writer shuffled blocks of them."""
    from cxops.report.files import read_frame
    from cxops.service.outputs import write_evaluation

    _, _, ev = both
    out = write_evaluation(ev, tmp_path / "out")
    csv = pd.read_csv(out / "metrics.csv", dtype=str, keep_default_na=False)
    parquet = read_frame(out / "metrics.parquet")
    keys = ["seller_id", "marketplace_id", "metric", "channel"]
    assert len(csv) == len(parquet) > 0
    assert (csv[keys].to_numpy() == parquet[keys].astype(str).to_numpy()).all()
    assert list(csv["as_of"]) == [d.isoformat() for d in pd.to_datetime(parquet["as_of"]).dt.date]


def test_metrics_csv_written_in_seller_ranges_equals_one_pass(demo_wh, tmp_path: Path, monkeypatch):
    """The metrics CSV of a stored run is written as ranges of sellers side by side and joined: the
    file is byte for byte the one a single ``COPY`` writes, and no part file stays."""
    from cxops.service import outputs

    ev = run_evaluation(demo_wh, load_policy("customer-excellence"), AS_OF)  # stored: cursors read it
    assert not ev.temporary
    (threads,) = ev.wh.con.raw_sql("SELECT current_setting('threads')").fetchone()
    expr = outputs._csv_expr(outputs.output_expr(ev, "metrics"))
    one, three = tmp_path / "one.csv", tmp_path / "three.csv"
    outputs._ordered_csv(ev.wh, expr, one)
    rows = int(ev.wh.execute(outputs.output_expr(ev, "metrics").count()))
    bounds = outputs._seller_bounds(ev, "metrics", rows, parts=3)
    assert len(bounds) == 2 and bounds[0] < bounds[1]
    # about a third of the rows in each range
    sizes = pd.read_csv(one, usecols=["seller_id"], dtype=str)["seller_id"].searchsorted(bounds)
    assert all(abs(a - b - rows / 3) < rows / 10 for a, b in zip([*sizes, rows], [0, *sizes], strict=True))
    outputs._ordered_csv(ev.wh, expr, three, bounds)
    assert three.read_bytes() == one.read_bytes()
    assert one.read_bytes().count(b"\n") > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.csv", "three.csv"]
    assert ev.wh.con.raw_sql("SELECT current_setting('threads')").fetchone() == (threads,)
    # the job's writer takes that path for the metrics (three ranges here, one per thread by default)
    asked = []
    split = outputs._seller_bounds
    monkeypatch.setattr(
        outputs, "_seller_bounds", lambda e, name, n: asked.append(name) or split(e, name, n, 3)
    )
    out = outputs.write_evaluation(ev, tmp_path / "out")
    assert asked == ["metrics"]
    assert (out / "metrics.csv").read_bytes() == one.read_bytes()
    assert not list(out.glob("*.part*"))


def test_metrics_files_written_beside_the_replay_are_those_written_after(
    demo_wh, tmp_path: Path, monkeypatch
):
    """With an :class:`EvaluationFolder` opened before the run, the job has the metrics files written on a
    second connection while its replay runs — here the replay itself waits until they are complete — and
    every file of the folder is the one written after the run (Parquet read back, CSV byte for byte)."""
    from cxops.report.files import read_frame, verify_manifest
    from cxops.service import evaluation, outputs

    policy = load_policy("customer-excellence")
    after = outputs.write_evaluation(run_evaluation(demo_wh, policy, AS_OF, reuse=False), tmp_path / "after")
    (threads,) = demo_wh.con.raw_sql("SELECT current_setting('threads')").fetchone()
    seen = {}
    real = evaluation._Job._replay

    def replay(job, dates, new_dates):
        early = job.outputs._early
        seen["started"] = early is not None
        early._future.result(timeout=120)  # completes while the main thread is held here
        seen["written"] = sorted(p.name for p in job.outputs.path.iterdir())
        return real(job, dates, new_dates)

    monkeypatch.setattr(evaluation._Job, "_replay", replay)
    monkeypatch.setattr(outputs, "_ordered_csv", lambda *a, **k: pytest.fail("metrics written again"))
    # the room asked for counts the engine's cap (here DuckDB's default, 80 % of the memory): a small one
    monkeypatch.setattr(type(demo_wh), "memory_cap", lambda _self: 2**30)
    with outputs.EvaluationFolder(tmp_path / "beside") as folder:
        ev = run_evaluation(demo_wh, policy, AS_OF, reuse=False, outputs=folder)
        t = ev.run.timings
        assert t["metrics_files"] > 0 and "metrics_files_wait" in t
        assert 0 < t["metrics_files_need_gb"] < t["metrics_files_free_gb"]
        monkeypatch.undo()
        monkeypatch.setattr(outputs, "_ordered_csv", _no_metrics_csv(outputs._ordered_csv))
        beside = folder.write(ev)
    assert seen == {"started": True, "written": ["metrics.csv", "metrics.parquet"]}
    assert verify_manifest(beside) == []
    assert demo_wh.con.raw_sql("SELECT current_setting('threads')").fetchone() == (threads,)
    for f in sorted(after.glob("*.csv")):
        assert (beside / f.name).read_bytes() == f.read_bytes(), f.name
    pd.testing.assert_frame_equal(
        read_frame(beside / "metrics.parquet"), read_frame(after / "metrics.parquet")
    )
    assert len(read_frame(beside / "metrics.parquet")) > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["after", "beside"]  # no staging folder left


def _no_metrics_csv(real):
    def written(wh, expr, path, split=None):
        assert path.name != "metrics.csv", "metrics.csv written again after the run"
        return real(wh, expr, path, split)

    return written


def test_a_failed_run_stops_its_metrics_files_and_leaves_nothing(demo_wh, tmp_path: Path, monkeypatch):
    """A run that fails after its metrics files were started stops them (the engine interrupted), drops
    its tables, restores DuckDB's settings and leaves no folder; a failed early write is written again
    after the run; a reused run has its metrics files written by ``write``."""
    from cxops.runs import store
    from cxops.service import evaluation, outputs

    policy = load_policy("customer-excellence")
    (threads,) = demo_wh.con.raw_sql("SELECT current_setting('threads')").fetchone()

    def tables():  # not Ibis's in-memory views of pandas frames
        return {n for n in demo_wh.con.list_tables() if not n.startswith("ibis_")}

    before = tables()

    def fail(job, dates, new_dates):
        assert job.outputs._early is not None
        raise RuntimeError("replay failed")

    small_cap = (type(demo_wh), "memory_cap", lambda _self: 2**30)  # the room asked for counts it
    monkeypatch.setattr(*small_cap)
    monkeypatch.setattr(evaluation._Job, "_replay", fail)
    with pytest.raises(RuntimeError, match="replay failed"):
        with outputs.EvaluationFolder(tmp_path / "out") as folder:
            run_evaluation(demo_wh, policy, AS_OF, reuse=False, outputs=folder)
    assert folder._early is None or folder._early._future is None
    assert list(tmp_path.iterdir()) == []
    assert tables() == before
    assert demo_wh.con.raw_sql("SELECT current_setting('threads')").fetchone() == (threads,)
    monkeypatch.undo()
    monkeypatch.setattr(*small_cap)

    # the early write fails: the job goes on, and write() writes the metrics files after the run
    tried = []

    def broken(self, parquet_sql, csv_sql):
        tried.append(True)
        raise OSError("disk full")

    monkeypatch.setattr(outputs._MetricsFiles, "_copy", broken)
    with outputs.EvaluationFolder(tmp_path / "again") as folder:
        ev = run_evaluation(demo_wh, policy, AS_OF, reuse=False, outputs=folder)
        assert tried and "metrics_files" not in ev.run.timings
        out = folder.write(ev)
    reference = outputs.write_evaluation(ev, tmp_path / "reference")
    assert (out / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()

    # no room on the disk for the files beside what the run still needs: written after the run
    monkeypatch.setattr(outputs, "METRICS_FILE_BYTES_PER_ROW", 10**15)
    with outputs.EvaluationFolder(tmp_path / "no_room") as folder:
        ev = run_evaluation(demo_wh, policy, AS_OF, reuse=False, outputs=folder)
        assert folder._early is None and "metrics_files" not in ev.run.timings
        t = ev.run.timings
        assert t["metrics_files_need_gb"] > t["metrics_files_free_gb"] > 0
        out = folder.write(ev)
    assert (out / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
    monkeypatch.undo()

    # a reused run: nothing computed, nothing started early; the files written after
    with outputs.EvaluationFolder(tmp_path / "reused") as folder:
        reused = run_evaluation(demo_wh, policy, AS_OF, outputs=folder)
        assert reused.reused and folder._early is None
        out = folder.write(reused)
    assert (out / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
    assert not any(n.startswith(store.table_prefix(ev.run.run_id) + "tmp") for n in demo_wh.con.list_tables())
