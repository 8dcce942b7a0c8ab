"""Settings read from the environment (``CXOPS_*``), built in one place and never at import time.

``Settings()`` reads ``CXOPS_STORE`` and ``CXOPS_WAREHOUSE``; a command-line option given explicitly
wins over the environment (:func:`get_settings` takes the options as overrides).
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WAREHOUSE = "cxops.duckdb"
STORE_SUFFIX = "-store.sqlite"


class Settings(BaseSettings):
    """cxops settings.

    Attributes
    ----------
    store : str or None
        SQLAlchemy URL of the operations store (env ``CXOPS_STORE``), e.g.
        ``postgresql+psycopg://app:pw@127.0.0.1:5432/app`` or ``sqlite:///cxops-store.sqlite``; a plain
        file path means a SQLite file. Default: a SQLite file beside the warehouse
        (:meth:`store_url`).
    warehouse : str or None
        Warehouse URL (env ``CXOPS_WAREHOUSE``, see :mod:`cxops.warehouse`); default ``cxops.duckdb``.
    """

    model_config = SettingsConfigDict(env_prefix="CXOPS_", extra="ignore")

    store: str | None = None
    warehouse: str | None = None

    def warehouse_url(self) -> str:
        """The warehouse URL, or the default DuckDB file in the working directory."""
        return self.warehouse or DEFAULT_WAREHOUSE

    def store_url(self) -> str:
        """The store URL: ``store`` if set, else ``sqlite:///<warehouse stem>-store.sqlite`` beside a
        warehouse file (``cxops.duckdb`` → ``cxops-store.sqlite``); beside the working directory for an
        in-memory or Spark warehouse. A plain path (no ``://``) is a SQLite file."""
        if self.store:
            return self.store if "://" in self.store else f"sqlite:///{self.store}"
        wh = self.warehouse_url()
        local = wh.removeprefix("duckdb://")
        if "://" in local or local in ("memory", ":memory:") or wh.startswith("pyspark:"):
            return f"sqlite:///{DEFAULT_WAREHOUSE.removesuffix('.duckdb')}{STORE_SUFFIX}"
        path = Path(local)
        return f"sqlite:///{path.with_name(path.stem + STORE_SUFFIX)}"


def get_settings(**overrides: str | None) -> Settings:
    """Settings from the environment, with the options given (not ``None``) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
