"""Enrolment documents: the checklist, uploads stored by content, review, completeness and reminders.

The checklist of the reference program (``program.md``, "Documents a seller provides when
enrolled"): a W-8BEN tax form, a business licence, a brand authorisation (if any), and a proof of the
shipping address for each of the last three months. It is declared once, as data
(:class:`Checklist`, default :data:`DEFAULT_CHECKLIST`), and can be replaced by a TOML file
(``CXOPS_DOCUMENTS_CHECKLIST`` or ``--checklist``) of the same shape::

    name = "my-program"
    [[requirements]]
    id = "w8ben"
    label = "W-8BEN tax form"
    validity = "three_calendar_years"   # expires on 31 December of the third year after signing

Per requirement (and per month, for a monthly one) a document is **missing**, **submitted**,
**accepted**, **rejected** (with the reason) or **expired** (its expiry day has passed); enrolment
is **complete** only when every required document is accepted and not expired.

Files
-----
Bytes are stored **content-addressed**: under ``<root>/sha256/<2 hex>/<2 hex>/<sha256>`` of any
fsspec location (``CXOPS_DOCUMENTS_URL``; default a folder beside the store, e.g.
``cxops-documents/`` beside ``cxops-store.sqlite``). The same bytes are stored once. The **type is
read from the content** (PDF, PNG, JPEG by their signatures and trailers), never from the file name;
a size limit applies (``CXOPS_DOCUMENTS_MAX_BYTES``, default 10 MiB).

Write order (nothing half-written): the file is written first, under a temporary name renamed into
place (a reader never sees a partial file), then the row and its event are committed in one
transaction. A failure or a crash between the two leaves at most a stored file that no row refers
to; :func:`collect_garbage` (``cxops documents gc``) deletes such files once they are older than a
grace period (``CXOPS_DOCUMENTS_GC_GRACE_SECONDS``, default one hour, so an upload still in flight is
never collected). A row never refers to a file that is not there.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxops.errors import ConflictError, InputError, NotFoundError, StoreError
from cxops.store import documents as repo
from cxops.store.cases import referenced_hashes as case_hashes
from cxops.store.db import Store
from cxops.store.memberships import get_membership, load_memberships, memberships_of
from cxops.store.models import Membership
from cxops.store.types import utcnow

DEFAULT_PROGRAM = "customer-excellence"
MiB = 1024 * 1024

# -- the checklist ---------------------------------------------------------------------------------

FileKind = Literal["pdf", "png", "jpeg"]


class Requirement(BaseModel):
    """One document of the checklist.

    Attributes
    ----------
    id : str
        Key of the requirement (``w8ben``, ``business_licence`` …), used on the command line.
    label : str
    required : {"always", "if_submitted", "categories"}
        ``always``; ``if_submitted`` ("if any": not needed, but once a seller submits one it must be
        accepted); ``categories``: for sellers whose primary category contains one of
        ``categories`` (case-insensitive).
    months : int or None
        A document per calendar month for the last ``months`` complete months before today.
    validity : {"none", "expiry_date", "three_calendar_years"}
        ``expiry_date``: the document carries an expiry date (given at upload or review);
        ``three_calendar_years``: valid until 31 December of the third year after it was signed
        (the IRS rule for a W-8BEN: "until the last day of the third succeeding calendar year"),
        so the signing day is required at upload.
    expiry_required : bool
        With ``expiry_date``: a document cannot be accepted without its expiry date.
    types : list of {"pdf", "png", "jpeg"}
        File types accepted (read from the content).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1)
    required: Literal["always", "if_submitted", "categories"] = "always"
    categories: list[str] = Field(default_factory=list)
    months: int | None = Field(None, ge=1, le=24)
    validity: Literal["none", "expiry_date", "three_calendar_years"] = "none"
    expiry_required: bool = False
    types: list[FileKind] = Field(default_factory=lambda: ["pdf", "png", "jpeg"], min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Requirement:
        if self.required == "categories" and not self.categories:
            raise ValueError(f"requirement {self.id!r}: required = 'categories' needs a categories list")
        if self.expiry_required and self.validity != "expiry_date":
            raise ValueError(f"requirement {self.id!r}: expiry_required applies to validity = 'expiry_date'")
        return self


class Checklist(BaseModel):
    """The documents a program asks of its members, and when to remind them.

    Attributes
    ----------
    name : str
    requirements : list of Requirement
    remind_every_days : int
        At most one reminder per seller in this many days.
    expiring_within_days : int
        A reminder also lists accepted documents expiring within this many days.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = "customer-excellence"
    requirements: list[Requirement] = Field(min_length=1)
    remind_every_days: int = Field(7, ge=1)
    expiring_within_days: int = Field(30, ge=0)

    @model_validator(mode="after")
    def _unique(self) -> Checklist:
        ids = [r.id for r in self.requirements]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"requirement id(s) listed twice: {', '.join(dup)}")
        return self

    def requirement(self, kind: str) -> Requirement:
        """The requirement ``kind``.

        Raises
        ------
        InputError
            An unknown kind (the message lists the known ones).
        """
        for r in self.requirements:
            if r.id == kind:
                return r
        raise InputError(
            f"unknown document kind {kind!r}; the checklist {self.name!r} has: "
            + ", ".join(r.id for r in self.requirements)
        )


#: The reference program's checklist (``program.md``).
DEFAULT_CHECKLIST = Checklist(
    name="customer-excellence",
    requirements=[
        Requirement(id="w8ben", label="W-8BEN tax form", validity="three_calendar_years", types=["pdf"]),
        Requirement(id="business_licence", label="Business licence", validity="expiry_date"),
        Requirement(
            id="brand_authorisation",
            label="Brand authorisation",
            required="if_submitted",
            validity="expiry_date",
        ),
        Requirement(id="address_proof", label="Proof of the shipping address", months=3),
    ],
)


def load_checklist(path: str | Path | None = None) -> Checklist:
    """The checklist in the TOML file ``path``; the settings' file, else :data:`DEFAULT_CHECKLIST`.

    Raises
    ------
    InputError
        The file cannot be read or parsed, or does not describe a checklist (every problem listed,
        with its key).
    """
    path = path or DocumentSettings().checklist
    if path is None:
        return DEFAULT_CHECKLIST
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"checklist {p}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"checklist {p} is not valid TOML: {e}") from None
    try:
        return Checklist.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise InputError(f"checklist {p}: {problems}") from None


# -- settings and the file store ---------------------------------------------------------------------


class DocumentSettings(BaseSettings):
    """Where and how document files are kept (env ``CXOPS_DOCUMENTS_*``).

    Attributes
    ----------
    url : str or None
        Root of the file store: a folder or any fsspec URL (``s3://bucket/docs``, ``memory://docs``).
        Default: a folder beside the store (:func:`default_documents_url`).
    max_bytes : int
        Largest file accepted, in bytes (default 10 MiB).
    checklist : str or None
        A checklist TOML file replacing :data:`DEFAULT_CHECKLIST`.
    gc_grace_seconds : int
        A stored file no row refers to is deleted by :func:`collect_garbage` once it is this old.
    """

    model_config = SettingsConfigDict(env_prefix="CXOPS_DOCUMENTS_", extra="ignore")

    url: str | None = None
    max_bytes: int = Field(10 * MiB, ge=1)
    checklist: str | None = None
    gc_grace_seconds: int = Field(3600, ge=0)


def default_documents_url(store_url: str) -> str:
    """A ``<stem>-documents`` folder beside a SQLite store file (``cxops-store.sqlite`` →
    ``cxops-documents``); ``cxops-documents`` in the working directory for other stores."""
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:"):
            stem = path.stem.removesuffix("-store")
            return str(path.with_name(f"{stem}-documents"))
    return "cxops-documents"


@dataclass(frozen=True)
class Sniffed:
    """A file type read from the content: ``kind`` (``pdf``, ``png``, ``jpeg``) and its MIME type."""

    kind: str
    content_type: str


_MIME = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}
#: Signatures of common files that are not accepted, to say what a refused file is.
_OTHERS = (
    (b"PK\x03\x04", "a ZIP archive (a Word .docx or Excel .xlsx is one)"),
    (b"\xd0\xcf\x11\xe0", "an Office 97-2003 document (.doc, .xls)"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"RIFF", "a RIFF file (WebP image, WAV, AVI)"),
    (b"{\\rtf", "an RTF document"),
    (b"<", "an HTML or XML text"),
)


def _describe(data: bytes) -> str:
    for sig, what in _OTHERS:
        if data.startswith(sig):
            return what
    if data[4:8] == b"ftyp":
        return "an HEIC/MP4 file (a phone photo in HEIC: export it as JPEG)"
    head = data[:8]
    try:
        head.decode("ascii")
        if all(32 <= b < 127 or b in (9, 10, 13) for b in data[:512]):
            return "plain text"
    except UnicodeDecodeError:
        pass
    return f"unrecognised content (starts with {head.hex(' ')})"


def sniff(data: bytes, name: str = "the file") -> Sniffed:
    """The type of ``data`` from its content: PDF, PNG or JPEG, checked for completeness too.

    A PDF starts with ``%PDF-`` and ends with ``%%EOF`` (within its last 1 KiB); a PNG has its
    8-byte signature, an ``IHDR`` chunk first and an ``IEND`` chunk last; a JPEG starts with the SOI
    marker ``FF D8 FF`` and has the EOI marker ``FF D9`` in its last 4 KiB. The file name is not
    looked at.

    Raises
    ------
    InputError
        Empty, truncated, or another type (the message says what it looks like).
    """
    if not data:
        raise InputError(f"{name} is empty")
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-1024:]:
            raise InputError(
                f"{name} starts like a PDF but has no end-of-file marker: it is truncated or damaged"
            )
        return Sniffed("pdf", _MIME["pdf"])
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if data[12:16] != b"IHDR" or b"IEND" not in data[-12:]:
            raise InputError(f"{name} starts like a PNG image but is incomplete or damaged")
        return Sniffed("png", _MIME["png"])
    if data.startswith(b"\xff\xd8\xff"):
        if b"\xff\xd9" not in data[-4096:]:
            raise InputError(f"{name} starts like a JPEG image but is truncated (no end-of-image marker)")
        return Sniffed("jpeg", _MIME["jpeg"])
    raise InputError(f"{name} is not a PDF, PNG or JPEG file: its content is {_describe(data)}")


class FileStore:
    """Files kept under their SHA-256 at an fsspec location (see the module docstring).

    Parameters
    ----------
    url : str
        A folder path or fsspec URL.
    """

    def __init__(self, url: str):
        import fsspec

        self.url = url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ValueError, ImportError) as e:
            raise InputError(f"documents location {url!r} cannot be used: {e}") from None
        self.root = self.root.rstrip("/")

    @classmethod
    def configured(cls, store: Store | str, settings: DocumentSettings | None = None) -> FileStore:
        """The file store of the settings, or the default beside ``store`` (a Store or its URL)."""
        settings = settings or DocumentSettings()
        if settings.url:
            return cls(settings.url)
        url = store if isinstance(store, str) else store.engine.url.render_as_string(hide_password=True)
        return cls(default_documents_url(url))

    def path(self, sha256: str) -> str:
        return f"{self.root}/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put(self, data: bytes) -> str:
        """Store ``data`` (under a temporary name, then renamed into place); returns its SHA-256.

        Storing bytes that are stored already rewrites them (refreshing the file's time, so the
        garbage collector's grace period starts again).

        Raises
        ------
        StoreError
            The location cannot be written.
        """
        digest = hashlib.sha256(data).hexdigest()
        final = self.path(digest)
        tmp = f"{final}.{uuid.uuid4().hex}.tmp"
        try:
            self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, final)
        except OSError as e:
            try:
                if self.fs.exists(tmp):
                    self.fs.rm(tmp)
            except OSError:
                pass
            raise StoreError(f"cannot store the file in {self.url}: {e}") from None
        return digest

    def get(self, sha256: str) -> bytes:
        """The stored bytes, checked against their SHA-256.

        Raises
        ------
        NotFoundError
            No file with this hash.
        StoreError
            The stored bytes do not match their hash (damaged).
        """
        try:
            data = self.fs.cat_file(self.path(sha256))
        except FileNotFoundError:
            raise NotFoundError(f"file {sha256} is not in {self.url}") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"file {sha256} in {self.url} is damaged: its content does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self.path(sha256)))

    def stored(self) -> pd.DataFrame:
        """Every file under the root: ``path``, ``sha256`` (None for a temporary file), ``modified``."""
        base = f"{self.root}/sha256"
        if not self.fs.exists(base):
            return pd.DataFrame({"path": [], "sha256": [], "modified": []})
        rows = []
        for p in self.fs.find(base):
            name = p.rsplit("/", 1)[-1]
            is_hash = len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)
            rows.append((p, name if is_hash else None, self.fs.modified(p)))
        return pd.DataFrame(rows, columns=["path", "sha256", "modified"])

    def delete(self, path: str) -> None:
        self.fs.rm(path)


def read_upload(path: str | Path, max_bytes: int) -> bytes:
    """Read an uploaded file, refusing one over ``max_bytes`` before reading it all.

    Raises
    ------
    InputError
        The file does not exist, is a folder, cannot be read, or is too large.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file {p} not found")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a file")
    try:
        with p.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"cannot read {p}: {e.strerror or e}") from None
    check_size(data, max_bytes, str(p))
    return data


def check_size(data: bytes, max_bytes: int, name: str) -> None:
    """Refuse ``data`` over ``max_bytes`` (the message gives both sizes)."""
    if len(data) > max_bytes:
        raise InputError(
            f"{name} is too large: more than {_size(max_bytes)} (the limit)",
            hint="reduce the file (scan at 150-200 dpi, export as PDF), or raise CXOPS_DOCUMENTS_MAX_BYTES",
        )


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} bytes"


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentView:
    """A stored document (a row of ``documents``) and, after an upload, what to know about it."""

    id: int
    program: str
    seller_id: str
    marketplace_id: str
    kind: str
    period: str | None
    status: str
    sha256: str
    size: int
    content_type: str
    filename: str
    submitted_at: datetime
    submitted_by: str
    signed_on: date | None = None
    expires_on: date | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    review_reason: str | None = None
    warnings: tuple[str, ...] = ()


