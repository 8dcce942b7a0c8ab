"""Enqueue messages in the outbox, in the caller's transaction (so a message exists iff its event does).

- :func:`enqueue_for_events` — the daily job: its program events and alerts (two DataFrames) become
  messages, in bulk, in the transaction that writes the events.
- :func:`enqueue` — any typed contexts (cases, documents): ``[(source_key, context), …]``.
- :func:`compose_digests` — held alerts whose digest time has come become one message per contact.

Each context goes to every active e-mail contact of its seller and marketplace (or of all the seller's
marketplaces) that has not muted its kind — warnings and removal notices go to every contact whatever
it muted — and to every active webhook endpoint of the seller (or of all sellers) that takes its kind.
A message's idempotency key is ``<source key>|<channel>|<contact or endpoint id>``: enqueueing the same
event twice (a job rerun after a crash) writes nothing the second time. Alerts for a contact that
asked for a digest are ``held`` until the next digest hour.

Which events make which message (:func:`message_kind`): a transition to ``enrolled`` from outside the
program is an invitation, from ``removed``/``recovering``/``suspended``/``blocked`` (or to ``immune``) a
re-admission; to ``at_risk`` a warning; to ``removed``/``suspended``/``blocked`` a removal notice;
to ``recovering`` the start of recovery; from ``recovering`` to ``candidate``/``not_eligible`` back in
the pool. Operator actions that change the state (``action`` events: suspend, reinstate, accept a
plan) are read the same way, with the operator's reason quoted in a removal notice. Other transitions
and event kinds (refused actions, breaches logged under immunity) send nothing; alert-level crossings
come through the alerts frame.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Any

import pandas as pd
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from cxops.errors import InputError
from cxops.notify.messages import (
    DIGESTED,
    MANDATORY,
    Alert,
    BackInPool,
    BenefitLine,
    Clearing,
    DefectOrder,
    Digest,
    Finding,
    Invitation,
    Manager,
    Readmitted,
    RecoveryStarted,
    Removal,
    Seller,
    Warning,
    from_params,
    kind_of,
    to_params,
)
from cxops.policy.gap import numerator_gap, threshold_fraction
from cxops.store import bulk
from cxops.store.models import ALL_MARKETPLACES, AccountManager, Benefit, Membership
from cxops.store.notify_models import NotifyContact, OutboxMessage, WebhookEndpoint
from cxops.store.types import utcnow

OUTBOX = OutboxMessage.__table__
CONTACTS = NotifyContact.__table__
ENDPOINTS = WebhookEndpoint.__table__

#: Columns of the alerts frame :func:`enqueue_for_events` reads (``kind`` one of
#: :data:`cxops.notify.messages.ALERT_KINDS`; ``idempotency_key`` unique per alert).
ALERT_COLUMNS = [
    "seller_id",
    "marketplace_id",
    "kind",
    "idempotency_key",
    "alert_date",
    "order_id",
    "rating",
    "metric",
    "value",
    "threshold",
    "operator",
    "numerator",
    "denominator",
    "window_days",
    "projected_date",
    "orders_needed",
    "provisional",
]
OUTSIDE = {"candidate", "not_eligible", None}
RETURNING = {"removed", "recovering", "suspended", "blocked"}
REMOVAL_STATES = {"removed": "removed", "suspended": "suspended", "blocked": "blocked"}


@dataclass
class EnqueueContext:
    """What the daily job knows beyond its events, for the message texts.

    Attributes
    ----------
    program : str
        The program (policy name) of the events.
    next_evaluation : date, optional
        The next evaluation date (invitations, warnings, back in the pool).
    recovery_stable_days : int, optional
        The policy's recovery period (removal notices: the earliest completion date is the event
        date plus this many days − 1; recovery started: the same from its first day).
    documents : tuple of str
        Document kinds a new member must provide (invitation), e.g. ``("w8ben", "business_licence")``.
    defects : DataFrame, optional
        The defective orders behind the warnings: ``seller_id, marketplace_id, metric, order_id, kind,
        day`` and optionally ``drops_out_on`` (the first day it no longer counts).
    seller_names : mapping, optional
        ``seller_id`` → display name.
    max_orders : int
        Orders listed in a warning (the total is always given).
    now : datetime, optional
        The enqueue instant (UTC; default now).
    mail_domain : str, optional
        Domain of the Message-IDs (default: the domain of ``CXOPS_SMTP_FROM``).
    digest_hour : int, optional
        UTC hour of the daily digest (default ``CXOPS_NOTIFY_DIGEST_HOUR``).
    """

    program: str
    next_evaluation: date | None = None
    recovery_stable_days: int | None = None
    documents: tuple[str, ...] = ()
    defects: pd.DataFrame | None = None
    seller_names: Mapping[str, str] | None = None
    max_orders: int = 20
    now: datetime | None = None
    mail_domain: str | None = None
    digest_hour: int | None = None


@dataclass
class EnqueueResult:
    """What was enqueued: ``messages`` rows written (``held`` of them for digests), ``by_kind``,
    and ``unreachable``: contexts with no recipient at all (no contact, no endpoint)."""

    messages: int = 0
    held: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    unreachable: int = 0

    def __add__(self, other: EnqueueResult) -> EnqueueResult:
        kinds = Counter(self.by_kind)
        kinds.update(other.by_kind)
        return EnqueueResult(
            self.messages + other.messages,
            self.held + other.held,
            dict(kinds),
            self.unreachable + other.unreachable,
        )


def _settings():
    from cxops.settings import get_settings

    return get_settings()


def mail_domain(from_address: str) -> str:
    """The domain of a From address (``cxops <noreply@example.com>`` → ``example.com``)."""
    addr = parseaddr(from_address)[1]
    return addr.rpartition("@")[2] or "cxops.invalid"


def make_message_id(idempotency_key: str, domain: str) -> str:
    """The Message-ID of a message: a digest of its idempotency key at ``domain`` (the same on every
    attempt, so a receiver can drop a copy)."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def next_digest_at(now: datetime, hour: int) -> datetime:
    """The first digest instant (``hour``:00 UTC) strictly after ``now``."""
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


