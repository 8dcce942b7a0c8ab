"""Seller feedback report (``GET_SELLER_FEEDBACK_DATA``) → ``feedback``.

Columns are mapped **by position** because headers are localized while the order is fixed
(airbytehq/airbyte PR #9212; case C3): 1 date, 2 rating, 3 comments, 4 your response, 5 order id,
6 rater email. A file without exactly six columns is refused (:func:`detect.check_feedback_header`).

* ``submitted_at`` = 00:00 marketplace local time of the feedback date, in UTC. The date's format comes
  from the marketplace (:data:`cxops.ingest.amazon.dates.DATE_STYLES`: US ``M/D/YY``, DE ``D.M.YY``,
  JP ``YY/M/D``, SE ISO, others ``D/M/YY``) and is never guessed from the value (C3); ISO
  ``YYYY-MM-DD`` is also accepted.
* ``rating`` 1–5 (the report holds only 1–3; others are flagged), ``comment``. The response and the
  rater's e-mail address are not stored.

**The report is partial** (C8; amzn/selling-partner-api-models #1999; Amazon ``reporttype-values``:
"negative and neutral feedback (one to three stars)"): 4–5★ feedback is absent. The negative-feedback
component of the order defect rate (1–2★) is complete, but no positive-feedback share or satisfaction
index may be computed from it. So the provenance records the columns the report really has
(``seller_id, order_id, rating, submitted_at, comment``) and **not** :data:`COMPLETE_RATINGS`, the
pseudo-column a source records when its ratings cover every star level. A metric that needs complete
ratings (the satisfaction index) requires that marker; because the warehouse counts a column as
provided only when every source of the table provides it, any Amazon feedback in the warehouse makes
it "not measured" — the safe direction. (A *partial* marker would be dropped by that rule as soon as a
complete source were imported too.) The import report says so in its notes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxops.canonical.schema import COMPLETE_RATINGS
from cxops.ingest.amazon import detect
from cxops.ingest.amazon.common import Context, integers, text
from cxops.ingest.amazon.dates import date_style, parse_local_dates
from cxops.ingest.amazon.flat import open_sheet, quote
from cxops.ingest.amazon.mapped import Mapped, build, one_to_one
from cxops.ingest.amazon.reading import ReportFile
from cxops.ingest.wallclock import local_to_utc

# COMPLETE_RATINGS (cxops.canonical.schema): the provenance marker of a feedback source whose ratings
# cover every star level. The Amazon feedback report never records it.

NOTE = (
    "feedback: the seller feedback report lists only 1-3 star feedback (C8): negative feedback (1-2 stars) "
    "for the order defect rate is complete, but a positive-feedback share or satisfaction index cannot be "
    f"computed from it (the source is not recorded as a complete rating source, '{COMPLETE_RATINGS}')"
)


def read_feedback(rf: ReportFile, ctx: Context) -> list[Mapped]:
    """Map one seller feedback report (see the module docstring).

    Returns
    -------
    list of Mapped
        ``feedback``.
    """
    f = open_sheet(rf, ctx, [], "seller feedback")
    rows, names = f.rows, f.sheet.names
    date_raw, rating_raw, comment, _, order_raw, _ = (f.df[c] for c in names[:6])
    h = f.sheet.header
    oid = text(order_raw)
    rows.reject(oid.isna(), h[4], "required value is missing")
    day, bad = parse_local_dates(date_raw, ctx.marketplace_id)
    style = date_style(ctx.marketplace_id)
    rows.reject(
        bad,
        h[0],
        f"not a {ctx.marketplace_id} feedback date ({style.label}, or YYYY-MM-DD): " + quote(date_raw),
    )
    rows.reject(day.isna(), h[0], "required value is missing")
    rating, rbad = integers(rating_raw)
    rows.reject(
        rbad | (rating < 1).fillna(False) | (rating > 5).fillna(False),
        h[1],
        "not a rating 1-5: " + quote(rating_raw),
    )
    rows.reject(rating.isna(), h[1], "required value is missing")
    rows.flag(
        (rating > 3).fillna(False).to_numpy(), h[1], "a 4-5 star rating in a report that lists only 1-3 stars"
    )
    submitted, _ = local_to_utc(day, ctx.tz)
    derived = pd.DataFrame(
        {
            "seller_id": ctx.seller_id,
            "order_id": oid,
            "rating": rating,
            "submitted_at": submitted,
            "comment": text(comment),
        }
    )
    every = np.ones(len(rows), dtype=bool)
    d, grp = one_to_one(rows, every, derived)
    provided = ["seller_id", "order_id", "rating", "submitted_at", "comment"]
    ctx.note(NOTE)
    ctx.note(
        f"feedback dates read as {ctx.marketplace_id} format {style.label} (or YYYY-MM-DD); submitted_at is "
        "00:00 local time of that date"
    )
    source = f"amazon:{detect.FEEDBACK}:{rf.file}"
    return [build("feedback", rows, every, d, grp, provided, source)]
