"""Eligibility inquiries ("Performance Advisor Request") on a small generated marketplace (the demo's
generator): the standing of one seller equals the full evaluation's, values checked against the
generated orders, the answer stored with the case and sent."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from _cases import events
from _synth import generate_tables as generate
from _synth import write_tables

from cxops.errors import InputError, NotFoundError
from cxops.ingest.canonical_files import import_canonical
from cxops.policy.evaluate import evaluate_policy
from cxops.policy.load import load_policy
from cxops.service import cases as C
from cxops.service.evaluation import run_evaluation
from cxops.warehouse import connect

AS_OF = date(2026, 10, 31)
POLICY = load_policy("customer-excellence")


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    tables = generate(seed=3, sellers=12, days=420, end=AS_OF)
    d = tmp_path_factory.mktemp("lake")
    write_tables(tables, d, "parquet")
    wh = connect("memory")
    import_canonical(wh, d, None)
    yield tables, wh
    wh.close()


@pytest.fixture(scope="module")
def full(market):
    """The evaluation of every seller at once (the independent path)."""
    _, wh = market
    return run_evaluation(wh, POLICY, AS_OF)


@pytest.fixture(scope="module")
def standing(market):
    _, wh = market
    return C.latest_standing(wh, POLICY, "S0006", "UK", AS_OF)


@pytest.mark.slow
def test_standing_of_one_seller_equals_the_full_evaluation(market, full, standing):
    m = full.frame("metrics")
    here = m[
        (m["seller_id"] == "S0006")
        & (m["marketplace_id"] == "UK")
        & (pd.to_datetime(m["as_of"]).dt.date == AS_OF)
    ]
    expect = evaluate_policy(POLICY, here)
    expect = expect[expect["section"].isin(["eligibility", "admission"])]
    got = pd.DataFrame(standing.criteria)
    assert got["criterion_id"].tolist() == expect["criterion_id"].tolist()
    for col in ("value", "numerator", "denominator", "threshold", "gap"):
        pd.testing.assert_series_equal(
            pd.to_numeric(got[col], errors="coerce").astype("float64").reset_index(drop=True),
            pd.to_numeric(expect[col], errors="coerce").astype("float64").reset_index(drop=True),
            check_names=False,
        )
    assert got["result"].tolist() == expect["result"].tolist()
    final = full.frame("final").set_index(["seller_id", "marketplace_id"]).loc[("S0006", "UK")]
    assert (standing.state, standing.since) == (final["state"], pd.Timestamp(final["since"]).date())
    proj = full.frame("projected").set_index(["seller_id", "marketplace_id"]).loc[("S0006", "UK")]
    assert standing.projected_state == proj["projected_state"]
    assert standing.next_evaluation == date(2026, 11, 1) and standing.last_evaluation == date(2026, 10, 1)


def test_standing_values_from_the_generated_orders(market, standing):
    tables, _ = market
    o = tables["orders"]
    o = o[(o["seller_id"] == "S0006") & (o["marketplace_id"] == "UK")]
    local_day = (
        pd.to_datetime(o["purchased_at"])
        .dt.tz_localize("UTC")
        .dt.tz_convert(ZoneInfo("Europe/London"))
        .dt.date
    )
    in_90 = int(((local_day >= date(2026, 8, 2)) & (local_day <= AS_OF)).sum())  # 90 local days to 31 Oct
    crit = {c["criterion_id"]: c for c in standing.criteria}
    vol = crit["order_volume"]
    assert vol["value"] == in_90 and vol["operator"] == ">" and vol["threshold"] == 1500
    assert vol["result"] == "fail" and vol["gap"] == 1501 - in_90  # one more than 1,500 orders needed
    reg = tables["sellers"].set_index("seller_id").loc["S0006", "registered_at"]
    reg_day = pd.Timestamp(reg).tz_localize("UTC").tz_convert("Europe/London").date()
    assert crit["tenure"]["value"] == (AS_OF - reg_day).days and crit["tenure"]["result"] == "pass"
    odr = crit["odr"]  # fewer than 100 orders in 60 days: "not enough data", never pass or fail
    assert odr["denominator"] < 100 and odr["result"] == "insufficient_data" and odr["gap"] is None
    assert standing.state == "not_eligible" and standing.projected_state == "not_eligible"


def test_inquiry_is_answered_at_once_stored_and_sent(store, standing):
    v = C.open_inquiry(
        store, None, POLICY, "S0006", "UK", as_of=AS_OF, actor="seller-s0006", standing=lambda *args: standing
    )
    assert (v.kind, v.status, v.source, v.owner) == ("inquiry", "answered", "seller", None)
    assert v.answer == standing.to_json()
    assert v.answer["next_evaluation"] == "2026-11-01" and v.answer["projected_state"] == "not_eligible"
    crit = {c["criterion_id"]: c for c in v.answer["criteria"]}
    assert crit["odr"]["result"] == "insufficient_data" and crit["odr"]["gap"] is None
    assert list(v.history["to_status"]) == ["open", "answered"]
    assert v.entries["kind"].tolist() == ["answer"]
    sent = events(store, ["case.updated"])
    assert len(sent) == 1 and sent["details"].item()["answer"] == v.answer
    again = C.get_case(store, v.id)  # read back from the store (JSON round trip)
    assert again.answer == v.answer


def test_inquiry_end_to_end(store, market):
    _, wh = market
    v = C.open_inquiry(
        store,
        wh,
        POLICY,
        "S0009",
        "FR",
        as_of=AS_OF,
        actor="op",
        by="operator",
        question="Why was I removed?",
    )
    assert v.source == "operator" and v.subject == "Why was I removed?"
    assert {c["section"] for c in v.answer["criteria"]} == {"eligibility", "admission"}
    assert v.answer["seller_id"] == "S0009" and v.answer["as_of"] == AS_OF.isoformat()


def test_unknown_seller_or_marketplace(store, market):
    _, wh = market
    with pytest.raises(NotFoundError, match="unknown seller: no data for seller NOBODY"):
        C.latest_standing(wh, POLICY, "NOBODY", "US", AS_OF)
    with pytest.raises(NotFoundError, match=r"seller S0009 has no data on marketplace US .*\(it has: FR\)"):
        C.open_inquiry(store, wh, POLICY, "S0009", "US", as_of=AS_OF, actor="op")
    with pytest.raises(InputError, match="actor"):
        C.open_inquiry(store, wh, POLICY, "S0009", "FR", as_of=AS_OF, actor="")
    assert events(store).empty
