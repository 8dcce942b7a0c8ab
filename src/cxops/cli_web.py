"""Command-line groups for the web: ``cxops serve``, ``cxops users``, ``cxops tokens``.

Passwords are read from a hidden prompt (asked twice) or from standard input with
``--password-stdin`` — never from an option, so they do not end up in the shell's history or in
the process list. An API token is printed once, when it is created; only its hash is kept.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxops.cli_operations import STORE, _actor, _open
from cxops.cli_output import show as show_table
from cxops.errors import InputError

users_app = typer.Typer(help="Web users: add, remove, reset a password, list.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for machines: create, revoke, list.", no_args_is_help=True)

console = Console()
err = Console(stderr=True)


class Role(StrEnum):
    operator_admin = "operator-admin"
    operator_viewer = "operator-viewer"
    seller = "seller"


class ListFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"


ROLE = typer.Option(
    ..., "--role", help="operator-admin (everything), operator-viewer (read), seller (own sellers)."
)
SELLERS = typer.Option(
    None,
    "--seller",
    help="For the seller role: SELLER (every marketplace) or SELLER:MARKETPLACE; repeatable.",
)
#: Seconds an idle connection stays open (uvicorn's own default, 5 s, is shorter than the pause between a
#: person's pages: a request sent as the server closed the connection failed with "connection closed").
KEEP_ALIVE_S = 75
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise InputError("--password-stdin: standard input had no password")
        return text
    if not sys.stdin.isatty():
        raise InputError(
            "no terminal to ask for the password: pass it on standard input with --password-stdin"
        )
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _grants(sellers: list[str] | None) -> list[tuple[str, str]]:
    from cxops.service.accounts import parse_grant

    return [parse_grant(s) for s in sellers or []]


def _grant_text(grants) -> str:
    return ", ".join(s if m == "*" else f"{s}:{m}" for s, m in grants)


def _when(value) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


# -- serve -------------------------------------------------------------------------------------------


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    store: str = STORE,
    warehouse: str = typer.Option(
        None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL (read only)."
    ),
    secure_cookies: bool = typer.Option(
        None,
        "--secure-cookies/--no-secure-cookies",
        help="Mark cookies Secure: set behind HTTPS (default: $CXOPS_WEB_SECURE_COOKIES, else off).",
    ),
    trust_proxy: bool = typer.Option(
        None,
        "--trust-proxy/--no-trust-proxy",
        help="Believe X-Forwarded-Proto/-For from --forwarded-allow-ips "
        "(default: $CXOPS_WEB_TRUST_PROXY, else off).",
    ),
    forwarded_allow_ips: str = typer.Option(
        None, "--forwarded-allow-ips", help="Trusted proxy addresses, comma-separated (default 127.0.0.1)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn's log level."),
    keep_alive: int = typer.Option(
        KEEP_ALIVE_S,
        "--keep-alive",
        min=1,
        help="Seconds an idle HTTP connection is kept open for the client's next request. Longer than "
        "the idle timeout of the browser or load balancer in front (60 s on AWS's ALB), so that the "
        "server never closes a connection the client is about to reuse.",
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="uvicorn worker processes (on a multi-core machine, about one per core). The outbox "
        "sender ($CXOPS_WEB_WORKER=1) runs once, in the parent process, not in each worker.",
    ),
    policy: str = typer.Option(
        None,
        "--policy",
        "-p",
        help="The program's policy pack or TOML file: the seller's page reads its newest stored run "
        "(default: $CXOPS_WEB_POLICY, else customer-excellence).",
    ),
):
    """Serve the web pages and the API (FastAPI on uvicorn) until interrupted."""
    import uvicorn

    from cxops.service.accounts import list_users
    from cxops.web import create_app
    from cxops.web.config import web_settings

    settings = web_settings(
        store,
        warehouse,
        secure_cookies=secure_cookies,
        trust_proxy=trust_proxy,
        forwarded_allow_ips=forwarded_allow_ips,
        policy=policy,
    )
    # refuse a missing or old store with a clear message, before listening
    with _open(settings.store_url) as s:
        if not list_users(s):
            err.print(
                "[yellow]warning:[/] no users yet: add one with cxops users add LOGIN --role operator-admin"
            )
    err.print(f"serving on http://{host}:{port} (API docs: /api/v1/docs); Ctrl-C stops")
    # proxy headers are handled by the app itself, only when --trust-proxy says so
    options = {
        "host": host,
        "port": port,
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": keep_alive,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), log_level=log_level, **options)
        return
    _serve_workers(settings, workers, log_level, options)


def _serve_workers(settings, workers: int, log_level: str, options: dict) -> None:
    """``workers`` uvicorn processes, each building the app from the environment
    (:func:`cxops.web.app.app_from_environment`), which carries the resolved settings to them; the
    outbox sender, when enabled, runs in this (the supervising) process only."""
    import os

    import uvicorn

    from cxops.service.notifications import outbox_worker_enabled, start_outbox_worker
    from cxops.service.stores import open_configured
    from cxops.web.app import worker_environment

    sender = outbox_worker_enabled()
    os.environ.update(worker_environment(settings))  # inherited by the worker processes
    store = open_configured(settings.store_url) if sender else None
    thread = start_outbox_worker(store) if store is not None else None
    try:
        uvicorn.run(
            "cxops.web.app:app_from_environment",
            factory=True,
            workers=workers,
            log_level=log_level,
            **options,
        )
    finally:
        if thread is not None:
            thread.stop()
        if store is not None:
            store.dispose()


# -- users ---------------------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    login: str = typer.Argument(..., help="Login name (one word; compared case-insensitively)."),
    role: Role = ROLE,
    seller: list[str] = SELLERS,
    name: str = typer.Option(None, "--name", help="Display name."),
    language: str = typer.Option(None, "--language", help="Preferred language of the pages (en, zh)."),
    password_stdin: bool = PASSWORD_STDIN,
    actor: str = typer.Option(None, "--actor", help="Who adds the user (default: your login name)."),
    store: str = STORE,
):
    """Add a user; the password is asked for (or read with --password-stdin)."""
    from cxops.service.accounts import add_user

    password = _password(password_stdin)
    with _open(store) as s:
        u = add_user(
            s,
            login,
            password,
            role=role.value,
            actor=_actor(actor),
            sellers=_grants(seller),
            name=name,
            language=language,
        )
    bound = f" for {escape(_grant_text(u.grants))}" if u.grants else ""
    console.print(f"added user {escape(u.login)} ({u.role}){bound}")


@users_app.command("remove")
def users_remove(
    login: str = typer.Argument(..., help="Login name."),
    actor: str = typer.Option(None, "--actor", help="Who removes the user (default: your login name)."),
    store: str = STORE,
):
    """Remove a user (their sessions end at once; the audit log keeps their actions)."""
    from cxops.service.accounts import remove_user

    with _open(store) as s:
        remove_user(s, login, actor=_actor(actor))
    console.print(f"removed user {escape(login.strip().lower())}")


@users_app.command("reset")
def users_reset(
    login: str = typer.Argument(..., help="Login name."),
    password_stdin: bool = PASSWORD_STDIN,
    actor: str = typer.Option(None, "--actor", help="Who resets (default: your login name)."),
    store: str = STORE,
):
    """Set a new password; ends the user's sessions and lifts a lockout."""
    from cxops.service.accounts import reset_password

    password = _password(password_stdin)
    with _open(store) as s:
        u = reset_password(s, login, password, actor=_actor(actor))
    console.print(f"new password set for {escape(u.login)}; their sessions were ended")


