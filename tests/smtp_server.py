"""A real SMTP server for the tests (aiosmtpd), run as its own process by ``_mail.SmtpServer``.

Every accepted message is written to ``--dir`` as ``<n>.eml`` (atomically, in the order received) with
its envelope in ``<n>.json``. Recipients ``reject-…`` get 550 (permanent), ``tempfail-…`` 451. With
``--cert``/``--key`` the server offers STARTTLS and requires it; with ``--auth USER:PASSWORD`` it
requires AUTH (over TLS). Prints ``ready`` when it listens; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject-"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("tempfail-"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        queue_id = uuid.uuid4().hex[:12]
        with self.lock:
            self.n += 1
            n = self.n
        data = envelope.original_content or envelope.content
        tmp = self.folder / f".{n}.tmp"
        tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "queue_id": queue_id,
            "tls": session.ssl is not None,
            "auth": bool(session.authenticated),
        }
        (self.folder / f"{n}.json").write_text(json.dumps(meta))
        os.replace(tmp, self.folder / f"{n}.eml")
        return f"250 OK queued as {queue_id}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    a = p.parse_args()
    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(a.cert))
    folder = Path(a.dir)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Handler(folder), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
