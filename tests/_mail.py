"""Test helpers: a real SMTP server (aiosmtpd in a subprocess, stopped by its PID), a real webhook
receiver (an HTTP server on 127.0.0.1 in a thread) and reading back what they received."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cxops.notify.channels import SIGNATURE_HEADER, verify_signature

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """``tests/smtp_server.py`` as a process on 127.0.0.1 at a free port; ``received()`` parses its mail."""

    def __init__(
        self, folder: Path, *, cert: Path | None = None, key: Path | None = None, auth: str | None = None
    ):
        self.folder = Path(folder)
        self.port = free_port()
        cmd = [
            sys.executable,
            str(HERE / "smtp_server.py"),
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
        ]
        if cert:
            cmd += ["--cert", str(cert), "--key", str(key)]
        if auth:
            cmd += ["--auth", auth]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"SMTP server did not start: {line} {self.proc.stderr.read()}")

    def received(self) -> list[tuple[email.message.EmailMessage, dict]]:
        """Every message received, parsed, in order, with its envelope."""
        out = []
        for path in sorted(self.folder.glob("*.eml"), key=lambda p: int(p.stem)):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            out.append((msg, json.loads(path.with_suffix(".json").read_text())))
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


@dataclass
class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that answers ``fail_first`` requests with 503, then checks each
    request's signature (and its timestamp's age) and records the good ones."""

    secret: str
    fail_first: int = 0
    status_after: int = 200
    requests: list[dict] = field(default_factory=list)
    accepted: list[dict] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen = {"headers": dict(self.headers), "body": body, "at": time.time()}
                receiver.requests.append(seen)
                if len(receiver.requests) <= receiver.fail_first:
                    return self._answer(503, b"busy")
                if not verify_signature(receiver.secret, self.headers.get(SIGNATURE_HEADER), body):
                    return self._answer(400, b"bad signature")
                if receiver.status_after != 200:
                    return self._answer(receiver.status_after, b"no")
                receiver.accepted.append({"headers": dict(self.headers), "json": json.loads(body)})
                self._answer(200, b"ok")

            def _answer(self, code, text):
                self.send_response(code)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cxops"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
