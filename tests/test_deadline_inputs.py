"""Each importer declares the deadline inputs its source holds, and the import report says which came.

Olist mini set (tests/data/olist_mini; São Paulo = UTC-2 in January 2018), Amazon report fixtures
(tests/data/amazon) and hand-made canonical files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxops.canonical.deadline_inputs import (
    DEADLINE_INPUTS,
    NOT_HELD,
    NOT_IN_FILES,
    PROVIDED,
    deadline_inputs,
)
from cxops.ingest import import_canonical, import_olist
from cxops.ingest.amazon import import_amazon
from cxops.ingest.amazon.importer import DEADLINE_INPUTS as AMAZON
from cxops.ingest.olist import DEADLINE_INPUTS as OLIST
from cxops.warehouse import connect

DATA = Path(__file__).parent / "data"
ALL = [i.name for i in DEADLINE_INPUTS]


@pytest.fixture
def wh():
    w = connect("memory")
    yield w
    w.close()


def _status(declared_provided: set[str], declared: tuple[str, ...] | None = None) -> dict[str, str]:
    held = set(ALL) if declared is None else set(declared)
    return {n: PROVIDED if n in declared_provided else NOT_IN_FILES if n in held else NOT_HELD for n in ALL}


def _note(rep) -> str:
    notes = [n for n in rep.notes if n.startswith("deadline inputs provided:")]
    assert len(notes) == 1, rep.notes
    return notes[0]


def test_olist_provides_what_it_declares_and_fills_it(wh):
    rep = import_olist(wh, DATA / "olist_mini")
    assert rep.deadline_inputs == _status(set(OLIST), OLIST)
    note = _note(rep)
    assert "ship-by deadlines (orders.latest_ship_at)" in note
    assert note.endswith(
        "not held by Olist data: tracking ids, calendars, handling-time settings, ship-by corrections, "
        "delivery attempts, buyer delivery confirmations (import them with cxops import canonical)"
    )
    # the values are the source's: o1 of s1, items due 2018-01-05 10:00 and 2018-01-06 09:00 local
    # (the later one counts), handed to the carrier 2018-01-04 12:00, estimated delivery 2018-01-10
    o = wh.execute(wh.table("orders")).set_index(["seller_id", "order_id"])
    assert o.loc[("s1", "o1"), "latest_ship_at"] == pd.Timestamp("2018-01-06 11:00")
    assert o.loc[("s1", "o1"), "latest_delivery_at"] == pd.Timestamp("2018-01-11 01:59:59.999999")
    s = wh.execute(wh.table("shipments")).set_index(["seller_id", "order_id"])
    assert s.loc[("s1", "o1"), "first_scan_at"] == pd.Timestamp("2018-01-04 14:00")
    assert s.loc[("s1", "o1"), "confirmed_at"] == pd.Timestamp("2018-01-04 14:00")
    assert s.loc[("s1", "o1"), "delivered_at"] == pd.Timestamp("2018-01-10 17:00")


def test_amazon_reports_say_which_file_brings_each_input(wh):
    rep = import_amazon(wh, "S1", "US", DATA / "amazon" / "all_orders_us.txt")
    assert rep.deadline_inputs == _status(set(), AMAZON)  # the flat file has no deadlines
    assert "not in these files: ship-by deadlines, promised delivery dates, tracking ids" in _note(rep)
    rep = import_amazon(
        wh, "S1", "US", [DATA / "amazon" / "orders_api_page1.json", DATA / "amazon" / "fba_shipments_us.txt"]
    )
    assert rep.deadline_inputs == _status({"ship_by", "promised_delivery", "tracking"}, AMAZON)
    assert "not held by the Amazon reports cxops reads: ship confirmations, first carrier scans" in _note(rep)
    # feedback alone touches no deadline input: no line about them
    rep = import_amazon(wh, "S1", "US", DATA / "amazon" / "feedback_us.txt")
    assert not [n for n in rep.notes if n.startswith("deadline inputs")]


def test_canonical_files_can_hold_every_input(wh, tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    pd.DataFrame([{"seller_id": "S1", "marketplace_id": "US"}]).to_csv(d / "sellers.csv", index=False)
    pd.DataFrame(
        [{"seller_id": "S1", "order_id": "A", "marketplace_id": "US", "purchased_at": "2026-07-06T16:00:00Z",
          "fulfillment_channel": "MFN", "latest_ship_at": "2026-07-08T06:59:59Z"}]
    ).to_csv(d / "orders.csv", index=False)  # fmt: skip
    pd.DataFrame(
        [{"seller_id": "S1", "order_id": "A", "shipment_id": "1", "confirmed_at": "2026-07-07T20:00:00Z"}]
    ).to_csv(d / "shipments.csv", index=False)
    pd.DataFrame([{"seller_id": "S1", "marketplace_id": "US", "day": "2026-12-24", "closed": True}]).to_csv(
        d / "seller_calendar_days.csv", index=False
    )
    rep = import_canonical(wh, d)
    assert rep.deadline_inputs == _status({"ship_by", "ship_confirmation", "calendars"})
    assert NOT_HELD not in rep.deadline_inputs.values()


def test_a_declaration_names_known_inputs_only():
    assert set(OLIST) <= set(ALL) and set(AMAZON) <= set(ALL)
    with pytest.raises(KeyError, match="unknown deadline input"):
        deadline_inputs({}, ["ship_by", "pickup"])