def _view(d, warnings=()) -> DocumentView:
    return DocumentView(
        d.id, d.program, d.seller_id, d.marketplace_id, d.kind, d.period, d.status, d.sha256, d.size,
        d.content_type, d.filename, d.submitted_at, d.submitted_by, d.signed_on, d.expires_on,
        d.reviewed_at, d.reviewed_by, d.review_reason, tuple(warnings),
    )  # fmt: skip


#: Columns of a checklist frame (:func:`checklist_frame`).
CHECKLIST_COLUMNS = [
    "seller_id", "marketplace_id", "requirement", "label", "period", "required", "status", "document_id",
    "submitted_at", "expires_on", "expiring_soon", "review_reason", "filename",
]  # fmt: skip
_DOC_COLUMNS = ["id", "seller_id", "marketplace_id", "kind", "period", "status", "submitted_at", "expires_on",
                "review_reason", "filename"]  # fmt: skip


@dataclass(frozen=True)
class ChecklistStatus:
    """A seller's checklist: one row per required (or submitted) document and whether it is complete.

    ``rows`` are dicts of :data:`CHECKLIST_COLUMNS` (plain Python values: ``submitted_at`` a tz-aware
    UTC datetime, ``expires_on`` a date, absent values None), in checklist order; ``items`` is the same
    as a DataFrame; ``complete`` is True when every required document is accepted and not expired;
    ``outstanding`` lists the required items that are not.
    """

    program: str
    seller_id: str
    marketplace_id: str
    today: date
    checklist: str
    rows: list[dict]
    complete: bool

    @cached_property
    def items(self) -> pd.DataFrame:
        f = pd.DataFrame({c: pd.Series([r[c] for r in self.rows], dtype=object) for c in CHECKLIST_COLUMNS})
        f["document_id"] = f["document_id"].astype("Int64")
        f["submitted_at"] = pd.to_datetime(f["submitted_at"], utc=True).astype("datetime64[us, UTC]")
        return f.astype({"required": bool, "expiring_soon": bool})

    @property
    def outstanding(self) -> pd.DataFrame:
        i = self.items
        return i[i["required"] & (i["status"] != "accepted")]


