"""Notifications as the web and the CLI use them: the in-process outbox worker and one-click unsubscribe."""

from __future__ import annotations

from cxops.notify.contacts import unsubscribe_alerts
from cxops.notify.worker import BackgroundWorker, start_background_worker
from cxops.settings import get_settings
from cxops.store.db import Store


def outbox_worker_enabled() -> bool:
    """Whether ``cxops serve`` runs the outbox worker in its own process (``CXOPS_WEB_WORKER=1``)."""
    return get_settings().web_worker


def start_outbox_worker(store: Store, interval: float = 5.0) -> BackgroundWorker:
    """Start the outbox worker in a thread (stop it with ``.stop()``); delivery settings from the
    environment (:func:`cxops.notify.config.notify_config`)."""
    return start_background_worker(store, interval=interval)


def unsubscribe(store: Store, token: str) -> str:
    """The one-click unsubscribe link (RFC 8058): mute alerts and digests for the contact of ``token``;
    returns its address. Warnings and removal notices keep coming.

    Raises
    ------
    NotFoundError
        For an unknown token.
    """
    with store.unit_of_work() as session:
        return unsubscribe_alerts(session, token).email
