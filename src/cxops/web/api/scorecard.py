"""``/api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/scorecard|defects|defects.csv|trends``.

A seller's figures in the newest stored evaluation run (:mod:`cxops.service.scorecard`): status,
projection and criteria with their gaps in words; the defective orders, paged or all as CSV; trends
of the main metrics with the policy's lines as Vega-Lite specifications. Any role that sees the
seller; a membership that does not exist (or that the caller may not see) is 404.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.report.files import to_csv
from cxops.report.format import (
    criterion_gap,
    criterion_name,
    criterion_threshold,
    criterion_value,
    format_window,
)
from cxops.report.i18n import Translator, parse_params
from cxops.report.vega import trend_spec
from cxops.service import scorecard as sc
from cxops.service.console import seller_accounts
from cxops.web import paging
from cxops.web.api.schemas_scorecard import (
    Criterion,
    Defect,
    DefectPage,
    RunInfo,
    Scorecard,
    Trend,
    TrendPoint,
)
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.paging import Cursor, Limit
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["scorecard"],
    responses=problems(400, 401, 404, 422),
    dependencies=[MarketplacePath],  # {marketplace_id} in the OpenAPI (read by the seller scope)
)
Span = Literal["90d", "12m"]


def membership_exists(store, scope, program: str) -> None:
    """404 unless the seller has a membership of ``program`` on the marketplace (caller may see it)."""
    seller_accounts(
        store, scope.principal, scope.seller_id, marketplace_id=scope.marketplace_id, program=program
    )


def _language(request: Request) -> Translator:
    from cxops.web.pages.render import request_language

    return translator(request_language(request))


def _reason(row: dict | None, key: str, tr: Translator) -> str | None:
    if not row:
        return None
    from cxops.report.format import reason_text

    fallback = row.get(key)
    params = row.get("reason_params")
    try:
        params = parse_params(params) if params else None
    except (TypeError, ValueError):
        params = None
    if row.get("reason_key") and key == "reason":
        return reason_text(row["reason_key"], params, lang=tr, fallback=fallback)
    return fallback


def criterion_model(r: dict, tr: Translator) -> Criterion:
    """A criteria row with its gap sentence, formatted value and bar, and progress (one place)."""
    fields = {k: r.get(k) for k in Criterion.model_fields if k in r}
    return Criterion(
        **fields,
        gap_text=criterion_gap(r, lang=tr),
        name_text=criterion_name(r, lang=tr),
        value_text=criterion_value(r, lang=tr),
        threshold_text=criterion_threshold(r, lang=tr),
        progress=sc.progress(r),
    )


def scorecard_model(card: sc.Scorecard, tr: Translator) -> Scorecard:
    """The API (and page) shape of a :class:`cxops.service.scorecard.Scorecard`."""
    run = card.run
    status, proj = card.status or {}, card.projected or {}
    return Scorecard(
        seller_id=card.seller_id,
        marketplace_id=card.marketplace_id,
        run=None
        if run is None
        else RunInfo(
            run_id=run.run_id,
            policy_name=run.policy_name,
            policy_version=run.policy_version,
            as_of=run.until,
            last_evaluation=run.last_evaluation,
            next_evaluation=card.next_evaluation,
            created_at=run.created_at,
        ),
        state=status.get("state"),
        since=status.get("since"),
        reason=_reason(card.status, "reason", tr),
        projected_state=proj.get("projected_state"),
        projected_reason=_reason(card.projected, "reason", tr) if proj else None,
        next_evaluation=card.next_evaluation,
        criteria=[criterion_model(r, tr) for r in card.criteria],
    )


def trend_models(trends: list[sc.Trend], span: str, tr: Translator) -> list[Trend]:
    """Each trend with its Vega-Lite specification (titles and legends in the language)."""
    labels = {role: tr(f"web.chart.{role}") for role in ("limit", "alert", "bar")}
    out = []
    for t in trends:
        title = tr(
            "ui.chart_title",
            metric=tr.metric(t.metric),
            window=format_window(t.window_days, lang=tr),
            channel=tr.maybe(f"channel_short.{t.channel}") or t.channel,
        )
        spec = trend_spec(
            t.points,
            metric=t.metric,
            title=title,
            lines=t.lines,
            line_labels=labels,
            value_label=tr.metric_short(t.metric),
            day_label=tr("web.chart.day"),
        )
        out.append(
            Trend(
                metric=t.metric,
                window_days=t.window_days,
                channel=t.channel,
                span=span,
                points=[TrendPoint(day=d, value=v) for d, v in t.points],
                lines=t.lines,
                spec=spec,
            )
        )
    return out


@router.get("/scorecard", response_model=Scorecard)
def scorecard(request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep) -> Scorecard:
    """Status and since when, the projected status at the next evaluation, and every criterion with its
    value, bar, result, gap in words and progress — from the newest stored run (``run`` null: none)."""
    membership_exists(store, scope, runs.policy.name)
    tr = _language(request)
    if runs.wh is None:
        return scorecard_model(sc.Scorecard(scope.seller_id, scope.marketplace_id, None), tr)
    card = sc.scorecard(runs.wh, runs.policy, scope.seller_id, scope.marketplace_id)
    return scorecard_model(card, tr)


DEFECTS = "defects"


def _defect_key(cursor: str | None) -> tuple | None:
    return paging.decode(cursor, DEFECTS, len(sc.DEFECT_KEY))


@router.get("/defects", response_model=DefectPage)
def defects(
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    metric: str | None = None,
    cursor: Cursor = None,
    limit: Limit = paging.DEFAULT_LIMIT,
) -> DefectPage:
    """The defective orders behind the last evaluation's metrics — every one, paged: kind, anchor day
    and the day it drops out of its window (``metric`` filters, e.g. ``order_defect_rate``)."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        return DefectPage(items=[], next_cursor=None, total=0)
    rows, nxt, total = sc.defect_page(
        runs.wh,
        runs.policy,
        scope.seller_id,
        scope.marketplace_id,
        after=_defect_key(cursor),
        limit=limit,
        metric=metric,
    )
    return DefectPage(
        items=[Defect.model_validate(r) for r in rows], next_cursor=paging.encode(DEFECTS, nxt), total=total
    )


CSV_COLUMNS = [
    "metric",
    "window_days",
    "channel",
    "order_id",
    "record_id",
    "kind",
    "anchor_date",
    "drops_out_on",
]


@router.get(
    "/defects.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every defect, one row each."}},
)
def defects_csv(scope: SellerScope, store: StoreDep, runs: RunsDep, metric: str | None = None) -> Response:
    """Every defective order of :func:`defects` as CSV (UTF-8, a header row, ISO days)."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        import pandas as pd

        df = pd.DataFrame(columns=CSV_COLUMNS)
    else:
        df = sc.all_defects(runs.wh, runs.policy, scope.seller_id, scope.marketplace_id, metric)[CSV_COLUMNS]
    name = f"defects-{scope.seller_id}-{scope.marketplace_id}.csv".replace('"', "")
    return Response(
        to_csv(df),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/trends", response_model=list[Trend])
def trends(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, span: Span = "90d"
) -> list[Trend]:
    """The main metrics over 90 days (daily) or 12 months (at each evaluation) with the limit (removal),
    alert and admission lines, each with its Vega-Lite specification."""
    membership_exists(store, scope, runs.policy.name)
    if runs.wh is None:
        return []
    found = sc.trends(runs.wh, runs.policy, scope.seller_id, scope.marketplace_id, span)
    return trend_models(found, span, _language(request))
