"""``/api/v1/cases``, ``/documents/queue``, ``/documents/{document_id}/review``, ``/at-risk``,
``/figures``, ``/evaluation-runs``: the operator console's program-wide views (operators; a review
needs ``operator-admin``). Alerts are not here yet: they come with the daily job's alerts table.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from cxops.service import program as prog
from cxops.web import paging
from cxops.web.api.schemas_program import (
    AtRisk,
    AtRiskPage,
    CaseQueue,
    DocumentQueue,
    EvaluationRun,
    Figures,
    QueuedCase,
    QueuedDocument,
    ReviewRequest,
    ReviewResult,
)
from cxops.web.deps import AdminDep, Id, OperatorDep, StoreDep
from cxops.web.paging import Cursor, Limit
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(tags=["console"], responses=problems(400, 401, 403, 422))
CaseKind = Literal["inquiry", "dispute", "appeal"]


@router.get("/cases", response_model=CaseQueue)
def case_queue(
    principal: OperatorDep,
    store: StoreDep,
    kind: CaseKind | None = None,
    owner: str | None = Query(None, max_length=200),
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> CaseQueue:
    """Cases waiting for someone, the nearest deadline first (``seconds_left`` on a dispute's 24-hour
    clock; negative: overdue)."""
    s = prog.case_queue(
        store, kind=kind, owner=owner, after=paging.decode(cursor, "case-queue", 2), limit=limit
    )
    return CaseQueue(
        items=[QueuedCase.model_validate(r) for r in s.rows],
        next_cursor=paging.encode("case-queue", s.next_key),
    )


@router.get("/documents/queue", response_model=DocumentQueue)
def document_queue(
    principal: OperatorDep, store: StoreDep, cursor: Cursor = None, limit: Limit = paging.DEFAULT_LIMIT
) -> DocumentQueue:
    """Documents waiting for review, oldest first."""
    s = prog.document_queue(store, after=paging.decode(cursor, "document-queue", 2), limit=limit)
    return DocumentQueue(
        items=[QueuedDocument.model_validate(r) for r in s.rows],
        next_cursor=paging.encode("document-queue", s.next_key),
    )


@router.post("/documents/{document_id}/review", response_model=ReviewResult, responses=problems(404, 409))
def review(document_id: Id, body: ReviewRequest, principal: AdminDep, store: StoreDep) -> ReviewResult:
    """Accept or reject a submitted document (a rejection is sent to the seller with the reason)."""
    from cxops.service.documents import review as review_document

    d = review_document(
        store,
        document_id,
        body.decision,
        actor=principal.actor,
        reason=body.reason,
        expires_on=body.expires_on,
    )
    return ReviewResult(id=d.id, status=d.status, reviewed_by=d.reviewed_by, review_reason=d.review_reason)


@router.get("/at-risk", response_model=AtRiskPage)
def at_risk(
    principal: OperatorDep,
    runs: RunsDep,
    which: Literal["all", "now", "projected"] = "all",
    marketplace: str | None = Query(None, max_length=64),
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> AtRiskPage:
    """Sellers at risk in the newest stored run: at risk now (``which=now``), or projected at risk,
    removed or suspended at the next evaluation (``which=projected``); by seller."""
    name = f"at-risk:{which}"
    s = prog.at_risk(
        runs.wh,
        runs.policy,
        marketplace_id=marketplace,
        which=which,
        after=paging.decode(cursor, name, 2),
        limit=limit,
    )
    return AtRiskPage(
        items=[AtRisk.model_validate(r) for r in s.rows], next_cursor=paging.encode(name, s.next_key)
    )


def figures_model(f: prog.Figures, tr) -> Figures:
    from cxops.report.vega import states_spec

    labels = {r["state"]: tr.state(r["state"]) for r in f.states}
    spec = states_spec(
        f.states,
        title=tr("web.ops.figures_title"),
        state_labels=labels,
        month_label=tr("web.ops.month"),
        sellers_label=tr("web.ops.sellers"),
    )
    return Figures(run_as_of=f.run_as_of, states=f.states, flows=f.flows, spec=spec)


@router.get("/figures", response_model=Figures)
def figures(
    request: Request, principal: OperatorDep, runs: RunsDep, months: int = Query(12, ge=1, le=60)
) -> Figures:
    """Sellers per state at each of the last ``months`` evaluations and the flows between states per
    month, from the newest stored run, with a Vega-Lite chart specification."""
    from cxops.web.i18n import translator
    from cxops.web.pages.render import request_language

    return figures_model(prog.figures(runs.wh, runs.policy, months), translator(request_language(request)))


@router.get("/evaluation-runs", response_model=list[EvaluationRun])
def evaluation_runs(principal: OperatorDep, runs: RunsDep) -> list[EvaluationRun]:
    """The evaluation runs stored in the warehouse (a few: older ones are dropped), newest first."""
    return [EvaluationRun.model_validate(r) for r in prog.evaluation_runs(runs.wh)]