# -- checklist arithmetic (vectorised over sellers) ---------------------------------------------------


def month_periods(today: date, months: int) -> list[str]:
    """The ``months`` complete calendar months before ``today``'s month, newest first (``YYYY-MM``).

    >>> month_periods(date(2026, 1, 15), 3)
    ['2025-12', '2025-11', '2025-10']
    """
    out, y, m = [], today.year, today.month
    for _ in range(months):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(f"{y:04d}-{m:02d}")
    return out


def _slot_rows(checklist: Checklist, today: date) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    rows = []
    for r in checklist.requirements:
        for period in month_periods(today, r.months) if r.months else [""]:
            rows.append((r.id, r.label, period, r.required, tuple(c.lower() for c in r.categories)))
    return rows


def slots(checklist: Checklist, today: date) -> pd.DataFrame:
    """The checklist's documents due on ``today``: one row per requirement, and per month for a
    monthly one (``requirement, label, period, rule, categories``; ``period`` '' when not monthly)."""
    return pd.DataFrame(
        _slot_rows(checklist, today), columns=["requirement", "label", "period", "rule", "categories"]
    )


def checklist_rows(
    checklist: Checklist,
    seller_id: str,
    marketplace_id: str,
    primary_category: str | None,
    documents: list[dict],
    today: date,
) -> list[dict]:
    """One seller's checklist on one marketplace as plain rows: :func:`checklist_frame`'s rows for a
    single seller, without building frames (a seller's page reads a handful; the two are tested equal
    on generated checklists and documents).

    Parameters
    ----------
    documents : list of dict
        The seller's documents on file on the marketplace (:func:`cxops.store.documents.seller_documents`).

    Returns
    -------
    list of dict
        :data:`CHECKLIST_COLUMNS`, in checklist order (see :class:`ChecklistStatus`).
    """
    category = (primary_category or "").lower()
    on_file = {(d["kind"], d["period"] or ""): d for d in documents}
    kinds = {d["kind"] for d in documents}
    soon = today + timedelta(days=checklist.expiring_within_days)
    out = []
    for requirement, label, period, rule, categories in _slot_rows(checklist, today):
        doc = on_file.get((requirement, period))
        in_category = any(c in category for c in categories)
        required = (
            rule == "always"
            or (rule == "if_submitted" and requirement in kinds)
            or (rule == "categories" and in_category)
        )
        if not (required or doc):
            continue  # an optional document nobody submitted: a rule that does not apply
        doc = doc or {}
        expires = doc.get("expires_on")
        if not doc:
            status = "missing"
        elif doc["status"] in ("accepted", "submitted") and expires is not None and expires < today:
            status = "expired"
        else:
            status = doc["status"]
        out.append(
            {
                "seller_id": seller_id,
                "marketplace_id": marketplace_id,
                "requirement": requirement,
                "label": label,
                "period": period or None,
                "required": required,
                "status": status,
                "document_id": doc.get("id"),
                "submitted_at": doc.get("submitted_at"),
                "expires_on": expires,
                "expiring_soon": status == "accepted" and expires is not None and expires <= soon,
                "review_reason": doc.get("review_reason"),
                "filename": doc.get("filename"),
            }
        )
    return out