@users_app.command("list")
def users_list(fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f"), store: str = STORE):
    """Users with their role, sellers, last login and lockout."""
    from cxops.service.accounts import list_users

    with _open(store) as s:
        users = list_users(s)
    if fmt == ListFormat.jsonl:
        for u in users:
            sys.stdout.write(
                json.dumps(
                    {
                        "login": u.login,
                        "name": u.name,
                        "role": u.role,
                        "language": u.language,
                        "sellers": [f"{a}:{b}" for a, b in u.grants],
                        "created_at": u.created_at.isoformat(),
                        "last_login_at": u.last_login_at and u.last_login_at.isoformat(),
                        "locked_until": u.locked_until and u.locked_until.isoformat(),
                    }
                )
                + "\n"
            )
        return
    t = Table("login", "name", "role", "sellers", "language", "last login (UTC)", "locked until (UTC)")
    for u in users:
        t.add_row(
            escape(u.login),
            escape(u.name or ""),
            u.role,
            escape(_grant_text(u.grants)),
            u.language or "",
            _when(u.last_login_at),
            _when(u.locked_until),
        )
    show_table(t, console)


# -- tokens --------------------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    name: str = typer.Argument(..., help="What uses the token (e.g. bi-export)."),
    role: Role = ROLE,
    seller: list[str] = SELLERS,
    expires_days: int = typer.Option(
        None, "--expires-days", help="Lifetime in days (default: until revoked)."
    ),
    actor: str = typer.Option(None, "--actor", help="Who creates it (default: your login name)."),
    store: str = STORE,
):
    """Create an API token and print it once (store it now: it cannot be shown again)."""
    from cxops.service.accounts import create_token

    with _open(store) as s:
        info, secret = create_token(
            s, name, role=role.value, actor=_actor(actor), sellers=_grants(seller), expires_days=expires_days
        )
    sys.stdout.write(secret + "\n")
    err.print(
        f"token {info.id} ({escape(info.name)}, {info.role}) created; it is shown only this once. "
        "Use it as: Authorization: Bearer <token>"
    )


