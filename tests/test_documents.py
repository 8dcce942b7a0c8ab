"""Enrolment documents on SQLite and PostgreSQL: type read from the content, size limit, content-addressed
storage (a folder and fsspec's memory://), per-document status and completeness, reminders once per
interval, nothing half-written on a failure (the garbage collector takes the orphan file)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from _cases import count, events, seed
from hypothesis import given, settings
from hypothesis import strategies as hst

from cxops.errors import ConflictError, InputError, NotFoundError
from cxops.service import documents as D

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17 + b"\x00\x00\x00\x00IEND\xaeB`\x82"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 40 + b"\xff\xd9"
TODAY = date(2026, 11, 15)  # address proofs asked for: 2026-10, 2026-09, 2026-08
SMALL = D.DocumentSettings(max_bytes=1024)


def pdf(tag: str) -> bytes:
    """A distinct small PDF per tag (different bytes, different hash)."""
    return PDF.replace(b"<<>>", f"<</T ({tag})>>".encode())


# -- the type from the content -----------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("data, kind", [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg")])
def test_sniff_reads_the_type_from_the_content(data, kind):
    assert D.sniff(data, "x").kind == kind
    assert (
        D.sniff(data, "named-wrongly.txt").content_type
        == {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}[kind]
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (PDF[:20], "starts like a PDF but has no end-of-file marker"),
        (PNG[:30], "starts like a PNG image but is incomplete"),
        (JPEG[:20], "starts like a JPEG image but is truncated"),
        (b"PK\x03\x04" + b"\x00" * 40, "a ZIP archive"),
        (b"MZ\x90\x00" + b"\x00" * 40, "a Windows program"),
        (b"GIF89a" + b"\x00" * 40, "a GIF image"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, "HEIC"),
        (b"Dear sir, please find my licence attached.\n", "plain text"),
        (b"\x01\x02\x03\x04\x05", "unrecognised content (starts with 01 02 03 04 05)"),
    ],
)
def test_sniff_refuses_other_content_saying_what_it_is(data, message):
    with pytest.raises(InputError, match="licence.pdf") as e:
        D.sniff(data, "licence.pdf")
    assert message in str(e.value)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(hst.binary(min_size=0, max_size=200))
def test_sniff_never_accepts_bytes_without_a_signature(data):
    starts = data.startswith((b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"))
    try:
        got = D.sniff(data)
    except InputError:
        return
    assert starts and got.kind in ("pdf", "png", "jpeg")


@pytest.mark.unit
def test_month_periods_and_the_default_checklist():
    assert D.month_periods(date(2026, 1, 31), 3) == ["2025-12", "2025-11", "2025-10"]
    assert D.month_periods(TODAY, 3) == ["2026-10", "2026-09", "2026-08"]
    assert [r.id for r in D.DEFAULT_CHECKLIST.requirements] == [
        "w8ben",
        "business_licence",
        "brand_authorisation",
        "address_proof",
    ]


@pytest.mark.unit
def test_checklist_from_toml_and_its_errors(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(
        'name = "mine"\nremind_every_days = 3\n[[requirements]]\nid = "licence"\nlabel = "Licence"\n'
        'required = "categories"\ncategories = ["Toys"]\n'
    )
    c = D.load_checklist(p)
    assert c.name == "mine" and c.requirements[0].categories == ["Toys"] and c.remind_every_days == 3
    p.write_text('[[requirements]]\nid = "x"\nlabel = "X"\nrequired = "categories"\nmonths = 0\n')
    with pytest.raises(InputError) as e:
        D.load_checklist(p)
    assert "requirements.0.months: Input should be greater than or equal to 1" in str(e.value)
    p.write_text('[[requirements]]\nid = "x"\nlabel = "X"\nrequired = "categories"\n')
    with pytest.raises(InputError, match="required = 'categories' needs a categories list"):
        D.load_checklist(p)
    p.write_text("not toml = [")
    with pytest.raises(InputError, match="not valid TOML"):
        D.load_checklist(p)
    with pytest.raises(InputError, match="unknown document kind 'passport'"):
        D.DEFAULT_CHECKLIST.requirement("passport")


# -- storage -----------------------------------------------------------------------------------------


@pytest.fixture
def shop(store):
    seed(
        store
    )  # S1 enrolled (category "Home & Kitchen"), S2 removed, S3 enrolled (electronics, DE), S4 enrolled
    return store


@pytest.fixture(params=["folder", "memory"])
def files(request, tmp_path):
    if request.param == "folder":
        return D.FileStore(str(tmp_path / "docs"))
    import uuid

    return D.FileStore(f"memory://docs-{uuid.uuid4().hex}")


def up(store, files, kind, data=PDF, seller="S1", **kw):
    kw.setdefault("actor", "s1")
    kw.setdefault("today", TODAY)
    kw.setdefault("filename", f"{kind}.pdf")
    return D.upload(
        store, files, seller, kw.pop("marketplace", "DE" if seller == "S3" else "US"), kind, data, **kw
    )


def test_files_are_stored_once_under_their_sha256(shop, files):
    a = up(shop, files, "w8ben", signed_on=date(2026, 1, 10))
    b = up(shop, files, "address_proof", period="2026-10")  # the same bytes
    digest = hashlib.sha256(PDF).hexdigest()
    assert a.sha256 == b.sha256 == digest
    assert files.path(digest).endswith(f"/sha256/{digest[:2]}/{digest[2:4]}/{digest}")
    stored = files.stored()
    assert stored["sha256"].tolist() == [digest] and files.get(digest) == PDF


def test_size_limit_and_type_refuse_before_anything_is_written(shop, files):
    with pytest.raises(InputError, match="too large: more than 1 KiB") as e:
        up(shop, files, "business_licence", PDF + b"%" * 2000, settings=SMALL)
    assert "CXOPS_DOCUMENTS_MAX_BYTES" in e.value.hint
    with pytest.raises(InputError, match="is a PNG file; a W-8BEN tax form must be: PDF"):
        up(shop, files, "w8ben", PNG, signed_on=date(2026, 1, 10), filename="w8.png")
    with pytest.raises(InputError, match="not a PDF, PNG or JPEG"):
        up(shop, files, "business_licence", b"MZ" + b"\x00" * 50, filename="licence.pdf")
    with pytest.raises(NotFoundError, match="unknown seller: NOBODY has no membership"):
        up(shop, files, "business_licence", seller="NOBODY")
    assert count(shop, "documents") == 0 and files.stored().empty and events(shop).empty


def test_upload_checks_the_requirement(shop, files):
    with pytest.raises(InputError, match="needs the day it was signed"):
        up(shop, files, "w8ben")
    with pytest.raises(InputError, match="is in the future"):
        up(shop, files, "w8ben", signed_on=date(2026, 12, 1))
    with pytest.raises(InputError, match=r"give --period YYYY-MM \(one of 2026-10, 2026-09, 2026-08\)"):
        up(shop, files, "address_proof")
    with pytest.raises(InputError, match="--period 2026-11: the Proof of the shipping address is asked for"):
        up(shop, files, "address_proof", period="2026-11")
    with pytest.raises(InputError, match="--period applies to documents needed per month"):
        up(shop, files, "business_licence", period="2026-10")
    with pytest.raises(InputError, match="has no expiry date"):
        up(shop, files, "address_proof", period="2026-10", expires_on=date(2027, 1, 1))
    with pytest.raises(InputError, match="expired on 2026-11-01"):
        up(shop, files, "business_licence", expires_on=date(2026, 11, 1))
    with pytest.raises(InputError, match="unknown document kind"):
        up(shop, files, "passport")
    # a W-8BEN signed on 10 Jan 2026 is valid until 31 Dec 2029 (the third succeeding calendar year)
    w = up(shop, files, "w8ben", signed_on=date(2026, 1, 10))
    assert (w.signed_on, w.expires_on, w.status, w.content_type) == (
        date(2026, 1, 10),
        date(2029, 12, 31),
        "submitted",
        "application/pdf",
    )
    j = up(shop, files, "business_licence", JPEG, filename="licence.pdf")
    assert j.content_type == "image/jpeg" and "named .pdf but its content is JPEG" in j.warnings[0]


def _status(store, seller="S1", marketplace="US", today=TODAY):
    c = D.checklist_status(store, seller, marketplace, today=today)
    rows = {(r.requirement, r.period): r for r in c.items.itertuples()}
    return c, rows


def test_each_document_goes_missing_submitted_accepted_rejected_expired(shop, files):
    c, rows = _status(shop)
    assert not c.complete
    assert [(k, r.status, r.required) for k, r in rows.items()] == [
        (("w8ben", None), "missing", True),
        (("business_licence", None), "missing", True),
        (("address_proof", "2026-10"), "missing", True),
        (("address_proof", "2026-09"), "missing", True),
        (("address_proof", "2026-08"), "missing", True),
    ]  # brand authorisation is "if any": not listed until submitted
    w = up(shop, files, "w8ben", pdf("w8"), signed_on=date(2026, 1, 10))
    lic = up(shop, files, "business_licence", pdf("lic"))
    proofs = [up(shop, files, "address_proof", pdf(p), period=p) for p in ("2026-10", "2026-09", "2026-08")]
    _, rows = _status(shop)
    assert {r.status for r in rows.values()} == {"submitted"}
    D.review(shop, w.id, "accept", actor="rev", today=TODAY)
    D.review(shop, lic.id, "accept", actor="rev", expires_on=date(2026, 12, 1), today=TODAY)
    D.review(shop, proofs[0].id, "accept", actor="rev", today=TODAY)
    D.review(shop, proofs[1].id, "accept", actor="rev", today=TODAY)
    D.review(shop, proofs[2].id, "reject", actor="rev", reason="the bill is for another address", today=TODAY)
    c, rows = _status(shop)
    assert not c.complete and rows[("address_proof", "2026-08")].status == "rejected"
    assert rows[("address_proof", "2026-08")].review_reason == "the bill is for another address"
    assert rows[("business_licence", None)].expiring_soon  # expires within 30 days
    assert c.outstanding[["requirement", "period"]].values.tolist() == [["address_proof", "2026-08"]]
    again = up(shop, files, "address_proof", pdf("aug-2"), period="2026-08")
    D.review(shop, again.id, "accept", actor="rev", today=TODAY)
    c, _ = _status(shop)
    assert c.complete  # every required document accepted
    # the licence expires on 1 December: from the 2nd, enrolment is incomplete again
    c, rows = _status(shop, today=date(2026, 12, 2))
    assert rows[("business_licence", None)].status == "expired" and not c.complete
    # a new month asks for a new proof (December: 2026-11, -10, -09)
    assert rows[("address_proof", "2026-11")].status == "missing"


def test_brand_authorisation_if_any_and_category_rules(shop, files):
    _, rows = _status(shop)
    assert ("brand_authorisation", None) not in rows
    b = up(shop, files, "brand_authorisation", pdf("brand"))
    _, rows = _status(shop)
    assert (
        rows[("brand_authorisation", None)].required
        and rows[("brand_authorisation", None)].status == "submitted"
    )
    D.review(shop, b.id, "reject", actor="rev", reason="not signed by the brand owner", today=TODAY)
    c, rows = _status(shop)
    assert rows[("brand_authorisation", None)].status == "rejected"
    checklist = D.Checklist(
        requirements=[
            D.Requirement(
                id="ce_mark",
                label="CE declaration",
                required="categories",
                categories=["electronics", "TOYS"],
            ),
        ]
    )
    got = D.checklist_status(shop, "S3", "DE", checklist=checklist, today=TODAY)  # electronics: required
    assert got.items["required"].tolist() == [True] and not got.complete
    other = D.checklist_status(
        shop, "S1", "US", checklist=checklist, today=TODAY
    )  # home & kitchen: not asked
    assert other.items.empty and other.complete


_KINDS = ("w8ben", "licence", "brand", "ce_mark")
_requirements = hst.lists(
    hst.builds(
        D.Requirement,
        id=hst.sampled_from(_KINDS),
        label=hst.just("a document"),
        required=hst.sampled_from(["always", "if_submitted", "categories"]),
        categories=hst.lists(hst.sampled_from(["Toys", "baby", "Electronics"]), min_size=1, max_size=2),
        months=hst.one_of(hst.none(), hst.integers(1, 3)),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda r: r.id,
)


def _document(kinds: list[str], today: date):
    """A document on file for one of the checklist's slots (or another kind or month), its expiry a few
    days either side of ``today`` (the boundaries of expired and expiring soon)."""
    return hst.fixed_dictionaries(
        {
            "seller_id": hst.sampled_from(["S1", "S2"]),
            "marketplace_id": hst.sampled_from(["US", "DE"]),
            "kind": hst.sampled_from([*kinds, "unknown"]),
            "period": hst.sampled_from([None, *D.month_periods(today, 3), "2025-01"]),
            "status": hst.sampled_from(["submitted", "accepted", "rejected"]),
            "expires_on": hst.one_of(
                hst.none(), hst.integers(-2, 8).map(lambda d: today + timedelta(days=d))
            ),
            "review_reason": hst.one_of(hst.none(), hst.just("blurred")),
            "filename": hst.just("scan.pdf"),
        }
    )


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(
    requirements=_requirements,
    categories=hst.lists(
        hst.sampled_from([None, "", "Toys & Games", "electronics", "Home"]), min_size=4, max_size=4
    ),
    expiring=hst.integers(0, 6),
    today=hst.dates(date(2026, 11, 28), date(2027, 1, 3)),
    data=hst.data(),
)
def test_a_sellers_checklist_rows_equal_the_checklist_frame(requirements, categories, expiring, today, data):
    """The seller's page (plain rows, one seller) and the operator's views (one frame for every seller)
    judge every slot alike."""
    import pandas as pd

    from cxops.service.sellerdesk import _records

    checklist = D.Checklist(requirements=requirements, expiring_within_days=expiring)
    docs = data.draw(
        hst.lists(
            _document([r.id for r in requirements], today),
            max_size=12,
            unique_by=lambda d: (d["seller_id"], d["marketplace_id"], d["kind"], d["period"]),
        )
    )
    docs = [{"id": i + 1, "submitted_at": datetime(2026, 9, 1, 8, tzinfo=UTC) + timedelta(days=i), **d}
            for i, d in enumerate(docs)]  # fmt: skip
    pairs = [("S1", "US"), ("S1", "DE"), ("S2", "US"), ("S2", "DE")]
    sellers = pd.DataFrame(pairs, columns=["seller_id", "marketplace_id"]).assign(primary_category=categories)
    columns = ["id", "seller_id", "marketplace_id", "kind", "period", "status", "submitted_at", "expires_on",
               "review_reason", "filename"]  # fmt: skip
    frame_docs = pd.DataFrame(docs, columns=columns)
    frame_docs["submitted_at"] = pd.to_datetime(frame_docs["submitted_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    frame = D.checklist_frame(checklist, sellers, frame_docs, today)
    for (seller, mp), category in zip(pairs, categories, strict=True):
        mine = [d for d in docs if (d["seller_id"], d["marketplace_id"]) == (seller, mp)]
        rows = D.checklist_rows(checklist, seller, mp, category, mine, today)
        expected = frame[(frame["seller_id"] == seller) & (frame["marketplace_id"] == mp)]
        assert rows == _records(expected)
        status = D.ChecklistStatus("p", seller, mp, today, checklist.name, rows, True)
        assert _records(status.items) == rows
        assert status.items["period"].tolist() == [r["period"] for r in rows]  # None, not NaN
        kinds = ["required", "document_id", "submitted_at", "expiring_soon"]
        assert status.items.dtypes[kinds].tolist() == frame.dtypes[kinds].tolist()


def test_review_rules(shop, files):
    lic = up(shop, files, "business_licence", pdf("lic"))
    with pytest.raises(InputError, match="reason for rejecting"):
        D.review(shop, lic.id, "reject", actor="rev", today=TODAY)
    with pytest.raises(InputError, match="in the past"):
        D.review(shop, lic.id, "accept", actor="rev", expires_on=date(2026, 1, 1), today=TODAY)
    D.review(shop, lic.id, "accept", actor="rev", today=TODAY)
    with pytest.raises(ConflictError, match=f"document {lic.id} was accepted already"):
        D.review(shop, lic.id, "reject", actor="rev", reason="x", today=TODAY)
    with pytest.raises(ConflictError, match="is accepted already") as e:
        up(shop, files, "business_licence", pdf("lic-2"))
    assert "--replace" in e.value.hint
    new = up(shop, files, "business_licence", pdf("lic-2"), replace=True)
    old = up(shop, files, "address_proof", pdf("p1"), period="2026-10")
    newer = up(shop, files, "address_proof", pdf("p2"), period="2026-10")
    with pytest.raises(ConflictError, match=f"replaced by document {newer.id}"):
        D.review(shop, old.id, "accept", actor="rev", today=TODAY)
    with pytest.raises(ConflictError, match="already on file"):
        up(shop, files, "address_proof", pdf("p2"), period="2026-10")
    with pytest.raises(InputError, match="has no expiry date to set"):
        D.review(shop, newer.id, "accept", actor="rev", expires_on=date(2027, 1, 1), today=TODAY)
    with pytest.raises(NotFoundError, match="document 9999 not found"):
        D.review(shop, 9999, "accept", actor="rev")
    assert D.list_documents(shop, statuses=["submitted"])["id"].tolist() == [new.id, old.id, newer.id]


def test_submissions_and_reviews_are_logged_and_rejections_sent(shop, files):
    d = up(shop, files, "business_licence", pdf("lic"))
    D.review(shop, d.id, "reject", actor="rev", reason="blurred scan", today=TODAY)
    log = events(shop)
    assert log["kind"].tolist() == ["document_submitted", "document_rejected", "document.reminder"]
    assert log["actor"].tolist() == ["s1", "rev", "system"]
    assert (
        log["details"].iloc[2]["reason"] == "blurred scan"
        and log["details"].iloc[2]["requirement"] == "business_licence"
    )


def test_reminders_once_per_interval_for_incomplete_members(shop, files):
    # S1 completes everything; S3 and S4 have nothing; S2 is removed (not a member): no reminder
    for kind, kw in [("w8ben", {"signed_on": date(2026, 1, 10)}), ("business_licence", {})]:
        D.review(shop, up(shop, files, kind, pdf(kind), **kw).id, "accept", actor="rev", today=TODAY)
    for p in ("2026-10", "2026-09", "2026-08"):
        D.review(
            shop, up(shop, files, "address_proof", pdf(p), period=p).id, "accept", actor="rev", today=TODAY
        )
    r = D.send_reminders(shop, today=TODAY)
    assert r.sellers[["seller_id", "documents"]].values.tolist() == [["S3", 5], ["S4", 5]]
    assert r.incomplete == 2 and r.skipped == 0
    again = D.send_reminders(shop, today=TODAY + timedelta(days=1))  # same 7-day interval
    assert again.sellers.empty and again.skipped == 2
    sent = events(shop, ["document.reminder"])
    assert sorted(sent["seller_id"]) == ["S3", "S4"]
    items = sent["details"].iloc[0]["items"]
    assert items[0] == {
        "requirement": "w8ben",
        "label": "W-8BEN tax form",
        "period": None,
        "status": "missing",
        "reason": None,
        "expires_on": None,
        "expiring_soon": False,
    }
    assert [i["requirement"] for i in items] == [
        "w8ben",
        "business_licence",
        "address_proof",
        "address_proof",
        "address_proof",
    ]
    # a week on, they are reminded again
    assert len(D.send_reminders(shop, today=TODAY + timedelta(days=7)).sellers) == 2


# -- nothing half-written ------------------------------------------------------------------------------


def test_a_failed_transaction_leaves_no_row_and_the_orphan_file_is_collected(shop, files, monkeypatch):
    keep = up(shop, files, "w8ben", pdf("keep"), signed_on=date(2026, 1, 10))

    def boom(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(D.repo, "add_document", boom)
    with pytest.raises(RuntimeError, match="connection lost"):
        up(shop, files, "business_licence", pdf("orphan"))
    monkeypatch.undo()
    assert count(shop, "documents") == 1
    orphan = hashlib.sha256(pdf("orphan")).hexdigest()
    assert files.exists(orphan)  # written before the row: a row never points to a missing file
    young = D.collect_garbage(shop, files, grace=timedelta(hours=1))
    assert young.deleted == [] and young.young == 1 and young.referenced == 1  # an upload may be in flight
    later = D.collect_garbage(
        shop, files, grace=timedelta(hours=1), now=datetime.now(UTC) + timedelta(hours=2)
    )
    assert [p.rsplit("/", 1)[-1] for p in later.deleted] == [orphan] and later.referenced == 1
    assert not files.exists(orphan) and files.get(keep.sha256) == pdf("keep")


def test_damaged_file_is_detected_on_read(shop, tmp_path):
    files = D.FileStore(str(tmp_path / "docs"))
    d = up(shop, files, "business_licence", pdf("lic"))
    with open(files.path(d.sha256), "wb") as f:
        f.write(pdf("tampered"))
    from cxops.errors import StoreError

    with pytest.raises(StoreError, match="damaged"):
        D.document_file(shop, files, d.id)


def test_default_location_is_beside_the_store(tmp_path):
    assert D.default_documents_url(f"sqlite:///{tmp_path}/cxops-store.sqlite") == str(
        tmp_path / "cxops-documents"
    )
    assert D.default_documents_url("postgresql+psycopg://u@h/db") == "cxops-documents"
    assert D.FileStore.configured(
        "sqlite:///x/cxops-store.sqlite", D.DocumentSettings(url="memory://d")
    ).url == ("memory://d")


def test_a_reminder_reaches_the_sellers_contact_as_a_message(shop, files):
    from sqlalchemy import select

    from cxops.notify.contacts import add_contact
    from cxops.notify.messages import from_params
    from cxops.notify.outbox import OUTBOX
    from cxops.notify.render import render

    with shop.unit_of_work() as s:
        add_contact(s, "S3", "*", "docs@s3.example", language="fr")
    D.send_reminders(shop, today=TODAY)  # S3 and S4 are reminded; only S3 has a contact
    with shop.unit_of_work(write=False) as s:
        rows = s.execute(select(OUTBOX)).mappings().all()
    assert [(r["seller_id"], r["kind"], r["language"]) for r in rows] == [("S3", "document_reminder", "fr")]
    msg = from_params("document_reminder", rows[0]["params"])
    assert [(d.document, d.status) for d in msg.documents] == [
        ("w8ben", "missing"),
        ("business_licence", "missing"),
        ("address_proof", "missing"),
        ("address_proof", "missing"),
        ("address_proof", "missing"),
    ]
    assert "S3" in render(msg, "fr").text
