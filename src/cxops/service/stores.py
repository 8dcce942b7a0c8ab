"""Opening, migrating and describing the operations store from settings (``--store`` / ``CXOPS_STORE``)."""

from __future__ import annotations

from dataclasses import dataclass

from cxops.settings import get_settings
from cxops.store import migrate
from cxops.store.db import Store, display_url, open_store


def store_url(store: str | None = None, warehouse: str | None = None) -> str:
    """The store URL: ``store`` if given, else ``CXOPS_STORE``, else a SQLite file beside the warehouse."""
    return get_settings(store=store, warehouse=warehouse).store_url()


def open_configured(store: str | None = None, *, warehouse: str | None = None) -> Store:
    """Open the configured store, refusing one that is missing or not migrated to the newest revision.

    Raises
    ------
    NotFoundError, StoreError, InputError
        See :func:`cxops.store.open_store`.
    """
    return open_store(store_url(store, warehouse))


@dataclass(frozen=True)
class StoreStatus:
    """Where the store is and which migration it is at.

    ``before`` is the revision before an upgrade (``None``: the store was empty); ``revision`` the
    current one; ``head`` the newest this cxops knows.
    """

    url: str
    dialect: str
    revision: str | None
    head: str
    before: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


def upgrade_store(store: str | None = None, *, warehouse: str | None = None) -> StoreStatus:
    """Create the store if needed (a SQLite file) and migrate it to the newest revision (one transaction)."""
    with open_store(store_url(store, warehouse), check=False, must_exist=False) as s:
        before, after = migrate.upgrade(s)
        return StoreStatus(s.url, s.dialect, after, migrate.head(), before)


def store_status(store: str | None = None, *, warehouse: str | None = None) -> StoreStatus:
    """The store's current revision next to the newest one (the store is not changed)."""
    with open_store(store_url(store, warehouse), check=False, must_exist=True) as s:
        return StoreStatus(s.url, s.dialect, migrate.current(s), migrate.head())


__all__ = ["StoreStatus", "display_url", "open_configured", "store_status", "store_url", "upgrade_store"]
