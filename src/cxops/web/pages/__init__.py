"""Server-rendered pages: one router per resource (login, home, language, seller page, console)."""

from __future__ import annotations

from fastapi import APIRouter

from cxops.web.pages import (
    advice,
    auth,
    console,
    costs,
    diagnose,
    home,
    language,
    message_check,
    program,
    sellers,
    shipped,
    voice,
)


def page_router() -> APIRouter:
    """Every page route."""
    router = APIRouter(include_in_schema=False)
    for module in (
        auth,
        home,
        language,
        sellers,
        costs,
        diagnose,
        advice,
        console,
        program,
        message_check,
        voice,
        shipped,
    ):
        router.include_router(module.router)
    return router
