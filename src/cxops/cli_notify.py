"""Command-line group ``cxops notify`` (contacts, webhooks, the outbox and its sender) and ``cxops worker``.

Each command parses its options, calls one function of :mod:`cxops.notify` on the configured store
and renders the result; errors are domain errors printed by the top-level group.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxops.cli_operations import STORE, _open
from cxops.cli_output import show as show_table
from cxops.errors import InputError

notify_app = typer.Typer(
    help="Messages to sellers: contacts and preferences, webhooks, the outbox and its sender.",
    no_args_is_help=True,
)
contacts_app = typer.Typer(help="Sellers' e-mail contacts and their preferences.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhook endpoints (signed JSON).", no_args_is_help=True)
notify_app.add_typer(contacts_app, name="contacts")
notify_app.add_typer(webhooks_app, name="webhooks")

console = Console()
err = Console(stderr=True)

KINDS_HELP = (
    "invitation, warning, removal, recovery_started, back_in_pool, readmitted, alert, digest, "
    "document_reminder, case_update"
)


class ListFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"


def _print_frame(df, fmt: ListFormat, columns: list[str], title: str) -> None:
    if fmt == ListFormat.jsonl:
        for rec in df[columns].to_dict("records"):
            sys.stdout.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for rec in df[columns].itertuples(index=False):
        table.add_row(*["—" if v is None or v != v else escape(str(v)) for v in rec])
    show_table(table, console)


def _config(store_url: str | None):
    from cxops.notify.config import notify_config
    from cxops.settings import get_settings

    return notify_config(get_settings(store=store_url))


# -- send / worker ------------------------------------------------------------------------------------


@notify_app.command("send")
def send(
    limit: int = typer.Option(None, "--limit", min=1, help="Send at most N messages (default: all due)."),
    store: str = STORE,
):
    """Send the messages that are due (SMTP when CXOPS_SMTP_HOST is set, else .eml files), then stop."""
    from cxops.notify.deliver import send_due

    config = _config(store)
    with _open(store) as s:
        r = send_due(s, config, limit=limit)
    where = (
        f"SMTP {config.smtp.host}:{config.smtp.port}" if config.smtp else f".eml files in {config.mail_dir}"
    )
    console.print(
        f"sent {r.sent}, failed {r.failed} (to retry), dead {r.dead}, digests {r.digests}: {escape(where)}"
    )
    for e in r.errors[:10]:
        err.print(f"[yellow]warning:[/] {escape(e)}")


def worker(
    interval: float = typer.Option(5.0, "--interval", min=0.1, help="Seconds between rounds."),
    store: str = STORE,
):
    """Send the outbox continuously until stopped (SIGTERM or Ctrl-C, after the message in hand)."""
    from cxops.notify.worker import run_worker

    config = _config(store)
    s = _open(store)
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    err.print(f"outbox worker on {escape(s.url)} every {interval:g} s; Ctrl-C stops")
    try:
        run_worker(
            s,
            config,
            stop,
            interval=interval,
            on_report=lambda r: console.print(
                f"sent {r.sent}, failed {r.failed}, dead {r.dead}, digests {r.digests}"
            ),
        )
    finally:
        s.dispose()


# -- outbox -------------------------------------------------------------------------------------------


@notify_app.command("outbox")
def outbox(
    status: str = typer.Option(None, "--status", help="pending, sending, sent, failed, dead, held, bundled."),
    seller: str = typer.Option(None, "--seller", help="One seller's messages."),
    limit: int = typer.Option(50, "--limit", min=1),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format"),
    store: str = STORE,
):
    """List outbox messages, newest first, with the counts per status."""
    from cxops.notify.outbox import list_outbox, status_counts

    with _open(store) as s:
        with s.unit_of_work(write=False) as session:
            df = list_outbox(session, status=status, seller_id=seller, limit=limit)
            counts = status_counts(session)
    cols = [
        "id",
        "kind",
        "channel",
        "recipient",
        "seller_id",
        "marketplace_id",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "last_error",
    ]
    _print_frame(df, fmt, cols, "outbox")
    if fmt == ListFormat.table:
        console.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "the outbox is empty")


@notify_app.command("retry")
def retry(message_id: int = typer.Argument(..., help="Outbox message id."), store: str = STORE):
    """Send a dead or failed message again (same Message-ID, fresh attempts)."""
    from cxops.notify.outbox import requeue

    with _open(store) as s:
        with s.unit_of_work() as session:
            requeue(session, message_id)
    console.print(f"message {message_id} requeued")


@notify_app.command("preview")
def preview(
    kind: str = typer.Argument(..., help=KINDS_HELP),
    language: str = typer.Option("en", "--language", "-l"),
    out: Path = typer.Option(
        None, "--out", help="Write the e-mail as an .eml file (opens in a mail client)."
    ),
):
    """Render a sample message of KIND (text part to the terminal, or a full .eml with --out)."""
    from datetime import UTC, datetime

    from cxops.notify.mime import build_email
    from cxops.notify.render import render
    from cxops.notify.samples import samples
    from cxops.notify.translate import MailTranslator

    all_samples = samples()
    if kind not in all_samples:
        raise InputError(f"unknown message kind {kind!r}; known: {KINDS_HELP}")
    tr = MailTranslator(_language(language))
    r = render(all_samples[kind], tr.lang, translator=tr)
    if out is None:
        console.print(f"[bold]{escape(r.subject)}[/]\n")
        console.print(escape(r.text))
        return
    msg = build_email(
        r,
        from_address=_config(None).from_address,
        to="seller@example.com",
        message_id=f"<preview-{kind}@cxops.invalid>",
        date=datetime.now(UTC),
        idempotency_key=f"preview|{kind}",
    )
    out.write_bytes(msg.as_bytes())
    console.print(f"wrote {escape(str(out))}")


def _language(lang: str) -> str:
    from cxops.notify.contacts import check_language

    return check_language(lang)


# -- contacts -----------------------------------------------------------------------------------------


@contacts_app.command("add")
def contacts_add(
    seller: str = typer.Argument(..., help="Seller id."),
    email: str = typer.Option(..., "--email", help="The address."),
    marketplace: str = typer.Option(
        "*", "--marketplace", help="Marketplace (default *: all of the seller's)."
    ),
    language: str = typer.Option("en", "--language", "-l", help="Language of the messages (en, zh)."),
    name: str = typer.Option(None, "--name", help="The person's name."),
    digest: bool = typer.Option(False, "--digest/--no-digest", help="Alerts in one daily message."),
    mute: list[str] = typer.Option(None, "--mute", help=f"A kind not to receive (repeatable): {KINDS_HELP}."),
    store: str = STORE,
):
    """Add an e-mail contact of a seller. Warnings and removal notices cannot be muted."""
    from cxops.notify.contacts import add_contact

    with _open(store) as s:
        with s.unit_of_work() as session:
            row = add_contact(
                session,
                seller,
                marketplace,
                email,
                language=language,
                name=name,
                muted=mute or [],
                digest=digest,
            )
            cid = row.id
    console.print(f"contact {cid}: {escape(email)} for seller {escape(seller)} on {escape(marketplace)}")


@contacts_app.command("set")
def contacts_set(
    contact_id: int = typer.Argument(..., help="Contact id (cxops notify contacts list)."),
    language: str = typer.Option(None, "--language", "-l"),
    mute: list[str] = typer.Option(None, "--mute", help="Kinds not to receive (replaces the list)."),
    unmute_all: bool = typer.Option(False, "--unmute-all", help="Receive every kind again."),
    digest: bool = typer.Option(None, "--digest/--no-digest"),
    active: bool = typer.Option(None, "--active/--inactive"),
    store: str = STORE,
):
    """Change a contact's language, muted kinds, digest option or whether it is active."""
    from cxops.notify.contacts import set_preferences

    muted = [] if unmute_all else (mute or None)
    with _open(store) as s:
        with s.unit_of_work() as session:
            row = set_preferences(
                session, contact_id, language=language, muted=muted, digest=digest, active=active
            )
            text = (
                f"contact {row.id}: {row.email}, {row.language}, muted: {', '.join(row.muted) or 'none'}, "
                + ("daily digest" if row.digest else "alerts one by one")
            )
    console.print(escape(text))


