"""Account health report (``GET_V2_SELLER_PERFORMANCE_REPORT``, JSON) → ``reported_metrics``.

Parsed leniently, because the published schema (``accountHealthReport-2020-11-18.json``), its own
example and live reports differ (SOURCE.md; ``metric-definitions.md`` A.3): ``prefulfillmentCancelRate``
vs ``preFulfillmentCancellationRate``, ``warningState`` vs ``warningStates`` (a list, or an object by
name), ``documentRequest`` vs ``documentRequests``, ``ahrStatus`` vs ``accountHealthRatingStatus``,
``defectsCount`` vs ``lateShipmentCount``, ``lateShipmentRateList`` (one entry per window), ``ahrScore``.

One row per metric object and marketplace, with **the window in the document** (each metric has its
own ``reportingDateRange``; ``window_from``/``window_to`` are the UTC dates of
``reportingDateFrom``/``reportingDateTo``; ``window_days`` = inclusive days). Catalog names where they
match (:data:`RATES`):

* ``orderDefectRate.{mfn,afn}`` → ``order_defect_rate`` (``orderWithDefects.count`` / ``orderCount``)
  and its components ``negativeFeedback``/``claims``/``chargebacks`` → ``negative_feedback_rate``/
  ``a_to_z_claim_rate``/``chargeback_rate`` with the same denominator (rate = count / orderCount);
* ``lateShipmentRate`` (and ``lateShipmentRateList[]``), ``preFulfillmentCancellationRate``,
  ``validTrackingRate``, ``onTimeDeliveryRate`` → the catalog metric, channel ``mfn``;
  ``unitOnTimeDeliveryRate`` → ``unit_on_time_delivery_rate`` (the 14-day unit metric, distinct from
  the 30-day ``on_time_delivery_rate``); ``invoiceDefectRate`` → ``invoice_defect_rate`` (+
  ``missing_invoice_rate``, ``late_invoice_rate``), channel ``all``;
* policy counters (``defectsCount``) → their snake-case names (``received_intellectual_property_complaints``
  …), ``policyViolationWarnings.warningsCount`` → ``policy_violation_warnings``;
* ``accountHealthRating`` → ``ahr_score`` (numerator = the score, when reported) and ``ahr_status``.

States without a window of their own — ``accountStatuses[]`` (``account_status``) and warning states
(``warning_state_<type>``) — are stored at the report date (the latest ``reportingDateTo`` in the
document) with ``window_days`` null. Rates are fractions as reported; targets, conditions and statuses
are kept verbatim. Inconsistent numbers (a count above its population, a rate that does not match
its counts, an ``afn`` block labelled ``mfn``) are kept and flagged as warnings.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from cxops.canonical.schema import TABLES
from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, amazon_marketplaces, numbers, text
from cxops.ingest.amazon.dates import parse_instants
from cxops.ingest.amazon.flat import quote
from cxops.ingest.amazon.mapped import Mapped, Rows, build, one_to_one
from cxops.ingest.amazon.reading import ReportFile

#: Document field → (metric, channel, numerator fields, denominator fields).
RATES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "lateShipmentRate": ("late_shipment_rate", "mfn", ("lateShipmentCount", "defectsCount"), ("orderCount",)),
    "preFulfillmentCancellationRate": (
        "pre_fulfillment_cancel_rate",
        "mfn",
        ("cancellationCount", "defectsCount"),
        ("orderCount",),
    ),
    "validTrackingRate": ("valid_tracking_rate", "mfn", ("validTrackingCount",), ("shipmentCount",)),
    "onTimeDeliveryRate": (
        "on_time_delivery_rate",
        "mfn",
        ("onTimeDeliveryCount",),
        ("shipmentCountWithValidTracking",),
    ),
    "unitOnTimeDeliveryRate": (
        "unit_on_time_delivery_rate",
        "mfn",
        ("unitOnTimeDeliveryCount",),
        ("totalUnitCount",),
    ),
    "invoiceDefectRate": ("invoice_defect_rate", "all", ("invoiceDefect.count",), ("orderCount",)),
}
ALIASES = {
    "prefulfillmentCancelRate": "preFulfillmentCancellationRate",
    "preFulfillmentCancelRate": "preFulfillmentCancellationRate",
    "documentRequest": "documentRequests",
    "warningState": "warningStates",
}
LISTS = {"lateShipmentRateList": "lateShipmentRate"}
ODR_COMPONENTS = {
    "negativeFeedback": "negative_feedback_rate",
    "claims": "a_to_z_claim_rate",
    "chargebacks": "chargeback_rate",
}
INVOICE_COMPONENTS = {"missingInvoice": "missing_invoice_rate", "lateInvoice": "late_invoice_rate"}
COLUMNS = [c for c in TABLES["reported_metrics"].column_names if c != "reported_at"]
#: ``(metric, channel)`` the report gives a rate for: what a "no data" answer reports as 0.
REPORTED_RATES: tuple[tuple[str, str], ...] = (
    *((m, ch) for ch in ("mfn", "afn") for m in ("order_defect_rate", *ODR_COMPONENTS.values())),
    *((metric, channel) for metric, channel, _, _ in RATES.values()),
    *((m, "all") for m in INVOICE_COMPONENTS.values()),
)


def snake(name: str) -> str:
    """``receivedIntellectualPropertyComplaints`` → ``received_intellectual_property_complaints``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _get(d: object, path: str) -> object:
    for k in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _first(d: dict, fields: tuple[str, ...]) -> object:
    for f in fields:
        v = _get(d, f)
        if v is not None:
            return v
    return None