def checklist_frame(
    checklist: Checklist, sellers: pd.DataFrame, documents: pd.DataFrame, today: date
) -> pd.DataFrame:
    """Every seller's checklist at once (array operations; no loop over sellers).

    Parameters
    ----------
    sellers : pandas.DataFrame
        ``seller_id, marketplace_id`` and optionally ``primary_category``.
    documents : pandas.DataFrame
        The documents on file (:func:`cxops.store.documents.latest_documents`).
    today : datetime.date
        The day the months and expiries are judged on.

    Returns
    -------
    pandas.DataFrame
        :data:`CHECKLIST_COLUMNS`, one row per seller and slot (:func:`slots`), in checklist order.
    """
    first = sellers.drop_duplicates(["seller_id", "marketplace_id"])
    seller_key = _joined(first["seller_id"], first["marketplace_id"])
    first = first.iloc[np.argsort(seller_key, kind="stable")]  # the frame's order: seller, marketplace
    category = (
        first["primary_category"].fillna("").str.lower().to_numpy(dtype=object)
        if "primary_category" in first.columns
        else np.full(len(first), "", dtype=object)
    )
    sl = slots(checklist, today)
    # the grid of sellers × slots, seller-major: row i is seller i // k, slot i % k
    k = len(sl)
    seller_row = np.repeat(np.arange(len(first)), k)
    slot_row = np.tile(np.arange(k), len(first))
    sid = first["seller_id"].to_numpy(dtype=object)[seller_row]
    mid = first["marketplace_id"].to_numpy(dtype=object)[seller_row]
    requirement = sl["requirement"].to_numpy(dtype=object)[slot_row]
    period = sl["period"].to_numpy(dtype=object)[slot_row]
    docs = documents.reindex(columns=_DOC_COLUMNS).reset_index(drop=True)
    doc_kind = _joined(docs["seller_id"], docs["marketplace_id"], docs["kind"])
    grid_kind = _joined(sid, mid, requirement)
    # the document on file for each slot (latest_documents holds one per seller, kind and period)
    on_file = pd.Index(_joined(doc_kind, docs["period"].fillna(""))).get_indexer(_joined(grid_kind, period))
    has_any = pd.Index(grid_kind).isin(doc_kind)
    in_category = np.zeros(len(sid), dtype=bool)
    lists = sorted({c for c in sl["categories"] if c})
    list_of_slot = np.array([lists.index(c) if c else -1 for c in sl["categories"]], dtype=int)
    list_of_row = list_of_slot[slot_row]  # per grid row, its slot's category list (-1: none)
    grid_category = category[seller_row]
    for k, cats in enumerate(lists):  # one pass per distinct category list, not per seller
        rows = list_of_row == k
        pattern = "|".join(re.escape(c) for c in cats)
        in_category[rows] = pd.Series(grid_category[rows], dtype=object).str.contains(pattern).to_numpy()
    rule = sl["rule"].to_numpy(dtype=object)[slot_row]
    required = (
        (rule == "always") | ((rule == "if_submitted") & has_any) | ((rule == "categories") & in_category)
    )
    found = docs.reindex(on_file).reset_index(drop=True)  # the document's columns per grid row, or missing
    expires = pd.to_datetime(found["expires_on"])
    has_doc = on_file >= 0
    expired = (
        has_doc & found["status"].isin(["accepted", "submitted"]).to_numpy() & (expires < pd.Timestamp(today))
    )
    status = np.where(~has_doc, "missing", np.where(expired, "expired", found["status"].astype(object)))
    soon = pd.Timestamp(today + timedelta(days=checklist.expiring_within_days))
    grid = pd.DataFrame(
        {
            "seller_id": sid,
            "marketplace_id": mid,
            "requirement": requirement,
            "label": sl["label"].to_numpy(dtype=object)[slot_row],
            "period": pd.Series(np.where(period == "", None, period), dtype=object),
            "required": required,
            "status": status,
            "document_id": found["id"].astype("Int64"),
            "submitted_at": found["submitted_at"],
            "expires_on": pd.Series(
                np.where(expires.notna(), expires.dt.date.astype(object), None), dtype=object
            ),
            "expiring_soon": (status == "accepted") & (expires <= soon).to_numpy(),
            "review_reason": found["review_reason"],
            "filename": found["filename"],
        }
    )
    # optional documents nobody submitted are not shown (a rule that does not apply)
    return grid[required | has_doc].reset_index(drop=True)


