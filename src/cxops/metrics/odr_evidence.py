"""The orders behind the usual differences in an order defect rate: what the ODR leaves out, and when.

Order defect rates reported by a marketplace differ from the raw data's for known reasons: negative
feedback removed after the report, ratings shared with another seller's order, claims later denied,
withdrawn or reversed, defects that arrived after the report. :func:`order_defect_evidence` flags, per
order of the ODR population (:func:`cxops.metrics.records.order_defects`, same options), the
order-level facts those explanations need. Semantics are the ODR's own: negative = at most
``negative_feedback_max_stars``; a claim counts unless its decision is in ``NOT_COUNTING_DECISIONS``;
a fraud chargeback never counts.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxops.metrics import records
from cxops.metrics.records import KEY, NOT_COUNTING_DECISIONS, Inputs


def _flag(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.fill_null(False).ifelse(1, 0)


def order_defect_evidence(inp: Inputs) -> ir.Table:
    """ODR orders with the evidence behind the usual reported-vs-computed differences (sparse).

    Returns
    -------
    ibis.Table
        Only orders with a defect or a flag below. Columns ``seller_id, order_id, marketplace_id,
        channel, day`` (local order date, the ODR anchor), ``f_defect`` (0/1, as in the ODR) and:

        - ``r_removed``: 1 when the order's negative feedback was removed and it has no other defect;
          ``removed_at`` (UTC) when it was removed;
        - ``r_shared``: 1 when its only negative feedback is a rating shared with another seller's order
          (left out with ``shared_feedback = "exclude"``, the default);
        - ``r_decided``: 1 when it has claims and none counts (denied, withdrawn, reversed, fraud
          chargebacks) and no other defect;
        - ``r_claim``: 1 when it has any claim row;
        - ``first_defect_at`` (UTC): when its first counted defect (feedback or claim) arrived.
    """
    opt = inp.options
    d = records.order_defects(inp)
    if "feedback" in inp.tables:
        f = inp.tables["feedback"]
        neg = f.rating <= opt.negative_feedback_max_stars
        removed = f.filter(neg & f.removed_at.notnull()).select(*KEY, _removed_at="removed_at")
        d = d.left_join(removed, KEY).select(d, "_removed_at")
        counted = neg & f.removed_at.isnull()
        if opt.shared_feedback == "exclude":
            shared = f.filter(counted & f.is_shared.fill_null(False)).select(*KEY, _shared=ibis.literal(1))
            d = d.left_join(shared, KEY).select(d, "_shared")
            counted = counted & ~f.is_shared.fill_null(False)
        else:
            d = d.mutate(_shared=ibis.null("int32"))
        fb_at = f.filter(counted).select(*KEY, _fb_at="submitted_at")
        d = d.left_join(fb_at, KEY).select(d, "_fb_at")
    else:
        d = d.mutate(
            _removed_at=ibis.null("timestamp"), _shared=ibis.null("int32"), _fb_at=ibis.null("timestamp")
        )
    if "claims" in inp.tables:
        c = inp.tables["claims"]
        counts = c.decision.isnull() | ~c.decision.isin(NOT_COUNTING_DECISIONS)
        counted = ((c.kind == "a_to_z") & counts) | (
            (c.kind == "chargeback") & counts & ~c.is_fraud.fill_null(False)
        )
        cl = c.group_by(KEY).aggregate(
            _claim_at=counted.ifelse(c.filed_at, ibis.null("timestamp")).min(),
            _decided=(~counted).ifelse(1, 0).max(),
        )
        d = d.left_join(cl, KEY).select(d, "_claim_at", "_decided")
        d = d.mutate(_has_claim=d._decided.notnull().ifelse(1, 0))
    else:
        d = d.mutate(_claim_at=ibis.null("timestamp"), _decided=ibis.null("int32"), _has_claim=0)
    clean = d.f_defect == 0
    first_defect = ibis.least(d._fb_at.fill_null(d._claim_at), d._claim_at.fill_null(d._fb_at))
    d = d.mutate(
        r_removed=_flag(d._removed_at.notnull() & clean),
        r_shared=_flag(d._shared.notnull() & d._removed_at.isnull() & clean),
        r_decided=_flag((d._decided == 1) & clean & d._claim_at.isnull()),
        r_claim=d._has_claim,
        first_defect_at=(d.f_defect == 1).ifelse(first_defect, ibis.null("timestamp")),
    )
    d = d.filter((d.r_removed + d.r_shared + d.r_decided + d.r_claim + d.f_defect) > 0)
    return d.select(
        "seller_id",
        "order_id",
        "marketplace_id",
        "channel",
        "day",
        "f_defect",
        "r_removed",
        "r_shared",
        "r_decided",
        "r_claim",
        removed_at=d._removed_at,
        first_defect_at=d.first_defect_at,
    )
