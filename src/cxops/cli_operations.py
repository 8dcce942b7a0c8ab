"""Command-line groups for the operations store: ``cxops store``, ``cxops seller``, ``cxops managers``.

Each command parses its options, calls one service function and renders the result; errors are
domain errors (:mod:`cxops.errors`) printed by the top-level group.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxops.cli_output import show as show_table
from cxops.errors import InputError

store_app = typer.Typer(
    help="The operations store: create and migrate it, see its revision.", no_args_is_help=True
)
seller_app = typer.Typer(
    help="Act on a seller (at the next daily run): exempt, suspend, reinstate, accept or reject an "
    "action plan, lift a block, assign a manager; or write a note.",
    no_args_is_help=True,
)
managers_app = typer.Typer(
    help="Account managers: add, list, assign new members automatically.", no_args_is_help=True
)

console = Console()
err = Console(stderr=True)

STORE = typer.Option(
    None,
    "--store",
    help="Store URL, e.g. postgresql://user:pw@host/db (default: $CXOPS_STORE, else a SQLite file beside "
    "the warehouse: cxops-store.sqlite).",
)
PROGRAM = typer.Option("customer-excellence", "--program", help="Program (policy name).")
MARKETPLACE = typer.Option(..., "--marketplace", help="Marketplace of the seller (US, DE, JP …).")
REASON = typer.Option(..., "--reason", help="Why (required; recorded in the event log).")
ACTOR = typer.Option(None, "--actor", help="Who acts (default: your login name).")


class ListFormat(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        raise InputError("cannot tell who you are: pass --actor NAME") from None


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date like 2026-12-31, not {value!r}") from None


def _open(store: str | None):
    from cxops.service.stores import open_configured

    return open_configured(store)


# -- store -------------------------------------------------------------------------------------


@store_app.command("upgrade")
def store_upgrade(store: str = STORE):
    """Create the store if needed and migrate it to the newest schema (one transaction)."""
    from cxops.service.stores import upgrade_store

    st = upgrade_store(store)
    if st.before == st.revision:
        console.print(f"store {escape(st.url)} is up to date (revision {st.revision})")
    else:
        console.print(
            f"store {escape(st.url)} upgraded from {st.before or '(empty)'} to {st.revision} ({st.dialect})"
        )


@store_app.command("current")
def store_current(store: str = STORE):
    """Show the store's schema revision and whether it is the newest."""
    from cxops.service.stores import store_status

    st = store_status(store)
    if st.revision is None:
        console.print(f"store {escape(st.url)}: not initialised (newest revision {st.head})")
        err.print(f"hint: cxops store upgrade --store {escape(st.url)}")
        raise typer.Exit(1)
    state = "up to date" if st.up_to_date else f"behind: the newest is {st.head} (cxops store upgrade)"
    console.print(f"store {escape(st.url)}: revision {st.revision} ({st.dialect}), {state}")


# -- seller actions -----------------------------------------------------------------------------


def _request(kind, seller_id, marketplace, reason, actor, until, manager, program, store) -> None:
    from cxops.service.actions import request_action

    with _open(store) as s:
        r = request_action(
            s, kind, seller_id, marketplace, reason=reason, actor=_actor(actor),
            until=_day(until, "--until"), manager_id=manager, program=program,
        )  # fmt: skip
    what = kind.replace("_", " ") + (f" {r.manager_id}" if r.manager_id else "")
    until_text = f" until {r.until}" if r.until else ""
    change = f"{r.state} → {r.expected_state}" if r.expected_state != r.state else r.state
    console.print(
        f"pending action {r.action_id}: {escape(what)}{until_text} for seller {escape(r.seller_id)} on "
        f"{escape(r.marketplace_id)} ({change}), by {escape(r.actor)}: {escape(r.reason)}"
    )
    for w in r.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    err.print("takes effect at the next daily run (cxops run)")


