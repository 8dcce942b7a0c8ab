"""What one source provides never changes whether another seller's metric is measured.

Two sources for different sellers in one warehouse must give each seller exactly the metrics it gets
in a warehouse holding only its own source: every row (status, note, numerator, denominator, value),
as of a day and as a short daily series. The second source lacks columns and tables the first has
(hypothesis picks which), so with warehouse-wide provenance the first seller's metrics would turn
"not measured" (or the second's be computed from blanks).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from _synth import generate_tables, write_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxops.ingest import import_canonical, import_olist
from cxops.ingest.amazon import import_amazon
from cxops.metrics.compute import compute_metrics, compute_series, measurable, measurable_by_source
from cxops.warehouse import connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # three warehouses per example

HERE = Path(__file__).parent
AS_OF = date(2026, 10, 31)
KEYS = ["seller_id", "marketplace_id", "channel", "metric", "window_days", "as_of"]
#: Optional columns a source may lack, and optional tables it may not have.
DROPPABLE = {
    "orders": ["latest_ship_at", "latest_delivery_at", "units"],
    "shipments": ["carrier", "tracking_id", "first_scan_at", "units", "delivered_at"],
    "buyer_messages": ["first_response_at"],
    "cancellations": ["via_buyer_request"],
}
OPTIONAL_TABLES = [
    "shipments",
    "feedback",
    "claims",
    "buyer_messages",
    "cancellations",
    "violations",
    "returns",
]


@pytest.fixture(scope="module")
def marketplace():
    return generate_tables(seed=11, sellers=4, days=35, end=AS_OF)


def _subset(tables, sellers, drop_cols, drop_tables):
    out = {}
    for t, df in tables.items():
        if t in drop_tables:
            continue
        if "seller_id" in df.columns:
            df = df[df["seller_id"].isin(sellers)]
        out[t] = df.drop(columns=[c for c in drop_cols.get(t, []) if c in df.columns])
    return out


def _metrics(dirs, series=False):
    wh = connect("memory")
    for d in dirs:
        import_canonical(wh, d)
    m = compute_metrics(wh, AS_OF)
    s = compute_series(wh, date(2026, 10, 29), AS_OF) if series else None
    wh.close()
    return m, s


def _same(mixed: pd.DataFrame, alone: pd.DataFrame, sellers) -> None:
    a = mixed[mixed["seller_id"].isin(sellers)].sort_values(KEYS).reset_index(drop=True)
    b = alone[alone["seller_id"].isin(sellers)].sort_values(KEYS).reset_index(drop=True)
    assert len(a) == len(b) and len(a) > 0
    pd.testing.assert_frame_equal(a, b)


def _check(tmp_path, tables, drop_cols, drop_tables, series=False):
    sellers = sorted(tables["sellers"]["seller_id"])
    ga, gb = sellers[: len(sellers) // 2], sellers[len(sellers) // 2 :]
    write_tables(_subset(tables, ga, {}, ()), tmp_path / "a", "parquet")
    write_tables(_subset(tables, gb, drop_cols, drop_tables), tmp_path / "b", "csv")
    mixed, mixed_s = _metrics([tmp_path / "a", tmp_path / "b"], series)
    only_a, a_s = _metrics([tmp_path / "a"], series)
    only_b, b_s = _metrics([tmp_path / "b"], series)
    _same(mixed, only_a, ga)
    _same(mixed, only_b, gb)
    if series:
        _same(mixed_s, a_s, ga)
        _same(mixed_s, b_s, gb)
    return mixed, ga, gb


def test_amazon_like_source_without_deadlines_beside_a_full_source(marketplace, tmp_path):
    """The issue's case: one source without ship-by deadlines, tracking details, claims or messages."""
    mixed, ga, gb = _check(
        tmp_path,
        marketplace,
        {"orders": ["latest_ship_at"], "shipments": ["carrier", "first_scan_at"]},
        ("claims", "buyer_messages"),
        series=True,
    )
    lsr = mixed[mixed["metric"] == "late_shipment_rate"]
    assert set(lsr.loc[lsr["seller_id"].isin(gb), "status"]) == {"not_measured"}
    assert set(lsr.loc[lsr["seller_id"].isin(gb), "note"]) == {
        "the orders source does not provide latest_ship_at"
    }
    assert "not_measured" not in set(lsr.loc[lsr["seller_id"].isin(ga), "status"])
    az = mixed[mixed["metric"] == "a_to_z_claim_rate"]
    assert set(az.loc[az["seller_id"].isin(gb), "note"]) == {"no claims data imported"}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drop_cols=st.fixed_dictionaries(
        {t: st.lists(st.sampled_from(cols), unique=True, max_size=len(cols)) for t, cols in DROPPABLE.items()}
    ),
    drop_tables=st.lists(st.sampled_from(OPTIONAL_TABLES), unique=True, max_size=4),
)
def test_each_seller_sees_only_its_own_sources(marketplace, tmp_path_factory, drop_cols, drop_tables):
    _check(tmp_path_factory.mktemp("prov"), marketplace, drop_cols, tuple(drop_tables))


