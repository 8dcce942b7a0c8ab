"""``GET /api/v1/openapi.json`` and ``GET /api/v1/docs`` (Swagger UI, served from the vendored copy)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from cxops.web.deps import public

router = APIRouter(tags=["service"])


@router.get("/openapi.json", include_in_schema=False, dependencies=[Depends(public)])
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI 3.1 description of this API."""
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse, dependencies=[Depends(public)])
def docs(request: Request) -> HTMLResponse:
    """The interactive API documentation."""
    return request.app.state.templates.TemplateResponse(request, "api_docs.html", {})
