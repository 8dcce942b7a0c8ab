"""Import the Olist Brazilian e-commerce data set into canonical tables.

Source files (CSV or Parquet, found by standard name, see :data:`OLIST_FILES`): orders, order items
and sellers (required); products and the category translation; reviews and the marketing-funnel
closed deals (optional). Mapping (every Olist time is São Paulo wall clock, localized with the rule
of :mod:`cxops.ingest.wallclock` and stored as UTC):

* marketplace ``BR``. One seller order per (order_id, seller_id) of the items; channel ``MFN``;
  ``latest_ship_at`` = the latest ``shipping_limit_date`` of the seller's items in the order;
  ``latest_delivery_at`` = 23:59:59.999999 local on ``order_estimated_delivery_date``; ``units`` =
  the seller's item rows; ``order_total`` = sum of their prices (freight excluded), BRL; ``category``
  = English category of the seller's first item (by ``order_item_id``).
* order_items: ``line_id`` = ``order_item_id``, quantity 1, ``unit_price`` = price.
* shipments: one per seller order whose order has a carrier or customer delivery date;
  ``shipment_id`` = order_id, ``confirmed_at`` = ``first_scan_at`` = carrier hand-over,
  ``delivered_at`` = customer delivery. No carrier or tracking id.
* cancellations: status ``unavailable`` → seller, ``canceled`` → unknown; ``cancelled_at`` = the
  latest known time of the order (approval, purchase, carrier hand-over, delivery): Olist records no
  cancellation time, and a cancellation after the hand-over must not read as "before shipping".
* feedback: see :mod:`cxops.ingest.olist_reviews`.
* sellers: ``BR``; ``registered_at`` = closed-deal ``won_date``; ``primary_category`` = most frequent
  English category of the seller's items (ties: alphabetical).

Orders referenced by items but absent from the orders file are not invented: their item rows are
quarantined. Olist has no claims, messages, returns or violations, so those tables are not created.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxops.canonical.marketplaces import builtin_marketplaces, timezone_of
from cxops.ingest.files import SUFFIXES, IngestError, find_table_file
from cxops.ingest.job import ImportJob
from cxops.ingest.olist_reviews import load_feedback
from cxops.ingest.report import ImportReport, quarantine_rows
from cxops.ingest.sources import NO_SELLER, SourceFile, load_derived, text
from cxops.ingest.wallclock import LocalizeStats, end_of_local_day_utc, local_to_utc, parse_wallclock
from cxops.warehouse import Warehouse

MARKETPLACE = "BR"
CURRENCY = "BRL"

#: logical name -> standard Olist file stem
OLIST_FILES: dict[str, str] = {
    "orders": "olist_orders_dataset",
    "items": "olist_order_items_dataset",
    "sellers": "olist_sellers_dataset",
    "products": "olist_products_dataset",
    "categories": "product_category_name_translation",
    "reviews": "olist_order_reviews_dataset",
    "closed_deals": "olist_closed_deals_dataset",
}
REQUIRED_FILES = ("orders", "items", "sellers")
COLUMNS: dict[str, list[str]] = {
    "orders": [
        "order_id",
        "order_status",
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ],
    "items": ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price"],
    "sellers": ["seller_id"],
    "products": ["product_id", "product_category_name"],
    "categories": ["product_category_name", "product_category_name_english"],
    "reviews": ["review_id", "order_id", "review_score"],
    "closed_deals": ["seller_id", "won_date"],
}
"""Source columns each Olist file must have."""

INITIATED_BY = {"unavailable": "seller", "canceled": "unknown"}

#: The deadline inputs (:mod:`cxops.canonical.deadline_inputs`) Olist holds: the items' ship-by
#: (``shipping_limit_date``), the estimated delivery date, the carrier hand-over (confirmation and first
#: scan) and the customer delivery. No tracking ids, calendars, handling-time settings, ship-by
#: corrections, delivery attempts or buyer delivery confirmations.
DEADLINE_INPUTS = ("ship_by", "promised_delivery", "ship_confirmation", "first_scan", "delivery")


# -- discovery -------------------------------------------------------------------------------------
def discover_olist_files(
    directory: str | Path | None = None, paths: dict[str, str | Path | None] | None = None
) -> dict[str, Path]:
    """Locate the Olist files.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        Searched for each standard stem (:data:`OLIST_FILES`), then ``directory/partial``: first
        ``<stem>.csv`` / ``<stem>.parquet``, else the single file whose name starts with the stem
        (e.g. ``olist_orders_dataset.UNION_42474.parquet``).
    paths : dict, optional
        Explicit files by logical name (``orders``, ``items``, ``sellers``, ``products``,
        ``categories``, ``reviews``, ``closed_deals``); they take precedence. ``None`` values ignored.

    Returns
    -------
    dict of str to pathlib.Path
        By logical name, in the order of :data:`OLIST_FILES`.

    Raises
    ------
    IngestError
        Unknown logical name, missing directory, several candidate files for one name, a CSV and a
        Parquet copy of one stem, or a required file (orders, items, sellers) not found.
    """
    given = {k: Path(v) for k, v in (paths or {}).items() if v is not None}
    unknown = sorted(set(given) - set(OLIST_FILES))
    if unknown:
        raise IngestError(f"unknown Olist file name(s) {unknown}; known: {', '.join(OLIST_FILES)}")
    if directory is not None and not Path(directory).is_dir():
        raise IngestError(f"{directory}: not a directory")
    found = dict(given)
    for name, stem in OLIST_FILES.items():
        if name not in found and directory is not None:
            path = _discover(Path(directory), stem, name)
            if path is not None:
                found[name] = path
    missing = [n for n in REQUIRED_FILES if n not in found]
    if missing:
        where = f" in {directory} or {Path(directory) / 'partial'}" if directory is not None else ""
        raise IngestError(
            "Olist file(s) not found"
            + where
            + ": "
            + "; ".join(f"{n} ({OLIST_FILES[n]}.csv or .parquet, or pass --{n} PATH)" for n in missing)
        )
    return {n: found[n] for n in OLIST_FILES if n in found}


def _discover(directory: Path, stem: str, name: str) -> Path | None:
    for level in (directory, directory / "partial"):
        if not level.is_dir():
            continue
        exact = find_table_file(level, stem)
        if exact is not None:
            return exact
        cands = sorted(
            p
            for p in level.iterdir()
            if p.is_file() and p.suffix.lower() in SUFFIXES and p.name.startswith(stem)
        )
        if len(cands) > 1:
            raise IngestError(
                f"several Olist {name} files in {level}: {', '.join(p.name for p in cands)}; "
                f"choose one with --{name.replace('_', '-')} PATH"
            )
        if cands:
            return cands[0]
    return None


# -- the import ------------------------------------------------------------------------------------
@dataclass
class OlistContext:
    """State shared by the table mappings of one Olist import."""

    job: ImportJob
    report: ImportReport
    src: dict[str, SourceFile]
    tz: str
    dst: LocalizeStats
    orders: pd.DataFrame | None = None  # valid orders, UTC times, ``_src`` = orders file row
    items: pd.DataFrame | None = None  # loaded items
    all_items: pd.DataFrame | None = None  # every item row with its category
    so: pd.DataFrame | None = None  # seller orders joined with their order
    has_items: pd.Series | None = None  # per valid order: has a seller order
    has_category: bool = False

    def localize(self, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Raw wall-clock values -> (UTC instants, invalid mask)."""
        naive, bad = parse_wallclock(raw)
        utc, stats = local_to_utc(naive, self.tz)
        self.dst += stats
        return utc, bad


