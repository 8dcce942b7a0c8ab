"""Enqueueing (SQLite and PostgreSQL): the daily job's events and alerts become messages in its own
transaction, for the right contacts and endpoints, once; preferences, mandatory notices, digests."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from _store import store, store_url  # noqa: F401
from sqlalchemy import text

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.notify import contacts as C
from cxops.notify.deliver import send_due
from cxops.notify.messages import Alert, Clearing, Finding, from_params
from cxops.notify.outbox import (
    EnqueueContext,
    clearing,
    compose_digests,
    enqueue,
    enqueue_for_events,
    message_kind,
)
from cxops.store import append_events
from cxops.store.models import AccountManager, Benefit, Membership

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
P = "customer-excellence"


def _ev(key, seller, frm, to, **kw):
    row = {
        "idempotency_key": key,
        "seller_id": seller,
        "marketplace_id": "US",
        "kind": "transition",
        "from_state": frm,
        "to_state": to,
        "event_date": date(2026, 12, 1),
        "as_of": date(2026, 11, 30),
    }
    row.update(kw)
    return row


def _rows(store):  # noqa: F811
    with store.engine.connect() as conn:
        return pd.read_sql(text("SELECT * FROM outbox ORDER BY id"), conn)


@pytest.mark.unit
def test_which_events_make_which_message():
    assert message_kind("transition", "candidate", "enrolled") == "invitation"
    assert message_kind("transition", "recovering", "enrolled") == "readmitted"
    assert message_kind("transition", "suspended", "immune") == "readmitted"
    assert message_kind("transition", "enrolled", "at_risk") == "warning"
    for to in ("removed", "suspended", "blocked"):
        assert message_kind("transition", "at_risk", to) == "removal"
    assert message_kind("transition", "removed", "recovering") == "recovery_started"
    assert message_kind("transition", "recovering", "candidate") == "back_in_pool"
    assert message_kind("transition", "not_eligible", "candidate") is None
    assert message_kind("transition", "at_risk", "enrolled") is None
    assert message_kind("breach_logged", "immune", "immune") is None
    assert message_kind("action", "enrolled", "enrolled") is None
    assert message_kind("action", "enrolled", "suspended") == "removal"  # an operator's suspension
    assert message_kind("action", "suspended", "immune") == "readmitted"  # reinstated under immunity
    assert message_kind("action_refused", "enrolled", "enrolled") is None


@pytest.mark.unit
def test_what_clears_a_breach_by_hand():
    # 6 of 500 > 1 %: 5 of 500 is exactly 1 % (not > 1 %), so 1 fewer; 500 -> 600 orders makes 6/600 = 1 %
    assert clearing(Finding("order_defect_rate", 0.012, 0.01, ">", 6, 500)) == Clearing(1, None, 100)
    # >= 1 %: 4 of 500 = 0.8 % is needed (2 fewer); 6/601 < 1 % needs 101 more orders
    assert clearing(Finding("order_defect_rate", 0.012, 0.01, ">=", 6, 500)) == Clearing(2, None, 101)
    # a lower bar (valid tracking rate < 95 % breaches) is not cleared by fewer defects or more orders
    assert clearing(Finding("valid_tracking_rate", 0.9, 0.95, "<", 90, 100)) is None
    assert clearing(Finding("order_count", 80, 100, "<", test="value")) is None


def _people(session):
    session.add(
        AccountManager(
            id="m1",
            name="Lin Wei",
            email="lin@example.com",
            languages=["zh"],
            categories=[],
            capacity=10,
            created_at=NOW,
        )
    )
    session.flush()
    session.add(
        Membership(
            program=P,
            seller_id="S1",
            marketplace_id="US",
            state="enrolled",
            account_manager_id="m1",
            updated_at=NOW,
        )
    )
    session.add(
        Benefit(
            program=P,
            seller_id="S1",
            marketplace_id="US",
            benefit="on_time_delivery_incentive",
            tier="7.5%",
            value=0.075,
            effective_from=date(2026, 12, 1),
        )
    )


def test_daily_job_events_and_alerts_become_messages_in_the_same_transaction(store):  # noqa: F811
    events = pd.DataFrame(
        [
            _ev("e1", "S1", "candidate", "enrolled"),
            _ev(
                "e2",
                "S2",
                "enrolled",
                "at_risk",
                metric="order_defect_rate",
                value=0.012,
                numerator=6.0,
                denominator=500.0,
                threshold=0.01,
                operator=">",
                window_days=60,
                rule_id="odr",
                reason_params=json.dumps({"count": 1, "consecutive": 2}),
            ),
            _ev(
                "e3",
                "S2",
                "at_risk",
                "removed",
                metric="order_defect_rate",
                value=0.014,
                numerator=7.0,
                denominator=500.0,
                threshold=0.01,
                operator=">",
                window_days=60,
            ),
            _ev("e4", "S1", "not_eligible", "candidate"),  # no message
            _ev("e5", "S3", "candidate", "enrolled"),  # no contact: unreachable
        ]
    )
    alerts = pd.DataFrame(
        [
            {
                "idempotency_key": "a1",
                "seller_id": "S2",
                "marketplace_id": "US",
                "kind": "negative_feedback",
                "alert_date": date(2026, 11, 30),
                "order_id": "O-9",
                "rating": 2,
            },
        ]
    )
    defects = pd.DataFrame(
        {
            "seller_id": ["S2"] * 3,
            "marketplace_id": ["US"] * 3,
            "metric": ["order_defect_rate"] * 3,
            "order_id": ["O-1", "O-2", "O-3"],
            "kind": ["a_to_z", "negative_feedback", "chargeback"],
            "day": [date(2026, 10, 5), date(2026, 10, 20), date(2026, 11, 2)],
            "drops_out_on": [date(2026, 12, 4), date(2026, 12, 19), date(2027, 1, 1)],
        }
    )
    ctx = EnqueueContext(
        program=P,
        next_evaluation=date(2026, 12, 31),
        recovery_stable_days=30,
        documents=("w8ben", "business_licence"),
        defects=defects,
        max_orders=2,
        now=NOW,
        mail_domain="example.com",
        digest_hour=7,
        seller_names={"S2": "Bolt & Co"},
    )
    with pytest.raises(RuntimeError):
        with store.unit_of_work() as session:
            C.add_contact(session, "S1", "*", "s1@example.com", language="zh")
            append_events(session, events, program=P)
            enqueue_for_events(session, events, alerts, ctx)
            raise RuntimeError("the job fails before committing")
    assert _rows(store).empty  # nothing half-written: no message without its event
    with store.unit_of_work() as session:
        _people(session)
        C.add_contact(session, "S1", "*", "s1@example.com", language="zh")
        C.add_contact(session, "S2", "US", "s2@example.com")
        C.add_contact(session, "S2", "*", "s2@example.com")  # the same address seller-wide: one message
        append_events(session, events, program=P)
        r = enqueue_for_events(session, events, alerts, ctx)
    assert (r.messages, r.unreachable, r.held) == (4, 1, 0)
    assert r.by_kind == {"invitation": 1, "warning": 1, "removal": 1, "alert": 1}
    rows = _rows(store).set_index("source_key")
    assert rows.loc["e1", "recipient"] == "s1@example.com" and rows.loc["e1", "language"] == "zh"
    inv = from_params(
        "invitation",
        json.loads(rows.loc["e1", "params"])
        if isinstance(rows.loc["e1", "params"], str)
        else rows.loc["e1", "params"],
    )
    assert inv.manager.name == "Lin Wei" and [b.tier for b in inv.benefits] == ["7.5%"]
    assert inv.documents == ("w8ben", "business_licence") and inv.enrolled_on == date(2026, 12, 1)
    p = rows.loc["e2", "params"]
    warn = from_params("warning", json.loads(p) if isinstance(p, str) else p)
    assert warn.seller_name == "Bolt & Co" and (warn.count, warn.consecutive) == (1, 2)
    assert [o.order_id for o in warn.orders] == ["O-1", "O-2"] and warn.orders_total == 3
    # two of the three leave the window by the next evaluation (Dec 31); 1 fewer or 100 more orders
    assert warn.clearing == (Clearing(fewer_defects=1, leaving=2, more_orders=100),)
    p = rows.loc["e3", "params"]
    rem = from_params("removal", json.loads(p) if isinstance(p, str) else p)
    assert rem.recovery_earliest == date(2026, 12, 31) and rem.reasons[0].numerator == 7.0
    # a rerun of the job (after a crash) enqueues nothing more
    with store.unit_of_work() as session:
        again = enqueue_for_events(session, events, alerts, ctx)
    assert again.messages == 0 and len(_rows(store)) == 4


def test_unsubscribing_from_alerts_never_unsubscribes_from_removal_notices(store, tmp_path):  # noqa: F811
    removal = {"seller_id": "S1", "marketplace_id": "US", "program": P}
    from cxops.notify.messages import Removal, Warning

    with store.unit_of_work() as session:
        c = C.add_contact(session, "S1", "US", "ana@example.com")
        token = c.unsubscribe_token
        with pytest.raises(InputError, match="cannot be turned off"):
            C.set_preferences(session, c.id, muted=["alert", "removal"])
        with pytest.raises(InputError, match="cannot be turned off"):
            C.add_contact(session, "S1", "US", "bob@example.com", muted=["warning"])
    with store.unit_of_work() as session:
        muted = C.unsubscribe_alerts(session, token).muted
    assert "alert" in muted and "removal" not in muted and "warning" not in muted
    with store.unit_of_work() as session:
        # even a mute list written around the setter (by hand, an old import) cannot stop them
        session.execute(
            text("UPDATE notify_contacts SET muted = :m"), {"m": json.dumps(["alert", "removal", "warning"])}
        )
    with store.unit_of_work() as session:
        r = enqueue(
            session,
            [
                ("r1", Removal(**removal, event_date=date(2026, 12, 1))),
                ("w1", Warning(**removal, event_date=date(2026, 12, 1))),
                ("a1", Alert(**removal, alert="chargeback", order_id="O1")),
            ],
            now=NOW,
            domain="example.com",
        )
    assert r.by_kind == {"removal": 1, "warning": 1} and r.unreachable == 1
    with store.unit_of_work() as session, pytest.raises(NotFoundError):
        C.unsubscribe_alerts(session, "no-such-token")


def test_digest_contacts_get_one_daily_message_instead_of_many_alerts(store, tmp_path):  # noqa: F811
    from dataclasses import replace

    from cxops.notify.config import notify_config
    from cxops.settings import Settings

    who = {"seller_id": "S1", "marketplace_id": "US", "program": P}
    with store.unit_of_work() as session:
        C.add_contact(session, "S1", "US", "digest@example.com", digest=True)
        C.add_contact(session, "S1", "US", "each@example.com")
        r = enqueue(
            session,
            [(f"a{i}", Alert(**who, alert="chargeback", order_id=f"O{i}")) for i in range(3)],
            now=NOW,
            domain="example.com",
            digest_hour=7,
        )
    assert (r.messages, r.held) == (6, 3)
    rows = _rows(store)
    held = rows[rows["status"] == "held"]
    assert set(held["recipient"]) == {"digest@example.com"}
    assert {
        pd.Timestamp(t).tz_localize(None) if pd.Timestamp(t).tzinfo else pd.Timestamp(t)
        for t in held["available_at"]
    } == {pd.Timestamp("2026-12-01 07:00")}
    with store.unit_of_work() as session:
        assert compose_digests(session, datetime(2026, 12, 1, 6, 59, tzinfo=UTC)) == 0  # not yet
        assert compose_digests(session, datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == 1
        assert compose_digests(session, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) == 0  # once
    rows = _rows(store)
    digest = rows[rows["kind"] == "digest"].iloc[0]
    assert digest["recipient"] == "digest@example.com" and digest["status"] == "pending"
    assert (rows["bundle_id"] == digest["id"]).sum() == 3 and (rows["status"] == "bundled").sum() == 3
    cfg = replace(notify_config(Settings(mail_dir=str(tmp_path / "mail"))))
    rep = send_due(store, cfg)
    assert rep.sent == 4  # three alerts one by one, one digest
    files = list((tmp_path / "mail").rglob("*.eml"))
    subjects = sorted(
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"] for f in files
    )
    assert subjects.count("Your alerts of December 1, 2026: 3 new alerts") == 1


def test_contacts_bad_input_is_refused_clearly(store):  # noqa: F811
    with store.unit_of_work() as session:
        C.add_contact(session, "S1", "US", "ana@example.com")
        with pytest.raises(ConflictError):
            C.add_contact(session, "S1", "US", "ana@example.com")
        with pytest.raises(InputError, match="not an e-mail address"):
            C.add_contact(session, "S1", "US", "ana at example")
        with pytest.raises(InputError, match="unsupported language"):
            C.add_contact(session, "S1", "US", "b@example.com", language="xx")
        with pytest.raises(InputError, match="unknown message kind"):
            C.add_contact(session, "S1", "US", "b@example.com", muted=["spam"])
        with pytest.raises(InputError, match="row 2, column email"):
            C.import_contacts(
                session, pd.DataFrame({"seller_id": ["S1", "S2"], "email": ["a@x.com", "nope"]})
            )
    with store.unit_of_work() as session:
        n = C.import_contacts(
            session,
            pd.DataFrame(
                {
                    "seller_id": ["S1", "S2"],
                    "email": ["ana@example.com", "z@x.com"],
                    "marketplace_id": ["US", None],
                    "language": ["zh", None],
                }
            ),
        )
        C.add_contact(session, "S1", "DE", "de@example.com", muted=["invitation"])
        listed = C.list_contacts(session)
        mine = C.seller_contacts(session, "S1")  # the seller's page: plain rows, the same values
        mine_us = C.seller_contacts(session, "S1", "US")
        frame_us = C.list_contacts(session, "S1", "US")
    assert n == 2 and len(listed) == 3 and "unsubscribe_token" not in listed.columns
    assert listed.set_index("email").loc["ana@example.com", "language"] == "zh"
    from cxops.service.sellerdesk import _records

    assert mine == _records(listed[listed["seller_id"] == "S1"])
    assert mine_us == _records(frame_us) and [c["email"] for c in mine_us] == ["ana@example.com"]
    assert [c["muted"] for c in mine if c["marketplace_id"] == "DE"] == [["invitation"]]


def test_an_operators_suspension_tells_the_seller_why(store):  # noqa: F811
    from cxops.notify.render import render

    events = pd.DataFrame(
        [
            _ev(
                "x1",
                "S1",
                "enrolled",
                "suspended",
                kind="action",
                actor="carla",
                action_reason="Counterfeit complaint under review.",
            )
        ]
    )
    with store.unit_of_work() as session:
        C.add_contact(session, "S1", "US", "ana@example.com")
        r = enqueue_for_events(session, events, None, EnqueueContext(program=P, now=NOW, mail_domain="x.com"))
    assert r.by_kind == {"removal": 1}
    p = _rows(store).iloc[0]["params"]
    ctx = from_params("removal", json.loads(p) if isinstance(p, str) else p)
    assert ctx.action == "suspended" and ctx.note == "Counterfeit complaint under review."
    text = render(ctx, "en").text
    assert "Your customer-excellence" not in text and "> Counterfeit complaint under review." in text
