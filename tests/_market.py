"""Test and bench helper: a generated marketplace in the operations store, and the web server on it.

:func:`seed_market` writes, in array operations (no loop over sellers), ``n`` seller accounts of the
``customer-excellence`` program spread over marketplaces and lifecycle states, with the reasons the
lifecycle writes (criteria sentences with values and thresholds), a transition event per account,
benefits for enrolled accounts, account managers, and users: ``admin`` (operator-admin), ``viewer``
(operator-viewer) and ``seller`` (bound to :data:`SELLER` on every marketplace) — all with
:data:`PASSWORD`. Same ``seed``, same marketplace. The daily job that writes evaluation runs into the
store is not used: the store is what the web reads, so it is generated directly.

:class:`Server` runs ``cxops serve`` on 127.0.0.1 on a free port as a subprocess, waits for
``/api/v1/health`` and stops it by its PID.

Used by ``tests/test_web_browser.py``, ``tests/test_web_fuzz.py`` and ``bench/web_load.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

PROGRAM = "customer-excellence"
PASSWORD = "correct horse battery staple"
#: The seller user's seller: at risk on US, removed on DE, enrolled on JP (see :func:`seed_market`).
SELLER = "S000001"
MARKETS = ["US", "DE", "JP", "UK", "FR"]
STATES = ["enrolled", "candidate", "at_risk", "removed", "recovering", "not_eligible", "suspended"]
SHARES = [0.55, 0.15, 0.10, 0.08, 0.04, 0.05, 0.03]
LAST_EVALUATED = date(2026, 11, 1)


def _criterion(metric: str, label: str, op: str, value: float, threshold: float, pct: bool) -> dict:
    text = (lambda v: f"{v * 100:.2f} %") if pct else (lambda v: f"{v:g}")
    return {
        "key": "criterion_failed",
        "params": {
            "channel": "all",
            "criterion_id": metric,
            "label": label,
            "metric": metric,
            "op": op,
            "rule_id": None,
            "test": "value",
            "threshold": threshold,
            "threshold_text": text(threshold),
            "value": value,
            "value_text": text(value),
            "window_days": 60,
        },
    }


def _details(c: dict) -> str:
    p = c["params"]
    return f"{p['label']} ({p['value_text']} {p['op']} {p['threshold_text']})"


def reasons(state: str, odr: float) -> tuple[str | None, dict]:
    """The lifecycle's reason key and params for an account in ``state`` with order defect rate ``odr``
    (the shapes :mod:`cxops.lifecycle.reasons` writes)."""
    odr_c = _criterion("order_defect_rate", "order defect rate under 1 %", ">", odr, 0.01, True)
    if state == "at_risk":
        return "at_risk", {"criteria": [odr_c], "details": _details(odr_c), "count": 1, "consecutive": 2}
    if state in ("removed", "suspended"):
        key = "removed_consecutive" if state == "removed" else "suspended_consecutive"
        return key, {"criteria": [odr_c], "details": _details(odr_c), "consecutive": 2, "repeats": 1}
    if state == "not_eligible":
        c = _criterion("order_count", "more than 500 orders a month", "<=", 125.0, 1500.0, False)
        return "not_eligible", {"criteria": [c], "details": _details(c)}
    if state == "enrolled":
        return "remains_enrolled", {}
    return None, {}


def population(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` memberships (one per seller ``S000000``…), reproducible from ``seed``; :data:`SELLER`
    gets three (US at risk, DE removed, JP enrolled)."""
    rng = np.random.default_rng(seed)
    sellers = np.array([f"S{i:06d}" for i in range(n)], dtype=object)
    state = np.array(STATES, dtype=object)[rng.choice(len(STATES), n, p=SHARES)]
    df = pd.DataFrame(
        {
            "seller_id": sellers,
            "marketplace_id": np.array(MARKETS, dtype=object)[rng.integers(0, len(MARKETS), n)],
            "state": state,
            "since": (pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")).date,
            "odr": np.round(rng.uniform(0.011, 0.03, n), 4),
            "consecutive_breaches": np.where(state == "at_risk", 1, 0),
        }
    )
    mine = pd.DataFrame(
        {
            "seller_id": [SELLER] * 3,
            "marketplace_id": ["US", "DE", "JP"],
            "state": ["at_risk", "removed", "enrolled"],
            "since": [date(2026, 10, 1), date(2026, 9, 1), date(2025, 6, 1)],
            "odr": [0.0123, 0.0187, 0.004],
            "consecutive_breaches": [1, 0, 0],
        }
    )
    df = pd.concat([df[df.seller_id != SELLER], mine], ignore_index=True)
    managers = np.array([f"m{i:02d}" for i in range(max(2, n // 200))], dtype=object)
    df["account_manager_id"] = np.where(
        df.state.isin(["enrolled", "at_risk"]), managers[rng.integers(0, len(managers), len(df))], None
    )
    df["primary_category"] = np.array(["electronics", "home", "toys", "books"], dtype=object)[
        rng.integers(0, 4, len(df))
    ]
    keys = [reasons(s, o) for s, o in zip(df.state, df.odr, strict=True)]
    df["reason_key"] = [k for k, _ in keys]
    df["reason_params"] = [p for _, p in keys]
    df["last_evaluated"] = LAST_EVALUATED
    return df.sort_values(["seller_id", "marketplace_id"], ignore_index=True)


@dataclass
class Market:
    """What :func:`seed_market` wrote (for tests to compare the pages against)."""

    members: pd.DataFrame
    managers: list[str]
    users: dict[str, str] = field(default_factory=dict)  # login -> role

    def of(self, seller_id: str) -> pd.DataFrame:
        return self.members[self.members.seller_id == seller_id]

    def in_state(self, state: str) -> pd.DataFrame:
        return self.members[self.members.state == state]


def seed_market(store, n: int = 60, seed: int = 7, password: str = PASSWORD, policy=None) -> Market:
    """Write a generated marketplace and its users into a migrated, empty ``store``."""
    from cxops.service import accounts
    from cxops.service.managers import add_manager
    from cxops.store import append_events, sync_benefits, upsert_memberships

    df = population(n, seed)
    managers = sorted(m for m in df.account_manager_id.dropna().unique())
    for i, m in enumerate(managers):
        add_manager(store, m, f"Manager {i + 1}", capacity=10 * n, email=f"{m}@example.com", languages=["en"])
    previous = {"enrolled": "candidate", "candidate": "new", "at_risk": "enrolled", "removed": "at_risk"}
    previous |= {"recovering": "removed", "not_eligible": "candidate", "suspended": "at_risk"}
    events = pd.DataFrame(
        {
            "kind": "transition",
            "idempotency_key": "seed:" + df.seller_id + ":" + df.marketplace_id,
            "actor": "system",
            "seller_id": df.seller_id,
            "marketplace_id": df.marketplace_id,
            "from_state": df.state.map(previous),
            "to_state": df.state,
            "reason_key": df.reason_key,
            "reason_params": df.reason_params,
            "event_date": df.since,
            "occurred_at": [
                datetime.combine(d + timedelta(days=1), datetime.min.time(), UTC) for d in df.since
            ],
        }
    )
    enrolled = df[df.state == "enrolled"]
    held = pd.DataFrame(
        {
            "seller_id": enrolled.seller_id,
            "marketplace_id": enrolled.marketplace_id,
            "benefit": "traffic_support",
            "tier": "top",
        }
    )
    with store.unit_of_work() as s:
        upsert_memberships(s, PROGRAM, df.drop(columns=["odr"]))
        append_events(s, events, program=PROGRAM)
        sync_benefits(s, PROGRAM, held, LAST_EVALUATED)
    users = {"admin": "operator-admin", "viewer": "operator-viewer", "seller": "seller"}
    for login, role in users.items():
        grants = [(SELLER, "*")] if role == "seller" else ()
        accounts.add_user(store, login, password, role=role, actor="test", sellers=grants, policy=policy)
    return Market(df, managers, users)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``cxops serve`` on 127.0.0.1:<free port> over ``store_url``, as a subprocess stopped by its PID.

    Use as a context manager; ``url`` is the base URL, ``log`` the server's output file; ``args`` are
    more options of ``cxops serve`` (e.g. ``("--workers", "2")``).
    """

    def __init__(
        self,
        store_url: str,
        log: Path,
        *,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        args: tuple[str, ...] = (),
    ):
        self.store_url, self.log, self.timeout, self.args = store_url, Path(log), timeout, tuple(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-c", "from cxops.cli import app; app()", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--store", self.store_url, "--log-level", "warning", *self.args]
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cxops serve exited ({self.proc.returncode}): {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2) as r:
                    if r.status == 200 and json.loads(r.read()).get("status"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"cxops serve did not answer in {self.timeout} s: {self.log.read_text()}")
            time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()