@contacts_app.command("list")
def contacts_list(
    seller: str = typer.Option(None, "--seller"),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format"),
    store: str = STORE,
):
    """List contacts."""
    from cxops.notify.contacts import list_contacts

    with _open(store) as s:
        with s.unit_of_work(write=False) as session:
            df = list_contacts(session, seller)
    df["muted"] = [", ".join(m or []) for m in df["muted"]]
    _print_frame(
        df,
        fmt,
        ["id", "seller_id", "marketplace_id", "email", "name", "language", "muted", "digest", "active"],
        "contacts",
    )


@contacts_app.command("import")
def contacts_import(
    path: Path = typer.Argument(..., help="CSV: seller_id, email[, marketplace_id, name, language, digest]."),
    store: str = STORE,
):
    """Add or update many contacts from a CSV file (one transaction)."""
    import pandas as pd

    from cxops.notify.contacts import import_contacts

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a CSV file: {e}") from None
    if "digest" in df.columns:
        df["digest"] = df["digest"].str.lower().isin(["1", "true", "yes"])
    df = df.replace("", None)
    with _open(store) as s:
        with s.unit_of_work() as session:
            n = import_contacts(session, df)
    console.print(f"{n} contacts added or updated from {escape(str(path))}")


# -- webhooks -----------------------------------------------------------------------------------------


