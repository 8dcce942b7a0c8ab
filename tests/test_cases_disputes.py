"""Buyer disputes on SQLite and PostgreSQL: the 24-clock-hour deadline across DST, bad input, the import
of a disputes file (all or nothing, quarantine, re-import), the idempotent sweep, the SLA per seller
(hand-computed), the status history and the event log."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from _cases import NOW, count, events, make_warehouse, seed, utc

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.service import cases as C


@pytest.fixture(scope="module")
def wh():
    w = make_warehouse()
    yield w
    w.close()


@pytest.fixture
def shop(store):
    seed(store)
    return store


def dispute(store, wh, seller="S1", order="O1", opened="2026-03-01 00:00", **kw):
    opened_at = utc(opened) if isinstance(opened, str) else opened
    return C.open_dispute(
        store,
        wh,
        seller,
        order,
        reason=kw.pop("reason", "item not received"),
        actor="op",
        opened_at=opened_at,
        now=kw.pop("now", NOW),
        **kw,
    )


# -- the clock --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order, local, utc_opened, local_due",
    [
        # US spring forward (2026-03-08 02:00 PST → 03:00 PDT): 24 clock hours end at 13:00 local
        ("O1", "2026-03-07 12:00", "2026-03-07 20:00", "2026-03-08 13:00"),
        # US fall back (2026-11-01 02:00 PDT → 01:00 PST): 24 clock hours end at 11:00 local
        ("O2", "2026-10-31 12:00", "2026-10-31 19:00", "2026-11-01 11:00"),
        # Germany (2026-03-29 02:00 CET → 03:00 CEST)
        ("Q1", "2026-03-28 12:00", "2026-03-28 11:00", "2026-03-29 13:00"),
    ],
)
def test_first_response_is_due_24_clock_hours_later_across_dst(shop, wh, order, local, utc_opened, local_due):
    seller = "S3" if order.startswith("Q") else "S1"
    v = C.open_dispute(
        shop,
        wh,
        seller,
        order,
        reason="late",
        actor="op",
        opened_at=datetime.fromisoformat(local),
        now=utc("2026-12-01 00:00"),
    )
    assert v.opened_at == utc(utc_opened)  # naive = the order's marketplace local time
    assert v.due_at - v.opened_at == timedelta(hours=24)
    tz = ZoneInfo("Europe/Berlin" if seller == "S3" else "America/Los_Angeles")
    assert v.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") == local_due


def test_case_shows_the_time_left_and_overdue(shop, wh):
    v = dispute(shop, wh, opened="2026-03-09 06:30", now=utc("2026-03-09 10:00"))
    assert v.time_left == timedelta(hours=20, minutes=30)
    assert C.get_case(shop, v.id, now=utc("2026-03-10 08:00")).time_left == timedelta(hours=-1, minutes=-30)
    df = C.list_cases(shop, now=utc("2026-03-09 10:00"))
    assert df.loc[df["id"] == v.id, "seconds_left"].item() == 20.5 * 3600
    C.respond(shop, v.id, "tracking shows delivered", actor="s1", at=utc("2026-03-09 12:00"))
    answered = C.get_case(shop, v.id, now=utc("2026-03-10 08:00"))
    assert answered.time_left is None and answered.answered_in_time is True
    assert pd.isna(C.list_cases(shop, now=utc("2026-03-10 08:00"))["seconds_left"]).all()


def test_a_sellers_case_rows_equal_the_case_list(shop, wh):
    """The seller's page reads its cases as plain rows (seller_cases); the operator's list as a frame
    (list_cases): the same cases, values and clocks — waiting, overdue, answered and closed."""
    from cxops.service.sellerdesk import _records

    waiting = dispute(shop, wh, opened="2026-03-09 06:30", now=utc("2026-03-09 10:00"))
    overdue = dispute(shop, wh, "S1", "O2", opened="2026-03-07 06:30", now=utc("2026-03-09 10:00"))
    answered = dispute(shop, wh, "S1", "O3", opened="2026-03-08 20:00", now=utc("2026-03-09 10:00"))
    C.respond(shop, answered.id, "tracking shows delivered", actor="s1", at=utc("2026-03-09 09:00"))
    closed = dispute(shop, wh, "S1", "O4", opened="2026-03-09 07:00", now=utc("2026-03-09 10:00"))
    C.close(shop, closed.id, actor="op", reason="buyer withdrew the claim")
    dispute(shop, wh, "S2", "P1", opened="2026-03-09 06:30", now=utc("2026-03-09 10:00"))  # another seller
    now = utc("2026-03-09 10:00")
    rows = C.seller_cases(shop, "S1", now=now)
    assert rows == _records(C.list_cases(shop, seller_id="S1", limit=None, now=now))
    left = {r["id"]: r["seconds_left"] for r in rows}
    assert left == {waiting.id: 20.5 * 3600, overdue.id: -27.5 * 3600, answered.id: None, closed.id: None}
    assert {r["seller_id"] for r in rows} == {"S1"}


def test_owner_defaults_to_the_account_manager_else_unassigned(shop, wh):
    assert dispute(shop, wh, "S1", "O1").owner == "ana"
    assert dispute(shop, wh, "S2", "P1").owner is None  # no manager
    assert dispute(shop, wh, "S4", "R1").owner is None


# -- bad input ------------------------------------------------------------------------------------------


def test_bad_disputes_are_refused_with_a_clear_message_and_nothing_written(shop, wh):
    with pytest.raises(NotFoundError, match="order NOPE does not exist"):
        dispute(shop, wh, "S1", "NOPE")
    with pytest.raises(
        InputError, match="order P1 is not an order of seller S1: it belongs to another seller"
    ):
        dispute(shop, wh, "S1", "P1")
    with pytest.raises(InputError, match="in the future"):
        dispute(shop, wh, opened="2026-03-11 00:00")
    with pytest.raises(InputError, match="reason"):
        dispute(shop, wh, reason="  ")
    with pytest.raises(InputError, match="actor"):
        C.open_dispute(shop, wh, "S1", "O1", reason="x", actor=" ")
    assert count(shop, "cases") == 0 and events(shop).empty


def test_a_second_open_dispute_on_the_same_order_is_refused_unless_it_is_another_claim(shop, wh):
    first = dispute(shop, wh)
    with pytest.raises(ConflictError, match=f"open dispute already: case {first.id}") as e:
        dispute(shop, wh, opened="2026-03-02 00:00")
    assert f"cxops case respond {first.id}" in e.value.hint
    other = dispute(shop, wh, opened="2026-03-02 00:00", dispute_id="CB-9")
    assert other.id != first.id


def test_responding_to_a_closed_case_is_refused(shop, wh):
    v = dispute(shop, wh)
    C.close(shop, v.id, actor="op", reason="claim withdrawn by the buyer")
    entries = count(shop, "case_entries")
    with pytest.raises(ConflictError, match=f"case {v.id} is closed"):
        C.respond(shop, v.id, "too late", actor="s1")
    with pytest.raises(ConflictError, match="is closed"):
        C.close(shop, v.id, actor="op", reason="again")
    with pytest.raises(NotFoundError, match="case 999 not found"):
        C.respond(shop, 999, "x", actor="s1")
    with pytest.raises(InputError, match="before the case was opened"):
        C.respond(shop, dispute(shop, wh, "S1", "O2").id, "x", actor="s1", at=utc("2026-02-01 00:00"))
    assert count(shop, "case_entries") == entries


# -- history and event log --------------------------------------------------------------------------------


def test_status_history_and_event_log(shop, wh):
    v = dispute(shop, wh)
    C.assign(shop, v.id, "bo", actor="lead", reason="ana is on leave")
    C.respond(shop, v.id, "we shipped on time, tracking attached", actor="s1", at=utc("2026-03-01 05:00"))
    C.close(shop, v.id, actor="op", reason="resolved in the seller's favour")
    done = C.get_case(shop, v.id)
    assert done.owner == "bo"
    assert list(done.history["to_status"]) == ["open", "responded", "closed"]
    assert list(done.history["from_status"].fillna("-")) == ["-", "open", "responded"]
    assert done.first_response_at == utc("2026-03-01 05:00") and done.closed_at is not None
    log = events(shop)
    mine = log[log["details"].map(lambda d: (d or {}).get("case_id")) == v.id]
    assert list(mine["kind"]) == [
        "case_opened",
        "case.updated",
        "case_assigned",
        "case_entry",
        "case_status",
        "case.updated",
        "case_status",
        "case.updated",
    ]
    assert set(mine["seller_id"]) == {"S1"} and set(mine["marketplace_id"]) == {"US"}
    assert mine.loc[mine["kind"] == "case_assigned", "actor"].item() == "lead"
    notices = mine[mine["kind"] == "case.updated"]["details"].tolist()
    assert [n["event"] for n in notices] == ["dispute_opened", "response", "closed"]


def test_assign_validates_the_owner(shop, wh):
    v = dispute(shop, wh)
    with pytest.raises(NotFoundError, match="unknown owner 'zed'"):
        C.assign(shop, v.id, "zed", actor="lead", reason="r")
    with pytest.raises(ConflictError, match="owned by ana already"):
        C.assign(shop, v.id, "ana", actor="lead", reason="r")
    assert C.assign(shop, v.id, None, actor="lead", reason="back to the queue").owner is None


# -- the sweep --------------------------------------------------------------------------------------------


def test_sweep_escalates_overdue_disputes_once(shop, wh):
    a = dispute(shop, wh, "S1", "O1", opened="2026-03-01 00:00")  # due 03-02 00:00
    b = dispute(shop, wh, "S1", "O2", opened="2026-03-01 12:00")  # due 03-02 12:00
    c = dispute(shop, wh, "S1", "O3", opened="2026-03-01 01:00")  # answered in time
    C.respond(shop, c.id, "done", actor="s1", at=utc("2026-03-01 03:00"))
    assert C.sweep(shop, now=utc("2026-03-01 23:59")).escalated.empty
    first = C.sweep(shop, now=utc("2026-03-02 00:00"))  # exactly at the deadline: overdue
    assert first.escalated["id"].tolist() == [a.id]
    assert C.sweep(shop, now=utc("2026-03-02 00:00")).escalated.empty  # idempotent
    assert C.sweep(shop, now=utc("2026-03-02 11:00")).escalated.empty
    assert C.sweep(shop, now=utc("2026-03-03 00:00")).escalated["id"].tolist() == [b.id]
    assert C.sweep(shop, now=utc("2026-03-04 00:00")).escalated.empty
    va = C.get_case(shop, a.id)
    assert va.status == "escalated" and va.escalated_at == utc("2026-03-02 00:00")
    assert list(va.history["to_status"]) == ["open", "escalated"]
    log = events(shop, ["case_status", "case.updated"])
    escalations = log[
        log["details"].map(lambda d: d.get("to_status") == "escalated" or d.get("event") == "escalated")
    ]
    assert sorted(escalations["details"].map(lambda d: d["case_id"])) == [a.id, a.id, b.id, b.id]
    # a late first response still stops the clock; the SLA counts it late
    late = C.respond(shop, a.id, "sorry, here is the tracking", actor="s1", at=utc("2026-03-02 06:00"))
    assert late.status == "responded" and late.answered_in_time is False


def test_concurrent_sweeps_escalate_each_dispute_once(shop, wh):
    ids = [dispute(shop, wh, "S1", o, opened="2026-03-01 00:00").id for o in ("O1", "O2", "O3", "O4", "O5")]
    got, errors = [], []

    def run():
        try:
            got.append(C.sweep(shop, now=utc("2026-03-05 00:00")).escalated["id"].tolist())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(i for g in got for i in g) == ids
    assert count(shop, "case_status_changes") == len(ids) * 2


def test_manual_escalation_only_from_open(shop, wh):
    v = dispute(shop, wh)
    assert C.escalate(shop, v.id, actor="op", reason="buyer threatens a chargeback").status == "escalated"
    with pytest.raises(ConflictError, match="is escalated: it can become closed, responded, not escalated"):
        C.escalate(shop, v.id, actor="op", reason="again")
    assert C.sweep(shop, now=utc("2026-03-09 00:00")).escalated.empty  # escalated already


# -- the SLA ----------------------------------------------------------------------------------------------


def _sla_cases(shop, wh):
    def answered(order, opened, hours, seller="S1"):
        v = dispute(shop, wh, seller, order, opened=opened)
        if hours is not None:
            C.respond(shop, v.id, "answer", actor=seller, at=utc(opened) + timedelta(hours=hours))

    answered("O1", "2026-03-01 00:00", 2)  # in time
    answered("O6", "2026-03-01 12:00", 24)  # exactly at the deadline: in time
    answered("O2", "2026-03-02 00:00", 10)  # in time
    answered("O3", "2026-03-03 00:00", 30)  # late
    answered("O4", "2026-03-04 00:00", None)  # no response, overdue at NOW: late
    answered("O5", "2026-03-09 12:00", None)  # no response, 12 h left at NOW: pending
    answered("P1", "2026-03-01 00:00", 5, "S2")
    answered("P2", "2026-03-02 00:00", 7, "S2")
    answered("P3", "2026-03-03 00:00", 3, "S2")
    answered("Q1", "2026-03-09 06:00", None, "S3")  # pending only


def test_sla_per_seller_hand_computed(shop, wh):
    _sla_cases(shop, wh)
    df = C.dispute_sla(shop, now=NOW).set_index("seller_id")
    s1, s2, s3 = df.loc["S1"], df.loc["S2"], df.loc["S3"]
    # S1: answered 2, 24, 10, 30 h; in time 3 (2, 24, 10); late 2 (30 h, and the unanswered overdue one)
    assert (s1.disputes, s1.answered, s1.answered_in_time, s1.late, s1.pending, s1.unanswered_overdue) == (
        6,
        4,
        3,
        2,
        1,
        1,
    )
    assert s1.share_in_time == pytest.approx(3 / 5)
    assert s1.median_response_seconds == (10 + 24) / 2 * 3600 and s1.median_response_hours == 17.0
    assert (s2.disputes, s2.answered_in_time, s2.late, s2.share_in_time, s2.median_response_hours) == (
        3,
        3,
        0,
        1.0,
        5.0,
    )
    assert (
        s3.disputes == 1
        and s3.pending == 1
        and pd.isna(s3.share_in_time)
        and pd.isna(s3.median_response_hours)
    )
    # disputes opened from 2026-03-02: S1 keeps 10 h (in time), 30 h (late), the overdue and the pending one
    w = C.dispute_sla(shop, now=NOW, opened_from=utc("2026-03-02 00:00"), seller_id="S1").iloc[0]
    assert (w.disputes, w.answered_in_time, w.late, w.pending) == (4, 1, 2, 1)
    assert w.share_in_time == pytest.approx(1 / 3) and w.median_response_hours == 20.0
    # later, the pending one is overdue too
    later = C.dispute_sla(shop, now=utc("2026-03-11 00:00"), seller_id="S1").iloc[0]
    assert (later.late, later.pending, later.share_in_time) == (3, 0, pytest.approx(3 / 6))


def test_sla_equals_an_independent_computation(shop, wh):
    _sla_cases(shop, wh)
    cases = C.list_cases(shop, kind="dispute", limit=None)
    cases["secs"] = (cases["first_response_at"] - cases["opened_at"]).dt.total_seconds()
    now = pd.Timestamp(NOW)
    expect = {}
    for seller, g in cases.groupby("seller_id"):
        ans = g[g["first_response_at"].notna()]
        in_time = int((ans["first_response_at"] <= ans["due_at"]).sum())
        late = int((ans["first_response_at"] > ans["due_at"]).sum()) + int(
            (g["first_response_at"].isna() & (g["due_at"] <= now)).sum()
        )
        expect[seller] = (in_time, late, ans["secs"].median() if len(ans) else None)
    got = C.dispute_sla(shop, now=NOW)
    for r in got.itertuples():
        in_time, late, median = expect[r.seller_id]
        assert (r.answered_in_time, r.late) == (in_time, late)
        assert (pd.isna(r.median_response_seconds) and median is None) or r.median_response_seconds == median


# -- import ---------------------------------------------------------------------------------------------


def write(tmp_path, text: str, name="disputes.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD = (
    "order_id,seller_id,opened_at,reason,buyer_message,dispute_id\n"
    "O1,S1,2026-03-01T10:00:00Z,item not received,where is my parcel?,AZ-1\n"
    "O2,S1,2026-11-01 01:30,damaged,,AZ-2\n"  # ambiguous US local time: the earlier (PDT) instant
    "Q1,S3,2026-03-01 12:00,not as described,,\n"
)


def test_import_opens_each_row_with_its_clock(shop, wh, tmp_path):
    r = C.import_disputes(shop, wh, write(tmp_path, GOOD), actor="feed", now=utc("2026-12-01 00:00"))
    assert (r.read, r.opened, r.duplicates, r.quarantined) == (3, 3, 0, 0)
    got = {c.order_id: c for c in (C.get_case(shop, i) for i in r.cases)}
    assert got["O1"].opened_at == utc("2026-03-01 10:00") and got["O1"].due_at == utc("2026-03-02 10:00")
    assert got["O1"].details == {
        "buyer_message": "where is my parcel?",
        "dispute_id": "AZ-1",
        "file": "disputes.csv",
        "line": 2,
    }
    assert got["O2"].opened_at == utc("2026-11-01 08:30")  # 01:30 PDT (UTC-7), the earlier of the two
    assert got["Q1"].opened_at == utc("2026-03-01 11:00") and got["Q1"].marketplace_id == "DE"
    assert got["O1"].owner == "ana" and got["Q1"].owner == "bo" and got["O1"].source == "import"
    assert list(got["O1"].history["to_status"]) == ["open"]
    assert len(events(shop, ["case_opened"])) == 3 and len(events(shop, ["case.updated"])) == 3
    again = C.import_disputes(shop, wh, write(tmp_path, GOOD), actor="feed", now=utc("2026-12-01 00:00"))
    assert (again.read, again.opened, again.duplicates, again.quarantined) == (3, 0, 3, 0)
    assert count(shop, "cases") == 3 and count(shop, "case_status_changes") == 3


BAD = (
    "order_id,seller_id,opened_at,reason,buyer_message,marketplace_id\n"
    "O1,S1,2026-03-01T10:00:00Z,ok,,\n"  # line 2: fine
    "P1,S1,2026-03-01T10:00:00Z,wrong seller,,\n"  # 3: another seller's order
    "NOPE,S1,2026-03-01T10:00:00Z,no such order,,\n"  # 4
    "O2,S1,yesterday,bad time,,\n"  # 5
    "O3,S1,2026-03-01T10:00:00Z,,,\n"  # 6: no reason
    "O4,S1,2027-01-01T00:00:00Z,future,,\n"  # 7
    "O5,S1,2026-03-01T10:00:00Z,wrong marketplace,,DE\n"  # 8
    "O1,S1,2026-03-01T10:00:00Z,ok again,,\n"  # 9: repeats line 2
)


def test_import_with_bad_rows_opens_nothing_and_names_file_line_and_column(shop, wh, tmp_path):
    p = write(tmp_path, BAD)
    with pytest.raises(InputError) as e:
        C.import_disputes(shop, wh, p, actor="feed", now=utc("2026-12-01 00:00"))
    text = str(e.value)
    assert "7 of 8 rows cannot be imported; nothing was opened" in text
    for line, column, problem in [
        (3, "order_id", "belongs to another seller"),
        (4, "order_id", "no order with this id"),
        (5, "opened_at", "not a date and time"),
        (6, "reason", "is empty"),
        (7, "opened_at", "in the future"),
        (8, "marketplace_id", "the order is on marketplace US"),
        (9, "order_id", "appears on an earlier line"),
    ]:
        assert f"{p}:{line}: {column} " in text and problem in text
    assert "--skip-bad" in e.value.hint
    assert count(shop, "cases") == 0 and events(shop).empty


def test_import_skip_bad_opens_the_valid_rows_and_quarantines_the_others(shop, wh, tmp_path):
    p, q = write(tmp_path, BAD), tmp_path / "refused.csv"
    r = C.import_disputes(shop, wh, p, actor="feed", skip_bad=True, quarantine=q, now=utc("2026-12-01 00:00"))
    assert (r.read, r.opened, r.duplicates, r.quarantined) == (8, 1, 0, 7)
    assert r.read == r.opened + r.duplicates + r.quarantined
    refused = pd.read_csv(q, dtype=str)
    assert refused["line"].astype(int).tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert refused.loc[0, "order_id"] == "P1" and "another seller" in refused.loc[0, "problem"]
    assert count(shop, "cases") == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("order_id,seller_id,reason\nO1,S1,x\n", r"missing column\(s\) opened_at"),
        ("", "not a readable CSV"),
    ],
)
def test_import_refuses_unreadable_files(shop, wh, tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        C.import_disputes(shop, wh, write(tmp_path, text), actor="feed")
    with pytest.raises(InputError, match="not found"):
        C.import_disputes(shop, wh, tmp_path / "absent.csv", actor="feed")
    (tmp_path / "latin1.csv").write_bytes(
        "order_id,seller_id,opened_at,reason\nO1,S1,2026-03-01,d\xe9j\xe0\n".encode("latin-1")
    )
    with pytest.raises(InputError, match="not UTF-8"):
        C.import_disputes(shop, wh, tmp_path / "latin1.csv", actor="feed")


def test_case_updates_reach_the_sellers_contacts_through_the_outbox(shop, wh):
    """A dispute opened and escalated queues one ``case_update`` per contact, in German for a German
    contact, rendered with the case's status; a seller without a contact gets nothing queued."""
    from sqlalchemy import select

    from cxops.notify.contacts import add_contact
    from cxops.notify.messages import from_params
    from cxops.notify.outbox import OUTBOX
    from cxops.notify.render import render

    with shop.unit_of_work() as s:
        add_contact(s, "S1", "*", "ops@s1.example", language="de")
    c = dispute(shop, wh)
    C.sweep(shop, now=utc("2026-03-02 00:30"))  # 24 h passed without a response: escalated
    with shop.unit_of_work(write=False) as s:
        rows = s.execute(select(OUTBOX).order_by(OUTBOX.c.id)).mappings().all()
    assert [(r["seller_id"], r["kind"], r["language"]) for r in rows] == [("S1", "case_update", "de")] * 2
    contexts = [from_params(r["kind"], r["params"]) for r in rows]
    assert [(x.case_id, x.case_kind, x.status) for x in contexts] == [
        (str(c.id), "dispute", "open"),
        (str(c.id), "dispute", "escalated"),
    ]
    assert contexts[0].due_at is not None
    text = render(contexts[1], "de").text
    assert str(c.id) in text and "S1" in text
