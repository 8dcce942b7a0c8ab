"""What each seller's sources provide: "not measured" is decided per seller, never warehouse-wide.

The warehouse records, per import source, the contract columns it provides per table
(``_cxops_columns``) and the sellers it covers (``_cxops_coverage``; see
:class:`cxops.warehouse.Provenance`). A seller's *sources* are the sources covering it plus the sources
that cover every seller (recorded without coverage: tables attached by hand, built-in marketplaces).
For each table, the seller's view of it is:

* **absent** when none of its sources provides the table (its metrics are "not measured — no
  <table> data imported", even if another seller's source filled the table);
* otherwise the columns **every** one of its sources providing the table provides (a column only
  some of them provide is unknown for the rows of the others).

Sellers with the same set of sources share a *profile*; there are few profiles (one per combination
of sources), so the decisions are made once per profile in Python and applied to sellers with one
join on a small ``seller_id, marketplace_id, profile`` table — the same Ibis expression on DuckDB and
Spark. A warehouse whose sources cover every seller (one import, or attached tables) has one profile
and no join at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

#: Tables read the same for every seller (not per source).
SHARED_TABLES = ("marketplaces",)
KEYS = ["seller_id", "marketplace_id"]


@dataclass(frozen=True)
class Profile:
    """What one set of sources provides.

    Attributes
    ----------
    sources : frozenset of str
    provided : dict or None
        Table -> columns provided by every source of the set that provides the table (tables no
        source of the set provides are absent). ``None``: nothing recorded, trust the stored columns.
    """

    sources: frozenset[str]
    provided: dict[str, frozenset[str]] | None

    def has_table(self, table: str) -> bool:
        return self.provided is None or table in self.provided or table in SHARED_TABLES


@dataclass
class SellerSources:
    """Sellers' profiles.

    Attributes
    ----------
    profiles : dict of int to Profile
    default : int
        Profile of sellers no source lists (covered only by the sources that cover every seller).
    by_seller : ibis.Table
        ``seller_id, marketplace_id, profile`` of the sellers some source lists.
    present : set of int, optional
        The profiles of the sellers being computed, set by the metric functions for the duration of
        one call (:func:`cxops.metrics.compute.compute_at`, ``compute_series``); every profile when
        ``None``. With one profile present (one source covering every seller) nothing is joined.
    """

    profiles: dict[int, Profile]
    default: int
    by_seller: ir.Table
    present: set[int] | None = None
    _flags: dict = field(default_factory=dict, repr=False)

    def profile_of(self, keys: ir.Table) -> ir.Table:
        """``keys`` (with ``seller_id, marketplace_id``) plus ``profile``."""
        j = keys.left_join(self.by_seller, KEYS).select(keys, "profile")
        return j.mutate(profile=j.profile.fill_null(self.default))

    def active(self) -> dict[int, Profile]:
        ids = self.present if self.present is not None else set(self.profiles)
        return {i: p for i, p in self.profiles.items() if i in ids}

    def keep(self, t: ir.Table, good: set[int]) -> ir.Table:
        """``t`` restricted to the sellers whose profile is in ``good`` (``t`` when all are)."""
        ids = set(self.active())
        if ids <= good:
            return t
        if not (ids & good):
            return t.filter(ibis.literal(False))
        if self.default in good:  # sellers no source lists are kept: drop the listed bad ones
            bad = self.by_seller.filter(~self.by_seller.profile.isin(sorted(good))).select(KEYS)
            return t.anti_join(bad, KEYS)
        ok = self.by_seller.filter(self.by_seller.profile.isin(sorted(good))).select(KEYS)
        return t.semi_join(ok, KEYS)

    def column_flag(self, t: ir.Table, table: str, *columns: str) -> tuple[ir.Table, str | bool]:
        """Whether the sources of each row's seller provide ``columns`` of ``table``.

        Returns ``(t, True/False)`` when every profile agrees, else ``t`` with a boolean flag column
        added (by a join on the seller) and the flag column's name.
        """
        yes = {i for i, p in self.active().items() if _provides(p, table, columns)}
        ids = set(self.active())
        if yes >= ids:
            return t, True
        if not yes:
            return t, False
        name = "_prov_" + "_".join((table, *columns))
        flag = self.by_seller.select(*KEYS, **{name: self.by_seller.profile.isin(sorted(yes))})
        j = t.left_join(flag, KEYS).select(t, name)
        return j.mutate(**{name: j[name].fill_null(self.default in yes)}), name


def _provides(p: Profile, table: str, columns) -> bool:
    if p.provided is None:
        return True
    return table in p.provided and all(c in p.provided[table] for c in columns)


def seller_sources(columns: pd.DataFrame, coverage: ir.Table | None, covered: frozenset[str], execute):
    """Build :class:`SellerSources` from the recorded provenance; ``None`` when every source covers
    every seller (then the warehouse-wide provided columns are exact for everyone).

    Parameters
    ----------
    columns : pandas.DataFrame
        ``table_name, column_name, source``.
    coverage : ibis.Table or None
        ``source, seller_id, marketplace_id``.
    covered : frozenset of str
        Sources with coverage rows.
    execute : callable
        Runs an Ibis expression on the warehouse's backend, returning pandas.
    """
    if coverage is None or not covered:
        return None
    cov = execute(coverage.filter(coverage.marketplace_id.notnull()).select("source", *KEYS).distinct())
    everyone = frozenset(set(columns["source"]) - set(covered))
    cov = cov.sort_values(["seller_id", "marketplace_id", "source"])
    sets = cov.groupby(KEYS, sort=False)["source"].agg("\x1f".join).reset_index()
    codes, uniques = pd.factorize(sets["source"])
    profiles = {i: _profile(frozenset(u.split("\x1f")) | everyone, columns) for i, u in enumerate(uniques)}
    default = len(profiles)
    profiles[default] = _profile(everyone, columns) if everyone else Profile(frozenset(), None)
    by_seller = pd.DataFrame(
        {"seller_id": sets["seller_id"], "marketplace_id": sets["marketplace_id"], "profile": codes}
    ).astype({"profile": "int64"})
    table = ibis.memtable(by_seller)
    return SellerSources(profiles, default, table)


def _profile(sources: frozenset[str], columns: pd.DataFrame) -> Profile:
    df = columns[columns["source"].isin(sources)]
    provided = {}
    for table, g in df.groupby("table_name"):
        per = g.groupby("column_name")["source"].nunique()
        provided[table] = frozenset(per[per == g["source"].nunique()].index)
    return Profile(sources, provided)
