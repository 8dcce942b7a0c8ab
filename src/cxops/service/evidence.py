"""The evidence bundle of a buyer dispute: one order's records in a zip, with a manifest.

What a dispute resolution needs (``program.md``: "a first response within 24 hours, with the order
numbers and shipping evidence attached"), read from the warehouse through Ibis, **for the disputed
order only** — every query is filtered on ``(seller_id, order_id)``; buyer messages without an order
are included only when they belong to a thread of this order's messages:

=====================  ===========================================================================
file                   content
=====================  ===========================================================================
``order.json``         the order (purchase, ship-by and deliver-by deadlines, channel, total) and
                       its marketplace's time zone
``order_items.csv``    its lines
``shipments.csv``      carrier, tracking id, ship confirmation, first carrier scan, delivery
``buyer_messages.csv`` the buyer's messages and when they were first answered
``claims.csv`` …       its A-to-z claims and chargebacks, feedback, cancellation, returns (tables
                       the warehouse holds; a table it does not hold is listed as absent)
``case.json``          the dispute: reason, buyer message, opened, due, first response, history and
                       responses
``policy.json``        the policy's rules a dispute bears on (every criterion on a metric fed by
                       claims, e.g. the order defect rate) and the program's response rule
``timeline.txt``       every dated fact above in time order, in UTC and marketplace-local time
``attachments/``       files the seller attached to the case
``manifest.json``      every file above with its size (bytes) and SHA-256
=====================  ===========================================================================

The zip is written under a temporary name and renamed into place: it is there whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from cxops.canonical.marketplaces import timezone_of
from cxops.errors import InputError, OutputError
from cxops.metrics.catalog import CATALOG
from cxops.metrics.deadlines import orders_in_force
from cxops.policy.model import SECTIONS, Policy
from cxops.report.i18n import get_translator

#: Warehouse tables whose rows of the order go into the bundle, in bundle order.
ORDER_TABLES = (
    "order_items",
    "shipments",
    "buyer_messages",
    "claims",
    "feedback",
    "cancellations",
    "returns",
)

#: Tables of the deadline extension: in the bundle when the warehouse has them (a corrected ship-by).
OPTIONAL_ORDER_TABLES = ("ship_by_corrections", "ship_by_derived", "deadline_changes")


@dataclass(frozen=True)
class BundleFile:
    """A file of the bundle: its name in the zip, size in bytes, SHA-256 (hex) and rows (tables)."""

    name: str
    size: int
    sha256: str
    rows: int | None = None


@dataclass(frozen=True)
class Bundle:
    """A written evidence bundle: where, and the manifest's files."""

    path: Path
    case_id: int
    seller_id: str
    order_id: str
    files: tuple[BundleFile, ...]


def _records(wh, seller_id: str, order_id: str) -> tuple[pd.DataFrame, dict[str, pd.DataFrame | None]]:
    """The order row and its rows in :data:`ORDER_TABLES` (``None`` for a table not in the warehouse)."""
    o = orders_in_force(wh)  # the ship-by deadline in force: corrected, else the source's, else derived
    order = wh.execute(o.filter((o.seller_id == seller_id) & (o.order_id == order_id)))
    out: dict[str, pd.DataFrame | None] = {}
    for name in (*ORDER_TABLES, *OPTIONAL_ORDER_TABLES):
        if name in OPTIONAL_ORDER_TABLES and not wh.has_table(name):
            continue  # a contract extension: not listed as absent where the warehouse never had it
        if not wh.has_table(name):
            out[name] = None
            continue
        t = wh.table(name)
        mine = (t.seller_id == seller_id) & (t.order_id == order_id)
        rows = wh.execute(t.filter(mine))
        if name == "buyer_messages":
            threads = [x for x in rows["thread_id"].dropna().unique().tolist()]
            if threads:  # messages of the same threads carrying no order id (never another order's)
                extra = wh.execute(
                    t.filter((t.seller_id == seller_id) & t.order_id.isnull() & t.thread_id.isin(threads))
                )
                rows = pd.concat([rows, extra], ignore_index=True)
            rows = rows.sort_values(["received_at", "message_id"], ignore_index=True)
        out[name] = rows
    return order, out


