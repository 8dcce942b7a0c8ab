"""The seller's "Voice of the customer" page.

``GET /sellers/{seller_id}/marketplaces/{marketplace_id}/voice``:

The themes of the seller's feedback comments and return reasons per window, the SKUs whose negative
feedback or returns rise (with the rule in words), month by month for the SKUs with most complaints,
and the newest texts with their themes — the same figures as the API
(:func:`cxops.web.api.voice.voice`). A seller user sees only its own sellers (another seller is 404).
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.report import voice as rv
from cxops.service.voice import RiseRule
from cxops.web.api.scorecard import membership_exists
from cxops.web.api.voice import seller_voice
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.warehouse import RunsDep

router = APIRouter()
#: Texts listed on the page (the API gives up to 200).
TEXT_ROWS = 30


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/voice")
def voice_page(
    request: Request, scope: SellerScope, store: StoreDep, runs: RunsDep, as_of: date | None = None
) -> Response:
    """Voice of the customer of one membership."""
    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    v = seller_voice(runs, scope.seller_id, scope.marketplace_id, as_of)
    tables = []
    if v is not None:
        for source in ("feedback", "return"):
            windows, rows = rv.theme_rows(v.themes, source, tr)
            if rows and any(rows[0]["texts"]):
                tables.append({"source": source, "windows": windows, "rows": rows})
    return render(
        request,
        "seller_voice.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "as_of": v.as_of if v else None,
            "tables": tables,
            "rule_text": rv.rule_text((v.rule if v else RiseRule()).as_dict(), tr),
            "rising": rv.rising_rows(v.rising, tr) if v else [],
            "months": rv.month_rows(v.skus).to_dict("records") if v else [],
            "complaints": rv.COMPLAINTS,
            "texts": v.texts.head(TEXT_ROWS).to_dict("records") if v else [],
            "theme_label": lambda t: rv.theme_label(t, tr),
            "percent": lambda x: rv.percent(x, tr),
        },
    )
