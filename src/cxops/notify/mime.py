"""Build the e-mail of a rendered message (RFC 5322 / MIME): ``multipart/alternative`` with a
``text/plain`` and a ``text/html`` part in UTF-8, non-ASCII headers encoded (RFC 2047), so it passes
any SMTP server and opens in any mail client (also as an ``.eml`` file).

Headers: From, To, Subject, Date, Message-ID (fixed when the message was enqueued: the same on every
attempt), Content-Language, Auto-Submitted (RFC 3834), X-Cxops-Kind; alerts and digests also carry
List-Unsubscribe (RFC 2369; with an https link, List-Unsubscribe-Post for one click, RFC 8058).
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

from cxops.notify.render import Rendered


def unsubscribe_header(token: str, from_address: str, public_url: str | None) -> tuple[str, bool]:
    """``List-Unsubscribe`` value for a contact's token, and whether one-click POST applies."""
    addr = parseaddr(from_address)[1]
    mailto = f"<mailto:{addr}?subject={quote('unsubscribe ' + token)}>"
    if public_url:
        return (
            f"<{public_url}/notifications/unsubscribe?token={quote(token)}>, {mailto}",
            public_url.startswith("https://"),
        )
    return mailto, False


def build_email(
    rendered: Rendered,
    *,
    from_address: str,
    to: str,
    to_name: str | None = None,
    message_id: str,
    date: datetime,
    idempotency_key: str,
    unsubscribe: tuple[str, bool] | None = None,
) -> EmailMessage:
    """The e-mail of ``rendered`` to ``to``.

    Parameters
    ----------
    rendered : Rendered
    from_address : str
        ``Name <address>`` or an address.
    to, to_name : str
        The recipient's address and display name.
    message_id : str
        ``<…@domain>``, the same on every attempt.
    date : datetime
        The Date header (UTC-aware).
    idempotency_key : str
        Also in ``X-Cxops-Idempotency-Key``.
    unsubscribe : (str, bool), optional
        List-Unsubscribe value and one-click flag (:func:`unsubscribe_header`).
    """
    msg = EmailMessage(policy=SMTP)
    name, addr = parseaddr(from_address)
    msg["From"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["To"] = Address(display_name=to_name, addr_spec=to) if to_name else to
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Cxops-Kind"] = rendered.kind
    msg["X-Cxops-Idempotency-Key"] = idempotency_key
    if unsubscribe:
        value, one_click = unsubscribe
        msg["List-Unsubscribe"] = value
        if one_click:
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after the parts: making the message multipart moves Content-* headers into its first part
    msg["Content-Language"] = rendered.language
    return msg