def _joined(*columns) -> np.ndarray:
    """Key columns joined into one string per row (a unit separator between them: sorts and matches as
    the tuple of columns would, for ids without control characters)."""
    out = np.asarray(columns[0], dtype=object)
    for c in columns[1:]:
        out = out + "\x1f" + np.asarray(c, dtype=object)
    return out


# -- use cases ---------------------------------------------------------------------------------------


def _member(session, program: str, seller_id: str, marketplace_id: str) -> Membership:
    m = get_membership(session, program, seller_id, marketplace_id)
    if m is None:
        raise _no_membership(program, seller_id, marketplace_id)
    return m


def _no_membership(program: str, seller_id: str, marketplace_id: str) -> NotFoundError:
    return NotFoundError(
        f"unknown seller: {seller_id} has no membership in {program} on marketplace {marketplace_id}",
        hint="check the seller id and --marketplace; the daily job (cxops run) writes memberships",
    )


def _who(actor: str | None) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise InputError("give the actor (--actor NAME): every document change is recorded with who made it")
    return actor


def _today(today: date | None) -> date:
    return today or utcnow().date()


def upload(
    store: Store,
    files: FileStore,
    seller_id: str,
    marketplace_id: str,
    kind: str,
    data: bytes,
    *,
    filename: str,
    actor: str,
    period: str | None = None,
    signed_on: date | None = None,
    expires_on: date | None = None,
    replace: bool = False,
    program: str = DEFAULT_PROGRAM,
    checklist: Checklist | None = None,
    settings: DocumentSettings | None = None,
    today: date | None = None,
) -> DocumentView:
    """Store a document a seller submits and record it for review (one transaction).

    Parameters
    ----------
    data : bytes
        The file's content (its type is read from it, see :func:`sniff`).
    filename : str
        The name it was uploaded under (kept for display; never used for the type).
    kind : str
        A requirement of the checklist (``w8ben``, ``business_licence``, ``brand_authorisation``,
        ``address_proof`` by default).
    period : str, optional
        ``YYYY-MM``: the month a monthly document is for (required there, refused elsewhere); one of
        the months the checklist asks for on ``today``.
    signed_on : datetime.date, optional
        The day a three-calendar-year document (W-8BEN) was signed: required there; its expiry is
        computed from it.
    expires_on : datetime.date, optional
        The expiry day printed on a document with an expiry date (may also be given at review).
    replace : bool
        Allow replacing a document that is accepted and valid (enrolment counts it again only once
        the replacement is accepted).
    today : datetime.date, optional
        The day checked against (default: the UTC date).

    Returns
    -------
    DocumentView
        With ``warnings`` (e.g. the file name says another type than the content).

    Raises
    ------
    InputError
        Empty, too large, or a type the requirement does not accept (PDF, PNG, JPEG by content);
        an unknown kind; a missing, malformed or unasked period; a missing or future signing day;
        a document already expired; no actor.
    NotFoundError
        The seller has no membership in the program on that marketplace.
    ConflictError
        The same file is already on file for this document, or an accepted, valid document would be
        replaced without ``replace``.
    """
    settings = settings or DocumentSettings()
    checklist = checklist or load_checklist(settings.checklist)
    today = _today(today)
    actor = _who(actor)
    req = checklist.requirement(kind)
    name = Path(filename).name or "upload"
    check_size(data, settings.max_bytes, name)
    found = sniff(data, name)
    if found.kind not in req.types:
        allowed = ", ".join(t.upper() for t in req.types)
        raise InputError(f"{name} is a {found.kind.upper()} file; a {req.label} must be: {allowed}")
    warnings = []
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix and suffix not in ({"jpg", "jpeg"} if found.kind == "jpeg" else {found.kind}):
        warnings.append(
            f"{name} is named .{suffix} but its content is {found.kind.upper()}; stored as {found.kind}"
        )
    if req.months:
        asked = month_periods(today, req.months)
        if not period:
            raise InputError(
                f"a {req.label} is needed per month: give --period YYYY-MM (one of {', '.join(asked)})"
            )
        if period not in asked:
            raise InputError(
                f"--period {period}: the {req.label} is asked for {', '.join(asked)} (the last {req.months} "
                f"complete months before {today})"
            )
    elif period:
        raise InputError(f"--period applies to documents needed per month, not to a {req.label}")
    if req.validity == "three_calendar_years":
        if signed_on is None:
            raise InputError(f"a {req.label} needs the day it was signed (--signed YYYY-MM-DD): it is valid "
                             "until 31 December of the third year after")  # fmt: skip
        if signed_on > today:
            raise InputError(f"--signed {signed_on} is in the future (today is {today})")
        expiry = date(signed_on.year + 3, 12, 31)
        if expires_on is not None and expires_on != expiry:
            raise InputError(
                f"a {req.label} signed on {signed_on} expires on {expiry}; do not give --expires"
            )
        expires_on = expiry
    elif signed_on is not None and req.validity == "none":
        pass  # the signing day is kept for the record
    if req.validity == "none" and expires_on is not None:
        raise InputError(f"a {req.label} has no expiry date; do not give --expires")
    if expires_on is not None and expires_on < today:
        raise InputError(f"this {req.label} expired on {expires_on}: submit a valid one")

    digest = hashlib.sha256(data).hexdigest()
    with store.unit_of_work() as session:  # checks first: nothing is stored for a refused upload
        _member(session, program, seller_id, marketplace_id)
        _check_current(session, program, seller_id, marketplace_id, req, period, digest, replace, today)
    files.put(data)  # before the row: a row never refers to a missing file (orphans: collect_garbage)
    with store.unit_of_work() as session:
        _member(session, program, seller_id, marketplace_id)
        _check_current(session, program, seller_id, marketplace_id, req, period, digest, replace, today)
        d = repo.add_document(
            session,
            program=program,
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            kind=kind,
            period=period,
            sha256=digest,
            size=len(data),
            content_type=found.content_type,
            filename=name[:300],
            submitted_at=utcnow(),
            submitted_by=actor,
            signed_on=signed_on,
            expires_on=expires_on,
        )
        return _view(d, warnings)


