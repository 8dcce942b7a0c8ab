"""Before/after comparison of ``cxops reconcile``: scenarios and snapshots of every output.

``tests/data/reconcile_golden/<scenario>.json`` holds, per scenario, the outputs of ``cxops reconcile``
as they were before reconcile became a package (commit 45198f4 of main): the JSON Lines and CSV of the
frame, the plain-text summary and every cell of the terminal table. ``tests/test_reconcile_golden.py``
computes the same outputs with the current code and requires them to be identical, except for the
columns added on purpose (listed there).

The scenarios cover every verdict and every sentence of the likely causes: the fixture of
``tests/test_reconcile.py`` with the reports of its tests and more, the Amazon report fixtures of
``tests/data/amazon``, the canonical files of ``tests/test_cli.py`` and a small deterministic marketplace
whose reported numbers are cxops's own.

Regenerate (only when an output is changed on purpose, and say so in the commit)::

    .venv/bin/python tests/reconcile_golden.py tests/data/reconcile_golden
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from _wh import warehouse
from test_reconcile import ODR_FROM, ODR_TO, rep, tables

from cxops.canonical.schema import TABLES
from cxops.canonical.validate import validate
from cxops.metrics.compute import compute_at
from cxops.warehouse import connect

ROOT = Path(__file__).resolve().parent
GOLDEN = ROOT / "data" / "reconcile_golden"
AS_OF = date(2024, 6, 30)


def _with(t: dict, reported: list[dict], provided=None):
    t = dict(t)
    t["reported_metrics"] = reported
    return warehouse(t, provided)


def _fixture(reported: list[dict], provided=None, **kw) -> Callable:
    return lambda: _with(tables(**kw), reported, provided)


def _violations() -> Callable:
    def v(vid, kind, day, warning=False):
        return {
            "seller_id": "S1",
            "marketplace_id": "US",
            "violation_id": vid,
            "kind": kind,
            "reported_at": datetime(2024, 1, 1, 20) + timedelta(days=day),
            "is_warning": warning,
        }

    def build():
        t = tables()
        t["violations"] = [
            v("v1", "ip_complaint", 0),
            v("v2", "ip_complaint", 100, warning=True),
            v("v3", "listing_policy", 150),
            v("v4", "ip_complaint", 150),
        ]
        f, to = "2024-01-03", "2024-06-30"
        return _with(
            t,
            [
                rep("received_intellectual_property_complaints", "all", f, to, 2),
                rep("listing_policy_violations", "all", f, to, 1),
                rep("policy_violation_warnings", "all", f, to, 2),
                rep("suspected_intellectual_property_violations", "all", f, to, 0),
                rep("product_safety_customer_complaints", "all", f, to, 1),
            ],
        )

    return build


def _shared_feedback() -> Callable:
    def build():
        t = tables()
        t["feedback"] = [dict(f, is_shared=f["order_id"] == "M2") for f in t["feedback"]]
        return _with(t, [rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)])

    return build


def _removed_before() -> Callable:
    def build():
        t = tables()
        t["feedback"] = [
            dict(f, removed_at=datetime(2024, 6, 20)) if f["order_id"] == "M1" else f for f in t["feedback"]
        ]
        return _with(t, [rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)])

    return build


def _claims(decision: str, extra: list | None = None, afn: bool = False) -> Callable:
    def build():
        t = tables()
        rows = [("S1", "M3", "c1", "a_to_z", datetime(2024, 5, 30), decision)] + (extra or [])
        cols = ["seller_id", "order_id", "claim_id", "kind", "filed_at", "decision"]
        t["claims"] = pd.DataFrame(rows, columns=cols)
        return _with(
            t,
            [
                rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 4, 50, 0.08),
                rep("a_to_z_claim_rate", "mfn", ODR_FROM, ODR_TO, 2, 50, 0.04),
                rep("chargeback_rate", "mfn", ODR_FROM, ODR_TO, 1, 50, 0.02),
                rep("negative_feedback_rate", "mfn", ODR_FROM, ODR_TO, 2, 50, 0.04),
            ]
            + (
                [
                    rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 2, 10, 0.2),
                    rep("a_to_z_claim_rate", "afn", ODR_FROM, ODR_TO, 1, 10, 0.1),
                ]
                if afn
                else []
            ),
        )

    return build


def _partial_feedback() -> Callable:
    def build():
        t = tables()
        t["feedback"] = [f for f in t["feedback"] if f["rating"] <= 3]
        t["feedback"].append(
            {"seller_id": "S1", "order_id": "M6", "rating": 1, "submitted_at": datetime(2024, 6, 20)}
        )
        reported = [
            rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 5, 50, 0.1),
            rep("customer_satisfaction_index", "all", "2024-04-01", "2024-06-29", 30, 4, 7.5),
        ]
        provided = {"feedback": ["seller_id", "order_id", "rating", "submitted_at"]}
        return _with(t, reported, provided)

    return build


def _no_feedback() -> Callable:
    def build():
        t = tables()
        del t["feedback"]
        return _with(
            t,
            [
                rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06),
                rep("negative_feedback_rate", "mfn", ODR_FROM, ODR_TO, 2, 50, 0.04),
                rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 1, 10, 0.1),
            ],
        )

    return build


def _units() -> Callable:
    def build():
        t = tables()
        t["shipments"] = [dict(s, units=2 if s["order_id"] == "M40" else 1) for s in t["shipments"]]
        return _with(
            t,
            [
                rep("unit_on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 10, 10, 1.0),
                rep("unit_on_time_delivery_rate", "all", "2024-06-01", "2024-06-14", 9, 11, 0.8182),
                rep("unit_on_time_delivery_rate", "afn", "2024-06-01", "2024-06-14", None, None, 0.5),
            ],
        )

    return build


def _messages() -> Callable:
    def build():
        t = tables()
        t0 = datetime(2024, 5, 1, 17)
        msgs = []
        for i in range(12):
            at = t0 + timedelta(days=2 * i)
            reply = None if i == 3 else at + timedelta(hours=30 if i in (1, 2) else 2 + i)
            msgs.append(
                {
                    "seller_id": "S1",
                    "message_id": f"m{i}",
                    "marketplace_id": "US",
                    "received_at": at,
                    "first_response_at": reply,
                    "no_response_needed": i == 11,
                }
            )
        t["buyer_messages"] = msgs
        return _with(
            t,
            [
                rep("late_response_rate", "all", "2024-04-01", "2024-06-29", 3, 11, 0.2727),
                rep("median_first_response_hours", "all", "2024-04-01", "2024-06-29", None, 8, 7.0),
                rep("late_response_rate", "all", "2024-05-01", "2024-05-10", 2, 6, 0.3333),
            ],
        )

    return build


def _definitions() -> Callable:
    def build():
        t = tables()
        t["violations"] = [
            {
                "seller_id": "S1",
                "marketplace_id": "US",
                "violation_id": "v1",
                "kind": "listing_policy",
                "reported_at": datetime(2024, 5, 1, 20),
            }
        ]
        return _with(
            t,
            [
                rep("late_shipment_rate", "mfn", "2024-05-20", "2024-06-18", 3, 19, 0.1579),
                rep("pre_fulfillment_cancel_rate", "mfn", "2024-06-03", "2024-06-09", 1, 6, 0.1667),
                rep("on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 8, 9, 0.8889),
                rep("on_time_delivery_rate", "all", "2024-06-01", "2024-06-14", 9, 5, 1.0),
                rep("customer_satisfaction_index", "all", "2024-04-01", "2024-06-29", 100, 7, 14.3),
                rep("listing_policy_violations", "all", "2023-12-01", "2024-05-29", 2),
                rep("account_health_rating", "all", "2024-01-01", "2024-06-29", 250),
                rep("document_requests", "all", "2024-01-01", "2024-06-29", 0),
                rep("tenure_days", "all", "2024-01-01", "2024-06-29", 200),
            ],
        )

    return build


def _unit_definition() -> Callable:
    def build():
        t = tables()
        t["shipments"] = [dict(s, units=2 if s["order_id"] == "M40" else 1) for s in t["shipments"]]
        return _with(
            t,
            [
                rep("unit_on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 9, 10, 0.9),
                rep("unit_on_time_delivery_rate", "all", "2024-06-01", "2024-06-14", 8, 8, 1.0),
            ],
        )

    return build


def _populations() -> Callable:
    def build():
        t = tables()
        t["buyer_messages"] = [
            {
                "seller_id": "S1",
                "message_id": "m1",
                "marketplace_id": "US",
                "received_at": datetime(2024, 5, 2, 17),
                "first_response_at": datetime(2024, 5, 2, 19),
            }
        ]
        w = ("2024-06-27", "2024-06-29")
        return _with(
            t,
            [
                rep("pre_fulfillment_cancel_rate", "mfn", *w, 0, 3, 0.0),
                rep("valid_tracking_rate", "mfn", *w, 1, 2, 0.5),
                rep("on_time_delivery_rate", "mfn", *w, 1, 1, 1.0),
                rep("customer_satisfaction_index", "all", *w, 50, 2, 25.0),
                rep("late_response_rate", "all", *w, 1, 2, 0.5),
                rep("unit_on_time_delivery_rate", "mfn", *w, 2, 2, 1.0),
            ],
        )

    return build


def _no_feedback_or_claims() -> Callable:
    def build():
        t = tables(claims=False)
        del t["feedback"]
        return _with(t, [rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)])

    return build


def _low_ratings_only() -> Callable:
    def build():
        t = tables()
        t["feedback"] = [f for f in t["feedback"] if f["rating"] <= 3]
        return _with(t, [rep("customer_satisfaction_index", "all", "2024-04-01", "2024-06-29", 100, 4, 25.0)])

    return build


def _no_orders() -> Callable:
    def build():
        return warehouse(
            {
                "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
                "reported_metrics": [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06),
                    rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
                ],
            }
        )

    return build


def _amazon() -> Callable:
    def build():
        from cxops.ingest.amazon import import_amazon

        wh = connect("memory")
        import_amazon(wh, "A1B2C3", "US", [ROOT / "data" / "amazon"], None)
        return wh

    return build


def _canonical_cli() -> Callable:
    def build():
        orders = [
            {
                "seller_id": "S1",
                "order_id": f"O{i}",
                "marketplace_id": "US",
                "purchased_at": datetime(2024, 5, 10 + i, 18),
                "fulfillment_channel": "MFN",
            }
            for i in range(10)
        ]
        return warehouse(
            {
                "sellers": [{"seller_id": "S1", "marketplace_id": "US"}],
                "orders": orders,
                "feedback": [
                    {"seller_id": "S1", "order_id": "O1", "rating": 1, "submitted_at": datetime(2024, 5, 20)}
                ],
                "reported_metrics": [
                    rep("order_defect_rate", "mfn", "2024-05-01", "2024-06-29", 1, 10, 0.1, reported_at=None),
                    rep(
                        "order_defect_rate",
                        "all",
                        "2024-05-01",
                        "2024-06-29",
                        2,
                        11,
                        0.1818,
                        reported_at=None,
                    ),
                ],
            },
            {"feedback": ["seller_id", "order_id", "rating", "submitted_at"]},
        )

    return build


def small_marketplace(seed: int = 11) -> dict[str, list[dict]]:
    """A deterministic marketplace of three sellers in US and JP, every canonical table filled."""
    rnd = random.Random(seed)
    t0 = datetime(2024, 3, 1)
    out: dict[str, list[dict]] = {k: [] for k in ("sellers", "orders", "shipments", "cancellations")}
    out.update({k: [] for k in ("feedback", "claims", "buyer_messages", "violations")})
    for s, mp in (("S1", "US"), ("S2", "JP"), ("S3", "US")):
        out["sellers"].append({"seller_id": s, "marketplace_id": mp})
        for i in range(60):
            oid = f"{s}-{i}"
            at = t0 + timedelta(hours=rnd.randint(0, 24 * 50))
            ship_by = at + timedelta(hours=rnd.randint(12, 72))
            out["orders"].append(
                {
                    "seller_id": s,
                    "order_id": oid,
                    "marketplace_id": mp,
                    "purchased_at": at,
                    "fulfillment_channel": rnd.choice(["MFN", "MFN", "AFN"]),
                    "latest_ship_at": ship_by,
                    "latest_delivery_at": ship_by + timedelta(hours=rnd.randint(24, 120)),
                }
            )
            if rnd.random() < 0.1:
                out["cancellations"].append(
                    {
                        "seller_id": s,
                        "order_id": oid,
                        "cancelled_at": at + timedelta(hours=1),
                        "initiated_by": rnd.choice(["seller", "buyer", "system"]),
                        "via_buyer_request": rnd.random() < 0.3,
                    }
                )
                continue
            conf = at + timedelta(hours=rnd.randint(1, 90))
            out["shipments"].append(
                {
                    "seller_id": s,
                    "order_id": oid,
                    "shipment_id": "1",
                    "confirmed_at": conf,
                    "carrier": "UPS",
                    "tracking_id": None if rnd.random() < 0.1 else "1Z",
                    "first_scan_at": conf,
                    "delivered_at": None
                    if rnd.random() < 0.1
                    else conf + timedelta(hours=rnd.randint(10, 150)),
                }
            )
            if rnd.random() < 0.4:
                out["feedback"].append(
                    {
                        "seller_id": s,
                        "order_id": oid,
                        "rating": rnd.randint(1, 5),
                        "submitted_at": at + timedelta(days=rnd.randint(2, 15)),
                    }
                )
            if rnd.random() < 0.06:
                out["claims"].append(
                    {
                        "seller_id": s,
                        "order_id": oid,
                        "claim_id": "c",
                        "kind": rnd.choice(["a_to_z", "chargeback"]),
                        "filed_at": at + timedelta(days=5),
                        "decision": rnd.choice([None, "granted", "denied"]),
                    }
                )
            if rnd.random() < 0.3:
                rec = at + timedelta(hours=rnd.randint(1, 100))
                out["buyer_messages"].append(
                    {
                        "seller_id": s,
                        "message_id": f"m-{oid}",
                        "order_id": oid,
                        "received_at": rec,
                        "first_response_at": rec + timedelta(hours=rnd.randint(1, 40)),
                    }
                )
        for k in range(4):
            out["violations"].append(
                {
                    "seller_id": s,
                    "marketplace_id": mp,
                    "violation_id": f"v{k}",
                    "kind": rnd.choice(["ip_complaint", "listing_policy", "safety"]),
                    "reported_at": t0 + timedelta(days=rnd.randint(0, 60)),
                    "severity": rnd.choice([None, "low", "high"]),
                    "is_warning": rnd.random() < 0.5,
                }
            )
    return out


def reported_from_cxops(metrics: pd.DataFrame) -> pd.DataFrame:
    """cxops's own metrics as a marketplace would report them (rates rounded to 4 decimals)."""
    m = metrics[(metrics.status != "not_measured") & (metrics.metric != "tenure_days")].copy()
    counts = m.metric.isin(
        [
            "order_count",
            "on_time_delivery_overdue",
            "account_health_warnings",
            "ip_complaints",
            "major_violations",
        ]
    )
    return pd.DataFrame(
        {
            "seller_id": m.seller_id,
            "marketplace_id": m.marketplace_id,
            "metric": m.metric,
            "channel": m.channel,
            "window_from": m.window_start,
            "window_to": m.window_end,
            "window_days": m.window_days,
            "numerator": m.numerator,
            "denominator": m.denominator,
            "rate": m.value.where(~counts).round(4),
        }
    )


