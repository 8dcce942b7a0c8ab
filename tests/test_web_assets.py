"""Vendored assets match VENDOR.md (versions, licences, SHA-256), and every text of the pages is a
catalog key present in English and Chinese."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from cxops.report.i18n import load_catalog
from cxops.service.auth import ROLES
from cxops.service.console import MEMBER_SORTS

pytestmark = pytest.mark.unit

WEB = resources.files("cxops.web")
VENDOR = WEB / "static" / "vendor"


def test_every_vendored_file_is_listed_with_its_sha256_and_each_package_keeps_its_licence():
    text = (VENDOR / "VENDOR.md").read_text()
    listed = dict((path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.M))
    on_disk = {f"{d.name}/{f.name}": f for d in VENDOR.iterdir() if d.is_dir() for f in d.iterdir()}
    assert set(listed) == set(on_disk)
    for path, f in on_disk.items():
        assert hashlib.sha256(f.read_bytes()).hexdigest() == listed[path], path
    for package in ("htmx", "vega", "vega-lite", "vega-embed", "swagger-ui"):
        assert f"{package}/LICENSE" in on_disk, package
        assert re.search(
            rf"^\| `{package}/` \| `[\w.-]+` \| \d+\.\d+\.\d+ \| [\w.-]+ \| `sha512-", text, re.M
        ), package


def _template_keys() -> tuple[set[str], set[str]]:
    static, dynamic = set(), set()
    for f in (WEB / "templates").iterdir():
        body = f.read_text()
        static |= set(re.findall(r"""_\(\s*["'](web\.[\w.\-]*[\w\-])["']""", body))
        dynamic |= set(re.findall(r"""["'](web\.[\w]+\.)["']\s*~""", body))
    for f in (WEB / "pages").iterdir():
        if f.name.endswith(".py"):
            static |= set(re.findall(r'"(web\.[a-z_]+\.[a-z_]+)"', f.read_text()))
    return static, dynamic


def test_every_page_text_is_in_both_catalogs():
    from cxops.notify.messages import KINDS
    from cxops.service.documents import load_checklist
    from cxops.store.cases import CASE_KINDS, CASE_STATUSES
    from cxops.store.notify_models import OUTBOX_STATUSES

    en, zh = load_catalog("en"), load_catalog("zh")
    static, dynamic = _template_keys()
    assert len(static) > 60 and "web.login.locked" in static
    for key in static:
        assert key in en and key in zh, key
    expanded = {
        "web.role.": ROLES,
        "web.sort.": MEMBER_SORTS,
        "web.action.": ("exempt", "suspend", "reinstate", "assign_manager", "note"),
        "web.done.": ("exempt", "suspend", "reinstate", "assign_manager", "note", "cancel", "recorded"),
        "web.event.": (
            "transition",
            "action_requested",
            "action_applied",
            "action_rejected",
            "action_cancelled",
            "manager_assigned",
            "note",
            "benefit_started",
            "benefit_ended",
        ),
        "web.error.": ("400", "401", "403", "404", "409", "422", "429", "500", "503"),
        # the seller's desk and the console's program pages
        "web.chart.": ("limit", "alert", "bar"),
        "web.score.span.": ("90d", "12m"),
        "web.desk.done.": ("inquiry", "upload", "preferences"),
        "web.desk.status.": CASE_STATUSES,
        "web.desk.doc.": ("missing", "submitted", "accepted", "rejected", "expired"),
        "web.desk.req.": tuple(r.id for r in load_checklist().requirements),
        "web.desk.sent.": OUTBOX_STATUSES,
        "web.desk.kind.": tuple(KINDS),
        "web.ops.reviewed.": ("accept", "reject"),
        "web.ops.which.": ("all", "now", "projected"),
        "web.ops.case_kind.": CASE_KINDS,
    }
    assert dynamic <= set(expanded), dynamic - set(expanded)
    for prefix, names in expanded.items():
        for name in names:
            assert prefix + name in en and prefix + name in zh, prefix + name
    web_en = {k for k in en if k.startswith("web.")}
    assert web_en == {k for k in zh if k.startswith("web.")}
