"""``explain`` as data: the criteria ranked by what to fix first, the projected status, the date recovery
could complete, and every counted defect, as one flat frame (``--format jsonl|csv``) or text lines.

The ranking: failed criteria before passed ones; among failed ones the removal rules first (they remove a
seller), then admission (the bars to get in or back), eligibility, benefits; then the fewest records to
change (the criterion's ``gap``, a count of records), then catalog order. Passed criteria follow, the
closest to the threshold first.

The recovery date (removed and recovering sellers): recovery needs ``stable_days`` consecutive days with
every admission bar met (``policy.recovery``). For each failed admission criterion on a defect metric
whose gap is ``k`` records (``needs k fewer defective orders``, or ``k more good`` ones), the bar is met
again from the day its ``k``-th counted defect drops out of the window, **if no new defect arrives and
the volume stays as it is**; recovery completes ``stable_days - 1`` days after the last of those days.
A failed admission criterion that defects dropping out cannot fix (satisfaction, volumes) makes the date
unknown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cxops.metrics.catalog import CATALOG, DEFECT_METRICS
from cxops.report.format import (
    criterion_gap,
    criterion_name,
    criterion_threshold,
    criterion_value,
    is_null,
    to_date,
)
from cxops.report.i18n import Translator, get_translator

SECTION_RANK = ("removal", "admission", "eligibility", "benefits")
RECOVERING_STATES = ("removed", "recovering")

#: Columns of :func:`explain_frame` (``record``: ``status``, ``criterion`` or ``defect``).
EXPLAIN_COLUMNS = [
    "record",
    "seller_id",
    "marketplace_id",
    "state",
    "since",
    "projected_state",
    "projected_on",
    "recovery_from",
    "recovery_complete_on",
    "rank",
    "section",
    "criterion_id",
    "metric",
    "window_days",
    "channel",
    "operator",
    "threshold",
    "value",
    "numerator",
    "denominator",
    "result",
    "gap",
    "order_id",
    "record_id",
    "defect_kind",
    "anchor_date",
    "drops_out_on",
]


def _int(value: Any) -> int | None:
    if is_null(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _metric_index(metric: Any) -> int:
    names = list(CATALOG)
    return names.index(metric) if metric in names else len(names)


def rank_criteria(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The criteria rows ranked by what to fix first (see the module docstring), with ``rank`` from 1."""

    def key(r: Mapping[str, Any]) -> tuple:
        failed = str(r.get("result")) == "fail"
        section = str(r.get("section"))
        sec = SECTION_RANK.index(section) if section in SECTION_RANK else len(SECTION_RANK)
        gap = _int(r.get("gap"))
        effort = abs(gap) if gap is not None else 10**12
        if failed:
            return (0, sec, effort, _metric_index(r.get("metric")), str(r.get("criterion_id")))
        return (1, effort, sec, _metric_index(r.get("metric")), str(r.get("criterion_id")))

    out = [dict(r) for r in sorted(rows, key=key)]
    for i, r in enumerate(out, 1):
        r["rank"] = i
    return out


def _in_scope(defects: pd.DataFrame, metric: str, window: int | None, channel: Any) -> pd.DataFrame:
    d = defects[defects["metric"] == metric]
    if window is not None:
        d = d[d["window_days"].astype("int64") == window]
    if not is_null(channel) and str(channel) != "all":
        d = d[d["channel"] == str(channel)]
    return d


def recovery_dates(
    state: Any, criteria: Sequence[Mapping[str, Any]], defects: pd.DataFrame | None, stable_days: int
) -> tuple[dt.date | None, dt.date | None, list[str]]:
    """``(first day every admission bar is met, day recovery completes, blocking criteria)``.

    Both dates are ``None`` when the seller is not removed or recovering, or when a failed admission
    criterion cannot be fixed by counted defects dropping out (its id is then in the list).
    """
    if str(state) not in RECOVERING_STATES:
        return None, None, []
    failed = [r for r in criteria if r.get("section") == "admission" and str(r.get("result")) == "fail"]
    if not failed:
        return None, None, []
    defects = defects if defects is not None else pd.DataFrame(columns=["metric"])
    start: dt.date | None = None
    blocking: list[str] = []
    for r in failed:
        metric, gap = r.get("metric"), _int(r.get("gap"))
        if metric not in DEFECT_METRICS or gap is None or gap == 0 or defects.empty:
            blocking.append(str(r.get("criterion_id")))
            continue
        d = _in_scope(defects, metric, _int(r.get("window_days")), r.get("channel"))
        # one drop-out per order (an order with several defects leaves once)
        drops = sorted(d.groupby("order_id")["drops_out_on"].min().map(to_date).dropna())
        k = abs(gap)
        if len(drops) < k:
            blocking.append(str(r.get("criterion_id")))
            continue
        day = drops[k - 1]
        start = day if start is None or day > start else start
    if blocking or start is None:
        return None, None, blocking
    return start, start + dt.timedelta(days=stable_days - 1), []


