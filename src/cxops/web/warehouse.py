"""The request dependency of the routes that read evaluation runs: the warehouse opened for the request
and the program's policy (:mod:`cxops.service.runs_source` opens, shares and closes it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from cxops.service.runs_source import Runs, Source, make_source

__all__ = ["Runs", "RunsDep", "make_source", "runs_source"]


def runs_source(request: Request) -> Iterator[Runs]:
    """Dependency: the warehouse opened for this request, closed after the response."""
    source: Source = request.app.state.runs
    with source.open() as wh:
        yield Runs(wh, source.policy)


RunsDep = Annotated[Runs, Depends(runs_source)]
