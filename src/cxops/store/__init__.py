"""The operations store: program state that must survive between days (SQLAlchemy 2 + Alembic).

SQLite by default (a file beside the warehouse), PostgreSQL in production; the same code and
migrations on both. Engines are built by :func:`open_store` from a URL (see
:class:`cxops.settings.Settings`), never at import time.

For the daily job::

    from cxops import store as st

    s = st.open_store(url)                            # refuses a store not at the newest migration
    with st.JobLock(s, f"daily:{program}") as lock:   # a second job gets ConflictError
        with s.unit_of_work() as session:             # a short transaction: the run is visible
            st.abandon_running(session, program)      # runs a killed job left "running"
            run_id = st.start_run(session, program, as_of, name, version, st.policy_hash(toml_text))
        try:
            with s.unit_of_work() as session:         # one transaction: all or nothing
                members = st.load_memberships(session, program)         # one DataFrame, all sellers
                todo = st.pending_actions(session, upto, program=program)
                ...                                   # advance the lifecycle in array operations
                st.upsert_memberships(session, program, changed, run_id=run_id)
                st.append_events(session, events, program=program, run_id=run_id)
                st.sync_benefits(session, program, held, as_of, run_id=run_id)
                st.apply_manager_actions(session, program, upto=upto, run_id=run_id)
                st.mark_applied(session, applied_ids, run_id=run_id)
                lock.assert_held(session)             # still ours: commit
                st.finish_run(session, run_id, counts=..., timings=...)
        except Exception as e:
            with s.unit_of_work() as session:
                st.fail_run(session, run_id, str(e))
            raise

Modules: ``models`` (tables), ``migrate`` (Alembic), ``db`` (engine, unit of work), ``bulk``
(set-based writes), one repository module per table group, ``lock`` (the job lease).
"""

from cxops.store import cases, documents, notify_models  # noqa: F401  (register the tables of 0003, 0004)
from cxops.store.actions import (
    apply_manager_actions,
    cancel_action,
    create_action,
    find_action,
    mark_applied,
    mark_rejected,
    pending_actions,
)
from cxops.store.benefits import BenefitChanges, load_benefits, sync_benefits
from cxops.store.db import Store, create_store_engine, open_store
from cxops.store.events import EVENT_COLUMNS, append_events, load_events, record_event
from cxops.store.lock import JobLock, current_lock
from cxops.store.managers import (
    add_manager,
    assign,
    assignment_history,
    get_manager,
    list_managers,
    open_assignments,
)
from cxops.store.memberships import MEMBERSHIP_COLUMNS, get_membership, load_memberships, upsert_memberships
from cxops.store.migrate import check_current, current, downgrade, head, upgrade
from cxops.store.notes import add_note, list_notes
from cxops.store.runs import (
    abandon_running,
    fail_run,
    finish_run,
    last_run,
    list_runs,
    policy_hash,
    start_run,
)

__all__ = [
    "EVENT_COLUMNS",
    "MEMBERSHIP_COLUMNS",
    "BenefitChanges",
    "JobLock",
    "Store",
    "abandon_running",
    "add_manager",
    "add_note",
    "append_events",
    "apply_manager_actions",
    "assign",
    "assignment_history",
    "cancel_action",
    "check_current",
    "create_action",
    "create_store_engine",
    "current",
    "current_lock",
    "downgrade",
    "fail_run",
    "find_action",
    "finish_run",
    "get_manager",
    "get_membership",
    "head",
    "last_run",
    "list_managers",
    "list_notes",
    "list_runs",
    "load_benefits",
    "load_events",
    "load_memberships",
    "mark_applied",
    "mark_rejected",
    "open_assignments",
    "open_store",
    "pending_actions",
    "policy_hash",
    "record_event",
    "start_run",
    "sync_benefits",
    "upgrade",
    "upsert_memberships",
]
