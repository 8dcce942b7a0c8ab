"""Tenant isolation, for every route of the app — found by walking ``app.routes``, so a route added
later is covered without a new test.

For each route: it declares one access rule (public, or a principal; a seller-scoped one when its
path names a seller; the administrator role when it changes anything); an anonymous request is
refused (401 problem for the API, a redirect to the login page for pages); a seller asking for
another seller's resource gets 404 — the same answer as for a seller that does not exist, never a
403 — and no page or answer shows a seller user anything of another seller; a viewer (session or
token) cannot act (403); the URLs the test builds are real (an administrator gets 200 on every GET).
"""

from __future__ import annotations

import pytest
from _web import PROGRAM, SECRET_REASON, SELLER_A, SELLER_B, web  # noqa: F401

from cxops.web.app import route_table
from cxops.web.deps import current_principal, get_store, public, seller_scope

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Unsafe routes any logged-in person may call on themselves (not acting on program state).
SELF_SERVICE = {("POST", "/logout")}
#: Unsafe routes that only compute on the posted body and change nothing (the message check): any
#: logged-in person who may see the path may call them (a session still sends its CSRF token).
COMPUTE_ONLY = {("POST", "/api/v1/check-message"), ("POST", "/sellers/{seller_id}/message-check")}
#: Public routes that change something (the login form: checked by its own CSRF token and lockout).
PUBLIC_UNSAFE = {("POST", "/login")}
NOBODY = "S-NO-SUCH-SELLER"


def _calls(dependant) -> list:
    out = []
    for d in dependant.dependencies:
        out.append(d.call)
        out.extend(_calls(d))
    return out


def _routes(app):
    out = []
    for methods, path, dependant in route_table(app):
        if dependant is None:
            assert path == "/static", f"unexpected mount {path}: only /static (vendored assets) is public"
            continue
        for method in sorted(methods - {"HEAD"}):
            out.append((method, path, _calls(dependant)))
    assert len(out) >= 25, out  # the test must see the app's routes, not an empty list
    return out


def _roles(calls) -> set[str] | None:
    roles = [c.required_roles for c in calls if hasattr(c, "required_roles")]
    return set.intersection(*map(set, roles)) if roles else None


def _url(path: str, seller: str, ids) -> str:
    """The route's URL for ``seller`` (another seller's ids for one that does not exist: B's)."""
    k = "a" if seller == SELLER_A else "b"
    return path.format(
        seller_id=seller,
        marketplace_id="US",
        action_id=ids[f"action_{k}"],
        case_id=ids[f"case_{k}"],
        contact_id=ids[f"contact_{k}"],
        document_id=ids.get(f"document_{k}", 1),
    )


def _seller_act(calls) -> bool:
    """The route is a seller's own request (SellerActDep: the seller or an administrator)."""
    return _roles(calls) == {"operator-admin", "seller"}


def _send(client, method, url, *, csrf=None, headers=None):
    headers = dict(headers or {})
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False)
    if url.startswith("/api/"):
        if csrf:
            headers["X-CSRF-Token"] = csrf
        return client.request(method, url, json={}, headers=headers, follow_redirects=False)
    return client.request(
        method, url, data={"csrf_token": csrf} if csrf else {}, headers=headers, follow_redirects=False
    )


def test_every_route_declares_its_access_rule(web):  # noqa: F811
    for method, path, calls in _routes(web.app):
        is_public = public in calls
        authed = current_principal in calls
        assert is_public != authed, (
            f"{method} {path}: declare exactly one of public() or a principal dependency"
        )
        if is_public:
            assert method not in UNSAFE or (method, path) in PUBLIC_UNSAFE, (
                f"{method} {path}: public and unsafe"
            )
            continue
        if "{seller_id}" in path:
            assert seller_scope in calls, f"{method} {path}: a seller's route must declare SellerScope"
        if (method, path) in COMPUTE_ONLY:
            assert method in UNSAFE and get_store not in calls, f"{method} {path}: computes only, no store"
            continue
        if method in UNSAFE and (method, path) not in SELF_SERVICE:
            if _seller_act(calls):  # a seller's own request: only on a seller's path
                assert "{seller_id}" in path, f"{method} {path}: SellerActDep needs a seller-scoped path"
                continue
            assert _roles(calls) == {"operator-admin"}, f"{method} {path}: changing state needs AdminDep"