@webhooks_app.command("add")
def webhooks_add(
    url: str = typer.Argument(..., help="https:// URL (http:// only to 127.0.0.1)."),
    seller: str = typer.Option("*", "--seller", help="One seller's messages (default *: every seller)."),
    marketplace: str = typer.Option("*", "--marketplace"),
    kind: list[str] = typer.Option(None, "--kind", help=f"Only these kinds (repeatable): {KINDS_HELP}."),
    language: str = typer.Option("en", "--language", "-l", help="Language of the texts in the payload."),
    secret_stdin: bool = typer.Option(False, "--secret-stdin", help="Read the signing secret from stdin."),
    store: str = STORE,
):
    """Register a webhook endpoint; prints its signing secret once (generated unless given on stdin)."""
    from cxops.notify.contacts import add_webhook

    secret = sys.stdin.readline().strip() if secret_stdin else None
    with _open(store) as s:
        with s.unit_of_work() as session:
            row, secret = add_webhook(
                session,
                url,
                seller_id=seller,
                marketplace_id=marketplace,
                kinds=kind or None,
                secret=secret,
                language=language,
            )
            eid = row.id
    console.print(f"webhook {eid}: {escape(url)}")
    if not secret_stdin:
        console.print(f"signing secret (shown once): {secret}")


@webhooks_app.command("list")
def webhooks_list(fmt: ListFormat = typer.Option(ListFormat.table, "--format"), store: str = STORE):
    """List webhook endpoints (without secrets)."""
    from cxops.notify.contacts import list_webhooks

    with _open(store) as s:
        with s.unit_of_work(write=False) as session:
            df = list_webhooks(session)
    df["kinds"] = [", ".join(k) if isinstance(k, list) else "all" for k in df["kinds"]]
    _print_frame(
        df, fmt, ["id", "url", "seller_id", "marketplace_id", "kinds", "language", "active"], "webhooks"
    )


@webhooks_app.command("disable")
def webhooks_disable(endpoint_id: int = typer.Argument(...), store: str = STORE):
    """Stop sending to a webhook endpoint."""
    from cxops.notify.contacts import disable_webhook

    with _open(store) as s:
        with s.unit_of_work() as session:
            disable_webhook(session, endpoint_id)
    console.print(f"webhook {endpoint_id} disabled")
