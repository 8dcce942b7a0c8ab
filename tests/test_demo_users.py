"""Demo users: created with generated passwords that work (logged in through the web), replaced on a
second demo run, the seller bound to the demo seller picked by state — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from _store import store, store_url  # noqa: F401
from _web import CSRF_RE, FAST
from fastapi.testclient import TestClient

from cxops.errors import NotFoundError
from cxops.service import accounts
from cxops.service.demo_users import create_demo_users, pick_demo_seller
from cxops.web import create_app
from cxops.web.config import web_settings


def test_pick_demo_seller_prefers_an_enrolled_one():
    rows = [("S9", "not_eligible"), ("S5", "at_risk"), ("S7", "enrolled"), ("S2", "enrolled")]
    assert pick_demo_seller(rows) == "S2"
    assert pick_demo_seller([("S9", "not_eligible"), ("S3", "candidate")]) == "S3"
    with pytest.raises(NotFoundError):
        pick_demo_seller([])


def _login(app, login, password) -> int:
    with TestClient(app) as c:
        token = CSRF_RE.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"login": login, "password": password, "csrf_token": token, "next": "/"},
                   follow_redirects=False)  # fmt: skip
        return r.status_code


def test_demo_users_log_in_and_are_replaced_on_a_second_run(store):  # noqa: F811
    first = create_demo_users(store, "S2", policy=FAST)
    assert [(u.login, u.role, u.seller_id) for u in first] == [
        ("demo-admin", "operator-admin", None),
        ("demo-viewer", "operator-viewer", None),
        ("demo-seller", "seller", "S2"),
    ]
    assert len({u.password for u in first}) == 3 and all(len(u.password) == 20 for u in first)
    second = create_demo_users(store, "S7", policy=FAST)
    users = {u.login: u for u in accounts.list_users(store)}
    assert set(users) == {"demo-admin", "demo-viewer", "demo-seller"}
    assert users["demo-seller"].grants == (("S7", "*"),)
    app = create_app(web_settings(store=store.url), store=store, policy=FAST)
    for old, new in zip(first, second, strict=True):
        assert old.password != new.password
        assert _login(app, new.login, new.password) == 303
        assert _login(app, old.login, old.password) != 303  # the first run's password no longer works


@pytest.mark.integration
def test_cxops_demo_prints_users_that_log_in(tmp_path, monkeypatch):
    import re

    from typer.testing import CliRunner

    from cxops.cli import app
    from cxops.service.stores import open_configured

    for name in ("CXOPS_STORE", "CXOPS_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["demo", "--sellers", "30", "--days", "120", "--out", str(out)])
    assert res.exit_code == 0, res.output
    found = dict(re.findall(r"(demo-(?:admin|viewer|seller))\s+│\s+\S+\s+│\s+(\S{20})", res.output))
    assert set(found) == {"demo-admin", "demo-viewer", "demo-seller"}, res.output
    s = open_configured(warehouse=str(out / "demo.duckdb"))
    try:
        app_ = create_app(web_settings(store=s.url), store=s)
        assert _login(app_, "demo-admin", found["demo-admin"]) == 303
    finally:
        s.dispose()
