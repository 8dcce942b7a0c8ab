"""The demo marketplace (``cxops demo``'s data): contract, determinism, IANA local times, calibration
against the Olist figures, and the scripted storylines — in the data and through the lifecycle."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import holidays
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.canonical.schema import DEADLINE_TABLES, TABLES
from cxops.cli import app
from cxops.errors import InputError
from cxops.ingest.canonical_files import import_canonical
from cxops.synth import (
    CALIBRATION,
    DEMO_ORDERS_PER_SELLER,
    DEMO_STORIES,
    OLIST,
    ScriptedViolation,
    Story,
    generate,
)
from cxops.synth.calibration import value
from cxops.synth.generate import WRITTEN
from cxops.synth.measure import logit_normal_fit, measure_olist
from cxops.warehouse import connect

END = date(2026, 10, 31)
DEMO = {"sellers": 300, "days": 730, "seed": 7, "orders_per_seller": DEMO_ORDERS_PER_SELLER}
SMALL = {"sellers": 40, "days": 200, "seed": 11, "orders_per_seller": DEMO_ORDERS_PER_SELLER}
KEY = ["seller_id", "order_id"]
# the data cut: the end of 2026-10-31 in every demo marketplace = midnight in America/Los_Angeles (PDT)
CUT = pd.Timestamp("2026-11-01 07:00:00")


def _gen(path: Path, args: dict, **kw):
    return generate(path, args["sellers"], args["days"], seed=args["seed"], end=END,
                    orders_per_seller=args["orders_per_seller"], stories=DEMO_STORIES, **kw)  # fmt: skip


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    _gen(d, DEMO)
    return d


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("small")
    _gen(d, SMALL)
    return d


def _tables(d: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(d / f"{name}.parquet") for name in WRITTEN}


@pytest.fixture(scope="module")
def full(demo_dir) -> dict[str, pd.DataFrame]:
    return _tables(demo_dir)


@pytest.fixture(scope="module")
def small(small_dir) -> dict[str, pd.DataFrame]:
    return _tables(small_dir)


def _digests(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.glob("*.parquet"))}


def _story(name: str) -> Story:
    (s,) = [s for s in DEMO_STORIES if s.name == name]
    return s


def _sid(story: Story) -> str:
    return f"S{story.seller:04d}"


def _day(days_before_end: int) -> pd.Timestamp:
    return pd.Timestamp(END - timedelta(days=days_before_end))


# ----------------------------------------------------------------------------------------- contract


def test_same_seed_gives_identical_files_whatever_threads_and_chunks(small_dir, tmp_path):
    again = _gen(tmp_path / "again", SMALL, threads=1, chunk_orders=5_000)  # several chunks, one thread
    assert _digests(tmp_path / "again") == _digests(small_dir)
    assert again.stories == {"S0012": "star", "S0025": "improver", "S0033": "ip_complaint"}
    _gen(tmp_path / "other", {**SMALL, "seed": 12})
    other, mine = _digests(tmp_path / "other"), _digests(small_dir)
    assert other["marketplaces.parquet"] == mine["marketplaces.parquet"]
    assert other["orders.parquet"] != mine["orders.parquet"]


def test_every_table_has_the_contract_columns_and_types(small):
    # every table the marketplace's own data fills; the marketplace's reports (metrics it reported and
    # the snapshots of its report fetches) come from imports of its reports, not from the generator; the
    # generated orders carry their ship-by dates, so no deadline table (calendars, handling times …)
    skip = ("reported_metrics", "report_snapshots", *DEADLINE_TABLES)
    assert set(small) == {t for t in TABLES if t not in skip}
    for name, df in small.items():
        schema = TABLES[name]
        assert list(df.columns) == schema.column_names, name
        assert len(df) > 0, name
        for col in schema.columns:
            s = df[col.name]
            where = f"{name}.{col.name}"
            if col.dtype == "timestamp":
                assert s.dtype == "datetime64[us]", where  # UTC, timezone-naive
            elif col.dtype == "bool":
                assert s.dtype == bool, where
            elif col.dtype == "int":
                assert s.dtype == np.int64, where
            elif col.dtype == "float":
                assert s.dtype == np.float64, where
            else:
                assert pd.api.types.is_string_dtype(s), where
            if col.required:
                assert s.notna().all(), where
            if col.enum is not None:
                assert set(s.dropna().str.lower() if col.name != "fulfillment_channel" else s) <= set(
                    col.enum
                )


@pytest.mark.parametrize(
    "args",
    [SMALL, {"sellers": 120, "days": 420, "seed": 3, "orders_per_seller": 300, "end": date(2025, 3, 31)}],
    ids=["small", "spring-2025"],
)
def test_import_reports_nothing_quarantined_or_flagged(args, small_dir, tmp_path):
    if args is SMALL:
        d = small_dir
    else:
        d = tmp_path / "data"
        generate(d, args["sellers"], args["days"], seed=args["seed"], end=args["end"],
                 orders_per_seller=args["orders_per_seller"], stories=DEMO_STORIES)  # fmt: skip
    wh = connect("memory")
    try:
        report = import_canonical(wh, d)
    finally:
        wh.close()
    assert report.quarantined.empty, report.quarantined.head().to_dict("records")
    assert report.warnings.empty, report.warnings.head().to_dict("records")
    rows = {e.table: e.rows_loaded for e in report.entries if e.file != "(built-in)"}
    for name in WRITTEN:
        assert rows[name] == duckdb.sql(f"SELECT count(*) FROM '{d / name}.parquet'").fetchone()[0], name


def test_keys_are_unique(full):
    for name, df in full.items():
        assert not df.duplicated(list(TABLES[name].key)).any(), name
    for name, col in (("orders", "order_id"), ("shipments", "shipment_id"), ("buyer_messages", "message_id")):
        assert full[name][col].is_unique, name


def test_children_reference_existing_seller_orders(full):
    orders = full["orders"][KEY + ["marketplace_id"]]
    for name in ("order_items", "shipments", "cancellations", "feedback", "claims", "returns"):
        child = full[name][KEY].drop_duplicates()
        assert len(child.merge(orders, on=KEY)) == len(child), name
    msgs = full["buyer_messages"]
    with_order = msgs[msgs["order_id"].notna()]
    joined = with_order.merge(orders, on=KEY, suffixes=("", "_order"))
    assert len(joined) == len(with_order)
    assert (joined["marketplace_id"] == joined["marketplace_id_order"]).all()
    assert msgs["order_id"].isna().any()  # pre-sale questions without an order
    sellers = full["sellers"][["seller_id", "marketplace_id"]]
    for name in ("orders", "violations", "buyer_messages"):
        pairs = full[name][["seller_id", "marketplace_id"]].drop_duplicates()
        assert len(pairs.merge(sellers)) == len(pairs), name
    assert set(full["sellers"]["marketplace_id"]) <= set(full["marketplaces"]["marketplace_id"])


def test_cancelled_orders_have_no_shipment_and_events_are_in_order(full):
    assert full["cancellations"][KEY].merge(full["shipments"][KEY], on=KEY).empty
    o = full["orders"].set_index(KEY)
    c = full["cancellations"].set_index(KEY)
    assert (c["cancelled_at"] > o.loc[c.index, "purchased_at"]).all()
    s = full["shipments"].set_index(KEY)
    assert (s["confirmed_at"] > o.loc[s.index, "purchased_at"]).all()
    assert (s["first_scan_at"].dropna() > s.loc[s["first_scan_at"].notna(), "confirmed_at"]).all()
    d = s[s["delivered_at"].notna()]
    assert (d["delivered_at"] > d["confirmed_at"]).all()
    assert (d["delivered_at"] >= d["first_scan_at"].fillna(d["confirmed_at"])).all()
    r = full["returns"].merge(full["shipments"].groupby(KEY)["delivered_at"].max().reset_index(), on=KEY)
    r = r[r["delivered_at"].notna()]  # untracked parcels have no recorded delivery
    assert len(r) > 0.9 * len(full["returns"])
    assert (r["requested_at"] > r["delivered_at"]).all()  # returns follow the delivery


def test_units_and_totals_add_up(full):
    items = full["order_items"].assign(amount=lambda d: d["quantity"] * d["unit_price"])
    per_order = items.groupby(KEY).agg(units=("quantity", "sum"), total=("amount", "sum"))
    o = full["orders"].set_index(KEY)
    assert len(per_order) == len(o)
    assert (per_order["units"] == o.loc[per_order.index, "units"]).all()
    assert np.allclose(per_order["total"], o.loc[per_order.index, "order_total"], atol=0.01)
    shipped = full["shipments"].groupby(KEY).agg(units=("units", "sum"), last=("confirmed_at", "max"))
    ordered = o.loc[shipped.index, "units"]
    assert (shipped["units"] <= ordered).all()
    # a second package may still be unshipped at the data cut, never much earlier
    settled = shipped["last"] < CUT - pd.Timedelta(days=21)
    assert (shipped.loc[settled, "units"] == ordered[settled]).all()


def test_nothing_after_the_data_cut(full):
    deadlines = ("latest_ship_at", "latest_delivery_at")  # deadlines may lie after the cut
    for name, df in full.items():
        for col in TABLES[name].columns:
            if col.dtype == "timestamp" and col.name not in deadlines:
                assert not (df[col.name] >= CUT).any(), (name, col.name)
    # the cut is the end of the last day in the westernmost marketplace: later events elsewhere exist
    jp = full["orders"][full["orders"]["marketplace_id"] == "JP"]
    s = full["shipments"].merge(jp[KEY], on=KEY)
    assert (s["confirmed_at"] > pd.Timestamp("2026-10-31 15:00:00")).any()  # after JP's midnight
    recent = full["shipments"]["confirmed_at"] > CUT - pd.Timedelta(days=2)
    assert full["shipments"].loc[recent, "delivered_at"].isna().any()  # parcels still under way


# ----------------------------------------------------------------------------------------- local time


def _local(ts: pd.Series, mp: str) -> pd.Series:
    return ts.dt.tz_localize("UTC").dt.tz_convert(ZoneInfo(BUILTIN_MARKETPLACES[mp][0])).dt.tz_localize(None)


def test_deadlines_are_the_end_of_local_business_days(small):
    o = small["orders"]
    for mp, g in o.groupby("marketplace_id"):
        ship, deliver = _local(g["latest_ship_at"], mp), _local(g["latest_delivery_at"], mp)
        assert (ship.dt.strftime("%H:%M:%S") == "23:59:59").all(), mp
        assert (deliver.dt.strftime("%H:%M:%S") == "23:59:59").all(), mp
        mfn = (g["fulfillment_channel"] == "MFN").to_numpy()
        public = holidays.country_holidays(BUILTIN_MARKETPLACES[mp][1], years=range(2024, 2028))
        ship_days = ship[mfn].dt.date
        assert (ship[mfn].dt.day_of_week < 5).all(), mp  # handling counts business days
        assert not any(d in public for d in ship_days), mp  # … and skips public holidays
        days = (g["latest_ship_at"] - g["purchased_at"]).dt.total_seconds() / 86400
        assert days[mfn].between(0, 12).all(), mp  # 1-3 business days (+ weekends, Golden Week)
        assert (g["latest_delivery_at"] >= g["latest_ship_at"]).all(), mp
    assert (o["purchased_at"] < o["latest_ship_at"]).all()


def test_purchase_hours_follow_the_local_clock_in_summer_and_winter(tmp_path):
    """Olist's hour-of-day mix holds in local time on both sides of the DST changes: with a fixed
    UTC offset, the summer hours of US, EU and CA sellers would be shifted by one hour."""
    generate(tmp_path, 400, 365, seed=4, end=END, orders_per_seller=300)
    o = pd.read_parquet(tmp_path / "orders.parquet", columns=["marketplace_id", "purchased_at"])
    mix = np.asarray(OLIST["hour_bucket_mix"]) / sum(OLIST["hour_bucket_mix"])
    for months in ((6, 7, 8), (12, 1, 2)):
        local = pd.concat(
            [_local(g["purchased_at"], mp) for mp, g in o.groupby("marketplace_id") if mp != "JP"]
        )
        local = local[local.dt.month.isin(months)]
        share = (local.dt.hour // 3).value_counts(normalize=True).sort_index().to_numpy()
        assert np.abs(share - mix).max() < 0.012, (months, share.round(3))
        # the night bucket 3-6 h is Olist's rarest (0.6 %): a one-hour shift would triple it
        assert share[1] < 0.012, months


# ----------------------------------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    """2,000 sellers over a year without storylines: the calibrated population alone."""
    d = tmp_path_factory.mktemp("population")
    generate(d, 2000, 365, seed=5, end=END, orders_per_seller=150)
    return d


def _q(d: Path, sql: str):
    con = duckdb.connect()
    for name in WRITTEN:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{d / name}.parquet')")
    return con.execute(sql).fetchall()


def test_volume_matches_orders_per_seller_with_the_olist_tail(population):
    ((n,),) = _q(population, "SELECT count(*) FROM orders")
    assert abs(n - 2000 * 150) < 0.01 * 2000 * 150
    ((top,),) = _q(
        population,
        "WITH p AS (SELECT s.seller_id, count(o.order_id) AS n"
        " FROM (SELECT DISTINCT seller_id FROM sellers) s LEFT JOIN orders o USING (seller_id) GROUP BY 1),"
        " r AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS rk, count(*) OVER () AS c FROM p)"
        " SELECT sum(n) FILTER (WHERE rk <= c / 10) / sum(n) FROM r",
    )
    assert abs(top - OLIST["top10_seller_share"]) < 0.08  # Olist: the top 10 % hold 68.4 %


def test_rates_match_the_olist_figures(population):
    ((late,),) = _q(
        population,
        "SELECT avg(late::INT) FROM (SELECT max(s.confirmed_at) > any_value(o.latest_ship_at) AS late"
        " FROM shipments s JOIN orders o USING (seller_id, order_id)"
        " WHERE o.fulfillment_channel = 'MFN' GROUP BY s.seller_id, s.order_id)",
    )
    mu, sd = OLIST["late_handover_seller_logit"]
    pooled = float(np.mean(1 / (1 + np.exp(-(mu + sd * np.random.default_rng(0).standard_normal(200_000))))))
    assert abs(late - pooled) < 0.012, (late, pooled)  # Olist's per-seller logit-normal, pooled ~8.6 %
    ((cancel,),) = _q(population, "SELECT (SELECT count(*) FROM cancellations) / count(*) FROM orders")
    assert abs(cancel - OLIST["cancel_share"]) < 0.002
    ((late_deliv,),) = _q(
        population,
        "SELECT avg((s.delivered_at > o.latest_delivery_at)::INT) FROM shipments s JOIN orders o"
        " USING (seller_id, order_id) WHERE o.fulfillment_channel = 'MFN' AND s.delivered_at IS NOT NULL",
    )
    # Olist 6.8 %, plus parcels handed over too late to make any promise
    assert OLIST["late_delivery_share"] - 0.01 < late_deliv < OLIST["late_delivery_share"] + 0.025
    ratings = dict(_q(population, "SELECT rating, count(*) / sum(count(*)) OVER () FROM feedback GROUP BY 1"))
    assert abs(ratings[1] - OLIST["review_mix"][0]) < 0.05 and abs(ratings[5] - OLIST["review_mix"][4]) < 0.05
    ((one_line, one_unit),) = _q(
        population,
        "SELECT (SELECT avg((n = 1)::INT)"
        " FROM (SELECT count(*) AS n FROM order_items GROUP BY seller_id, order_id)),"
        " avg((quantity = 1)::INT) FROM order_items",
    )
    assert abs(one_line - OLIST["products_per_seller_order"][0]) < 0.004
    assert abs(one_unit - OLIST["units_per_seller_order"][0]) < 0.005
    ((log_sd,),) = _q(
        population,
        "SELECT stddev(ln(unit_price)) FROM order_items JOIN orders USING (seller_id, order_id)"
        " WHERE marketplace_id = 'US'",
    )
    assert abs(log_sd - OLIST["log_price_sd"]) < 0.1
    # the program's platform average order defect rate (about 1 %), from ratings and claims
    ((odr,),) = _q(
        population,
        "SELECT avg((n.order_id IS NOT NULL OR c.order_id IS NOT NULL)::INT) FROM orders o"
        " LEFT JOIN (SELECT DISTINCT seller_id, order_id FROM feedback"
        " WHERE rating <= 2 AND removed_at IS NULL) n"
        " USING (seller_id, order_id) LEFT JOIN (SELECT DISTINCT seller_id, order_id FROM claims"
        " WHERE decision NOT IN ('denied', 'withdrawn', 'reversed')) c USING (seller_id, order_id)",
    )
    assert 0.005 < odr < 0.015


def test_weekdays_follow_the_olist_mix_in_local_time(population):
    o = pd.read_parquet(population / "orders.parquet", columns=["marketplace_id", "purchased_at"])
    local = pd.concat([_local(g["purchased_at"], mp) for mp, g in o.groupby("marketplace_id")])
    share = local.dt.day_of_week.value_counts(normalize=True).sort_index().to_numpy()
    assert np.abs(share - np.asarray(OLIST["weekday_mix"])).max() < 0.01, share.round(4)


@pytest.mark.unit
def test_every_figure_names_its_source():
    for name, fig in CALIBRATION.items():
        assert fig.source in ("choice", "program") or fig.source.startswith("olist:"), name
        if fig.source.startswith("olist:"):
            assert fig.source.removeprefix("olist:") in OLIST, name
    assert sum(value("cancel_split").values()) == pytest.approx(1.0)


@pytest.mark.unit
def test_logit_normal_fit_recovers_a_known_spread():
    rng = np.random.default_rng(1)
    p = 1 / (1 + np.exp(-(-2.5 + 0.8 * rng.standard_normal(4000))))
    n = rng.integers(20, 200, 4000)
    mu, sd = logit_normal_fit(rng.binomial(n, p), n)
    assert abs(mu - -2.5) < 0.1 and abs(sd - 0.8) < 0.1


def test_calibration_constants_match_the_olist_data(shared_data):
    olist = shared_data / "olist-brazilian-ecommerce"
    if not olist.is_dir():
        pytest.skip(f"{olist} not found")
    assert measure_olist(olist) == OLIST


# ----------------------------------------------------------------------------------------- storylines


def test_storylines_are_in_the_data(full):
    o, v, sellers = full["orders"], full["violations"], full["sellers"]
    for s in DEMO_STORIES:
        mine = sellers[sellers["seller_id"] == _sid(s)]
        assert list(mine["marketplace_id"]) == [s.marketplace], s.name  # one marketplace
        got = v[v["seller_id"] == _sid(s)].sort_values("reported_at")
        assert list(got["kind"]) == [x.kind for x in sorted(s.violations, key=lambda x: -x.days_before_end)]
        assert list(got["is_warning"]) == [
            x.is_warning for x in sorted(s.violations, key=lambda x: -x.days_before_end)
        ]
        for x, at in zip(
            sorted(s.violations, key=lambda x: -x.days_before_end), got["reported_at"], strict=True
        ):
            local = _local(pd.Series([at]), s.marketplace).iloc[0]
            assert local.date() == _day(x.days_before_end).date(), s.name
    young = _story("young_star")
    reg = sellers.set_index("seller_id").loc[_sid(young), "registered_at"]
    assert (
        _local(pd.Series([reg]), young.marketplace).iloc[0].date()
        == _day(young.registered_days_before_end).date()
    )
    last90 = o[o["purchased_at"] >= CUT - pd.Timedelta(days=90)].groupby("seller_id").size()
    for name in ("star", "young_star", "grower", "removed_odr", "late_shipper"):
        assert last90[_sid(_story(name))] > 1500, name  # above the program's volume bar
    assert last90.get(_sid(_story("small_ip")), 0) < 200


def _defect_rate(full, story: Story, first: pd.Timestamp, last: pd.Timestamp) -> float:
    fb, cl = full["feedback"], full["claims"]
    neg = fb[(fb["rating"] <= 2) & fb["removed_at"].isna()][KEY]
    counted = cl[~cl["decision"].isin(["denied", "withdrawn", "reversed"])][KEY]
    bad = pd.concat([neg, counted]).drop_duplicates().assign(defect=True)
    o = full["orders"]
    o = o[(o["seller_id"] == _sid(story)) & o["purchased_at"].between(first, last)]
    return float(o.merge(bad, on=KEY, how="left")["defect"].fillna(False).mean())


def test_episodes_shift_the_measured_rates(full):
    # order defects during an episode, against the same seller before it (days by purchase)
    for name in ("removed_odr", "odr_recovered", "at_risk"):
        s = _story(name)
        (e,) = s.episodes
        during = _defect_rate(full, s, _day(e.days_before_end - e.ramp), _day(max(e.days_before_end - 40, 5)))
        before = _defect_rate(full, s, _day(e.days_before_end + 120), _day(e.days_before_end))
        assert before < 0.003 and during > max(0.006, 3 * before), (name, before, during)  # removal bar 0.6 %
    # the tracking slip: valid tracking (tracking id, carrier and scan) below 95 % during it, above after
    s = _story("tracking_slip")
    (e,) = s.episodes
    sh = full["shipments"].merge(full["orders"][KEY + ["fulfillment_channel"]], on=KEY)
    sh = sh[(sh["seller_id"] == _sid(s)) & (sh["fulfillment_channel"] == "MFN")]
    valid = sh["tracking_id"].notna() & sh["carrier"].notna() & sh["first_scan_at"].notna()
    span = sh["confirmed_at"].between(
        _day(e.days_before_end - e.ramp), _day(e.days_before_end - e.days + e.ramp)
    )
    assert (
        valid[span].mean() < 0.95 < valid[sh["confirmed_at"] > _day(e.days_before_end - e.days - 30)].mean()
    )


@pytest.fixture(scope="module")
def evaluated(demo_dir, tmp_path_factory) -> pd.DataFrame:
    """The demo imported and evaluated (customer-excellence, monthly) for the storyline sellers."""
    url = str(tmp_path_factory.mktemp("wh") / "demo.duckdb")
    runner = CliRunner()
    res = runner.invoke(app, ["import", "canonical", str(demo_dir), "-w", url, "--quarantine",
                              str(Path(url).parent / "q")], catch_exceptions=False)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = Path(url).parent / "out"
    args = ["evaluate", "--as-of", str(END + timedelta(days=1)), "--out", str(out), "-w", url]
    for s in DEMO_STORIES:
        args += ["--seller", _sid(s)]
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return pd.read_csv(out / "statuses.csv")


def test_storyline_sellers_end_in_the_state_their_story_names(evaluated):
    last = evaluated[evaluated["evaluation_date"] == evaluated["evaluation_date"].max()]
    assert last["evaluation_date"].iloc[0] == str(END + timedelta(days=1))
    got = dict(zip(last["seller_id"], last["state"], strict=True))
    assert got == {_sid(s): s.expect for s in DEMO_STORIES}
    # the README's quick tour: S0070 enrolled, S0080 removed for its order defect rate
    assert got["S0070"] == "enrolled" and got["S0080"] == "removed"
    s80 = last.set_index("seller_id").loc["S0080"]
    assert "order defect rate" in s80["reason"]


def test_storyline_paths(evaluated):
    def path(story: str) -> list[str]:
        g = evaluated[evaluated["seller_id"] == _sid(_story(story))].sort_values("evaluation_date")
        states = list(g["state"])
        return [x for k, x in enumerate(states) if k == 0 or x != states[k - 1]]

    assert path("star")[-1:] == ["enrolled"] and "removed" not in path("star")
    assert path("removed_odr")[-3:] == ["enrolled", "at_risk", "removed"]  # warned once, then removed
    assert path("tracking_slip")[-4:] == ["enrolled", "removed", "recovering", "enrolled"]
    assert path("odr_recovered")[-5:] == ["enrolled", "at_risk", "removed", "recovering", "enrolled"]
    assert path("improver")[-2:] == ["candidate", "enrolled"]
    assert path("at_risk")[-2:] == ["enrolled", "at_risk"]
    assert path("young_star") == ["not_eligible"]


# ----------------------------------------------------------------------------------------- arguments


def test_tiny_sizes_pass_the_contract(tmp_path):
    for k, (sellers, days) in enumerate(((1, 1), (3, 20))):
        d = tmp_path / str(k)
        res = generate(d, sellers, days, seed=k, end=END, stories=DEMO_STORIES)
        assert res.stories == {}  # every storyline seller is beyond the population
        wh = connect("memory")
        try:
            report = import_canonical(wh, d)
        finally:
            wh.close()
        assert report.quarantined.empty and report.warnings.empty


def test_bad_arguments_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        generate(tmp_path, 0, 10)
    with pytest.raises(InputError, match="marketplace"):
        generate(tmp_path, 10, 10, stories=[Story(1, "x", "BR", "enrolled", "")])
    with pytest.raises(InputError, match="twice"):
        generate(tmp_path, 10, 10, stories=[Story(1, "x", "US", "enrolled", "")] * 2)
    with pytest.raises(InputError, match="dimension"):
        generate(
            tmp_path, 10, 10, stories=[Story(1, "x", "US", "enrolled", "", quality_by_dimension={"q": 1})]
        )
    # a violation before the first day of data is left out, not an error
    late = Story(1, "x", "US", "enrolled", "", violations=(ScriptedViolation(400, "other"),))
    res = generate(tmp_path / "late", 2, 30, stories=[late])
    assert res.rows["violations"] == len(pd.read_parquet(tmp_path / "late" / "violations.parquet"))
    assert not pd.read_parquet(tmp_path / "late" / "violations.parquet")["seller_id"].eq("S0001").any()
    assert not list((tmp_path / "late").glob(".synth-*"))  # the temporary folder is gone
