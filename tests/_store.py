"""Test helper: the operations store on SQLite and on a real PostgreSQL.

``store_url`` / ``store`` are parametrized over both backends. PostgreSQL comes from env
``CXOPS_TEST_PG_URL`` (e.g. ``postgresql+psycopg://app:pw@127.0.0.1:54329/app``); each test gets a
schema of its own, dropped afterwards. Without the variable (or without a server answering) the
PostgreSQL cases skip — unless ``CXOPS_REQUIRE_PG=1`` (set by CI), which makes them fail.

Import the fixtures in a test module: ``from _store import store, store_url  # noqa: F401``.
"""

from __future__ import annotations

import functools
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cxops.store import open_store, upgrade
from cxops.store.db import normalise_url

PG_ENV = "CXOPS_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]


@functools.cache
def pg_problem() -> str | None:
    """Why the test PostgreSQL cannot be used, or None."""
    url = os.environ.get(PG_ENV)
    if not url:
        return f"{PG_ENV} is not set"
    try:
        engine = create_engine(normalise_url(url))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as e:  # any failure to reach it is a reason to skip (or fail in CI)
        return f"cannot connect to {make_url(normalise_url(url)).render_as_string()}: {e}"
    return None


def require_pg() -> str:
    """The PostgreSQL URL, or skip (fail under ``CXOPS_REQUIRE_PG=1``) when there is none."""
    problem = pg_problem()
    if problem:
        if os.environ.get("CXOPS_REQUIRE_PG") == "1":
            pytest.fail(f"CXOPS_REQUIRE_PG=1 but PostgreSQL is not usable: {problem}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {problem}")
    return normalise_url(os.environ[PG_ENV])


@pytest.fixture
def pg_schema_url():
    """A URL of the test PostgreSQL whose search path is a new, empty schema (dropped afterwards)."""
    base = require_pg()
    schema = f"cxops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, monkeypatch):
    """An empty store URL: a SQLite file in a temporary folder, or a fresh PostgreSQL schema (whose
    uploaded documents go to the temporary folder, not to ``cxops-documents`` in the working directory)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        monkeypatch.setenv("CXOPS_DOCUMENTS_URL", str(tmp_path / "documents"))
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url):
    """An opened store migrated to the newest revision."""
    s = open_store(store_url, check=False, must_exist=False)
    upgrade(s)
    yield s
    s.dispose()
