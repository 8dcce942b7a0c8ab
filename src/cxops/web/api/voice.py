"""``GET /api/v1/sellers/{seller_id}/marketplaces/{marketplace_id}/voice``: voice of the customer.

A seller's feedback comments and return reasons on one marketplace, grouped into themes
(:func:`cxops.service.voice.voice`): counts and shares per window, month-by-month figures per SKU,
the SKUs whose negative feedback or returns rise under the declared rule, and the newest texts. Any
role that sees the seller; a membership that does not exist (or that the caller may not see) is 404.
Theme names are in the response's language (``Accept-Language`` / the session's language).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from cxops.errors import NotFoundError
from cxops.report import voice as rv
from cxops.report.i18n import Translator
from cxops.service import voice as sv
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import MarketplacePath, SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.problems import problems
from cxops.web.warehouse import RunsDep

router = APIRouter(
    prefix="/sellers/{seller_id}/marketplaces/{marketplace_id}",
    tags=["voice of the customer"],
    responses=problems(400, 401, 404, 422),
    dependencies=[MarketplacePath],
)
#: Most texts one response carries (newest first).
MAX_TEXTS = 200


class ThemeCount(BaseModel):
    """Texts of one source with a theme in one window (a text can have several themes)."""

    window_days: int
    source: str = Field(description="feedback or return")
    theme: str
    label: str = Field(description="The theme's name in the response's language.")
    count: int
    texts: int = Field(description="Texts of the source in the window.")
    share: float | None = Field(description="count / texts, a fraction; null when no texts.")


class RisingSku(BaseModel):
    """A SKU's negative-feedback share or return rate, recent window against the one before."""

    sku: str
    measure: str = Field(description="negative_feedback (negative / ratings) or returns (returns / orders)")
    recent_count: int
    recent_base: int
    recent_share: float | None
    baseline_count: int
    baseline_base: int
    baseline_share: float | None
    ratio: float | None
    flagged: bool
    top_theme: str | None = Field(description="Most frequent complaint theme of its recent negative texts.")


class SkuMonth(BaseModel):
    """One SKU in one month (shares are fractions, null on a zero denominator)."""

    sku: str
    month: date
    orders: int
    ratings: int
    negative: int
    negative_share: float | None
    returns: int
    return_rate: float | None
    themes: dict[str, int] = Field(description="Complaint texts per theme.")


class VoiceText(BaseModel):
    """A feedback comment or return reason with its themes."""

    source: str
    order_id: str
    day: date
    rating: int | None
    lang: str | None
    themes: list[str]
    text: str


class Voice(BaseModel):
    """Voice of the customer of a seller on a marketplace (``as_of`` null: no data)."""

    seller_id: str
    marketplace_id: str
    as_of: date | None
    rule: dict = Field(
        description="The rise rule: recent_days, baseline_days, min_count, ratio, min_increase."
    )
    rule_text: str
    themes: list[ThemeCount]
    rising: list[RisingSku]
    sku_months: list[SkuMonth]
    texts: list[VoiceText]
    texts_total: int


def _none(v):
    try:
        import pandas as pd

        return None if pd.isna(v) else v
    except (TypeError, ValueError):
        return v


def voice_model(
    seller_id: str,
    marketplace_id: str,
    v: sv.Voice | None,
    tr: Translator,
    texts: int = 50,
    *,
    sku: str | None = None,
    every_sku: bool = False,
) -> Voice:
    """The API shape of a :class:`cxops.service.voice.Voice` (``None``: no data): the flagged SKUs (every
    SKU with ``every_sku``); the months of ``sku``, else those of the SKUs with most complaints."""
    rule = (v.rule if v else sv.RiseRule()).as_dict()
    if v is None:
        return Voice(seller_id=seller_id, marketplace_id=marketplace_id, as_of=None, rule=rule,
                     rule_text=rv.rule_text(rule, tr), themes=[], rising=[], sku_months=[], texts=[],
                     texts_total=0)  # fmt: skip
    themes = [
        ThemeCount(**{k: _none(x) for k, x in r.items()}, label=rv.theme_label(r["theme"], tr))
        for r in v.themes.to_dict("records")
    ]
    rows = v.rising if every_sku else v.flagged
    rising = [RisingSku(**{k: _none(x) for k, x in r.items()}) for r in rows.to_dict("records")]
    chosen = v.skus[v.skus["sku"] == sku] if sku is not None else rv.month_rows(v.skus)
    months = [
        SkuMonth(
            **{k: _none(r[k]) for k in SkuMonth.model_fields if k != "themes"},
            themes={t: int(r[t]) for t in rv.COMPLAINTS if r[t]},
        )
        for r in chosen.to_dict("records")
    ]
    out = [
        VoiceText(
            source=r["source"],
            order_id=r["order_id"],
            day=r["day"],
            rating=_none(r["rating"]),
            lang=_none(r["lang"]),
            themes=list(r["themes"]),
            text=str(r["text"]),
        )  # fmt: skip
        for r in v.texts.head(texts).to_dict("records")
    ]
    return Voice(
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        as_of=v.as_of,
        rule=rule,
        rule_text=rv.rule_text(rule, tr),
        themes=themes,
        rising=rising,
        sku_months=months,
        texts=out,
        texts_total=len(v.texts),
    )


def seller_voice(runs, seller_id: str, marketplace_id: str, as_of: date | None) -> sv.Voice | None:
    """The voice of a seller on a marketplace from the request's warehouse (``None``: no orders)."""
    if runs.wh is None:
        return None
    try:
        return sv.voice(runs.wh, seller_id, as_of, marketplace_id=marketplace_id)
    except NotFoundError:
        return None


@router.get("/voice", response_model=Voice)
def voice(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    as_of: date | None = None,
    texts: Annotated[int, Query(ge=0, le=MAX_TEXTS)] = 50,
    sku: Annotated[str | None, Query(max_length=200)] = None,
    every_sku: bool = False,
) -> Voice:
    """Themes of the seller's feedback comments and return reasons per window (30, 90, 365 days);
    the SKUs whose negative feedback or returns rise (``every_sku``: every SKU with its figures);
    month-by-month figures of ``sku`` (default: the last 6 months of the 5 SKUs with most
    complaints); the newest ``texts`` texts with their themes (``as_of``: default the newest day of
    the seller's data)."""
    from cxops.web.pages.render import request_language

    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    v = seller_voice(runs, scope.seller_id, scope.marketplace_id, as_of)
    return voice_model(scope.seller_id, scope.marketplace_id, v, tr, texts, sku=sku, every_sku=every_sku)