def _check_current(session, program, seller_id, marketplace_id, req, period, digest, replace, today) -> None:
    on_file = repo.latest_documents(session, program, sellers=[(seller_id, marketplace_id)])
    mine = on_file[(on_file["kind"] == req.id) & (on_file["period"].fillna("") == (period or ""))]
    if mine.empty:
        return
    cur = mine.iloc[-1]
    what = f"the {req.label}" + (f" for {period}" if period else "")
    if cur["sha256"] == digest and cur["status"] in ("submitted", "accepted"):
        raise ConflictError(f"this file is already on file as {what} (document {cur['id']}, {cur['status']})")
    valid = cur["expires_on"] is None or pd.isna(cur["expires_on"]) or cur["expires_on"] >= today
    if cur["status"] == "accepted" and valid and not replace:
        raise ConflictError(
            f"{what} is accepted already (document {cur['id']})",
            hint="pass --replace to submit a new one (it must then be accepted again)",
        )


def review(
    store: Store,
    document_id: int,
    decision: Literal["accept", "reject"],
    *,
    actor: str,
    reason: str | None = None,
    expires_on: date | None = None,
    checklist: Checklist | None = None,
    today: date | None = None,
) -> DocumentView:
    """Accept or reject a submitted document (one transaction; a rejection is sent to the seller).

    Parameters
    ----------
    decision : {"accept", "reject"}
    reason : str, optional
        Required to reject (the seller is told why).
    expires_on : datetime.date, optional
        The expiry day read off the document (documents with an expiry date).

    Raises
    ------
    InputError
        An unknown decision, a rejection without a reason, an expiry date where the document has
        none or in the past, an accepted document whose expiry date is required but missing.
    NotFoundError
        No such document.
    ConflictError
        The document was reviewed already, or a newer one replaced it.
    """
    if decision not in ("accept", "reject"):
        raise InputError(f"decision must be accept or reject, not {decision!r}")
    actor = _who(actor)
    reason = (reason or "").strip() or None
    if decision == "reject" and not reason:
        raise InputError("give the reason for rejecting (--reason TEXT): the seller is told why")
    checklist = checklist or load_checklist()
    today = _today(today)
    with store.unit_of_work() as session:
        d = repo.get_document(session, document_id, for_update=True)
        req = checklist.requirement(d.kind)
        if d.status != "submitted":
            raise ConflictError(
                f"document {document_id} was {d.status} already "
                f"(by {d.reviewed_by} on {d.reviewed_at:%Y-%m-%d})"
            )
        newer = repo.latest_documents(session, d.program, sellers=[(d.seller_id, d.marketplace_id)])
        newer = newer[(newer["kind"] == d.kind) & (newer["period"].fillna("") == (d.period or ""))]
        if len(newer) and int(newer.iloc[-1]["id"]) != d.id:
            raise ConflictError(
                f"document {document_id} was replaced by document {int(newer.iloc[-1]['id'])}: "
                "review that one"
            )
        if expires_on is not None:
            if req.validity != "expiry_date":
                raise InputError(f"a {req.label} has no expiry date to set (validity: {req.validity})")
            if expires_on < today and decision == "accept":
                raise InputError(
                    f"--expires {expires_on} is in the past: the document has expired; reject it"
                )
        final_expiry = expires_on or d.expires_on
        if decision == "accept":
            if req.expiry_required and final_expiry is None:
                raise InputError(f"give the expiry date printed on the {req.label} (--expires YYYY-MM-DD)")
            if final_expiry is not None and final_expiry < today:
                raise InputError(f"document {document_id} expired on {final_expiry}; reject it")
        status = "accepted" if decision == "accept" else "rejected"
        repo.review_document(
            session, d, status, actor=actor, at=utcnow(), reason=reason, expires_on=expires_on
        )
        if status == "rejected":
            from cxops.service.cases import notify_case

            notify_case(
                session,
                program=d.program,
                seller_id=d.seller_id,
                marketplace_id=d.marketplace_id,
                kind="document.reminder",
                context={"event": "document_rejected", "document_id": d.id, "requirement": d.kind,
                         "label": req.label, "period": d.period, "reason": reason},
                idempotency_key=f"document:{d.id}:rejected:notify",
            )  # fmt: skip
        return _view(d)


