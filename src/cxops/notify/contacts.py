"""Seller contacts with their preferences, and webhook endpoints (in the caller's transaction).

A contact is an e-mail address of a seller on one marketplace (or ``'*'``: all of the seller's
marketplaces) with a language, the message kinds it does not want (``muted``) and whether alerts
come one message each or in one daily digest. Warnings and removal notices
(:data:`~cxops.notify.messages.MANDATORY`) cannot be muted: :func:`set_preferences` refuses it,
:func:`unsubscribe_alerts` (the one-click link) mutes alerts only, and the enqueuer ignores a
mandatory kind found in ``muted`` all the same.

A webhook endpoint receives signed JSON for one seller, or for every seller (``'*'``, an operator's
integration), optionally only some kinds.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.notify.messages import DIGESTED, MANDATORY, check_kinds
from cxops.report.i18n import normalize_lang
from cxops.store import bulk
from cxops.store.models import ALL_MARKETPLACES
from cxops.store.notify_models import NotifyContact, WebhookEndpoint
from cxops.store.types import utcnow

CONTACTS = NotifyContact.__table__
ENDPOINTS = WebhookEndpoint.__table__
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$")


def check_email(address: str) -> str:
    """``address`` stripped, or :class:`InputError` when it is not a plain ``local@domain`` address."""
    address = (address or "").strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InputError(f"{address!r} is not an e-mail address (expected local@domain)")
    return address


def check_language(lang: str) -> str:
    try:
        return normalize_lang(lang)
    except ValueError as e:
        raise InputError(str(e)) from None


def check_url(url: str) -> str:
    """A webhook URL: ``https://``, or ``http://`` to a loopback address (local receivers, tests)."""
    parts = urlsplit((url or "").strip())
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return parts.geturl()
    if parts.scheme == "http" and host:
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return parts.geturl()
        raise InputError(f"webhook URL {url!r}: use https:// (plain http is allowed only to 127.0.0.1)")
    raise InputError(f"webhook URL {url!r} is not an http(s) URL")


def _muted(kinds: Iterable[str]) -> list[str]:
    kinds = check_kinds(kinds, "--mute")
    refused = sorted(set(kinds) & MANDATORY)
    if refused:
        raise InputError(
            f"{', '.join(refused)} cannot be turned off: warnings and removal notices reach every contact",
            hint="mute alerts, digests or reminders instead",
        )
    return kinds


