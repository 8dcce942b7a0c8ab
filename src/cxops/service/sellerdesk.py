"""What a seller does on its page, scoped to one seller and marketplace: cases (eligibility inquiries,
disputes on the 24-hour clock, appeals) with the evidence bundle, the documents checklist with upload,
and its notifications with the contacts' preferences.

Every function takes the seller and marketplace of the request and refuses (404, the same answer as
for something that does not exist) a case, contact or document of another seller — the web checks
the caller may see the seller, this module that the object belongs to it. The work itself is done by
:mod:`cxops.service.cases`, :mod:`cxops.service.documents` and :mod:`cxops.notify`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cxops.errors import ConflictError, NotFoundError
from cxops.policy.model import Policy
from cxops.service import cases as case_service
from cxops.service import documents as doc_service
from cxops.store import Store


def _plain(v: Any) -> Any:
    if v is None or (not isinstance(v, str | list | dict | tuple) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts of plain Python values (a column at a time: a page's few rows
    without the cost of ``DataFrame.to_dict``)."""
    columns = {k: [_plain(v) for v in df[k].tolist()] for k in df.columns}
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


@dataclass(frozen=True)
class Rows:
    """A page of rows (dicts) and the id to continue before (``None`` on the last page)."""

    rows: list[dict[str, Any]]
    next_before: int | None


def _page(rows: list[dict[str, Any]], before: int | None, limit: int) -> Rows:
    """Rows sorted by ``id`` descending, those below ``before``, at most ``limit``."""
    rows = sorted((r for r in rows if before is None or r["id"] < before), key=lambda r: -r["id"])
    out = rows[:limit]
    return Rows(out, out[-1]["id"] if len(rows) > limit else None)


def not_found(what: str, ident: Any) -> NotFoundError:
    return NotFoundError(f"{what} {ident} not found for this seller")


# -- cases ---------------------------------------------------------------------------------------------


