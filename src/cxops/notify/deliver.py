"""Deliver the outbox: claim due messages under a lease, send each, record each result.

Three steps, each its own transaction or none:

1. **claim** (one transaction): due messages — ``pending``/``failed`` whose ``available_at`` has come,
   or ``sending`` whose lease ran out (their sender died) — become ``sending`` with this sender as
   ``lease_owner`` until ``lease_until``; their ``attempts`` grow by one and an attempt row is opened.
   PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent senders take different messages;
   SQLite: the transaction holds the database's write lock (``BEGIN IMMEDIATE``), so claims queue.
2. **send** (no transaction): render, then SMTP / ``.eml`` / webhook.
3. **record** (one transaction per message, right after its send): ``sent`` with the receiver's
   answer, or ``failed`` with the next try after an exponential backoff with jitter, or ``dead`` after
   a permanent failure or ``max_attempts``; only while this sender still holds the lease.

So a message is delivered at least once, and twice only when a sender dies between the receiver's
acceptance and step 3: then the lease runs out, another sender sends it again with the same
Message-ID (e-mail) / ``Idempotency-Key`` (webhook), and the receiver can drop the copy. An ``.eml``
file is written under a name derived from the Message-ID, so there the copy replaces the first.
A message whose senders keep dying mid-send is dead-lettered after ``max_attempts`` claims.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from cxops.notify import failpoints
from cxops.notify.channels import Delivery, FileChannel, SmtpChannel, WebhookChannel, webhook_body
from cxops.notify.config import NotifyConfig
from cxops.notify.messages import DIGESTED, from_params
from cxops.notify.mime import build_email, unsubscribe_header
from cxops.notify.outbox import compose_digests
from cxops.notify.render import Links, render
from cxops.store.db import Store
from cxops.store.notify_models import DeliveryAttempt, NotifyContact, OutboxMessage, WebhookEndpoint
from cxops.store.types import utcnow

OUTBOX = OutboxMessage.__table__
ATTEMPTS = DeliveryAttempt.__table__
CONTACTS = NotifyContact.__table__
ENDPOINTS = WebhookEndpoint.__table__
BATCH = 50


def worker_id() -> str:
    """``host:pid:random`` — who holds a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempt`` (1 = the first retry): ``d = min(cap, base·2^(attempt−1))``,
    then a random point of ``[d/2, d]`` (equal jitter: spread out, never less than half)."""
    d = min(cap, base * 2 ** max(0, attempt - 1))
    return d / 2 + (rng or random).uniform(0, d / 2)


@dataclass
class SendReport:
    """What one :func:`send_due` did: messages ``sent``, ``failed`` (to retry), ``dead``, ``digests``
    composed, and ``lost`` — results not recorded because the lease had passed to another sender."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    digests: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.dead + self.lost


def claim(
    store: Store, worker: str, limit: int, lease_seconds: float, max_attempts: int, now: datetime
) -> list[dict]:
    """Claim up to ``limit`` due messages for ``worker`` (step 1); returns them with what sending needs."""
    due = or_(
        and_(OUTBOX.c.status.in_(("pending", "failed")), OUTBOX.c.available_at <= now),
        and_(OUTBOX.c.status == "sending", OUTBOX.c.lease_until <= now),
    )
    with store.unit_of_work() as s:
        stmt = select(OUTBOX.c.id, OUTBOX.c.attempts, OUTBOX.c.status).where(due)
        stmt = stmt.order_by(OUTBOX.c.available_at, OUTBOX.c.id).limit(limit)
        if store.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = s.execute(stmt).all()
        if not rows:
            return []
        # a message claimed max_attempts times by senders that never came back is a poison message
        poisoned = [r.id for r in rows if r.status == "sending" and r.attempts >= max_attempts]
        if poisoned:
            s.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(poisoned))
                .values(
                    status="dead",
                    lease_owner=None,
                    lease_until=None,
                    last_error=f"its sender stopped during each of {max_attempts} attempts",
                )
            )
        ids = [r.id for r in rows if r.id not in set(poisoned)]
        if not ids:
            return []
        until = now + timedelta(seconds=lease_seconds)
        s.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(ids))
            .values(status="sending", lease_owner=worker, lease_until=until, attempts=OUTBOX.c.attempts + 1)
        )
        claimed = (
            s.execute(
                select(
                    OUTBOX,
                    CONTACTS.c.name.label("contact_name"),
                    CONTACTS.c.unsubscribe_token,
                    ENDPOINTS.c.secret.label("endpoint_secret"),
                )
                .outerjoin(CONTACTS, CONTACTS.c.id == OUTBOX.c.contact_id)
                .outerjoin(ENDPOINTS, ENDPOINTS.c.id == OUTBOX.c.endpoint_id)
                .where(OUTBOX.c.id.in_(ids))
                .order_by(OUTBOX.c.available_at, OUTBOX.c.id)
            )
            .mappings()
            .all()
        )
        s.execute(
            insert(ATTEMPTS),
            [
                {"outbox_id": m["id"], "attempt": m["attempts"], "worker": worker, "started_at": now}
                for m in claimed
            ],
        )
        return [dict(m) for m in claimed]


