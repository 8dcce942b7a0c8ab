"""Schema migrations of the store (Alembic, shipped in the package; no ``alembic.ini`` needed).

``upgrade(store)`` brings a store to the newest revision (``cxops store upgrade``), ``current(store)``
reads its revision, ``check_current(store)`` refuses to work on a store that is behind or ahead.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cxops.errors import NotFoundError, StoreError
from cxops.store.db import Store

SCRIPTS = Path(__file__).with_name("alembic")


def _config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision this cxops knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(store: Store) -> str | None:
    """The store's revision, or ``None`` for an empty (never migrated) database."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the store up to ``revision`` in one transaction; returns (revision before, after)."""
    before = current(store)
    with store.engine.begin() as conn:
        command.upgrade(_config(conn), revision)
    return before, current(store)


def downgrade(store: Store, revision: str) -> tuple[str | None, str | None]:
    """Migrate the store down to ``revision`` (``"base"``: drop everything cxops created)."""
    before = current(store)
    with store.engine.begin() as conn:
        command.downgrade(_config(conn), revision)
    return before, current(store)


def check_current(store: Store) -> None:
    """Refuse a store that is not at :func:`head`.

    Raises
    ------
    NotFoundError
        If the store has never been migrated (empty database).
    StoreError
        If it is at an older revision (run ``cxops store upgrade``) or one this cxops does not know
        (a newer cxops migrated it).
    """
    rev, want = current(store), head()
    if rev == want:
        return
    upgrade_hint = f"cxops store upgrade --store {store.url}"
    if rev is None:
        raise NotFoundError(f"store {store.url} is not initialised", hint=f"run: {upgrade_hint}")
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    if rev in known:
        raise StoreError(
            f"store {store.url} is at revision {rev}, this cxops needs {want}", hint=upgrade_hint
        )
    raise StoreError(
        f"store {store.url} is at revision {rev}, unknown to this cxops (needs {want}): "
        "it was migrated by a newer cxops",
        hint="upgrade cxops",
    )
