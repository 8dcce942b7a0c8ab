"""The web service: an HTTP API under ``/api/v1`` and server-rendered pages (FastAPI, Jinja2, htmx).

``create_app(settings)`` builds the application; nothing is built at import time. ``cxops serve``
runs it on uvicorn. Layout: ``app.py`` (the factory), ``config.py`` (settings), ``deps.py`` (who
is asking, the seller scope, roles), ``problems.py`` (RFC 9457 errors), ``paging.py`` (cursors),
``security.py`` (cookies, CSRF, headers), ``i18n.py`` (the one adapter to the message catalogs),
``api/<resource>.py`` and ``pages/<resource>.py`` (one router per resource), ``templates/`` and
``static/`` (every asset vendored, see ``static/vendor/VENDOR.md``).

The web calls the service layer only (:mod:`cxops.service`), never the store's tables directly.
"""

from __future__ import annotations


def create_app(*args, **kwargs):
    """See :func:`cxops.web.app.create_app` (imported on first use)."""
    from cxops.web.app import create_app as factory

    return factory(*args, **kwargs)
