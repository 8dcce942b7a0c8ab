"""The operator console's program pages: case queues with SLA timers, document review, the at-risk
list with the daily job's newest alerts, program figures month by month, and the runs.

``/console/cases``, ``/console/documents`` (with accept / reject forms for administrators),
``/console/at-risk``, ``/console/figures``, ``/console/runs``. The lists are keyset-paged like their
API routes (:mod:`cxops.web.api.program`); the figures chart is the Vega-Lite specification of the
API's ``/figures``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cxops.errors import CxopsError
from cxops.service import program as prog
from cxops.service.console import runs_page
from cxops.web import paging
from cxops.web.api.program import figures_model
from cxops.web.deps import AdminDep, Id, OperatorDep, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.warehouse import RunsDep

router = APIRouter(prefix="/console")
ROWS = 50
Cursor = Annotated[str | None, Query(max_length=1000)]


def _next(path: str, params: dict, name: str, key) -> str | None:
    token = paging.encode(name, key)
    if not token:
        return None
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode({**kept, 'cursor': token})}"


@router.get("/cases")
def cases(
    request: Request,
    principal: OperatorDep,
    store: StoreDep,
    kind: Literal["", "inquiry", "dispute", "appeal"] = "",
    owner: Annotated[str, Query(max_length=200)] = "",
    cursor: Cursor = None,
) -> Response:
    """Cases waiting for someone, the nearest deadline first, with the 24-hour clock of disputes."""
    s = prog.case_queue(
        store,
        kind=kind or None,
        owner=owner or None,
        after=paging.decode(cursor, "case-queue", 2),
        limit=ROWS,
    )
    return render(
        request,
        "console_cases.html",
        {
            "rows": s.rows,
            "kind": kind,
            "owner": owner,
            "next_url": _next("/console/cases", {"kind": kind, "owner": owner}, "case-queue", s.next_key),
        },
    )


def _documents(request, store, cursor, *, error=None, done=None, status=200) -> Response:
    s = prog.document_queue(store, after=paging.decode(cursor, "document-queue", 2), limit=ROWS)
    return render(
        request,
        "console_documents.html",
        {
            "rows": s.rows,
            "error": error,
            "done": done,
            "next_url": _next("/console/documents", {}, "document-queue", s.next_key),
        },
        status=status,
    )


@router.get("/documents")
def documents(
    request: Request, principal: OperatorDep, store: StoreDep, cursor: Cursor = None, done: str = ""
) -> Response:
    """Documents waiting for review, oldest first."""
    return _documents(request, store, cursor, done=done if done in ("accept", "reject") else None)


@router.post("/documents/{document_id}/review")
def review(
    request: Request,
    document_id: Id,
    principal: AdminDep,
    store: StoreDep,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Accept or reject a document (a rejection needs the reason the seller will read)."""
    from datetime import date

    from cxops.errors import InputError
    from cxops.service.documents import review as review_document

    try:
        if decision not in ("accept", "reject"):
            raise InputError("choose accept or reject")
        try:
            expires = date.fromisoformat(expires_on) if expires_on else None
        except ValueError:
            raise InputError(f"{expires_on!r} is not a day (YYYY-MM-DD)") from None
        review_document(
            store, document_id, decision, actor=principal.actor, reason=reason or None, expires_on=expires
        )
    except CxopsError as e:
        if e.http_status == 404:
            raise
        return _documents(request, store, None, error=str(e), status=e.http_status)
    return RedirectResponse(f"/console/documents?done={decision}", status_code=303)


@router.get("/at-risk")
def at_risk(
    request: Request,
    principal: OperatorDep,
    runs: RunsDep,
    store: StoreDep,
    which: Literal["all", "now", "projected"] = "all",
    marketplace: Annotated[str, Query(max_length=64)] = "",
    cursor: Cursor = None,
) -> Response:
    """Sellers at risk now or projected at risk or worse at the next evaluation, and the newest alerts."""
    name = f"at-risk:{which}"
    s = prog.at_risk(
        runs.wh,
        runs.policy,
        marketplace_id=marketplace or None,
        which=which,
        after=paging.decode(cursor, name, 2),
        limit=ROWS,
    )
    params = {"which": which, "marketplace": marketplace}
    return render(
        request,
        "console_at_risk.html",
        {
            "rows": s.rows,
            "which": which,
            "marketplace": marketplace,
            "has_run": runs.wh is not None and prog._run(runs.wh, runs.policy) is not None,
            "next_url": _next("/console/at-risk", params, name, s.next_key),
            "alerts": _alert_rows(request, store, runs.policy.name, marketplace or None),
        },
    )


def _alert_rows(request: Request, store, program: str, marketplace_id: str | None) -> list[dict]:
    """The newest alerts with their values formatted in the page's language (rates as percentages)."""
    from cxops.report.format import format_value

    lang = request_language(request)
    rows = prog.recent_alerts(store, program, marketplace_id=marketplace_id, limit=ROWS)
    for r in rows:
        for col in ("value", "threshold"):
            r[f"{col}_text"] = format_value(r[col], r["metric"], lang=lang) if r[col] is not None else ""
    return rows


@router.get("/figures")
def figures(
    request: Request, principal: OperatorDep, runs: RunsDep, months: Annotated[int, Query(ge=1, le=60)] = 12
) -> Response:
    """Sellers per state month by month (a chart and a table) and the flows between states."""
    f = figures_model(prog.figures(runs.wh, runs.policy, months), translator(request_language(request)))
    by_month: dict = {}
    for r in f.states:
        by_month.setdefault(r.month, {})[r.state] = r.sellers
    states = sorted({r.state for r in f.states})
    return render(
        request,
        "console_figures.html",
        {"figures": f, "by_month": by_month, "states": states, "months": months},
    )


@router.get("/runs")
def runs_list(
    request: Request,
    principal: OperatorDep,
    store: StoreDep,
    runs: RunsDep,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The daily job's runs (when, policy version, how long, what changed) and the evaluation runs
    stored in the warehouse."""
    p = runs_page(store, principal, before=before, limit=ROWS)
    rows = []
    for r in p.rows:
        took = (r["finished_at"] - r["started_at"]).total_seconds() if r.get("finished_at") else None
        rows.append({**r, "seconds": took})
    return render(
        request,
        "console_runs.html",
        {
            "rows": rows,
            "evaluations": prog.evaluation_runs(runs.wh),
            "next_url": f"/console/runs?before={p.next_key[0]}" if p.next_key else None,
        },
    )