def add_contact(
    session: Session,
    seller_id: str,
    marketplace_id: str,
    email: str,
    *,
    language: str = "en",
    name: str | None = None,
    muted: Iterable[str] = (),
    digest: bool = False,
) -> NotifyContact:
    """Add an e-mail contact of a seller (``marketplace_id='*'``: every marketplace).

    Raises
    ------
    InputError
        A bad address, language or kind, or a mandatory kind in ``muted``.
    ConflictError
        The address is already a contact of this seller and marketplace.
    """
    email = check_email(email)
    exists = session.execute(
        select(CONTACTS.c.id).where(
            CONTACTS.c.seller_id == seller_id,
            CONTACTS.c.marketplace_id == marketplace_id,
            CONTACTS.c.email == email,
        )
    ).first()
    if exists:
        raise ConflictError(f"{email} is already a contact of seller {seller_id} on {marketplace_id}")
    now = utcnow()
    row = NotifyContact(
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        email=email,
        name=name,
        language=check_language(language),
        muted=_muted(muted),
        digest=digest,
        active=True,
        unsubscribe_token=secrets.token_urlsafe(32),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def import_contacts(session: Session, contacts: pd.DataFrame) -> int:
    """Add or update many contacts in one statement: columns ``seller_id``, ``email`` and optionally
    ``marketplace_id`` (default ``'*'``), ``name``, ``language`` (default ``en``), ``digest``.

    An existing (seller, marketplace, address) keeps its token and mutes; its name, language and digest
    are updated. Returns the rows written.

    Raises
    ------
    InputError
        Naming the first bad row (1-based) and column.
    """
    for col in ("seller_id", "email"):
        if col not in contacts.columns:
            raise InputError(f"contacts need a {col!r} column")
    df = contacts.copy()
    df["marketplace_id"] = df.get("marketplace_id", pd.Series(ALL_MARKETPLACES, index=df.index)).fillna("*")
    df["language"] = df.get("language", pd.Series("en", index=df.index)).fillna("en")
    df["digest"] = df.get("digest", pd.Series(False, index=df.index)).fillna(False).astype(bool)
    if "name" not in df.columns:
        df["name"] = None
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for col, check in (("email", check_email), ("language", check_language)):
            try:
                value = check(str(getattr(row, col)))
            except InputError as e:
                raise InputError(f"contacts row {i}, column {col}: {e}") from None
            df.iat[i - 1, df.columns.get_loc(col)] = value
        if not str(row.seller_id or "").strip():
            raise InputError(f"contacts row {i}, column seller_id: empty")
    now = utcnow()
    df = df[["seller_id", "marketplace_id", "email", "name", "language", "digest"]].drop_duplicates(
        ["seller_id", "marketplace_id", "email"], keep="last"
    )
    df["muted"] = [[] for _ in range(len(df))]
    df["active"] = True
    df["unsubscribe_token"] = [secrets.token_urlsafe(32) for _ in range(len(df))]
    df["created_at"] = now
    df["updated_at"] = now
    return bulk.write(
        session,
        CONTACTS,
        df,
        conflict=["seller_id", "marketplace_id", "email"],
        update=["name", "language", "digest", "active", "updated_at"],
    )


def _contact(session: Session, contact_id: int) -> NotifyContact:
    row = session.get(NotifyContact, contact_id)
    if row is None:
        raise NotFoundError(
            f"contact {contact_id} not found", hint="list them with: cxops notify contacts list"
        )
    return row


def set_preferences(
    session: Session,
    contact_id: int,
    *,
    language: str | None = None,
    muted: Iterable[str] | None = None,
    digest: bool | None = None,
    active: bool | None = None,
) -> NotifyContact:
    """Change a contact's language, muted kinds (replacing them), digest or active flag.

    Raises
    ------
    NotFoundError
        For an unknown contact.
    InputError
        A bad language or kind, or a mandatory kind (warning, removal) in ``muted``.
    """
    row = _contact(session, contact_id)
    if language is not None:
        row.language = check_language(language)
    if muted is not None:
        row.muted = _muted(muted)
    if digest is not None:
        row.digest = digest
    if active is not None:
        row.active = active
    row.updated_at = utcnow()
    session.flush()
    return row


def unsubscribe_alerts(session: Session, token: str) -> NotifyContact:
    """The one-click unsubscribe (RFC 8058): mute alerts and digests of the contact with ``token``.

    Warnings and removal notices keep coming (they cannot be muted).

    Raises
    ------
    NotFoundError
        For an unknown token.
    """
    row = session.execute(select(NotifyContact).where(NotifyContact.unsubscribe_token == token)).scalar()
    if row is None:
        raise NotFoundError("unknown or expired unsubscribe link")
    row.muted = sorted(set(row.muted or []) | DIGESTED | {"digest"})
    row.updated_at = utcnow()
    session.flush()
    return row


def _contacts(seller_id: str | None = None, marketplace_id: str | None = None):
    cols = [c for c in CONTACTS.c if c.name != "unsubscribe_token"]
    stmt = select(*cols).order_by(CONTACTS.c.seller_id, CONTACTS.c.marketplace_id, CONTACTS.c.id)
    if seller_id is not None:
        stmt = stmt.where(CONTACTS.c.seller_id == seller_id)
    if marketplace_id is not None:
        stmt = stmt.where(CONTACTS.c.marketplace_id.in_([marketplace_id, ALL_MARKETPLACES]))
    return stmt


def list_contacts(
    session: Session, seller_id: str | None = None, marketplace_id: str | None = None
) -> pd.DataFrame:
    """Contacts (without their unsubscribe tokens), optionally of one seller / marketplace."""
    return bulk.frame(session, _contacts(seller_id, marketplace_id))


def seller_contacts(session: Session, seller_id: str, marketplace_id: str | None = None) -> list[dict]:
    """One seller's contacts as plain rows: :func:`list_contacts` for a seller's page."""
    return bulk.records(session, _contacts(seller_id, marketplace_id))


def add_webhook(
    session: Session,
    url: str,
    *,
    seller_id: str = ALL_MARKETPLACES,
    marketplace_id: str = ALL_MARKETPLACES,
    kinds: Iterable[str] | None = None,
    secret: str | None = None,
    language: str = "en",
    description: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register a webhook endpoint; returns it and its signing secret (generated when not given).

    Raises
    ------
    InputError
        A URL that is not https (or http to loopback), an unknown kind, a secret shorter than 16 characters.
    """
    url = check_url(url)
    if secret is not None and len(secret) < 16:
        raise InputError("a webhook secret needs at least 16 characters")
    secret = secret or "whsec_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = WebhookEndpoint(
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        url=url,
        secret=secret,
        kinds=None if kinds is None else check_kinds(kinds, "--kind"),
        language=check_language(language),
        description=description,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row, secret


def list_webhooks(session: Session) -> pd.DataFrame:
    """Webhook endpoints, without their secrets."""
    cols = [c for c in ENDPOINTS.c if c.name != "secret"]
    return bulk.frame(session, select(*cols).order_by(ENDPOINTS.c.id))


def disable_webhook(session: Session, endpoint_id: int) -> None:
    """Stop sending to an endpoint (kept for the record of what was sent to it).

    Raises
    ------
    NotFoundError
    """
    n = session.execute(
        update(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id).values(active=False, updated_at=utcnow())
    ).rowcount
    if not n:
        raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
