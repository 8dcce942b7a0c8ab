"""Command-line groups for cases and documents: ``cxops case …`` and ``cxops documents …``.

Each command parses its options, calls one service function (:mod:`cxops.service.cases`,
:mod:`cxops.service.documents`) and renders the result; errors are domain errors printed by the
top-level group.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cxops.cli_operations import ACTOR, PROGRAM, STORE, _actor, _day
from cxops.cli_output import show as show_table
from cxops.errors import InputError, WarehouseError

case_app = typer.Typer(
    help="Cases: eligibility inquiries, buyer disputes (24-hour first response), reinstatement appeals.",
    no_args_is_help=True,
)
documents_app = typer.Typer(
    help="Enrolment documents: upload, review, the checklist, reminders.", no_args_is_help=True
)

console = Console()
err = Console(stderr=True)

MARKETPLACE = typer.Option(..., "--marketplace", help="Marketplace of the seller (US, DE, JP …).")
REASON = typer.Option(..., "--reason", help="Why (required; recorded in the case history and the event log).")
WAREHOUSE = typer.Option(
    None, "--warehouse", "-w", envvar="CXOPS_WAREHOUSE", help="Warehouse URL (default: cxops.duckdb)."
)
POLICY = typer.Option("customer-excellence", "--policy", "-p", help="Built-in pack name or a TOML file.")
LANG = typer.Option("en", "--lang", help="Language of the answer: en or zh.")
CHECKLIST = typer.Option(None, "--checklist", help="Checklist TOML file (default: the reference program's).")


class Out(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


# -- opening things ----------------------------------------------------------------------------------


def _store(store: str | None):
    from cxops.service.stores import open_configured

    return open_configured(store)


def _warehouse(url: str | None):
    """Open the warehouse for reading; a missing DuckDB file is refused (never created empty)."""
    from cxops.warehouse import connect, default_url

    target = url or default_url()
    local = target.removeprefix("duckdb://")
    if target.endswith((".duckdb", ".db")) and not Path(local).exists():
        raise WarehouseError(f"warehouse {local} not found", hint="import data first, or pass --warehouse")
    try:
        return connect(url)
    except (ValueError, ImportError) as e:
        raise WarehouseError(str(e)) from None
    except Exception as e:  # DuckDB's lock held by a writer
        if "lock" in str(e).lower():
            raise WarehouseError(f"warehouse {local} is in use by another process: {e}") from None
        raise


def _policy(name: str):
    from cxops.policy.load import PolicyError, load_policy

    try:
        return load_policy(name)
    except (PolicyError, FileNotFoundError) as e:
        raise InputError(str(e)) from None


def _files(store_obj):
    from cxops.service.documents import FileStore

    return FileStore.configured(store_obj)


def _instant(value: str | None, name: str) -> datetime | None:
    """An instant from the command line: with an offset or Z it is that instant; without, the
    service decides (UTC, or marketplace time for a dispute's opening)."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value.strip())
    except ValueError:
        raise InputError(f"{name} must be a date and time like 2026-11-03T14:20:00Z, not {value!r}") from None
    return ts.to_pydatetime()


def _utc(value: str | None, name: str) -> datetime | None:
    at = _instant(value, name)
    if at is not None and at.tzinfo is None:
        raise InputError(
            f"{name} {value!r} needs a time zone: write it in UTC (…Z) or with an offset (+08:00)"
        )
    return at


def _read(path: Path) -> tuple[str, bytes]:
    from cxops.service.documents import DocumentSettings, read_upload

    return path.name, read_upload(path, DocumentSettings().max_bytes)


# -- rendering -----------------------------------------------------------------------------------------


def _duration(td: timedelta) -> str:
    minutes = int(abs(td.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{mins} min"]
    return " ".join(parts)


def _clock(seconds_left, lang: str = "en") -> str:
    from cxops.report.i18n import get_translator

    if seconds_left is None or pd.isna(seconds_left):
        return ""
    tr = get_translator(lang)
    td = timedelta(seconds=float(seconds_left))
    return (
        tr("cases.left", time=_duration(td))
        if td.total_seconds() > 0
        else tr("cases.overdue", time=_duration(td))
    )


def _s(v) -> str:
    """Text of a cell: empty for a missing value."""
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _when(v) -> str:
    if v is None or (not isinstance(v, datetime) and pd.isna(v)):
        return "—"
    return pd.Timestamp(v).tz_convert(UTC).strftime("%Y-%m-%d %H:%M UTC")


def answer_table(answer: dict, lang: str = "en") -> Table:
    """The criteria of an inquiry's answer: criterion, value, bar, result, what it takes."""
    from cxops.report.format import criterion_gap, criterion_name, format_threshold, format_value, tested_kind
    from cxops.report.i18n import get_translator

    tr = get_translator(lang)
    table = Table(title=tr("cases.inquiry.as_of", date=answer["as_of"]), title_justify="left")
    for key in ("criterion", "value", "bar", "result", "gap"):
        table.add_column(tr(f"cases.inquiry.{key}"))
    for c in answer["criteria"]:
        kind = tested_kind(c["metric"], c["test"] or "value")
        value = c["value"] if (c["test"] or "value") == "value" else c[c["test"]]
        result = c["result"]
        shown = tr("cases.not_enough_data") if result == "insufficient_data" else tr.result(result)
        style = {"pass": "green", "fail": "red"}.get(result, "yellow")
        table.add_row(
            escape(criterion_name(c, lang=tr)),
            escape(format_value(value, c["metric"], kind=kind, status=c["status"], lang=tr)),
            escape(
                format_threshold(
                    c["threshold"], c["metric"], test=c["test"] or "value", operator=c["operator"], lang=tr
                )
            ),
            f"[{style}]{escape(shown)}[/]",
            escape(criterion_gap(c, lang=tr) or ""),
        )
    return table


def _render_answer(answer: dict, lang: str) -> None:
    from cxops.report.i18n import get_translator

    tr = get_translator(lang)
    console.print(
        "[bold]"
        + escape(tr("cases.inquiry.title", seller=answer["seller_id"], marketplace=answer["marketplace_id"]))
        + "[/]"
    )
    state = tr.maybe(f"state.{answer['state']}", answer["state"])
    if answer.get("last_evaluation"):
        console.print(
            tr(
                "cases.inquiry.state",
                date=answer["last_evaluation"],
                state=state,
                since=answer["since"] or "—",
            )
        )
    else:
        console.print(tr("cases.inquiry.state_never", state=state))
    if answer.get("reason"):
        console.print(escape(tr("cases.inquiry.reason", reason=answer["reason"])))
    console.print(answer_table(answer, lang))
    projected = tr.maybe(f"state.{answer['projected_state']}", answer["projected_state"] or "—")
    console.print(tr("cases.inquiry.next", date=answer.get("next_evaluation") or "—", state=projected))


def _render_case(v, lang: str = "en") -> None:
    from cxops.report.i18n import get_translator

    tr = get_translator(lang)
    head = f"[bold]case {v.id}[/]: {tr(f'cases.kind.{v.kind}')} — {tr(f'cases.status.{v.status}')}"
    console.print(head)
    rows = [
        ("seller", f"{v.seller_id} on {v.marketplace_id} ({v.program})"),
        ("order", v.order_id),
        ("owner", v.owner or tr("cases.unassigned")),
        ("subject", v.subject),
        ("opened", f"{_when(v.opened_at)} by {v.opened_by} ({v.source})"),
        ("due", _when(v.due_at) if v.due_at else None),
        ("time left", _clock(v.time_left.total_seconds(), lang) if v.time_left is not None else None),
        ("first response", _when(v.first_response_at) if v.first_response_at else None),
        ("escalated", _when(v.escalated_at) if v.escalated_at else None),
        ("closed", _when(v.closed_at) if v.closed_at else None),
        ("buyer message", v.details.get("buyer_message")),
        ("reinstatement", f"pending action {v.action_id}" if v.action_id else None),
    ]
    for name, value in rows:
        if value:
            console.print(f"  {name:<15} {escape(str(value))}")
    if v.answer:
        _render_answer(v.answer, lang)
    t = Table(title="history", title_justify="left")
    for col in ("at", "from", "to", "by", "reason"):
        t.add_column(col)
    for r in v.history.itertuples():
        t.add_row(_when(r.at), _s(r.from_status), r.to_status, escape(r.actor), escape(_s(r.reason)))
    show_table(t, console)
    if len(v.entries):
        t = Table(title="entries", title_justify="left")
        for col in ("at", "kind", "by", "text", "files"):
            t.add_column(col)
        for r in v.entries.itertuples():
            names = ", ".join(v.files.loc[v.files["entry_id"] == r.id, "filename"]) if len(v.files) else ""
            t.add_row(
                _when(r.created_at), r.kind, f"{escape(r.author)} ({r.role})", escape(r.text), escape(names)
            )
        show_table(t, console)


def _emit(df: pd.DataFrame, fmt: Out, table: Table) -> None:
    if fmt == Out.table:
        show_table(table, console)
    elif fmt == Out.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        for rec in df.to_dict("records"):
            sys.stdout.write(json.dumps(rec, default=str, ensure_ascii=False) + "\n")


# -- cases -----------------------------------------------------------------------------------------------


@case_app.command("open-inquiry")
def open_inquiry(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    as_of: str = typer.Option(
        ..., "--as-of", help="Judge the standing as of this day (the latest data day)."
    ),
    question: str = typer.Option(None, "--question", help="The seller's question, in their words."),
    operator: bool = typer.Option(False, "--on-behalf", help="An operator asks on the seller's behalf."),
    actor: str = ACTOR,
    policy: str = POLICY,
    lang: str = LANG,
    fmt: Out = typer.Option(Out.table, "--format", "-f", help="table or json (the stored answer)."),
    store: str = STORE,
    warehouse: str = WAREHOUSE,
):
    """Ask why a seller is (not) in the program: answered at once, stored with the case and sent."""
    from cxops.service.cases import open_inquiry as run

    with _store(store) as s:
        wh = _warehouse(warehouse)
        v = run(
            s,
            wh,
            _policy(policy),
            seller_id,
            marketplace,
            as_of=_day(as_of, "--as-of"),
            actor=_actor(actor),
            question=question,
            by="operator" if operator else "seller",
        )
    if fmt == Out.json:
        sys.stdout.write(json.dumps(v.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    err.print(f"case {v.id} opened and answered; the answer was sent to the seller")
    _render_answer(v.answer, lang)


@case_app.command("open-dispute")
def open_dispute(
    seller_id: str = typer.Argument(..., help="Seller id."),
    order_id: str = typer.Argument(..., help="The disputed order."),
    reason: str = typer.Option(..., "--reason", help="The buyer's reason (e.g. item not received)."),
    message: str = typer.Option(None, "--message", help="The buyer's message."),
    opened_at: str = typer.Option(
        None,
        "--opened-at",
        help="When the buyer opened it: UTC (…Z), with an offset, or the marketplace's local "
        "time (default: now).",
    ),
    dispute_id: str = typer.Option(
        None, "--dispute-id", help="The marketplace's id of the dispute or claim."
    ),
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
    warehouse: str = WAREHOUSE,
):
    """Open a buyer dispute for one of the seller's orders (first response due in 24 clock hours)."""
    from cxops.service.cases import open_dispute as run

    with _store(store) as s:
        wh = _warehouse(warehouse)
        v = run(
            s,
            wh,
            seller_id,
            order_id,
            reason=reason,
            actor=_actor(actor),
            buyer_message=message,
            opened_at=_instant(opened_at, "--opened-at"),
            dispute_id=dispute_id,
            program=program,
        )
    console.print(
        f"case {v.id}: dispute on order {escape(order_id)} of {escape(seller_id)} ({v.marketplace_id}), "
        f"owner {escape(v.owner or 'unassigned')}; first response due {_when(v.due_at)} "
        f"({_clock(v.time_left.total_seconds())})"
    )


@case_app.command("import-disputes")
def import_disputes(
    path: Path = typer.Argument(
        ..., help="CSV: order_id, seller_id, opened_at, reason[, buyer_message, marketplace_id, dispute_id]."
    ),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Open the valid rows; set the others aside."),
    quarantine: Path = typer.Option(
        None, "--quarantine", help="Where the refused rows go (with --skip-bad)."
    ),
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
    warehouse: str = WAREHOUSE,
):
    """Open a dispute per row of a claims/disputes file (one transaction; a re-import opens nothing)."""
    from cxops.service.cases import import_disputes as run

    with _store(store) as s:
        wh = _warehouse(warehouse)
        r = run(s, wh, path, actor=_actor(actor), program=program, skip_bad=skip_bad, quarantine=quarantine)
    console.print(
        f"{path}: {r.read} rows read = {r.opened} disputes opened + {r.duplicates} already imported + "
        f"{r.quarantined} refused"
    )
    if r.quarantine is not None:
        err.print(f"[yellow]refused rows written to {r.quarantine}[/]")
        for p in r.problems.head(10).itertuples():
            err.print(f"  line {p.line}: {p.column} {escape(repr(p.value))}: {escape(p.problem)}")


@case_app.command("respond")
def respond(
    case_id: int = typer.Argument(..., help="Case id."),
    text: str = typer.Option(..., "--text", help="The response."),
    file: list[Path] = typer.Option(None, "--file", help="Evidence file (PDF, PNG, JPEG; repeatable)."),
    operator: bool = typer.Option(False, "--operator", help="An operator responds (default: the seller)."),
    at: str = typer.Option(None, "--at", help="When it was given, if earlier (UTC …Z or with an offset)."),
    actor: str = ACTOR,
    store: str = STORE,
):
    """Respond on a case; the first response of a dispute stops its 24-hour clock."""
    from cxops.service.cases import respond as run

    attachments = [_read(p) for p in file or []]
    with _store(store) as s:
        v = run(
            s,
            case_id,
            text,
            actor=_actor(actor),
            role="operator" if operator else "seller",
            at=_utc(at, "--at"),
            attachments=attachments,
            files=_files(s) if attachments else None,
        )
    extra = ""
    if v.kind == "dispute" and v.first_response_at is not None:
        extra = " — answered in time" if v.answered_in_time else " — answered late"
    console.print(f"case {v.id}: {v.status}{extra}")


def _simple(action: str, case_id: int, reason: str, actor: str | None, store: str | None) -> None:
    from cxops.service import cases as svc

    with _store(store) as s:
        v = getattr(svc, action)(s, case_id, actor=_actor(actor), reason=reason)
    console.print(f"case {v.id}: {v.status}")


@case_app.command("assign")
def assign(
    case_id: int = typer.Argument(..., help="Case id."),
    owner: str = typer.Option(..., "--owner", help="Account manager id or operator login ('' to unassign)."),
    reason: str = REASON,
    actor: str = ACTOR,
    store: str = STORE,
):
    """Give a case to an account manager or an operator."""
    from cxops.service.cases import assign as run

    with _store(store) as s:
        v = run(s, case_id, owner, actor=_actor(actor), reason=reason)
    console.print(f"case {v.id}: owner {escape(v.owner or 'unassigned')}")


@case_app.command("escalate")
def escalate(
    case_id: int = typer.Argument(...), reason: str = REASON, actor: str = ACTOR, store: str = STORE
):
    """Escalate an open dispute by hand."""
    _simple("escalate", case_id, reason, actor, store)


@case_app.command("close")
def close(case_id: int = typer.Argument(...), reason: str = REASON, actor: str = ACTOR, store: str = STORE):
    """Close a case (final)."""
    _simple("close", case_id, reason, actor, store)


@case_app.command("reject")
def reject(case_id: int = typer.Argument(...), reason: str = REASON, actor: str = ACTOR, store: str = STORE):
    """Reject an appeal, with the reason the seller is told."""
    _simple("reject_appeal", case_id, reason, actor, store)


@case_app.command("accept")
def accept(case_id: int = typer.Argument(...), reason: str = REASON, actor: str = ACTOR, store: str = STORE):
    """Accept an appeal: the seller is reinstated (under the policy's immunity) at the next daily run."""
    from cxops.service.cases import accept_appeal

    with _store(store) as s:
        v, a = accept_appeal(s, case_id, actor=_actor(actor), reason=reason)
    console.print(
        f"case {v.id}: accepted; pending action {a.action_id}: accept plan of {escape(a.seller_id)} on "
        f"{escape(a.marketplace_id)} ({a.state} → {a.expected_state})"
    )
    err.print("takes effect at the next daily run (cxops run)")


@case_app.command("sweep")
def sweep(
    now: str = typer.Option(None, "--now", help="Judge deadlines at this instant (default: now; UTC …Z)."),
    store: str = STORE,
):
    """Escalate every dispute whose first response is overdue (idempotent: run it as often as you like)."""
    from cxops.service.cases import sweep as run

    with _store(store) as s:
        r = run(s, now=_utc(now, "--now"))
    console.print(f"{len(r.escalated)} dispute(s) escalated at {_when(r.now)}")
    for c in r.escalated.itertuples():
        console.print(
            f"  case {c.id}: order {escape(str(c.order_id))} of {escape(c.seller_id)}, due {_when(c.due_at)}"
        )


@case_app.command("open-appeal")
def open_appeal(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    plan: str = typer.Option(None, "--plan", help="The action plan (or --plan-file)."),
    plan_file: Path = typer.Option(None, "--plan-file", help="A text file with the action plan."),
    file: list[Path] = typer.Option(None, "--file", help="Supporting document (PDF, PNG, JPEG; repeatable)."),
    operator: bool = typer.Option(False, "--on-behalf", help="An operator files it on the seller's behalf."),
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
):
    """A removed or suspended seller appeals with an action plan."""
    from cxops.service.cases import open_appeal as run

    if plan_file is not None:
        try:
            plan = plan_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read the action plan {plan_file}: {e}") from None
    attachments = [_read(p) for p in file or []]
    with _store(store) as s:
        v = run(
            s,
            seller_id,
            marketplace,
            plan or "",
            actor=_actor(actor),
            by="operator" if operator else "seller",
            attachments=attachments,
            files=_files(s) if attachments else None,
            program=program,
        )
    console.print(
        f"case {v.id}: appeal of {escape(seller_id)} on {escape(marketplace)} received, owner "
        f"{escape(v.owner or 'unassigned')}"
    )


@case_app.command("show")
def show(
    case_id: int = typer.Argument(..., help="Case id."),
    fmt: Out = typer.Option(Out.table, "--format", "-f", help="table or json."),
    lang: str = LANG,
    store: str = STORE,
):
    """A case: status, owner, clock, answer, history and entries."""
    from cxops.service.cases import get_case

    with _store(store) as s:
        v = get_case(s, case_id)
    if fmt == Out.table:
        _render_case(v, lang)
    else:
        sys.stdout.write(json.dumps(v.to_json(), ensure_ascii=False, indent=2) + "\n")


@case_app.command("list")
def list_(
    kind: str = typer.Option(None, "--kind", help="inquiry, dispute or appeal."),
    status: list[str] = typer.Option(None, "--status", help="Status (repeatable)."),
    seller: str = typer.Option(None, "--seller"),
    marketplace: str = typer.Option(None, "--marketplace"),
    owner: str = typer.Option(None, "--owner"),
    order: str = typer.Option(None, "--order"),
    limit: int = typer.Option(200, "--limit", min=1),
    fmt: Out = typer.Option(Out.table, "--format", "-f"),
    store: str = STORE,
):
    """Cases, newest first, with the time left on each dispute's clock."""
    from cxops.service.cases import list_cases

    with _store(store) as s:
        df = list_cases(
            s,
            kind=kind,
            statuses=status or None,
            seller_id=seller,
            marketplace_id=marketplace,
            owner=owner,
            order_id=order,
            limit=limit,
        )
    shown = df.drop(columns=["details"])
    t = Table()
    for col in ("id", "kind", "status", "seller", "order", "owner", "opened", "clock", "subject"):
        t.add_column(col)
    for r in df.itertuples():
        t.add_row(
            str(r.id),
            r.kind,
            r.status,
            f"{escape(r.seller_id)} {r.marketplace_id}",
            escape(_s(r.order_id)),
            escape(_s(r.owner) or "—"),
            _when(r.opened_at),
            _clock(r.seconds_left),
            escape(r.subject[:60]),
        )
    _emit(shown, fmt, t)


@case_app.command("bundle")
def bundle(
    case_id: int = typer.Argument(..., help="A dispute's case id."),
    out: Path = typer.Option(..., "--out", "-o", help="The zip file, or a folder to write it in."),
    policy: str = POLICY,
    lang: str = LANG,
    store: str = STORE,
    warehouse: str = WAREHOUSE,
):
    """Export a dispute's evidence (order, shipments, messages, policy rule) as a zip with a manifest."""
    from cxops.service.cases import evidence_bundle

    with _store(store) as s:
        wh = _warehouse(warehouse)
        b = evidence_bundle(s, wh, _policy(policy), case_id, out, files=_files(s), lang=lang)
    console.print(f"wrote {b.path}: {len(b.files)} files + manifest.json")
    for f in b.files:
        rows = f" ({f.rows} rows)" if f.rows is not None else ""
        console.print(f"  {f.name:<24} {f.size:>8} bytes  sha256 {f.sha256[:16]}…{rows}")


@case_app.command("sla")
def sla(
    since: str = typer.Option(None, "--from", help="Disputes opened on or after this day (UTC)."),
    until: str = typer.Option(None, "--to", help="… and before the end of this day (UTC)."),
    seller: str = typer.Option(None, "--seller"),
    fmt: Out = typer.Option(Out.table, "--format", "-f"),
    store: str = STORE,
):
    """The disputes' first-response SLA per seller: share answered in time, median time to first response."""
    from cxops.service.cases import dispute_sla

    lo, hi = _day(since, "--from"), _day(until, "--to")
    with _store(store) as s:
        df = dispute_sla(
            s,
            opened_from=datetime(lo.year, lo.month, lo.day, tzinfo=UTC) if lo else None,
            opened_before=datetime(hi.year, hi.month, hi.day, tzinfo=UTC) + timedelta(days=1) if hi else None,
            seller_id=seller,
        )
    t = Table()
    for col in ("seller", "disputes", "in time", "late", "pending", "share in time", "median first response"):
        t.add_column(col)
    for r in df.itertuples():
        share = "—" if pd.isna(r.share_in_time) else f"{r.share_in_time * 100:.1f}%"
        median = "—" if pd.isna(r.median_response_hours) else f"{r.median_response_hours:.1f} h"
        t.add_row(
            f"{escape(r.seller_id)} {r.marketplace_id}",
            str(r.disputes),
            str(r.answered_in_time),
            str(r.late),
            str(r.pending),
            share,
            median,
        )
    _emit(df, fmt, t)


# -- documents ---------------------------------------------------------------------------------------------


@documents_app.command("upload")
def upload(
    seller_id: str = typer.Argument(..., help="Seller id."),
    path: Path = typer.Argument(..., help="The file (PDF, PNG or JPEG; the type is read from the content)."),
    marketplace: str = MARKETPLACE,
    kind: str = typer.Option(
        ..., "--kind", help="w8ben, business_licence, brand_authorisation, address_proof …"
    ),
    period: str = typer.Option(None, "--period", help="YYYY-MM: the month of a monthly document."),
    signed: str = typer.Option(None, "--signed", help="Day the document was signed (a W-8BEN)."),
    expires: str = typer.Option(None, "--expires", help="Expiry day printed on the document."),
    replace: bool = typer.Option(False, "--replace", help="Replace an accepted document."),
    checklist: str = CHECKLIST,
    actor: str = ACTOR,
    program: str = PROGRAM,
    store: str = STORE,
):
    """Submit a document for review (stored under its SHA-256)."""
    from cxops.service.documents import DocumentSettings, load_checklist, read_upload
    from cxops.service.documents import upload as run

    settings = DocumentSettings()
    data = read_upload(path, settings.max_bytes)
    with _store(store) as s:
        d = run(
            s,
            _files(s),
            seller_id,
            marketplace,
            kind,
            data,
            filename=path.name,
            actor=_actor(actor),
            period=period,
            signed_on=_day(signed, "--signed"),
            expires_on=_day(expires, "--expires"),
            replace=replace,
            program=program,
            checklist=load_checklist(checklist),
            settings=settings,
        )
    for w in d.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}")
    exp = f", valid until {d.expires_on}" if d.expires_on else ""
    console.print(
        f"document {d.id}: {d.kind}{' ' + d.period if d.period else ''} ({d.content_type}, {d.size} bytes"
        f"{exp}) submitted for review"
    )


@documents_app.command("review")
def review(
    document_id: int = typer.Argument(..., help="Document id."),
    accept: bool = typer.Option(None, "--accept/--reject", help="Accept or reject."),
    reason: str = typer.Option(None, "--reason", help="Why (required to reject: the seller is told)."),
    expires: str = typer.Option(None, "--expires", help="Expiry day read off the document."),
    checklist: str = CHECKLIST,
    actor: str = ACTOR,
    store: str = STORE,
):
    """Accept or reject a submitted document."""
    from cxops.service.documents import load_checklist
    from cxops.service.documents import review as run

    if accept is None:
        raise InputError("say --accept or --reject")
    with _store(store) as s:
        d = run(
            s,
            document_id,
            "accept" if accept else "reject",
            actor=_actor(actor),
            reason=reason,
            expires_on=_day(expires, "--expires"),
            checklist=load_checklist(checklist),
        )
    console.print(f"document {d.id} ({d.kind} of {escape(d.seller_id)}): {d.status}")


@documents_app.command("list")
def documents_list(
    seller: str = typer.Option(None, "--seller"),
    marketplace: str = typer.Option(None, "--marketplace"),
    status: list[str] = typer.Option(
        None, "--status", help="submitted (the review queue), accepted, rejected."
    ),
    kind: str = typer.Option(None, "--kind"),
    fmt: Out = typer.Option(Out.table, "--format", "-f"),
    program: str = PROGRAM,
    store: str = STORE,
):
    """Submitted documents, oldest first."""
    from cxops.service.documents import list_documents

    with _store(store) as s:
        df = list_documents(
            s,
            program=program,
            seller_id=seller,
            marketplace_id=marketplace,
            statuses=status or None,
            kind=kind,
        )
    t = Table()
    for col in ("id", "seller", "kind", "period", "status", "type", "submitted", "expires", "reason"):
        t.add_column(col)
    for r in df.itertuples():
        t.add_row(
            str(r.id),
            f"{escape(r.seller_id)} {r.marketplace_id}",
            r.kind,
            _s(r.period),
            r.status,
            r.content_type,
            _when(r.submitted_at),
            str(r.expires_on or ""),
            escape(_s(r.review_reason)),
        )
    _emit(df, fmt, t)


@documents_app.command("checklist")
def checklist_cmd(
    seller_id: str = typer.Argument(..., help="Seller id."),
    marketplace: str = MARKETPLACE,
    today: str = typer.Option(
        None, "--today", help="Judge months and expiries on this day (default: today)."
    ),
    checklist: str = CHECKLIST,
    lang: str = LANG,
    fmt: Out = typer.Option(Out.table, "--format", "-f"),
    program: str = PROGRAM,
    store: str = STORE,
):
    """The seller's enrolment checklist: each document's status, and whether enrolment is complete."""
    from cxops.report.i18n import get_translator
    from cxops.service.documents import checklist_status, load_checklist

    tr = get_translator(lang)
    with _store(store) as s:
        c = checklist_status(
            s,
            seller_id,
            marketplace,
            program=program,
            checklist=load_checklist(checklist),
            today=_day(today, "--today"),
        )
    t = Table(title=f"{seller_id} on {marketplace}: {c.checklist} ({c.today})", title_justify="left")
    for col in ("document", "period", "required", "status", "expires", "note"):
        t.add_column(col)
    for r in c.items.itertuples():
        style = {"accepted": "green", "rejected": "red", "expired": "red", "missing": "yellow"}.get(
            r.status, ""
        )
        status = tr(f"cases.document_status.{r.status}")
        note = (
            r.review_reason
            if isinstance(r.review_reason, str)
            else ("expires soon" if r.expiring_soon else "")
        )
        t.add_row(
            escape(r.label),
            _s(r.period),
            "yes" if r.required else "optional",
            f"[{style}]{escape(status)}[/]" if style else escape(status),
            str(r.expires_on or ""),
            escape(note),
        )
    _emit(c.items, fmt, t)
    n = int((c.items["required"] & (c.items["status"] != "accepted")).sum())
    done = tr("cases.checklist.complete") if c.complete else tr("cases.checklist.incomplete", n=n)
    (console if fmt == Out.table else err).print(done)


@documents_app.command("remind")
def remind(
    today: str = typer.Option(None, "--today", help="The day (default: today)."),
    checklist: str = CHECKLIST,
    program: str = PROGRAM,
    store: str = STORE,
):
    """Remind every member whose documents are incomplete or expire soon (at most once per interval)."""
    from cxops.service.documents import load_checklist, send_reminders

    with _store(store) as s:
        r = send_reminders(
            s, program=program, checklist=load_checklist(checklist), today=_day(today, "--today")
        )
    console.print(
        f"{len(r.sellers)} reminder(s) queued; {r.skipped} seller(s) reminded within the interval already; "
        f"{r.incomplete} member(s) with incomplete documents"
    )


@documents_app.command("gc")
def gc(
    grace: int = typer.Option(None, "--grace-seconds", help="Keep unreferenced files younger than this."),
    store: str = STORE,
):
    """Delete stored files no document or case refers to (left by failed uploads)."""
    from cxops.service.documents import collect_garbage

    with _store(store) as s:
        g = collect_garbage(s, _files(s), grace=timedelta(seconds=grace) if grace is not None else None)
    console.print(f"{len(g.deleted)} file(s) deleted; {g.referenced} in use; {g.young} too recent to judge")


__all__ = ["case_app", "documents_app"]
