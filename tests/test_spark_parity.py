"""DuckDB vs local PySpark: the same Ibis metric expressions give identical results.

A small generated marketplace (``cxops.synth.generate``) is imported into an in-memory DuckDB
warehouse with ``cxops import canonical`` and, on Spark, registered the way the README tells an
operator to attach a lake: the same Parquet files as external tables in the Spark catalog under
the canonical names, plus the provided columns. Every catalog metric is then computed on both as of
three days and as a ten-day daily series; numerators, denominators, statuses and notes must be
identical and values equal within 1e-12 (the response-time median included).

Needs ``pyspark`` and a Java runtime (17). Without them the module is skipped, unless the
environment variable ``CXOPS_REQUIRE_SPARK=1`` is set (CI), in which case it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cxops.canonical.schema import COMPLETE_RATINGS, TABLES
from cxops.ingest.canonical_files import import_canonical
from cxops.metrics.catalog import CATALOG
from cxops.metrics.compute import compute_at, compute_series, load_inputs
from cxops.synth import DEMO_STORIES, generate
from cxops.warehouse import connect

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")  # pyspark 4.0 on pandas 3

KEYS = ["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of"]
AS_OF = [date(2026, 10, 31), date(2026, 9, 30), date(2026, 8, 15)]
SERIES = (date(2026, 10, 22), date(2026, 10, 31))


def _java_problem() -> str | None:
    """Why Java cannot run here, or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return "no Java runtime (install a JDK 17, e.g. apt-get install openjdk-17-jre-headless)"
    try:
        subprocess.run([java, "-version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"java -version failed: {e}"
    return None


def _spark_problem() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    return _java_problem()


_PROBLEM = _spark_problem()
_REQUIRED = os.environ.get("CXOPS_REQUIRE_SPARK") == "1"
if _PROBLEM is not None and not _REQUIRED:
    pytest.skip(f"Spark parity test skipped: {_PROBLEM}", allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _spark_required():
    """In CI (``CXOPS_REQUIRE_SPARK=1``) a missing pyspark or Java fails every test here."""
    if _PROBLEM is not None:
        pytest.fail(f"CXOPS_REQUIRE_SPARK=1 but Spark cannot run: {_PROBLEM}", pytrace=False)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """The generated marketplace as canonical Parquet files (one per table): 12 sellers, one of them
    the demo's star storyline (S0012), over 120 days."""
    d = tmp_path_factory.mktemp("lake")
    generate(d, 12, 120, seed=3, orders_per_seller=2000, stories=DEMO_STORIES)
    return d


@pytest.fixture(scope="module")
def duck(lake):
    wh = connect("memory")
    report = import_canonical(wh, lake, None)
    assert report.quarantined.empty, report.quarantined.head().to_string()  # both engines: same rows
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def spark(lake):
    """One local Spark session for the module, the lake attached as external tables."""
    t0 = time.perf_counter()
    wh = connect("pyspark:")
    wh.con.raw_sql("DROP TABLE IF EXISTS _cxops_columns")
    for name, schema in TABLES.items():
        path = lake / f"{name}.parquet"
        if not path.exists():
            continue
        wh.con.raw_sql(f"DROP TABLE IF EXISTS {name}")  # a session another module left open
        wh.con.raw_sql(f"CREATE TABLE {name} USING parquet LOCATION '{path.as_posix()}'")
        cols = [c for c in schema.column_names if c in wh.table(name).columns]
        assert cols == schema.column_names, name  # the generator writes every contract column
        if name == "feedback":
            cols.append(COMPLETE_RATINGS)  # generated ratings cover every star level
        wh.record_provided(name, cols, f"lake:{path.name}")
    print(f"\nspark session + lake attached: {time.perf_counter() - t0:.1f} s")
    yield wh
    wh.close()


def _compare(d: pd.DataFrame, s: pd.DataFrame) -> None:
    assert list(d.columns) == list(s.columns)
    assert len(d) == len(s)
    m = d.merge(s, on=KEYS, how="outer", suffixes=("_d", "_s"), indicator=True)
    unmatched = m[m["_merge"] != "both"]
    assert unmatched.empty, unmatched[KEYS + ["_merge"]].head(20).to_string()
    for c in ("numerator", "denominator"):
        a, b = m[f"{c}_d"], m[f"{c}_s"]
        same = (a.isna() & b.isna()) | (a == b)
        assert same.all(), m.loc[~same, KEYS + [f"{c}_d", f"{c}_s"]].head(20).to_string()
    a, b = m["value_d"], m["value_s"]
    same = (a.isna() & b.isna()) | (np.abs(a - b) <= 1e-12 * np.maximum(1.0, np.abs(a)))
    assert same.all(), m.loc[~same, KEYS + ["value_d", "value_s"]].head(20).to_string()
    for c in ("status", "note", "window_start", "window_end"):
        a, b = m[f"{c}_d"], m[f"{c}_s"]
        same = (a.isna() & b.isna()) | (a == b)
        assert same.fillna(False).all(), m.loc[~same, KEYS + [f"{c}_d", f"{c}_s"]].head(20).to_string()


def _timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"\n{label}: {time.perf_counter() - t0:.1f} s")
    return out


def test_spark_engine(spark):
    assert spark.engine == "pyspark"
    assert spark.con._session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.provided_columns("shipments") == set(TABLES["shipments"].column_names)
    assert spark.has_table("orders") and not spark.has_table("no_such_table")


def test_compute_at_parity(duck, spark):
    d = compute_at(duck, AS_OF)
    s = _timed("spark compute_at, 3 days", lambda: compute_at(spark, AS_OF))
    # the data exercises every metric: each one has measured (ok) rows
    ok = set(d.loc[d["status"] == "ok", "metric"])
    assert ok == set(CATALOG), set(CATALOG) - ok
    assert (d["metric"] == "median_first_response_hours").sum() > 0
    _compare(d, s)


def test_compute_series_parity(duck, spark):
    inp_d, inp_s = load_inputs(duck), load_inputs(spark)
    inp_d.reuse = inp_s.reuse = True  # cached facts (Table.cache), as an evaluation run does
    d = compute_series(duck, *SERIES, inputs=inp_d)
    s = _timed("spark compute_series, 10 days", lambda: compute_series(spark, *SERIES, inputs=inp_s))
    assert len(d) > 0 and set(d["as_of"]) == set(pd.date_range(*SERIES).date)
    _compare(d, s)


def test_spark_upsert_replaces_by_key(spark):
    """Re-importing rows on Spark replaces them by key (Spark path: staging table, then swap)."""
    schema = replace(TABLES["sellers"], name="_upsert_check")  # its own table; the lake is left alone
    spark.con.raw_sql("DROP TABLE IF EXISTS _upsert_check")
    rows = pd.DataFrame(
        {
            "seller_id": ["X1", "X2"],
            "marketplace_id": ["US", "US"],
            "registered_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-02 10:00"]),
        }
    )
    first = spark.upsert(schema, rows)
    assert (first.inserted, first.replaced) == (2, 0)
    more = pd.DataFrame(
        {
            "seller_id": ["X1", "X2", "X3"],
            "marketplace_id": ["US", "US", "JP"],
            "registered_at": pd.to_datetime(["2026-02-01 10:00", "2026-01-02 10:00", "2026-03-01 00:00"]),
        }
    )
    second = spark.upsert(schema, more)
    assert (second.inserted, second.replaced) == (1, 2)
    out = spark.execute(spark.table("_upsert_check")).sort_values("seller_id").reset_index(drop=True)
    assert list(out["seller_id"]) == ["X1", "X2", "X3"]
    assert list(out["registered_at"]) == list(more["registered_at"])
    assert not [t for t in spark.con.list_tables() if t.startswith(("_staging_", "_incoming_"))]