def import_olist(
    wh: Warehouse,
    directory: str | Path | None = None,
    quarantine_dir: str | Path | None = None,
    paths: dict[str, str | Path | None] | None = None,
    progress=None,
) -> ImportReport:
    """Import the Olist data set into ``wh`` (mapping: see the module docstring).

    Parameters
    ----------
    wh : Warehouse
    directory : str or pathlib.Path, optional
        Where to look for the files by standard name (see :func:`discover_olist_files`).
    quarantine_dir : str or pathlib.Path, optional
        Where to write ``<table>.csv`` with rejected and flagged rows; nothing written if ``None``.
    paths : dict, optional
        Explicit files by logical name (``{"orders": PATH, "reviews": PATH}`` …), overriding discovery.

    Returns
    -------
    ImportReport
        One entry per (source file, canonical table). ``rows_read`` / ``rows_loaded`` /
        ``rows_quarantined`` count source rows; ``inserted`` / ``replaced`` count canonical rows
        (a review of a two-seller order is one source row and two feedback rows).

    Raises
    ------
    IngestError
        A file missing, ambiguous or unreadable, or a required source column absent.
    """
    start = time.perf_counter()
    files = discover_olist_files(directory, paths)
    src = {name: SourceFile(path, COLUMNS[name], kind=f"Olist {name}") for name, path in files.items()}
    report = ImportReport(source="olist", declared=DEADLINE_INPUTS)
    where = Path(directory) if directory is not None else files["orders"]
    # progress(stage, done, total): the merge and change steps of the commit (a progress bar)
    with ImportJob(wh, report, f"olist:{where.resolve()}", quarantine_dir, progress=progress) as job:
        ctx = OlistContext(job, report, src, timezone_of(MARKETPLACE), LocalizeStats())
        _map_and_stage(ctx)
        job.commit()
    report.seconds = time.perf_counter() - start
    return report


