"""``cxops check-message FILE|-``: check a draft buyer message against marketplace communication rules.

Prints the message with each finding's span highlighted and a table of findings (rule, span, text,
what was found, why), or JSON (``--format json``). Exit status: 0 when the message is clean,
:data:`FINDINGS_EXIT` (3) when it has findings, 1 for bad input (empty message, unreadable file), 2 for
a usage error. Nothing is sent.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cxops.cli_output import show
from cxops.errors import InputError
from cxops.locale import LANGUAGES

#: Exit status when the message has findings (distinct from 1, a bad input, and 2, a usage error).
FINDINGS_EXIT = 3

console = Console()
err = Console(stderr=True)
Lang = StrEnum("Lang", {code: code for code in LANGUAGES})
#: Highlight of a finding's span, by the rule's severity.
STYLES = {"high": "bold red underline", "medium": "bold yellow underline", "low": "underline"}


class MessageFormat(StrEnum):
    table = "table"
    json = "json"


def read_message(path: str) -> tuple[str, str]:
    """The text of ``path`` (``-``: standard input) and what to call it in an error.

    Raises
    ------
    InputError
        The file does not exist, cannot be read or is not UTF-8 text.
    """
    if path == "-":
        data, name = sys.stdin.buffer.read(), "standard input"
    else:
        from pathlib import Path

        name = path
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path} is a folder, not a message file") from None
        except OSError as e:
            raise InputError(f"{path}: cannot read it ({e.strerror})") from None
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as e:
        raise InputError(
            f"{name} is not UTF-8 text (byte {e.start} cannot be decoded)", hint="save the draft as UTF-8"
        ) from None


def highlighted(message: str, findings) -> Text:
    """The message with each finding's span styled (red: high severity, yellow: medium)."""
    text = Text(message)
    for f in findings:
        text.stylize(STYLES.get(f.severity, "underline"), f.start, f.end)
    return text


def check_message_cmd(
    file: str = typer.Argument(..., help="The draft message: a UTF-8 text file, or - for standard input."),
    fmt: MessageFormat = typer.Option(MessageFormat.table, "--format", "-f", help="table or json."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the explanations."),
    message_lang: list[str] = typer.Option(
        None,
        "--message-lang",
        help="Only the wording rules of this message language (repeat; en zh de fr ja es pt; default: all).",
    ),
):
    """Check a draft buyer message against marketplace communication rules (nothing is sent).

    Flags asking to change or remove a review, offering something for a review, asking for a positive
    review only, contact or links outside the marketplace, marketing and personal data, with the span
    of each finding. Exit status 0 when clean, 3 when there are findings."""
    from cxops.service.message_check import check_message

    text, name = read_message(file)
    result = check_message(text, lang=lang.value, languages=message_lang or None, source=name)
    if fmt == MessageFormat.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from cxops.report.i18n import get_translator

        tr = get_translator(lang.value)
        console.print(highlighted(text, result.findings))
        console.print()
        if result.clean:
            console.print(f"[green]{escape(tr('msgcheck.clean'))}[/]")
        else:
            n = len(result.findings)
            t = Table("#", tr("msgcheck.col.rule"), tr("msgcheck.col.span"), tr("msgcheck.col.text"),
                      tr("msgcheck.col.found"), tr("msgcheck.col.why"),
                      title=tr.plural("msgcheck.findings", n, n=n))  # fmt: skip
            for i, f in enumerate(result.findings, 1):
                t.add_row(str(i), f"{f.title}\n[dim]{f.rule}[/]", f"{f.start}–{f.end}", escape(f.text),
                          escape(f.found), escape(f.explanation))  # fmt: skip
            show(t, console)
        err.print(f"[dim]{escape(tr('msgcheck.never_sent'))}[/]")
    if not result.clean:
        raise typer.Exit(FINDINGS_EXIT)