def policy_reference(policy: Policy, first_response_hours: int, lang: str = "en") -> dict[str, Any]:
    """The rules of ``policy`` that a dispute bears on, and the program's first-response rule.

    A dispute that becomes an A-to-z claim or a chargeback counts against every metric whose
    sources include the ``claims`` table (:data:`cxops.metrics.catalog.CATALOG`): the order defect
    rate, the A-to-z claim rate, the chargeback rate. Every criterion of the policy on one of them
    is listed with its section, rule, bar and window.
    """
    fed_by_claims = {n for n, m in CATALOG.items() if any("claims" in s.split("|") for s in m.sources)}
    rules = []
    for section in SECTIONS:
        for rule_id, c in policy.criteria(section):
            if c.metric not in fed_by_claims:
                continue
            m = CATALOG[c.metric]
            rules.append(
                {"section": section, "rule_id": rule_id, "criterion_id": c.id, "label": c.label,
                 "metric": c.metric, "window_days": c.window_days, "channel": c.channel, "test": c.test,
                 "operator": c.operator, "threshold": c.threshold, "min_denominator": c.min_denominator,
                 "counts": m.defect, "anchor": m.anchor, "population": m.population}
            )  # fmt: skip
    tr = get_translator(lang)
    return {
        "policy": policy.name,
        "version": policy.version,
        "effective_from": policy.effective_from.isoformat(),
        "first_response_hours": first_response_hours,
        "program_rule": tr("cases.bundle.program_rule", hours=first_response_hours),
        "rules": rules,
    }