def test_spark_import_canonical_stages_locally_and_swaps(spark, tmp_path):
    """``cxops import canonical`` into a Spark warehouse (its own database, the lake left alone):
    checked and staged in a local DuckDB, then each table swapped in (best effort, not one
    transaction); the provenance and coverage are recorded; a re-import replaces by key."""
    from pathlib import Path

    session = spark.con._session
    mini = Path(__file__).parent / "data" / "canonical_mini"
    session.sql("DROP DATABASE IF EXISTS cx_import CASCADE")
    session.sql("CREATE DATABASE cx_import")
    session.catalog.setCurrentDatabase("cx_import")
    try:
        from cxops.warehouse import Warehouse

        wh = Warehouse(spark.con, "pyspark:?database=cx_import", "pyspark")
        first = import_canonical(wh, mini, tmp_path / "q")
        again = import_canonical(wh, mini, tmp_path / "q")
        assert first.entry("orders").inserted == 3 and again.entry("orders").replaced == 3
        assert int(wh.execute(wh.table("orders").count())) == 3
        prov = wh.provenance()
        assert prov is not None and first.source_id in prov.covered
        assert "latest_ship_at" in wh.provided_columns("orders")
        assert not [t for t in spark.con.list_tables() if t.startswith(("_staging_", "_incoming_"))]
    finally:
        session.catalog.setCurrentDatabase("default")
        session.sql("DROP DATABASE IF EXISTS cx_import CASCADE")


