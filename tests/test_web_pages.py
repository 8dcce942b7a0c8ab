"""The pages: nothing loads from another host (every page parsed), the security headers, English and
Chinese, the seller's page, the console's filters and htmx fragments, operator actions through the
forms landing in the audit log — on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from _web import SECRET_REASON, SELLER_A, SELLER_B, web  # noqa: F401

from cxops.web.app import route_table
from cxops.web.deps import public

URL_ATTRS = {
    "src",
    "href",
    "action",
    "formaction",
    "poster",
    "data",
    "srcset",
    "hx-get",
    "hx-post",
    "manifest",
}


class Audit(HTMLParser):
    """Collects every URL a page would load or link to, and what the CSP would block."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.inline: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        for name, value in attrs:
            if name in URL_ATTRS and value is not None:
                self.urls.append((tag, name, value))
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=…>")
            if name == "http-equiv" and (value or "").lower() == "refresh":
                self.inline.append("meta refresh")
        if tag == "script" and not dict(attrs).get("src"):
            self.inline.append("inline <script>")
        if tag == "style":
            self.inline.append("<style>")

    def handle_data(self, data):
        if self._tag in ("script", "style") and data.strip():
            self.inline.append(f"inline {self._tag} text")


def _external(url: str) -> bool:
    u = url.strip().lower()
    if u.startswith(("mailto:", "#", "?")):
        return False
    return "://" in u or u.startswith("//") or u.startswith(("data:", "javascript:")) or not u.startswith("/")


def _check_page(client, url: str) -> Audit:
    r = client.get(url)
    assert r.status_code in (200, 401, 403, 404, 429), (url, r.status_code)
    assert r.headers["content-type"].startswith("text/html"), url
    a = Audit()
    a.feed(r.text)
    bad = [u for u in a.urls if _external(u[2])]
    assert not bad, (url, bad)
    assert not a.inline or url == "/api/v1/docs" and not a.inline, (url, a.inline)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    for _, _, u in a.urls:  # every asset a page loads is served here
        if u.startswith("/static/"):
            assert client.get(u).status_code == 200, u
    return a


def _page_urls(app, seller: str) -> list[str]:
    out = []
    for methods, path, dependant in route_table(app):
        if (
            dependant is None
            or "GET" not in methods
            or path.startswith("/api/v1/")
            and path != "/api/v1/docs"
        ):
            continue
        out.append(path.format(seller_id=seller, marketplace_id="US"))
    return out


def test_no_page_loads_anything_from_another_host(web):  # noqa: F811
    anon = web.client()
    for url in ("/login", "/api/v1/docs", "/no-such-page", "/login?lang=zh"):
        _check_page(anon, url)
    admin = web.login("admin")
    seller = web.login("seller-a")
    pages = 0
    for url in _page_urls(web.app, SELLER_A):
        if url in ("/", "/language"):
            continue
        audit = _check_page(admin, url)
        assert audit.urls, url
        pages += 1
        if not url.startswith("/console"):
            _check_page(seller, url)
    assert pages >= 5
    _check_page(admin, "/console/sellers?state=at_risk&sort=since&order=desc")
    _check_page(seller, "/console/sellers")  # 403 page


def test_security_headers_on_every_kind_of_response(web):  # noqa: F811
    c = web.client()
    for url in ("/login", "/api/v1/health", "/api/v1/members", "/static/css/cxops.css"):
        h = c.get(url).headers
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert (h.get("cache-control") == "no-store") is (not url.startswith("/static"))


def test_public_routes_are_only_the_expected_ones(web):  # noqa: F811
    found = set()
    for methods, path, dependant in route_table(web.app):
        if dependant is not None and any(d.call is public for d in dependant.dependencies):
            found |= {(m, path) for m in methods - {"HEAD"}}
    assert found == {
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/language"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
    }


def test_language_from_the_browser_the_switch_and_the_users_preference(web):  # noqa: F811
    c = web.client()
    assert "<h1>Log in</h1>" in c.get("/login").text
    zh = c.get("/login", headers={"Accept-Language": "pt-BR, zh-CN;q=0.8, en;q=0.5"}).text
    assert "<h1>登录</h1>" in zh and '<html lang="zh-Hans">' in zh
    fr = c.get("/login", headers={"Accept-Language": "fr-FR, zh-CN;q=0.8, en;q=0.5"}).text
    assert "<h1>Connexion</h1>" in fr and '<html lang="fr">' in fr
    ja = c.get("/login", headers={"Accept-Language": "ja"}).text
    assert "<h1>ログイン</h1>" in ja and '<html lang="ja">' in ja
    r = c.get("/language", params={"lang": "zh", "next": "/login"}, follow_redirects=False)
    assert (
        r.status_code == 303
        and r.headers["location"] == "/login"
        and "cxops_lang=zh" in r.headers["set-cookie"]
    )
    assert "<h1>登录</h1>" in c.get("/login", headers={"Accept-Language": "en"}).text  # the pick wins
    assert (
        c.get(
            "/language", params={"lang": "xx", "next": "https://evil.example"}, follow_redirects=False
        ).headers["location"]
        == "/"
    )
    from _web import FAST, PASSWORD

    from cxops.service import accounts

    accounts.add_user(
        web.store,
        "li",
        PASSWORD,
        role="seller",
        actor="t",
        sellers=[(SELLER_A, "*")],
        language="zh",
        policy=FAST,
    )
    page = web.login("li").get(f"/sellers/{SELLER_A}").text
    assert "卓越客户体验计划" in page and "已入选" in page and "客户经理" in page