# -- recipients ----------------------------------------------------------------------------------


def _recipients(session: Session, sellers: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    sellers = list(sellers)
    contacts = bulk.frame(
        session,
        bulk.for_sellers(
            select(
                CONTACTS.c.id,
                CONTACTS.c.seller_id,
                CONTACTS.c.marketplace_id,
                CONTACTS.c.email,
                CONTACTS.c.language,
                CONTACTS.c.muted,
                CONTACTS.c.digest,
            ).where(CONTACTS.c.active),
            CONTACTS,
            sellers,
        ),
    )
    endpoints = bulk.frame(
        session,
        select(
            ENDPOINTS.c.id,
            ENDPOINTS.c.seller_id,
            ENDPOINTS.c.marketplace_id,
            ENDPOINTS.c.url,
            ENDPOINTS.c.language,
            ENDPOINTS.c.kinds,
        ).where(ENDPOINTS.c.active),
    )
    return contacts, endpoints


def enqueue(
    session: Session,
    items: Iterable[tuple[str, Seller]],
    *,
    now: datetime | None = None,
    domain: str | None = None,
    digest_hour: int | None = None,
) -> EnqueueResult:
    """Put one message per recipient of each ``(source_key, context)`` in the outbox (see the module
    docstring for who receives what).

    Parameters
    ----------
    session : Session
        The caller's transaction (the event's, the case's).
    items : iterable of (str, Seller)
        ``source_key`` — a key unique to what happened (the event's idempotency key) — and the typed
        message context (:mod:`cxops.notify.messages`).
    now, domain, digest_hour
        The enqueue instant, the Message-ID domain and the digest hour (defaults from settings).

    Returns
    -------
    EnqueueResult

    Raises
    ------
    InputError
        A source key given twice, or an object that is not a message context.
    """
    items = list(items)
    if not items:
        return EnqueueResult()
    keys = [k for k, _ in items]
    if len(set(keys)) != len(keys):
        dup = next(k for k, n in Counter(keys).items() if n > 1)
        raise InputError(f"source key {dup!r} appears twice in one batch of messages")
    if domain is None or digest_hour is None:
        s = _settings()
        domain = domain or mail_domain(s.smtp_from)
        digest_hour = s.notify_digest_hour if digest_hour is None else digest_hour
    now = now or utcnow()
    frame = pd.DataFrame(
        {
            "source_key": keys,
            "seller_id": [c.seller_id for _, c in items],
            "marketplace_id": [c.marketplace_id for _, c in items],
            "program": [c.program for _, c in items],
            "kind": [kind_of(c) for _, c in items],
            "params": [to_params(c) for _, c in items],
        }
    )
    contacts, endpoints = _recipients(session, frame["seller_id"].unique())
    rows = []
    email = frame.merge(contacts, on="seller_id", suffixes=("", "_c"))
    if len(email):
        same_market = (email["marketplace_id_c"] == email["marketplace_id"]) | (
            email["marketplace_id_c"] == ALL_MARKETPLACES
        )
        wants = [
            k in MANDATORY or k not in (m or []) for k, m in zip(email["kind"], email["muted"], strict=True)
        ]
        email = email[same_market & pd.Series(wants, index=email.index)]
        # one message per address: a marketplace's own contact row wins over the seller-wide one
        email = email.assign(_specific=email["marketplace_id_c"] != ALL_MARKETPLACES)
        email = email.sort_values("_specific", ascending=False).drop_duplicates(["source_key", "email"])
        held_at = next_digest_at(now, digest_hour)
        for r in email.itertuples(index=False):
            held = bool(r.digest) and r.kind in DIGESTED
            rows.append(
                (
                    r,
                    "email",
                    int(r.id),
                    None,
                    r.email,
                    r.language,
                    "held" if held else "pending",
                    held_at if held else now,
                )
            )
    hooks = frame.merge(endpoints, how="cross", suffixes=("", "_e")) if len(endpoints) else frame.iloc[0:0]
    if len(hooks):
        match = (
            hooks["seller_id_e"].isin([ALL_MARKETPLACES]) | (hooks["seller_id_e"] == hooks["seller_id"])
        ) & (
            hooks["marketplace_id_e"].isin([ALL_MARKETPLACES])
            | (hooks["marketplace_id_e"] == hooks["marketplace_id"])
        )
        takes = [ks is None or k in ks for k, ks in zip(hooks["kind"], hooks["kinds"], strict=True)]
        for r in hooks[match & pd.Series(takes, index=hooks.index)].itertuples(index=False):
            rows.append((r, "webhook", None, int(r.id), r.url, r.language, "pending", now))
    reached = {r[0].source_key for r in rows}
    result = EnqueueResult(unreachable=len(set(keys) - reached))
    if not rows:
        return result
    out = pd.DataFrame(
        {
            "idempotency_key": [
                f"{r.source_key}|{ch}|{cid if cid is not None else eid}" for r, ch, cid, eid, *_ in rows
            ],
            "program": [r.program for r, *_ in rows],
            "seller_id": [r.seller_id for r, *_ in rows],
            "marketplace_id": [r.marketplace_id for r, *_ in rows],
            "kind": [r.kind for r, *_ in rows],
            "channel": [row[1] for row in rows],
            "contact_id": pd.array([row[2] for row in rows], dtype="Int64"),
            "endpoint_id": pd.array([row[3] for row in rows], dtype="Int64"),
            "recipient": [row[4] for row in rows],
            "language": [row[5] for row in rows],
            "params": [r.params for r, *_ in rows],
            "source_key": [r.source_key for r, *_ in rows],
            "status": [row[6] for row in rows],
            "available_at": [row[7] for row in rows],
        }
    )
    out["message_id"] = [make_message_id(k, domain) for k in out["idempotency_key"]]
    written = bulk.write(
        session, OUTBOX, out, fixed={"created_at": now, "attempts": 0}, conflict=["idempotency_key"]
    )
    result.messages = written
    if written == len(out):
        result.held = int((out["status"] == "held").sum())
        result.by_kind = {str(k): int(v) for k, v in out["kind"].value_counts().items()}
    else:  # some were enqueued before (a rerun): count what this call wrote
        mine = bulk.frame(
            session,
            select(OUTBOX.c.kind, OUTBOX.c.status).where(
                OUTBOX.c.idempotency_key.in_(list(out["idempotency_key"])), OUTBOX.c.created_at == now
            ),
        )
        result.held = int((mine["status"] == "held").sum())
        result.by_kind = {str(k): int(v) for k, v in mine["kind"].value_counts().items()}
    return result


def enqueue_message(session: Session, source_key: str, context: Seller, **options: Any) -> EnqueueResult:
    """Enqueue one context (a case update, a document reminder) in the caller's transaction."""
    return enqueue(session, [(source_key, context)], **options)


# -- from the daily job's events and alerts -----------------------------------------------------------


def message_kind(kind: str, from_state: str | None, to_state: str | None) -> str | None:
    """The message an event makes (``None``: none); see the module docstring."""
    if kind not in ("transition", "action") or (kind == "action" and from_state == to_state):
        return None
    if to_state == "enrolled":
        if from_state in OUTSIDE:
            return "invitation"
        return "readmitted" if from_state in RETURNING else None
    if to_state == "immune":
        return "readmitted"
    if to_state == "at_risk":
        return "warning"
    if to_state in REMOVAL_STATES:
        return "removal"
    if to_state == "recovering":
        return "recovery_started"
    if from_state == "recovering" and to_state in ("candidate", "not_eligible"):
        return "back_in_pool"
    return None


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return float(value)


def _int(value: Any) -> int | None:
    v = _num(value)
    return None if v is None else int(v)


def _day(value: Any) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _params(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return {}


def _findings(ev: Mapping[str, Any]) -> tuple[Finding, ...]:
    """The criteria an event was decided on: its reason's criteria, with the event's counts on the one
    that decided it; the event's own numbers when the reason lists none."""
    own = Finding(
        metric=ev.get("metric") or "",
        value=_num(ev.get("value")),
        threshold=_num(ev.get("threshold")),
        operator=ev.get("operator") if isinstance(ev.get("operator"), str) else None,
        numerator=_num(ev.get("numerator")),
        denominator=_num(ev.get("denominator")),
        window_days=_int(ev.get("window_days")),
        rule_id=ev.get("rule_id") if isinstance(ev.get("rule_id"), str) else None,
    )
    out = []
    for c in _params(ev.get("reason_params")).get("criteria") or []:
        p = c.get("params") or {}
        if not p.get("metric"):
            continue
        f = Finding(
            metric=p["metric"],
            value=_num(p.get("value")),
            threshold=_num(p.get("threshold")),
            operator=p.get("op"),
            window_days=_int(p.get("window_days")),
            rule_id=p.get("rule_id"),
            test=p.get("test") or "value",
        )
        if f.metric == own.metric and f.window_days == own.window_days and f.test == "value":
            f = Finding(**{**f.__dict__, "numerator": own.numerator, "denominator": own.denominator})
        out.append(f)
    if not out and own.metric:
        out.append(own)
    return tuple(out)


def clearing(f: Finding, leaving: int | None = None) -> Clearing | None:
    """What would bring a breached rate back within its bar: defects fewer at the same volume
    (:func:`cxops.policy.gap.numerator_gap`) and, for an upper bar (``>``/``>=`` breaches), defect-free
    orders that would dilute it (the smallest ``m`` with ``n / (d + m)`` no longer breaching)."""
    n, d = f.numerator, f.denominator
    if (
        f.test != "value"
        or n is None
        or not d
        or f.threshold is None
        or f.operator not in ("<", "<=", ">", ">=")
    ):
        return None
    n, d = int(n), int(d)
    gap = numerator_gap(n, d, f.operator, f.threshold) if 0 <= n <= d else None
    more = None
    p, q = threshold_fraction(f.threshold)
    if f.operator in (">", ">=") and p > 0:
        # breach while n*q > p*(d+m) (">") or n*q >= p*(d+m) (">="): smallest d+m ending it
        total = -(-n * q // p) if f.operator == ">" else n * q // p + 1
        more = max(0, total - d) or None
    fewer = -gap if gap is not None and gap < 0 else None
    if fewer is None and more is None:
        return None
    return Clearing(fewer_defects=fewer, leaving=leaving, more_orders=more)


def _people(session: Session, program: str, sellers: list[str]) -> tuple[dict, dict]:
    """Account managers and open benefits of the members concerned: ``{(seller, market): Manager}``,
    ``{(seller, market): [BenefitLine]}``."""
    m = Membership.__table__
    am = AccountManager.__table__
    managers = bulk.frame(
        session,
        bulk.for_sellers(
            select(m.c.seller_id, m.c.marketplace_id, am.c.name, am.c.email)
            .join(am, am.c.id == m.c.account_manager_id)
            .where(m.c.program == program),
            m,
            sellers,
        ),
    )
    b = Benefit.__table__
    benefits = bulk.frame(
        session,
        bulk.for_sellers(
            select(b.c.seller_id, b.c.marketplace_id, b.c.benefit, b.c.tier)
            .where(b.c.program == program, b.c.effective_to.is_(None))
            .order_by(b.c.id),
            b,
            sellers,
        ),
    )
    mgr = {
        (r.seller_id, r.marketplace_id): Manager(r.name, r.email if isinstance(r.email, str) else None)
        for r in managers.itertuples(index=False)
    }
    ben: dict[tuple[str, str], list[BenefitLine]] = {}
    for r in benefits.itertuples(index=False):
        ben.setdefault((r.seller_id, r.marketplace_id), []).append(
            BenefitLine(r.benefit, r.tier if isinstance(r.tier, str) else None)
        )
    return mgr, ben


def _defects(ctx: EnqueueContext) -> dict[tuple[str, str, str], pd.DataFrame]:
    if ctx.defects is None or ctx.defects.empty:
        return {}
    d = ctx.defects.sort_values(["seller_id", "marketplace_id", "metric", "day", "order_id"])
    return {key: g for key, g in d.groupby(["seller_id", "marketplace_id", "metric"], sort=False)}


def _warning(ev, who, ctx: EnqueueContext, defects) -> Warning:
    findings = _findings(ev)
    params = _params(ev.get("reason_params"))
    orders: list[DefectOrder] = []
    total = 0
    clears = []
    for f in findings:
        g = defects.get((who["seller_id"], who["marketplace_id"], f.metric))
        leaving = None
        if g is not None:
            total += len(g)
            drops = g["drops_out_on"] if "drops_out_on" in g.columns else None
            if drops is not None and ctx.next_evaluation is not None:
                leaving = int((pd.to_datetime(drops) <= pd.Timestamp(ctx.next_evaluation)).sum())
            for r in g.head(max(0, ctx.max_orders - len(orders))).itertuples(index=False):
                orders.append(
                    DefectOrder(
                        str(r.order_id), str(r.kind), _day(r.day), _day(getattr(r, "drops_out_on", None))
                    )
                )
        clears.append(clearing(f, leaving))
    return Warning(
        **who,
        event_date=_day(ev.get("event_date", ev.get("date"))),
        findings=findings,
        clearing=tuple(clears),
        orders=tuple(orders),
        orders_total=total,
        next_evaluation=ctx.next_evaluation,
        count=_int(params.get("count")),
        consecutive=_int(params.get("consecutive")),
    )


def contexts_for_events(
    session: Session, events: pd.DataFrame, ctx: EnqueueContext
) -> list[tuple[str, Seller]]:
    """The message contexts of the daily job's events (only the events that make a message)."""
    if events is None or events.empty:
        return []
    kinds = [
        message_kind(k, f if isinstance(f, str) else None, t if isinstance(t, str) else None)
        for k, f, t in zip(
            events["kind"],
            events.get("from_state", [None] * len(events)),
            events.get("to_state", [None] * len(events)),
            strict=True,
        )
    ]
    chosen = events.assign(_message=kinds)
    chosen = chosen[chosen["_message"].notna()]
    if chosen.empty:
        return []
    names = ctx.seller_names or {}
    sellers = sorted(set(chosen["seller_id"]))
    need_people = chosen["_message"].isin(["invitation", "readmitted"]).any()
    managers, benefits = _people(session, ctx.program, sellers) if need_people else ({}, {})
    defects = _defects(ctx)
    out: list[tuple[str, Seller]] = []
    for ev in chosen.to_dict("records"):
        key = (ev["seller_id"], ev["marketplace_id"])
        who = {
            "seller_id": ev["seller_id"],
            "marketplace_id": ev["marketplace_id"],
            "program": ctx.program,
            "seller_name": names.get(ev["seller_id"]),
        }
        day = _day(ev.get("event_date", ev.get("date")))
        kind = ev["_message"]
        stable = ctx.recovery_stable_days
        if kind == "invitation":
            c: Seller = Invitation(
                **who,
                enrolled_on=day,
                benefits=tuple(benefits.get(key, ())),
                documents=tuple(ctx.documents),
                manager=managers.get(key),
                next_evaluation=ctx.next_evaluation,
            )
        elif kind == "warning":
            c = _warning(ev, who, ctx, defects)
        elif kind == "removal":
            action = REMOVAL_STATES[ev["to_state"]]
            earliest = day + timedelta(days=stable) if stable and day and action != "blocked" else None
            note = None
            if ev.get("kind") == "action":
                note = next(
                    (v for v in (ev.get("action_reason"), ev.get("reason")) if isinstance(v, str) and v), None
                )
            c = Removal(
                **who,
                event_date=day,
                action=action,
                reasons=_findings(ev),
                stable_days=stable,
                recovery_earliest=earliest,
                note=note,
            )
        elif kind == "recovery_started":
            earliest = day + timedelta(days=stable - 1) if stable and day else None
            c = RecoveryStarted(**who, event_date=day, stable_days=stable, earliest_complete=earliest)
        elif kind == "back_in_pool":
            c = BackInPool(**who, event_date=day, next_evaluation=ctx.next_evaluation)
        else:
            until = _params(ev.get("reason_params")).get("immune_until") or _params(
                ev.get("reason_params")
            ).get("until")
            c = Readmitted(
                **who,
                event_date=day,
                immunity_until=_day(until) if until else None,
                manager=managers.get(key),
            )
        out.append((ev["idempotency_key"], c))
    return out


def contexts_for_alerts(alerts: pd.DataFrame, ctx: EnqueueContext) -> list[tuple[str, Seller]]:
    """The message contexts of the daily job's alerts (columns :data:`ALERT_COLUMNS`)."""
    if alerts is None or alerts.empty:
        return []
    names = ctx.seller_names or {}
    out: list[tuple[str, Seller]] = []
    for a in alerts.to_dict("records"):
        metric = a.get("metric")
        finding = None
        if isinstance(metric, str) and metric:
            finding = Finding(
                metric,
                _num(a.get("value")),
                _num(a.get("threshold")),
                a.get("operator") or None,
                _num(a.get("numerator")),
                _num(a.get("denominator")),
                _int(a.get("window_days")),
            )
        out.append(
            (
                a["idempotency_key"],
                Alert(
                    seller_id=a["seller_id"],
                    marketplace_id=a["marketplace_id"],
                    program=ctx.program,
                    seller_name=names.get(a["seller_id"]),
                    alert=a["kind"],
                    alert_date=_day(a.get("alert_date")),
                    order_id=a.get("order_id") if isinstance(a.get("order_id"), str) else None,
                    rating=_int(a.get("rating")),
                    finding=finding,
                    projected_date=_day(a.get("projected_date")),
                    orders_needed=_int(a.get("orders_needed")),
                    provisional=bool(a.get("provisional") or False),
                ),
            )
        )
    return out


def enqueue_for_events(
    session: Session, events: pd.DataFrame | None, alerts: pd.DataFrame | None, context: EnqueueContext
) -> EnqueueResult:
    """Enqueue the messages of the daily job's events and alerts, in its transaction.

    Parameters
    ----------
    session : Session
        The transaction that writes the events (call this after memberships, benefits and manager
        assignments are written: invitations read them).
    events : DataFrame
        The events as the event log stores them (:data:`cxops.store.EVENT_COLUMNS`; the lifecycle's
        ``date`` is read as ``event_date``): at least ``seller_id, marketplace_id, event_date, kind,
        from_state, to_state``, and the deciding criterion's
        ``metric, value, numerator, denominator, threshold, operator, window_days, reason_params``)
        plus ``idempotency_key``, the event log's key.
    alerts : DataFrame
        Alerts with :data:`ALERT_COLUMNS` (``kind``: negative_feedback, a_to_z_claim, chargeback,
        alert_level, projected_breach).
    context : EnqueueContext

    Returns
    -------
    EnqueueResult
    """
    items = contexts_for_events(session, events, context) + contexts_for_alerts(alerts, context)
    return enqueue(
        session, items, now=context.now, domain=context.mail_domain, digest_hour=context.digest_hour
    )


# -- digests ----------------------------------------------------------------------------------------


def compose_digests(session: Session, now: datetime | None = None) -> int:
    """Bundle held alerts that are due into one ``digest`` message per contact, seller and marketplace;
    the alerts become ``bundled`` (``bundle_id`` = the digest). Returns the digests written."""
    now = now or utcnow()
    held = bulk.frame(
        session,
        select(
            OUTBOX.c.id,
            OUTBOX.c.contact_id,
            OUTBOX.c.seller_id,
            OUTBOX.c.marketplace_id,
            OUTBOX.c.program,
            OUTBOX.c.recipient,
            OUTBOX.c.language,
            OUTBOX.c.params,
            OUTBOX.c.available_at,
            OUTBOX.c.message_id,
        )
        .where(OUTBOX.c.status == "held", OUTBOX.c.available_at <= now)
        .order_by(OUTBOX.c.id),
    )
    if held.empty:
        return 0
    written = 0
    for (contact, seller, market, at), g in held.groupby(
        ["contact_id", "seller_id", "marketplace_id", "available_at"], sort=True
    ):
        at = pd.Timestamp(at).to_pydatetime()
        first = g.iloc[0]
        alerts = tuple(from_params("alert", p) for p in g["params"])
        digest = Digest(
            seller_id=seller,
            marketplace_id=market,
            program=first["program"],
            seller_name=alerts[0].seller_name,
            day=at.date(),
            alerts=alerts,
        )
        key = f"digest|{int(contact)}|{seller}|{market}|{at.isoformat()}"
        domain = str(first["message_id"]).rpartition("@")[2].rstrip(">")
        row = pd.DataFrame(
            [
                {
                    "idempotency_key": key,
                    "message_id": make_message_id(key, domain),
                    "program": first["program"],
                    "seller_id": seller,
                    "marketplace_id": market,
                    "kind": "digest",
                    "channel": "email",
                    "contact_id": int(contact),
                    "recipient": first["recipient"],
                    "language": first["language"],
                    "params": to_params(digest),
                    "source_key": None,
                    "status": "pending",
                    "available_at": now,
                    "created_at": now,
                    "attempts": 0,
                }
            ]
        )
        written += bulk.write(session, OUTBOX, row, conflict=["idempotency_key"])
        bundle = session.execute(select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == key)).scalar_one()
        session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id.in_([int(i) for i in g["id"]]), OUTBOX.c.status == "held"))
            .values(status="bundled", bundle_id=bundle)
        )
    return written