def _row(path, mp, metric, channel, obj, num=None, den=None, rate=None, status=None, kind="rate") -> dict:
    obj = obj if isinstance(obj, dict) else {}
    rng = obj.get("reportingDateRange")
    return {
        "source_metric": path,
        "mp": mp,
        "metric": metric,
        "channel": channel,
        "kind": kind,
        "from": _get(rng, "reportingDateFrom"),
        "to": _get(rng, "reportingDateTo"),
        "numerator": num,
        "denominator": den,
        "rate": obj.get("rate") if rate is None else rate,
        "target_value": obj.get("targetValue"),
        "target_condition": obj.get("targetCondition"),
        "status": obj.get("status") if status is None else status,
        "obj": obj,
    }


def _components(path: str, mp, channel: str, parent: dict, names: dict[str, str], out: list) -> None:
    """Rows of a rate's components (``negativeFeedback``, ``missingInvoice`` …): count / orderCount."""
    for comp, metric in names.items():
        c = parent.get(comp)
        if isinstance(c, dict):
            r = _row(f"{path}.{comp}", mp, metric, channel, parent, c.get("count"), parent.get("orderCount"))
            r.update(rate="derive", status=c.get("status"), target_value=None, target_condition=None)
            out.append(r)


def _rate_rows(path: str, mp, key: str, obj: dict, out: list) -> None:
    metric, channel, num, den = RATES[key]
    out.append(_row(path, mp, metric, channel, obj, _first(obj, num), _first(obj, den)))
    if key == "invoiceDefectRate":
        _components(path, mp, channel, obj, INVOICE_COMPONENTS, out)


def _odr_rows(path: str, mp, obj: object, out: list, ignored: list) -> None:
    for ch, b in obj.items() if isinstance(obj, dict) else []:
        if not isinstance(b, dict) or str(ch).lower() not in ("mfn", "afn"):
            ignored.append(f"{path}.{ch}")
            continue
        ch = str(ch).lower()
        p = f"{path}.{ch}"
        r = _row(p, mp, "order_defect_rate", ch, b, _get(b, "orderWithDefects.count"), b.get("orderCount"))
        ft = b.get("fulfillmentType")
        if isinstance(ft, str) and ft.lower() != ch:
            r["warn"] = f"the {ch} block says fulfillmentType {ft!r}; stored as {ch} (its key)"
        out.append(r)
        _components(p, mp, ch, b, ODR_COMPONENTS, out)