def _own_numbers() -> Callable:
    def build():
        wh = warehouse(small_marketplace())
        reported = reported_from_cxops(compute_at(wh, [date(2024, 4, 25)]))
        res = validate(reported, TABLES["reported_metrics"], "reported.test")
        assert res.quarantined.empty
        wh.upsert(TABLES["reported_metrics"], res.loaded)
        return wh

    return build


def scenarios() -> dict[str, tuple[Callable, date | None]]:
    """Scenario name -> (warehouse builder, as-of date given to reconcile)."""
    odr3 = [
        rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06, window_days=60),
        rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 1, 10, 0.1),
        rep("order_defect_rate", "all", ODR_FROM, ODR_TO, 4, 60, 0.0667),
    ]
    file_ = {"reported_at": None, "source_file": "health.json"}
    odr = rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06)
    return {
        "odr_lagged": (_fixture(odr3), AS_OF),
        "arbitrary_windows": (
            _fixture(
                [
                    rep("late_shipment_rate", "mfn", "2024-05-20", "2024-06-18", 2, 19, 0.1053),
                    rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-12", 2, 7, 0.2857),
                    rep("pre_fulfillment_cancel_rate", "mfn", "2024-06-03", "2024-06-09", 2, 6, 0.3333),
                    # reported for 'all': cxops computes these for MFN only (channel note)
                    rep("late_shipment_rate", "all", "2024-05-20", "2024-06-18", 2, 19, 0.1053),
                    # counts agree, the rate does not (report_inconsistent)
                    rep("valid_tracking_rate", "mfn", "2024-05-01", "2024-05-30", 30, 30, 0.9),
                    # one valid tracking less than cxops: no rule, a definition note
                    rep("valid_tracking_rate", "mfn", "2024-05-02", "2024-05-31", 29, 30, 0.9667),
                    # the report states 59 days for a 60-day span
                    rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 1, 10, 0.1, window_days=59),
                    # numbers off with no rule at all: unexplained
                    rep("order_count", "mfn", "2024-05-01", "2024-05-30", 40),
                ]
            ),
            AS_OF,
        ),
        "report_date_from_file": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 50, 0.06, **file_),
                    rep("late_shipment_rate", "mfn", "2024-06-01", "2024-06-30", 2, 8, 0.25, **file_),
                    rep("account_status", "all", "2024-06-30", "2024-06-30", status="NORMAL", **file_),
                    rep("ahr_status", "all", "2024-01-01", "2024-06-29", status="GREAT", **file_),
                ],
                removed=True,
            ),
            AS_OF,
        ),
        "counts_exact": (
            _fixture([rep("late_shipment_rate", "mfn", "2024-05-20", "2024-06-18", 4, 38, 0.1053)]),
            AS_OF,
        ),
        "removed_feedback": (_fixture([odr], removed=True), AS_OF),
        "missing_claims": (
            _fixture(
                [
                    odr,
                    rep("a_to_z_claim_rate", "mfn", ODR_FROM, ODR_TO, 1, 50, 0.02),
                    rep("chargeback_rate", "mfn", ODR_FROM, ODR_TO, 0, 50, 0.0),
                    rep("negative_feedback_rate", "mfn", ODR_FROM, ODR_TO, 2, 50, 0.04),
                    rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 2, 10, 0.2),
                ],
                claims=False,
            ),
            AS_OF,
        ),
        "orders_missing": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 0, 50, 0.0),
                    rep("order_count", "all", "2024-04-18", "2024-05-17", 30),
                    rep("late_shipment_rate", "mfn", "2024-04-20", "2024-05-19", 1, 30, 0.0333),
                ],
                first_day=datetime(2024, 5, 1),
            ),
            AS_OF,
        ),
        "orders_extra": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 45, 0.0667),
                    rep("on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 9, 12, 0.75),
                    rep("customer_satisfaction_index", "all", "2024-04-01", "2024-06-29", 100, 3, 33.3),
                ]
            ),
            AS_OF,
        ),
        "utc_days": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 51, 0.0588),
                ]
            ),
            AS_OF,
        ),
        # closer by UTC days, not exact
        "utc_days_closer": (
            _fixture([rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 3, 52, 0.0577, window_days=60)]),
            AS_OF,
        ),
        "channel": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 4, 60, 0.0667),
                    rep("pre_fulfillment_cancel_rate", "mfn", "2024-05-01", "2024-05-10", 0, 20, 0.0),
                    rep("order_defect_rate", "mfn", "2024-05-01", "2024-05-10", 0, 13, 0.0),
                ]
            ),
            AS_OF,
        ),
        "after_report": (_fixture([odr], late_claim=True), AS_OF),
        "unit_otdr_without_units": (
            _fixture(
                [
                    rep("unit_on_time_delivery_rate", "mfn", "2024-06-01", "2024-06-14", 20, 22, 0.9091),
                    rep("unit_on_time_delivery_rate", "all", "2024-06-01", "2024-06-14", None, None, 0.9),
                ]
            ),
            AS_OF,
        ),
        "unit_otdr_with_units": (_units(), AS_OF),
        "violations": (_violations(), AS_OF),
        "not_computable": (
            _fixture(
                [
                    rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
                    rep("invoice_defect_rate", "all", "2024-06-10", "2024-06-16", 0, 3, 0.0),
                    rep("warning_state_listing_policy", "all", "2024-06-30", "2024-06-30", 0),
                    rep("some_new_metric", "all", "2024-06-01", "2024-06-30", 1, 2, 0.5),
                    rep("pre_fulfillment_cancellation_rate", "mfn", "2024-06-03", "2024-06-09", 2, 6, 0.3333),
                    rep("late_response_rate", "all", "2024-04-01", "2024-06-29", 1, 10, 0.1),
                ]
            ),
            AS_OF,
        ),
        "no_raw_data": (
            _fixture(
                [
                    rep("order_defect_rate", "mfn", "2023-01-01", "2023-03-01", 0, 120, 0.0),
                    rep("order_count", "mfn", "2023-01-01", "2023-03-01", 12),
                    rep("late_shipment_rate", "mfn", "2024-06-20", "2024-06-24", 0, 4, 0.0),
                    rep("order_defect_rate", "mfn", "2024-06-01", "2024-06-07", 0, 0, None),
                    rep("order_defect_rate", "mfn", ODR_FROM, ODR_TO, 1, 20, 0.05, seller_id="S9"),
                ]
            ),
            AS_OF,
        ),
        "every_verdict": (
            _fixture(
                [
                    odr,
                    rep("order_defect_rate", "afn", ODR_FROM, ODR_TO, 2, 10, 0.2),
                    rep("ahr_score", "all", "2024-01-01", "2024-06-29", 250),
                    rep("order_defect_rate", "all", "2023-01-01", "2023-03-01", 0, 120, 0.0),
                ]
            ),
            AS_OF,
        ),
        "shared_feedback": (_shared_feedback(), AS_OF),
        "claims_decided": (_claims("denied"), AS_OF),
        "claims_in_raw_data": (
            _claims("granted", [("S1", "M7", "c2", "chargeback", datetime(2024, 6, 1), None)], afn=True),
            AS_OF,
        ),
        "removed_before_report": (_removed_before(), AS_OF),
        "feedback_partial": (_partial_feedback(), AS_OF),
        "feedback_missing": (_no_feedback(), AS_OF),
        "messages": (_messages(), AS_OF),
        "definitions": (_definitions(), AS_OF),
        "unit_definition": (_unit_definition(), AS_OF),
        "populations": (_populations(), AS_OF),
        "no_feedback_or_claims": (_no_feedback_or_claims(), AS_OF),
        "low_ratings_only": (_low_ratings_only(), AS_OF),
        "no_orders": (_no_orders(), None),
        "amazon_reports": (_amazon(), None),
        "canonical_cli": (_canonical_cli(), None),
        "own_numbers": (_own_numbers(), None),
    }