def _iso(v: Any) -> Any:
    """JSON value of a warehouse cell: instants as ISO 8601 UTC (``Z``), dates ISO, NaN as null."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, pd.Timestamp | datetime):
        ts = pd.Timestamp(v)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return ts.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def _csv(df: pd.DataFrame) -> bytes:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = [_iso(v) for v in out[c]]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _json(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, default=_iso) + "\n").encode("utf-8")


def _timeline(order: dict, tables: dict, case: dict, tz: str, lang: str) -> bytes:
    tr = get_translator(lang)
    zone = ZoneInfo(tz)
    facts: list[tuple[pd.Timestamp, str]] = []

    def add(value, key: str, **params):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        facts.append((ts, tr(f"cases.timeline.{key}", **params)))

    add(order.get("purchased_at"), "purchased")
    add(order.get("latest_ship_at"), "ship_by")
    add(order.get("latest_delivery_at"), "deliver_by")
    for r in (
        tables.get("shipments") if tables.get("shipments") is not None else pd.DataFrame()
    ).itertuples():
        what = {"shipment": r.shipment_id, "carrier": r.carrier or "—", "tracking": r.tracking_id or "—"}
        add(r.confirmed_at, "shipped", **what)
        add(r.first_scan_at, "first_scan", **what)
        add(r.delivered_at, "delivered", **what)
    for r in (
        tables.get("buyer_messages") if tables.get("buyer_messages") is not None else pd.DataFrame()
    ).itertuples():
        add(r.received_at, "message", message=r.message_id)
        add(r.first_response_at, "message_answered", message=r.message_id)
    for r in (tables.get("claims") if tables.get("claims") is not None else pd.DataFrame()).itertuples():
        add(r.filed_at, "claim_filed", claim=r.claim_id, kind=r.kind)
        add(r.decided_at, "claim_decided", claim=r.claim_id, decision=r.decision or "—")
    for r in (tables.get("feedback") if tables.get("feedback") is not None else pd.DataFrame()).itertuples():
        add(r.submitted_at, "feedback", rating=r.rating)
    for r in (
        tables.get("cancellations") if tables.get("cancellations") is not None else pd.DataFrame()
    ).itertuples():
        add(r.cancelled_at, "cancelled", by=r.initiated_by)
    for r in (tables.get("returns") if tables.get("returns") is not None else pd.DataFrame()).itertuples():
        add(r.requested_at, "return", ret=r.return_id)
    add(case.get("opened_at"), "dispute_opened", case=case["id"])
    add(case.get("due_at"), "dispute_due", case=case["id"])
    add(case.get("first_response_at"), "dispute_answered", case=case["id"])
    facts.sort(key=lambda f: f[0])
    lines = [tr("cases.timeline.header", order=order["order_id"], tz=tz)]
    for ts, text in facts:
        local = ts.tz_convert(zone)
        lines.append(f"{ts:%Y-%m-%d %H:%M} UTC  ({local:%Y-%m-%d %H:%M %Z})  {text}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_bundle(
    wh,
    policy: Policy,
    case: dict[str, Any],
    out: str | Path,
    *,
    attachments: list[tuple[str, bytes]] = (),
    first_response_hours: int = 24,
    lang: str = "en",
) -> Bundle:
    """Write the evidence bundle of the dispute ``case`` to ``out`` (a ``.zip`` path or a folder).

    Parameters
    ----------
    wh : cxops.warehouse.Warehouse
        Read only.
    case : dict
        The case as JSON-able data (``id``, ``seller_id``, ``order_id``, ``opened_at``, ``due_at``,
        ``first_response_at``, history, entries …), written as ``case.json``.
    out : str or pathlib.Path
        The zip file, or an existing folder (the file is then named
        ``dispute-<case>-order-<order>.zip``).
    attachments : list of (name, bytes)
        Files attached to the case.

    Raises
    ------
    InputError
        The order is not in the warehouse (any more) for the case's seller.
    OutputError
        The zip cannot be written there.
    """
    seller_id, order_id = case["seller_id"], case["order_id"]
    order_df, tables = _records(wh, seller_id, order_id)
    if order_df.empty:
        raise InputError(f"order {order_id} of seller {seller_id} is not in the warehouse {wh.url}")
    order = {k: _iso(v) for k, v in order_df.iloc[0].to_dict().items()}
    try:
        tz = timezone_of(order["marketplace_id"], _zones(wh))
    except KeyError:
        tz = "UTC"
    files: list[tuple[str, bytes, int | None]] = [("order.json", _json({"order": order, "timezone": tz}), 1)]
    absent = []
    for name, df in tables.items():
        if df is None:
            absent.append(name)
        else:
            files.append((f"{name}.csv", _csv(df), len(df)))
    files.append(("case.json", _json(case), None))
    files.append(("policy.json", _json(policy_reference(policy, first_response_hours, lang)), None))
    files.append(("timeline.txt", _timeline(order_df.iloc[0].to_dict(), tables, case, tz, lang), None))
    used: set[str] = set()
    for name, data in attachments:
        safe = Path(name).name or "attachment"
        while f"attachments/{safe}" in used:
            safe = "_" + safe
        used.add(f"attachments/{safe}")
        files.append((f"attachments/{safe}", data, None))
    listed = tuple(BundleFile(n, len(b), hashlib.sha256(b).hexdigest(), rows) for n, b, rows in files)
    manifest = {
        "bundle": "cxops dispute evidence",
        "case_id": case["id"],
        "seller_id": seller_id,
        "marketplace_id": order.get("marketplace_id"),
        "order_id": order_id,
        "generated_at": _iso(datetime.now(UTC)),
        "warehouse": wh.url,
        "absent_tables": absent,
        "files": [{"name": f.name, "size": f.size, "sha256": f.sha256, "rows": f.rows} for f in listed],
    }
    path = Path(out)
    if path.is_dir():
        path = path / f"dispute-{case['id']}-order-{_safe(order_id)}.zip"
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data, _ in files:
            z.writestr(name, data)
        z.writestr("manifest.json", _json(manifest))
    try:
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    return Bundle(path, int(case["id"]), seller_id, order_id, listed)


def _zones(wh) -> dict[str, str] | None:
    if not wh.has_table("marketplaces"):
        return None
    m = wh.execute(wh.table("marketplaces").select("marketplace_id", "timezone"))
    return dict(zip(m["marketplace_id"], m["timezone"], strict=True))


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text))[:80]