@tokens_app.command("revoke")
def tokens_revoke(
    token: str = typer.Argument(..., help="The token's id or the start of its prefix (cxops tokens list)."),
    actor: str = typer.Option(None, "--actor", help="Who revokes it (default: your login name)."),
    store: str = STORE,
):
    """Revoke a token (it stops working at once)."""
    from cxops.service.accounts import revoke_token

    with _open(store) as s:
        info = revoke_token(s, token, actor=_actor(actor))
    console.print(f"revoked token {info.id} ({escape(info.name)})")


@tokens_app.command("list")
def tokens_list(fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f"), store: str = STORE):
    """Tokens (never the token itself): prefix, role, sellers, use, revocation."""
    from cxops.service.accounts import list_tokens

    with _open(store) as s:
        tokens = list_tokens(s)
    if fmt == ListFormat.jsonl:
        for t in tokens:
            sys.stdout.write(
                json.dumps(
                    {
                        "id": t.id,
                        "prefix": t.prefix,
                        "name": t.name,
                        "role": t.role,
                        "sellers": [f"{a}:{b}" for a, b in t.grants],
                        "created_by": t.created_by,
                        "created_at": t.created_at.isoformat(),
                        "expires_at": t.expires_at and t.expires_at.isoformat(),
                        "last_used_at": t.last_used_at and t.last_used_at.isoformat(),
                        "revoked_at": t.revoked_at and t.revoked_at.isoformat(),
                        "active": t.active,
                    }
                )
                + "\n"
            )
        return
    t = Table(
        "id", "prefix", "name", "role", "sellers", "created (UTC)", "by", "expires", "last used", "revoked"
    )
    for x in tokens:
        t.add_row(
            str(x.id),
            x.prefix + "…",
            escape(x.name),
            x.role,
            escape(_grant_text(x.grants)),
            _when(x.created_at),
            escape(x.created_by),
            _when(x.expires_at),
            _when(x.last_used_at),
            _when(x.revoked_at),
        )
    show_table(t, console)