def record(
    store: Store, message: dict, worker: str, result: Delivery, config: NotifyConfig, now: datetime
) -> str:
    """Record the result of one attempt (step 3); returns the new status, or ``lost`` when the lease
    had passed to another sender (the result is then only noted on the attempt)."""
    attempt = message["attempts"]
    if result.ok:
        status, values = (
            "sent",
            {"sent_at": now, "provider_message_id": result.provider_id, "last_error": None},
        )
    elif result.permanent or attempt >= config.max_attempts:
        status, values = "dead", {"last_error": result.error}
    else:
        delay = backoff(attempt, config.retry_base, config.retry_cap)
        if result.retry_after:
            delay = min(config.retry_cap, max(delay, result.retry_after))
        status, values = (
            "failed",
            {"last_error": result.error, "available_at": now + timedelta(seconds=delay)},
        )
    with store.unit_of_work() as s:
        n = s.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message["id"], OUTBOX.c.status == "sending", OUTBOX.c.lease_owner == worker)
            .values(
                status=status, lease_owner=None, lease_until=None, subject=message.get("subject"), **values
            )
        ).rowcount
        s.execute(
            update(ATTEMPTS)
            .where(
                ATTEMPTS.c.outbox_id == message["id"],
                ATTEMPTS.c.attempt == attempt,
                ATTEMPTS.c.worker == worker,
            )
            .values(
                finished_at=utcnow(), outcome=status, response=result.response or None, error=result.error
            )
        )
    return status if n else "lost"


class Sender:
    """Sends claimed messages over the configured channels (connections reused within a batch)."""

    def __init__(self, config: NotifyConfig):
        self.config = config
        self._mail = SmtpChannel(config.smtp) if config.smtp else FileChannel(config.mail_dir)
        self._hooks: WebhookChannel | None = None

    def links(self, m: dict) -> Links:
        base = self.config.public_url
        page = f"{base}/sellers/{m['seller_id']}" if base else None
        unsubscribe = None
        if base and m["kind"] in DIGESTED | {"digest"} and m.get("unsubscribe_token"):
            unsubscribe = f"{base}/notifications/unsubscribe?token={m['unsubscribe_token']}"
        return Links(page=page, unsubscribe=unsubscribe)

    def send(self, m: dict, now: datetime) -> Delivery:
        try:
            context = from_params(m["kind"], m["params"])
            rendered = render(context, m["language"], links=self.links(m))
        except Exception as e:  # a message that cannot be rendered will not render on a retry either
            return Delivery(False, permanent=True, error=f"cannot render: {type(e).__name__}: {e}")
        m["subject"] = rendered.subject
        if m["channel"] == "webhook":
            if self._hooks is None:
                self._hooks = WebhookChannel(self.config)
            body = webhook_body(webhook_payload(m, rendered))
            return self._hooks.send(
                m["recipient"], m["endpoint_secret"], body, m["idempotency_key"], m["kind"]
            )
        unsubscribe = None
        if m["kind"] in DIGESTED | {"digest"} and m.get("unsubscribe_token"):
            unsubscribe = unsubscribe_header(
                m["unsubscribe_token"], self.config.from_address, self.config.public_url
            )
        msg = build_email(
            rendered,
            from_address=self.config.from_address,
            to=m["recipient"],
            to_name=m.get("contact_name"),
            message_id=m["message_id"],
            date=now,
            idempotency_key=m["idempotency_key"],
            unsubscribe=unsubscribe,
        )
        if isinstance(self._mail, FileChannel):
            return self._mail.send(msg, m["created_at"].date().isoformat())
        return self._mail.send(msg)

    def close(self) -> None:
        self._mail.close()
        if self._hooks is not None:
            self._hooks.close()


def webhook_payload(m: dict, rendered) -> dict[str, Any]:
    """The JSON a webhook receives: ids, kind, seller, the message's data (its typed context), and the
    rendered subject and text in the endpoint's language."""
    return {
        "id": m["idempotency_key"],
        "message_id": m["message_id"],
        "kind": m["kind"],
        "created_at": m["created_at"].isoformat(),
        "program": m["program"],
        "seller_id": m["seller_id"],
        "marketplace_id": m["marketplace_id"],
        "language": rendered.language,
        "subject": rendered.subject,
        "text": rendered.text,
        "data": m["params"],
    }


def send_due(
    store: Store,
    config: NotifyConfig,
    *,
    limit: int | None = None,
    worker: str | None = None,
    now=utcnow,
) -> SendReport:
    """Compose due digests, then claim, send and record due messages until none is left (or ``limit``).

    Parameters
    ----------
    store : Store
    config : NotifyConfig
    limit : int, optional
        At most this many messages (default: all that are due).
    worker : str, optional
        The lease owner's name (default :func:`worker_id`).
    now : callable
        The clock (UTC-aware instants).

    Returns
    -------
    SendReport
    """
    worker = worker or worker_id()
    report = SendReport()
    with store.unit_of_work() as s:
        report.digests = compose_digests(s, now())
    sender = Sender(config)
    try:
        while limit is None or report.claimed < limit:
            batch = BATCH if limit is None else min(BATCH, limit - report.claimed)
            messages = claim(store, worker, batch, config.lease_seconds, config.max_attempts, now())
            if not messages:
                break
            for m in messages:
                failpoints.reach("claimed", m["idempotency_key"])
                result = sender.send(m, now())
                if result.ok:
                    failpoints.reach("accepted", m["idempotency_key"])
                status = record(store, m, worker, result, config, now())
                failpoints.reach("recorded", m["idempotency_key"])
                if status == "lost":
                    report.lost += 1
                else:
                    setattr(report, status, getattr(report, status) + 1)
                if not result.ok:
                    report.errors.append(f"{m['idempotency_key']}: {result.error}")
    finally:
        sender.close()
    return report
