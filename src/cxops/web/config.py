"""Settings of the web service (env ``CXOPS_WEB_*``; ``CXOPS_STORE`` and ``CXOPS_WAREHOUSE`` for the data)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxops.service.auth import AuthPolicy
from cxops.settings import get_settings


class WebSettings(BaseSettings):
    """How the web service runs.

    Attributes
    ----------
    store_url : str
        The operations store (``--store`` / ``CXOPS_STORE``; default beside the warehouse).
    warehouse_url : str
        The analytics warehouse, read-only (``--warehouse`` / ``CXOPS_WAREHOUSE``).
    policy : str
        The program's policy (pack name or TOML file; env ``CXOPS_WEB_POLICY``, ``--policy``): the
        seller's page reads the newest stored run of this policy.
    secure_cookies : bool
        Mark cookies ``Secure`` (env ``CXOPS_WEB_SECURE_COOKIES``, ``--secure-cookies``): set it when
        the service is reached over HTTPS. Cookies are also ``Secure`` on a request that arrived
        over HTTPS (with ``trust_proxy``, as the proxy's ``X-Forwarded-Proto`` says).
    trust_proxy : bool
        Believe ``X-Forwarded-Proto`` and ``X-Forwarded-For`` from ``forwarded_allow_ips``
        (env ``CXOPS_WEB_TRUST_PROXY``, ``--trust-proxy``); off by default, so a client cannot
        claim another address or scheme.
    forwarded_allow_ips : str
        Comma-separated addresses (or ``*``) of the trusted proxies.
    session_idle_minutes, session_max_hours : int
        A session ends after this long without use / this long after login.
    max_failures, lockout_minutes, ip_max_failures : int
        Login lockout: ``max_failures`` failures of one login within ``lockout_minutes`` lock it for
        ``lockout_minutes``; one address may fail ``ip_max_failures`` times in that window.
    """

    model_config = SettingsConfigDict(env_prefix="CXOPS_WEB_", extra="ignore")

    store_url: str = Field(default="", exclude=True)
    warehouse_url: str = Field(default="", exclude=True)
    policy: str = "customer-excellence"
    secure_cookies: bool = False
    trust_proxy: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    session_idle_minutes: int = Field(120, ge=1)
    session_max_hours: int = Field(12, ge=1)
    max_failures: int = Field(5, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    ip_max_failures: int = Field(20, ge=1)

    def auth_policy(self) -> AuthPolicy:
        """The login and session limits as the service layer takes them."""
        window = timedelta(minutes=self.lockout_minutes)
        return AuthPolicy(
            max_failures=self.max_failures,
            window=window,
            lockout=window,
            ip_max_failures=self.ip_max_failures,
            session_idle=timedelta(minutes=self.session_idle_minutes),
            session_max=timedelta(hours=self.session_max_hours),
        )


def web_settings(store: str | None = None, warehouse: str | None = None, **overrides) -> WebSettings:
    """Settings from the environment; options given (not ``None``) win. The store defaults to the
    SQLite file beside the warehouse, as for every other command."""
    base = get_settings(store=store, warehouse=warehouse)
    given = {k: v for k, v in overrides.items() if v is not None}
    return WebSettings(store_url=base.store_url(), warehouse_url=base.warehouse_url(), **given)
