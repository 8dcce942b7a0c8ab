"""The evidence bundle of a dispute: what it holds, its manifest, and nothing of another order."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pandas as pd
import pytest
from _cases import ORDERS, make_warehouse, seed, utc

from cxops.errors import ConflictError, OutputError
from cxops.policy.load import load_policy
from cxops.service import cases as C
from cxops.service.documents import FileStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17 + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.fixture(scope="module")
def wh():
    w = make_warehouse()
    yield w
    w.close()


@pytest.fixture
def shop(store):
    seed(store)
    return store


@pytest.fixture
def files(tmp_path):
    return FileStore(str(tmp_path / "docs"))


def _bundle(shop, wh, files, tmp_path, seller="S1", order="O1"):
    v = C.open_dispute(
        shop,
        wh,
        seller,
        order,
        reason="item not received",
        actor="op",
        buyer_message="Where is my parcel?",
        opened_at=utc("2026-03-01 15:00"),
        now=utc("2026-03-10"),
    )
    C.respond(
        shop,
        v.id,
        "Delivered on 26 Feb, see the carrier's proof",
        actor=seller,
        at=utc("2026-03-01 18:00"),
        attachments=[("proof.png", PNG)],
        files=files,
    )
    out = tmp_path / "out"
    out.mkdir()
    b = C.evidence_bundle(shop, wh, load_policy("customer-excellence"), v.id, out, files=files)
    return v, b, zipfile.ZipFile(b.path)


def test_bundle_holds_the_order_and_its_evidence(shop, wh, files, tmp_path):
    v, b, z = _bundle(shop, wh, files, tmp_path)
    assert b.path.name == f"dispute-{v.id}-order-O1.zip"
    entry = int(C.get_case(shop, v.id).entries["id"].iloc[0])
    assert set(z.namelist()) == {
        "order.json",
        "order_items.csv",
        "shipments.csv",
        "buyer_messages.csv",
        "claims.csv",
        "case.json",
        "policy.json",
        "timeline.txt",
        f"attachments/{entry}-proof.png",
        "manifest.json",
    }
    order = json.loads(z.read("order.json"))
    assert order["order"]["order_id"] == "O1" and order["order"]["purchased_at"] == "2026-02-20T10:00:00Z"
    assert (
        order["order"]["latest_ship_at"] == "2026-02-23T07:59:00Z"
        and order["timezone"] == "America/Los_Angeles"
    )
    ship = pd.read_csv(io.BytesIO(z.read("shipments.csv")), dtype=str, keep_default_na=False)
    assert ship.to_dict("records") == [
        {
            "seller_id": "S1",
            "order_id": "O1",
            "shipment_id": "SH-S1-O1",
            "confirmed_at": "2026-02-22T18:00:00Z",
            "carrier": "UPS",
            "tracking_id": "1ZS1O1",
            "first_scan_at": "2026-02-22T22:00:00Z",
            "delivered_at": "2026-02-26T18:00:00Z",
            "units": "",
        }
    ]
    items = pd.read_csv(io.BytesIO(z.read("order_items.csv")), dtype=str)
    assert items[["order_id", "sku", "quantity"]].values.tolist() == [["O1", "SKU-O1", "1"]]
    assert ship.loc[0, "carrier"] == "UPS" and ship.loc[0, "first_scan_at"] == "2026-02-22T22:00:00Z"
    msgs = pd.read_csv(io.BytesIO(z.read("buyer_messages.csv")), dtype=str)
    # the order's message, and the follow-up without an order id in the same thread; not the loose one
    assert msgs["message_id"].tolist() == ["M-S1-O1", "M-S1-O1-b"]
    claims = pd.read_csv(io.BytesIO(z.read("claims.csv")), dtype=str)
    assert claims["claim_id"].tolist() == ["C-O1"]
    case = json.loads(z.read("case.json"))
    assert case["id"] == v.id and case["details"]["buyer_message"] == "Where is my parcel?"
    assert (
        case["due_at"] == "2026-03-02T15:00:00+00:00"
        and case["first_response_at"] == "2026-03-01T18:00:00+00:00"
    )
    assert [e["kind"] for e in case["entries"]] == ["response"]
    assert z.read(f"attachments/{entry}-proof.png") == PNG
    policy = json.loads(z.read("policy.json"))
    assert policy["first_response_hours"] == 24 and "24 clock hours" in policy["program_rule"]
    rules = {(r["section"], r["criterion_id"]): r for r in policy["rules"]}
    assert set(rules) == {("admission", "odr"), ("removal", "odr")}  # the criteria a claim feeds
    assert rules[("removal", "odr")]["threshold"] == 0.006 and rules[("removal", "odr")]["operator"] == ">"
    timeline = z.read("timeline.txt").decode()
    assert (
        "2026-02-22 22:00 UTC  (2026-02-22 14:00 PST)  shipment SH-S1-O1: first carrier scan (UPS" in timeline
    )
    assert timeline.index("order placed") < timeline.index("delivered") < timeline.index("dispute opened")


def test_manifest_lists_every_file_with_size_and_sha256(shop, wh, files, tmp_path):
    v, b, z = _bundle(shop, wh, files, tmp_path)
    manifest = json.loads(z.read("manifest.json"))
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(z.namelist()) - {"manifest.json"}
    for name, f in listed.items():
        data = z.read(name)
        assert f["size"] == len(data) and f["sha256"] == hashlib.sha256(data).hexdigest()
    assert listed["shipments.csv"]["rows"] == 1 and listed["buyer_messages.csv"]["rows"] == 2
    assert manifest["absent_tables"] == ["feedback", "cancellations", "returns"]
    assert (manifest["case_id"], manifest["seller_id"], manifest["order_id"]) == (v.id, "S1", "O1")
    assert [f.name for f in b.files] == [f["name"] for f in manifest["files"]]


@pytest.mark.parametrize("seller, order", [("S1", "O1"), ("S1", "X1"), ("S2", "X1")])
def test_no_other_order_appears_anywhere_in_the_bundle(shop, wh, files, tmp_path, seller, order):
    _, _, z = _bundle(shop, wh, files, tmp_path, seller, order)
    others = {o for s, o, _ in ORDERS if o != order}
    other_sellers = {s for s, _, _ in ORDERS if s != seller}
    for name in z.namelist():
        text = z.read(name).decode("utf-8", errors="replace")
        for other in others:
            assert f"{other}" not in text.replace(f"{order}", ""), f"{other} in {name}"
        # X1 is the order id of two sellers: the other seller's rows (ids carry the seller) never appear
        for s in other_sellers:
            assert f"SH-{s}-" not in text and f"M-{s}-" not in text and f"1Z{s}" not in text, f"{s} in {name}"
    ship = pd.read_csv(io.BytesIO(z.read("shipments.csv")), dtype=str)
    assert ship[["seller_id", "order_id"]].drop_duplicates().values.tolist() == [[seller, order]]


def test_bundle_refuses_what_is_not_a_dispute_and_unwritable_places(shop, wh, files, tmp_path):
    pol = load_policy("customer-excellence")
    appeal = C.open_appeal(shop, "S2", "US", "new carrier", actor="s2")
    with pytest.raises(ConflictError, match="is an appeal: an evidence bundle is for a dispute"):
        C.evidence_bundle(shop, wh, pol, appeal.id, tmp_path)
    v = C.open_dispute(
        shop, wh, "S1", "O2", reason="x", actor="op", opened_at=utc("2026-03-01"), now=utc("2026-03-02")
    )
    with pytest.raises(OutputError, match="does not exist"):
        C.evidence_bundle(shop, wh, pol, v.id, tmp_path / "no" / "such" / "b.zip")
    assert not list(tmp_path.glob("**/*.tmp"))