@pytest.mark.parametrize("backend_check", ["anonymous", "seller", "viewer", "admin"])
def test_every_route_isolates_tenants(web, backend_check):  # noqa: F811
    routes = [(m, p, c) for m, p, c in _routes(web.app) if public not in c]
    if backend_check == "anonymous":
        anon = web.client()
        for method, path, _ in routes:
            r = _send(anon, method, _url(path, SELLER_B, web.ids))
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.headers.get("www-authenticate", "").startswith("Bearer")
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
    elif backend_check == "seller":
        for client, csrf in _seller_clients(web):
            for method, path, calls in routes:
                if (method, path) in SELF_SERVICE:
                    continue  # logging out ends the session the loop uses (tested in test_web_auth)
                r = _send(client, method, _url(path, SELLER_B, web.ids), csrf=csrf)
                assert SECRET_REASON not in r.text, (method, path)
                if "{seller_id}" in path:  # the answer may repeat the id asked for, nothing more
                    assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
                    nobody = _send(client, method, _url(path, NOBODY, web.ids), csrf=csrf)
                    assert nobody.status_code == 404
                    assert r.text.replace(SELLER_B, "X") == nobody.text.replace(NOBODY, "X"), (method, path)
                    own = _send(client, method, _url(path, SELLER_A, web.ids), csrf=csrf)
                    assert own.status_code != 404, (method, path, "the seller's own resource must be found")
                    assert SELLER_B not in own.text and SECRET_REASON not in own.text, (method, path)
                    if (method, path) in COMPUTE_ONLY or (method in UNSAFE and _seller_act(calls)):
                        # allowed: refused for the (empty) body, not 403
                        assert own.status_code not in (401, 403), (method, path, own.status_code)
                    elif method in UNSAFE:
                        assert own.status_code == 403, (method, path, own.status_code)
                else:
                    assert SELLER_B not in r.text, (method, path)
                    if (method, path) in COMPUTE_ONLY:  # allowed: refused for the empty body only
                        assert r.status_code in (400, 422), (method, path, r.status_code)
                        continue
                    assert r.status_code in (200, 303, 403), (method, path, r.status_code)
                    if method in UNSAFE and (method, path) not in SELF_SERVICE:
                        assert r.status_code == 403
    elif backend_check == "viewer":
        session = web.login("viewer")
        token = web.client()
        bearer = {"Authorization": f"Bearer {web.token('operator-viewer')}"}
        for method, path, _ in routes:
            if method not in UNSAFE or (method, path) in SELF_SERVICE:
                continue
            if (method, path) in COMPUTE_ONLY:  # a viewer may check a message: not 401/403
                r = _send(session, method, _url(path, SELLER_A, web.ids), csrf=session.csrf)
                assert r.status_code in (400, 422), (method, path, r.status_code)
                continue
            for seller in (SELLER_A, SELLER_B):
                r = _send(session, method, _url(path, seller, web.ids), csrf=session.csrf)
                assert r.status_code == 403, (method, path, r.status_code)
                if path.startswith("/api/"):
                    r = _send(token, method, _url(path, seller, web.ids), headers=bearer)
                    assert r.status_code == 403, (method, path, r.status_code)
    else:
        admin = web.login("admin")
        for method, path, _ in routes:
            if method == "GET":
                r = _send(admin, method, _url(path, SELLER_B, web.ids))
                expected = 303 if path == "/" else 200  # an operator's start page is the console
                assert r.status_code == expected, (method, path, r.status_code, r.text[:300])


def test_every_unsafe_route_needs_the_sessions_csrf_token(web):  # noqa: F811
    admin = web.login("admin")
    for method, path, calls in _routes(web.app):
        if method not in UNSAFE or public in calls or (method, path) in SELF_SERVICE:
            continue
        url = _url(path, SELLER_A, web.ids)
        for token in (None, "forged"):
            r = _send(admin, method, url, csrf=token)
            assert r.status_code == 403, (method, path, token, r.status_code)
            assert "CSRF" in r.text, (method, path)


def _seller_clients(web):  # noqa: F811
    """A seller user (session, CSRF), the same seller bound to DE only, and a seller API token."""
    full = web.login("seller-a")
    yield full, full.csrf
    token = web.client(headers={"Authorization": f"Bearer {web.token('seller', [(SELLER_A, '*')])}"})
    yield token, None


def test_a_seller_bound_to_one_marketplace_does_not_see_the_others(web):  # noqa: F811
    c = web.login("seller-a-de")
    assert c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/DE").status_code == 200
    us = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US")
    assert us.status_code == 404
    listed = c.get("/api/v1/members").json()["items"]
    assert [(m["seller_id"], m["marketplace_id"]) for m in listed] == [(SELLER_A, "DE")]
    page = c.get(f"/sellers/{SELLER_A}")
    assert page.status_code == 200 and "Marketplace DE" in page.text and "Marketplace US" not in page.text


def test_a_seller_sees_its_status_changes_but_not_operator_notes_names_or_reasons(web):  # noqa: F811
    c = web.login("seller-a")
    events = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US/events").json()["items"]
    assert [e["kind"] for e in events] == ["transition"]  # not the exemption request by carla
    assert events[0]["actor"] == "program" and events[0]["reason"] is None
    account = c.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US").json()
    assert account["pending_actions"] == []
    admin = web.login("admin")
    account = admin.get(f"/api/v1/sellers/{SELLER_A}/marketplaces/US").json()
    assert [p["kind"] for p in account["pending_actions"]] == ["exempt"]
    assert PROGRAM == account["membership"]["program"]
