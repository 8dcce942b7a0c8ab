"""The ``cxops`` command line (Typer + Rich). Each command parses, calls one job, and renders."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup
from typer.exceptions import TyperException

from cxops.cli_advise import advise_app
from cxops.cli_cases import case_app, documents_app
from cxops.cli_daily import alerts as daily_alerts
from cxops.cli_daily import run as daily_run
from cxops.cli_daily import seller_events
from cxops.cli_deadlines import compare_shipped
from cxops.cli_diagnose import diagnose
from cxops.cli_message import check_message_cmd
from cxops.cli_notify import notify_app, worker
from cxops.cli_operations import managers_app, seller_app, store_app
from cxops.cli_output import show as show_on
from cxops.cli_voc import voc
from cxops.cli_web import serve, tokens_app, users_app
from cxops.errors import CxopsError, disk_full
from cxops.locale import LANGUAGES
from cxops.warehouse import DEFAULT_MEMORY_LIMIT, DEFAULT_WAREHOUSE, connect


class _Group(TyperGroup):
    """The top-level command group: turns domain errors into one clear message and an exit code.

    A :class:`cxops.errors.CxopsError` prints ``error: …`` (and ``hint: …``) and exits with its
    ``exit_code``; any other exception is a bug: one line saying so, the traceback only with
    ``--debug``.
    """

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, hoist_global_options(self, ctx, list(args)))

    def invoke(self, ctx):
        try:
            return self._invoke(ctx)
        finally:
            while _opened:
                _opened.pop().close()

    def _invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            _flush_stdout()
            return result
        except CxopsError as e:
            if ctx.params.get("debug"):
                raise
            _report(e)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # the reader went away (cxops … | head): not an error
            _silence_stdout()
            raise typer.Exit(141) from None
        except OSError as e:
            if e.errno not in _OUTPUT_ERRNOS or ctx.params.get("debug"):
                raise
            _silence_stdout()
            err.print(f"[bold red]error:[/] cannot write the output: {escape(e.strerror or str(e))}")
            raise typer.Exit(1) from None
        except Exception as e:
            if ctx.params.get("debug"):
                raise
            full = disk_full(e)  # the machine's state, not a bug
            if full is not None:
                _report(full)
            err.print(
                f"[bold red]internal error:[/] {escape(type(e).__name__)}: {escape(str(e))}\n"
                "This is a bug in cxops; run the command again with --debug for the traceback and report it."
            )
            raise typer.Exit(70) from None


def _report(e: CxopsError) -> NoReturn:
    """Print ``error: …`` (and ``hint: …``) for ``e`` and exit with its code."""
    err.print(f"[bold red]error:[/] {escape(str(e))}")
    if e.hint:
        err.print(f"[bold]hint:[/] {escape(e.hint)}")
    raise typer.Exit(e.exit_code) from None


#: Options a person may give before the command name as well as after it (``cxops -w X metrics …``):
#: moved after the name of the (sub)command when it takes them; otherwise the group takes them and they
#: do nothing. ``--debug`` may be given anywhere.
GLOBAL_OPTIONS = ("--warehouse", "-w", "--store", "--lang", "--policy", "-p", "--format", "-f")


def hoist_global_options(group, ctx, args: list[str]) -> list[str]:
    """``args`` with the global options given before the command name moved after it.

    ``cxops -w wh.duckdb --lang zh explain S1 …`` becomes ``cxops explain -w wh.duckdb --lang zh S1 …``
    (an option given again after the name wins: it comes later). ``--debug`` after the command name
    moves to the front (the top-level group takes it).
    """
    if "--" in args:
        head, tail = args[: args.index("--")], args[args.index("--") :]
    else:
        head, tail = args, []
    if "--debug" in head[1:]:
        head = ["--debug"] + [a for a in head if a != "--debug"]
    front: list[list[str]] = []
    i = 0
    while i < len(head) and head[i].startswith("-"):
        name = head[i].split("=", 1)[0]
        if name not in GLOBAL_OPTIONS:
            i += 1  # the group's own flags (--debug, --version, --help)
            continue
        n = 1 if "=" in head[i] else 2
        front.append(head[i : i + n])
        del head[i : i + n]
    if not front:
        return head + tail
    # the command path: names of groups and the leaf command, right after the front options
    cmd, j, sub_ctx = group, i, ctx
    while hasattr(cmd, "get_command") and j < len(head) and not head[j].startswith("-"):
        nxt = cmd.get_command(sub_ctx, head[j])
        if nxt is None:
            break
        cmd, j = nxt, j + 1
    takes = {o for p in getattr(cmd, "params", []) for o in (*p.opts, *p.secondary_opts)}
    keep, move = [], []
    for opt in front:
        (move if cmd is not group and opt[0].split("=", 1)[0] in takes else keep).append(opt)
    return [a for o in keep for a in o] + head[:j] + [a for o in move for a in o] + head[j:] + tail


#: Warehouses opened by the running command (closed when it ends).
_opened: list = []
#: errno of a full or failing output (ENOSPC, EDQUOT, EFBIG, EIO): a clear message, not a bug.
_OUTPUT_ERRNOS = {28, 122, 27, 5}


def _flush_stdout() -> None:
    """Flush standard output now (a full disk or /dev/full fails here, inside the error handling)."""
    sys.stdout.flush()


def _silence_stdout() -> None:
    """After a failed write to standard output, stop Python from failing again when it exits."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


