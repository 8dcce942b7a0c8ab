"""Root cause (``cxops diagnose``) and the performance log.

Hand-computed cases (``_diagnose_cases``: which SKU, carrier and weekday cause which late shipment),
then an independent check: for every group, the rate without it equals the metric engine's rate on
the data with that group's orders (or shipments) removed, recomputed from scratch.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from _diagnose_cases import AS_OF, tables
from _wh import value, warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cxops.metrics.breakdown import LOG_COLUMNS, Target, pareto_frame, performance_log, seller_inputs
from cxops.metrics.compute import compute_metrics, load_inputs
from cxops.metrics.defects import defect_records
from cxops.policy.load import load_policy
from cxops.report.diagnose import diagnosis_dict, headline, sentences
from cxops.service.diagnose import criterion_status, diagnose

LSR = Target("S1", "US", "late_shipment_rate", 30, "mfn", AS_OF)


@pytest.fixture(scope="module")
def case_wh():
    return warehouse(tables())


def _rows(df: pd.DataFrame, dimension: str) -> list[tuple]:
    d = df[df["dimension"] == dimension]
    return [
        (r["group"] if isinstance(r["group"], str) else None, r["rank"], r["defects"], r["records"])
        for r in d.to_dict("records")
    ]


def test_hand_case_pareto_by_sku_carrier_weekday(case_wh):
    df, totals = pareto_frame(case_wh, seller_inputs(load_inputs(case_wh), "S1"), [LSR])
    assert totals.iloc[0][["total_records", "total_defects"]].tolist() == [10, 5]
    # SKU: A on O1 O2 O3 O6 (all late); B on O4 O5 O6 O10 (O6, O10 late); C on O7 O8 O9 (none)
    assert _rows(df, "sku") == [("A", 1, 4, 4), ("B", 2, 2, 4), ("C", 3, 0, 3)]
    sku = df[df["dimension"] == "sku"].set_index("group")
    assert sku.loc["A", "share"] == pytest.approx(4 / 5)
    assert sku.loc["A", "defect_rate_without"] == pytest.approx(1 / 6)  # O4 O5 O7 O8 O9 O10: O10 late
    assert sku.loc["B", "defect_rate_without"] == pytest.approx(3 / 6)
    assert sku.loc["C", "defect_rate_without"] == pytest.approx(5 / 7)
    # cumulative: A, then A or B (O6 once): 7 orders, 5 late -> nothing late left among O7 O8 O9
    assert sku["cum_records"].tolist() == [4, 7, 10] and sku["cum_defects"].tolist() == [4, 5, 5]
    assert sku.loc["B", "defect_rate_without_top"] == 0
    assert pd.isna(sku.loc["C", "defect_rate_without_top"])  # nothing left
    # carrier: UPS O1 O2 O4 O6 O9 (3 late); none: O10 (late, never shipped); USPS O3 O5 O7 O8 (1 late);
    # a tie on defects ranks the smaller group first
    assert _rows(df, "carrier") == [("UPS", 1, 3, 5), (None, 2, 1, 1), ("USPS", 3, 1, 4)]
    # weekday in Pacific time: O3 bought Saturday 05:00 UTC is a Friday order
    assert _rows(df, "weekday") == [("friday", 1, 3, 3), ("monday", 2, 2, 7)]
    assert _rows(df, "category") == [("toys", 1, 5, 7), ("garden", 2, 0, 3)]
    assert "channel" not in set(df["dimension"])  # an MFN-only metric has one channel


def test_hand_case_paging_keeps_the_headline_ranks(case_wh):
    inp = seller_inputs(load_inputs(case_wh), "S1")
    df, _ = pareto_frame(case_wh, inp, [LSR], offset=1, limit=1)
    assert _rows(df, "sku") == [("B", 2, 2, 4)]
    df, _ = pareto_frame(case_wh, inp, [LSR], offset=2, limit=1, keep_top=1)
    assert _rows(df, "sku") == [("A", 1, 4, 4), ("C", 3, 0, 3)]


def test_diagnosis_status_sentences_and_engine_counts(case_wh):
    pol = load_policy("customer-excellence")
    d = diagnose(case_wh, pol, "S1", AS_OF, allow_stale=True)
    # 10 orders are under the admission bar's minimum of 50, but 50 % is on the failing side: near
    [f] = d.findings
    assert (f.target, f.status, f.numerator, f.denominator) == (LSR, "near", 5, 10)
    assert f.criteria[0]["result"] == "insufficient_data"
    en = headline(f, "sku")
    assert en == (
        "1 SKU (A) causes 80% of the late shipments; without it the rate would be 16.67% (now 50.00%)."
    )
    zh = headline(f, "carrier", lang="zh")
    assert zh.startswith("1 个承运商（UPS）造成了 60% 的迟发订单") and "40.00%" in zh
    # toys hold every late order but also 70 % of the orders: without them nothing is late
    assert "0.00%" in headline(f, "category")
    text = "\n".join(sentences(d))
    assert "near its bar" in text and "ship-from" in text
    payload = diagnosis_dict(d, lang="zh")
    json.dumps(payload)
    assert payload["findings"][0]["dimensions"]["weekday"]["items"][0]["label"] == "周五"
    # asked by metric, an unjudged window is still broken down
    d = diagnose(case_wh, pol, "S1", AS_OF, metric="valid_tracking_rate", allow_stale=True)
    assert [f.target.metric for f in d.findings] == ["valid_tracking_rate"]
    assert d.findings[0].defects == 0 and d.findings[0].value == 1.0


def test_criterion_status_reads_the_policy_bar():
    base = {"metric": "order_defect_rate", "test": "value", "threshold": 0.01}
    admission = {**base, "section": "admission", "operator": "<"}
    assert criterion_status({**admission, "result": "pass", "value": 0.0079}, 0.2) == "ok"
    assert criterion_status({**admission, "result": "pass", "value": 0.0080}, 0.2) == "near"
    assert criterion_status({**admission, "result": "fail", "value": 0.02}, 0.2) == "fail"
    removal = {**base, "section": "removal", "operator": ">"}
    assert criterion_status({**removal, "result": "pass", "value": 0.0085}, 0.2) == "near"
    assert criterion_status({**removal, "result": "fail", "value": 0.02}, 0.2) == "fail"
    assert criterion_status({**removal, "section": "alert", "result": "fail", "value": 0.02}, 0.2) == "near"
    # higher is better: valid tracking >= 95 %, near when the invalid share is within 20 % of 5 %
    vtr = {"metric": "valid_tracking_rate", "test": "value", "threshold": 0.95, "section": "admission"}
    assert criterion_status({**vtr, "operator": ">=", "result": "pass", "value": 0.959}, 0.2) == "near"
    assert criterion_status({**vtr, "operator": ">=", "result": "pass", "value": 0.961}, 0.2) == "ok"
    # under the minimum volume: near only on the failing side
    low = {**admission, "result": "insufficient_data"}
    assert criterion_status({**low, "value": 0.5}, 0.2) == "near"
    assert criterion_status({**low, "value": 0.001}, 0.2) == "ok"


def test_performance_log_lists_every_order_with_flags(case_wh):
    log = performance_log(case_wh, "S1", AS_OF)
    assert list(log.columns) == LOG_COLUMNS
    lsr = log[(log.metric == "late_shipment_rate") & (log.window_days == 30)]
    assert len(lsr) == 10
    assert sorted(lsr[lsr.is_defect].order_id) == ["O1", "O10", "O2", "O3", "O6"]
    assert set(lsr[lsr.is_defect].reason) == {"late_shipment"} and set(lsr[~lsr.is_defect].reason) == {""}
    o3 = lsr.set_index("order_id").loc["O3"]
    assert o3.order_date == date(2024, 5, 3) and o3.anchor_date == date(2024, 5, 9)
    assert o3.drops_out_on == date(2024, 6, 8) and o3.window_start == date(2024, 5, 2)
    # the 10-day window (May 22 .. 31) holds none of them
    assert log[(log.metric == "late_shipment_rate") & (log.window_days == 10)].empty
    # the defective rows are exactly explain's defects, per metric and window
    d = defect_records(case_wh, "S1", AS_OF)
    mine = log[log.is_defect][["metric", "window_days", "order_id", "record_id"]]
    theirs = d[["metric", "window_days", "order_id", "record_id"]]
    key = ["metric", "window_days", "order_id", "record_id"]
    pd.testing.assert_frame_equal(
        mine.sort_values(key).reset_index(drop=True), theirs.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )  # fmt: skip


def odr_tables() -> dict[str, list[dict]]:
    """Order defects with several kinds, over both channels, and shipments of two carriers per order."""
    t = tables()
    for oid in ("A1", "A2", "A3"):
        t["orders"].append(
            dict(seller_id="S1", order_id=oid, marketplace_id="US", purchased_at="2024-05-07T18:00:00",
                 fulfillment_channel="AFN")
        )  # fmt: skip
        t["order_items"].append(
            {"seller_id": "S1", "order_id": oid, "line_id": "1", "sku": "C", "category": "garden"}
        )
    t["feedback"] = [
        {"seller_id": "S1", "order_id": "O1", "rating": 1, "submitted_at": "2024-05-20T00:00:00"},
        {"seller_id": "S1", "order_id": "A1", "rating": 2, "submitted_at": "2024-05-20T00:00:00"},
        {"seller_id": "S1", "order_id": "O7", "rating": 5, "submitted_at": "2024-05-20T00:00:00"},
    ]
    t["claims"] = [
        dict(seller_id="S1", order_id="O1", claim_id="C1", kind="a_to_z", filed_at="2024-05-21T00:00:00"),
        dict(seller_id="S1", order_id="O5", claim_id="C2", kind="chargeback", filed_at="2024-05-21T00:00:00",
             decision="denied"),
    ]  # fmt: skip
    return t


def test_order_defects_by_channel_and_reasons_in_the_log():
    wh = warehouse(odr_tables())
    odr = Target("S1", "US", "order_defect_rate", 60, "all", AS_OF)
    df, totals = pareto_frame(wh, seller_inputs(load_inputs(wh), "S1"), [odr])
    # 13 orders; defective: O1 (negative feedback and an A-to-z claim: one order), A1 (feedback)
    assert totals.iloc[0][["total_records", "total_defects"]].tolist() == [13, 2]
    assert _rows(df, "channel") == [("afn", 1, 1, 3), ("mfn", 2, 1, 10)]
    ch = df[df["dimension"] == "channel"].set_index("group")
    assert ch.loc["afn", "defect_rate_without"] == pytest.approx(1 / 10)
    log = performance_log(wh, "S1", AS_OF)
    reasons = log[(log.metric == "order_defect_rate") & log.is_defect].set_index("order_id")["reason"]
    assert reasons.to_dict() == {"A1": "negative_feedback", "O1": "negative_feedback a_to_z_claim"}


def test_shipment_level_metric_groups_each_shipment_by_its_own_carrier():
    t = tables()
    # O4 goes out in two parcels: UPS (confirmed) and a DHL one never scanned -> invalid tracking
    t["shipments"].append(
        {"seller_id": "S1", "order_id": "O4", "shipment_id": "O4-2", "confirmed_at": "2024-05-09T21:00:00",
         "carrier": "DHL", "tracking_id": None}
    )  # fmt: skip
    wh = warehouse(t)
    vtr = Target("S1", "US", "valid_tracking_rate", 30, "mfn", AS_OF)
    df, totals = pareto_frame(wh, seller_inputs(load_inputs(wh), "S1"), [vtr])
    assert totals.iloc[0][["total_records", "total_defects"]].tolist() == [10, 1]
    assert _rows(df, "carrier") == [("DHL", 1, 1, 1), ("USPS", 2, 0, 4), ("UPS", 3, 0, 5)]
    r = value(compute_metrics(wh, AS_OF), "valid_tracking_rate", window=30)
    assert (r["numerator"], r["denominator"]) == (9, 10)


# -- independent check: the rate without a group is the engine's rate on the data without it ------


def _group_orders(t: dict[str, pd.DataFrame], dimension: str, group) -> set[str]:
    """The order ids of a group, from the raw frames (not from the breakdown's query)."""
    o, it, sh = t["orders"], t.get("order_items"), t.get("shipments")
    if dimension == "channel":
        return set(o[o.fulfillment_channel.str.lower() == group].order_id)
    if dimension == "weekday":
        ts = (
            pd.to_datetime(o.purchased_at)
            .dt.tz_localize("UTC")
            .dt.tz_convert(ZoneInfo("America/Los_Angeles"))
        )
        return set(o[ts.dt.day_name().str.lower() == group].order_id)
    if dimension == "carrier":
        if group is None:
            shipped = set(sh[sh.carrier.notna()].order_id)
            return set(o.order_id) - shipped
        return set(sh[sh.carrier == group].order_id)
    col = it[dimension]
    if group is None:
        return set(o.order_id) - set(it[col.notna()].order_id)
    return set(it[col == group].order_id)


def _without(t: dict[str, pd.DataFrame], orders: set[str]) -> dict[str, pd.DataFrame]:
    return {name: df[~df.order_id.isin(orders)] if "order_id" in df.columns else df for name, df in t.items()}


def _check_every_group(t: dict[str, pd.DataFrame], target: Target, pick=None) -> int:
    """Check each group (``pick(rows)``: a subset of the Pareto rows to recompute); the count checked."""
    wh = warehouse(t)
    df, totals = pareto_frame(wh, seller_inputs(load_inputs(wh), "S1"), [target])
    n, d = totals.iloc[0][["total_records", "total_defects"]].astype(int).tolist()
    for _, g in df.groupby("dimension"):  # every record in some group; the Pareto ends at 100 %
        assert g["records"].sum() >= n and g["defects"].sum() >= d
        assert g["cum_records"].max() == n and g["cum_defects"].max() == d
    checked = 0
    rows = df.to_dict("records")
    for r in pick(rows) if pick else rows:
        group = r["group"] if isinstance(r["group"], str) else None
        assert 0 <= r["defects"] <= r["records"] <= n and r["defects"] <= d
        gone = _group_orders(t, r["dimension"], group)
        m = compute_metrics(warehouse(_without(t, gone)), target.as_of)
        row = m[
            (m.metric == target.metric)
            & (m.window_days == target.window_days)
            & (m.channel == target.channel)
        ]
        den = int(row.denominator.iloc[0]) if len(row) else 0
        num = int(row.numerator.iloc[0]) if len(row) else 0
        assert den == n - r["records"], (r, den)
        assert num == d - r["defects"], (r, num)
        if den:
            assert r["defect_rate_without"] == pytest.approx(num / den, abs=0)
        else:
            assert pd.isna(r["defect_rate_without"])
        checked += 1
    return checked


def _frames(specs) -> dict[str, pd.DataFrame]:
    """Orders from hypothesis: (sku, second sku or None, carrier or None, late, channel, day offset)."""
    orders, items, ships = [], [], []
    for i, (sku, sku2, carrier, late, channel, day) in enumerate(specs):
        oid = f"H{i}"
        bought = pd.Timestamp("2024-05-03T18:00:00") + pd.Timedelta(hours=7 * day)
        orders.append(
            {
                "seller_id": "S1",
                "order_id": oid,
                "marketplace_id": "US",
                "purchased_at": bought,
                "fulfillment_channel": channel,
                "latest_ship_at": pd.Timestamp("2024-05-10T06:59:59"),
            }
        )
        for j, s in enumerate(dict.fromkeys(x for x in (sku, sku2) if x), 1):
            items.append({"seller_id": "S1", "order_id": oid, "line_id": str(j), "sku": s, "category": s[0]})
        if carrier is not None:
            confirmed = pd.Timestamp("2024-05-10T20:00:00" if late else "2024-05-09T20:00:00")
            ships.append(
                {
                    "seller_id": "S1",
                    "order_id": oid,
                    "shipment_id": oid,
                    "confirmed_at": confirmed,
                    "carrier": carrier,
                    "tracking_id": "T" + oid,
                }
            )
    cols = ["seller_id", "order_id", "shipment_id", "confirmed_at", "carrier", "tracking_id"]
    return {
        "sellers": pd.DataFrame([{"seller_id": "S1", "marketplace_id": "US",
                                  "registered_at": pd.Timestamp("2023-01-01")}]),
        "orders": pd.DataFrame(orders),
        "order_items": pd.DataFrame(items, columns=["seller_id", "order_id", "line_id", "sku", "category"]),
        "shipments": pd.DataFrame(ships, columns=cols),
    }  # fmt: skip


SPEC = st.tuples(
    st.sampled_from(["a1", "a2", "b1", "c1"]),
    st.sampled_from([None, None, "a1", "b2"]),
    st.sampled_from([None, "UPS", "UPS", "DHL", "USPS"]),
    st.booleans(),
    st.sampled_from(["MFN", "MFN", "AFN"]),
    st.integers(0, 9),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SPEC, min_size=2, max_size=12), st.randoms(use_true_random=False))
