"""The outbox worker: send what is due, wait, again — until told to stop.

``cxops worker`` runs :func:`run_worker` in the foreground (SIGTERM / Ctrl-C stop it after the
message in hand); ``cxops serve`` runs it in a background thread when ``CXOPS_WEB_WORKER=1``
(:func:`start_background_worker`). Several workers may run at once, on one or several machines: the
leases keep them from sending a message twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cxops.notify.config import NotifyConfig
from cxops.notify.deliver import SendReport, send_due, worker_id
from cxops.store.db import Store

log = logging.getLogger(__name__)


def run_worker(
    store: Store,
    config: NotifyConfig,
    stop: threading.Event,
    *,
    interval: float = 5.0,
    on_report: Callable[[SendReport], None] | None = None,
) -> None:
    """Send due messages every ``interval`` seconds until ``stop`` is set.

    A failure of one round (the store unreachable for a moment) is logged and the next round tries
    again; ``stop`` is checked between messages' rounds, so a stop never cuts a send in half.
    """
    worker = worker_id()
    while not stop.is_set():
        try:
            report = send_due(store, config, worker=worker)
        except Exception:  # keep the worker alive; the next round retries
            log.exception("outbox round failed")
            report = None
        if report is not None and on_report is not None and (report.claimed or report.digests):
            on_report(report)
        stop.wait(interval)


class BackgroundWorker:
    """A :func:`run_worker` thread; :meth:`stop` ends it after the round in hand."""

    def __init__(self, store: Store, config: NotifyConfig, interval: float = 5.0):
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_worker,
            args=(store, config, self._stop),
            kwargs={"interval": interval},
            name="cxops-outbox",
            daemon=True,
        )

    def start(self) -> BackgroundWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def start_background_worker(store: Store, config: NotifyConfig | None = None, interval: float = 5.0):
    """Start the outbox worker in a thread of this process (the web service's lifespan)."""
    from cxops.notify.config import notify_config

    return BackgroundWorker(store, config or notify_config(), interval).start()
