"""Printing tables for the command line: fitted to a terminal, at natural width when piped."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement


def show(renderable, console: Console) -> None:
    """Print a table (or any renderable) on ``console``, readable when piped.

    At a terminal it fits the terminal's width. Piped or redirected (a log, ``| less``, a file), it is
    printed at its natural width: one line per row, no cell folded into a column of single letters.
    """
    if console.is_terminal:
        console.print(renderable)
        return
    natural = Measurement.get(console, console.options.update_width(100_000), renderable).maximum
    width = max(console.width, natural)
    wide = Console(file=console.file, width=width, color_system=None, highlight=False, soft_wrap=False)
    wide.print(renderable, crop=False)
