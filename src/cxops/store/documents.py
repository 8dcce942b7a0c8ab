"""Enrolment documents a seller submits, and their review (migration 0004).

One row per submitted file: the requirement it answers (``kind``; ``period`` ``YYYY-MM`` for a
document needed per month, such as a proof of the shipping address), the stored bytes (``sha256``,
``size``, ``content_type`` sniffed from the content), who submitted it and when, and the review:
``submitted`` → ``accepted`` or ``rejected`` (with the reason). *Missing* (no row) and *expired*
(``expires_on`` passed) are derived when a checklist is read (:mod:`cxops.service.documents`), so no
job has to flip them. A new submission for the same requirement and period supersedes the older ones:
the newest row is the document on file.

Submissions and reviews are logged in the event log (kinds ``document_submitted``,
``document_accepted``, ``document_rejected``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
from sqlalchemy import BigInteger, CheckConstraint, Date, Index, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxops.errors import NotFoundError
from cxops.store import bulk
from cxops.store.events import record_event
from cxops.store.models import Base, S, _in
from cxops.store.types import BigId, UTCDateTime

DOCUMENT_STATUSES = ("submitted", "accepted", "rejected")


class Document(Base):
    """A submitted enrolment document (see the module docstring).

    Attributes
    ----------
    kind : str
        The checklist requirement it answers (e.g. ``w8ben``, ``business_licence``).
    period : str or None
        ``YYYY-MM`` for a requirement needed per calendar month; ``None`` otherwise.
    sha256, size, content_type, filename
        The stored bytes (hex SHA-256, bytes, MIME type sniffed from the content) and the name the
        file was uploaded under (for display only; never trusted for the type).
    signed_on, expires_on : date or None
        The day the document was signed (a W-8BEN) and the last day it is valid.
    """

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(_in("status", DOCUMENT_STATUSES), name="status"),
        Index(None, "program", "seller_id", "marketplace_id", "kind", "id"),
        Index("ix_documents_status_submitted", "status", "submitted_at"),  # the review queue
        Index(None, "sha256"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str | None] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(12))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_reason: Mapped[str | None] = mapped_column(Text)


DOCUMENTS = Document.__table__


def _log(session: Session, d: Document, kind: str, actor: str, at: datetime, reason: str | None) -> None:
    record_event(
        session,
        kind=kind,
        idempotency_key=f"document:{d.id}:{kind.removeprefix('document_')}",
        actor=actor,
        program=d.program,
        seller_id=d.seller_id,
        marketplace_id=d.marketplace_id,
        reason=reason,
        occurred_at=at,
        details={"document_id": d.id, "document_kind": d.kind, "period": d.period, "sha256": d.sha256,
                 "expires_on": d.expires_on.isoformat() if d.expires_on else None},
    )  # fmt: skip


def add_document(session: Session, **fields) -> Document:
    """Insert a submitted document (``fields`` are :class:`Document` columns); logs ``document_submitted``."""
    d = Document(status="submitted", **fields)
    session.add(d)
    session.flush()
    _log(session, d, "document_submitted", d.submitted_by, d.submitted_at, None)
    return d


def get_document(session: Session, document_id: int, *, for_update: bool = False) -> Document:
    """One document.

    Raises
    ------
    NotFoundError
        No document has this id.
    """
    stmt = select(Document).where(Document.id == document_id)
    if for_update:
        stmt = stmt.with_for_update()
    d = session.scalars(stmt).first()
    if d is None:
        raise NotFoundError(
            f"document {document_id} not found", hint="list documents with: cxops documents list"
        )
    return d


def review_document(
    session: Session,
    d: Document,
    status: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None,
    expires_on: date | None = None,
) -> None:
    """Record a review (``accepted`` / ``rejected``; the caller checked it is allowed); logs it."""
    d.status = status
    d.reviewed_at = at
    d.reviewed_by = actor
    d.review_reason = reason
    if expires_on is not None:
        d.expires_on = expires_on
    session.flush()
    _log(session, d, f"document_{status}", actor, at, reason)


def _newest(program: str, seller_ids: Iterable[str] | None):
    """The rows of ``documents`` on file: the newest submission per seller, marketplace, kind and period
    (of ``seller_ids`` only, when given), oldest first."""
    t = DOCUMENTS
    newest = select(func.max(t.c.id)).where(t.c.program == program)
    if seller_ids is not None:
        newest = newest.where(t.c.seller_id.in_(sorted(set(seller_ids))))
    newest = newest.group_by(t.c.seller_id, t.c.marketplace_id, t.c.kind, t.c.period)
    return select(t).where(t.c.id.in_(newest)).order_by(t.c.id)


def latest_documents(
    session: Session,
    program: str,
    *,
    sellers: Iterable[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The document on file (the newest submission) per seller, marketplace, kind and period.

    Parameters
    ----------
    sellers : iterable of (seller_id, marketplace_id), optional
        Only these (default: every seller of the program).

    Returns
    -------
    pandas.DataFrame
        Columns of ``documents``; one row per (seller_id, marketplace_id, kind, period).
    """
    pairs = list(sellers) if sellers is not None else None
    if pairs is not None and not pairs:
        return bulk.frame(session, select(DOCUMENTS).where(DOCUMENTS.c.id < 0))
    out = bulk.frame(session, _newest(program, None if pairs is None else [s for s, _ in pairs]))
    if pairs is not None and len(out):
        keep = pd.MultiIndex.from_tuples(pairs)
        out = out[pd.MultiIndex.from_frame(out[["seller_id", "marketplace_id"]]).isin(keep)]
    return out.reset_index(drop=True)


def seller_documents(session: Session, program: str, seller_id: str) -> list[dict]:
    """One seller's documents on file on every marketplace, as plain rows (dicts of the columns of
    ``documents``, instants tz-aware UTC, dates ``datetime.date``), oldest first: what
    :func:`latest_documents` gives for the seller, for a page that reads a handful of rows."""
    return bulk.records(session, _newest(program, [seller_id]))


def list_documents(
    session: Session,
    *,
    program: str | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    statuses: Iterable[str] | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Submitted documents matching every filter given, oldest first (the review queue order)."""
    t = DOCUMENTS
    stmt = select(t)
    stmt = bulk.where_equal(
        stmt, t, program=program, seller_id=seller_id, marketplace_id=marketplace_id, kind=kind
    )
    if statuses:
        stmt = stmt.where(t.c.status.in_(list(statuses)))
    stmt = stmt.order_by(t.c.submitted_at, t.c.id)
    if limit:
        stmt = stmt.limit(limit)
    return bulk.frame(session, stmt)


def referenced_hashes(session: Session) -> set[str]:
    """SHA-256 of every stored file a document row refers to."""
    return set(session.scalars(select(DOCUMENTS.c.sha256).distinct()))


__all__ = [
    "DOCUMENTS",
    "DOCUMENT_STATUSES",
    "Document",
    "add_document",
    "get_document",
    "latest_documents",
    "seller_documents",
    "list_documents",
    "referenced_hashes",
    "review_document",
]
