"""Authentication: argon2id hashes (and rehash on login), lockout and per-address limits, sessions
(cookie flags, expiry, logout), CSRF on every form and cookie-authenticated API call, API tokens
(hashed, revocable, expiring), and the audit trail of logins — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from _web import FAST, PASSWORD, SELLER_A, make_web, web  # noqa: F401
from argon2 import PasswordHasher
from sqlalchemy import text

from cxops.errors import AuthenticationError, ConflictError, InputError, RateLimitedError
from cxops.service import accounts, auth, passwords
from cxops.service.auth import AuthPolicy

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _rows(store, sql: str):
    with store.unit_of_work(write=False) as s:
        return s.execute(text(sql)).all()


# -- passwords -------------------------------------------------------------------------------------


def test_passwords_are_argon2id_with_the_rfc_9106_parameters_and_verify():
    h = passwords.hash_password("a long enough password")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(h, "a long enough password")
    assert not passwords.verify_password(h, "a long enough passwore")
    assert not passwords.verify_password("not a hash", "x")
    assert passwords.hash_password("same") != passwords.hash_password("same")  # salted
    assert not passwords.needs_rehash(h) and passwords.needs_rehash(passwords.hash_password("x", FAST.hasher))


@pytest.mark.parametrize(
    "bad, why",
    [("short", "too short"), ("x" * 1025, "too long"), ("Someone-Long-Name", "must not be the login")],
)
def test_password_rules(bad, why):
    with pytest.raises(InputError, match=why):
        passwords.check_password(bad, "someone-long-name")


def test_login_rehashes_a_password_hashed_with_old_parameters(store):
    accounts.add_user(store, "old", PASSWORD, role="operator-viewer", actor="t", policy=FAST)
    before = _rows(store, "SELECT password_hash FROM users WHERE login = 'old'")[0][0]
    assert before.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    result = auth.login(store, "OLD ", PASSWORD, ip="10.0.0.1")  # the default (current) parameters
    after = _rows(store, "SELECT password_hash FROM users WHERE login = 'old'")[0][0]
    assert result.rehashed and after.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(after, PASSWORD)
    assert not auth.login(store, "old", PASSWORD, ip="10.0.0.1").rehashed  # once is enough


# -- lockout -----------------------------------------------------------------------------------------


def _fail(store, login, at, ip="10.0.0.1", policy=FAST):
    with pytest.raises(AuthenticationError, match="wrong login or password"):
        auth.login(store, login, "wrong password!", ip=ip, now=at, policy=policy)


def test_five_failures_in_fifteen_minutes_lock_the_login_for_fifteen_minutes(store):
    accounts.add_user(store, "ann", PASSWORD, role="operator-admin", actor="t", policy=FAST)
    for i in range(5):
        _fail(store, "ann", T0 + timedelta(minutes=i))
    locked_at = T0 + timedelta(minutes=4)
    with pytest.raises(RateLimitedError) as e:  # the right password does not help while locked
        auth.login(store, "ann", PASSWORD, ip="10.0.0.2", now=locked_at + timedelta(minutes=14), policy=FAST)
    assert e.value.retry_after == 60 and e.value.http_status == 429
    # refused attempts do not extend the lock
    with pytest.raises(RateLimitedError):
        auth.login(
            store,
            "ann",
            "wrong",
            ip="10.0.0.2",
            now=locked_at + timedelta(minutes=14, seconds=30),
            policy=FAST,
        )
    assert auth.login(
        store, "ann", PASSWORD, ip="10.0.0.2", now=locked_at + timedelta(minutes=15), policy=FAST
    )
    users = {u.login: u for u in accounts.list_users(store)}
    assert users["ann"].locked_until is None
    kinds = [k for (k,) in _rows(store, "SELECT kind FROM events WHERE actor = 'ann' ORDER BY id")]
    assert kinds == ["login_failed"] * 5 + ["login_locked", "login_refused", "login_refused", "login"]


def test_failures_spread_over_more_than_the_window_or_broken_by_a_success_do_not_lock(store):
    accounts.add_user(store, "bob", PASSWORD, role="operator-admin", actor="t", policy=FAST)
    for i in range(4):
        _fail(store, "bob", T0 + timedelta(minutes=i))
    auth.login(store, "bob", PASSWORD, ip="10.0.0.1", now=T0 + timedelta(minutes=5), policy=FAST)
    for i in range(4):
        _fail(store, "bob", T0 + timedelta(minutes=6 + i))
    assert auth.login(store, "bob", PASSWORD, ip="10.0.0.1", now=T0 + timedelta(minutes=11), policy=FAST)
    for i in range(4):  # 4 failures, then 1 more 16 minutes after the first: only 4 inside any window
        _fail(store, "bob", T0 + timedelta(minutes=20 + i))
    _fail(store, "bob", T0 + timedelta(minutes=36))
    assert auth.login(store, "bob", PASSWORD, ip="10.0.0.1", now=T0 + timedelta(minutes=37), policy=FAST)


def test_an_unknown_login_locks_like_a_real_one(store):
    for i in range(5):
        _fail(store, "nobody", T0 + timedelta(minutes=i))
    with pytest.raises(RateLimitedError, match="too many failed logins for this name"):
        auth.login(store, "nobody", "whatever", ip="10.0.0.1", now=T0 + timedelta(minutes=5), policy=FAST)


def test_an_address_with_too_many_failures_is_refused_even_for_a_good_password(store):
    policy = AuthPolicy(hasher=FAST.hasher, ip_max_failures=6)
    accounts.add_user(store, "cid", PASSWORD, role="operator-admin", actor="t", policy=FAST)
    for i in range(6):  # spraying: a different name each time, no name reaches its own limit
        _fail(store, f"name{i}", T0 + timedelta(minutes=i), ip="192.0.2.9", policy=policy)
    with pytest.raises(RateLimitedError, match="from this address") as e:
        auth.login(store, "cid", PASSWORD, ip="192.0.2.9", now=T0 + timedelta(minutes=6), policy=policy)
    assert e.value.retry_after == 9 * 60  # the oldest of the 6 leaves the 15-minute window at T0+15
    assert auth.login(store, "cid", PASSWORD, ip="198.51.100.1", now=T0 + timedelta(minutes=6), policy=policy)


def test_a_password_reset_lifts_a_lockout_and_ends_sessions(store):
    accounts.add_user(store, "dee", PASSWORD, role="operator-admin", actor="t", policy=FAST)
    now = datetime.now(UTC)
    session = auth.login(store, "dee", PASSWORD, ip="10.0.0.1", policy=FAST, now=now - timedelta(minutes=1))
    for i in range(5):
        _fail(store, "dee", now - timedelta(seconds=50 - i))
    assert {u.login: u for u in accounts.list_users(store)}["dee"].locked_until is not None
    accounts.reset_password(store, "dee", "a brand new password", actor="admin", policy=FAST)
    assert auth.session_principal(store, session.token, policy=FAST) is None
    assert auth.login(store, "dee", "a brand new password", ip="10.0.0.1", policy=FAST)


def test_lockout_through_the_login_page(web):  # noqa: F811
    c = web.client()
    for _ in range(5):
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post("/login", data={"login": "admin", "password": "wrong!", "csrf_token": token})
        assert r.status_code == 401 and "Wrong login or password." in r.text
    page = c.get("/login", headers={"Accept-Language": "zh-CN"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post(
        "/login",
        data={"login": "admin", "password": PASSWORD, "csrf_token": token},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 429 and "失败次数过多，请 15 分钟后再试" in r.text
    assert 14 * 60 < int(r.headers["retry-after"]) <= 15 * 60


# -- sessions and cookies ------------------------------------------------------------------------------


def _cookie(response, name):
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def _login_response(client, login="admin", headers=None):
    page = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_session_cookie_flags_and_the_store_keeps_only_its_hash(web):  # noqa: F811
    r = _login_response(web.client())
    cookie = _cookie(r, "cxops_session")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 256 bits
    ids = [i for (i,) in _rows(web.store, "SELECT id FROM web_sessions")]
    assert hashlib.sha256(token.encode()).hexdigest() in ids and token not in ids


@pytest.mark.parametrize(
    "settings, headers, secure",
    [
        ({"secure_cookies": True}, {}, True),
        ({}, {"X-Forwarded-Proto": "https"}, False),  # an untrusted client cannot claim HTTPS
        ({"trust_proxy": True, "forwarded_allow_ips": "*"}, {"X-Forwarded-Proto": "https"}, True),
        ({"trust_proxy": True, "forwarded_allow_ips": "*"}, {}, False),
    ],
)
def test_cookies_are_secure_behind_https(store, settings, headers, secure):
    w = make_web(store, **settings)
    try:
        c = w.client()
        c.cookies.set("cxops_login_csrf", "t" * 43)  # as GET /login would set it (Secure: not sent over http)
        r = c.post(
            "/login",
            data={"login": "admin", "password": PASSWORD, "csrf_token": "t" * 43},
            headers=headers,
            follow_redirects=False,
        )
        assert ("Secure" in _cookie(r, "cxops_session")) is secure
        if settings.get("secure_cookies"):
            assert r.headers["strict-transport-security"].startswith("max-age=")
    finally:
        w.close()


def test_sessions_end_when_idle_at_their_maximum_and_at_logout(web):  # noqa: F811
    result = auth.login(web.store, "viewer", PASSWORD, ip="10.0.0.1", policy=FAST, now=T0)
    t = result.token
    assert auth.session_principal(web.store, t, policy=FAST, now=T0 + timedelta(hours=1, minutes=59))
    assert auth.session_principal(web.store, t, policy=FAST, now=T0 + timedelta(hours=3, minutes=58))  # used
    assert auth.session_principal(web.store, t, policy=FAST, now=T0 + timedelta(hours=6)) is None  # idle 2 h
    fresh = auth.login(web.store, "viewer", PASSWORD, ip="10.0.0.1", policy=FAST, now=T0)
    for h in range(1, 12):  # used every hour, still ends 12 hours after login
        assert auth.session_principal(web.store, fresh.token, policy=FAST, now=T0 + timedelta(hours=h))
    assert auth.session_principal(web.store, fresh.token, policy=FAST, now=T0 + timedelta(hours=12)) is None

    c = web.login("viewer")
    assert c.get("/api/v1/me").json()["login"] == "viewer"
    r = c.post("/logout", data={"csrf_token": c.csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert 'cxops_session=""' in _cookie(r, "cxops_session")
    assert c.get("/api/v1/me").status_code == 401
    kinds = [k for (k,) in _rows(web.store, "SELECT kind FROM events WHERE actor = 'viewer' ORDER BY id")]
    assert kinds[-2:] == ["login", "logout"]


def test_login_goes_on_to_a_local_next_page_only(web):  # noqa: F811
    c = web.client()
    r = c.get("/console/sellers?state=at_risk", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Fconsole%2Fsellers%3Fstate%3Dat_risk"
    for target, expected in (
        ("/console/sellers?state=at_risk", "/console/sellers?state=at_risk"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil", "/"),
    ):
        c = web.client()
        page = c.get("/login", params={"next": target})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post(
            "/login",
            data={"login": "admin", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )
        assert r.headers["location"] == expected


# -- CSRF ----------------------------------------------------------------------------------------------


def test_every_form_needs_the_sessions_csrf_token(web):  # noqa: F811
    admin = web.login("admin")
    other = web.login("viewer")
    url = f"/console/sellers/{SELLER_A}/DE/notes"
    for data in (
        {"text": "x"},
        {"text": "x", "csrf_token": "forged"},
        {"text": "x", "csrf_token": other.csrf},
    ):
        r = admin.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
    r = admin.post(url, data={"text": "called the seller", "csrf_token": admin.csrf}, follow_redirects=False)
    assert r.status_code == 303
    api = f"/api/v1/sellers/{SELLER_A}/marketplaces/DE/notes"
    r = admin.post(api, json={"text": "x"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert admin.post(api, json={"text": "x"}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert admin.post(api, json={"text": "via htmx"}, headers={"X-CSRF-Token": admin.csrf}).status_code == 201
    token = web.client(headers={"Authorization": f"Bearer {web.token('operator-admin')}"})
    assert token.post(api, json={"text": "a machine needs no CSRF token"}).status_code == 201


def test_the_login_form_has_its_own_csrf_token(web):  # noqa: F811
    c = web.client()
    r = c.post(
        "/login", data={"login": "admin", "password": PASSWORD, "csrf_token": "x"}, follow_redirects=False
    )
    assert r.status_code == 403 and "cxops_session" not in r.headers.get("set-cookie", "")
    page = c.get("/login")
    assert "HttpOnly" in _cookie(page, "cxops_login_csrf")


# -- API tokens ------------------------------------------------------------------------------------------


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(web):  # noqa: F811
    info, secret = accounts.create_token(
        web.store, "bi-export", role="seller", actor="admin", sellers=[(SELLER_A, "US")]
    )
    assert secret.startswith("cxops_") and len(secret) > 40
    stored = _rows(web.store, "SELECT * FROM api_tokens")
    assert all(secret not in map(str, row) for row in stored)
    assert hashlib.sha256(secret.encode()).hexdigest() in {r.token_hash for r in stored}
    c = web.client(headers={"Authorization": f"Bearer {secret}"})
    me = c.get("/api/v1/me").json()
    assert me == {
        "kind": "token",
        "login": "token:bi-export",
        "name": None,
        "role": "seller",
        "language": None,
        "sellers": [{"seller_id": SELLER_A, "marketplace_id": "US"}],
    }
    accounts.revoke_token(web.store, info.prefix[:9], actor="admin")
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    with pytest.raises(ConflictError, match="revoked already"):
        accounts.revoke_token(web.store, str(info.id), actor="admin")
    listed = {t.id: t for t in accounts.list_tokens(web.store)}
    assert not listed[info.id].active and listed[info.id].revoked_at is not None
    kinds = [k for (k,) in _rows(web.store, "SELECT kind FROM events WHERE kind LIKE 'token%' ORDER BY id")]
    assert kinds == ["token_created", "token_revoked"]


def test_expired_malformed_and_unknown_tokens_are_refused(web):  # noqa: F811
    info, secret = accounts.create_token(
        web.store, "short", role="operator-viewer", actor="a", expires_days=1
    )
    c = web.client()
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    with web.store.unit_of_work() as s:
        s.execute(
            text("UPDATE api_tokens SET expires_at = :t WHERE id = :i"),
            {"t": datetime(2020, 1, 1), "i": info.id},
        )
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    for header in ("Bearer cxops_nope", "Basic YWRtaW46eA==", "Bearer", "Bearer " + "x" * 300):
        r = c.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401, header


# -- users -------------------------------------------------------------------------------------------------


def test_user_rules_and_the_audit_of_user_changes(store):
    with pytest.raises(InputError, match="needs at least one --seller"):
        accounts.add_user(store, "s", PASSWORD, role="seller", actor="t", policy=FAST)
    with pytest.raises(InputError, match="sees every seller"):
        accounts.add_user(store, "o", PASSWORD, role="operator-viewer", actor="t", sellers=[("S1", "*")])
    with pytest.raises(InputError, match="unknown role"):
        accounts.add_user(store, "o", PASSWORD, role="root", actor="t")
    with pytest.raises(InputError, match="not a login"):
        accounts.add_user(store, "two words", PASSWORD, role="operator-viewer", actor="t")
    assert accounts.parse_grant("S1:US") == ("S1", "US") and accounts.parse_grant("S1") == ("S1", "*")
    with pytest.raises(InputError):
        accounts.parse_grant(":US")
    u = accounts.add_user(
        store,
        "Eve",
        PASSWORD,
        role="seller",
        actor="root",
        sellers=[("S1", "US"), ("S2", "*")],
        language="zh-CN",
        policy=FAST,
    )
    assert (u.login, u.language, u.grants) == ("eve", "zh", (("S1", "US"), ("S2", "*")))
    with pytest.raises(ConflictError):
        accounts.add_user(store, "EVE", PASSWORD, role="operator-viewer", actor="t", policy=FAST)
    session = auth.login(store, "eve", PASSWORD, ip="10.0.0.1", policy=FAST)
    accounts.remove_user(store, "eve", actor="root")
    assert auth.session_principal(store, session.token, policy=FAST) is None
    assert [u.login for u in accounts.list_users(store)] == []
    rows = _rows(store, "SELECT kind, actor FROM events ORDER BY id")
    assert [tuple(r) for r in rows] == [("user_added", "root"), ("login", "eve"), ("user_removed", "root")]


def test_a_default_hasher_login_takes_real_work():
    """The default parameters are the costly ones (64 MiB): a guard against a test hasher leaking out."""
    assert isinstance(passwords.DEFAULT_HASHER, PasswordHasher)
    assert (passwords.DEFAULT_HASHER.memory_cost, passwords.DEFAULT_HASHER.time_cost) == (65536, 3)
    assert AuthPolicy().hasher is passwords.DEFAULT_HASHER
