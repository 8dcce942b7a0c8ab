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
