"""The real Olist data end to end, checked against an independent computation in plain DuckDB SQL.

Skips when ``../shared/data`` is absent (it is not part of the repository; set CXOPS_SHARED_DATA).
The independent SQL reads the raw Olist files directly (not the canonical tables) and applies the
metric definitions on São Paulo wall-clock times, which give the same local days as cxops's UTC
instants converted back with the IANA zone.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from cxops.ingest.olist import import_olist
from cxops.metrics.compute import compute_at
from cxops.warehouse import connect

AS_OF = [date(2017, 9, 30), date(2018, 3, 31), date(2018, 6, 30)]


@pytest.fixture(scope="module")
def olist(request, tmp_path_factory):
    from conftest import shared_data_dir

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
    report = import_olist(wh, d, None, paths=paths)
    return wh, d, paths, report


INDEPENDENT = """
WITH so AS (
  SELECT i.seller_id, i.order_id,
         max(CAST(i.shipping_limit_date AS TIMESTAMP)) AS ship_by,
         any_value(o.order_status) AS status,
         any_value(CAST(o.order_purchase_timestamp AS TIMESTAMP)) AS purchased,
         any_value(CAST(NULLIF(o.order_delivered_carrier_date, '') AS TIMESTAMP)) AS carrier,
         any_value(CAST(NULLIF(o.order_delivered_customer_date, '') AS TIMESTAMP)) AS delivered,
         any_value(CAST(NULLIF(o.order_estimated_delivery_date, '') AS TIMESTAMP)) AS estimated
  FROM read_parquet('{items}') i JOIN read_parquet('{orders}') o USING (order_id)
  GROUP BY i.seller_id, i.order_id
)
SELECT seller_id,
  -- late shipment rate, 30 days by ship-by date; cancelled-before-shipping and unknown lateness out
  count(*) FILTER (WHERE lsr_in) AS lsr_den,
  count(*) FILTER (WHERE lsr_in AND (carrier > ship_by OR (carrier IS NULL AND delivered IS NULL)))
    AS lsr_num,
  -- pre-fulfillment cancel rate, 7 days by order date: seller cancellations ('unavailable') before hand-over
  count(*) FILTER (WHERE CAST(purchased AS DATE) BETWEEN DATE '{as_of}' - 6 AND DATE '{as_of}') AS pfcr_den,
  count(*) FILTER (WHERE CAST(purchased AS DATE) BETWEEN DATE '{as_of}' - 6 AND DATE '{as_of}'
                   AND status = 'unavailable' AND carrier IS NULL) AS pfcr_num,
  -- on-time delivery rate, 30 days by promised date, delivered shipments, local dates compared
  count(*) FILTER (WHERE otdr_in) AS otdr_den,
  count(*) FILTER (WHERE otdr_in AND CAST(delivered AS DATE) <= CAST(estimated AS DATE)) AS otdr_num
