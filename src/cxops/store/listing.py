"""Keyset-paged reads for lists (the web's operator console, audit log, a seller's events and notes).

Every list is ordered by a unique key and read a page at a time with ``WHERE (key…) > (last key…)
ORDER BY key… LIMIT n`` — a range scan of an index, as fast on page 10,000 as on page 1 (no
``OFFSET``). :func:`page` takes the statement, its key columns and the key of the last row of the
previous page; it returns the rows and the key to continue from.

The membership list's filters and sorts are served by the indexes of migration 0002
(``ix_memberships_*``); ``bench/web_console.py`` shows their plans on 1 M memberships.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from cxops.errors import InputError
from cxops.store import bulk
from cxops.store.models import (
    ALL_MARKETPLACES,
    SINCE_SORT_KEY,
    AccountManager,
    Action,
    Benefit,
    Event,
    ManagerAssignment,
    Membership,
    Note,
    Run,
)

MEMBERSHIPS = Membership.__table__
EVENTS = Event.__table__
#: ``since`` with a missing day last: the expression of ``ix_memberships_since`` (same text, so
#: SQLite matches the index).
SINCE_KEY = func.coalesce(MEMBERSHIPS.c.since, literal_column(SINCE_SORT_KEY), type_=Date)
#: Sorts of the membership list → key columns (each ends with the primary key, so keys are unique).
MEMBER_SORTS: dict[str, tuple[ColumnElement, ...]] = {
    "seller": (MEMBERSHIPS.c.seller_id, MEMBERSHIPS.c.marketplace_id),
    "since": (SINCE_KEY, MEMBERSHIPS.c.seller_id, MEMBERSHIPS.c.marketplace_id),
    "state": (MEMBERSHIPS.c.state, MEMBERSHIPS.c.seller_id, MEMBERSHIPS.c.marketplace_id),
}
#: ``manager_id`` filter value meaning "no account manager".
NO_MANAGER = ""


@dataclass(frozen=True)
class Slice:
    """One page: ``rows`` (dicts of column → value) and ``next_key`` (``None`` on the last page)."""

    rows: list[dict[str, Any]]
    next_key: tuple | None


def page(
    session: Session,
    stmt: Select,
    keys: Sequence[ColumnElement],
    after: Sequence[Any] | None,
    limit: int,
    *,
    descending: bool = False,
) -> Slice:
    """Read one page of ``stmt`` ordered by ``keys`` (unique together), after the key ``after``.

    Parameters
    ----------
    stmt : Select
        The filtered statement, without ORDER BY or LIMIT; it must select every key column under
        its column name (``key_names`` of the result rows).
    keys : sequence of column expressions
    after : sequence or None
        The key of the last row of the previous page (``Slice.next_key``), ``None`` for the first.
    limit : int
        Rows per page (at least 1).
    descending : bool
        Newest / largest first.

    Raises
    ------
    InputError
        ``after`` does not have one value per key column.
    """
    stmt = page_statement(stmt, keys, after, limit + 1, descending=descending)
    rows = bulk.records(session, stmt)
    more = len(rows) > limit
    rows = rows[:limit]
    next_key = tuple(rows[-1][_label(k)] for k in keys) if more else None
    return Slice(rows, next_key)


def page_statement(
    stmt: Select,
    keys: Sequence[ColumnElement],
    after: Sequence[Any] | None,
    limit: int,
    *,
    descending: bool = False,
) -> Select:
    """``stmt`` restricted to rows after the key ``after``, ordered by ``keys``, at most ``limit`` rows
    (the statement :func:`page` runs; ``bench/web_console.py`` shows its plans)."""
    if after is not None:
        if len(after) != len(keys):
            raise InputError(f"a page key needs {len(keys)} values, not {len(after)}")
        values = [_bind(k, v) for k, v in zip(keys, after, strict=True)]
        row, bound = tuple_(*keys), tuple_(*values)
        stmt = stmt.where(row < bound if descending else row > bound)
        if len(keys) > 1:  # the same bound on the first key alone: SQLite starts its index range there
            stmt = stmt.where(keys[0] <= values[0] if descending else keys[0] >= values[0])
    order = [k.desc() for k in keys] if descending else list(keys)
    return stmt.order_by(*order).limit(limit)


def _label(key: ColumnElement) -> str:
    return "sort_since" if key is SINCE_KEY else key.key


def _bind(key: ColumnElement, value: Any):
    if key is SINCE_KEY and isinstance(value, str):
        value = date.fromisoformat(value)
    return literal(value, key.type)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _prefix(session: Session, column, prefix: str):
    """``column`` starts with ``prefix`` (case-sensitive), in a form the dialect serves from an index:
    a binary range on SQLite, ``LIKE 'p%'`` (``ix_memberships_seller_prefix``) on PostgreSQL."""
    if _dialect(session) == "postgresql":
        return column.startswith(prefix, autoescape=True)
    last = prefix[-1]
    if ord(last) >= 0x10FFFF:
        return column.startswith(prefix, autoescape=True)
    return and_(column >= prefix, column < prefix[:-1] + chr(ord(last) + 1))


def grants_filter(table, grants: Sequence[tuple[str, str]]):
    """Rows of the sellers in ``grants`` (``(seller_id, marketplace_id or '*')``); none if empty."""
    whole = sorted({s for s, m in grants if m == ALL_MARKETPLACES})
    pairs = sorted({(s, m) for s, m in grants if m != ALL_MARKETPLACES})
    terms = []
    if whole:
        terms.append(table.c.seller_id.in_(whole))
    if pairs:
        terms.append(tuple_(table.c.seller_id, table.c.marketplace_id).in_(pairs))
    return or_(*terms) if terms else (table.c.seller_id != table.c.seller_id)


def members(
    session: Session,
    program: str,
    *,
    states: Sequence[str] = (),
    marketplace_id: str | None = None,
    manager_id: str | None = None,
    seller_prefix: str | None = None,
    grants: Sequence[tuple[str, str]] | None = None,
    sort: str = "seller",
    descending: bool = False,
    after: Sequence[Any] | None = None,
    limit: int = 50,
) -> Slice:
    """One page of a program's memberships with the manager's name.

    Parameters
    ----------
    states : sequence of str
        Keep these lifecycle states (all when empty).
    marketplace_id, manager_id : str, optional
        Keep one marketplace / one manager (:data:`NO_MANAGER`: sellers without a manager).
    seller_prefix : str, optional
        Seller ids starting with this text (case-sensitive).
    grants : sequence of (seller_id, marketplace_id), optional
        Only these sellers (a seller user's bindings); ``None``: every seller.
    sort : {"seller", "since", "state"}
        Order (then seller id and marketplace); ``since`` (the day the seller entered its state, a
        missing day last) needs exactly one state in ``states``.

    Returns
    -------
    Slice
        Rows with the membership columns, ``manager_name`` and ``sort_since`` (the sort key).
    """
    stmt = members_statement(
        session,
        program,
        states=states,
        marketplace_id=marketplace_id,
        manager_id=manager_id,
        seller_prefix=seller_prefix,
        grants=grants,
        sort=sort,
    )
    return page(session, stmt, MEMBER_SORTS[sort], after, limit, descending=descending)


def members_statement(
    session: Session,
    program: str,
    *,
    states: Sequence[str] = (),
    marketplace_id: str | None = None,
    manager_id: str | None = None,
    seller_prefix: str | None = None,
    grants: Sequence[tuple[str, str]] | None = None,
    sort: str = "seller",
) -> Select:
    """The filtered membership statement of :func:`members` (without order and limit)."""
    if sort not in MEMBER_SORTS:
        raise InputError(f"unknown sort {sort!r}; known: {', '.join(MEMBER_SORTS)}")
    if sort == "since" and len(states) != 1:
        raise InputError(
            "sorting by since needs one status (state=…): it is the day the seller entered its status",
            hint="e.g. state=at_risk&sort=since lists the sellers at risk for longest first",
        )
    m = MEMBERSHIPS
    mgr = AccountManager.__table__
    stmt = (
        select(m, mgr.c.name.label("manager_name"), SINCE_KEY.label("sort_since"))
        .select_from(m.outerjoin(mgr, mgr.c.id == m.c.account_manager_id))
        .where(m.c.program == program)
    )
    if states:
        stmt = stmt.where(m.c.state.in_(list(states)) if len(states) > 1 else m.c.state == states[0])
    if marketplace_id:
        stmt = stmt.where(m.c.marketplace_id == marketplace_id)
    if manager_id is not None:
        stmt = stmt.where(
            m.c.account_manager_id.is_(None)
            if manager_id == NO_MANAGER
            else m.c.account_manager_id == manager_id
        )
    if seller_prefix:
        stmt = stmt.where(_prefix(session, m.c.seller_id, seller_prefix))
    if grants is not None:
        stmt = stmt.where(grants_filter(m, grants))
    return stmt


def seller_memberships(
    session: Session, seller_id: str, *, program: str | None = None, grants=None
) -> list[dict[str, Any]]:
    """Every membership of one seller (all programs unless ``program``), with the manager's name and
    e-mail, by program and marketplace."""
    m = MEMBERSHIPS
    mgr = AccountManager.__table__
    stmt = (
        select(m, mgr.c.name.label("manager_name"), mgr.c.email.label("manager_email"))
        .select_from(m.outerjoin(mgr, mgr.c.id == m.c.account_manager_id))
        .where(m.c.seller_id == seller_id)
    )
    if program:
        stmt = stmt.where(m.c.program == program)
    if grants is not None:
        stmt = stmt.where(grants_filter(m, grants))
    return [dict(r) for r in session.execute(stmt.order_by(m.c.program, m.c.marketplace_id)).mappings()]


def seller_events(
    session: Session,
    program: str,
    seller_id: str,
    marketplace_id: str,
    *,
    kinds: Sequence[str] | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Slice:
    """A seller's events newest first (``ix_events_program``), optionally only some kinds."""
    e = EVENTS
    stmt = select(e).where(
        e.c.program == program, e.c.seller_id == seller_id, e.c.marketplace_id == marketplace_id
    )
    if kinds is not None:
        stmt = stmt.where(e.c.kind.in_(list(kinds)))
    return page(session, stmt, [e.c.id], None if before is None else (before,), limit, descending=True)


def events_of_kinds(
    session: Session, kinds: Sequence[str], *, before: int | None = None, limit: int = 50
) -> Slice:
    """Events of some kinds newest first (``ix_events_kind_id``): e.g. the log of logins."""
    e = EVENTS
    stmt = select(e).where(e.c.kind.in_(list(kinds)))
    return page(session, stmt, [e.c.id], None if before is None else (before,), limit, descending=True)


def seller_notes(
    session: Session,
    program: str,
    seller_id: str,
    marketplace_id: str,
    *,
    before: int | None = None,
    limit: int = 50,
) -> Slice:
    """A seller's notes newest first."""
    n = Note.__table__
    stmt = select(n).where(
        n.c.program == program, n.c.seller_id == seller_id, n.c.marketplace_id == marketplace_id
    )
    return page(session, stmt, [n.c.id], None if before is None else (before,), limit, descending=True)


def seller_actions(
    session: Session,
    program: str,
    seller_id: str,
    marketplace_id: str,
    *,
    status: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Slice:
    """A seller's operator actions (all, or one status) newest first, with the manager's name."""
    a = Action.__table__
    stmt = select(a).where(
        a.c.program == program, a.c.seller_id == seller_id, a.c.marketplace_id == marketplace_id
    )
    if status:
        stmt = stmt.where(a.c.status == status)
    return page(session, stmt, [a.c.id], None if before is None else (before,), limit, descending=True)


def action_of(session: Session, action_id: int) -> dict[str, Any] | None:
    """One action as a dict, or ``None``."""
    a = Action.__table__
    row = session.execute(select(a).where(a.c.id == action_id)).mappings().first()
    return dict(row) if row else None


def managers(session: Session, *, after: str | None = None, limit: int = 50, load: bool = True) -> Slice:
    """Account managers by id, with their current ``load`` (open assignments; ``load=False`` leaves it
    out and reads only ``id, name, active``: a list of names need not count every open assignment)."""
    mgr = AccountManager.__table__
    if not load:
        names = select(mgr.c.id, mgr.c.name, mgr.c.active)
        return page(session, names, [mgr.c.id], None if after is None else (after,), limit)
    asg = ManagerAssignment.__table__
    load = (
        select(asg.c.manager_id, func.count().label("load"))
        .where(asg.c.ended_at.is_(None))
        .group_by(asg.c.manager_id)
        .subquery()
    )
    stmt = select(mgr, func.coalesce(load.c.load, 0).label("load")).select_from(
        mgr.outerjoin(load, load.c.manager_id == mgr.c.id)
    )
    return page(session, stmt, [mgr.c.id], None if after is None else (after,), limit)


def runs(
    session: Session, *, program: str | None = None, before: int | None = None, limit: int = 50
) -> Slice:
    """Daily-job runs newest first."""
    r = Run.__table__
    stmt = select(r)
    if program:
        stmt = stmt.where(r.c.program == program)
    return page(session, stmt, [r.c.id], None if before is None else (before,), limit, descending=True)


def open_benefits(
    session: Session, program: str, seller_id: str, marketplace_id: str
) -> list[dict[str, Any]]:
    """Benefits the seller holds now (open ledger entries), by benefit."""
    b = Benefit.__table__
    stmt = (
        select(b)
        .where(
            b.c.program == program,
            b.c.seller_id == seller_id,
            b.c.marketplace_id == marketplace_id,
            b.c.effective_to.is_(None),
        )
        .order_by(b.c.benefit)
    )
    return [dict(r) for r in session.execute(stmt).mappings()]
