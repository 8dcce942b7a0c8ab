"""The command line fits a person's habits (issue 9, item 9): global options before the command name,
tables readable when piped at 80 columns, counts as integers, ``explain`` as data with every counted
defect, the projected status, the recovery date and the criteria ranked by what to fix first.

Every command runs in Typer's CliRunner: standard output is not a terminal and ``COLUMNS=80``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxops.cli import app, hoist_global_options
from cxops.report.explain_rows import rank_criteria, recovery_dates

DATA = Path(__file__).parent / "data"
runner = CliRunner()
ENV = {"COLUMNS": "80", "TERM": "dumb"}


def run(*args: str, ok: bool = True):
    res = runner.invoke(app, list(args), env=ENV, catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    d = tmp_path_factory.mktemp("mini")
    url = str(d / "w.duckdb")
    res = run("-w", url, "import", "canonical", str(DATA / "canonical_mini"), "--quarantine", str(d / "q"))
    return url, res.stdout


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory):
    """30 sellers over 150 days to 2026-10-31, evaluated once (a stored run for explain)."""
    d = tmp_path_factory.mktemp("synth")
    run("synth", "--sellers", "30", "--days", "150", "--orders-per-seller", "300", "--out", str(d / "data"))
    url = str(d / "s.duckdb")
    run("import", "canonical", str(d / "data"), "-w", url, "--quarantine", str(d / "q"))
    return url


# -- global options -------------------------------------------------------------------------------


def test_hoisting_moves_global_options_after_the_command_that_takes_them():
    import typer.main

    group = typer.main.get_command(app)
    ctx = group.make_context("cxops", ["--help"], resilient_parsing=True)
    assert hoist_global_options(group, ctx, ["-w", "X", "metrics", "--as-of", "D"]) == [
        "metrics", "-w", "X", "--as-of", "D",
    ]  # fmt: skip
    # --warehouse goes after "import canonical"; --lang (which it does not take) stays with the group
    args = ["--warehouse=X", "--lang", "zh", "import", "canonical", "d"]
    assert hoist_global_options(group, ctx, args) == [
        "--lang", "zh", "import", "canonical", "--warehouse=X", "d",
    ]  # fmt: skip
    # a command that does not take the option: it stays with the group (which ignores it)
    assert hoist_global_options(group, ctx, ["-w", "X", "policy", "list"]) == ["-w", "X", "policy", "list"]
    # --debug after the command name goes to the group
    assert hoist_global_options(group, ctx, ["metrics", "--debug", "--as-of", "D"]) == [
        "--debug", "metrics", "--as-of", "D",
    ]  # fmt: skip


def test_warehouse_before_or_after_the_command_gives_the_same_output(mini):
    url, _ = mini
    args = ["--as-of", "2024-03-31", "--allow-stale", "-s", "A1", "-f", "csv"]
    after = run("metrics", *args, "-w", url).stdout
    before = run("-w", url, "metrics", *args).stdout
    long = run(f"--warehouse={url}", "--format", "csv", "metrics", *args[:-2]).stdout
    assert after == before == long
    assert after.startswith("seller_id,marketplace_id,channel,metric")
    # given again after the command name, the later one wins
    assert run("-w", "/no/such.duckdb", "metrics", *args, "-w", url).stdout == after
    # a command without a warehouse ignores it
    assert "customer-excellence" in run("-w", url, "policy", "list").stdout


def test_debug_after_the_command_name_shows_the_error_type(tmp_path):
    res = run("metrics", "--as-of", "2024-03-31", "-w", str(tmp_path / "none.duckdb"), ok=False)
    assert res.exit_code != 0 and "error: warehouse" in res.output and "Traceback" not in res.output
    with pytest.raises(Exception, match="not found"):
        runner.invoke(
            app,
            ["metrics", "--as-of", "2024-03-31", "--debug", "-w", str(tmp_path / "none.duckdb")],
            env=ENV,
            catch_exceptions=False,
        )


# -- counts as integers ------------------------------------------------------------------------------


def test_counts_are_integers_in_csv_and_jsonl(mini):
    url, _ = mini
    base = ["metrics", "--as-of", "2024-03-31", "--allow-stale", "-s", "A1", "-w", url]
    rows = {
        (r["metric"], r["window_days"], r["channel"]): r
        for r in csv.DictReader(io.StringIO(run(*base, "-f", "csv").stdout))
    }
    oc = rows[("order_count", "90", "all")]
    assert (oc["numerator"], oc["denominator"], oc["value"]) == ("2", "", "2")
    vtr = rows[("valid_tracking_rate", "30", "mfn")]
    assert (vtr["numerator"], vtr["denominator"], vtr["value"]) == ("1", "1", "1.0")  # a rate stays a rate
    lines = [json.loads(x) for x in run(*base, "-f", "jsonl").stdout.splitlines() if x.startswith("{")]
    by = {(r["metric"], r["window_days"], r["channel"]): r for r in lines}
    assert by[("order_count", 90, "all")]["value"] == 2 and isinstance(
        by[("order_count", 90, "all")]["value"], int
    )
    assert isinstance(by[("valid_tracking_rate", 30, "mfn")]["numerator"], int)
    tenure = by[("tenure_days", None, "all")]
    assert isinstance(tenure["value"], int) and tenure["value"] == (date(2024, 3, 31) - date(2023, 1, 4)).days


# -- tables when piped -------------------------------------------------------------------------------


def test_import_table_keeps_one_line_per_file_when_piped(mini):
    _, out = mini
    orders = [line for line in out.splitlines() if line.strip().startswith("orders ")]
    assert len(orders) == 1
    assert orders[0].split() == ["orders", "5", "3", "2", "0", "3", "0"]


def test_tables_are_not_folded_at_80_columns_when_piped(synth_wh):
    res = run("evaluate", "--as-of", "2026-11-01", "-w", synth_wh)
    lines = res.stdout.splitlines()
    rows = [line for line in lines if line.startswith("│ 20")]  # the status-change rows start with a date
    assert rows, res.stdout
    for line in rows:  # one line per row: the date, the seller, both states and the whole reason
        cells = [c.strip() for c in line.strip("│").split("│")]
        assert len(cells) == 10 and len(cells[0]) == 10 and cells[1].startswith("S")
        assert cells[-1].endswith(".") or cells[-1].endswith(")"), cells[-1]
    # no cell folded letter by letter: no line of the table is a continuation line
    assert not [line for line in lines if line.startswith("│        │")]


# -- explain -----------------------------------------------------------------------------------------


def test_explain_csv_lists_every_counted_defect_ranked_criteria_and_the_projection(synth_wh, tmp_path):
    from cxops.metrics.defects import defect_records
    from cxops.policy.load import load_policy
    from cxops.warehouse import connect

    statuses = tmp_path / "o"
    run("evaluate", "--as-of", "2026-11-01", "--out", str(statuses), "-w", synth_wh)
    st = pd.read_csv(statuses / "statuses.csv")
    # the seller with the most counted defects in the evaluation's metrics
    out = tmp_path / "x.csv"
    counts = {}
    wh = connect(synth_wh, read_only=True)
    try:
        opts = load_policy("customer-excellence").metric_options
        for sid in st.seller_id.unique()[:12]:
            counts[sid] = defect_records(wh, sid, date(2026, 10, 31), opts)
    finally:
        wh.close()
    sid = max(counts, key=lambda s: len(counts[s]))
    expected = counts[sid]
    assert len(expected) > 20  # more than the old cap of 20 shown
    run("explain", sid, "--as-of", "2026-11-01", "--format", "csv", "--out", str(out), "-w", synth_wh)
    frame = pd.read_csv(out, dtype={"window_days": "Int64", "rank": "Int64"})
    defects = frame[frame.record == "defect"]
    got = sorted(
        zip(defects.metric, defects.window_days.astype(int), defects.record_id.astype(str), strict=True)
    )
    want = sorted(
        zip(expected.metric, expected.window_days.astype(int), expected.record_id.astype(str), strict=True)
    )
    assert got == want
    crit = frame[frame.record == "criterion"]
    assert crit["rank"].tolist() == list(range(1, len(crit) + 1))
    failed = crit.result.eq("fail").tolist()
    assert failed == sorted(failed, reverse=True)  # every failed criterion before every passed one
    status = frame[frame.record == "status"].iloc[0]
    proj = pd.read_csv(statuses / "projected.csv")
    mine = proj[proj.seller_id == sid].iloc[0]
    assert status.projected_state == mine.projected_state and status.projected_on == mine.evaluation_date
    # the text lists every counted order too
    text = run("explain", sid, "--as-of", "2026-11-01", "-w", synth_wh).stdout
    assert all(str(o) in text for o in expected.order_id.unique())
    assert "Projected at the next evaluation" in text


def test_explain_jsonl_counts_are_integers(synth_wh, tmp_path):
    run("evaluate", "--as-of", "2026-11-01", "--out", str(tmp_path / "o"), "-w", synth_wh)
    sid = pd.read_csv(tmp_path / "o" / "statuses.csv").seller_id.iloc[0]
    res = run("explain", sid, "--as-of", "2026-11-01", "-f", "jsonl", "-w", synth_wh)
    rows = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    crit = [r for r in rows if r["record"] == "criterion" and r["numerator"] is not None]
    assert crit and all(isinstance(r["numerator"], int) for r in crit)
    assert rows[0]["record"] == "status" and rows[0]["seller_id"] == sid


# -- ranking and recovery, by hand --------------------------------------------------------------------


def _crit(cid, section, result, metric=None, gap=None, window=60, channel="all"):
    return {"criterion_id": cid, "section": section, "result": result, "metric": metric, "gap": gap,
            "window_days": window, "channel": channel}  # fmt: skip


def test_ranking_puts_removal_breaches_first_then_the_smallest_fix():
    rows = [
        _crit("csat", "admission", "fail", "customer_satisfaction_index"),
        _crit("lsr", "admission", "fail", "late_shipment_rate", -130),
        _crit("odr", "admission", "fail", "order_defect_rate", -4),
        _crit("tenure", "eligibility", "pass", "tenure_days", -1321),
        _crit("vtr", "removal", "pass", "valid_tracking_rate", -28),
        _crit("odr_r", "removal", "fail", "order_defect_rate", -2),
    ]
    ranked = rank_criteria(rows)
    assert [r["criterion_id"] for r in ranked] == ["odr_r", "odr", "lsr", "csat", "vtr", "tenure"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5, 6]


def test_recovery_date_is_the_kth_defect_dropping_out_plus_the_stable_days():
    crit = [
        _crit("odr", "admission", "fail", "order_defect_rate", -2),
        _crit("lsr", "admission", "fail", "late_shipment_rate", -1, window=30, channel="mfn"),
        _crit("vtr", "removal", "fail", "valid_tracking_rate", 5),  # not an admission bar
    ]
    d = pd.DataFrame(
        {
            "metric": ["order_defect_rate"] * 4 + ["late_shipment_rate"] * 2,
            "window_days": [60, 60, 60, 60, 30, 30],
            "channel": ["mfn", "afn", "mfn", "mfn", "mfn", "mfn"],
            # o1 counted twice (two defects of one order) leaves once, on its earliest day
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
            "drops_out_on": [date(2026, 11, 5), date(2026, 11, 9), date(2026, 11, 7), date(2026, 11, 20),
                             date(2026, 11, 3), date(2026, 11, 30)],
        }
    )  # fmt: skip
    # ODR: 2 fewer defective orders → the 2nd order out (o2 on 11-07); LSR: 1 → o4 on 11-03; latest: 11-07
    assert recovery_dates("removed", crit, d, 45) == (date(2026, 11, 7), date(2026, 12, 21), [])
    assert recovery_dates("enrolled", crit, d, 45) == (None, None, [])
    blocked = crit + [_crit("csat", "admission", "fail", "customer_satisfaction_index", None, window=90)]
    assert recovery_dates("recovering", blocked, d, 45) == (None, None, ["csat"])
    too_few = [_crit("odr", "admission", "fail", "order_defect_rate", -4)]
    assert recovery_dates("removed", too_few, d, 45) == (None, None, ["odr"])


def test_evaluate_output_files_write_counts_as_integers(synth_wh, tmp_path):
    out = tmp_path / "out"
    run("evaluate", "--as-of", "2026-11-01", "--out", str(out), "-w", synth_wh)
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    counted = [r for r in rows if r["status"] == "ok" and r["denominator"]]
    decimal = [r for r in rows if r["numerator"].endswith(".0") or r["denominator"].endswith(".0")]
    assert counted and not decimal
    counts = [r for r in rows if r["metric"] == "order_count" and r["value"]]
    assert counts and all(r["value"].isdigit() and r["value"] == r["numerator"] for r in counts)
    rates = [r for r in counted if r["metric"] == "order_defect_rate"]
    assert rates and all("." in r["value"] for r in rates)  # a rate stays a rate (0.0, 0.0125 …)
    for r in rates:  # and is the ratio of the whole counts written beside it
        assert float(r["value"]) == pytest.approx(int(r["numerator"]) / int(r["denominator"]))
    cards = list(csv.DictReader((out / "scorecards.csv").open()))
    volume = [r for r in cards if r["criterion_id"] == "order_volume"]
    assert volume and all(r["value"].isdigit() and r["gap"].lstrip("-").isdigit() for r in volume)
