"""Operator notes on sellers (never edited; a correction is a new note)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxops.store import bulk
from cxops.store.models import Note
from cxops.store.types import utcnow


def add_note(
    session: Session, program: str, seller_id: str, marketplace_id: str, author: str, text: str
) -> Note:
    """Store a note; returns it with its id."""
    note = Note(program=program, seller_id=seller_id, marketplace_id=marketplace_id, author=author, text=text,
                created_at=utcnow())  # fmt: skip
    session.add(note)
    session.flush()
    return note


def list_notes(
    session: Session, program: str, seller_id: str, marketplace_id: str | None = None
) -> pd.DataFrame:
    """A seller's notes, oldest first."""
    t = Note.__table__
    stmt = select(t).where(t.c.program == program, t.c.seller_id == seller_id)
    if marketplace_id:
        stmt = stmt.where(t.c.marketplace_id == marketplace_id)
    return bulk.frame(session, stmt.order_by(t.c.created_at, t.c.id))
