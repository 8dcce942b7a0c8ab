"""The seller's root-cause page: ``GET /sellers/{seller_id}/marketplaces/{marketplace_id}/diagnosis``.

For each metric that fails or is near its bar (:mod:`cxops.service.diagnose`): the policy's bars, one
sentence per dimension and the Pareto of groups (SKU, category, carrier, weekday, channel), a page of
groups at a time (``?offset=&limit=``); a link to the performance log (CSV, from the API). A seller
user sees only its own sellers (another seller is 404, like one that does not exist).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxops.report.diagnose import RATE_DECIMALS, SHARE_DECIMALS
from cxops.report.format import format_count, format_percent
from cxops.service import diagnose as svc
from cxops.web.api.diagnose import DEFAULT_GROUPS, AsOf, Groups, Offset, compute, empty
from cxops.web.api.scorecard import membership_exists
from cxops.web.deps import SellerScope, StoreDep
from cxops.web.i18n import translator
from cxops.web.pages.render import render, request_language
from cxops.web.warehouse import RunsDep

router = APIRouter()


def _base(seller_id: str, marketplace_id: str) -> str:
    return f"/sellers/{quote(seller_id, safe='')}/marketplaces/{quote(marketplace_id, safe='')}"


def _view(payload: dict, tr, base: str, as_of) -> list[dict]:
    """The findings with every number formatted for the page, and the URL of each next page."""
    out = []
    for f in payload["findings"]:
        dims = []
        for name, d in f["dimensions"].items():
            rows = [
                {
                    "rank": g["rank"],
                    "label": g["label"],
                    "defects": format_count(g["defects"], lang=tr),
                    "records": format_count(g["records"], lang=tr),
                    "share": format_percent(g["share"], SHARE_DECIMALS, lang=tr),
                    "cum_share": format_percent(g["cum_share"], SHARE_DECIMALS, lang=tr),
                    "without": format_percent(g["value_without"], RATE_DECIMALS, lang=tr),
                    "without_top": format_percent(g["value_without_top"], RATE_DECIMALS, lang=tr),
                }
                for g in d["items"]
            ]
            last = max((g["rank"] for g in d["items"]), default=payload["offset"])
            more = None
            if last < d["groups"]:
                q = {"offset": last, "limit": payload["limit"]} | (
                    {"as_of": as_of.isoformat()} if as_of else {}
                )
                more = f"{base}/diagnosis?{urlencode(q)}"
            dims.append(
                {"name": name, "headline": d["headline"], "rows": rows, "groups": d["groups"], "more": more}
            )
        out.append({**f, "dims": dims})
    return out


@router.get("/sellers/{seller_id}/marketplaces/{marketplace_id}/diagnosis")
def seller_diagnosis(
    request: Request,
    scope: SellerScope,
    store: StoreDep,
    runs: RunsDep,
    as_of: AsOf = None,
    offset: Offset = 0,
    limit: Groups = DEFAULT_GROUPS,
) -> Response:
    """The root cause of the seller's failing and near metrics, and the performance log link."""
    membership_exists(store, scope, runs.policy.name)
    tr = translator(request_language(request))
    d = compute(runs, scope, as_of=as_of, metric=None, near=svc.NEAR_FRACTION, offset=offset, limit=limit)
    if d is None:
        payload = empty(scope, runs.policy, svc.NEAR_FRACTION, offset, limit)
    else:
        from cxops.report.diagnose import diagnosis_dict

        payload = diagnosis_dict(d, lang=tr)
    base = _base(scope.seller_id, scope.marketplace_id)
    return render(
        request,
        "seller_diagnosis.html",
        {
            "seller_id": scope.seller_id,
            "marketplace_id": scope.marketplace_id,
            "diagnosis": payload,
            "findings": _view(payload, tr, base, as_of),
            "base": base,
            "near": format_percent(svc.NEAR_FRACTION, 0, lang=tr),
            "log_url": f"/api/v1{base}/performance-log.csv"
            + (f"?{urlencode({'as_of': as_of.isoformat()})}" if as_of else ""),
        },
    )
