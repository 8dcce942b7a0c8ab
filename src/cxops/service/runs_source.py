"""The warehouse and the program's policy for a long-running reader (the web service's routes that read
evaluation runs).

The app reads the newest stored run of its policy (``--policy`` / ``CXOPS_WEB_POLICY``, default the
``customer-excellence`` pack) from the warehouse, read-only. A warehouse opened by the caller (tests,
``create_app(..., warehouse=wh)``) is shared, reads serialised by a lock. Otherwise the warehouse is
opened read-only when a request needs it and kept for the requests that follow; it is closed once
:data:`IDLE_SECONDS` pass without one, so the daily job (which needs the DuckDB file to itself) can
write between bursts of requests. Opening costs ~0.2 s, so a burst pays it once. An import replaces
the file by a committed copy (:mod:`cxops.ingest.staging`): a request that finds another file at the
path than the one it holds open reconnects, so it reads the new data at once.
When no warehouse is configured or the file does not exist, :meth:`Source.open` yields ``None`` and the
pages say that no evaluation is stored yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock, Timer

from cxops.policy.model import Policy

#: A warehouse opened for requests is closed after this many seconds without one.
IDLE_SECONDS = 2.0


@dataclass
class Source:
    """Where the app reads runs: an opened warehouse, or a URL opened on demand (see the module)."""

    policy: Policy
    opened: object | None = None
    url: str | None = None
    lock: Lock | None = None
    _wh: object | None = None
    _timer: Timer | None = None
    _file: tuple[int, int] | None = None  # (device, inode) of the opened file

    @contextmanager
    def open(self) -> Iterator[object | None]:
        """The warehouse for one request (``None`` when there is none); requests take turns."""
        if self.opened is not None:
            with self.lock:
                yield self.opened
            return
        local = (self.url or "").removeprefix("duckdb://")
        if not local or local in ("memory", ":memory:") or ("://" not in local and not Path(local).exists()):
            yield None  # nothing stored yet (an in-memory warehouse of another process holds no run)
            return
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            current = _identity(local)
            if self._wh is not None and current != self._file:  # an import swapped the file in
                self._wh.close()
                self._wh = None
            if self._wh is None:
                from cxops.warehouse import connect

                self._wh = connect(self.url, read_only=True)
                self._file = current
            try:
                yield self._wh
            finally:
                self._timer = Timer(IDLE_SECONDS, self.close_idle)
                self._timer.daemon = True
                self._timer.start()

    def close_idle(self) -> None:
        """Close the warehouse opened for requests (called when idle, and when the app stops)."""
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._wh is not None:
                self._wh.close()
                self._wh = None


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def make_source(settings, warehouse=None, policy: Policy | None = None) -> Source:
    """The app's :class:`Source` from its settings (``warehouse``: an opened one to share)."""
    if policy is None:
        from cxops.policy.load import load_policy

        policy = load_policy(settings.policy)
    return Source(policy=policy, opened=warehouse, url=settings.warehouse_url or None, lock=Lock())


@dataclass
class Runs:
    """The warehouse of this request (or ``None``) and the program's policy."""

    wh: object | None
    policy: Policy
