"""Handling-time advisor and holiday planner (issue 13), on hand-computed cases.

US marketplace (America/Los_Angeles; November 2026 is PST = UTC-8), default cut-off 14:00 local, day-0
convention, US federal holidays: Veterans Day Wed 11 Nov 2026 and Thanksgiving Thu 26 Nov 2026.
Orders are placed at 09:00 PST (17:00Z) and confirmed at 10:00 PST (18:00Z) unless said otherwise.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxops.ingest import import_canonical
from cxops.policy.load import load_policy
from cxops.service.deadline_advice import (
    handling_time_advice,
    holiday_plan,
    parse_target,
    policy_target,
    write_latency_file,
)
from cxops.warehouse import connect


def _write(d: Path, tables: dict[str, list[dict]]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(d / f"{name}.csv", index=False)
    return d


def _at(day: int, hour_utc: int = 17) -> str:
    return f"2026-11-{day:02d}T{hour_utc:02d}:00:00Z"


def _data(orders, shipments, settings, items, category=None):
    return {
        "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
        "orders": [
            {"seller_id": "S1", "order_id": o, "marketplace_id": "US", "purchased_at": at,
             "fulfillment_channel": ch}
            for o, at, ch in orders
        ],
        "order_items": [
            {"seller_id": "S1", "order_id": o, "line_id": f"{o}-1", "sku": sku, "category": category}
            for o, sku in items
        ],
        "shipments": [
            {"seller_id": "S1", "order_id": o, "shipment_id": "1", "confirmed_at": at} for o, at in shipments
        ],
        "handling_times": [
            {"seller_id": "S1", "marketplace_id": "US", "sku": sku, "effective_from": "2026-01-01T00:00:00Z",
             "handling_days": h}
            for sku, h in settings
        ],
    }  # fmt: skip


@pytest.fixture
def policy():
    return load_policy("customer-excellence")


# order day -> confirmation day (business days between them on the US calendar)
SHIPPED = {
    "O1": (2, 4),  # Mon -> Wed: 2
    "O2": (3, 5),  # Tue -> Thu: 2
    "O3": (4, 9),  # Wed -> Mon: 3 (Thu, Fri, Mon)
    "O4": (5, 9),  # Thu -> Mon: 2 (Fri, Mon)
    "O5": (6, 10),  # Fri -> Tue: 2 (Mon, Tue)
    "O6": (9, 12),  # Mon -> Thu: 2 (Tue, Thu; Wed 11 is Veterans Day)
    "O7": (10, 13),  # Tue -> Fri: 2 (Thu, Fri)
    "O8": (12, 17),  # Thu -> Tue: 3 (Fri, Mon, Tue)
    "O9": (13, 18),  # Fri -> Wed: 3
    "O10": (16, 19),  # Mon -> Thu: 3
    "O11": (17, 18),  # Tue -> Wed: 1
}


@pytest.fixture
def one_sku(tmp_path):
    wh = connect("memory")
    orders = [(o, _at(d), "MFN") for o, (d, _) in SHIPPED.items()] + [("F1", _at(10), "AFN")]
    ships = [(o, _at(c, 18)) for o, (_, c) in SHIPPED.items()] + [("F1", _at(11, 18))]
    items = [(o, "A") for o in SHIPPED] + [("F1", "A")]
    import_canonical(wh, _write(tmp_path / "d", _data(orders, ships, [("A", 1)], items)))
    yield wh
    wh.close()


def test_target_is_the_policys_admission_bar(policy):
    t = policy_target(policy)
    lsr = next(c for c in policy.admission.criteria if c.metric == "late_shipment_rate")
    assert (t.rate, t.operator) == (lsr.threshold, lsr.operator) == (0.012, "<=")
    assert parse_target("40%").rate == pytest.approx(0.4) and parse_target("0.05").rate == 0.05


def test_one_sku_shipping_in_2_to_3_days_while_set_to_1_is_advised_3(one_sku, policy):
    a = handling_time_advice(one_sku, policy, "S1", as_of=date(2026, 11, 20), allow_stale=True)
    assert [s.sku for s in a.skus] == ["A"]  # the AFN order is the marketplace's
    s = a.skus[0]
    assert (s.current, s.current_source) == (1, "setting")
    assert s.distribution == {1: 1, 2: 6, 3: 4}
    assert (s.p50, s.p90, s.p_max) == (2, 3, 3)
    # with 1 day every order but O11 was late: 10/11; with 2 days the four 3-day orders: 4/11 > 1.2 %
    assert (s.orders, s.late_had, s.rate_had) == (11, 10, pytest.approx(10 / 11))
    assert (s.proposed, s.late_would, s.rate_would, s.reachable) == (3, 0, 0.0, True)
    assert (a.orders, a.late_had, a.late_would) == (11, 10, 0)
    # a looser target, inclusive: 4/11 = 36.4 % <= 40 % -> 2 days
    b = handling_time_advice(
        one_sku, policy, "S1", as_of=date(2026, 11, 20), target=parse_target("40%"), allow_stale=True
    )
    assert (b.skus[0].proposed, b.skus[0].late_would) == (2, 4)


def test_preview_shows_thanksgiving(one_sku, policy):
    a = handling_time_advice(one_sku, policy, "S1", as_of=date(2026, 11, 20), allow_stale=True)
    rows = {(r.order_day, r.handling_days): r for r in a.preview}
    assert {h for _, h in rows} == {1, 3} and len(rows) == 28  # 14 days x (current, proposed)
    # Mon 23 Nov with 3 days: Tue, Wed, (Thu 26 Thanksgiving), Fri 27; with 1 day: Tue 24
    r = rows[(date(2026, 11, 23), 3)]
    assert r.ship_by_day == date(2026, 11, 27) and r.latest_ship_at == datetime(2026, 11, 27, 22, 0)
    assert [(d, "Thanksgiving" in n) for d, n in r.closed] == [(date(2026, 11, 26), True)]
    assert rows[(date(2026, 11, 23), 1)].ship_by_day == date(2026, 11, 24)
    # Sat 21 Nov: received Mon 23 -> 3 days: Fri 27
    assert rows[(date(2026, 11, 21), 3)].received_day == date(2026, 11, 23)
    assert rows[(date(2026, 11, 21), 3)].ship_by_day == date(2026, 11, 27)


@pytest.mark.parametrize("name,sep", [("up.txt", "\t"), ("up.csv", ",")])
def test_export_is_a_fulfillment_latency_flat_file(one_sku, policy, tmp_path, name, sep):
    a = handling_time_advice(one_sku, policy, "S1", as_of=date(2026, 11, 20), allow_stale=True)
    p = tmp_path / name
    assert write_latency_file(a, p) == 1
    assert p.read_text() == f"sku{sep}fulfillment-latency\nA{sep}3\n"


def _holiday_wh(tmp_path):
    wh = connect("memory")
    shipped = {f"S{i}": d for i, d in enumerate((2, 3, 4, 5, 6, 9), start=1)}  # next day -> on time (2 days)
    orders = [(o, _at(d), "MFN") for o, d in shipped.items()]
    ships = [(o, _at(d + 1 if d != 6 else 9, 18)) for o, d in shipped.items()]
    orders += [("S7", _at(10), "MFN")]  # Tue 10 -> due Fri 13 (Thu 12, Fri 13); confirmed Mon 16: late
    ships += [("S7", _at(16, 18))]
    orders += [
        ("P1", _at(16), "MFN"),  # SKU B (5 days): Mon 16 -> Tue..Fri, Mon 23: due in the closure
        ("P2", _at(16), "MFN"),  # SKU A (2 days): due Wed 18
        ("P4", _at(16, 23), "MFN"),  # SKU B, 15:00 PST after the cut-off: received Tue 17, due Tue 24
    ]
    items = [(o, "A") for o in [*shipped, "S7", "P2"]] + [("P1", "B"), ("P4", "B")]
    import_canonical(wh, _write(tmp_path / "h", _data(orders, ships, [("*", 2), ("B", 5)], items)))
    return wh


def test_holiday_week_ship_before_and_effect(tmp_path, policy):
    wh = _holiday_wh(tmp_path)
    p = holiday_plan(wh, policy, "S1", date(2026, 11, 23), date(2026, 11, 27), as_of=date(2026, 11, 16))
    assert [(o.order_id, o.ship_by_day, o.ship_on_or_before) for o in p.ship_before] == [
        ("P1", date(2026, 11, 23), date(2026, 11, 20)),
        ("P4", date(2026, 11, 24), date(2026, 11, 20)),
    ]
    (m,) = p.modes
    assert m.handling_days == (2, 5)
    # 5 days: an order received Mon 16 is due Mon 23 (first in), Fri 13 is due Fri 20: r1 = Mon 16;
    # 2 days: received Tue 24 -> Wed 25, Fri 27 (last in); 5 days: Thu 19 -> Fri 27: r2 = Tue 24
    assert (m.first_received, m.last_received) == (date(2026, 11, 16), date(2026, 11, 24))
    assert m.on_local == datetime(2026, 11, 13, 14, 0) and m.already_due  # Fri 13 at the cut-off: passed
    assert m.off_local == datetime(2026, 11, 24, 14, 0) and m.off_utc == datetime(2026, 11, 24, 22, 0)
    # 10 orders placed in the 30 days to Mon 16: 1/3 a day, typical handling 2 days. Expected new orders
    # (placed before the cut-off) on Tue 17 .. Tue 24 are due 19, 20, 23, 24, 25, 25, 25, 27: 8/3 in
    # both windows ending Fri 27, 6/3 of them inside the closure.
    assert p.daily_orders == pytest.approx(10 / 30) and p.typical_handling == 2
    w10, w30 = p.effects
    assert (w10.days, w10.first_day, w10.last_day) == (10, date(2026, 11, 18), date(2026, 11, 27))
    # 10 days: P2 (on time), P1, P4 (late) + 8/3 expected, 2 of them late
    assert w10.orders_nothing == pytest.approx(3 + 8 / 3) and w10.late_nothing == pytest.approx(4)
    assert w10.rate_nothing == pytest.approx(4 / (3 + 8 / 3))
    assert (w10.orders_planned, w10.late_planned, w10.rate_planned) == (pytest.approx(3 + 2 / 3), 0, 0)
    # 30 days: S1..S7 (S7 late) + P1, P2, P4 + 8/3 expected
    assert w30.orders_nothing == pytest.approx(10 + 8 / 3) and w30.late_nothing == pytest.approx(5)
    assert w30.rate_planned == pytest.approx(1 / (10 + 2 / 3))
    wh.close()


def test_holiday_mode_ahead_of_a_closure(tmp_path, policy):
    wh = _holiday_wh(tmp_path)
    p = holiday_plan(wh, policy, "S1", date(2026, 11, 23), date(2026, 11, 27), as_of=date(2026, 11, 12),
                     allow_stale=True)  # fmt: skip
    (m,) = p.modes
    # r1 = Mon 16 (5 days): switch on at the cut-off of the open day before it, Fri 13 14:00 PST
    assert m.on_local == datetime(2026, 11, 13, 14, 0) and m.on_utc == datetime(2026, 11, 13, 22, 0)
    assert not m.already_due and p.ship_before == []
    wh.close()


def _file_wh(tmp_path, build):
    path = tmp_path / "w.duckdb"
    wh = connect(str(path))
    build(wh)
    wh.close()
    return str(path)


def test_cli_handling_time_table_json_export_and_chinese(tmp_path, one_sku):
    from typer.testing import CliRunner

    from cxops.cli import app

    def build(wh):
        orders = [(o, _at(d), "MFN") for o, (d, _) in SHIPPED.items()]
        ships = [(o, _at(c, 18)) for o, (_, c) in SHIPPED.items()]
        data = _data(orders, ships, [("A", 1)], [(o, "A") for o in SHIPPED])
        import_canonical(wh, _write(tmp_path / "c", data))

    url = _file_wh(tmp_path, build)
    r = CliRunner()
    base = ["advise", "handling-time", "S1", "--as-of", "2026-11-20", "--allow-stale", "-w", url]
    out = r.invoke(app, [*base, "--format", "json", "--export", str(tmp_path / "lat.txt")])
    assert out.exit_code == 0, out.output
    d = json.loads(out.stdout)
    assert d["skus"][0]["proposed"] == 3 and d["rate_had"] == pytest.approx(10 / 11)
    assert d["export"] == {"path": str(tmp_path / "lat.txt"), "skus": 1}
    assert (tmp_path / "lat.txt").read_text() == "sku\tfulfillment-latency\nA\t3\n"
    zh = r.invoke(app, [*base, "--lang", "zh"])
    assert zh.exit_code == 0 and "处理时间建议" in zh.stdout
    en = r.invoke(app, base)
    assert "Handling-time advice" in en.stdout and "Thanksgiving" in en.stdout
    bad = r.invoke(app, [*base, "--target", "abc"])
    assert bad.exit_code != 0 and "is not a rate" in bad.output and "Traceback" not in bad.output
    hol = r.invoke(app, ["advise", "holiday", "S1", "--closed", "2026-11-23..2026-11-27", "--as-of",
                         "2026-11-20", "--allow-stale", "-w", url])  # fmt: skip
    assert hol.exit_code == 0, hol.output
    assert "Holiday plan" in hol.stdout and "If nothing is done" in hol.stdout
    bad = r.invoke(app, ["advise", "holiday", "S1", "--closed", "2026-11-27..2026-11-23", "-w", url])
    assert bad.exit_code != 0 and "before the first" in bad.output and "Traceback" not in bad.output
    de = r.invoke(app, [*base, "--lang", "de"])
    assert de.exit_code == 0 and "Empfehlung zur Bearbeitungszeit: Verkäufer S1" in de.stdout
    hol_ja = r.invoke(app, ["advise", "holiday", "S1", "--closed", "2026-11-23..2026-11-27", "--as-of",
                            "2026-11-20", "--allow-stale", "--lang", "ja", "-w", url])  # fmt: skip
    assert hol_ja.exit_code == 0, hol_ja.output
    assert "休暇計画: 出品者S1" in hol_ja.stdout and "Holiday plan" not in hol_ja.stdout
    bad = r.invoke(app, [*base, "--lang", "xx"])
    assert bad.exit_code == 2 and "en, zh, de, fr, ja" in bad.output and "Traceback" not in bad.output


def test_sku_groups_share_one_proposal_and_export_every_member(tmp_path, policy):
    wh = connect("memory")
    orders = [(o, _at(d), "MFN") for o, (d, _) in SHIPPED.items()]
    ships = [(o, _at(c, 18)) for o, (_, c) in SHIPPED.items()]
    # O3, O8, O9, O10 (3 days) and O11 (1 day) are SKU B; the rest (2 days) SKU A
    items = [(o, "B" if o in ("O3", "O8", "O9", "O10", "O11") else "A") for o in SHIPPED]
    import_canonical(wh, _write(tmp_path / "g", _data(orders, ships, [("*", 1)], items, category="toys")))
    kw = {"as_of": date(2026, 11, 20), "allow_stale": True}
    per_sku = handling_time_advice(wh, policy, "S1", **kw)
    # A: six orders needing 2 -> 2; B: 3, 3, 3, 3, 1 -> 3 (each SKU takes the seller default 1 as current)
    assert [(s.sku, s.orders, s.current, s.proposed, s.late_had) for s in per_sku.skus] == [
        ("A", 6, 1, 2, 6),
        ("B", 5, 1, 3, 4),
    ]
    assert (per_sku.orders, per_sku.late_would) == (11, 0)
    grouped = handling_time_advice(wh, policy, "S1", group_by="category", **kw)
    (g,) = grouped.skus
    assert (g.sku, g.members, g.orders, g.proposed, g.late_would) == ("toys", ["A", "B"], 11, 3, 0)
    p = tmp_path / "g.csv"
    assert write_latency_file(grouped, p) == 2 and p.read_text() == "sku,fulfillment-latency\nA,3\nB,3\n"
    whole = handling_time_advice(wh, policy, "S1", group_by="seller", target=parse_target("40%"), **kw)
    assert [(s.sku, s.proposed, s.late_would) for s in whole.skus] == [("*", 2, 4)]  # 4/11 <= 40 %
    wh.close()


@given(
    needed=st.lists(st.integers(min_value=-1, max_value=8), min_size=1, max_size=40),
    rate=st.sampled_from([0.0, 0.012, 0.1, 0.25, 0.5]),
    op=st.sampled_from(["<=", "<"]),
)
@settings(max_examples=150, deadline=None)
def test_proposal_is_the_smallest_handling_time_meeting_the_target(needed, rate, op):
    from cxops.advisor.handling_time import NEVER, Target, advise

    lines = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(needed))],
            "marketplace_id": "US",
            "sku": "A",
            "f_late": 0,
            "needed": needed,
            "implied": pd.array([pd.NA] * len(needed), dtype="Int64"),
        }
    )
    target = Target(rate, op)
    (s,), totals = advise(lines, target, None, min_days=1, max_days=8)

    def late(h):  # independent: orders needing more than h days, "never" always
        return sum(1 for n in needed if n == NEVER or n > h)

    ok = [h for h in range(1, 9) if target.met(late(h) / len(needed))]
    if ok:
        assert s.reachable and s.proposed == min(ok)
    else:
        assert not s.reachable and late(s.proposed) == min(late(h) for h in range(1, 9))
    assert s.late_would == late(s.proposed) == totals["late_would"]
    assert s.distribution == {k: needed.count(k) for k in set(needed)}
