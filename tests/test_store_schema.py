"""The store's schema: migrations up and down on SQLite and PostgreSQL, models equal to migrations,
the event log append-only in the database itself, and refusing stores at the wrong revision."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from cxops.errors import NotFoundError, StoreError
from cxops.store import append_events, downgrade, head, open_store, upgrade
from cxops.store import current as current_revision
from cxops.store.models import Base

TABLES = {
    "account_managers", "actions", "benefits", "events", "job_locks", "manager_assignments",
    "memberships", "notes", "runs",
    # the web (0002)
    "users", "user_sellers", "web_sessions", "api_tokens", "api_token_sellers", "login_attempts",
    # notifications (0003)
    "notify_contacts", "webhook_endpoints", "outbox", "outbox_attempts",
    # cases and documents (0004)
    "cases", "case_status_changes", "case_entries", "case_files", "documents",
    # alerts of the daily job (0005)
    "alerts",
}  # fmt: skip


def _tables(s) -> set[str]:
    with s.engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def test_empty_database_to_head_and_back_to_base(store_url):
    s = open_store(store_url, check=False, must_exist=False)
    try:
        assert current_revision(s) is None and _tables(s) == set()
        assert upgrade(s) == (None, head())
        assert _tables(s) == TABLES
        assert downgrade(s, "base") == (head(), None)
        assert _tables(s) == set()
        # and up again: the downgrade removed everything the upgrade made (functions, triggers)
        upgrade(s)
        assert _tables(s) == TABLES
    finally:
        s.dispose()


def test_models_match_the_migrations(store):
    dialect = store.engine.dialect.name

    def made_here(obj, name, type_, reflected, compare_to):
        """An index the model makes on one dialect only (``Index.ddl_if``) is compared there only."""
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect in (None, dialect)

    opts = {"compare_type": True, "include_object": made_here}
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == []
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("memberships")}
    assert ("ix_memberships_seller_prefix" in indexes) == (dialect == "postgresql")


def _event(key: str) -> dict:
    return {"kind": "note", "idempotency_key": key, "actor": "ana", "seller_id": "S1",
            "marketplace_id": "US", "program": "p",
            "occurred_at": datetime(2026, 11, 1, tzinfo=UTC)}  # fmt: skip


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"])
def test_event_log_refuses_update_and_delete_in_the_database(store, statement):
    with store.unit_of_work() as session:
        append_events(session, pd.DataFrame([_event("k1"), _event("k2")]))
    with pytest.raises(DatabaseError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text(statement))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(actor) FROM events")).one() == (2, "ana")


def test_event_log_refuses_truncate_on_postgresql(store):
    if store.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    with store.unit_of_work() as session:
        append_events(session, pd.DataFrame([_event("k1")]))
    with pytest.raises(DatabaseError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE events"))


def test_repository_has_no_way_to_change_events():
    import cxops.store.events as ev

    public = {n for n in dir(ev) if not n.startswith("_") and callable(getattr(ev, n))}
    assert not {n for n in public if n.startswith(("update", "delete", "remove", "edit"))}


def test_store_not_migrated_or_missing_is_refused_with_a_hint(store_url, tmp_path):
    with pytest.raises(NotFoundError, match="not found") as e:
        open_store(f"sqlite:///{tmp_path / 'nope.sqlite'}")
    assert "cxops store upgrade" in e.value.hint
    with pytest.raises(NotFoundError, match="not initialised"):
        open_store(store_url, must_exist=False)


def test_store_at_unknown_revision_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zzzz'"))
    with pytest.raises(StoreError, match="unknown to this cxops"):
        open_store(store.url if store.dialect == "sqlite" else str(store.engine.url.render_as_string(False)))


def test_unreachable_postgresql_is_a_store_error():
    with pytest.raises(StoreError, match="cannot open store"):
        open_store("postgresql://nobody:x@127.0.0.1:1/none")


def test_missing_postgresql_fails_instead_of_skipping_when_required(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "CXOPS_TEST_PG_URL"} | {"CXOPS_REQUIRE_PG": "1"}
    here = Path(__file__)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"{here}::test_models_match_the_migrations",
    ]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=here.parents[1], timeout=300)
    assert res.returncode == 1, res.stdout
    assert (
        "1 passed, 1 error" in res.stdout and "CXOPS_REQUIRE_PG=1 but PostgreSQL is not usable" in res.stdout
    )
    env.pop("CXOPS_REQUIRE_PG")
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=here.parents[1], timeout=300)
    assert res.returncode == 0 and "1 passed, 1 skipped" in res.stdout, res.stdout