def _map_and_stage(ctx: OlistContext) -> None:
    """Map every Olist file and stage the canonical rows (the commit writes them)."""
    src = ctx.src
    category = _categories(ctx)
    ctx.has_category = category is not None
    ctx.orders = _orders(ctx)
    ctx.items = _items(ctx, category)
    ctx.so = _seller_orders(ctx.items, ctx.orders)
    ctx.has_items = ctx.orders["order_id"].isin(ctx.so["order_id"])

    _load_marketplace(ctx)
    _load_sellers(ctx)
    _load_orders(ctx)
    _load_items(ctx)
    _load_shipments(ctx)
    _load_cancellations(ctx)
    if "reviews" in src:
        load_feedback(ctx)
    report = ctx.report
    report.note(
        f"times are America/Sao_Paulo wall clock converted to UTC; DST edges: "
        f"{ctx.dst.shifted:,} nonexistent times shifted forward, {ctx.dst.ambiguous:,} ambiguous "
        "times taken as the earlier (daylight-saving) instant"
    )
    report.note(
        "Olist has no claims, buyer messages, returns or violations: those tables are not "
        "created and their metrics are not measured"
    )


def _categories(ctx: OlistContext) -> pd.DataFrame | None:
    """product_id -> English category (untranslated names kept as is); None without products."""
    if "products" not in ctx.src:
        ctx.report.note("no products file: categories are not provided")
        return None
    p = ctx.src["products"]
    prod = pd.DataFrame({"product_id": p.text("product_id"), "pt": p.text("product_category_name")})
    prod = prod.dropna(subset=["product_id"]).drop_duplicates("product_id")
    if "categories" not in ctx.src:
        ctx.report.note("no category translation file: Portuguese category names are used")
        return prod.rename(columns={"pt": "category"})
    c = ctx.src["categories"]
    tr = pd.DataFrame({"pt": c.text("product_category_name"), "en": c.text("product_category_name_english")})
    prod = prod.merge(tr.dropna().drop_duplicates("pt"), on="pt", how="left")
    untranslated = sorted(prod.loc[prod["pt"].notna() & prod["en"].isna(), "pt"].unique())
    if untranslated:
        ctx.report.note(f"categories without an English translation kept as is: {', '.join(untranslated)}")
    prod["category"] = prod["en"].fillna(prod["pt"])
    return prod[["product_id", "category"]]


def _orders(ctx: OlistContext) -> pd.DataFrame:
    """Valid orders of the orders file with UTC times; rejects rows on the orders source."""
    o = ctx.src["orders"]
    oid = o.text("order_id")
    o.reject(oid.isna(), "order_id", "required value is missing")
    o.reject_duplicates(pd.DataFrame({"order_id": oid}), "order_id", "order_id")
    out = pd.DataFrame({"order_id": oid, "status": o.text("order_status").str.lower(), "_src": o.row})
    for col, name in (
        ("order_purchase_timestamp", "purchased_at"),
        ("order_approved_at", "approved_at"),
        ("order_delivered_carrier_date", "carrier_at"),
        ("order_delivered_customer_date", "delivered_at"),
    ):
        out[name], bad = ctx.localize(o.df[col])
        if name == "purchased_at":
            o.reject(bad, col, "not a valid timestamp: '" + o.df[col].map(str) + "'")
            o.reject(out[name].isna(), col, "required value is missing")
        else:
            o.warn.append((bad, col, "not a valid timestamp, taken as missing"))
    est, bad = parse_wallclock(o.df["order_estimated_delivery_date"])
    o.warn.append((bad, "order_estimated_delivery_date", "not a valid date, taken as missing"))
    out["latest_delivery_at"], stats = end_of_local_day_utc(est, ctx.tz)
    ctx.dst += stats
    off = int((est.notna() & (est != est.dt.normalize())).sum())
    if off:
        ctx.report.note(
            f"{off:,} order_estimated_delivery_date values have a time of day; only the date is used"
        )
    return out[o.ok.to_numpy()].reset_index(drop=True)