def table_cells(table) -> dict:
    """A rich table as plain text: header, caption and each column's cells."""
    return {
        "title": None if table.title is None else str(table.title),
        "caption": None if table.caption is None else str(table.caption),
        "columns": [
            {"header": str(c.header), "cells": [getattr(x, "plain", str(x)) for x in c.cells]}
            for c in table.columns
        ],
    }


def snapshot(frame: pd.DataFrame, table, summary: str) -> dict:
    """Every output of one reconcile run, as JSON-ready values."""
    from cxops.report.files import to_csv, to_jsonl

    return {
        "jsonl": [json.loads(line) for line in to_jsonl(frame).splitlines()],
        "csv": to_csv(frame),
        "summary": summary,
        "table": table_cells(table),
    }


def result(name: str):
    """The :class:`cxops.reconcile.Reconciliation` of scenario ``name`` computed by the current code."""
    from cxops.reconcile import reconcile

    build, as_of = scenarios()[name]
    return reconcile(build(), as_of)


def outputs(res, lang="en") -> dict:
    """The snapshot of a reconciliation rendered in ``lang`` (a code or a Translator)."""
    from cxops.report.reconcile import reconcile_frame, reconcile_summary, reconcile_table

    frame = reconcile_frame(res, lang=lang)
    if "source_file" in frame.columns:  # snapshots hold paths relative to the repository
        prefix = str(ROOT.parent) + "/"
        frame["source_file"] = frame["source_file"].map(
            lambda v: v.removeprefix(prefix) if isinstance(v, str) else v
        )
    return snapshot(frame, reconcile_table(frame, lang=lang), reconcile_summary(frame, lang=lang))


def current(name: str, lang: str = "en") -> dict:
    """The snapshot of scenario ``name`` computed by the current code."""
    return outputs(result(name), lang)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in scenarios():
        snap = current(name)
        (out / f"{name}.json").write_text(json.dumps(snap, ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(name, len(snap["jsonl"]), "rows")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN)
