"""Settings: the store URL from --store, CXOPS_STORE, or beside the warehouse."""

from __future__ import annotations

import pytest

from cxops.settings import Settings, get_settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("warehouse", "expected"),
    [
        (None, "sqlite:///cxops-store.sqlite"),
        ("data/shop.duckdb", "sqlite:///data/shop-store.sqlite"),
        ("duckdb:///srv/cx/main.duckdb", "sqlite:////srv/cx/main-store.sqlite"),
        ("memory", "sqlite:///cxops-store.sqlite"),
        ("pyspark:", "sqlite:///cxops-store.sqlite"),
        ("spark://host:7077", "sqlite:///cxops-store.sqlite"),
    ],
)
def test_default_store_sits_beside_the_warehouse(monkeypatch, warehouse, expected):
    monkeypatch.delenv("CXOPS_STORE", raising=False)
    monkeypatch.delenv("CXOPS_WAREHOUSE", raising=False)
    assert Settings(warehouse=warehouse).store_url() == expected


def test_option_beats_environment_and_a_path_is_sqlite(monkeypatch):
    monkeypatch.setenv("CXOPS_STORE", "postgresql://app@db/app")
    monkeypatch.setenv("CXOPS_WAREHOUSE", "w.duckdb")
    assert get_settings().store_url() == "postgresql://app@db/app"
    assert get_settings(store="ops.sqlite").store_url() == "sqlite:///ops.sqlite"
    assert get_settings(store=None).warehouse_url() == "w.duckdb"