def _warning_rows(path: str, mp, obj: object, out: list) -> None:
    items = []
    if isinstance(obj, list):
        items = [
            (f"{path}[{i}]", w.get("warningType") if isinstance(w, dict) else None, w)
            for i, w in enumerate(obj)
        ]
    elif isinstance(obj, dict):
        items = [(f"{path}.{k}", k, w) for k, w in obj.items()]
    for p, wtype, w in items:
        w = w if isinstance(w, dict) else {}
        name = "warning_state_" + snake(str(wtype)) if isinstance(wtype, str) and wtype else None
        r = _row(p, mp, name, "all", w, w.get("defectsCount"), kind="state")
        r["rate"] = None
        out.append(r)


def _candidates(doc: dict, ctx: Context) -> tuple[list[dict], list[str]]:
    """Candidate rows of the whole document (raw values) and the ignored field paths."""
    out: list[dict] = []
    ignored: list[str] = []
    pms = doc.get("performanceMetrics")
    pms = [pms] if isinstance(pms, dict) else pms if isinstance(pms, list) else []
    for i, pm in enumerate(pms):
        base = f"performanceMetrics[{i}]"
        if not isinstance(pm, dict):
            out.append(_row(base, None, None, "all", {}, kind="invalid"))
            continue
        mp = pm.get("marketplaceId")
        for raw_key, obj in pm.items():
            key = ALIASES.get(raw_key, raw_key)
            path = f"{base}.{raw_key}"
            if key == "marketplaceId":
                continue
            if key in RATES and isinstance(obj, dict):
                _rate_rows(path, mp, key, obj, out)
            elif key in LISTS and isinstance(obj, list):
                for j, o in enumerate(obj):
                    if isinstance(o, dict):
                        _rate_rows(f"{path}[{j}]", mp, LISTS[key], o, out)
            elif key == "orderDefectRate":
                _odr_rows(path, mp, obj, out, ignored)
            elif key == "accountHealthRating" and isinstance(obj, dict):
                st = obj.get("ahrStatus", obj.get("accountHealthRatingStatus"))
                out.append(_row(path, mp, "ahr_status", "all", obj, status=st))
                if obj.get("ahrScore") is not None:
                    out.append(
                        _row(f"{path}.ahrScore", mp, "ahr_score", "all", obj, obj.get("ahrScore"), status=st)
                    )
            elif key == "warningStates":
                _warning_rows(path, mp, obj, out)
            elif key == "policyViolationWarnings" and isinstance(obj, dict):
                out.append(_row(path, mp, "policy_violation_warnings", "all", obj, obj.get("warningsCount")))
            elif isinstance(obj, dict) and ("defectsCount" in obj or "reportingDateRange" in obj):
                out.append(_row(path, mp, snake(key), "all", obj, obj.get("defectsCount")))
            else:
                ignored.append(path)
    sts = doc.get("accountStatuses")
    for i, st in enumerate(sts if isinstance(sts, list) else []):
        s = st if isinstance(st, dict) else {}
        out.append(
            _row(f"accountStatuses[{i}]", s.get("marketplaceId"), "account_status", "all", s, kind="state")
        )
        out[-1]["rate"] = out[-1]["target_value"] = out[-1]["target_condition"] = None
    return out, ignored


