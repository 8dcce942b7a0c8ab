"""Alerts: what the daily job found worth telling before (or beside) a decision, with its evidence.

One row per alert, written in bulk in the run's transaction and never updated: an alert's
``idempotency_key`` is unique, so a rerun after a crash (or a rebuild over days already run) writes
nothing twice. Kinds (:data:`ALERT_KINDS`, the notification kinds of :mod:`cxops.notify.messages`):

- ``alert_level`` — a removal rule crossed its alert level (the lifecycle's ``alert_crossed`` event);
- ``negative_feedback``, ``a_to_z_claim``, ``chargeback`` — a new 1–2★ rating, A-to-z claim or
  chargeback on one of the seller's orders (``order_id``, ``rating``);
- ``projected_breach`` — the rate would cross a removal limit on ``projected_date`` given the defects
  that roll off and the recent daily order rate; ``orders_needed`` defect-free orders by then prevent it.

``evidence`` holds what the alert was computed from (the record, the window's counts, the roll-off
schedule); rates are fractions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxops.errors import InputError
from cxops.store import bulk
from cxops.store.models import Base, S
from cxops.store.types import BigId, Json, UTCDateTime, utcnow

#: Alert kinds (the same names as :data:`cxops.notify.messages.ALERT_KINDS`; a test keeps them equal).
ALERT_KINDS = ("negative_feedback", "a_to_z_claim", "chargeback", "alert_level", "projected_breach")


class Alert(Base):
    """One alert of the daily job (see the module docstring)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index(None, "program", "seller_id", "marketplace_id", "id"),
        Index("ix_alerts_program_alert_date", "program", "alert_date"),
        Index(None, "run_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    program: Mapped[str] = mapped_column(S)
    seller_id: Mapped[str] = mapped_column(S)
    marketplace_id: Mapped[str] = mapped_column(S)
    kind: Mapped[str] = mapped_column(String(40))
    alert_date: Mapped[date] = mapped_column(Date)
    rule_id: Mapped[str | None] = mapped_column(S)
    metric: Mapped[str | None] = mapped_column(S)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(4))
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    window_days: Mapped[int | None] = mapped_column(Integer)
    order_id: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[int | None] = mapped_column(Integer)
    projected_date: Mapped[date | None] = mapped_column(Date)
    orders_needed: Mapped[int | None] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(Json)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)


ALERTS = Alert.__table__
#: Columns of an alert frame (``id`` and ``created_at`` are set by the store).
ALERT_COLUMNS = [c for c in ALERTS.c.keys() if c not in ("id", "created_at")]


def append_alerts(session: Session, alerts: pd.DataFrame, **fixed: Any) -> int:
    """Append alerts in bulk; alerts whose ``idempotency_key`` is stored already are skipped.

    Parameters
    ----------
    alerts : pandas.DataFrame
        Columns from :data:`ALERT_COLUMNS`; ``seller_id``, ``marketplace_id``, ``kind``, ``alert_date``
        and ``idempotency_key`` required.
    **fixed
        Values for every row (``program=…, run_id=…``).

    Returns
    -------
    int
        Alerts written (duplicates excluded).

    Raises
    ------
    InputError
        A missing column, an unknown kind, a key twice in ``alerts``.
    """
    if alerts.empty:
        return 0
    for col in ("seller_id", "marketplace_id", "kind", "alert_date", "idempotency_key"):
        if col not in alerts.columns and col not in fixed:
            raise InputError(f"alerts need a {col!r} column")
    bad = sorted(set(alerts["kind"]) - set(ALERT_KINDS))
    if bad:
        raise InputError(f"unknown alert kind {bad[0]!r}; known: {', '.join(ALERT_KINDS)}")
    if alerts["idempotency_key"].duplicated().any():
        raise InputError("an alert idempotency_key appears twice in one batch")
    alerts = alerts.assign(
        provisional=alerts["provisional"].fillna(False).astype(bool) if "provisional" in alerts else False
    )
    cols = [c for c in alerts.columns if c in ALERT_COLUMNS]
    return bulk.write(
        session, ALERTS, alerts[cols], fixed={"created_at": utcnow(), **fixed}, conflict=["idempotency_key"]
    )


def load_alerts(
    session: Session,
    *,
    program: str | None = None,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    kinds: list[str] | None = None,
    since: date | None = None,
    run_id: int | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Alerts matching every filter given (``since``: alert date on or after), newest first."""
    t = ALERTS
    stmt = select(t)
    stmt = bulk.where_equal(
        stmt, t, program=program, seller_id=seller_id, marketplace_id=marketplace_id, run_id=run_id
    )
    if kinds:
        stmt = stmt.where(t.c.kind.in_(kinds))
    if since is not None:
        stmt = stmt.where(t.c.alert_date >= since)
    stmt = stmt.order_by(t.c.alert_date.desc(), t.c.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return bulk.frame(session, stmt)