#: The help of each lifecycle action's command (``cxops seller <kind>``); the commands themselves, and
#: whether ``--until`` is required, optional or refused, come from the action table
#: (:data:`cxops.service.actions.ACTION_RULES`), so a new lifecycle action gets its command here.
ACTION_HELP = {
    "exempt": ("Exempt a member from automatic removal until a date.", "Last exempt day (YYYY-MM-DD)."),
    "suspend": ("Suspend a seller (until reinstated or an action plan is accepted).", None),
    "reinstate": (
        "Reinstate a suspended, removed or recovering seller, under immunity.",
        "Last day of immunity (default: the policy's [enforcement] immunity_days).",
    ),
    "accept_plan": (
        "Accept a suspended or removed seller's action plan: reinstated under immunity.",
        "Last day of immunity (default: the policy's [enforcement] immunity_days).",
    ),
    "reject_plan": ("Reject a suspended or removed seller's action plan (the state does not change).", None),
    "lift_block": (
        "Lift a permanent block (the seller is suspended or removed again, repeat count 0).",
        None,
    ),
}


def _action_command(kind: str, until_rule: str):
    """The ``cxops seller <kind>`` command of a lifecycle action (``until_rule``: the action table's
    ``required``, ``optional`` or ``unused``)."""
    doc, until_help = ACTION_HELP[kind]
    if until_rule == "unused":

        def command(
            seller_id: str = typer.Argument(..., help="Seller id."),
            marketplace: str = MARKETPLACE,
            reason: str = REASON,
            actor: str = ACTOR,
            program: str = PROGRAM,
            store: str = STORE,
        ):
            _request(kind, seller_id, marketplace, reason, actor, None, None, program, store)

    else:
        until_option = typer.Option(... if until_rule == "required" else None, "--until", help=until_help)

        def command(
            seller_id: str = typer.Argument(..., help="Seller id."),
            marketplace: str = MARKETPLACE,
            reason: str = REASON,
            until: str = until_option,
            actor: str = ACTOR,
            program: str = PROGRAM,
            store: str = STORE,
        ):
            _request(kind, seller_id, marketplace, reason, actor, until, None, program, store)

    command.__doc__ = doc
    command.__name__ = f"seller_{kind}"
    return command


def _register_action_commands() -> None:
    from cxops.lifecycle.table import ACTIONS

    for kind, rule in ACTIONS.items():
        seller_app.command(kind.replace("_", "-"))(_action_command(kind, rule.until))


_register_action_commands()


@seller_app.command("assign-manager")
def seller_assign_manager(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    manager: str = typer.Option(..., "--manager", help="Account manager id (cxops managers list)."),
    reason: str = REASON,
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
):
    """Give a member another account manager."""
    _request("assign_manager", seller_id, marketplace, reason, actor, None, manager, program, store)


@seller_app.command("note")
def seller_note(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    text: str = typer.Option(..., "--reason", "--text", help="The note."),
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
):
    """Write a note on a seller (recorded at once)."""
    from cxops.service.actions import add_note

    with _open(store) as s:
        n = add_note(s, seller_id, marketplace, text=text, actor=_actor(actor), program=program)
    console.print(
        f"note {n.note_id} on seller {escape(n.seller_id)} on {escape(n.marketplace_id)} by {escape(n.actor)}"
    )


@seller_app.command("cancel")
def seller_cancel(
    action_id: int = typer.Argument(..., help="Id of a pending action."),
    reason: str = REASON,
    actor: str = ACTOR,
    store: str = STORE,
):
    """Withdraw a pending action."""
    from cxops.service.actions import cancel

    with _open(store) as s:
        r = cancel(s, action_id, reason=reason, actor=_actor(actor))
    console.print(
        f"action {r.action_id} ({r.kind}) for seller {escape(r.seller_id)} on {escape(r.marketplace_id)} "
        "cancelled"
    )


