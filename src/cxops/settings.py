"""Settings read from the environment (``CXOPS_*``), built in one place and never at import time.

``Settings()`` reads ``CXOPS_STORE`` and ``CXOPS_WAREHOUSE``; a command-line option given explicitly
wins over the environment (:func:`get_settings` takes the options as overrides).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WAREHOUSE = "cxops.duckdb"
STORE_SUFFIX = "-store.sqlite"
MAIL_DIR = "cxops-mail"


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

    Notifications (:mod:`cxops.notify`)
        smtp_host, smtp_port : SMTP server (``CXOPS_SMTP_HOST``, ``CXOPS_SMTP_PORT``, default 587);
        without a host, e-mails are written as ``.eml`` files to ``mail_dir``.
        smtp_user, smtp_password : AUTH credentials (``CXOPS_SMTP_USER``, ``CXOPS_SMTP_PASSWORD``);
        never sent before TLS unless ``smtp_allow_plain_auth``.
        smtp_starttls : upgrade the connection with STARTTLS (``CXOPS_SMTP_STARTTLS``, default on);
        smtp_ssl : implicit TLS from the first byte (port 465, ``CXOPS_SMTP_SSL``);
        smtp_ca_file : a CA bundle to verify the server's certificate with (default: the system's).
        smtp_from : the From address (``CXOPS_SMTP_FROM``, e.g. ``Seller Performance <noreply@example.com>``);
        its domain ends every Message-ID.
        smtp_timeout : seconds for each SMTP exchange.
        mail_dir : folder of ``.eml`` files (``CXOPS_MAIL_DIR``; default ``cxops-mail`` beside the store).
        public_url : base URL of the web service, for links and one-click unsubscribe
        (``CXOPS_PUBLIC_URL``, e.g. ``https://cx.example.com``).
        notify_max_attempts : attempts before a message is dead-lettered (``CXOPS_NOTIFY_MAX_ATTEMPTS``).
        notify_retry_base_seconds, notify_retry_cap_seconds : exponential backoff: the n-th retry waits
        ``min(cap, base * 2**(n-1))``, of which a random half (equal jitter).
        notify_lease_seconds : how long a sender holds a claimed message before another may take it.
        notify_digest_hour : UTC hour at which the daily digests of alerts are composed.
        webhook_timeout : seconds for one webhook request.
        web_worker : run the outbox sender inside ``cxops serve`` (``CXOPS_WEB_WORKER``).

    The daily job (:mod:`cxops.service.daily`)
        build_chunk_sellers : sellers the initial build (and ``--rebuild-from``) replays at once
        (``CXOPS_BUILD_CHUNK_SELLERS``, default 5,000): the replay holds one chunk's whole history in
        memory. The store it writes does not depend on it (``bench/RESULTS.md``: at 1 M orders / 5,000
        sellers the replay and writes of one chunk stay below the engine step's high-water mark).
    """

    model_config = SettingsConfigDict(env_prefix="CXOPS_", extra="ignore")

    store: str | None = None
    warehouse: str | None = None

    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_allow_plain_auth: bool = False
    smtp_ca_file: str | None = None
    smtp_from: str = "cxops <noreply@cxops.invalid>"
    smtp_timeout: float = Field(30.0, gt=0)
    mail_dir: str | None = None
    public_url: str | None = None
    notify_max_attempts: int = Field(8, ge=1)
    notify_retry_base_seconds: float = Field(60.0, ge=0)
    notify_retry_cap_seconds: float = Field(6 * 3600.0, ge=0)
    notify_lease_seconds: float = Field(300.0, gt=0)
    notify_digest_hour: int = Field(7, ge=0, le=23)
    webhook_timeout: float = Field(10.0, gt=0)
    web_worker: bool = False
    build_chunk_sellers: int = Field(5_000, ge=1)

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

    def mail_dir_path(self) -> Path:
        """Where ``.eml`` files go without an SMTP server: ``mail_dir`` if set, else ``cxops-mail``
        beside a SQLite store file (in the working directory for a PostgreSQL store)."""
        if self.mail_dir:
            return Path(self.mail_dir)
        url = self.store_url()
        if url.startswith("sqlite:///") and url.removeprefix("sqlite:///") not in ("", ":memory:"):
            return Path(url.removeprefix("sqlite:///")).parent / MAIL_DIR
        return Path(MAIL_DIR)


def get_settings(**overrides: str | None) -> Settings:
    """Settings from the environment, with the options given (not ``None``) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