def explain_frame(
    seller_id: str,
    marketplace_id: str,
    *,
    status_row: Mapping[str, Any],
    criteria: pd.DataFrame,
    defects: pd.DataFrame,
    projected: pd.DataFrame | None,
    stable_days: int,
) -> pd.DataFrame:
    """One seller's explanation as rows (:data:`EXPLAIN_COLUMNS`).

    One ``status`` row (state, since, projected state and its evaluation day, the recovery dates), one
    ``criterion`` row per criterion of the latest evaluation ranked by what to fix first (``rank``), and
    one ``defect`` row per counted defect record (every one, not a sample) with the day it drops out.
    Counts (numerator, denominator, gap, window) are integers.
    """
    crit = _latest(criteria)
    crit_rows = crit.to_dict("records") if len(crit) else []
    ranked = rank_criteria(crit_rows)
    state = status_row.get("state")
    start, done, _ = recovery_dates(state, crit_rows, defects, stable_days)
    proj = _projected_row(projected)
    status = {
        "record": "status",
        "seller_id": seller_id,
        "marketplace_id": marketplace_id,
        "state": state,
        "since": to_date(status_row.get("since")),
        "projected_state": proj.get("projected_state"),
        "projected_on": to_date(proj.get("evaluation_date")),
        "recovery_from": start,
        "recovery_complete_on": done,
    }
    rows = [status]
    for r in ranked:
        rows.append(
            {"record": "criterion", "seller_id": seller_id, "marketplace_id": marketplace_id}
            | {c: r.get(c) for c in EXPLAIN_COLUMNS if c in r and c not in ("seller_id", "marketplace_id")}
        )
    if defects is not None and len(defects):
        keys = ["metric", "window_days", "drops_out_on", "order_id", "record_id"]
        d = defects.sort_values(keys, kind="stable")
        for r in d.to_dict("records"):
            rows.append(
                {
                    "record": "defect",
                    "seller_id": seller_id,
                    "marketplace_id": marketplace_id,
                    "metric": r.get("metric"),
                    "window_days": r.get("window_days"),
                    "channel": r.get("channel"),
                    "order_id": r.get("order_id"),
                    "record_id": r.get("record_id"),
                    "defect_kind": r.get("kind"),
                    "anchor_date": to_date(r.get("anchor_date")),
                    "drops_out_on": to_date(r.get("drops_out_on")),
                }
            )
    out = pd.DataFrame(rows, columns=EXPLAIN_COLUMNS)
    for c in ("rank", "window_days", "gap"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
    for c in ("numerator", "denominator", "value", "threshold"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


def _latest(criteria: pd.DataFrame | None) -> pd.DataFrame:
    if criteria is None or criteria.empty:
        return pd.DataFrame()
    last = criteria["evaluation_date"].max()
    return criteria[criteria["evaluation_date"] == last]


def _projected_row(projected: pd.DataFrame | None) -> dict[str, Any]:
    if projected is None or projected.empty:
        return {}
    return projected.iloc[-1].to_dict()


def explain_extra_lines(
    frame: pd.DataFrame, criteria: Sequence[Mapping[str, Any]], *, lang: str | Translator = "en", top: int = 5
) -> list[str]:
    """Text lines for the projected status, the recovery date and the criteria to fix first (the failed
    ones, at most ``top``), from :func:`explain_frame` output."""
    tr = lang if isinstance(lang, Translator) else get_translator(lang)
    st = frame[frame["record"] == "status"].iloc[0]
    lines = []
    if not is_null(st["projected_state"]):
        state = tr.state(st["projected_state"])
        lines.append(tr("ui.explain_projected", date=st["projected_on"], state=state))
    if not is_null(st["recovery_complete_on"]):
        lines.append(
            tr(
                "ui.explain_recovery",
                date=st["recovery_complete_on"],
                start=st["recovery_from"],
                days=int((st["recovery_complete_on"] - st["recovery_from"]).days) + 1,
            )
        )
    else:
        _, _, blocking = recovery_dates(st["state"], criteria, frame[frame["record"] == "defect"], 1)
        if blocking:
            names = [criterion_name(r, lang=tr) for r in criteria if str(r.get("criterion_id")) in blocking
                     and r.get("section") == "admission"]  # fmt: skip
            lines.append(tr("ui.explain_recovery_unknown", criteria=", ".join(names)))
    failed = [r for r in rank_criteria(criteria) if str(r.get("result")) == "fail"][:top]
    if failed:
        lines.append(tr("ui.explain_fix_first"))
        for r in failed:
            value, threshold = criterion_value(r, lang=tr), criterion_threshold(r, lang=tr)
            detail = criterion_gap(r, lang=tr) or tr("ui.explain_value_vs", value=value, threshold=threshold)
            name = criterion_name(r, lang=tr)
            lines.append("  " + tr("ui.explain_fix_line", rank=r["rank"], name=name, detail=detail))
    return lines