def _items(ctx: OlistContext, category: pd.DataFrame | None) -> pd.DataFrame:
    """Valid items whose order is a valid order; rejects rows on the items source."""
    i, report = ctx.src["items"], ctx.report
    df = pd.DataFrame(
        {
            "order_id": i.text("order_id"),
            "seller_id": i.text("seller_id"),
            "line_id": i.text("order_item_id"),
            "product_id": i.text("product_id"),
            "_src": i.row,
        }
    )
    for col, key in (("order_id", "order_id"), ("seller_id", "seller_id"), ("order_item_id", "line_id")):
        i.reject(df[key].isna(), col, "required value is missing")
    i.reject_duplicates(df[["order_id", "line_id"]], "order_item_id", "(order_id, order_item_id)")
    raw = i.df["price"]
    df["price"] = pd.to_numeric(
        raw if pd.api.types.is_numeric_dtype(raw) else text(raw), errors="coerce"
    ).astype("Float64")
    finite = np.isfinite(df["price"].to_numpy(dtype=float, na_value=np.nan))
    i.reject(
        (df["price"].isna() | (df["price"] < 0) | ~pd.Series(finite, index=df.index)).fillna(True),
        "price",
        "price is not a non-negative number: '" + raw.map(str) + "'",
    )
    df["ship_limit"], bad = ctx.localize(i.df["shipping_limit_date"])
    i.warn.append((bad, "shipping_limit_date", "not a valid timestamp, taken as missing"))
    df["line_no"] = pd.to_numeric(df["line_id"], errors="coerce")
    if category is not None:
        df = df.merge(category, on="product_id", how="left")
        n = int((df["category"].isna() & df["seller_id"].notna()).sum())
        if n:
            report.note(f"{n:,} item rows have a product without a category")
    else:
        df["category"] = None
    ctx.all_items = df
    missing = i.ok & ~df["order_id"].isin(set(ctx.src["orders"].text("order_id").dropna()))
    i.reject(missing, "order_id", "order not in the orders file")
    i.reject(~df["order_id"].isin(ctx.orders["order_id"]), "order_id", "order rejected in the orders file")
    if missing.any():
        report.note(
            f"{df.loc[missing, 'order_id'].nunique():,} orders referenced by items are missing "
            f"from the orders file: their {int(missing.sum()):,} item rows are not loaded "
            "(quarantined; no order is invented)"
        )
    return df[i.ok.to_numpy()].reset_index(drop=True)


