"""The application factory: ``create_app(settings)`` → a FastAPI app (nothing is built at import time)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from cxops.service.auth import AuthPolicy
from cxops.web import problems
from cxops.web.api import api_router
from cxops.web.config import WebSettings
from cxops.web.pages import page_router
from cxops.web.security import SecurityHeaders
from cxops.web.warehouse import make_source

DESCRIPTION = """\
The cxops API: sellers of a performance program, their memberships, event log, notes and operator
actions. Authenticate with an API token (`Authorization: Bearer cxops_…`, see `cxops tokens create`)
or a browser session. Lists are paged with cursors (`limit`, then `cursor=<next_cursor>`); errors are
RFC 9457 problem details (`application/problem+json`). Instants are UTC, days marketplace-local,
rates fractions.
"""


def templates() -> Jinja2Templates:
    """The page templates (autoescaped HTML from the package)."""
    env = Environment(
        loader=PackageLoader("cxops.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def create_app(
    settings: WebSettings,
    *,
    store=None,
    policy: AuthPolicy | None = None,
    warehouse=None,
    program_policy=None,
) -> FastAPI:
    """Build the web application.

    Parameters
    ----------
    settings : WebSettings
        Where the store is, cookie and proxy settings, login limits (:mod:`cxops.web.config`).
    store : cxops.store.Store, optional
        An opened store to use (tests; the caller disposes it). By default the app opens
        ``settings.store_url`` when it starts and closes it when it stops.
    policy : AuthPolicy, optional
        Login and session limits (default: from ``settings``); tests pass a cheaper password hasher.
    warehouse : cxops.warehouse.Warehouse, optional
        An opened warehouse to read evaluation runs from (tests; shared, reads serialised). By default
        ``settings.warehouse_url`` is opened read-only for each request that needs it.
    program_policy : cxops.policy.model.Policy, optional
        The program's policy (default: ``settings.policy`` loaded).

    Raises
    ------
    NotFoundError, StoreError
        At startup, when the store is missing or not migrated to the newest revision.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if store is not None:
            app.state.store = store
            yield
            return
        from cxops.service.notifications import outbox_worker_enabled, start_outbox_worker
        from cxops.service.stores import open_configured

        opened = open_configured(settings.store_url)
        app.state.store = opened
        worker = start_outbox_worker(opened) if outbox_worker_enabled() else None  # CXOPS_WEB_WORKER=1
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            app.state.runs.close_idle()
            opened.dispose()

    app = FastAPI(
        title="cxops",
        version=version("cxops"),
        description=DESCRIPTION,
        openapi_url=None,  # served by cxops.web.api.docs under /api/v1, with the docs page
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.policy = policy or settings.auth_policy()
    app.state.templates = templates()
    app.state.store = store
    app.state.runs = make_source(settings, warehouse, program_policy)
    problems.install(app)
    app.include_router(api_router())
    app.include_router(page_router())
    app.mount("/static", StaticFiles(directory=str(resources.files("cxops.web") / "static")), name="static")
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    if settings.trust_proxy:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app


def worker_environment(settings: WebSettings) -> dict[str, str]:
    """The environment that makes :func:`app_from_environment` build the app of ``settings`` in a
    worker process of ``cxops serve --workers N``: the store, the warehouse, every ``CXOPS_WEB_*``
    setting, and ``CXOPS_WEB_WORKER=0`` (the outbox sender runs once, in the parent)."""
    env = {"CXOPS_STORE": settings.store_url, "CXOPS_WAREHOUSE": settings.warehouse_url}
    for name, value in settings.model_dump().items():
        env[f"CXOPS_WEB_{name.upper()}"] = str(value)
    env["CXOPS_WEB_WORKER"] = "0"
    return env


def app_from_environment() -> FastAPI:
    """The app of the settings in the environment (uvicorn's factory in each worker process of
    ``cxops serve --workers N``; see :func:`worker_environment`)."""
    from cxops.web.config import web_settings

    return create_app(web_settings())


def route_table(app: FastAPI) -> list[tuple[frozenset[str], str, object]]:
    """Every route of ``app`` as ``(methods, path, dependant)`` (``dependant`` is ``None`` for a mount),
    with included routers flattened — what the route-enumerating tests walk."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: app.routes is flat
        return [
            (frozenset(getattr(r, "methods", None) or ()), r.path, getattr(r, "dependant", None))
            for r in app.routes
        ]
    out = []
    for rc in iter_route_contexts(app.routes):
        route = rc._effective_route
        out.append(
            (frozenset(getattr(rc, "methods", None) or ()), rc.path, getattr(route, "dependant", None))
        )
    return out
