"""Program runs: started (``running``), then ``succeeded`` or ``failed``, with timings and counts.

A run row is written in its own short transaction when the job starts (so a crash leaves a trace),
and finished in the job's transaction; :func:`abandon_running` marks runs a crashed job left
``running`` as failed.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxops.errors import NotFoundError
from cxops.store.bulk import frame
from cxops.store.models import Run
from cxops.store.types import utcnow


def policy_hash(text: str) -> str:
    """SHA-256 (hex) of a policy's TOML text, stored with each run."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def start_run(
    session: Session,
    program: str,
    as_of: date,
    policy_name: str,
    policy_version: str,
    policy_sha256: str,
    *,
    rebuild_from: date | None = None,
    owner: str | None = None,
) -> int:
    """Record a run as ``running``; returns its id."""
    run = Run(
        program=program,
        as_of=as_of,
        policy_name=policy_name,
        policy_version=policy_version,
        policy_hash=policy_sha256,
        status="running",
        started_at=utcnow(),
        rebuild_from=rebuild_from,
        owner=owner,
    )
    session.add(run)
    session.flush()
    return run.id


def _finish(session: Session, run_id: int, **values: Any) -> None:
    res = session.execute(update(Run).where(Run.id == run_id).values(finished_at=utcnow(), **values))
    if res.rowcount != 1:
        raise NotFoundError(f"run {run_id} not found")


def finish_run(
    session: Session,
    run_id: int,
    *,
    counts: dict[str, Any] | None = None,
    timings: dict[str, float] | None = None,
) -> None:
    """Mark a run ``succeeded`` with what it wrote (``counts``) and how long each stage took (seconds)."""
    _finish(session, run_id, status="succeeded", counts=counts, timings=timings)


def fail_run(session: Session, run_id: int, error: str, *, timings: dict[str, float] | None = None) -> None:
    """Mark a run ``failed`` with the error message (call in a fresh transaction after a rollback)."""
    _finish(session, run_id, status="failed", error=error, timings=timings)


def abandon_running(
    session: Session, program: str, reason: str = "abandoned: the job stopped before finishing"
) -> int:
    """Mark every ``running`` run of ``program`` failed (call holding the job lock); returns how many."""
    res = session.execute(
        update(Run)
        .where(Run.program == program, Run.status == "running")
        .values(status="failed", finished_at=utcnow(), error=reason)
    )
    return res.rowcount


def last_run(session: Session, program: str, status: str | None = "succeeded") -> Run | None:
    """The newest run of ``program`` (by as-of date, then id) with ``status`` (any when ``None``)."""
    stmt = select(Run).where(Run.program == program)
    if status:
        stmt = stmt.where(Run.status == status)
    return session.scalars(stmt.order_by(Run.as_of.desc(), Run.id.desc()).limit(1)).first()


def list_runs(session: Session, program: str | None = None, limit: int = 50) -> pd.DataFrame:
    """The newest runs first (all columns of ``runs``)."""
    t = Run.__table__
    stmt = select(t)
    if program:
        stmt = stmt.where(t.c.program == program)
    return frame(session, stmt.order_by(t.c.id.desc()).limit(limit))
