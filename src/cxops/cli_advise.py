"""``cxops advise …``: the seller's tools (issue 13).

Minimal sub-app on the ``advisor`` branch; the ``costs`` branch holds the full one (the lead reconciles):
it registers the handling-time advisor and the holiday planner from :mod:`cxops.cli_advise_deadlines`.
"""

from __future__ import annotations

import typer

from cxops.cli_advise_deadlines import register

advise_app = typer.Typer(
    help="Seller tools: what to change, and what it would cost and bring.", no_args_is_help=True
)
register(advise_app)