FROM (
  SELECT *,
    CAST(ship_by AS DATE) BETWEEN DATE '{as_of}' - 29 AND DATE '{as_of}'
      AND NOT (status IN ('canceled', 'unavailable') AND carrier IS NULL)
      AND NOT (carrier IS NULL AND delivered IS NOT NULL) AS lsr_in,
    CAST(estimated AS DATE) BETWEEN DATE '{as_of}' - 29 AND DATE '{as_of}'
      AND delivered IS NOT NULL AS otdr_in
  FROM so
)
GROUP BY seller_id
"""


def test_olist_import_counts(olist):
    wh, d, paths, report = olist
    for e in report.entries:
        assert e.rows_read == e.rows_loaded + e.rows_quarantined
    assert wh.execute(wh.table("sellers").count().name("n")) == 3095
    n_orders = duckdb.sql(
        f"SELECT count(*) FROM (SELECT DISTINCT order_id, seller_id FROM "
        f"read_parquet('{d / 'olist_order_items_dataset.parquet'}') "
        f"WHERE order_id IN (SELECT order_id FROM read_parquet('{paths['orders']}')))"
    ).fetchall()[0][0]
    assert wh.execute(wh.table("orders").count().name("n")) == n_orders


def test_olist_metrics_match_independent_sql(olist):
    wh, d, paths, _ = olist
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")  # keep the wall clock of the shared Parquet's 'UTC'-labelled column
    metrics = compute_at(wh, AS_OF)
    checked = 0
    for as_of in AS_OF:
        ref = (
            con.sql(
                INDEPENDENT.format(
                    items=d / "olist_order_items_dataset.parquet",
                    orders=paths["orders"],
                    as_of=as_of.isoformat(),
                )
            )
            .df()
            .set_index("seller_id")
        )
        # a sample of real sellers: the busiest in the window and every 25th other one
        sample = list(ref.sort_values("lsr_den", ascending=False).index[:15]) + list(ref.index[::25])
        m = metrics[(metrics.as_of == as_of) & metrics.seller_id.isin(sample)]
        got = m.set_index(["seller_id", "metric", "window_days", "channel"])
        present = set(m.seller_id)
        for s in sample:
            r = ref.loc[s]
            if s not in present:  # not started by then: it must have no activity at all
                assert (r.lsr_den, r.pfcr_den, r.otdr_den) == (0, 0, 0), (as_of, s)
                continue
            for metric, w, ch, num, den in (
                ("late_shipment_rate", 30, "mfn", "lsr_num", "lsr_den"),
                ("pre_fulfillment_cancel_rate", 7, "mfn", "pfcr_num", "pfcr_den"),
                ("on_time_delivery_rate", 30, "all", "otdr_num", "otdr_den"),
            ):
                row = got.loc[(s, metric, w, ch)]
                assert (row.numerator, row.denominator) == (r[num], r[den]), (as_of, s, metric)
                checked += 1
    assert checked > 300
    # the metrics that Olist cannot provide are "not measured", never 0 %
    vtr = metrics[metrics.metric == "valid_tracking_rate"]
    assert (vtr.status == "not_measured").all() and vtr.value.isna().all()
    assert (metrics[metrics.metric == "a_to_z_claim_rate"].status == "not_measured").all()


def test_olist_declares_and_fills_its_deadline_inputs(olist):
    from cxops.canonical.deadline_inputs import NOT_HELD, PROVIDED
    from cxops.ingest.olist import DEADLINE_INPUTS

    wh, d, paths, report = olist
    assert {n for n, s in report.deadline_inputs.items() if s == PROVIDED} == set(DEADLINE_INPUTS)
    assert {n for n, s in report.deadline_inputs.items() if s != PROVIDED} == {
        n for n, s in report.deadline_inputs.items() if s == NOT_HELD
    }
    # filled wherever the raw files hold a value, counted independently on the raw files
    raw = duckdb.sql(
        f"""SELECT count(*) FILTER (WHERE ship_limit IS NOT NULL) AS ship_by,
                   count(*) FILTER (WHERE estimated IS NOT NULL) AS promised,
                   count(*) FILTER (WHERE carrier IS NOT NULL) AS scanned,
                   count(*) FILTER (WHERE delivered IS NOT NULL) AS delivered
            FROM (SELECT i.seller_id, i.order_id, max(i.shipping_limit_date) AS ship_limit,
                         any_value(NULLIF(o.order_estimated_delivery_date, '')) AS estimated,
                         any_value(NULLIF(o.order_delivered_carrier_date, '')) AS carrier,
                         any_value(NULLIF(o.order_delivered_customer_date, '')) AS delivered
                  FROM read_parquet('{d / "olist_order_items_dataset.parquet"}') i
                  JOIN read_parquet('{paths["orders"]}') o USING (order_id)
                  GROUP BY i.seller_id, i.order_id)"""
    ).fetchone()
    o, s = wh.table("orders"), wh.table("shipments")
    got = (
        wh.execute(o.latest_ship_at.count().name("n")),
        wh.execute(o.latest_delivery_at.count().name("n")),
        wh.execute(s.first_scan_at.count().name("n")),
        wh.execute(s.delivered_at.count().name("n")),
    )
    assert got == tuple(raw)
    assert wh.execute(s.filter(s.confirmed_at != s.first_scan_at).count().name("n")) == 0
