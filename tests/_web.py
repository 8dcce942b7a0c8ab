"""Test helper: the web app on a seeded store (SQLite and PostgreSQL), logged-in clients, tokens.

Import in a test module: ``from _web import web  # noqa: F401``. The store holds two sellers:
``SELLER_A`` (US enrolled with a manager, a benefit, a transition, a pending action; DE at risk) and
``SELLER_B`` (US enrolled, with a secret reason, a note and a pending action) — a seller user bound to
A must never see anything of B. Users: ``admin`` (operator-admin), ``viewer`` (operator-viewer),
``seller-a`` (seller of A on every marketplace), ``seller-a-de`` (A on DE only); all with
:data:`PASSWORD`. Passwords are hashed with cheap argon2 parameters (:data:`FAST`) to keep tests quick;
the default parameters are tested on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cxops.service import accounts
from cxops.service.actions import add_note, request_action
from cxops.service.auth import AuthPolicy
from cxops.service.managers import add_manager
from cxops.store import record_event, upsert_memberships
from cxops.web import create_app
from cxops.web.config import web_settings

PROGRAM = "customer-excellence"
SELLER_A, SELLER_B = "S-ALPHA", "S-BETA-SECRET"
SECRET_REASON = "SECRET-REASON-OF-BETA"
PASSWORD = "correct horse battery staple"
FAST = AuthPolicy(hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed(store, wh=None) -> dict[str, int]:
    """Memberships, a manager, events, a benefit, actions, a note and users; returns ids."""
    add_manager(store, "ana", "Ana Lima", capacity=10, email="ana@example.com", languages=["en"])
    members = pd.DataFrame(
        {
            "seller_id": [SELLER_A, SELLER_A, SELLER_B],
            "marketplace_id": ["US", "DE", "US"],
            "state": ["enrolled", "at_risk", "enrolled"],
            "since": [date(2026, 3, 1), date(2026, 10, 1), date(2026, 2, 1)],
            "account_manager_id": ["ana", None, "ana"],
            "reason_key": ["admitted", None, None],
        }
    )
    from cxops.store.models import Benefit

    with store.unit_of_work() as s:
        upsert_memberships(s, PROGRAM, members)
        record_event(
            s,
            kind="transition",
            idempotency_key="t-a",
            actor="system",
            program=PROGRAM,
            seller_id=SELLER_A,
            marketplace_id="US",
            from_state="candidate",
            to_state="enrolled",
            reason_key="admitted",
            event_date=date(2026, 3, 1),
            occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        )
        record_event(
            s,
            kind="transition",
            idempotency_key="t-b",
            actor="system",
            program=PROGRAM,
            seller_id=SELLER_B,
            marketplace_id="US",
            from_state="candidate",
            to_state="enrolled",
            reason=SECRET_REASON,
            event_date=date(2026, 2, 1),
            occurred_at=datetime(2026, 2, 2, tzinfo=UTC),
        )
        s.add(
            Benefit(
                program=PROGRAM,
                seller_id=SELLER_A,
                marketplace_id="US",
                benefit="traffic_support",
                tier="top",
                value=None,
                effective_from=date(2026, 3, 1),
            )
        )
    a = request_action(
        store, "exempt", SELLER_A, "US", reason="carrier strike", actor="carla", until=date(2099, 1, 31)
    )
    b = request_action(store, "suspend", SELLER_B, "US", reason=SECRET_REASON, actor="carla")
    add_note(store, SELLER_B, "US", text=SECRET_REASON, actor="carla")
    ids = {"action_a": a.action_id, "action_b": b.action_id}
    if wh is not None:  # a dispute and a contact per seller (case and contact routes)
        from cxops.notify.contacts import add_contact
        from cxops.service.cases import open_dispute

        for key, seller in (("a", SELLER_A), ("b", SELLER_B)):
            reason = SECRET_REASON if seller == SELLER_B else "item not received"
            c = open_dispute(store, wh, seller, f"O-{seller}", reason=reason, actor="carla")
            ids[f"case_{key}"] = c.id
            with store.unit_of_work() as s:
                ids[f"contact_{key}"] = add_contact(s, seller, "US", f"ops@{key}.example.com").id
    for login, role, sellers in (
        ("admin", "operator-admin", ()),
        ("viewer", "operator-viewer", ()),
        ("seller-a", "seller", [(SELLER_A, "*")]),
        ("seller-a-de", "seller", [(SELLER_A, "DE")]),
    ):
        accounts.add_user(store, login, PASSWORD, role=role, actor="test", sellers=sellers, policy=FAST)
    return ids


def orders_warehouse(extra_orders=()):
    """An in-memory warehouse with one order of each seller on US (for disputes and their bundles),
    and ``extra_orders`` (canonical ``orders`` rows) besides."""
    from _wh import warehouse

    ts = pd.Timestamp
    orders, ships = [], []
    for seller in (SELLER_A, SELLER_B):
        orders.append({"seller_id": seller, "order_id": f"O-{seller}", "marketplace_id": "US",
                       "purchased_at": ts("2026-02-20 10:00"), "fulfillment_channel": "MFN",
                       "latest_ship_at": ts("2026-02-23 07:59"), "latest_delivery_at": ts("2026-03-02 07:59"),
                       "units": 1, "order_total": 20.0, "currency": "USD"})  # fmt: skip
        ships.append({"seller_id": seller, "order_id": f"O-{seller}", "shipment_id": f"SH-{seller}",
                      "confirmed_at": ts("2026-02-22 18:00"), "carrier": "UPS", "tracking_id": f"1Z{seller}",
                      "delivered_at": ts("2026-02-26 18:00")})  # fmt: skip
    sellers = [{"seller_id": s, "marketplace_id": "US"} for s in (SELLER_A, SELLER_B)]
    # a commented rating each (the voice-of-the-customer routes); B's text must never reach A
    comments = {SELLER_A: "Arrived broken, the box was crushed", SELLER_B: f"{SECRET_REASON} never arrived"}
    items = [{"seller_id": s, "order_id": f"O-{s}", "line_id": "1", "sku": f"SKU-{s}", "quantity": 1}
             for s in (SELLER_A, SELLER_B)]  # fmt: skip
    feedback = [{"seller_id": s, "order_id": f"O-{s}", "rating": 1, "submitted_at": ts("2026-02-27 10:00"),
                 "comment": comments[s]} for s in (SELLER_A, SELLER_B)]  # fmt: skip
    orders += list(extra_orders)
    return warehouse(
        {"sellers": sellers, "orders": orders, "order_items": items, "shipments": ships, "feedback": feedback}
    )


@dataclass
class Web:
    """The app on a seeded store, with helpers to log in and make tokens."""

    store: object
    app: object
    ids: dict[str, int]
    clients: list[TestClient] = field(default_factory=list)

    def client(self, **kwargs) -> TestClient:
        c = TestClient(self.app, **kwargs)
        c.__enter__()
        self.clients.append(c)
        return c

    def login(self, login: str, password: str = PASSWORD, client: TestClient | None = None) -> TestClient:
        """A client logged in as ``login`` (its ``csrf`` attribute holds the session's CSRF token)."""
        c = client or self.client()
        page = c.get("/login")
        token = CSRF_RE.search(page.text).group(1)
        r = c.post(
            "/login",
            data={"login": login, "password": password, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        home = c.get("/")
        c.csrf = CSRF_RE.search(home.text).group(1)
        return c

    def token(self, role: str, sellers=()) -> str:
        _, secret = accounts.create_token(
            self.store, f"t-{role}", role=role, actor="test", sellers=list(sellers)
        )
        return secret

    def close(self) -> None:
        for c in self.clients:
            c.__exit__(None, None, None)


def make_web(store, wh=None, **settings) -> Web:
    wh = orders_warehouse() if wh is None else wh
    ids = seed(store, wh)
    app = create_app(web_settings(store=store.url, **settings), store=store, policy=FAST, warehouse=wh)
    return Web(store, app, ids)


@pytest.fixture
def web(store):
    """The seeded web app on SQLite and on PostgreSQL."""
    w = make_web(store)
    yield w
    w.close()