# -- reading and requeueing ---------------------------------------------------------------------------


def list_outbox(
    session: Session,
    *,
    status: str | None = None,
    seller_id: str | None = None,
    limit: int = 50,
) -> pd.DataFrame:
    """Outbox messages, newest first (without their params)."""
    cols = [c for c in OUTBOX.c if c.name != "params"]
    stmt = select(*cols).order_by(OUTBOX.c.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(OUTBOX.c.status == status)
    if seller_id:
        stmt = stmt.where(OUTBOX.c.seller_id == seller_id)
    return bulk.frame(session, stmt)


def status_counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    from sqlalchemy import func

    rows = session.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)).all()
    return {s: int(n) for s, n in rows}


def kind_counts(session: Session, status: str | None = None) -> dict[str, int]:
    """Messages per kind (``invitation``, ``warning``, …), optionally only those with ``status``."""
    from sqlalchemy import func

    stmt = select(OUTBOX.c.kind, func.count()).group_by(OUTBOX.c.kind).order_by(OUTBOX.c.kind)
    if status:
        stmt = stmt.where(OUTBOX.c.status == status)
    return {k: int(n) for k, n in session.execute(stmt).all()}


def requeue(session: Session, message_id: int, now: datetime | None = None) -> None:
    """Send a ``dead`` or ``failed`` message again now, with a fresh count of attempts (its Message-ID
    is kept, so a receiver that got it before can still drop the copy).

    Raises
    ------
    NotFoundError
        For an unknown message.
    ConflictError
        For a message that is not dead or failed.
    """
    from cxops.errors import ConflictError, NotFoundError

    status = session.execute(select(OUTBOX.c.status).where(OUTBOX.c.id == message_id)).scalar()
    if status is None:
        raise NotFoundError(f"outbox message {message_id} not found")
    if status not in ("dead", "failed"):
        raise ConflictError(
            f"outbox message {message_id} is {status}: only dead or failed messages are requeued"
        )
    session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == message_id)
        .values(status="pending", available_at=now or utcnow(), attempts=0, last_error=None)
    )