def checklist_status(
    store: Store,
    seller_id: str,
    marketplace_id: str,
    *,
    program: str = DEFAULT_PROGRAM,
    checklist: Checklist | None = None,
    today: date | None = None,
) -> ChecklistStatus:
    """A seller's checklist on ``today`` and whether enrolment is complete.

    Raises
    ------
    NotFoundError
        The seller has no membership in the program on that marketplace.
    """
    (status,) = checklist_statuses(
        store, seller_id, [marketplace_id], program=program, checklist=checklist, today=today
    ).values()
    return status


def checklist_statuses(
    store: Store,
    seller_id: str,
    marketplaces: list[str],
    *,
    program: str = DEFAULT_PROGRAM,
    checklist: Checklist | None = None,
    today: date | None = None,
    skip_missing: bool = False,
) -> dict[str, ChecklistStatus]:
    """A seller's checklists on several marketplaces at once (two queries, whatever the number of
    marketplaces; :func:`checklist_rows` for each): ``{marketplace_id: status}`` in the
    order given; with ``skip_missing``, a marketplace where the seller has no membership in the program
    is left out instead of raising.

    Raises
    ------
    NotFoundError
        The seller has no membership in the program on one of the marketplaces (not with
        ``skip_missing``).
    """
    checklist = checklist or load_checklist()
    today = _today(today)
    with store.unit_of_work(write=False) as session:
        held = {m.marketplace_id: m for m in memberships_of(session, program, seller_id)}
        wanted = list(dict.fromkeys(marketplaces))
        missing = [mp for mp in wanted if mp not in held]
        if missing and not skip_missing:
            raise _no_membership(program, seller_id, missing[0])
        mps = [mp for mp in wanted if mp in held]
        if not mps:
            return {}
        docs = repo.seller_documents(session, program, seller_id)
    out = {}
    for mp in mps:
        mine = [d for d in docs if d["marketplace_id"] == mp]
        rows = checklist_rows(checklist, seller_id, mp, held[mp].primary_category, mine, today)
        complete = all(r["status"] == "accepted" or not r["required"] for r in rows)
        out[mp] = ChecklistStatus(program, seller_id, mp, today, checklist.name, rows, complete)
    return out


