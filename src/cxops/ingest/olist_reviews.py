"""Olist order reviews → canonical ``feedback`` (field cases C24 and C26).

* The key is (review_id, order_id), never review_id alone: a review attached to several orders is
  kept for each of them, with a data-quality note "review R shared by N orders" (C24).
* Several reviews of one order: the one with the latest answer timestamp (else creation date) wins;
  ties go to the later creation date, then the smaller review_id. The others are quarantined with
  the reason "superseded by a later review of the same order".
* A review of an order with items from several sellers gives one feedback row per seller, each with
  ``is_shared=True`` (C26), so per-seller metrics can exclude or split it.
* ``rating`` = review_score (integer 1–5), ``submitted_at`` = review_answer_timestamp, else
  review_creation_date (local wall clock → UTC), ``comment`` = title and message joined by a newline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cxops.canonical.schema import COMPLETE_RATINGS
from cxops.ingest.report import ImportReport, quarantine_rows
from cxops.ingest.sources import NO_SELLER, load_derived, text

if TYPE_CHECKING:
    from cxops.ingest.olist import OlistContext

SUPERSEDED = "superseded by a later review of the same order"


def load_feedback(ctx: OlistContext) -> None:
    """Map the reviews source of ``ctx`` to ``feedback`` and load it (see the module docstring)."""
    r, report = ctx.src["reviews"], ctx.report
    rid, oid = r.text("review_id"), r.text("order_id")
    r.reject(rid.isna(), "review_id", "required value is missing")
    r.reject(oid.isna(), "order_id", "required value is missing")
    r.reject_duplicates(
        pd.DataFrame({"review_id": rid, "order_id": oid}), "review_id,order_id", "key (review_id, order_id)"
    )
    raw = r.df["review_score"]
    score = pd.to_numeric(raw if pd.api.types.is_numeric_dtype(raw) else text(raw), errors="coerce")
    r.reject(
        (~score.between(1, 5) | (score != score.round())).fillna(True),
        "review_score",
        "review_score is not an integer from 1 to 5: '" + raw.map(str) + "'",
    )
    times = {}
    for col in ("review_answer_timestamp", "review_creation_date"):
        values = r.df[col] if col in r.df.columns else pd.Series(None, index=r.df.index, dtype=object)
        times[col], bad = ctx.localize(values)
        r.warn.append((bad, col, "not a valid timestamp, taken as missing"))
    submitted = times["review_answer_timestamp"].fillna(times["review_creation_date"])
    r.reject(
        submitted.isna(),
        "review_answer_timestamp",
        "no valid review_answer_timestamp or review_creation_date",
    )
    shared_n = _shared_notes(report, rid[r.ok], oid[r.ok])
    r.reject(
        ~oid.isin(set(ctx.src["orders"].text("order_id").dropna())),
        "order_id",
        "order not in the orders file",
    )
    r.reject(~oid.isin(ctx.orders["order_id"]), "order_id", "order rejected in the orders file")
    r.reject(~oid.isin(ctx.so["order_id"]), "order_id", NO_SELLER)
    _supersede(r, report, rid, oid, submitted, times["review_creation_date"])

    title, msg = r.text("review_comment_title"), r.text("review_comment_message")
    comment = title.combine_first(msg)
    both = (title.notna() & msg.notna()).to_numpy()
    comment[both] = title[both] + "\n" + msg[both]
    ok = r.ok.to_numpy()
    fb = pd.DataFrame(
        {
            "order_id": oid[ok],
            "rating": score[ok],
            "submitted_at": submitted[ok],
            "comment": comment[ok],
            "_src": r.row[ok],
            "_rid": rid[ok],
        }
    )
    fb = fb.merge(ctx.so[["order_id", "seller_id", "n_sellers"]], on="order_id", how="inner")
    fb["is_shared"] = fb["n_sellers"] > 1
    multi = fb[fb["is_shared"]]
    if len(multi):
        report.note(
            f"{multi['_src'].nunique():,} reviews are of orders with several sellers: one feedback "
            f"row per seller ({len(multi):,} rows), marked is_shared"
        )
    flagged = fb.drop_duplicates("_src")
    flagged = flagged[flagged["_rid"].isin(shared_n.index)]
    warn = r.warnings("feedback", fb["_src"]) + [
        quarantine_rows(
            "feedback",
            r.file,
            flagged["_src"],
            "review_id",
            [f"review {x} shared by {shared_n[x]} orders" for x in flagged["_rid"]],
        )
    ]
    cols = ["seller_id", "order_id", "rating", "submitted_at", "is_shared", "comment"]
    load_derived(
        ctx.job,
        report,
        "feedback",
        r,
        len(r),
        fb[cols + ["_src"]],
        r.quarantine("feedback"),
        warn,
        provided=[*cols, COMPLETE_RATINGS],  # Olist reviews cover every star level
        source="olist",
    )


def _supersede(r, report: ImportReport, rid, oid, submitted, created) -> None:
    """Keep the latest review of each order among the rows still valid; reject the others."""
    cand = pd.DataFrame({"rid": rid, "oid": oid, "t": submitted, "c": created})[r.ok]
    cand = cand.sort_values(["oid", "t", "c", "rid"], ascending=[True, False, False, True], kind="stable")
    win = cand.drop_duplicates("oid", keep="first")
    lost = cand.index.difference(win.index)
    if not len(lost):
        return
    winner = cand.loc[lost, "oid"].map(win.set_index("oid")["rid"])
    why = pd.Series(None, index=r.df.index, dtype=object)
    why[lost] = SUPERSEDED + " (review " + winner + ")"
    r.reject(why.notna(), "review_id", why)
    report.note(
        f"{cand.loc[lost, 'oid'].nunique():,} orders have several reviews: the latest answered "
        f"review is kept, {len(lost):,} superseded reviews are quarantined"
    )


def _shared_notes(report: ImportReport, rid: pd.Series, oid: pd.Series) -> pd.Series:
    """Notes for review ids attached to several orders (C24). Returns orders per shared review id."""
    n = pd.DataFrame({"rid": rid, "oid": oid}).groupby("rid")["oid"].nunique()
    n = n[n > 1]
    if len(n) <= 10:
        for r, k in n.items():
            report.note(f"review {r} shared by {k} orders (kept for each order)")
    else:
        ex = ", ".join(f"{r} ({k})" for r, k in n.head(3).items())
        report.note(
            f"{len(n):,} reviews are shared by several orders ({int(n.sum()):,} orders), kept for "
            f"each order, e.g. {ex}"
        )
    return n
