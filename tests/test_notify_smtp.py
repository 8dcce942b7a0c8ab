"""E-mail over a real SMTP server on 127.0.0.1 (aiosmtpd in its own process): every message parsed
back — headers, language, both parts, links — plain, with STARTTLS and AUTH, refusals; and the .eml
files written without a server."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, date, datetime

import pytest
from _mail import SmtpServer
from _store import store, store_url  # noqa: F401

from cxops.notify import contacts as C
from cxops.notify.config import SmtpConfig, notify_config
from cxops.notify.deliver import send_due
from cxops.notify.messages import Alert, Finding, Removal
from cxops.notify.outbox import enqueue, list_outbox
from cxops.settings import Settings
from cxops.store import open_store, upgrade

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FROM = "Seller Performance <cx@example.com>"
REMOVAL = Removal(
    seller_id="S1",
    marketplace_id="DE",
    program="customer-excellence",
    seller_name="Müller & Söhne",
    event_date=date(2026, 12, 1),
    action="removed",
    reasons=(Finding("order_defect_rate", 0.012, 0.01, ">", 6, 500, 60),),
    stable_days=30,
    recovery_earliest=date(2026, 12, 31),
)
ALERT = Alert(
    seller_id="S1",
    marketplace_id="DE",
    program="customer-excellence",
    alert="a_to_z_claim",
    alert_date=date(2026, 11, 30),
    order_id="303-7",
)


def _sqlite(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}", check=False, must_exist=False)
    upgrade(s)
    return s


def _config(tmp_path, server: SmtpServer | None, **smtp):
    cfg = notify_config(
        Settings(mail_dir=str(tmp_path / "mail"), smtp_from=FROM, public_url="https://cx.example.com")
    )
    if server is None:
        return cfg
    from dataclasses import replace

    return replace(
        cfg, smtp=SmtpConfig("127.0.0.1", server.port, **{"starttls": False, "timeout": 10, **smtp})
    )


def _setup(s, *, email_to="ana@example.com", language="zh", digest=False):
    with s.unit_of_work() as session:
        c = C.add_contact(
            session, "S1", "DE", email_to, language=language, name="Anna Schäfer", digest=digest
        )
        r = enqueue(session, [("ev-1", REMOVAL), ("al-1", ALERT)], now=NOW, domain="example.com")
    return c, r


def _parts(msg):
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    return text.get_content(), html.get_content()


def test_messages_reach_a_real_smtp_server_and_parse_back(store, tmp_path):  # noqa: F811
    server = SmtpServer(tmp_path / "rx")
    try:
        _, r = _setup(store)
        assert r.messages == 2 and r.by_kind == {"removal": 1, "alert": 1}
        report = send_due(store, _config(tmp_path, server))
        assert (report.sent, report.failed, report.dead) == (2, 0, 0)
        got = server.received()
    finally:
        server.stop()
    assert len(got) == 2
    by_kind = {m["X-Cxops-Kind"]: (m, env) for m, env in got}
    removal, env = by_kind["removal"]
    assert env["mail_from"] == "cx@example.com" and env["rcpt_tos"] == ["ana@example.com"]
    assert removal["From"].addresses[0].display_name == "Seller Performance"
    assert removal["To"].addresses[0].display_name == "Anna Schäfer"
    assert removal["To"].addresses[0].addr_spec == "ana@example.com"
    assert removal["Subject"] == "您已被移出 Customer Excellence 卓越卖家 项目"
    assert removal["Content-Language"] == "zh"
    assert re.fullmatch(r"<[0-9a-f]{40}@example\.com>", removal["Message-ID"])
    assert email.utils.parsedate_to_datetime(removal["Date"]).tzinfo is not None
    assert removal["Auto-Submitted"] == "auto-generated"
    assert removal["List-Unsubscribe"] is None  # a removal notice cannot be unsubscribed from
    text, html = _parts(removal)
    # numbers and dates in the Chinese locale; the seller's name escaped in HTML, as is in text
    assert "订单缺陷率：近 60 天为 1.20%（500 中的 6）；高于 1.00% 即未达标。" in text
    assert "最早可在 2026年12月31日 完成" in text
    assert "Müller & Söhne 您好：" in text and "Müller &amp; Söhne 您好：" in html
    assert '<html lang="zh">' in html
    assert 'href="https://cx.example.com/sellers/S1"' in html and "https://cx.example.com/sellers/S1" in text
    # the raw message has its non-ASCII headers encoded (RFC 2047), so any server and client take it
    raw = (tmp_path / "rx" / f"{got.index((removal, env)) + 1}.eml").read_bytes()
    assert all(b < 128 for b in raw.split(b"\r\n\r\n", 1)[0])

    alert, _ = by_kind["a_to_z_claim" if False else "alert"]
    assert alert["Subject"] == "提醒：订单 303-7 收到 A-to-z 索赔"
    unsub = alert["List-Unsubscribe"]
    assert (
        unsub.startswith("<https://cx.example.com/notifications/unsubscribe?token=")
        and "<mailto:cx@example.com?" in unsub
    )
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = _parts(alert)
    assert "2026年11月30日，买家对订单 303-7 提出了 A-to-z 索赔。" in text
    token = re.search(r"token=([\w-]+)", unsub).group(1)
    assert f"token={token}" in html
    # the outbox recorded what the server said
    with store.unit_of_work(write=False) as session:
        rows = list_outbox(session)
    assert set(rows["status"]) == {"sent"}
    assert all(p.startswith("OK queued as ") for p in rows["provider_message_id"])
    assert set(rows["subject"]) == {removal["Subject"], alert["Subject"]}


def test_starttls_and_auth_with_a_self_signed_certificate(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = SmtpServer(
        tmp_path / "rx", cert=tmp_path / "server.pem", key=tmp_path / "server.pem", auth="cx:s3cret"
    )
    s = _sqlite(tmp_path)
    try:
        _setup(s, language="en")
        # a wrong password: nothing is accepted, the messages wait for a retry
        bad = _config(
            tmp_path, server, starttls=True, user="cx", password="nope", ca_file=str(tmp_path / "ca.pem")
        )
        r = send_due(s, bad)
        assert r.sent == 0 and r.failed == 2 and server.received() == []
        assert "authentication failed" in r.errors[0]
        # an untrusted certificate: refused by the client before any password is sent
        untrusted = _config(tmp_path, server, starttls=True, user="cx", password="s3cret")
        with s.unit_of_work() as session:
            session.execute(
                __import__("sqlalchemy").text("UPDATE outbox SET available_at = '2000-01-01 00:00:00'")
            )
        r = send_due(s, untrusted)
        assert r.sent == 0 and "CERTIFICATE_VERIFY_FAILED" in r.errors[0]
        # right: STARTTLS verified against the test CA, then AUTH
        good = _config(
            tmp_path, server, starttls=True, user="cx", password="s3cret", ca_file=str(tmp_path / "ca.pem")
        )
        with s.unit_of_work() as session:
            session.execute(
                __import__("sqlalchemy").text("UPDATE outbox SET available_at = '2000-01-01 00:00:00'")
            )
        r = send_due(s, good)
        assert r.sent == 2
        got = server.received()
    finally:
        server.stop()
        s.dispose()
    assert [env["tls"] and env["auth"] for _, env in got] == [True, True]
    subjects = sorted(m["Subject"] for m, _ in got)
    assert subjects == [
        "Alert: A-to-z claim on order 303-7",
        "You have been removed from the Customer Excellence program",
    ]


def test_password_is_never_sent_in_clear(tmp_path):
    server = SmtpServer(tmp_path / "rx")
    s = _sqlite(tmp_path)
    try:
        _setup(s)
        r = send_due(s, _config(tmp_path, server, user="cx", password="pw"))
        assert r.sent == 0 and "clear connection" in r.errors[0] and server.received() == []
    finally:
        server.stop()
        s.dispose()


def test_refused_recipients_permanent_is_dead_temporary_is_retried(tmp_path):
    server = SmtpServer(tmp_path / "rx")
    s = _sqlite(tmp_path)
    try:
        with s.unit_of_work() as session:
            C.add_contact(session, "S1", "DE", "reject-me@example.com")
            C.add_contact(session, "S1", "DE", "tempfail-me@example.com")
            C.add_contact(session, "S1", "DE", "ok@example.com")
            enqueue(session, [("ev-1", REMOVAL)], now=NOW, domain="example.com")
        r = send_due(s, _config(tmp_path, server))
        with s.unit_of_work(write=False) as session:
            rows = list_outbox(session).set_index("recipient")
    finally:
        server.stop()
        s.dispose()
    assert (r.sent, r.failed, r.dead) == (1, 1, 1)
    assert rows.loc["reject-me@example.com", "status"] == "dead"
    assert "550" in rows.loc["reject-me@example.com", "last_error"]
    assert rows.loc["tempfail-me@example.com", "status"] == "failed"
    assert rows.loc["tempfail-me@example.com", "available_at"] > NOW
    assert [env["rcpt_tos"] for _, env in server.received()] == [["ok@example.com"]]


def test_without_a_server_messages_are_eml_files_a_mail_client_opens(tmp_path):
    s = _sqlite(tmp_path)
    try:
        _setup(s, language="en")
        cfg = _config(tmp_path, None)
        assert cfg.smtp is None
        r = send_due(s, cfg)
        assert r.sent == 2
        files = sorted((tmp_path / "mail").rglob("*.eml"))
        # delivering a message again (after a crash) rewrites the same file, never a second one
        with s.unit_of_work() as session:
            session.execute(__import__("sqlalchemy").text("UPDATE outbox SET status = 'pending'"))
        send_due(s, cfg)
        assert sorted((tmp_path / "mail").rglob("*.eml")) == files
    finally:
        s.dispose()
    assert len(files) == 2 and all(f.parent.name == NOW.date().isoformat() for f in files)
    for f in files:
        raw = f.read_bytes()
        assert raw.count(b"\r\n") > 10  # SMTP line endings, as mail clients expect of .eml
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["MIME-Version"] == "1.0" and msg["Message-ID"] and msg["Date"]
        text, html = _parts(msg)
        assert text.startswith(("Hello Müller & Söhne,", "Hello S1,")) and "</html>" in html
