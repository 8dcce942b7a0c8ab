"""Engines and units of work for the operations store — built here, from a URL, never at import time.

Supported: SQLite (a file; WAL journal, foreign keys on, a page cache of up to 64 MiB per connection,
write transactions begin ``IMMEDIATE`` so two writers queue instead of failing) and PostgreSQL through
psycopg 3 (``postgresql://`` is read as ``postgresql+psycopg://``). Use :func:`open_store` and
:meth:`Store.unit_of_work`::

    store = open_store("sqlite:///cxops-store.sqlite")
    with store.unit_of_work() as session:   # one transaction: all or nothing
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from cxops.errors import InputError, StoreError

#: Seconds a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_SECONDS = 60


def normalise_url(url: str) -> str:
    """A SQLAlchemy URL for ``url``: a plain path is a SQLite file; ``postgresql://`` uses psycopg 3.

    Raises
    ------
    InputError
        If the URL cannot be parsed or names a database other than SQLite or PostgreSQL.
    """
    if "://" not in url:
        url = f"sqlite:///{url}"
    try:
        u = make_url(url)
    except ArgumentError as e:
        raise InputError(f"store URL {url!r} is not a database URL: {e}") from None
    backend = u.get_backend_name()
    if backend == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    elif backend not in ("sqlite", "postgresql"):
        raise InputError(
            f"store URL {u.render_as_string(hide_password=True)!r}: the store runs on SQLite or PostgreSQL",
            hint="e.g. --store sqlite:///cxops-store.sqlite or --store postgresql://user:pw@host/db",
        )
    return u.render_as_string(hide_password=False)


def create_store_engine(url: str) -> Engine:
    """An engine for the store at ``url`` (see the module docstring for what is set per backend)."""
    u = make_url(normalise_url(url))
    if u.get_backend_name() == "postgresql":
        return create_engine(u, pool_pre_ping=True)
    engine = create_engine(u, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    in_memory = u.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # SQLAlchemy emits BEGIN itself (below), so pysqlite must not; see SQLAlchemy's
        # "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk writes into several indexes thrash 2 MiB
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_SECONDS * 1000}")
        if not in_memory:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")

    return engine


def display_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except InputError:
        return url


@dataclass
class Store:
    """An opened operations store: its engine and transactions.

    Attributes
    ----------
    engine : sqlalchemy.Engine
    url : str
        The URL with the password hidden (for messages).
    """

    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction as an ORM session: committed when the block ends, rolled back on an error.

        Parameters
        ----------
        write : bool
            On SQLite, take the write lock at the start (``BEGIN IMMEDIATE``) so a read-then-write
            transaction never fails half-way because another writer came first; read-only work can
            pass ``False``.

        Yields
        ------
        sqlalchemy.orm.Session
            Bound to one connection; Core statements (``session.execute(insert(...), rows)``) and
            the connection (``session.connection()``) run in the same transaction.
        """
        with self.engine.connect() as conn:
            if write and self.dialect == "sqlite":
                conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                session = Session(bind=conn, expire_on_commit=False, autoflush=True)
                try:
                    yield session
                    session.flush()
                finally:
                    session.close()

    def __enter__(self) -> Store:
        """``with open_store(url) as store:`` — the engine is disposed when the block ends."""
        return self

    def __exit__(self, *exc) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()


def open_store(url: str, *, check: bool = True, must_exist: bool = True) -> Store:
    """Open the store at ``url``.

    Parameters
    ----------
    url : str
        SQLAlchemy URL or a SQLite file path.
    check : bool
        Refuse a store that is not at the migration head (:func:`cxops.store.migrate.check_current`).
    must_exist : bool
        For a SQLite file: refuse a path that does not exist instead of creating an empty file
        (``cxops store upgrade`` passes ``False``).

    Raises
    ------
    InputError
        For a URL that is not SQLite or PostgreSQL.
    NotFoundError
        If the SQLite file does not exist (``must_exist``) or the store is empty (``check``).
    StoreError
        If the database cannot be reached or is at another revision.
    """
    from cxops.errors import NotFoundError
    from cxops.store.migrate import check_current

    full = normalise_url(url)
    u = make_url(full)
    shown = u.render_as_string(hide_password=True)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
        path = Path(u.database)
        if must_exist and not path.exists():
            raise NotFoundError(
                f"store {path} not found", hint=f"create it with: cxops store upgrade --store {shown}"
            )
        if not path.parent.exists():
            raise StoreError(f"store {path}: folder {path.parent} does not exist")
    store = Store(create_store_engine(full), shown)
    try:
        with store.engine.connect():
            pass
    except OperationalError as e:
        store.dispose()
        raise StoreError(f"cannot open store {shown}: {str(e.orig).strip()}") from None
    if check:
        try:
            check_current(store)
        except BaseException:
            store.dispose()
            raise
    return store
