"""Tables of notifications (issue 11, migration 0003): the outbox, its delivery attempts, the sellers'
e-mail contacts with their preferences, and webhook endpoints.

Registered on the store's metadata (:class:`cxops.store.models.Base`), so migrations and the
autogenerate comparison see them; the store layer knows nothing of how messages are rendered or sent
(:mod:`cxops.notify`).

The outbox holds what to send, not the rendered text: ``kind`` (the template) and ``params`` (the
message's typed context as JSON, :mod:`cxops.notify.messages`), rendered by the sender in the
recipient's ``language``. ``message_id`` (the RFC 5322 Message-ID, derived from the unique
``idempotency_key``) is fixed when the message is enqueued, so every delivery attempt of one message
carries the same Message-ID / webhook id and a receiver can drop a copy.

Statuses (:data:`OUTBOX_STATUSES`): ``pending`` (to send at ``available_at``), ``sending`` (claimed by a
sender until ``lease_until``), ``sent``, ``failed`` (a transient failure; retried at ``available_at``),
``dead`` (given up: a permanent failure or too many attempts), ``held`` (an alert waiting for its
contact's daily digest at ``available_at``) and ``bundled`` (an alert sent in the digest ``bundle_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from cxops.store.models import Base, S, _in
from cxops.store.types import BigId, Json, UTCDateTime

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead", "held", "bundled")
CHANNELS = ("email", "webhook")
ATTEMPT_OUTCOMES = ("sent", "failed", "dead")


class NotifyContact(Base):
    """An e-mail address of a seller on one marketplace (``marketplace_id = '*'``: every marketplace).

    Attributes
    ----------
    language : str
        The language messages to this address are written in (a catalog language, e.g. ``en``, ``zh``).
    muted : list of str
        Message kinds this address does not receive. Mandatory kinds (removal notices and warnings,
        :data:`cxops.notify.messages.MANDATORY`) are never muted: the setter refuses them and the
        enqueuer ignores them here.
    digest : bool
        Alerts are bundled into one message a day instead of one message each.
    unsubscribe_token : str
        Random token of the one-click unsubscribe link (``List-Unsubscribe``); it mutes alerts only.
    """

    __tablename__ = "notify_contacts"
    __table_args__ = (
        UniqueConstraint("seller_id", "marketplace_id", "email", name="uq_notify_contacts_address"),
        Index(None, "seller_id", "marketplace_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    muted: Mapped[list[str]] = mapped_column(Json, default=list)
    digest: Mapped[bool] = mapped_column(Boolean, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEndpoint(Base):
    """A URL that receives messages as signed JSON (``X-Cxops-Signature``).

    ``seller_id`` / ``marketplace_id`` ``'*'``: every seller / marketplace (an operator's integration);
    ``kinds``: the message kinds it receives (``None``: all). ``secret`` signs the requests (HMAC-SHA256);
    it must be readable to sign, so it is stored as given — protect the store like any credential store.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index(None, "seller_id", "marketplace_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list[str] | None] = mapped_column(Json)
    language: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message to deliver to one recipient on one channel (see the module docstring).

    ``source_key`` is the idempotency key of the event or alert that caused it; ``recipient`` the
    address or URL when it was enqueued; ``attempts`` the delivery attempts begun; ``lease_owner`` /
    ``lease_until`` the sender holding a ``sending`` message; ``subject`` the subject as last rendered;
    ``provider_message_id`` what the receiver answered (the SMTP server's queue reply, the HTTP status,
    or the ``.eml`` file written).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        Index(None, "status", "available_at"),
        Index(None, "seller_id", "marketplace_id", "id"),
        Index(None, "contact_id", "status"),
        Index(None, "bundle_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_id: Mapped[str] = mapped_column(String(300))
    program: Mapped[str | None] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("notify_contacts.id"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id"))
    recipient: Mapped[str] = mapped_column(String(2000))
    language: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(Json)
    source_key: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(300))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(1000))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class DeliveryAttempt(Base):
    """One delivery attempt of an outbox message: begun when claimed, closed with its outcome.

    An attempt left without ``outcome`` is one whose sender stopped (crashed or was killed) before it
    recorded a result; the message is claimed again when its lease runs out.
    """

    __tablename__ = "outbox_attempts"
    __table_args__ = (
        CheckConstraint(_in("outcome", ATTEMPT_OUTCOMES), name="outcome"),
        Index(None, "outbox_id", "attempt"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(8))
    response: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