def read_account_health(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one account health report (see the module docstring).

    Returns
    -------
    list of Mapped
        ``reported_metrics``; quarantine rows are numbered by candidate (document order) and name the
        JSON path in ``column``.
    """
    doc = rf.doc
    cands, ignored = _candidates(doc, ctx)
    c = pd.DataFrame(cands, columns=[*_row("", None, None, "all", {}).keys(), "warn"])
    objs = c["obj"].tolist()
    rows = Rows(
        rf.file, np.arange(1, len(c) + 1), lambda pos: [json.dumps(objs[i], default=str) for i in pos]
    )
    path = c["source_metric"].astype(object)
    rows.reject((c["kind"] == "invalid").to_numpy(), "performanceMetrics", "not a JSON object")
    rows.reject(c["metric"].isna().to_numpy(), "warningType", "warning state without a warningType")
    mp, unknown = amazon_marketplaces(c["mp"], ctx.marketplace_id)
    rows.reject(unknown.to_numpy(), "marketplaceId", "unknown Amazon marketplace id " + quote(text(c["mp"])))
    d_from, bad_f = parse_instants(text(c["from"]), "US", "UTC")
    d_to, bad_t = parse_instants(text(c["to"]), "US", "UTC")
    d_from, d_to = d_from.dt.normalize(), d_to.dt.normalize()
    state = (c["kind"] == "state").to_numpy()
    report_day = d_to[~state].max() if (~state).any() else pd.NaT
    d_from = d_from.where(~state, report_day)
    d_to = d_to.where(~state, report_day)
    rows.reject(
        (bad_f | bad_t).to_numpy() & ~state, "reportingDateRange", "not a valid date in reportingDateRange"
    )
    why = "no reportingDateRange: the reporting window is unknown" if len(c) else ""
    rows.reject((d_from.isna() | d_to.isna()).to_numpy() & ~state, "reportingDateRange", why)
    rows.reject(
        (d_to.isna()).to_numpy() & state,
        "reportingDateTo",
        "no dated metric in the document: report date unknown",
    )
    rows.reject(
        (d_from > d_to).fillna(False).to_numpy(),
        "reportingDateRange",
        "reportingDateFrom " + quote(text(c["from"])) + " is after reportingDateTo " + quote(text(c["to"])),
    )
    num, nbad = numbers(c["numerator"])
    den, dbad = numbers(c["denominator"])
    rate, rbad = numbers(c["rate"].where(c["rate"] != "derive"))
    target, tbad = numbers(c["target_value"])
    rows.flag(
        (nbad | dbad | rbad | tbad).to_numpy(), "(numbers)", "a value that is not a number, taken as missing"
    )
    derive = (c["rate"] == "derive").to_numpy()
    rate = rate.where(~derive, (num / den).where(den > 0))
    _consistency(rows, num, den, rate, derive, c)
    days = ((d_to - d_from).dt.days + 1).astype("Int64").where(~state)
    derived = pd.DataFrame(
        {
            "seller_id": ctx.seller_id,
            "marketplace_id": mp,
            "metric": c["metric"],
            "channel": c["channel"],
            "window_from": d_from,
            "window_to": d_to,
            "window_days": days,
            "numerator": num,
            "denominator": den,
            "rate": rate,
            "target_value": target,
            "target_condition": text(c["target_condition"]),
            "status": text(c["status"]),
            "source_metric": path,
            "source_file": rf.file,
        }
    )
    every = np.ones(len(rows), dtype=bool)
    d, grp = one_to_one(rows, every, derived)
    if ignored:
        ctx.note(
            f"{rf.path.name}: fields not mapped: {', '.join(ignored[:10])}"
            + (" …" if len(ignored) > 10 else "")
        )
    ctx.note(
        "account health: each metric keeps the reporting window of the document; component rates of the "
        "order defect rate and invoice defect rate are count / orderCount; states (account status, warning "
        "states) are dated at the report's latest reportingDateTo"
    )
    source = f"amazon:{detect.ACCOUNT_HEALTH}:{rf.file}"
    return [build("reported_metrics", rows, every, d, grp, COLUMNS, source)]


def _consistency(rows: Rows, num, den, rate, derive, c: pd.DataFrame) -> None:
    over = (num > den).fillna(False).to_numpy(dtype=bool)
    rows.flag(over, "numerator", "the count exceeds its population (as reported)")
    ratio = (num / den).where(den > 0)
    off = (
        ((rate - ratio).abs() > np.maximum(0.0005, 0.01 * ratio.abs().fillna(0)))
        .fillna(False)
        .to_numpy(dtype=bool)
    )
    rows.flag(off & ~derive & ~over, "rate", "the reported rate differs from numerator / denominator")
    for msg in c["warn"].dropna().unique():
        rows.flag((c["warn"] == msg).to_numpy(), "fulfillmentType", str(msg))
