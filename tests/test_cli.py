"""The command line, end to end on small data (Typer's CliRunner, a DuckDB file in a temp folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxops.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run(*args: str, ok: bool = True):
    res = runner.invoke(app, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def wh(tmp_path):
    url = str(tmp_path / "w.duckdb")
    res = run(
        "import", "canonical", str(DATA / "canonical_mini"), "-w", url, "--quarantine", str(tmp_path / "q")
    )
    assert "orders" in res.output and (tmp_path / "q" / "orders.csv").exists()
    return url


def test_import_reports_counts_and_quarantine(wh, tmp_path):
    q = (tmp_path / "q" / "orders.csv").read_text()
    assert "not-a-date" in q and "purchased_at" in q


def test_metrics_jsonl_for_one_seller(wh):
    res = run(
        "metrics", "--as-of", "2024-03-31", "--allow-stale", "--seller", "A1", "--format", "jsonl", "-w", wh
    )
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    by = {(r["metric"], r["window_days"], r["channel"]): r for r in rows}
    assert {r["seller_id"] for r in rows} == {"A1"}
    oc = by[("order_count", 30, "all")]
    # order 100 was placed 2024-03-01T10:00Z = 02:00 Pacific on March 1: outside Mar 2..Mar 31
    assert oc["value"] == 1 and oc["window_start"] == "2024-03-02" and oc["as_of"] == "2024-03-31"
    assert by[("order_count", 90, "all")]["value"] == 2
    vtr = by[("valid_tracking_rate", 30, "mfn")]
    assert (vtr["numerator"], vtr["denominator"]) == (1, 1)
    assert by[("a_to_z_claim_rate", 60, "all")]["status"] == "not_measured"


def test_metrics_series_csv(wh, tmp_path):
    out = tmp_path / "s.csv"
    run(
        "metrics",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-05",
        "-m",
        "order_count",
        "-f",
        "csv",
        "-o",
        str(out),
        "--allow-stale",
        "-w",
        wh,
    )
    lines = out.read_text().splitlines()
    assert lines[0].startswith("seller_id,marketplace_id,channel,metric")
    assert len(lines) > 5


def test_metrics_bad_input_is_a_clear_error(wh):
    res = run("metrics", "--as-of", "yesterday", "-w", wh, ok=False)
    assert res.exit_code == 1 and "--as-of must be a date" in res.output
    res = run("metrics", "--as-of", "2024-03-02", "-m", "nonsense", "-w", wh, ok=False)
    assert "unknown metric 'nonsense'" in res.output


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory):
    """A small synthetic marketplace (30 sellers, 150 days to 2026-10-31) with evaluations to replay."""
    d = tmp_path_factory.mktemp("synth")
    run("synth", "--sellers", "30", "--days", "150", "--orders-per-seller", "300", "--out", str(d / "data"))
    url = str(d / "s.duckdb")
    run("import", "canonical", str(d / "data"), "-w", url, "--quarantine", str(d / "q"))
    return url


def test_evaluate_writes_outputs_and_report(synth_wh, tmp_path):
    from cxops.report.files import verify_manifest

    out = tmp_path / "out"
    res = run("evaluate", "--as-of", "2026-11-01", "--out", str(out), "-w", synth_wh)
    assert "Not eligible" in res.output
    for name in ("scorecards", "transitions", "metrics", "statuses", "benefits", "projected"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    assert verify_manifest(out) == []
    html = (out / "report.html").read_text()
    assert "S0001" in html and "<script src" not in html


def test_evaluate_past_the_data_evaluates_nothing_after_it(wh, tmp_path):
    # the mini data ends on 2024-03-02: the evaluation of 2024-04-01 would judge March without data
    res = run("evaluate", "--as-of", "2024-04-02", "--allow-stale", "--out", str(tmp_path / "o"), "-w", wh)
    assert "evaluated up to 2024-03-03" in res.output
    statuses = (tmp_path / "o" / "statuses.csv").read_text().splitlines()
    assert statuses == [statuses[0]]  # header only: no evaluation


def test_explain_in_english_and_chinese(synth_wh):
    en = run("explain", "S0001", "--as-of", "2026-11-01", "-w", synth_wh).output
    assert "S0001" in en and "Status:" in en
    zh = run("explain", "S0001", "--as-of", "2026-11-01", "--lang", "zh", "-w", synth_wh).output
    assert "资格" in zh
    res = run("explain", "NOPE", "--as-of", "2026-11-01", "-w", synth_wh, ok=False)
    assert res.exit_code == 1 and "NOPE" in res.output


def test_policy_commands(tmp_path):
    assert "customer-excellence" in run("policy", "list").output
    assert "stable_days = 45" in run("policy", "show", "customer-excellence").output
    assert "valid" in run("policy", "validate", "customer-excellence").output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\nversion = "1"\neffective_from = 2025-01-01\n'
        '[[admission.criteria]]\nid = "a"\nmetric = "order_defect_rate"\nwindow_days = 30\n'
        'operator = "<"\nthreshold = 0.01\n'
        '[[admission.criteria]]\nid = "b"\nmetric = "no_such_metric"\noperator = "<"\nthreshold = 1\n'
    )
    res = run("policy", "validate", str(bad), ok=False)
    assert res.exit_code == 1
    assert "admission.criteria[0].window_days" in res.output and "admission.criteria[1].metric" in res.output


def test_evaluate_with_unknown_policy_file_fails_clearly(wh):
    res = run(
        "evaluate", "--as-of", "2024-04-02", "--allow-stale", "--policy", "missing.toml", "-w", wh, ok=False
    )
    assert res.exit_code == 1 and "missing.toml" in res.output


def test_synth_writes_parquet_that_imports_cleanly(tmp_path):
    out = tmp_path / "synth"
    res = run("synth", "--sellers", "20", "--days", "40", "--out", str(out), "--seed", "3")
    assert "orders" in res.output and (out / "orders.parquet").exists()
    url = str(tmp_path / "s.duckdb")
    run("import", "canonical", str(out), "-w", url, "--quarantine", str(tmp_path / "q"))
    q = tmp_path / "q"
    files = sorted(q.glob("*.csv")) if q.exists() else []
    # the generated data pass their own contract: nothing quarantined, nothing flagged
    assert files == [], [line for f in files for line in f.read_text().splitlines()[:3]]
    res = run("metrics", "--as-of", "2026-10-31", "-m", "order_count", "-f", "csv", "-w", url)
    rows = [r for r in res.output.splitlines()[1:] if r]
    assert len(rows) >= 20 * 2 * 3  # every seller: 2 windows x 3 channels


def test_reconcile_shows_reported_and_computed(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "sellers.csv").write_text("seller_id,marketplace_id\nS1,US\n")
    orders = "seller_id,order_id,marketplace_id,purchased_at,fulfillment_channel\n" + "".join(
        f"S1,O{i},US,2024-05-{10 + i}T18:00:00Z,MFN\n" for i in range(10)
    )
    (d / "orders.csv").write_text(orders)
    (d / "feedback.csv").write_text("seller_id,order_id,rating,submitted_at\nS1,O1,1,2024-05-20T00:00:00Z\n")
    (d / "reported_metrics.csv").write_text(
        "seller_id,marketplace_id,metric,channel,window_from,window_to,numerator,denominator,rate\n"
        "S1,US,order_defect_rate,mfn,2024-05-01,2024-06-29,1,10,0.1\n"
        "S1,US,order_defect_rate,all,2024-05-01,2024-06-29,2,11,0.1818\n"
    )
    url = str(tmp_path / "r.duckdb")
    run("import", "canonical", str(d), "-w", url, "--quarantine", str(tmp_path / "q"))
    res = run("reconcile", "-f", "jsonl", "-w", url)
    rows = {r["channel"]: r for r in map(json.loads, res.output.splitlines()) if r}
    assert rows["mfn"]["verdict"] == "agrees"
    assert (rows["mfn"]["computed_numerator"], rows["mfn"]["computed_denominator"]) == (1, 10)
    assert rows["all"]["verdict"] == "differs"
    assert any(c["cause"] == "orders_missing" for c in rows["all"]["likely_causes"])
    only = [
        json.loads(r)
        for r in run("reconcile", "--differences", "-f", "jsonl", "-w", url).output.splitlines()
        if r
    ]
    assert [r["channel"] for r in only] == ["all"]


def test_new_user_paths_give_clear_errors_or_work(wh, synth_wh, tmp_path):
    # evaluate for one seller prints its scorecard
    res = run("evaluate", "--as-of", "2026-11-01", "--seller", "S0002", "-w", synth_wh)
    assert "S0002" in res.output
    # before the first evaluation date: said so
    res = run("evaluate", "--as-of", "2024-03-02", "--seller", "A1", "-w", wh)
    assert "no evaluation up to 2024-03-02" in res.output and "2024-04-01" in res.output
    # a read-only command never creates a warehouse at a mistyped path
    missing = tmp_path / "nope" / "missing.duckdb"
    res = run("metrics", "--as-of", "2024-03-31", "-w", str(missing), ok=False)
    assert res.exit_code == 1 and "not found" in res.output and not missing.parent.exists()
    # an output file whose format cannot be told fails before computing
    res = run("metrics", "--as-of", "2024-03-31", "--out", str(tmp_path / "x.txt"), "-w", wh, ok=False)
    assert res.exit_code == 1 and ".parquet, .csv or .jsonl" in res.output
    # policy show is verbatim TOML, valid when redirected to a file
    import tomllib

    shown = run("policy", "show", "customer-excellence").stdout
    assert tomllib.loads(shown)["recovery"]["stable_days"] == 45
    res = run("policy", "show", "no-such-pack", ok=False)
    assert res.exit_code == 1 and "no-such-pack" in res.output


def test_import_amazon_folder_then_reconcile(tmp_path):
    url = str(tmp_path / "a.duckdb")
    args = ["--seller", "A1B2C3", "--marketplace", "US", str(DATA / "amazon")]
    res = run("import", "amazon", *args, "-w", url, "--quarantine", str(tmp_path / "q"))
    assert "orders" in res.output and "reported_metrics" in res.output
    rows = [json.loads(r) for r in run("reconcile", "-f", "jsonl", "-w", url).output.splitlines() if r]
    assert rows and {r["verdict"] for r in rows} <= {"agrees", "differs", "not_computable", "no_raw_data"}
    odr = [r for r in rows if r["metric"] == "order_defect_rate"]
    assert odr and all(r["reported_denominator"] is not None for r in odr)