def test_rate_without_each_group_is_the_engines_rate_without_it(specs, rnd):
    t = _frames(specs)
    if not (t["orders"].fulfillment_channel == "MFN").any():
        return

    def one_per_dimension(rows):  # the engine recomputed once per dimension (hypothesis picks which)
        by_dim: dict[str, list] = {}
        for r in rows:
            by_dim.setdefault(r["dimension"], []).append(r)
        return [rnd.choice(v) for v in by_dim.values()]

    assert _check_every_group(t, LSR, one_per_dimension) > 0


def test_rate_without_each_group_on_the_hand_case():
    t = {k: pd.DataFrame(v) for k, v in tables().items()}
    for k in ("orders", "shipments", "sellers"):
        for c in ("purchased_at", "latest_ship_at", "confirmed_at", "first_scan_at", "registered_at"):
            if c in t[k].columns:
                t[k][c] = pd.to_datetime(t[k][c])
    assert _check_every_group(t, LSR) == 10


# -- command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def case_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("diag") / "case.duckdb"
    warehouse(odr_tables(), url=str(path)).close()
    return path


def _cli(*args):
    from cxops.cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_diagnose_json_table_and_log(case_file, tmp_path):
    w = ["-w", str(case_file)]
    res = _cli("diagnose", "S1", "--as-of", "2024-05-31", "--allow-stale", "--format", "json", *w)
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    f = {x["metric"]: x for x in payload["findings"]}
    assert f["late_shipment_rate"]["numerator"] == 5 and f["late_shipment_rate"]["denominator"] == 10
    res = _cli("diagnose", "S1", "--as-of", "2024-05-31", "--allow-stale", "--lang", "zh", "--limit", "1", *w)
    assert res.exit_code == 0 and "造成了" in res.output and "--offset 1" in res.output, res.output
    out = tmp_path / "log.csv"
    res = _cli("diagnose", "S1", "--as-of", "2024-05-31", "--allow-stale", "--log", str(out), *w)
    assert res.exit_code == 0, res.output
    log = pd.read_csv(out)
    assert list(log.columns) == LOG_COLUMNS
    assert int(log[log.metric == "late_shipment_rate"].is_defect.sum()) == 5
    pq = tmp_path / "log.parquet"
    assert (
        _cli("diagnose", "S1", "--as-of", "2024-05-31", "--allow-stale", "--log", str(pq), *w).exit_code == 0
    )
    assert len(pd.read_parquet(pq)) == len(log)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--metric", "customer_satisfaction_index"], ["cannot be broken down"]),
        (["--near", "1.5"], ["--near"]),
        (["--log", "x.xlsx"], [".csv or .parquet"]),
        (["--as-of", "2030-01-01"], ["past", "--allow-stale"]),
    ],
)
def test_cli_diagnose_bad_input_is_one_clear_error(case_file, args, words):
    res = _cli("diagnose", "S1", "-w", str(case_file), *args)
    text = " ".join(res.output.split())
    assert res.exit_code != 0 and "error:" in text and "Traceback" not in res.output, res.output
    for w in words:
        assert w in text, res.output


