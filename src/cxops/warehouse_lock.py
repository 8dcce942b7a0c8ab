"""One writer at a time on a DuckDB warehouse file, across processes.

DuckDB locks the file itself: a read-write connection excludes every other connection, read-only
connections share it. An import does not write the file in place: it commits to a copy and swaps the
copy in (:mod:`cxops.ingest.staging`), so that readers — a dashboard, ``cxops explain`` — are never
refused while it writes. The copy must not miss a write that another process makes meanwhile, so
every cxops read-write connection to the file and every commit by swap hold this lock: an exclusive
``flock`` on the sidecar file ``.<name>.cxops-writer`` beside the warehouse. Readers take no lock.

The lock is re-entrant within a process (counted per path) and lives as long as the connection that
took it: :func:`bind` releases it when the connection is closed or garbage-collected, as DuckDB's own
lock is. Where ``fcntl`` does not exist (Windows) there is no lock and imports should not run beside
other writers.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

_mutex = threading.Lock()
_held: dict[str, list[int]] = {}  # resolved path -> [fd, count]


def sidecar(path: Path) -> Path:
    """The lock file of the warehouse ``path``: ``.<name>.cxops-writer`` in the same folder."""
    return path.parent / f".{path.name}.cxops-writer"


def acquire(path: Path, wait: float = 0.0) -> bool:
    """Take the writer lock of the warehouse ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The warehouse file (need not exist yet; its folder must).
    wait : float
        Seconds to keep trying while another process holds the lock (0: one try).

    Returns
    -------
    bool
        ``True`` when this process now holds the lock (once more), ``False`` when another process
        held it for the whole wait.
    """
    if fcntl is None:
        return True
    key = str(path.resolve())
    deadline = time.monotonic() + wait
    with _mutex:
        if key in _held:
            _held[key][1] += 1
            return True
        fd = os.open(sidecar(Path(key)), os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.1)
        _held[key] = [fd, 1]
        return True


def release(path: Path | str) -> None:
    """Give back one hold of the writer lock of ``path`` (the lock is freed at the last one)."""
    if fcntl is None:
        return
    key = str(Path(path).resolve())
    with _mutex:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            fcntl.flock(entry[0], fcntl.LOCK_UN)
            os.close(entry[0])


def bind(connection: object, path: Path) -> weakref.finalize:
    """Release one hold of the lock of ``path`` when ``connection`` is garbage-collected.

    Returns the finalizer; calling it releases at once (and only once), e.g. on disconnect.
    """
    return weakref.finalize(connection, release, str(path.resolve()))


def held(path: Path) -> bool:
    """Whether this process holds the writer lock of ``path``."""
    return str(path.resolve()) in _held