@seller_app.command("show")
def seller_show(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    events: int = typer.Option(20, "--events", help="Newest events to show."),
    program: str = PROGRAM,
    store: str = STORE,
):
    """A seller's membership, manager, pending actions, newest events and notes."""
    from cxops.service.actions import seller_file

    with _open(store) as s:
        f = seller_file(s, seller_id, marketplace, program=program, events=events)
    m = f.membership
    t = Table(show_header=False, title=f"{seller_id} on {marketplace} in {program}")
    for key in ("state", "since", "consecutive_breaches", "repeat_count", "immunity_until", "exemption_until",
                "account_manager_id", "primary_category", "last_evaluated"):  # fmt: skip
        value = m.get(key)
        t.add_row(key.replace("_", " "), "—" if value is None else escape(str(value)))
    show_table(t, console)
    if len(f.pending):
        p = Table(
            "action", "kind", "by", "requested (UTC)", "until", "manager", "reason", title="pending actions"
        )
        for r in f.pending.itertuples():
            p.add_row(str(r.id), r.kind, escape(r.actor), f"{r.requested_at:%Y-%m-%d %H:%M}",
                      _text(r.until), _text(r.manager_id), escape(r.reason))  # fmt: skip
        console.print(p)
    if len(f.events):
        e = Table(
            "when (UTC)", "kind", "from", "to", "rule", "by", "reason", title=f"newest {len(f.events)} events"
        )
        for r in f.events.itertuples():
            e.add_row(f"{r.occurred_at:%Y-%m-%d %H:%M}", r.kind, _text(r.from_state), _text(r.to_state),
                      _text(r.rule_id), escape(r.actor), escape(_text(r.reason)))  # fmt: skip
        console.print(e)
    if len(f.notes):
        n = Table("when (UTC)", "by", "note", title="notes")
        for r in f.notes.itertuples():
            n.add_row(f"{r.created_at:%Y-%m-%d %H:%M}", escape(r.author), escape(r.text))
        console.print(n)


def _text(value) -> str:
    import pandas as pd

    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


# -- managers ----------------------------------------------------------------------------------


@managers_app.command("add")
def managers_add(
    manager_id: str = typer.Argument(..., help="Id (short, e.g. ana)."),
    name: str = typer.Option(..., "--name", help="Full name."),
    capacity: int = typer.Option(..., "--capacity", help="Most sellers they can look after."),
    email: str = typer.Option(None, "--email"),
    language: list[str] = typer.Option(
        None, "--language", help="A language they speak (repeatable), e.g. zh."
    ),
    category: list[str] = typer.Option(None, "--category", help="A primary category they know (repeatable)."),
    store: str = STORE,
):
    """Add an account manager."""
    from cxops.service.managers import add_manager

    with _open(store) as s:
        m = add_manager(s, manager_id, name, capacity=capacity, email=email, languages=language or (),
                        categories=category or ())  # fmt: skip
    console.print(f"added account manager {escape(m['id'])} ({escape(m['name'])}), capacity {m['capacity']}")


@managers_app.command("list")
def managers_list(
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f"),
    store: str = STORE,
):
    """Account managers with their load (sellers assigned) and free capacity."""
    from cxops.report.files import dump
    from cxops.service.managers import list_managers

    with _open(store) as s:
        df = list_managers(s)
    if fmt != ListFormat.table:
        dump(df, fmt.value, sys.stdout)
        return
    t = Table("id", "name", "email", "languages", "categories", "load", "capacity", "free", "active")
    for r in df.itertuples():
        t.add_row(escape(r.id), escape(r.name), escape(_text(r.email)), ", ".join(r.languages or []),
                  escape(", ".join(r.categories or [])), str(r.load), str(r.capacity), str(r.free),
                  "yes" if r.active else "no")  # fmt: skip
    show_table(t, console)


@managers_app.command("assign")
def managers_assign(
    program: str = PROGRAM,
    warehouse: str = typer.Option(
        None,
        "--warehouse",
        "-w",
        envvar="CXOPS_WAREHOUSE",
        help="Take primary categories from this warehouse's sellers table (default: the memberships').",
    ),  # fmt: skip
    store: str = STORE,
):
    """Give every member without an account manager one: category first, balanced by load."""
    from cxops.service.assignment import auto_assign, warehouse_categories

    categories = warehouse_categories(warehouse) if warehouse else None
    with _open(store) as s:
        r = auto_assign(s, program, categories=categories)
    console.print(
        f"assigned {r.assigned} seller(s) ({r.by_category} by category); "
        f"{r.unassigned} left without a manager"
    )
    if r.unassigned:
        err.print("[yellow]warning:[/] every manager is at capacity: add managers or raise a capacity")
