"""Cost trade-offs (:mod:`cxops.advisor.costs`): hand-computed cases on a seller built by hand, the
cost sheet's errors, and the command on the demo data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxops.advisor.cost_sheet import REFERENCE_SOURCE, load_cost_sheet
from cxops.advisor.costs import STATUS_QUO, Volumes, advise_costs, scaled, with_afn
from cxops.errors import InputError
from cxops.policy.load import load_policy

AS_OF = date(2025, 6, 30)


def seller_metrics(over: dict | None = None) -> pd.DataFrame:
    """Seller S1 on US as of 2025-06-30: 1,000 MFN and 200 AFN orders in 30 days (3,600 in 90 days);
    every admission bar met; valid tracking rate 900 / 1,000 = 90 % (under the 95 % removal bar);
    on-time delivery 1,197 / 1,200 = 99.75 % (MFN 997 / 1,000, AFN 200 / 200)."""
    rows = {
        ("tenure_days", None, "all"): (400, None),
        ("order_count", 90, "all"): (3600, None),
        ("order_count", 30, "all"): (1200, None),
        ("order_count", 30, "mfn"): (1000, None),
        ("order_count", 30, "afn"): (200, None),
        ("major_violations", 90, "all"): (0, None),
        ("order_defect_rate", 60, "all"): (4, 2400),
        ("late_shipment_rate", 30, "mfn"): (5, 1000),
        ("customer_satisfaction_index", 90, "all"): (90 * 540, 540),
        ("on_time_delivery_rate", 30, "all"): (1197, 1200),
        ("on_time_delivery_rate", 30, "mfn"): (997, 1000),
        ("on_time_delivery_rate", 30, "afn"): (200, 200),
        ("median_first_response_hours", 90, "all"): (None, 300),
        ("late_response_rate", 90, "all"): (10, 300),
        ("valid_tracking_rate", 30, "mfn"): (900, 1000),
        ("account_health_warnings", 180, "all"): (0, None),
        ("ip_complaints", 90, "all"): (0, None),
    }
    rows.update(over or {})
    out = []
    for (metric, w, ch), (num, den) in rows.items():
        if metric == "median_first_response_hours":
            value = 5.0
        elif den is None:
            value = float(num)
        else:
            value = num / den if den else float("nan")
        out.append(
            {"seller_id": "S1", "marketplace_id": "US", "channel": ch, "metric": metric, "window_days": w,
             "as_of": AS_OF, "numerator": num, "denominator": den, "value": value,
             "status": "no_data" if den == 0 else "ok"}
        )  # fmt: skip
    df = pd.DataFrame(out)
    df["window_days"] = df["window_days"].astype("Int64")
    df["numerator"] = df["numerator"].astype(float)
    df["denominator"] = df["denominator"].astype(float)
    return df


SELLERS = pd.DataFrame({"seller_id": ["S1"], "marketplace_id": ["US"], "primary_category": ["Electronics"]})
VOLUMES = Volumes(orders_mfn=1000, orders_afn=200, returns=60, origin={})


def write_sheet(tmp_path, text: str, name: str = "costs.toml"):
    p = tmp_path / name
    p.write_text(text)
    return load_cost_sheet(p)


SHEET = """
currency = "USD"
[rates]
mfn_logistics_per_order = 6.00
storage_fees_per_month = 8000
return_handling_per_return = 10.0
afn_fee_per_order = 5.0
afn_storage_per_order = 0.5
"""


def by_option(advice):
    return {o.option: o for o in advice.options}


@pytest.mark.unit
def test_carrier_integration_secures_tracking_and_pays_from_the_volume_floor(tmp_path):
    """Status quo: admitted at the next evaluation (tracking is no admission bar), removed at the second
    (valid tracking 90 % < 95 %), no discount. Carrier-integrated shipping: tracking 100 %, enrolled at
    each of the three evaluations, on-time delivery 99.75 % >= 99.5 % at each → storage discount 10 %:
    0.10 × 8,000 = 800 a month, for 0.10 × 6.00 × 1,000 MFN orders = 600 a month: net +200.
    Break-even: no fixed fee, so the net is positive at any volume the program accepts; the program
    needs more than 1,500 orders in 90 days: 3,600 × v / 1,200 > 1,500 ⇔ v > 500 → 501 orders a month.
    Storage fees at which the 10 % pays for 600: 6,000 a month."""
    pol = load_policy("customer-excellence")
    sheet = write_sheet(tmp_path, SHEET)
    advice = advise_costs(pol, seller_metrics(), None, sheet, VOLUMES, SELLERS)
    opts = by_option(advice)
    sq = opts[STATUS_QUO]
    assert (sq.next_state, sq.steady_state) == ("enrolled", "removed")
    assert "removal:vtr" in sq.failing
    assert sq.discount == 0 and sq.benefit_value == 0
    ci = opts["carrier_integrated"]
    assert (ci.next_state, ci.steady_state) == ("enrolled", "enrolled")
    assert ci.failing == []
    assert ci.discount == pytest.approx(0.10)
    assert ci.benefit_value == pytest.approx(800.0)
    assert ci.extra_cost == pytest.approx(600.0)
    assert ci.net == pytest.approx(200.0)
    assert ci.break_even_orders == 501
    assert ci.break_even_note == "costs.breakeven.policy_floor"
    assert ci.break_even_storage == pytest.approx(6000.0)
    vtr = [m for m in ci.metrics if m["metric"] == "valid_tracking_rate"]
    assert vtr == [
        {"metric": "valid_tracking_rate", "window_days": 30, "channel": "mfn", "before": 0.9, "after": 1.0}
    ]


@pytest.mark.unit
def test_a_fixed_fee_moves_the_break_even_above_the_floor(tmp_path):
    """With a 120 a month fee for the integration: net = 800 − 600 − 120 = +80; the variable net is
    200 / 1,200 orders = 1/6 per order, so it pays for itself above 120 × 6 = 720 orders a month (the
    policy still grants the discount there); storage fees break-even (600 + 120) / 0.10 = 7,200."""
    pol = load_policy("customer-excellence")
    sheet = write_sheet(tmp_path, SHEET + "[options.carrier_integrated]\nmonthly_fee = 120\n")
    ci = by_option(advise_costs(pol, seller_metrics(), None, sheet, VOLUMES, SELLERS))["carrier_integrated"]
    assert ci.extra_cost == pytest.approx(720.0)
    assert ci.net == pytest.approx(80.0)
    assert ci.break_even_orders == pytest.approx(720.0)
    assert ci.break_even_note == ""
    assert ci.break_even_storage == pytest.approx(7200.0)


@pytest.mark.unit
def test_afn_and_free_labels_by_hand(tmp_path):
    """AFN moves the 1,000 MFN orders: on-time delivery (1,197 − 997 + 1,000 × 200/200) / 1,200 = 100 %,
    no MFN shipments left to judge tracking by; cost 1,000 × (5.00 + 0.50 − 6.00) = −500 a month; the
    10 % discount on 8,000 + 1,000 × 0.50 storage = 850: net 850 + 500 = 1,350. Free return labels:
    satisfaction 90 → 99, cost 0.15 × 10.00 × 60 returns = 90 a month, tracking still fails: removed,
    no discount, net −90, never pays for itself."""
    pol = load_policy("customer-excellence")
    opts = by_option(
        advise_costs(pol, seller_metrics(), None, write_sheet(tmp_path, SHEET), VOLUMES, SELLERS)
    )
    afn = opts["afn"]
    otdr = {(m["metric"], m["window_days"], m["channel"]): m for m in afn.metrics}
    assert otdr[("on_time_delivery_rate", 30, "all")]["after"] == pytest.approx(1.0)
    assert otdr[("valid_tracking_rate", 30, "mfn")]["after"] is None
    assert afn.steady_state == "enrolled"
    assert afn.extra_cost == pytest.approx(-500.0)
    assert afn.benefit_value == pytest.approx(850.0)
    assert afn.net == pytest.approx(1350.0)
    assert afn.break_even_note == "costs.breakeven.free"
    labels = opts["free_return_labels"]
    assert labels.metrics == [
        {
            "metric": "customer_satisfaction_index",
            "window_days": 90,
            "channel": "all",
            "before": 90.0,
            "after": 99.0,
        }
    ]
    assert labels.steady_state == "removed"
    assert labels.extra_cost == pytest.approx(90.0)
    assert labels.net == pytest.approx(-90.0)
    assert labels.break_even_note == "costs.breakeven.never"
    both = opts["carrier_integrated+free_return_labels"]
    assert both.extra_cost == pytest.approx(690.0) and both.net == pytest.approx(110.0)
    # carrier integration combined with AFN only when some MFN orders stay
    assert "carrier_integrated+afn" not in opts


@pytest.mark.unit
def test_without_rates_the_money_is_unknown_and_named(tmp_path):
    """The reference sheet alone: statuses and tiers are computed, money is not, and the missing fields
    are named."""
    pol = load_policy("customer-excellence")
    ci = by_option(advise_costs(pol, seller_metrics(), None, load_cost_sheet(None), VOLUMES, SELLERS))[
        "carrier_integrated"
    ]
    assert ci.steady_state == "enrolled" and ci.discount == pytest.approx(0.10)
    assert ci.extra_cost is None and ci.net is None
    assert ci.missing == ["rates.mfn_logistics_per_order"]
    assert ci.break_even_note == "costs.breakeven.missing"
    assert [a.source for a in ci.assumptions] == [REFERENCE_SOURCE] * 2


@pytest.mark.unit
def test_a_csv_sheet_equals_the_toml_sheet(tmp_path):
    csv_text = (
        "field,value\ncurrency,USD\nrates.mfn_logistics_per_order,6.00\nrates.storage_fees_per_month,8000\n"
    )
    csv_text += "options.carrier_integrated.logistics_increase,0.08\n"
    a = write_sheet(tmp_path, csv_text, "costs.csv")
    b = write_sheet(
        tmp_path,
        'currency = "USD"\n[rates]\nmfn_logistics_per_order = 6.0\nstorage_fees_per_month = 8000\n'
        "[options.carrier_integrated]\nlogistics_increase = 0.08\n",
    )
    assert a.model_dump(exclude={"source"}) == b.model_dump(exclude={"source"})
    assert a.source_of("options.carrier_integrated.logistics_increase") == str(tmp_path / "costs.csv")
    assert a.source_of("options.free_return_labels.satisfaction_points") == REFERENCE_SOURCE


AFN_FEE = "rates.afn_fee_per_order"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "c.toml",
            "[rates]\nmfn_logistics_per_order = -3\n",
            "rates.mfn_logistics_per_order: Input should be",
        ),
        ("c.toml", "[rates]\nstorage_fee = 10\n", "rates.storage_fee: unknown field"),
        ("c.toml", "[options.afn]\nshare = 1.5\n", "options.afn.share: Input should be less than or equal"),
        ("c.toml", 'currency = "dollars"\n', "currency: String should"),
        ("c.toml", "[rates\n", "is not valid TOML"),
        ("c.csv", f"field,value\n{AFN_FEE},abc\n", f"row 2: {AFN_FEE}: Input should be a valid number"),
        ("c.csv", f"field,value\n{AFN_FEE},1\n{AFN_FEE},2\n", f"row 3: field '{AFN_FEE}' given twice"),
        ("c.csv", f"field,value,extra\n{AFN_FEE},1,2\n", "row 2: expected two columns"),
        ("c.xlsx", "x", "name it .toml or .csv"),
    ],
)
@pytest.mark.unit
def test_a_bad_cost_sheet_names_the_file_and_the_field(tmp_path, name, text, expected):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_cost_sheet(p)
    assert str(p) in str(e.value)
    assert expected in str(e.value)


@pytest.mark.unit
def test_every_problem_of_a_sheet_is_reported_at_once(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[rates]\nmfn_logistics_per_order = -1\nafn_fee_per_order = 'x'\n")
    with pytest.raises(InputError) as e:
        load_cost_sheet(p)
    assert "rates.mfn_logistics_per_order" in str(e.value) and "rates.afn_fee_per_order" in str(e.value)
    with pytest.raises(InputError, match="not found"):
        load_cost_sheet(tmp_path / "missing.toml")


def _get(frame, metric, window, channel, col="numerator"):
    m = frame[(frame.metric == metric) & (frame.channel == channel) & (frame.window_days == window)]
    return float(m[col].iloc[0])


@pytest.mark.unit
@settings(max_examples=60, deadline=None)
@given(
    share=st.floats(0, 1),
    mfn=st.integers(0, 5000),
    afn=st.integers(0, 5000),
    on_time_mfn=st.floats(0, 1),
    factor=st.floats(0.01, 50),
)
def test_moving_orders_to_afn_conserves_them_and_scaling_keeps_rates(share, mfn, afn, on_time_mfn, factor):
    """Whatever share moves: orders of both channels add up to the same total, the all-channel delivery
    count is unchanged and its on-time count is the channels' sum; a share of 0 changes nothing. Scaling
    the volume changes no rate."""
    ok_mfn = round(mfn * on_time_mfn)
    frame = seller_metrics(
        {
            ("order_count", 30, "mfn"): (mfn, None),
            ("order_count", 30, "afn"): (afn, None),
            ("order_count", 30, "all"): (mfn + afn, None),
            ("on_time_delivery_rate", 30, "mfn"): (ok_mfn, mfn),
            ("on_time_delivery_rate", 30, "afn"): (afn, afn),
            ("on_time_delivery_rate", 30, "all"): (ok_mfn + afn, mfn + afn),
        }
    )
    sheet = load_cost_sheet(None).model_copy(
        update={"options": load_cost_sheet(None).options.model_copy(
            update={"afn": load_cost_sheet(None).options.afn.model_copy(update={"share": share})}
        )}
    )  # fmt: skip
    out = with_afn(frame, sheet)
    total = _get(out, "order_count", 30, "mfn") + _get(out, "order_count", 30, "afn")
    assert total == pytest.approx(mfn + afn)
    assert _get(out, "order_count", 30, "mfn") == pytest.approx(mfn * (1 - share))
    assert _get(out, "on_time_delivery_rate", 30, "all", "denominator") == pytest.approx(mfn + afn)
    channels = _get(out, "on_time_delivery_rate", 30, "mfn") + _get(out, "on_time_delivery_rate", 30, "afn")
    assert _get(out, "on_time_delivery_rate", 30, "all") == pytest.approx(channels)
    if share == 0:
        pd.testing.assert_frame_equal(out, frame)
    big = scaled(frame, factor)
    rates = frame["metric"].map(lambda m: m.endswith("_rate") or m == "customer_satisfaction_index")
    pd.testing.assert_series_equal(big.loc[rates, "value"], frame.loc[rates, "value"])
    assert _get(big, "order_count", 90, "all", "value") == pytest.approx(3600 * factor)
