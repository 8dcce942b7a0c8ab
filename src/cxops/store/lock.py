"""A job lock held in the store: a row-level lease, so two daily jobs at once are refused.

The lease is a row of ``job_locks`` (name, owner, host, pid, acquired, heartbeat, expiry), taken and
released in short transactions of their own, so it is visible to every other process while the job's
own transaction runs. A second job gets a :class:`~cxops.errors.ConflictError` naming the holder.
A holder that died is replaced without waiting: when its lease has expired, or at once when it ran on
this host and its process no longer exists (a job killed with SIGKILL can be rerun right away).

Usage::

    with JobLock(store, "daily:customer-excellence") as lock:
        ...                       # long work; a thread renews the lease every ttl / 3
        with store.unit_of_work() as session:
            lock.assert_held(session)   # the final transaction still owns the lease
            ...
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cxops.errors import ConflictError
from cxops.store.db import Store
from cxops.store.models import JobLock as LockRow
from cxops.store.types import utcnow

LOCKS = LockRow.__table__
DEFAULT_TTL = timedelta(minutes=10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _busy(e: OperationalError, name: str) -> ConflictError:
    return ConflictError(
        f"cannot take the lock {name!r}: the store is busy ({str(e.orig).strip()})",
        hint="another cxops process is writing to the store; try again when it has finished",
    )


class JobLock:
    """A named lease in the store.

    Parameters
    ----------
    store : Store
    name : str
        The job, e.g. ``daily:customer-excellence``.
    ttl : datetime.timedelta
        Lease length; renewed by :meth:`heartbeat` (automatically every ``ttl / 3`` inside ``with``).
    heartbeat : bool
        Renew the lease from a background thread while the ``with`` block runs.

    Attributes
    ----------
    owner : str
        ``host:pid:token`` of this holder.
    """

    def __init__(self, store: Store, name: str, *, ttl: timedelta = DEFAULT_TTL, heartbeat: bool = True):
        self.store = store
        self.name = name
        self.ttl = ttl
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.owner = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:12]}"
        self._auto = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    # -- one short transaction each ---------------------------------------------------------------
    def acquire(self) -> None:
        """Take the lease.

        Raises
        ------
        ConflictError
            If another live holder has it (the message names its host, pid and since when), or the
            store stays busy.
        """
        try:
            with self.store.unit_of_work() as s:
                self._acquire(s)
        except OperationalError as e:
            raise _busy(e, self.name) from None

    def _acquire(self, s: Session) -> None:
        now = utcnow()
        row = s.execute(select(LOCKS).where(LOCKS.c.name == self.name).with_for_update()).first()
        mine = {
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "acquired_at": now,
            "heartbeat_at": now,
            "expires_at": now + self.ttl,
        }
        if row is None:
            if s.get_bind().dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as dialect_insert
            else:
                from sqlalchemy.dialects.sqlite import insert as dialect_insert
            stmt = dialect_insert(LOCKS).values(name=self.name, **mine).on_conflict_do_nothing()
            if s.execute(stmt.returning(LOCKS.c.name)).first() is not None:
                return
            row = s.execute(select(LOCKS).where(LOCKS.c.name == self.name)).first()
            raise self._held(row)
        dead = row.host == self.host and row.owner != self.owner and not _alive(row.pid)
        if row.expires_at <= now or dead:
            swapped = s.execute(
                update(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.owner == row.owner).values(**mine)
            )
            if swapped.rowcount == 1:
                return
            row = s.execute(select(LOCKS).where(LOCKS.c.name == self.name)).first()
        raise self._held(row)

    def _held(self, row) -> ConflictError:
        if row is None:  # released between our two reads: the caller may simply retry
            return ConflictError(f"the lock {self.name!r} changed hands while taking it; try again")
        return ConflictError(
            f"{self.name} is already running: held by process {row.pid} on {row.host} since "
            f"{_fmt(row.acquired_at)} (last heartbeat {_fmt(row.heartbeat_at)})",
            hint=f"wait for it to finish; if it died, its lease expires at {_fmt(row.expires_at)}",
        )

    def heartbeat(self) -> None:
        """Extend the lease by ``ttl`` from now.

        Raises
        ------
        ConflictError
            If the lease is no longer ours (it expired and another job took it).
        """
        with self.store.unit_of_work() as s:
            self.renew(s)

    def renew(self, session: Session) -> None:
        """Extend the lease by ``ttl`` from now inside the caller's transaction (a long transaction on
        SQLite keeps the renewing thread out: the lease it holds would expire before its commit).

        Raises
        ------
        ConflictError
            If the lease is no longer ours.
        """
        now = utcnow()
        res = session.execute(
            update(LOCKS)
            .where(LOCKS.c.name == self.name, LOCKS.c.owner == self.owner)
            .values(heartbeat_at=now, expires_at=now + self.ttl)
        )
        if res.rowcount != 1:
            self.lost = True
            raise ConflictError(f"the lock {self.name!r} was lost: its lease expired and was taken over")

    def release(self) -> None:
        """Give the lease up (a no-op when it is no longer ours)."""
        with self.store.unit_of_work() as s:
            s.execute(delete(LOCKS).where(LOCKS.c.name == self.name, LOCKS.c.owner == self.owner))

    def assert_held(self, session: Session) -> None:
        """Inside the job's transaction: refuse to go on unless the lease is still ours and valid.

        Raises
        ------
        ConflictError
            If it was lost (call before committing the job's writes).
        """
        row = session.execute(
            select(LOCKS.c.owner, LOCKS.c.expires_at).where(LOCKS.c.name == self.name).with_for_update()
        ).first()
        if row is None or row.owner != self.owner or row.expires_at <= utcnow():
            self.lost = True
            raise ConflictError(f"the lock {self.name!r} is no longer held by this job; nothing was written")

    # -- context manager with a renewing thread ------------------------------------------------
    def _renew(self) -> None:
        every = max(self.ttl.total_seconds() / 3, 0.05)
        while not self._stop.wait(every):
            try:
                self.heartbeat()
            except ConflictError:
                return
            except OperationalError:  # the store is busy (SQLite writer): try again next time
                continue

    def __enter__(self) -> JobLock:
        self.acquire()
        if self._auto:
            self._thread = threading.Thread(target=self._renew, name=f"lease:{self.name}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.release()


def current_lock(store: Store, name: str) -> dict | None:
    """The lease row of ``name`` (owner, host, pid, acquired_at, heartbeat_at, expires_at) or None."""
    with store.unit_of_work(write=False) as s:
        row = s.execute(select(LOCKS).where(LOCKS.c.name == name)).first()
        return dict(row._mapping) if row else None


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = ["DEFAULT_TTL", "JobLock", "current_lock"]
