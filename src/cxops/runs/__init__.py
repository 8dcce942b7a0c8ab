"""Persisted evaluation runs: results written to the warehouse and read back.

Public API::

    from cxops.runs import RunRecord, find_run, find_resumable, list_runs, commit_run, policy_hash
    from cxops.runs import data_fingerprint, Fingerprint
"""

from cxops.runs.fingerprint import Fingerprint, data_fingerprint
from cxops.runs.store import (
    PARTS,
    REGISTRY,
    RunRecord,
    commit_run,
    drop_orphans,
    find_resumable,
    find_run,
    list_runs,
    new_run_id,
    policy_hash,
    table_name,
)

__all__ = [
    "PARTS",
    "REGISTRY",
    "Fingerprint",
    "RunRecord",
    "commit_run",
    "data_fingerprint",
    "drop_orphans",
    "find_resumable",
    "find_run",
    "list_runs",
    "new_run_id",
    "policy_hash",
    "table_name",
]