def test_the_seller_page_shows_status_manager_benefits_and_history(web):  # noqa: F811
    c = web.login("seller-a")
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/sellers/{SELLER_A}"
    page = c.get(f"/sellers/{SELLER_A}").text
    for text in (
        "Customer Excellence",
        "Marketplace US",
        "Marketplace DE",
        "Enrolled",
        "At risk",
        "since Mar 1, 2026",
        "Ana Lima",
        "mailto:ana@example.com",
        "Traffic support",
        "Status history",
        "Candidate → Enrolled",
        "Admitted: every admission criterion is met.",
    ):
        assert text in page, text
    assert "carla" not in page and "carrier strike" not in page  # operators' names and reasons stay internal
    zh = c.get(f"/sellers/{SELLER_A}", headers={"Accept-Language": "zh"}).text
    assert "站点 US" in zh and "2026年3月1日" in zh and "有风险" in zh


def test_the_console_filters_sorts_and_pages_with_htmx_fragments(web):  # noqa: F811
    c = web.login("viewer")
    page = c.get("/console/sellers").text
    assert page.count('<tr>\n      <td><a href="/console/sellers/') == 3
    assert '<option value="ana">Ana Lima (ana)</option>' in page  # the manager filter names every manager
    risk = c.get("/console/sellers", params={"state": "at_risk"}).text
    assert re.findall(r'href="/console/sellers/([^/"]+)/([A-Z]+)"', risk) == [(SELLER_A, "DE")]
    fragment = c.get(
        "/console/sellers", params={"manager": "-"}, headers={"HX-Request": "true", "HX-Target": "members"}
    )
    assert fragment.text.lstrip().startswith('<div id="members">') and "<html" not in fragment.text
    assert re.findall(r'href="/console/sellers/([^/"]+)/([A-Z]+)"', fragment.text) == [(SELLER_A, "DE")]
    one = c.get("/console/sellers", params={"limit": 1, "sort": "state"}).text
    assert re.findall(r'href="/console/sellers/([^/"]+)/([A-Z]+)"', one) == [(SELLER_A, "DE")]
    nxt = re.search(r'href="(/console/sellers\?[^"]*cursor=[^"]+)"', one).group(1).replace("&amp;", "&")
    second = c.get(nxt).text
    assert re.findall(r'href="/console/sellers/([^/"]+)/([A-Z]+)"', second) == [(SELLER_A, "US")]
    detail = c.get(f"/console/sellers/{SELLER_A}/US").text
    assert "Audit log" in detail and 'name="kind"' not in detail and "/cancel" not in detail  # no forms


def test_operator_actions_through_the_forms_land_in_the_audit_log(web):  # noqa: F811
    c = web.login("admin")
    url = f"/console/sellers/{SELLER_A}/DE"
    page = c.get(url).text
    assert "Exempt from removal" in page and "Assign an account manager" in page
    r = c.post(
        url + "/actions",
        data={"kind": "suspend", "reason": "counterfeit complaints", "csrf_token": c.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    done = c.get(r.headers["location"]).text
    assert "Suspension recorded: it takes effect at the next daily run." in done
    audit = done.split('id="audit"')[1]
    assert "Action requested · Suspend" in audit and "admin" in audit and "counterfeit complaints" in audit
    r = c.post(url + "/actions", data={"kind": "suspend", "reason": "twice", "csrf_token": c.csrf})
    assert r.status_code == 409 and "already pending" in r.text
    r = c.post(
        url + "/actions", data={"kind": "exempt", "reason": "x", "until": "31/12/2026", "csrf_token": c.csrf}
    )
    assert r.status_code == 400 and "is not a date" in r.text
    r = c.post(
        url + "/actions",
        data={"kind": "assign_manager", "manager_id": "ana", "reason": "speaks German", "csrf_token": c.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    pending = re.findall(r'action="(/console/sellers/[^"]+/actions/(\d+)/cancel)"', c.get(url).text)
    assert len(pending) == 2
    r = c.post(pending[0][0], data={"reason": "wrong seller", "csrf_token": c.csrf}, follow_redirects=False)
    assert r.status_code == 303 and "done=cancel" in r.headers["location"]
    r = c.post(
        url + "/notes",
        data={"text": "called; promised tracking uploads", "csrf_token": c.csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    final = c.get(url).text
    assert "called; promised tracking uploads" in final.split('id="audit"')[1]
    assert "Action withdrawn" in final
    more = c.get(url + "/events", params={"before": 10**9}, headers={"HX-Request": "true"})
    assert more.text.lstrip().startswith("<tr>") and "<html" not in more.text
    assert SECRET_REASON not in final and SELLER_B not in final
