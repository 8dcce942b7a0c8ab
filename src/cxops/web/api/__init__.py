"""The HTTP API under ``/api/v1``: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from cxops.web.api import (
    advise_deadlines,
    audit,
    costs,
    diagnose,
    docs,
    health,
    managers,
    me,
    members,
    message_check,
    program,
    runs,
    scorecard,
    sellerdesk,
    sellers,
    shipped,
    voice,
)

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every API route, under :data:`PREFIX`."""
    router = APIRouter(prefix=PREFIX)
    for module in (
        health,
        me,
        members,
        sellers,
        scorecard,
        sellerdesk,
        costs,
        diagnose,
        managers,
        runs,
        program,
        audit,
        docs,
        message_check,
        advise_deadlines,
        shipped,
    ):
        router.include_router(module.router)
    router.include_router(voice.router)
    return router
