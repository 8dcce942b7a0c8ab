"""Delivery settings as the sender takes them, built from :class:`cxops.settings.Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cxops.settings import Settings, get_settings


@dataclass(frozen=True)
class SmtpConfig:
    """An SMTP server: ``host``/``port``; ``starttls`` or implicit TLS (``ssl``); AUTH with ``user`` and
    ``password`` (refused over a clear connection unless ``allow_plain_auth``); ``ca_file`` to trust."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    ssl: bool = False
    allow_plain_auth: bool = False
    ca_file: str | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class NotifyConfig:
    """How messages are delivered (see :class:`cxops.settings.Settings` for each setting).

    ``smtp`` None: e-mails are written as ``.eml`` files to ``mail_dir``.
    """

    from_address: str
    smtp: SmtpConfig | None
    mail_dir: Path
    public_url: str | None = None
    max_attempts: int = 8
    retry_base: float = 60.0
    retry_cap: float = 6 * 3600.0
    lease_seconds: float = 300.0
    digest_hour: int = 7
    webhook_timeout: float = 10.0


def notify_config(settings: Settings | None = None, **overrides) -> NotifyConfig:
    """The delivery settings from ``settings`` (default: the environment), with ``overrides``."""
    s = settings or get_settings()
    smtp = None
    if s.smtp_host:
        smtp = SmtpConfig(
            host=s.smtp_host,
            port=s.smtp_port,
            user=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            starttls=s.smtp_starttls and not s.smtp_ssl,
            ssl=s.smtp_ssl,
            allow_plain_auth=s.smtp_allow_plain_auth,
            ca_file=s.smtp_ca_file,
            timeout=s.smtp_timeout,
        )
    values = dict(
        from_address=s.smtp_from,
        smtp=smtp,
        mail_dir=s.mail_dir_path(),
        public_url=s.public_url.rstrip("/") if s.public_url else None,
        max_attempts=s.notify_max_attempts,
        retry_base=s.notify_retry_base_seconds,
        retry_cap=s.notify_retry_cap_seconds,
        lease_seconds=s.notify_lease_seconds,
        digest_hour=s.notify_digest_hour,
        webhook_timeout=s.webhook_timeout,
    )
    values.update(overrides)
    return NotifyConfig(**values)
