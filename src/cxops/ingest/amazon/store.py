"""Writing mapped rows: merge by key with what the warehouse holds, upsert, and find what changed.

* **Merge.** A source sets only the columns it *writes* (:attr:`Mapped.writes`); for an existing key
  the warehouse keeps its values of the other columns. So the all-orders flat file imported after the
  Orders API does not erase the ship-by deadline the API gave, and re-importing replaces, never
  duplicates (:meth:`cxops.warehouse.Warehouse.upsert` replaces by key).
* **Changes.** Each incoming row is compared (null-safe, on every contract column) with the row the
  warehouse held for its key before the upsert; inserted or different rows are *changed* (the
  source file of a reported metric alone does not make it changed).
"""

from __future__ import annotations

import ibis
import pandas as pd

from cxops.canonical.schema import TABLES, TableSchema
from cxops.ingest.amazon.mapped import GRP, Mapped
from cxops.warehouse import UpsertStats, Warehouse, to_arrow

#: Provenance columns that do not make a row "changed" (the same numbers from another file).
NOT_COMPARED = {"reported_metrics": ("source_file", "source_metric")}


def key_text(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """The key columns of ``df`` as text (dates as ``YYYY-MM-DD``), for joins in pandas."""
    out = pd.DataFrame(index=df.index)
    for k in schema.key:
        s = df[k]
        if schema.column(k).dtype == "date":
            out[k] = pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype(object)
        else:
            out[k] = s.astype(object).where(s.notna(), None).map(str, na_action="ignore")
    return out


def existing(wh: Warehouse, schema: TableSchema, keys: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``schema``'s table whose key is in ``keys`` (contract columns; empty if no table)."""
    if not wh.has_table(schema.name) or not len(keys):
        return pd.DataFrame(columns=schema.column_names)
    sub = TableSchema(schema.name, tuple(schema.column(k) for k in schema.key), schema.key)
    mem = ibis.memtable(to_arrow(keys.drop_duplicates().reset_index(drop=True), sub))
    t = wh.table(schema.name)
    return wh.execute(t.inner_join(mem, list(schema.key)).select(schema.column_names))


def comparable(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """``df`` with the contract's columns and Arrow types (same representation for both sides)."""
    return to_arrow(df.reset_index(drop=True), schema).to_pandas(types_mapper=pd.ArrowDtype)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    eq = (a == b).fillna(False).astype(bool)
    return eq | (a.isna() & b.isna()).astype(bool)


def merge_upsert(wh: Warehouse, m: Mapped) -> tuple[UpsertStats, pd.DataFrame]:
    """Merge ``m``'s loaded rows with the stored rows, upsert them, and return what changed.

    Returns
    -------
    stats : UpsertStats
    changed : pandas.DataFrame
        The changed rows, new values and (for keys that existed) old values, in the contract's
        columns (Arrow types); used for the changed-days report.
    """
    schema = TABLES[m.table]
    key = list(schema.key)
    new = m.loaded.drop(columns=[GRP], errors="ignore").reset_index(drop=True)
    for c in schema.column_names:
        if c not in new.columns:
            new[c] = None
    old = existing(wh, schema, new[key])
    keep = [c for c in schema.column_names if c not in m.writes and c not in key]
    if keep:
        if len(old):
            nk, ok_ = key_text(new, schema), key_text(old, schema)
            fill = nk.merge(pd.concat([ok_, old[keep]], axis=1), on=key, how="left")
            for c in keep:
                new[c] = fill[c].to_numpy()
        else:
            for c in keep:
                new[c] = None
    for c, v in m.defaults.items():
        new[c] = new[c].astype(object).where(new[c].notna(), v)
    changed = _changed(new, old, schema)
    stats = wh.upsert(schema, new)  # also for no rows: a header-only file means "present, no rows"
    return stats, changed


def _changed(new: pd.DataFrame, old: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    key = list(schema.key)
    a, b = comparable(new, schema), comparable(old, schema)
    ka, kb = key_text(new, schema), key_text(old, schema)
    b = b.assign(**{f"_k_{k}": kb[k].to_numpy() for k in key})
    a = a.assign(**{f"_k_{k}": ka[k].to_numpy() for k in key})
    kcols = [f"_k_{k}" for k in key]
    both = a.merge(b, on=kcols, how="left", suffixes=("", "_old"), indicator=True)
    diff = (both["_merge"] == "left_only").to_numpy()
    for c in schema.column_names:
        if c in key or c in NOT_COMPARED.get(schema.name, ()):
            continue
        diff = diff | ~_same(both[c], both[f"{c}_old"]).to_numpy()
    changed_new = a.loc[diff, schema.column_names]
    changed_keys = a.loc[diff, kcols]
    changed_old = b.merge(changed_keys, on=kcols, how="inner")[schema.column_names]
    out = pd.concat([changed_new.assign(_new=True), changed_old.assign(_new=False)], ignore_index=True)
    return out