def cases(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    *,
    kind: str | None = None,
    before: int | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> Rows:
    """The seller's cases on the marketplace, newest first, with ``seconds_left`` on the 24-hour clock
    of a dispute awaiting its first response (negative: overdue; null otherwise).

    Raises
    ------
    InputError
        An unknown kind.
    """
    df = case_service.list_cases(
        store, kind=kind, seller_id=seller_id, marketplace_id=marketplace_id, limit=None, now=now
    )
    return _page(_records(df), before, limit)


def case(store: Store, seller_id: str, marketplace_id: str, case_id: int) -> case_service.CaseView:
    """One of the seller's cases with history and entries (404 for another seller's)."""
    try:
        view = case_service.get_case(store, case_id)
    except NotFoundError:
        raise not_found("case", case_id) from None
    if (view.seller_id, view.marketplace_id) != (seller_id, marketplace_id):
        raise not_found("case", case_id)
    return view


def bundle(
    store: Store, wh, policy: Policy, seller_id: str, marketplace_id: str, case_id: int, lang: str = "en"
) -> tuple[str, bytes]:
    """The evidence bundle of one of the seller's disputes as ``(file name, zip bytes)``.

    Raises
    ------
    NotFoundError
        Not this seller's case; no warehouse to read the order from.
    ConflictError
        The case is not a dispute.
    """
    view = case(store, seller_id, marketplace_id, case_id)
    if view.kind != "dispute":
        raise ConflictError(f"case {case_id} is not a dispute: an evidence bundle is for a dispute")
    if wh is None:
        raise NotFoundError("no warehouse to read the order from", hint="start cxops serve with --warehouse")
    files = doc_service.FileStore.configured(store) if len(view.files) else None
    with tempfile.TemporaryDirectory(prefix="cxops-bundle-") as d:
        b = case_service.evidence_bundle(store, wh, policy, case_id, Path(d), files=files, lang=lang)
        return b.path.name, b.path.read_bytes()


def stored_standing(wh, policy: Policy, seller_id: str, marketplace_id: str, as_of: date | None = None):
    """The seller's standing from the newest stored run (what an eligibility inquiry answers): the
    eligibility and admission criteria of the last evaluation, the state, the projection.

    Raises
    ------
    ConflictError
        No run of the policy is stored yet.
    NotFoundError
        The run has no row for the seller on that marketplace.
    """
    from cxops.service import scorecard as sc

    ev = sc.evaluation(wh, policy, seller_id) if wh is not None else None
    if ev is None:
        raise ConflictError(
            "no evaluation is stored yet: the answer needs the daily run's figures",
            hint="run the daily job (or cxops evaluate) first",
        )
    final = ev.frame("final", [seller_id])
    mine = final[final["marketplace_id"] == marketplace_id] if len(final) else final
    if mine.empty:
        raise NotFoundError(f"seller {seller_id} has no evaluation on marketplace {marketplace_id}")
    return case_service.standing_from_frames(
        policy,
        seller_id,
        marketplace_id,
        ev.metrics_day,
        ev.frame("criteria", [seller_id]),
        final,
        ev.frame("projected", [seller_id]),
        ev.run.last_evaluation,
        ev.next_evaluation,
    )


def ask(
    store: Store,
    wh,
    policy: Policy,
    seller_id: str,
    marketplace_id: str,
    *,
    question: str | None,
    actor: str,
    by: str = "seller",
) -> case_service.CaseView:
    """Open an eligibility inquiry answered at once from the newest stored run (:func:`stored_standing`).

    Raises
    ------
    ConflictError, NotFoundError
        As :func:`stored_standing`.
    """
    answer = stored_standing(wh, policy, seller_id, marketplace_id)
    return case_service.open_inquiry(
        store,
        wh,
        policy,
        seller_id,
        marketplace_id,
        as_of=answer.as_of,
        actor=actor,
        question=question,
        by=by,
        standing=lambda *a, **k: answer,
    )


def overview(
    store: Store,
    seller_id: str,
    marketplaces: list[str],
    *,
    program: str,
    limit: int = 20,
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """What the seller's page shows of each marketplace's desk, read for all of them at once (one query
    per kind of thing, not one per marketplace): ``{marketplace_id: {"inquiries", "disputes",
    "appeals", "notifications": rows newest first, at most ``limit`` each; "checklist": {"complete",
    "items"} or None when there is no membership in ``program``; "contacts": rows}}``.

    The rows are those of :func:`cases`, :func:`notifications`, :func:`checklist` and
    :func:`contacts` for one marketplace.
    """
    from sqlalchemy import func, select

    from cxops.notify.contacts import ALL_MARKETPLACES, seller_contacts
    from cxops.store.notify_models import OutboxMessage as O

    mps = list(dict.fromkeys(marketplaces))
    out: dict[str, dict[str, Any]] = {mp: {} for mp in mps}
    all_cases = case_service.seller_cases(store, seller_id, now=now)
    for mp in mps:
        mine = [r for r in all_cases if r["marketplace_id"] == mp]
        for kind, key in (("inquiry", "inquiries"), ("dispute", "disputes"), ("appeal", "appeals")):
            out[mp][key] = _page([r for r in mine if r["kind"] == kind], None, limit).rows
    statuses = doc_service.checklist_statuses(store, seller_id, mps, program=program, skip_missing=True)
    for mp in mps:
        c = statuses.get(mp)
        out[mp]["checklist"] = {"complete": c.complete, "items": c.rows} if c else None
    cols = [O.id, O.kind, O.channel, O.recipient, O.language, O.subject, O.status, O.created_at, O.sent_at]
    rank = func.row_number().over(partition_by=O.marketplace_id, order_by=O.id.desc()).label("_rank")
    ranked = (
        select(*cols, O.marketplace_id, rank)
        .where(O.seller_id == seller_id, O.marketplace_id.in_(mps))
        .subquery()
    )
    stmt = select(ranked).where(ranked.c._rank <= limit).order_by(ranked.c.id.desc())
    with store.unit_of_work(write=False) as session:
        messages = [dict(r._mapping) for r in session.execute(stmt)]
        contact_rows = seller_contacts(session, seller_id)
    for mp in mps:
        out[mp]["notifications"] = [
            {k: v for k, v in m.items() if k not in ("marketplace_id", "_rank")}
            for m in messages
            if m["marketplace_id"] == mp
        ]
        out[mp]["contacts"] = [c for c in contact_rows if c["marketplace_id"] in (mp, ALL_MARKETPLACES)]
    return out


# -- documents -----------------------------------------------------------------------------------------


def checklist(store: Store, seller_id: str, marketplace_id: str, program: str, today: date | None = None):
    """The seller's documents checklist (:func:`cxops.service.documents.checklist_status`)."""
    return doc_service.checklist_status(store, seller_id, marketplace_id, program=program, today=today)


def upload(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    *,
    kind: str,
    data: bytes,
    filename: str,
    actor: str,
    period: str | None = None,
    signed_on: date | None = None,
    expires_on: date | None = None,
    program: str,
):
    """Store an uploaded document for review (:func:`cxops.service.documents.upload`; its type is read
    from the content; the size limit is ``CXOPS_DOCUMENTS_MAX_BYTES``).

    Raises
    ------
    InputError
        Unknown kind, bad type, too large, a period missing or not due.
    """
    settings = doc_service.DocumentSettings()
    doc_service.check_size(data, settings.max_bytes, filename or "the file")
    return doc_service.upload(
        store,
        doc_service.FileStore.configured(store, settings),
        seller_id,
        marketplace_id,
        kind,
        data,
        filename=filename or "upload",
        actor=actor,
        period=period or None,
        signed_on=signed_on,
        expires_on=expires_on,
        program=program,
        settings=settings,
    )


# -- notifications -------------------------------------------------------------------------------------


def notifications(
    store: Store, seller_id: str, marketplace_id: str, *, before: int | None = None, limit: int = 50
) -> Rows:
    """Messages to the seller about this marketplace, newest first (subject, kind, channel, status,
    when sent; recipients are the seller's own contacts)."""
    from sqlalchemy import select

    from cxops.store.notify_models import OutboxMessage as O

    cols = [O.id, O.kind, O.channel, O.recipient, O.language, O.subject, O.status, O.created_at, O.sent_at]
    stmt = select(*cols).where(O.seller_id == seller_id, O.marketplace_id == marketplace_id)
    if before is not None:
        stmt = stmt.where(O.id < before)
    stmt = stmt.order_by(O.id.desc()).limit(limit + 1)
    with store.unit_of_work(write=False) as session:
        rows = [dict(r._mapping) for r in session.execute(stmt)]
    out = rows[:limit]
    return Rows(out, out[-1]["id"] if len(rows) > limit else None)


def contacts(store: Store, seller_id: str, marketplace_id: str) -> list[dict[str, Any]]:
    """The seller's e-mail contacts for this marketplace (or all its marketplaces), with preferences."""
    from cxops.notify.contacts import seller_contacts

    with store.unit_of_work(write=False) as session:
        return seller_contacts(session, seller_id, marketplace_id)


def set_preferences(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    contact_id: int,
    *,
    muted: list[str] | None = None,
    digest: bool | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """Change one of the seller's contacts' preferences (warnings and removal notices cannot be muted).

    Raises
    ------
    NotFoundError
        Not a contact of this seller on this marketplace.
    InputError
        A bad language or kind, or a mandatory kind muted.
    """
    from cxops.notify.contacts import set_preferences as set_prefs

    mine = {c["id"] for c in contacts(store, seller_id, marketplace_id)}
    if contact_id not in mine:
        raise not_found("contact", contact_id)
    with store.unit_of_work() as session:
        set_prefs(session, contact_id, muted=muted, digest=digest, language=language)
    return next(c for c in contacts(store, seller_id, marketplace_id) if c["id"] == contact_id)
