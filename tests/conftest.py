"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["_store"]  # store / store_url fixtures: SQLite and PostgreSQL


def shared_data_dir() -> Path:
    """The shared data folder: env ``CXOPS_SHARED_DATA``, else ``shared/data`` beside the repository."""
    env = os.environ.get("CXOPS_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Path of the shared data folder; skips the test when it is absent (it is not part of the repo)."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set CXOPS_SHARED_DATA to its location)")
    return path


# -- test tiers ------------------------------------------------------------------------------------
# ``unit``: no warehouse, no server, no subprocess (the fast loop: ``pytest -q -m "unit and not slow"``);
# ``integration``: a DuckDB warehouse, a store database or files on disk; ``e2e``: the command line or
# a whole job end to end; ``slow``: more than ~20 s (Spark, the demo, real data). A module can declare
# its own with ``pytestmark``; otherwise the table below applies, and a module not listed is
# ``integration``.
_TIERS = {
    "test_amazon_decode": ("unit",),
    "test_amazon_fuzz": ("integration", "slow"),
    "test_lifecycle_batch": ("unit",),
    "test_lifecycle_machine": ("unit",),
    "test_lifecycle_replay": ("unit",),
    "test_policy_evaluate": ("unit",),
    "test_policy_gap": ("unit",),
    "test_policy_load": ("unit",),
    "test_report": ("unit",),
    "test_report_explain": ("unit",),
    "test_report_html": ("unit",),
    "test_housekeeping": ("unit",),
    "test_cli": ("e2e",),
    "test_demo": ("e2e", "slow"),
    "test_report_pipeline": ("e2e",),
    "test_olist_real": ("e2e", "slow"),
    "test_spark_parity": ("integration", "slow"),
}
_TIER_NAMES = ("unit", "integration", "e2e")
#: Single tests over ~20 s in a module that is otherwise fast.
_SLOW = {"test_array_replay_equals_per_seller_machine"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.originalname in _SLOW:
            item.add_marker(pytest.mark.slow)
        if any(item.get_closest_marker(t) for t in _TIER_NAMES):
            continue
        module = item.module.__name__.rpartition(".")[2] if item.module else ""
        for tier in _TIERS.get(module, ("integration",)):
            item.add_marker(getattr(pytest.mark, tier))