def _seller_orders(items: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """One row per (order_id, seller_id) with the order's columns and ``n_sellers`` of the order."""
    it = items.sort_values(["order_id", "seller_id", "line_no", "line_id"], kind="stable")
    so = (
        it.groupby(["order_id", "seller_id"], sort=False)
        .agg(
            latest_ship_at=("ship_limit", "max"),
            units=("line_id", "size"),
            order_total=("price", "sum"),
        )
        .reset_index()
    )
    first = it.drop_duplicates(["order_id", "seller_id"], keep="first")[["order_id", "seller_id", "category"]]
    so = so.merge(first, on=["order_id", "seller_id"], how="left").merge(orders, on="order_id", how="inner")
    so["n_sellers"] = so.groupby("order_id")["seller_id"].transform("size")
    return so


# -- loading ---------------------------------------------------------------------------------------
def _load_marketplace(ctx: OlistContext) -> None:
    job = ctx.job
    if MARKETPLACE in job.stored_marketplaces():
        return  # an existing row (maybe a user override) is kept
    b = builtin_marketplaces()
    b = b[b["marketplace_id"] == MARKETPLACE].reset_index(drop=True)
    entry = job.entry("(built-in)", "marketplaces", 1, 1, 0)
    job.frame_part("marketplaces", b, entry)
    job.builtin_provided.setdefault("marketplaces", set()).update(b.columns)


def _load_sellers(ctx: OlistContext) -> None:
    s = ctx.src["sellers"]
    sel = pd.DataFrame({"seller_id": s.text("seller_id"), "_src": s.row})
    provided = ["seller_id", "marketplace_id", "country"]
    if ctx.has_category:
        it = ctx.all_items.dropna(subset=["seller_id", "category"])
        counts = it.groupby(["seller_id", "category"]).size().rename("n").reset_index()
        counts = counts.sort_values(["seller_id", "n", "category"], ascending=[True, False, True])
        top = counts.drop_duplicates("seller_id").rename(columns={"category": "primary_category"})
        sel = sel.merge(top[["seller_id", "primary_category"]], on="seller_id", how="left")
        provided.append("primary_category")
    if "closed_deals" in ctx.src:
        sel = _closed_deals(ctx, sel)
        provided.append("registered_at")
    sel["marketplace_id"] = MARKETPLACE
    sel["country"] = "BR"
    load_derived(
        ctx.job,
        ctx.report,
        "sellers",
        s,
        len(s),
        sel,
        s.quarantine("sellers"),
        provided=provided,
        source="olist",
    )
    unknown = ctx.items.loc[~ctx.items["seller_id"].isin(sel["seller_id"]), "seller_id"].nunique()
    if unknown:
        ctx.report.note(f"{unknown:,} sellers of loaded items are not in the sellers file")


def _closed_deals(ctx: OlistContext, sellers: pd.DataFrame) -> pd.DataFrame:
    """Add ``registered_at`` (closed-deal won_date) to ``sellers``; records its own report entry."""
    c = ctx.src["closed_deals"]
    sid = c.text("seller_id")
    won, bad = ctx.localize(c.df["won_date"])
    c.reject(sid.isna(), "seller_id", "required value is missing")
    c.reject(bad, "won_date", "not a valid timestamp: '" + c.df["won_date"].map(str) + "'")
    c.reject(won.isna(), "won_date", "required value is missing")
    c.reject_duplicates(pd.DataFrame({"seller_id": sid}), "seller_id", "seller_id")
    c.reject(~sid.isin(sellers["seller_id"]), "seller_id", "seller not in the sellers file")
    ok = c.ok.to_numpy()
    q = c.quarantine("sellers")
    ctx.job.entry(c.file, "sellers", len(c), int(ok.sum()), len(q), quarantined=q)
    ctx.job.quarantine_frame("sellers", q)
    ctx.report.note(
        f"sellers.registered_at is the closed-deal won_date for {int(ok.sum()):,} sellers "
        "(null for the others)"
    )
    deals = pd.DataFrame({"seller_id": sid[ok], "registered_at": won[ok]})
    return sellers.merge(deals, on="seller_id", how="left")


def _load_orders(ctx: OlistContext) -> None:
    o, orders, report = ctx.src["orders"], ctx.orders, ctx.report
    rows = ctx.so.assign(marketplace_id=MARKETPLACE, fulfillment_channel="MFN", currency=CURRENCY)
    cols = [
        "seller_id",
        "order_id",
        "marketplace_id",
        "purchased_at",
        "fulfillment_channel",
        "latest_ship_at",
        "latest_delivery_at",
        "units",
        "order_total",
        "currency",
    ]
    cols += ["category"] if ctx.has_category else []
    lost = orders[~ctx.has_items]
    q = pd.concat(
        [o.quarantine("orders"), o.quarantine_rows("orders", lost["_src"], "order_id", NO_SELLER)],
        ignore_index=True,
    )
    if len(lost):
        by = lost["status"].fillna("(none)").value_counts()
        report.note(
            f"{len(lost):,} orders of the orders file have no item rows (no seller), not loaded: "
            + ", ".join(f"{k} {v:,}" for k, v in by.items())
        )
    loaded = orders.loc[ctx.has_items, "_src"]
    warn = _status_warnings(ctx, orders[ctx.has_items]) + o.warnings("orders", loaded)
    report.note(
        "orders: latest_delivery_at = 23:59:59.999999 local on order_estimated_delivery_date; "
        "order_total = sum of item prices, freight excluded; category = the seller's first item's"
    )
    load_derived(
        ctx.job, report, "orders", o, len(o), rows[cols + ["_src"]], q, warn, provided=cols, source="olist"
    )


def _status_warnings(ctx: OlistContext, orders: pd.DataFrame) -> list[pd.DataFrame]:
    """Status/date mismatches (case C25), flagged on the orders file's rows."""
    st = orders["status"]
    checks = [
        (
            (st == "delivered") & orders["delivered_at"].isna(),
            "order_delivered_customer_date",
            "status delivered but order_delivered_customer_date is missing",
        ),
        (
            (st == "delivered") & orders["carrier_at"].isna(),
            "order_delivered_carrier_date",
            "status delivered but order_delivered_carrier_date is missing",
        ),
        (
            (st == "shipped") & orders["carrier_at"].isna(),
            "order_delivered_carrier_date",
            "status shipped but order_delivered_carrier_date is missing",
        ),
        (
            st.isin(list(INITIATED_BY)) & orders["delivered_at"].notna(),
            "order_delivered_customer_date",
            "status canceled/unavailable but order_delivered_customer_date is set",
        ),
    ]
    out = []
    for mask, col, why in checks:
        n = int(mask.sum())
        if n:
            ctx.report.note(f"status/date mismatch: {n:,} orders with {why}")
            out.append(quarantine_rows("orders", ctx.src["orders"].file, orders.loc[mask, "_src"], col, why))
    return out


def _load_items(ctx: OlistContext) -> None:
    i, items = ctx.src["items"], ctx.items
    rows = items.assign(quantity=1, unit_price=items["price"])
    cols = ["seller_id", "order_id", "line_id", "product_id", "quantity", "unit_price"]
    cols += ["category"] if ctx.has_category else []
    load_derived(
        ctx.job,
        ctx.report,
        "order_items",
        i,
        len(i),
        rows[cols + ["_src"]],
        i.quarantine("order_items"),
        i.warnings("order_items", items["_src"]),
        provided=cols,
        source="olist",
    )


def _load_per_order(ctx: OlistContext, table: str, order_mask: pd.Series, rows: pd.DataFrame, cols) -> None:
    """Load a table derived from the valid orders selected by ``order_mask`` (one candidate each)."""
    o = ctx.src["orders"]
    cand = ctx.orders[order_mask]
    lost = cand[~ctx.has_items[order_mask]]
    q = o.quarantine_rows(table, lost["_src"], "order_id", NO_SELLER)
    load_derived(
        ctx.job, ctx.report, table, o, len(cand), rows[cols + ["_src"]], q, provided=cols, source="olist"
    )


def _load_shipments(ctx: OlistContext) -> None:
    def shipped(df):
        return df["carrier_at"].notna() | df["delivered_at"].notna()

    sm = ctx.so[shipped(ctx.so)]
    rows = sm.assign(
        shipment_id=sm["order_id"], confirmed_at=sm["carrier_at"], first_scan_at=sm["carrier_at"]
    )
    cols = ["seller_id", "order_id", "shipment_id", "confirmed_at", "first_scan_at", "delivered_at"]
    ctx.report.note(
        "shipments: one per seller order with a carrier or delivery date; the carrier hand-over "
        "(order_delivered_carrier_date) is both confirmed_at and first_scan_at; no carrier or "
        "tracking id (valid tracking rate not measured)"
    )
    _load_per_order(ctx, "shipments", shipped(ctx.orders), rows, cols)


def _load_cancellations(ctx: OlistContext) -> None:
    cm = ctx.so[ctx.so["status"].isin(list(INITIATED_BY))]
    # The latest time the order is known to have been alive: a cancellation after the carrier
    # hand-over is then correctly "after shipping" (the order stays in the late-shipment population).
    at = cm[["approved_at", "purchased_at", "carrier_at", "delivered_at"]].max(axis=1)
    rows = cm.assign(cancelled_at=at, initiated_by=cm["status"].map(INITIATED_BY))
    cols = ["seller_id", "order_id", "cancelled_at", "initiated_by"]
    ctx.report.note(
        f"cancellations: Olist has no cancellation time, so cancelled_at is the order's latest "
        f"known time (approval, purchase, carrier hand-over or delivery; {len(rows):,} seller "
        "orders); unavailable -> seller, canceled -> unknown"
    )
    _load_per_order(ctx, "cancellations", ctx.orders["status"].isin(list(INITIATED_BY)), rows, cols)