# -- the daily job: the same store state from either warehouse ------------------------------------


def _store_state(store, program: str) -> dict[str, pd.DataFrame]:
    """Memberships, events, benefits and alerts of ``program`` without ids and wall-clock timestamps
    (``id``, ``*run_id``, ``action_id``, ``*_at``), floats to 12 significant digits, JSON with sorted
    keys, rows sorted: what the job decided, whichever engine computed it."""
    from cxops.store import load_alerts, load_benefits, load_events, load_memberships

    with store.unit_of_work(write=False) as s:
        frames = {
            "memberships": load_memberships(s, program),
            "events": load_events(s, program=program),
            "benefits": load_benefits(s, program),
            "alerts": load_alerts(s, program=program),
        }

    def norm(v):
        if isinstance(v, dict | list):
            return json.dumps(v, sort_keys=True, default=str)
        if isinstance(v, float):
            return "nan" if v != v else f"{v:.12g}"
        return str(v)

    out = {}
    for name, f in frames.items():
        drop = [c for c in f.columns if c in ("id", "action_id") or c.endswith("run_id") or c.endswith("_at")]
        f = f.drop(columns=drop)
        f = pd.DataFrame({c: [norm(v) for v in f[c].astype(object)] for c in f.columns})
        out[name] = f.sort_values(list(f.columns), ignore_index=True)
    return out


def test_daily_job_gives_the_same_store_state_on_spark(duck, spark, tmp_path):
    """``cxops run`` on the DuckDB warehouse and on the Spark lake (marketplace-enforcement: daily
    evaluations, alert levels, suspensions, benefits): built as of 2026-10-24, one day, a two-day gap
    filled in order, one day — identical memberships, events, benefits and alerts."""
    from cxops.policy.load import load_policy
    from cxops.service.daily import run_daily
    from cxops.store import open_store, upgrade

    policy = load_policy("marketplace-enforcement")
    days = [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 27), date(2026, 10, 28)]
    got = {}
    for name, wh in (("duckdb", duck), ("spark", spark)):
        s = open_store(f"sqlite:///{tmp_path}/{name}.sqlite", check=False, must_exist=False)
        upgrade(s)
        try:
            t0 = time.perf_counter()
            ran = [r.day for day in days for r in run_daily(wh, s, policy, day).days]
            print(f"\n{name} daily runs: {time.perf_counter() - t0:.1f} s")
            assert ran == [*days[:2], date(2026, 10, 26), *days[2:]]
            got[name] = _store_state(s, policy.name)
        finally:
            s.dispose()
    d, s = got["duckdb"], got["spark"]
    assert len(d["memberships"]) == 12 and d["memberships"]["state"].nunique() >= 2
    assert (d["events"]["kind"] == "transition").sum() > 5 and len(d["benefits"]) > 0
    for table in d:
        pd.testing.assert_frame_equal(d[table], s[table], obj=table)
