"""Demo users for ``cxops demo``: an administrator, a viewer and a seller bound to one demo seller,
each with a freshly generated password (shown once by the command; stored only as argon2id hashes).

Running the demo again replaces them (new passwords, the seller binding of the new data), so the
printed passwords are always the ones that work.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cxops.errors import NotFoundError
from cxops.service import accounts
from cxops.service.auth import ADMIN, SELLER, VIEWER, AuthPolicy
from cxops.store import Store

#: (login, role) of the demo users.
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("demo-admin", ADMIN),
    ("demo-viewer", VIEWER),
    ("demo-seller", SELLER),
)
#: States in the order a demo seller is preferred (a seller with a scorecard worth showing).
PREFERRED_STATES = ("enrolled", "at_risk", "recovering", "removed", "candidate", "not_eligible")


@dataclass(frozen=True)
class DemoUser:
    """A demo user as the command prints it (``password`` in clear: shown once)."""

    login: str
    role: str
    password: str
    seller_id: str | None


def pick_demo_seller(statuses: Iterable[tuple[str, str]]) -> str:
    """The seller the demo seller user is bound to: the first (by id) in the most interesting state.

    Parameters
    ----------
    statuses : iterable of (seller_id, state)

    Raises
    ------
    NotFoundError
        No seller at all.
    """
    rank = {s: i for i, s in enumerate(PREFERRED_STATES)}
    pairs = sorted((rank.get(state, len(rank)), seller) for seller, state in statuses)
    if not pairs:
        raise NotFoundError("no seller to bind the demo seller user to")
    return pairs[0][1]


def create_demo_users(store: Store, seller_id: str, *, policy: AuthPolicy | None = None) -> list[DemoUser]:
    """Create (or replace) the demo users with generated passwords; the seller user sees ``seller_id``
    on every marketplace. Each creation is recorded in the audit log (actor ``demo``)."""
    out = []
    existing = {u.login for u in accounts.list_users(store)}
    for login, role in DEMO_USERS:
        password = secrets.token_urlsafe(15)  # 20 characters, 120 bits
        if login in existing:
            accounts.remove_user(store, login, actor="demo")
        sellers = [(seller_id, "*")] if role == SELLER else []
        accounts.add_user(store, login, password, role=role, actor="demo", sellers=sellers, policy=policy)
        out.append(DemoUser(login, role, password, seller_id if role == SELLER else None))
    return out
