"""``GET /api/v1/health``: is the service up and does its store answer (no login needed)."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cxops.service.console import store_ok
from cxops.web.api.schemas import Health
from cxops.web.deps import StoreDep, public

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=Health,
    dependencies=[Depends(public)],
    responses={503: {"model": Health, "description": "The store does not answer."}},
)
async def health(store: StoreDep):
    """Liveness and the store's reachability (503 when the store does not answer)."""
    ok = await run_in_threadpool(store_ok, store)
    body = Health(
        status="ok" if ok else "degraded", store="ok" if ok else "unreachable", version=version("cxops")
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