def test_olist_sellers_are_unchanged_by_a_header_only_amazon_orders_file(tmp_path):
    """Import Olist, then a header-only Amazon orders file for another seller: no Olist seller's
    metric changes (it used to turn late shipment "not measured" for every seller)."""
    wh = connect("memory")
    import_olist(wh, HERE / "data" / "olist_mini")
    day = date(2018, 1, 31)
    before = compute_metrics(wh, day)
    header = (HERE / "data" / "amazon" / "all_orders_us.txt").read_text().splitlines()[0]
    (tmp_path / "orders.txt").write_text(header + "\n")
    import_amazon(wh, "AMZ1", "US", tmp_path / "orders.txt")
    after = compute_metrics(wh, day)
    olist = sorted(before["seller_id"].unique())
    _same(after, before, olist)
    assert "AMZ1" not in set(after["seller_id"])  # no order: not in the universe


def test_amazon_seller_beside_olist_is_measured_from_its_own_reports(tmp_path):
    wh = connect("memory")
    import_olist(wh, HERE / "data" / "olist_mini")
    import_amazon(wh, "AMZ1", "US", HERE / "data" / "amazon" / "all_orders_us.txt")
    m = compute_metrics(wh, date(2024, 5, 31))
    mine = m[m["seller_id"] == "AMZ1"].set_index(["metric", "window_days", "channel"])
    assert (
        mine.loc[("late_shipment_rate", 30, "mfn"), "note"]
        == "the orders source does not provide latest_ship_at"
    )
    # Olist provides feedback, but this seller's own sources do not: not measured, never 0 %
    assert mine.loc[("negative_feedback_rate", 60, "all"), "status"] == "not_measured"
    alone = connect("memory")
    import_amazon(alone, "AMZ1", "US", HERE / "data" / "amazon" / "all_orders_us.txt")
    _same(m, compute_metrics(alone, date(2024, 5, 31)), ["AMZ1"])


def test_import_report_says_what_the_source_makes_measurable(tmp_path):
    wh = connect("memory")
    rep = import_canonical(wh, HERE / "data" / "canonical_mini")
    assert rep.source_id == f"canonical:{(HERE / 'data' / 'canonical_mini').resolve()}"
    assert set(rep.provided) == {
        "sellers",
        "orders",
        "shipments",
        "feedback",
        "violations",
        "marketplaces",
    } - {"marketplaces"}
    got = measurable_by_source(wh, rep.source_id)
    # the mini set has orders with ship-by and promise, shipments with tracking, feedback, violations;
    # no claims, cancellations or buyer messages
    assert got["late_shipment_rate"] is None and got["valid_tracking_rate"] is None
    assert got["order_defect_rate"] is None and got["negative_feedback_rate"] is None
    assert got["a_to_z_claim_rate"] == "no claims data imported"
    assert got["pre_fulfillment_cancel_rate"] == "no cancellations data imported"
    assert got["late_response_rate"] == "no buyer_messages data imported"
    assert got == measurable(rep.provided)
    # the flat orders file alone: no deadlines, no initiator
    amz = import_amazon(wh, "S9", "US", HERE / "data" / "amazon" / "all_orders_us.txt")
    got = measurable_by_source(wh, amz.source_id)
    assert got["late_shipment_rate"] == "the orders source does not provide latest_ship_at"
    assert got["pre_fulfillment_cancel_rate"] == "the cancellations source does not provide initiated_by"
    assert got["order_count"] is None


def test_a_source_recorded_without_coverage_covers_every_seller(marketplace, tmp_path):
    """Tables attached by hand with ``record_provided`` only (the README's Spark snippet): one source
    for every seller; a column it does not provide is unknown for all of them."""
    write_tables(marketplace, tmp_path / "m", "parquet")
    wh = connect("memory")
    import_canonical(wh, tmp_path / "m")
    wh.record_provided("shipments", ["seller_id", "order_id", "shipment_id", "confirmed_at"], "lake")
    m = compute_metrics(wh, AS_OF)
    vtr = m[m["metric"] == "valid_tracking_rate"]
    assert set(vtr["status"]) == {"not_measured"}
    assert set(vtr["note"]) == {"the shipments source does not provide tracking_id"}
