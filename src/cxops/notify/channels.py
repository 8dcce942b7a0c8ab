"""Delivery channels: SMTP, ``.eml`` files and webhooks. Each returns a :class:`Delivery`.

A channel never records anything: the sender records each result in its own transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from cxops.notify.config import NotifyConfig, SmtpConfig

SIGNATURE_HEADER = "X-Cxops-Signature"
#: Seconds a receiver should accept a signed timestamp for (:func:`verify_signature`).
SIGNATURE_TOLERANCE = 300


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt.

    ``ok``: the receiver accepted it; ``permanent``: a failure that no retry will cure (a 5xx SMTP
    reply, an HTTP 410); ``response``: what the receiver said; ``provider_id``: its id of the message
    (the SMTP queue reply, the ``.eml`` path, the HTTP status); ``retry_after``: seconds the receiver
    asked to wait.
    """

    ok: bool
    response: str = ""
    provider_id: str | None = None
    permanent: bool = False
    error: str | None = None
    retry_after: float | None = None


# -- SMTP -------------------------------------------------------------------------------------------


class SmtpChannel:
    """One SMTP connection, opened on first use and reused for a batch (:meth:`close` ends it)."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.config.ca_file)
        return ctx

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self._context())
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        conn.ehlo()
        if c.starttls and not c.ssl:
            conn.starttls(context=self._context())
            conn.ehlo()
        if c.user:
            if not (c.ssl or c.starttls) and not c.allow_plain_auth:
                conn.close()
                raise smtplib.SMTPException(
                    "refusing to send the SMTP password over a clear connection "
                    "(set CXOPS_SMTP_STARTTLS or CXOPS_SMTP_SSL, or CXOPS_SMTP_ALLOW_PLAIN_AUTH)"
                )
            conn.login(c.user, c.password or "")
        return conn

    def send(self, msg: EmailMessage) -> Delivery:
        """Send ``msg`` (envelope from its From, to its To); 5xx replies are permanent failures."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            sender = parseaddr(str(msg["From"]))[1]
            rcpt = parseaddr(str(msg["To"]))[1]
            code, resp = conn.mail(sender)
            if code != 250:
                return self._refused(code, resp, "MAIL FROM")
            code, resp = conn.rcpt(rcpt)
            if code not in (250, 251):
                conn.rset()
                return self._refused(code, resp, "RCPT TO")
            code, resp = conn.data(msg.as_bytes())
            text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
            if code != 250:
                return self._refused(code, resp, "DATA")
            return Delivery(True, f"{code} {text}", provider_id=text[:1000])
        except smtplib.SMTPAuthenticationError as e:
            self.close()
            return Delivery(
                False, f"{e.smtp_code}", permanent=False, error=f"SMTP authentication failed: {e.smtp_code}"
            )
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as e:
            self.close()
            return Delivery(False, error=f"{type(e).__name__}: {e}")

    @staticmethod
    def _refused(code: int, resp, step: str) -> Delivery:
        text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
        return Delivery(
            False, f"{code} {text}", permanent=500 <= code < 600, error=f"{step} refused: {code} {text}"
        )

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self._conn.close()
                except OSError:
                    pass
            self._conn = None


# -- .eml files ---------------------------------------------------------------------------------------


class FileChannel:
    """Write each e-mail as ``<mail_dir>/<YYYY-MM-DD>/<Message-ID digest>.eml`` (atomically: a temporary
    file renamed into place). A second delivery of the same message replaces the same file."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, msg: EmailMessage, day: str) -> Delivery:
        name = hashlib.sha256(str(msg["Message-ID"]).encode()).hexdigest()[:32] + ".eml"
        target = self.folder / day / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_bytes(msg.as_bytes())
            os.replace(tmp, target)
        except OSError as e:
            return Delivery(False, error=f"cannot write {target}: {e}")
        return Delivery(True, "written", provider_id=str(target))

    def close(self) -> None:
        pass


# -- webhooks ------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Cxops-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a timestamp within ``tolerance`` seconds of
    ``now`` — what a receiver checks (a stale timestamp is refused, so a captured request cannot be
    replayed later). Any ``v1`` entry may match (secret rotation)."""
    if not header:
        return False
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    try:
        ts = int(next(v for k, v in parts if k.strip() == "t"))
    except (StopIteration, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    want = sign(secret, ts, body).split("v1=", 1)[1]
    return any(k.strip() == "v1" and hmac.compare_digest(v.strip(), want) for k, v in parts)


def webhook_body(message: dict) -> bytes:
    """The JSON body of a webhook message (compact, keys sorted, UTF-8)."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class WebhookChannel:
    """POST signed JSON with httpx. 2xx: delivered; 410 Gone: permanent; anything else (and network
    errors, timeouts) is retried; ``Retry-After`` on 429/503 is honoured by the sender's backoff."""

    def __init__(self, config: NotifyConfig):
        import httpx

        self._client = httpx.Client(timeout=config.webhook_timeout, follow_redirects=False)

    def send(self, url: str, secret: str, body: bytes, idempotency_key: str, kind: str) -> Delivery:
        import httpx

        ts = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(secret, ts, body),
            "Idempotency-Key": idempotency_key,
            "X-Cxops-Kind": kind,
            "User-Agent": "cxops-webhooks/1",
        }
        try:
            r = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return Delivery(False, error=f"{type(e).__name__}: {e}")
        text = f"HTTP {r.status_code} {r.text[:200]}".strip()
        if 200 <= r.status_code < 300:
            return Delivery(True, text, provider_id=f"HTTP {r.status_code}")
        retry_after = None
        if r.status_code in (429, 503) and r.headers.get("Retry-After", "").isdigit():
            retry_after = float(r.headers["Retry-After"])
        return Delivery(False, text, permanent=r.status_code == 410, error=text, retry_after=retry_after)

    def close(self) -> None:
        self._client.close()
