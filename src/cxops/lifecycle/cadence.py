"""Evaluation dates of a policy's cadence, the metrics date each one judges, and which ones publish."""

from __future__ import annotations

from datetime import date, timedelta

from cxops.policy.model import Policy


def _month_dates(day_of_month: int, start: date, end: date) -> list[date]:
    year, month = start.year, start.month
    out = []
    while True:
        d = date(year, month, day_of_month)
        if d > end:
            return out
        if d > start:
            out.append(d)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def evaluation_dates(policy: Policy, start: date, end: date) -> list[date]:
    """Evaluation dates of the policy's cadence strictly after ``start`` and up to ``end`` inclusive.

    Monthly (default): ``cadence.day_of_month`` of each month — with day 1, the 1st of each month from
    the month after ``start``'s month. Weekly: each ``cadence.weekday``. Daily: every day.

    Parameters
    ----------
    policy : Policy
    start, end : datetime.date
        ``start`` is typically the first day with data; it is never an evaluation date itself.

    Returns
    -------
    list of datetime.date
        Ascending; empty when ``end <= start``.
    """
    cadence = policy.cadence
    if end <= start:
        return []
    if cadence.every == "month":
        return _month_dates(cadence.day_of_month, start, end)
    if cadence.every == "week":
        first = start + timedelta(days=(cadence.weekday - start.weekday() - 1) % 7 + 1)
        return (
            [first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1)] if first <= end else []
        )
    return [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]


def metrics_as_of(policy: Policy, evaluation_date: date) -> date:
    """The date whose metrics an evaluation judges: ``evaluation_date - cadence.metrics_lag_days``."""
    return evaluation_date - timedelta(days=policy.cadence.metrics_lag_days)


def next_evaluation_date(policy: Policy, on_or_after: date) -> date:
    """The first evaluation date of the cadence on or after ``on_or_after``."""
    return evaluation_dates(policy, on_or_after - timedelta(days=1), on_or_after + timedelta(days=40))[0]


def is_evaluation_date(policy: Policy, day: date) -> bool:
    """Whether ``day`` is an evaluation (assessment) date of the policy's cadence."""
    return evaluation_dates(policy, day - timedelta(days=1), day) == [day]


def publishes(policy: Policy, evaluation_date: date) -> bool:
    """Whether status changes are published at this evaluation (``cadence.publish_every``).

    Without ``publish_every`` every evaluation publishes; with ``"week"`` only those on
    ``cadence.weekday`` (0 = Monday), with ``"month"`` only those on ``cadence.day_of_month``. On other
    evaluation days only alert-level crossings are recorded.
    """
    cadence = policy.cadence
    if cadence.publish_every is None:
        return True
    if cadence.publish_every == "week":
        return evaluation_date.weekday() == cadence.weekday
    return evaluation_date.day == cadence.day_of_month


def next_publication_date(policy: Policy, on_or_after: date) -> date:
    """The first evaluation date on or after ``on_or_after`` that publishes status changes (the next
    evaluation date without ``cadence.publish_every``)."""
    day = next_evaluation_date(policy, on_or_after)
    while not publishes(policy, day):
        day = next_evaluation_date(policy, day + timedelta(days=1))
    return day
