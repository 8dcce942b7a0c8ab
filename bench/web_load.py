"""Benchmark: the web service under load — the seller page, the seller API and the operator list.

Usage::

    .venv/bin/pip install -e '.[dev,bench]'                         # locust
    .venv/bin/python bench/web_load.py --sellers 5000                 # SQLite store, 50 users, 60 s
    .venv/bin/python bench/web_load.py --sellers 100000 --pg postgresql+psycopg://app:pw@127.0.0.1:54329/app

Builds a store migrated to the newest revision (a SQLite file in a temporary folder, or a new schema of
the PostgreSQL database, dropped afterwards) holding a generated marketplace of N sellers
(``tests/_market.py``: memberships over every state, a transition each, benefits, managers) and
``--seller-users`` seller users, each bound to a different seller. Then ``cxops serve`` runs on
127.0.0.1 on a free port (a subprocess with ``--workers`` uvicorn workers, default one, stopped by its
PID) and locust, headless, drives it from this machine with ``--users`` simulated users (bounded concurrency: each waits 0.2–1 s
between requests) for ``--duration`` seconds; it stops by itself. Three of four users are sellers
(reading their page ``GET /sellers/{id}`` and the API ``GET /api/v1/sellers/{id}``), one of four an
operator (listing sellers on the console with filters: a status, a marketplace, a manager, a seller-id
prefix, sorted by since or seller). Each user has a browser session logged in before the load starts
(:func:`cxops.service.auth.login`): a login is an argon2id hash by design, and fifty at once would
measure the hash, not the pages.

Prints p50/p95/p99 (ms), requests, failures and requests/s per kind of request, and writes them to
``bench/results/web_load-<sellers>.json``. The target (issue 12) is p99 under 200 ms and no errors
at 100 k sellers.

This file is also the locustfile (``locust -f bench/web_load.py``); the user classes read the seller
ids and session tokens from the environment the bench sets.
"""

from __future__ import annotations

import os
import random

LOCUST = "LOAD_SELLERS" in os.environ  # imported by locust (the bench sets it), not run as the bench

if LOCUST:
    from locust import HttpUser, between, task

    from cxops.web.security import SESSION_COOKIE

    SELLERS = os.environ["LOAD_SELLERS"].split(",")
    FILTERS = [
        "state=at_risk&sort=since",
        "state=at_risk&marketplace=DE",
        "state=enrolled&marketplace=US&sort=since",
        "manager=m00",
        "q=S0001",
        "state=removed&q=S00",
        "",
    ]

    SESSIONS = os.environ["LOAD_SESSIONS"].split(",")
    OPERATOR_SESSION = os.environ["LOAD_OPERATOR_SESSION"]

    class _LoggedIn(HttpUser):
        """A user with a browser session made before the load starts (logins are argon2id by design:
        50 at once would measure the password hash, not the pages)."""

        abstract = True
        wait_time = between(*(float(x) for x in os.environ.get("LOAD_THINK", "0.2,1.0").split(",")))

        def use_session(self, token: str) -> None:
            self.client.cookies.set(SESSION_COOKIE, token)

    class SellerUser(_LoggedIn):
        weight = 3

        def on_start(self) -> None:
            i = random.randrange(len(SELLERS))
            self.seller = SELLERS[i]
            self.use_session(SESSIONS[i])

        @task(2)
        def page(self) -> None:
            self.client.get(f"/sellers/{self.seller}", name="seller page")

        @task(2)
        def api(self) -> None:
            self.client.get(f"/api/v1/sellers/{self.seller}", name="seller API")

    class OperatorUser(_LoggedIn):
        weight = 1

        def on_start(self) -> None:
            self.use_session(OPERATOR_SESSION)

        @task
        def console(self) -> None:
            query = random.choice(FILTERS)
            self.client.get(f"/console/sellers?{query}", name="operator list (filters)")


