"""A few cases and documents for ``cxops demo``, made with the services an operator and a seller use.

:func:`create_demo_cases`: an eligibility inquiry of a not-eligible seller (answered at once from the
evaluation), a buyer dispute on the demo seller's latest order (its first response due in 24 hours), a
reinstatement appeal of a removed seller with an action plan. :func:`create_demo_documents`: for the
demo seller, a W-8BEN tax form accepted by the operator and a business licence awaiting review (small
generated PDFs, :func:`demo_pdf`). A case or document that is there already (a demo run again on the
same store) is skipped.
"""

from __future__ import annotations

from datetime import date, timedelta

from cxops.errors import ConflictError
from cxops.policy.model import Policy
from cxops.service import cases as C
from cxops.service import documents as D
from cxops.service.demo_program import ACTOR
from cxops.store import load_memberships
from cxops.store.db import Store


def demo_pdf(title: str, *lines: str) -> bytes:
    """A one-page PDF (Helvetica, Letter) with ``title`` and ``lines``: a readable stand-in for a scan."""

    def text(s: str) -> str:
        return (
            s.replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    body = [f"BT /F1 16 Tf 72 720 Td ({text(title)}) Tj ET"]
    body += [f"BT /F1 11 Tf 72 {690 - 16 * i} Td ({text(line)}) Tj ET" for i, line in enumerate(lines)]
    content = "\n".join(body).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _members(store: Store, program: str):
    with store.unit_of_work(write=False) as session:
        return load_memberships(session, program).sort_values(
            ["seller_id", "marketplace_id"], ignore_index=True
        )


def _marketplace(members, seller_id: str) -> str | None:
    mine = members[members["seller_id"] == seller_id]
    return None if mine.empty else str(mine.iloc[0]["marketplace_id"])


def create_demo_cases(store: Store, wh, policy: Policy, as_of: date, demo_seller: str | None) -> list[str]:
    """Open the demo's cases (see the module docstring); returns one line per case (``inquiry #1 S0002/JP
    answered``), or per case skipped because it is open already."""
    program = policy.name
    members = _members(store, program)
    done: list[str] = []

    def attempt(label: str, make) -> None:
        try:
            c = make()
        except ConflictError as e:
            done.append(f"{label}: skipped ({e})")
            return
        done.append(f"{c.kind} #{c.id} {c.seller_id}/{c.marketplace_id} {c.status}")

    outside = members[members["state"] == "not_eligible"]
    if len(outside):
        row = outside.iloc[0]
        attempt("inquiry", lambda: C.open_inquiry(
            store, wh, policy, row.seller_id, row.marketplace_id, as_of=as_of, actor=row.seller_id,
            question="Why am I not in the program, and what would it take to join?",
            program=program))  # fmt: skip
    mp = _marketplace(members, demo_seller) if demo_seller else None
    if mp is not None:
        o = wh.table("orders")
        last = wh.execute(
            o.filter((o.seller_id == demo_seller) & (o.marketplace_id == mp))
            .order_by([o.purchased_at.desc(), o.order_id])
            .select("order_id")
            .limit(1)
        )
        if len(last):
            order = str(last.iloc[0]["order_id"])
            attempt("dispute", lambda: C.open_dispute(
                store, wh, demo_seller, order, reason="item not received", actor=ACTOR, program=program,
                buyer_message="The tracking has not moved for five days. Where is my parcel?"))  # fmt: skip
    appealable = members[members["state"].isin(sorted(C.APPEALABLE))]
    if len(appealable):  # a removed seller first
        row = appealable.iloc[int((appealable["state"] != "removed").to_numpy().argmin())]
        plan = ("Action plan: a second carrier for the late routes, a packing shift in the afternoon, "
                "and a daily check of orders past their ship-by date.")  # fmt: skip
        attempt("appeal", lambda: C.open_appeal(store, row.seller_id, row.marketplace_id, plan,
                                                actor=row.seller_id, program=program))  # fmt: skip
    return done


def create_demo_documents(store: Store, policy: Policy, as_of: date, demo_seller: str | None) -> list[str]:
    """Upload the demo seller's W-8BEN (then accepted) and business licence (awaiting review); returns one
    line per document (``w8ben #1 S0012/DE accepted``)."""
    program = policy.name
    members = _members(store, program)
    mp = _marketplace(members, demo_seller) if demo_seller else None
    if mp is None:
        return []
    files = D.FileStore.configured(store)
    signed, valid = as_of - timedelta(days=300), as_of + timedelta(days=730)
    done: list[str] = []
    uploads = [
        ("w8ben", "w8ben.pdf", dict(signed_on=signed), True,
         demo_pdf("Form W-8BEN (demo)", f"Seller {demo_seller}", f"Signed on {signed}")),
        ("business_licence", "business-licence.pdf", dict(expires_on=valid), False,
         demo_pdf("Business licence (demo)", f"Seller {demo_seller}", f"Valid until {valid}")),
    ]  # fmt: skip
    for kind, name, extra, accept, data in uploads:
        try:
            d = D.upload(store, files, demo_seller, mp, kind, data, filename=name, actor=demo_seller,
                         program=program, **extra)  # fmt: skip
            if accept:
                d = D.review(store, d.id, "accept", actor=ACTOR)
        except ConflictError as e:
            done.append(f"{kind}: skipped ({e})")
            continue
        done.append(f"{kind} #{d.id} {d.seller_id}/{d.marketplace_id} {d.status}")
    return done