app = typer.Typer(
    cls=_Group,
    name="cxops",
    help="Seller performance programs: import data, compute metrics, evaluate a policy, explain.",
    no_args_is_help=True,
    add_completion=False,
)
import_app = typer.Typer(help="Import data into the warehouse.", no_args_is_help=True)
policy_app = typer.Typer(help="List, show and validate program policies.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(policy_app, name="policy")
app.add_typer(store_app, name="store")
app.add_typer(seller_app, name="seller")
app.add_typer(managers_app, name="managers")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(case_app, name="case")
app.add_typer(documents_app, name="documents")
app.add_typer(advise_app, name="advise")
app.command("serve")(serve)
app.add_typer(notify_app, name="notify")
app.command("worker")(worker)
app.command("run")(daily_run)
app.command("alerts")(daily_alerts)
app.command("compare-shipped")(compare_shipped)
seller_app.command("events")(seller_events)
app.command("voc")(voc)
app.command("check-message")(check_message_cmd)
app.command("diagnose")(diagnose)

console = Console()
err = Console(stderr=True)


class Fmt(StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


#: The catalog languages (:data:`cxops.locale.LANGUAGES`): English and Chinese complete; German, French
#: and Japanese fall back to English where a message is not translated.
Lang = StrEnum("Lang", {code: code for code in LANGUAGES})


WAREHOUSE = typer.Option(
    None,
    "--warehouse",
    "-w",
    envvar="CXOPS_WAREHOUSE",
    help=f"Warehouse URL (default: {DEFAULT_WAREHOUSE} in the working directory).",
)
POLICY = typer.Option("customer-excellence", "--policy", "-p", help="Built-in pack name or a TOML file.")
ALLOW_STALE = typer.Option(
    False,
    "--allow-stale",
    help="Compute although the day is past the last complete day of data (a feed is behind).",
)


def _version(value: bool):
    if value:
        from importlib.metadata import version

        console.print(f"cxops {version('cxops')}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an unexpected error."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    warehouse: str = typer.Option(
        None, "--warehouse", "-w", help="Warehouse URL, for the command that follows (also after it)."
    ),
    store: str = typer.Option(None, "--store", help="Operations store URL, for the command that follows."),
    lang: str = typer.Option(
        None, "--lang", help=f"Language ({', '.join(LANGUAGES)}), for the command that follows."
    ),
    policy: str = typer.Option(None, "--policy", "-p", help="Policy, for the command that follows."),
    fmt: str = typer.Option(None, "--format", "-f", help="Output format, for the command that follows."),
):
    """Seller performance programs: import data, compute metrics, evaluate a policy, explain."""
    # piped or redirected: lines of text are not broken at the console width (a log wraps them itself)
    console.soft_wrap = not console.is_terminal


def show(renderable) -> None:
    """Print a table on standard output, readable when piped (:func:`cxops.cli_output.show`)."""
    show_on(renderable, console)


def _fail(message: str, code: int = 1):
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


#: The as-of days cxops accepts (dates outside are typing mistakes, and overflow date arithmetic).
_FIRST_DAY, _LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def _date(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        _fail(f"{name} must be a date like 2024-06-30, not {value!r}")
    if not _FIRST_DAY <= day <= _LAST_DAY:
        _fail(f"{name} {value} is out of range: give a day between {_FIRST_DAY} and {_LAST_DAY}")
    return day


def _open(
    url: str | None,
    must_exist: bool = True,
    read_only: bool = False,
    memory_limit: str | None = None,
    lazy: bool = False,
):
    """Open the warehouse; commands that only read it refuse to create a new, empty one, and open it
    read-only (another process may read it at the same time). Imports open it ``lazy`` (no connection
    until used, then read-only: the import commits through its own connection)."""
    from cxops.errors import WarehouseError
    from cxops.warehouse import default_url

    target = url or default_url()
    local = target.removeprefix("duckdb://")
    is_file = target not in ("memory", ":memory:", "duckdb://:memory:") and not target.startswith(
        ("pyspark:", "spark://")
    )
    if must_exist and is_file and not Path(local).exists():
        raise WarehouseError(
            f"warehouse {local} not found",
            hint="import data first (cxops import …, cxops demo) or pass --warehouse",
        )
    try:
        wh = connect(url, read_only=read_only and is_file, memory_limit=memory_limit, lazy=lazy and is_file)
    except (ValueError, ImportError) as e:
        _fail(str(e))
    _opened.append(wh)  # closed when the command ends (a test runs many commands in one process)
    return wh


def _policy(name: str):
    from cxops.policy.load import PolicyError, load_policy

    try:
        return load_policy(name)
    except PolicyError as e:
        _fail(str(e))
    except FileNotFoundError as e:
        _fail(str(e))


def _check_output(fmt: Fmt, out: Path | None) -> None:
    """Fail before any computation when the output cannot be written."""
    if out is None:
        if fmt == Fmt.parquet:
            _fail("--format parquet needs --out FILE")
        return
    suffix = out.suffix.lower().lstrip(".")
    if fmt == Fmt.table and suffix not in ("parquet", "csv", "jsonl"):
        _fail(f"cannot tell the format of {out}: name it .parquet, .csv or .jsonl, or pass --format")


def _emit(df: pd.DataFrame, fmt: Fmt, out: Path | None, render_table) -> None:
    from cxops.report.files import dump, write_frame_atomic

    if out is not None:
        path = write_frame_atomic(df, out, None if fmt == Fmt.table else fmt.value)
        err.print(f"wrote {len(df):,} rows to {path}")
        return
    if fmt == Fmt.table:
        render_table(df)
    elif fmt == Fmt.parquet:
        _fail("--format parquet needs --out FILE")
    else:
        dump(df, fmt.value, sys.stdout)


def _stale_note(fresh, day: date) -> None:
    """With --allow-stale: say that the day is past the data (windows hold no records for those days)."""
    if fresh.complete_day is not None and day > fresh.complete_day:
        err.print(f"note: {fresh.why()}; windows reaching past it hold no records for those days")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


# -- import ------------------------------------------------------------------------------------


def _import_done(report, wh=None) -> None:
    """Print an import's table, notes, changed days, what its source makes measurable, quarantine files."""
    show(report.rich_table())
    for note in report.notes:
        console.print(f"• {escape(note)}")
    for line in report.change_lines():
        if line not in report.notes:
            console.print(f"• {escape(line)}")
    if wh is not None and report.source_id:
        from cxops.metrics.compute import measurable_by_source

        report.measurable = measurable_by_source(wh, report.source_id)
        yes = [m for m, why in report.measurable.items() if why is None]
        no = {m: why for m, why in report.measurable.items() if why is not None}
        console.print(f"• measurable from {escape(report.source_id)}: {', '.join(yes) or 'none'}")
        if no:
            console.print(
                "• not measurable from it: " + "; ".join(f"{m} ({escape(w)})" for m, w in no.items())
            )
    if report.quarantine_files:
        console.print(f"quarantined and flagged rows: {', '.join(str(p) for p in report.quarantine_files)}")


@import_app.command("canonical")
def import_canonical_cmd(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of <table>.csv|parquet"),
    warehouse: str = WAREHOUSE,
    quarantine: Path = typer.Option(Path("cxops-quarantine"), help="Where rejected rows are written."),
):
    """Import canonical tables (one <table>.csv or <table>.parquet per table), all or nothing."""
    from cxops.ingest.canonical_files import import_canonical

    wh = _open(warehouse, must_exist=False, lazy=True)
    with _progress() as bar:
        report = import_canonical(wh, directory, quarantine, progress=_bar(bar))
    _import_done(report, wh)


@import_app.command("amazon")
def import_amazon_cmd(
    paths: list[Path] = typer.Argument(..., exists=True, help="Report files or folders of reports."),
    seller: str = typer.Option(..., "--seller", help="Your seller id (report files do not carry it)."),
    marketplace: str = typer.Option(..., "--marketplace", help="US, DE, JP … or Amazon's marketplace id."),
    report_type: str = typer.Option(None, "--report-type", help="Force a report type (default: detected)."),
    charset: str = typer.Option(None, "--charset", help="The charset Amazon declared (e.g. Shift_JIS)."),
    fetched_on: str = typer.Option(
        None, "--fetched-on", help="When the reports were fetched (default: each file's modification date)."
    ),
    requested: str = typer.Option(
        None, "--requested", help="The window asked for, FROM..TO (a report returning another is noted)."
    ),
    warehouse: str = WAREHOUSE,
    quarantine: Path = typer.Option(Path("cxops-quarantine"), help="Where rejected rows are written."),
):
    """Import Seller Central / SP-API reports (orders, getOrders, feedback, returns, FBA, account health).

    Account health reports, and "no data" answers, are kept per fetch date and window they cover
    (report_snapshots)."""
    from cxops.ingest.amazon import import_amazon
    from cxops.ingest.amazon.snapshots import parse_requested

    fetched = _date(fetched_on, "--fetched-on") if fetched_on else None
    window = parse_requested(requested)
    wh = _open(warehouse, must_exist=False, lazy=True)
    with _progress() as bar:
        report = import_amazon(
            wh,
            seller,
            marketplace,
            paths,
            quarantine,
            report_type,
            charset,
            progress=_bar(bar),
            fetched_on=fetched,
            requested=window,
        )
    _import_done(report, wh)  # exit 0 also when every file was "no data"


@import_app.command("olist")
def import_olist_cmd(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of Olist files"),
    orders: Path = typer.Option(None, help="Orders file (default: found by its standard name)."),
    reviews: Path = typer.Option(None, help="Reviews file."),
    closed_deals: Path = typer.Option(
        None, help="Marketing-funnel closed deals file (seller sign-up dates)."
    ),
    items: Path = typer.Option(None, help="Order items file."),
    sellers: Path = typer.Option(None, help="Sellers file."),
    products: Path = typer.Option(None, help="Products file."),
    categories: Path = typer.Option(None, help="Category name translation file."),
    warehouse: str = WAREHOUSE,
    quarantine: Path = typer.Option(Path("cxops-quarantine"), help="Where rejected rows are written."),
):
    """Import the Olist marketplace data set (CSV or Parquet, standard file names), all or nothing."""
    from cxops.ingest.olist import import_olist

    given = {"orders": orders, "reviews": reviews, "closed_deals": closed_deals, "items": items,
             "sellers": sellers, "products": products, "categories": categories}  # fmt: skip
    paths = {k: v for k, v in given.items() if v}
    wh = _open(warehouse, must_exist=False, lazy=True)
    with _progress() as bar:
        report = import_olist(wh, directory, quarantine, paths=paths or None, progress=_bar(bar))
    _import_done(report, wh)


# -- metrics -----------------------------------------------------------------------------------


@app.command()
def metrics(
    as_of: str = typer.Option(None, "--as-of", help="Last day of every window (marketplace-local)."),
    seller: list[str] = typer.Option(None, "--seller", "-s", help="Only this seller (repeatable)."),
    start: str = typer.Option(None, "--from", help="Daily series from this day …"),
    end: str = typer.Option(None, "--to", help="… to this day (inclusive)."),
    metric: list[str] = typer.Option(None, "--metric", "-m", help="Only this metric (repeatable)."),
    policy: str = typer.Option(None, "--policy", "-p", help="Take metric options from this policy."),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    out: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output."),
    lang: Lang = typer.Option(Lang.en, "--lang"),
    allow_stale: bool = ALLOW_STALE,
    warehouse: str = WAREHOUSE,
):
    """Seller metrics as of a date, or as a daily series (--from/--to). Long format."""
    from cxops.metrics.catalog import CATALOG
    from cxops.metrics.compute import compute_metrics, compute_series, load_inputs
    from cxops.metrics.freshness import data_freshness
    from cxops.report.terminal import metrics_table

    for m in metric or []:
        if m not in CATALOG:
            _fail(f"unknown metric {m!r}; known: {', '.join(CATALOG)}")
    _check_output(fmt, out)
    if start or end:
        if not (start and end):
            _fail("a series needs both --from and --to")
        first, last = _date(start, "--from"), _date(end, "--to")
        if first > last:
            _fail(f"--from {first} is after --to {last}")
    elif not as_of:
        _fail("give --as-of DATE, or --from and --to for a daily series")
    else:
        last = _date(as_of, "--as-of")
    options = _policy(policy).metric_options if policy else None
    wh = _open(warehouse, read_only=True)
    try:
        inputs = load_inputs(wh, options)
    except KeyError as e:
        _fail(str(e).strip("'\""))
    fresh = data_freshness(wh, inputs.zones)
    fresh.check(last, f"metrics as of {last}", allow_stale)
    _stale_note(fresh, last)
    try:
        if start or end:
            df = compute_series(wh, first, last, options, seller or None, metric or None, inputs=inputs)
        else:
            df = compute_metrics(wh, last, options, seller or None, inputs=inputs)
            if metric:
                df = df[df.metric.isin(metric)]
    except (KeyError, ValueError) as e:
        _fail(str(e).strip("'\""))
    if seller and df.empty:
        _fail(
            f"no data for seller(s) {', '.join(seller)} (check the id, or the seller started after --as-of)"
        )
    _emit(df, fmt, out, lambda d: show(metrics_table(d, lang=lang.value, limit=200)))


# -- evaluate ----------------------------------------------------------------------------------


def _run(
    wh,
    pol,
    as_of: date,
    seller,
    *,
    allow_stale: bool = False,
    recompute: bool = False,
    lang: str = "en",
    outputs=None,
):
    from cxops.report.format import note_text
    from cxops.report.i18n import get_translator

    tr = get_translator(lang)
    from cxops.service.evaluation import run_evaluation

    with _progress() as bar:
        progress = _bar(bar)
        run = run_evaluation(
            wh,
            pol,
            as_of,
            seller or None,
            progress,
            allow_stale=allow_stale,
            reuse=not recompute,
            outputs=outputs,
        )
        for note in run.notes:
            err.print(tr("cli.note", text=note_text(note, lang=tr)))
    if run.reused:
        err.print(tr("cli.note", text=tr("cli.stored_run", run_id=run.run.run_id)))
    return run


def _bar(bar):
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return progress


def _evaluated(wh, pol, as_of: date, seller, out: Path | None, lang: str, **options):
    """The run (:func:`_run`) and, with ``out``, its scorecards, statuses, transitions, metrics, benefits,
    projected (Parquet + CSV), report.html and manifest.json written there, all-or-nothing (the metrics
    files while the run's replay is computed: :class:`cxops.service.outputs.EvaluationFolder`); returns
    ``(run, path of report.html or None)``."""
    if out is None:
        return _run(wh, pol, as_of, seller, lang=lang, **options), None
    from cxops.service.outputs import EvaluationFolder

    with EvaluationFolder(out, lang) as folder:
        run = _run(wh, pol, as_of, seller, lang=lang, outputs=folder, **options)
        with _progress() as bar:
            written = folder.write(run, _bar(bar))
    return run, written / "report.html"


@app.command()
def evaluate(
    as_of: str = typer.Option(..., "--as-of", help="Replay evaluations up to this day."),
    policy: str = POLICY,
    seller: list[str] = typer.Option(None, "--seller", "-s", help="Only this seller (repeatable)."),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="Format of the status listing."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Write scorecards, transitions, metrics and report.html here."
    ),
    lang: Lang = typer.Option(Lang.en, "--lang"),
    allow_stale: bool = ALLOW_STALE,
    recompute: bool = typer.Option(False, "--recompute", help="Do not reuse a stored run: compute again."),
    memory_limit: str = typer.Option(
        DEFAULT_MEMORY_LIMIT,
        "--memory-limit",
        envvar="CXOPS_MEMORY_LIMIT",
        help="DuckDB's memory cap; past it the engine spills to disk beside the warehouse.",
    ),
    warehouse: str = WAREHOUSE,
):
    """Evaluate a policy: status per seller with every criterion, transitions with reasons, benefits."""
    from cxops.report.files import check_output_folder
    from cxops.report.terminal import scorecards, status_summary_table, transitions_table

    day = _date(as_of, "--as-of")
    if out is not None:
        check_output_folder(out)
    if fmt == Fmt.parquet and out is None:
        _fail("--format parquet needs --out DIR (the results are written there as Parquet and CSV)")
    pol = _policy(policy)
    wh = _open(warehouse, memory_limit=memory_limit)
    run, path = _evaluated(
        wh, pol, day, seller, out, lang.value, allow_stale=allow_stale, recompute=recompute
    )
    if out is not None:
        from cxops.report.i18n import get_translator

        err.print(get_translator(lang.value)("cli.wrote_evaluation", out=out, report=path))
    if fmt == Fmt.table:
        latest = run.latest_statuses()
        show(status_summary_table(latest, lang=lang.value))
        if seller:
            show(scorecards(run.frame("criteria", seller), lang=lang.value))
        n = run.count("transitions")
        if n:
            from cxops.service.outputs import newest_transitions

            show(transitions_table(newest_transitions(run, 30), lang=lang.value, limit=30))
            if n > 30:
                err.print(f"newest 30 of {n:,} status changes shown; all are in --out DIR/transitions.csv")
    elif fmt != Fmt.parquet:
        from cxops.service.outputs import emit_criteria

        emit_criteria(run, fmt.value, sys.stdout)


# -- explain -----------------------------------------------------------------------------------


class ExplainFmt(StrEnum):
    text = "text"
    jsonl = "jsonl"
    csv = "csv"


@app.command()
def explain(
    seller_id: str = typer.Argument(..., help="Seller id."),
    as_of: str = typer.Option(..., "--as-of", help="Day to explain."),
    marketplace: str = typer.Option(None, "--marketplace", help="Marketplace (if the seller is in several)."),
    policy: str = POLICY,
    fmt: ExplainFmt = typer.Option(
        ExplainFmt.text,
        "--format",
        "-f",
        help="text, or one row per status, criterion (ranked) and counted defect as jsonl or csv.",
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output."),
    lang: Lang = typer.Option(Lang.en, "--lang"),
    allow_stale: bool = ALLOW_STALE,
    warehouse: str = WAREHOUSE,
    compare_shipped: str = typer.Option(
        None,
        "--compare-shipped",
        metavar="A,B",
        help="Then list every order whose late-shipment result differs between two shipped events "
        "(confirmation, first_scan, any), e.g. confirmation,first_scan.",
    ),
):
    """Where a seller stands and why: each criterion with its gap, what to fix first, the projected
    status, when recovery could complete, and every counted defect with the day it drops out; with
    --compare-shipped, every order whose late-shipment result differs between two shipped events."""
    from cxops.report.explain import explain_text
    from cxops.report.explain_rows import explain_extra_lines, explain_frame
    from cxops.report.format import note_text
    from cxops.report.i18n import get_translator
    from cxops.service.evaluation import explain_seller

    day = _date(as_of, "--as-of")
    if out is not None and fmt == ExplainFmt.text and out.suffix.lower() in (".csv", ".jsonl"):
        fmt = ExplainFmt(out.suffix.lower().lstrip("."))
    if compare_shipped is not None:
        from cxops.service.shipped import shipped_pair

        shipped_pair(compare_shipped)  # a bad pair fails before the evaluation
    pol = _policy(policy)
    wh = _open(warehouse, read_only=True)
    with _progress() as bar:
        ev, mine = explain_seller(
            wh, pol, seller_id, day, marketplace, allow_stale=allow_stale, progress=_bar(bar)
        )
        for note in ev.notes:
            err.print(get_translator(lang.value)("cli.note", text=note_text(note, lang=lang.value)))
    # the defects behind the criteria shown: those of the last evaluation's metrics day
    defects = ev.defects(seller_id)
    transitions = ev.frame("transitions", [seller_id])
    criteria = ev.frame("criteria", [seller_id])
    projected = ev.frame("projected", [seller_id])
    frames, texts = [], []
    for _, row in mine.iterrows():
        mp = row["marketplace_id"]
        crit = criteria[criteria.marketplace_id == mp] if len(criteria) else criteria
        mine_defects = defects[defects.marketplace_id == mp] if len(defects) else defects
        proj = projected[projected.marketplace_id == mp] if len(projected) else projected
        frame = explain_frame(
            seller_id, mp, status_row=row.to_dict(), criteria=crit, defects=mine_defects, projected=proj,
            stable_days=pol.recovery.stable_days,
        )  # fmt: skip
        frames.append(frame)
        if fmt == ExplainFmt.text:
            text = explain_text(
                seller_id,
                mp,
                status_row=row.to_dict(),
                criteria=crit,
                defects=mine_defects,
                transitions=transitions,
                lang=lang.value,
                next_evaluation=ev.next_evaluation,
                max_defects=len(mine_defects),  # every counted order
            )
            latest = crit[crit.evaluation_date == crit.evaluation_date.max()] if len(crit) else crit
            extra = explain_extra_lines(frame, latest.to_dict("records"), lang=lang.value)
            texts.append(text.rstrip("\n") + ("\n\n" + "\n".join(extra) if extra else ""))
    ev.discard()
    shipped = None
    if compare_shipped is not None:
        from cxops.service.shipped import compare_for_explain

        mps = list(mine["marketplace_id"])
        shipped = compare_for_explain(wh, pol, seller_id, mps, day, compare_shipped, allow_stale)
    if fmt == ExplainFmt.text:
        if shipped is not None:
            from cxops.report.explain_shipped import shipped_lines

            for mp in mine["marketplace_id"]:
                orders = shipped.orders[shipped.orders.marketplace_id == mp]
                lines = shipped_lines(
                    orders, mp, shipped.first_day, shipped.last_day, shipped.basis, shipped.against,
                    shipped.zones.get(mp), lang.value,
                )  # fmt: skip
                texts.append("\n".join(lines))
        body = "\n\n".join(texts) + "\n"
        if out is None:
            # piped or redirected: one line per item, not wrapped at the console width
            console.print(body, highlight=False, markup=False, end="", soft_wrap=not console.is_terminal)
        else:
            from cxops.report.files import write_text_atomic

            write_text_atomic(out, body)
            err.print(f"wrote {out}")
        return
    if shipped is not None:
        from cxops.report.explain_shipped import shipped_rows

        frames.append(shipped_rows(shipped.orders, seller_id, shipped.basis, shipped.against))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    _emit(df, Fmt(fmt.value), out, None)


# -- policy ------------------------------------------------------------------------------------


@policy_app.command("list")
def policy_list():
    """The built-in policy packs."""
    from rich.table import Table

    from cxops.policy.load import list_packs

    t = Table("name", "version", "description")
    for name, version, description in list_packs():
        t.add_row(name, version, description)
    show(t)


@policy_app.command("show")
def policy_show(name: str = typer.Argument("customer-excellence", help="Pack name or TOML file.")):
    """Print a policy's TOML."""
    from cxops.policy.load import PolicyError, policy_source

    try:
        label, text = policy_source(name)
    except (FileNotFoundError, KeyError, ValueError, PolicyError) as e:
        _fail(str(e))
    err.print(f"# {label}", style="dim")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")  # verbatim: valid TOML when redirected


@policy_app.command("validate")
def policy_validate(path: str = typer.Argument(..., help="Policy TOML file or pack name.")):
    """Validate a policy file; every problem is reported at once with its key path."""
    from cxops.policy.load import PolicyError, load_policy

    try:
        p = load_policy(path)
    except PolicyError as e:
        err.print(f"[bold red]{len(e.issues)} problem(s)[/]")
        for issue in e.issues:
            err.print(f"  {issue}", markup=False)
        raise typer.Exit(1) from None
    except FileNotFoundError as e:
        _fail(str(e))
    console.print(f"[green]valid[/]: {p.name} {p.version} (effective {p.effective_from})")


# -- demo --------------------------------------------------------------------------------------


@app.command()
def demo(
    seed: int = typer.Option(7, help="Random seed (same seed, same marketplace)."),
    sellers: int = typer.Option(300, help="Number of sellers."),
    days: int = typer.Option(730, help="Days of history."),
    end: str = typer.Option("2026-10-31", "--end", help="Last day of generated data (marketplace-local)."),
    out: Path = typer.Option(Path("cxops-demo"), "--out", "-o", help="Output folder."),
    lang: Lang = typer.Option(Lang.en, "--lang"),
    warehouse: str = typer.Option(None, "--warehouse", "-w", help="Default: OUT/demo.duckdb (replaced)."),
    deadlines: bool = typer.Option(
        True,
        "--deadlines/--no-deadlines",
        help="Also write the deadline inputs (contract v2): handling-time settings, holiday mode, "
        "ship-by corrections, delivery attempts, buyers' on-time answers.",
    ),
):
    """Generate a synthetic marketplace, import it, evaluate the default policy, write the report."""
    from cxops.ingest.canonical_files import import_canonical
    from cxops.policy.load import load_policy
    from cxops.report.terminal import status_summary_table
    from cxops.synth import DEMO_ORDERS_PER_SELLER, DEMO_STORIES, generate

    out.mkdir(parents=True, exist_ok=True)
    url = warehouse or str(out / "demo.duckdb")
    if warehouse is None:
        for suffix in ("", ".wal"):
            Path(url + suffix).unlink(missing_ok=True)
    last = _date(end, "--end")
    data_dir = out / "data"
    with _progress() as bar:
        task = bar.add_task(f"generating {sellers} sellers over {days} days (seed {seed})", total=None)

        def generated(table: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"generating: {table}")

        result = generate(
            data_dir,
            sellers,
            days,
            seed=seed,
            end=last,
            orders_per_seller=DEMO_ORDERS_PER_SELLER,
            stories=DEMO_STORIES,
            progress=generated,
            deadlines=deadlines,
        )
    console.print(f"generated {result.rows['orders']:,} seller orders for {sellers} sellers in {data_dir}")
    wh = _open(url, must_exist=False)
    with _progress() as bar:  # all or nothing: Ctrl-C leaves no half warehouse
        report = import_canonical(wh, data_dir, out / "quarantine", progress=_bar(bar))
    _import_done(report)
    as_of = last + timedelta(days=1)  # the monthly evaluation right after the data ends
    pol = load_policy("customer-excellence")
    run, path = _evaluated(wh, pol, as_of, None, out / "report", lang.value)
    statuses = run.latest_statuses()
    show(status_summary_table(statuses, lang=lang.value))
    console.print(f"report: {path}")
    states = list(zip(statuses["seller_id"], statuses["state"], strict=True))
    store_url = _demo_program(wh, pol, as_of, url, replace=warehouse is None, out=out, states=states)
    _demo_users(url, states)
    console.print(
        f"next: cxops explain SELLER --as-of {as_of} --warehouse {url}"
        f"   (seller ids: {out}/report/statuses.csv)"
    )
    console.print(
        f"then: cxops alerts --store {store_url}   ·   cxops seller events SELLER --marketplace US "
        f"--store {store_url}"
    )


def _demo_program(wh, pol, as_of: date, warehouse_url: str, replace: bool, out: Path, states) -> str:
    """The daily job over the demo history into a store beside the warehouse (see
    :mod:`cxops.service.demo_program`), a few cases and documents (:mod:`cxops.service.demo_cases`), the
    outbox delivered as ``.eml`` files to ``out/mail``; returns the store URL."""
    from cxops.service.demo_cases import create_demo_cases, create_demo_documents
    from cxops.service.demo_program import deliver_demo_mail, run_demo_program
    from cxops.service.demo_users import pick_demo_seller
    from cxops.service.stores import open_configured, store_url, upgrade_store

    url = store_url(None, warehouse_url)
    if replace and url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    upgrade_store(url)
    with open_configured(url) as s:
        with _progress() as bar:
            res = run_demo_program(wh, s, pol, as_of, progress=_bar(bar))
        seller = pick_demo_seller(states) if states else None
        cases = create_demo_cases(s, wh, pol, as_of, seller)
        documents = create_demo_documents(s, pol, as_of, seller)
        mail = deliver_demo_mail(s, out / "mail")
    runs = res.build.days + res.daily.days
    total = {k: sum(d.counts.get(k, 0) for d in runs) for k in ("memberships", "events", "alerts")}
    console.print(
        f"operations store {url}: {res.contacts} seller contacts, {len(runs)} daily run(s), "
        f"{total['memberships']} membership writes, {total['events']} events, {total['alerts']} alerts; "
        f"operator actions: {', '.join(res.actions) or 'none'}"
    )
    console.print(f"cases: {escape('; '.join(cases) or 'none')}")
    console.print(f"documents: {escape('; '.join(documents) or 'none')}")
    kinds = ", ".join(
        f"{n} {k}" for k, n in sorted(mail.sent_by_kind.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    lost = mail.report.failed + mail.report.dead
    console.print(
        f"mail: {mail.report.sent} message(s) written ({kinds or 'none'}) as .eml files in "
        f"{escape(str(mail.folder))}" + (f"; {lost} not delivered (cxops notify outbox)" if lost else "")
    )
    return url


def _demo_users(warehouse_url: str, statuses) -> None:
    """Create the demo users in the store beside the warehouse and print them (passwords shown once)."""
    from rich.table import Table

    from cxops.service.demo_users import create_demo_users, pick_demo_seller
    from cxops.service.stores import open_configured, upgrade_store

    upgrade_store(warehouse=warehouse_url)
    with open_configured(warehouse=warehouse_url) as s:
        users = create_demo_users(s, pick_demo_seller(statuses))
    t = Table("login", "role", "password", "seller", title="demo users (passwords shown once)")
    for u in users:
        t.add_row(u.login, u.role, u.password, u.seller_id or "")
    show(t)
    console.print(f"web: cxops serve --warehouse {warehouse_url}   then http://127.0.0.1:8000")


@app.command()
def reconcile(
    as_of: str = typer.Option(None, "--as-of", help="Only reports whose window ends by this day."),
    seller: list[str] = typer.Option(None, "--seller", "-s", help="Only this seller (repeatable)."),
    differences: bool = typer.Option(False, "--differences", help="Show only metrics that differ."),
    policy: str = typer.Option(None, "--policy", "-p", help="Take metric options from this policy."),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
    out: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of standard output."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the table, summary and sentences."),
    warehouse: str = WAREHOUSE,
):
    """Reported marketplace metrics next to the same metrics computed from the imported data."""
    from cxops.reconcile import reconcile as run_reconcile
    from cxops.report.reconcile import reconcile_frame, reconcile_summary, reconcile_table

    _check_output(fmt, out)
    options = _policy(policy).metric_options if policy else None
    wh = _open(warehouse)
    try:
        result = run_reconcile(wh, _date(as_of, "--as-of") if as_of else None, seller or None, options)
    except KeyError as e:  # a marketplace without a time zone (load_inputs)
        _fail(str(e).strip("'\""))
    rows = result.rows
    if differences:
        rows = rows[rows["verdict"] == "differs"]

    def render(frame):
        show(reconcile_table(frame, lang=lang.value, limit=200))
        console.print(reconcile_summary(frame, lang=lang.value).splitlines()[0])

    _emit(reconcile_frame(rows, lang=lang.value), fmt, out, render)


@app.command()
def synth(
    sellers: int = typer.Option(..., "--sellers", help="Number of sellers."),
    days: int = typer.Option(730, "--days", help="Days of history."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for <table>.parquet files."),
    seed: int = typer.Option(7, "--seed"),
    orders_per_seller: float = typer.Option(100.0, "--orders-per-seller", help="Mean orders per seller."),
    end: str = typer.Option("2026-10-31", "--end", help="Last day of data."),
    memory_limit: str = typer.Option("4GB", "--memory-limit", help="DuckDB memory cap while generating."),
    deadlines: bool = typer.Option(
        True,
        "--deadlines/--no-deadlines",
        help="Also write the deadline inputs (contract v2): handling-time settings, holiday mode, "
        "ship-by corrections, delivery attempts, buyers' on-time answers.",
    ),
):
    """Write a synthetic marketplace of any size as canonical Parquet (generated inside DuckDB)."""
    from rich.table import Table

    from cxops.synth import generate

    if sellers < 1 or days < 1:
        _fail("--sellers and --days must be at least 1")
    last = _date(end, "--end")
    with _progress() as bar:
        task = bar.add_task(f"generating {sellers:,} sellers × {days} days", total=None)

        def progress(table: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"generating: {table}")

        stats = generate(
            out, sellers, days, seed=seed, end=last, orders_per_seller=orders_per_seller,
            memory_limit=memory_limit, progress=progress, deadlines=deadlines,
        )  # fmt: skip
    t = Table("table", "rows", "file", title=f"written in {stats.seconds:.1f} s")
    for name, n in stats.rows.items():
        t.add_row(name, f"{n:,}", str(stats.files.get(name, "")))
    show(t)
    console.print(f"metrics straight on the files: cxops.synth.open_parquet({str(out)!r})")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