def main() -> None:
    import argparse
    import csv
    import json
    import subprocess
    import sys
    import tempfile
    import time
    import uuid
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here.parent / "tests"))
    from _market import PASSWORD as MARKET_PASSWORD
    from _market import Server, seed_market

    from cxops.service import accounts, auth
    from cxops.store import open_store, upgrade

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sellers", type=int, default=5000)
    ap.add_argument("--users", type=int, default=50, help="Simulated users at once (default 50).")
    ap.add_argument("--spawn-rate", type=float, default=10, help="Users started per second.")
    ap.add_argument("--duration", type=int, default=60, help="Seconds of load (default 60).")
    ap.add_argument("--seller-users", type=int, default=50, help="Seller logins, one seller each.")
    ap.add_argument("--pg", help="PostgreSQL URL (a new schema is made and dropped); default SQLite.")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (cxops serve --workers)."
    )
    ap.add_argument(
        "--think",
        default="0.2,1.0",
        help="Seconds a user waits between two requests, MIN,MAX (default 0.2,1.0: a stress pace; "
        "1,5 is a person reading each page).",
    )
    args = ap.parse_args()
    think = tuple(float(x) for x in args.think.split(","))
    if len(think) != 2 or not 0 <= think[0] <= think[1] <= 60:
        ap.error("--think must be MIN,MAX seconds with 0 <= MIN <= MAX <= 60")
    if not 1 <= args.users <= 200 or not 1 <= args.duration <= 600:
        ap.error("--users must be 1–200 and --duration 1–600 s (bounded load)")

    work = Path(tempfile.mkdtemp(prefix="cxops-web-load-"))
    schema, admin = None, None
    if args.pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from cxops.store.db import normalise_url

        base = normalise_url(args.pg)
        schema = f"cxops_load_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        url = url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{work / 'store.sqlite'}"
    try:
        t0 = time.perf_counter()
        store = open_store(url, check=False, must_exist=False)
        upgrade(store)
        market = seed_market(store, n=args.sellers, seed=args.seed)
        rng = random.Random(args.seed)
        sellers = rng.sample(sorted(market.members.seller_id.unique()), min(args.seller_users, args.sellers))
        sessions = []
        for i, s in enumerate(sellers):
            accounts.add_user(
                store, f"seller-{i}", MARKET_PASSWORD, role="seller", actor="bench", sellers=[(s, "*")]
            )
            sessions.append(
                auth.login(store, f"seller-{i}", MARKET_PASSWORD, ip="127.0.0.1", user_agent="bench").token
            )
        operator = auth.login(store, "admin", MARKET_PASSWORD, ip="127.0.0.1", user_agent="bench").token
        store.dispose()
        seeded = time.perf_counter() - t0
        print(
            f"store: {len(market.members):,} memberships, {len(sellers)} seller users in {seeded:.1f} s ({url.split('?')[0].split('@')[-1]})"
        )
        with Server(url, work / "server.log", args=("--workers", str(args.workers))) as server:
            env = {**os.environ, "LOAD_SELLERS": ",".join(sellers), "LOAD_SESSIONS": ",".join(sessions)}
            env["LOAD_OPERATOR_SESSION"] = operator
            env["LOAD_THINK"] = f"{think[0]},{think[1]}"
            cmd = [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(Path(__file__).resolve()),
                "--headless",
                "--host",
                server.url,
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                f"{args.duration}s",
                "--csv",
                str(work / "load"),
                "--only-summary",
                "--stop-timeout",
                "5",
                "--exit-code-on-error",
                "0",
            ]
            warm = _warm_up(server.url, sellers, sessions, operator)
            print(f"warm-up: {warm} requests (templates, caches and connections of every worker)")
            print(f"locust: {args.users} users for {args.duration} s against {server.url}")
            subprocess.run(
                cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=open(work / "locust.log", "w")
            )
        rows = list(csv.DictReader(open(work / "load_stats.csv")))
        results = {
            r["Name"]: {
                "requests": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "p50_ms": float(r["50%"]),
                "p95_ms": float(r["95%"]),
                "p99_ms": float(r["99%"]),
                "rps": round(float(r["Requests/s"]), 1),
            }
            for r in rows
        }
        print(
            f"\n{'request':<26}{'requests':>9}{'failures':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'req/s':>8}"
        )
        for name, r in results.items():
            print(
                f"{name:<26}{r['requests']:>9}{r['failures']:>9}{r['p50_ms']:>8.0f}{r['p95_ms']:>8.0f}{r['p99_ms']:>8.0f}{r['rps']:>8}"
            )
        out = here / "results" / f"web_load-{args.sellers}.json"
        out.parent.mkdir(exist_ok=True)
        meta = {
            "sellers": args.sellers,
            "users": args.users,
            "duration_s": args.duration,
            "store": "postgresql" if args.pg else "sqlite",
            "workers": args.workers,
            "think_s": list(think),
            "seed_s": round(seeded, 1),
            "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        runs = json.loads(out.read_text()) if out.exists() else []
        runs = [runs] if isinstance(runs, dict) else runs  # one run per file before
        out.write_text(json.dumps([*runs, {"run": meta, "results": results}], indent=1))
        print(f"\nwritten: {out}")
    finally:
        if admin is not None:
            from sqlalchemy import text

            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _warm_up(url: str, sellers: list[str], sessions: list[str], operator: str, rounds: int = 10) -> int:
    """Requests of every kind before the measured load, so that it measures a running server, not the
    first request of each worker (templates compiled, connection pool filled: ~170 ms once)."""
    import httpx

    from cxops.web.security import SESSION_COOKIE

    n = 0
    for i in range(rounds):
        seller, token = sellers[i % len(sellers)], sessions[i % len(sessions)]
        with httpx.Client(base_url=url, cookies={SESSION_COOKIE: token}) as c:
            c.get(f"/sellers/{seller}").raise_for_status()
            c.get(f"/api/v1/sellers/{seller}").raise_for_status()
        with httpx.Client(base_url=url, cookies={SESSION_COOKIE: operator}) as c:
            c.get("/console/sellers?state=at_risk&sort=since").raise_for_status()
        n += 3
    return n


if __name__ == "__main__" and not LOCUST:
    main()