def test_cli_diagnose_unknown_seller(case_file):
    res = _cli("diagnose", "NOPE", "-w", str(case_file), "--as-of", "2024-05-31", "--allow-stale")
    assert res.exit_code != 0 and "NOPE" in res.output and "Traceback" not in res.output


# -- real Olist data (skips without /work/shared/data) ------------------------------------------


@pytest.fixture(scope="module")
def olist_wh(tmp_path_factory):
    from conftest import shared_data_dir

    from cxops.ingest.olist import import_olist
    from cxops.warehouse import connect

    root = shared_data_dir()
    d = root / "olist-brazilian-ecommerce"
    if not d.is_dir():
        pytest.skip(f"shared Olist data not found at {d} (set CXOPS_SHARED_DATA)")
    paths = {
        "orders": d / "partial" / "olist_orders_dataset.UNION_42474.parquet",
        "reviews": d / "partial" / "olist_order_reviews_dataset.UNION_38466.parquet",
        "closed_deals": root / "olist-marketing-funnel" / "olist_closed_deals_dataset.csv",
    }
    wh = connect(str(tmp_path_factory.mktemp("olist") / "olist.duckdb"))
    import_olist(wh, d, None, paths=paths)
    return wh


def test_olist_diagnosis_agrees_with_the_engine_and_the_log(olist_wh):
    as_of = date(2018, 6, 30)
    top = olist_wh.con.sql(
        "SELECT seller_id FROM orders WHERE purchased_at >= TIMESTAMP '2018-05-01' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
    ).to_pandas()["seller_id"]
    pol = load_policy("customer-excellence")
    for seller in top:
        metrics = compute_metrics(olist_wh, as_of, pol.metric_options, seller_ids=[seller])
        log = performance_log(olist_wh, seller, as_of, pol.metric_options)
        for metric in ("order_defect_rate", "late_shipment_rate", "on_time_delivery_rate"):
            # diagnose checks its counts against the engine (RuntimeError otherwise)
            d = diagnose(olist_wh, pol, seller, as_of, metric=metric, limit=None)
            for f in d.findings:
                t = f.target
                e = value(metrics, metric, seller, t.window_days, t.channel)
                assert (f.numerator, f.denominator) == (int(e["numerator"]), int(e["denominator"]))
                mine = log[(log.metric == metric) & (log.window_days == t.window_days)]
                if t.channel != "all":
                    mine = mine[mine.channel == t.channel]
                assert (len(mine), int(mine.is_defect.sum())) == (f.records, f.defects)
                for dim in f.dimensions:  # Olist: SKU = product, category, weekday, channel
                    g = f.dimension(dim)
                    assert len(g) == f.group_counts[dim]
                    assert g["cum_records"].iloc[-1] == f.records and g["cum_defects"].iloc[-1] == f.defects
                    left = f.records - g["records"]
                    rate = (f.defects - g["defects"]) / left.where(left > 0)
                    pd.testing.assert_series_equal(
                        g["defect_rate_without"], rate, check_names=False, rtol=0, atol=0
                    )
                assert "carrier" not in f.dimensions  # Olist records no carrier
                assert "sku" in f.dimensions