def list_documents(
    store: Store,
    *,
    program: str | None = DEFAULT_PROGRAM,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    statuses: list[str] | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Submitted documents (every submission, oldest first; ``statuses=['submitted']``: the review
    queue).

    Raises
    ------
    InputError
        An unknown status.
    """
    bad = sorted(set(statuses or ()) - set(repo.DOCUMENT_STATUSES))
    if bad:
        raise InputError(f"unknown document status {bad[0]!r}; known: {', '.join(repo.DOCUMENT_STATUSES)}")
    with store.unit_of_work(write=False) as session:
        return repo.list_documents(
            session, program=program, seller_id=seller_id, marketplace_id=marketplace_id,
            statuses=statuses, kind=kind, limit=limit,
        )  # fmt: skip


def document_file(store: Store, files: FileStore, document_id: int) -> tuple[DocumentView, bytes]:
    """A document and its bytes (checked against their hash).

    Raises
    ------
    NotFoundError
        No such document, or its file is missing.
    """
    with store.unit_of_work(write=False) as session:
        d = repo.get_document(session, document_id)
    return _view(d), files.get(d.sha256)


@dataclass(frozen=True)
class Reminders:
    """Reminders recorded by :func:`send_reminders`: ``sellers`` reminded now, ``skipped`` (already
    reminded within the checklist's interval), ``incomplete`` (members whose enrolment is not
    complete)."""

    sellers: pd.DataFrame
    skipped: int
    incomplete: int


def send_reminders(
    store: Store,
    *,
    program: str = DEFAULT_PROGRAM,
    checklist: Checklist | None = None,
    today: date | None = None,
) -> Reminders:
    """Remind every member whose enrolment is incomplete, or whose documents expire soon.

    One ``document.reminder`` per seller and marketplace per ``remind_every_days`` (the key is the
    interval the day falls in, so running it twice a day, or again after a crash, sends nothing new),
    with the outstanding documents (missing, rejected with the reason, expired, awaiting review) and
    the accepted ones expiring within ``expiring_within_days``. The checklist of every member is
    computed at once (:func:`checklist_frame`).
    """
    from cxops.service.cases import notify_case
    from cxops.service.states import member_states

    checklist = checklist or load_checklist()
    today = _today(today)
    interval = (today - date(1970, 1, 1)).days // checklist.remind_every_days
    with store.unit_of_work() as session:
        members = load_memberships(session, program, states=member_states())
        docs = repo.latest_documents(session, program)
        items = checklist_frame(checklist, members, docs, today)
        due = items[(items["required"] & (items["status"] != "accepted")) | items["expiring_soon"]]
        keys = ["seller_id", "marketplace_id"]
        incomplete = items[items["required"] & (items["status"] != "accepted")][keys].drop_duplicates()
        sent, skipped = [], 0
        for (seller, mp), g in due.groupby(keys, sort=True):  # one message per seller reminded
            context = {
                "event": "documents_outstanding",
                "checklist": checklist.name,
                "items": [
                    {"requirement": r.requirement, "label": r.label, "period": r.period, "status": r.status,
                     "reason": r.review_reason if isinstance(r.review_reason, str) else None,
                     "expires_on": r.expires_on.isoformat() if r.expires_on else None,
                     "expiring_soon": bool(r.expiring_soon)}
                    for r in g.itertuples()
                ],
            }  # fmt: skip
            key = f"document-reminder:{program}:{seller}:{mp}:{checklist.remind_every_days}d:{interval}"
            if notify_case(session, program=program, seller_id=seller, marketplace_id=mp,
                           kind="document.reminder", context=context, idempotency_key=key):  # fmt: skip
                sent.append((seller, mp, len(g)))
            else:
                skipped += 1
    return Reminders(pd.DataFrame(sent, columns=[*keys, "documents"]), skipped, len(incomplete))


@dataclass(frozen=True)
class Garbage:
    """What :func:`collect_garbage` found: files deleted, kept because still young, and referenced."""

    deleted: list[str]
    young: int
    referenced: int


def collect_garbage(
    store: Store, files: FileStore, *, grace: timedelta | None = None, now: datetime | None = None
) -> Garbage:
    """Delete stored files that no document or case refers to and that are older than ``grace``.

    Such files are left by an upload whose transaction failed or was killed after the file was
    written (see the module docstring); temporary files of interrupted writes are collected too.
    """
    grace = grace if grace is not None else timedelta(seconds=DocumentSettings().gc_grace_seconds)
    now = now or datetime.now(UTC)
    stored = files.stored()
    with store.unit_of_work(write=False) as session:
        refs = repo.referenced_hashes(session) | case_hashes(session)
    deleted, young, referenced = [], 0, 0
    for row in stored.itertuples():
        if row.sha256 is not None and row.sha256 in refs:
            referenced += 1
        elif pd.Timestamp(row.modified).to_pydatetime() > now - grace:
            young += 1
        else:
            files.delete(row.path)
            deleted.append(row.path)
    return Garbage(deleted, young, referenced)


__all__ = [
    "CHECKLIST_COLUMNS",
    "DEFAULT_CHECKLIST",
    "Checklist",
    "ChecklistStatus",
    "DocumentSettings",
    "DocumentView",
    "FileStore",
    "Garbage",
    "Reminders",
    "Requirement",
    "check_size",
    "checklist_frame",
    "checklist_rows",
    "checklist_status",
    "collect_garbage",
    "default_documents_url",
    "document_file",
    "list_documents",
    "load_checklist",
    "month_periods",
    "read_upload",
    "review",
    "send_reminders",
    "slots",
    "sniff",
    "upload",
]
