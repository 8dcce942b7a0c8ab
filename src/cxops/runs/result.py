"""A stored (or temporary) evaluation run and how to read it: :class:`Evaluation`.

The result of :func:`cxops.service.evaluation.run_evaluation`: the run's record and typed reads of its
tables (dates as ``datetime.date``, integers with nulls as ``Int64``), restricted to the sellers asked
for when the run covers more. Nothing is held in memory: each read is a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from cxops.lifecycle.cadence import metrics_as_of
from cxops.metrics.defects import sort_defects
from cxops.metrics.freshness import Freshness
from cxops.policy.model import Policy
from cxops.runs import store
from cxops.runs.tables import empty


@dataclass
class Evaluation:
    """A stored (or temporary) evaluation run and how to read it.

    Attributes
    ----------
    wh : cxops.warehouse.Warehouse
    policy : Policy
    run : cxops.runs.store.RunRecord
    reused : bool
        The run was found stored (nothing was computed).
    sellers : list of str or None
        The sellers asked for (None: all); the run may cover more, reads are restricted to them.
    resumed_from : str or None
        Id of the stored run the replay resumed from.
    freshness : Freshness
    """

    wh: object
    policy: Policy
    run: store.RunRecord
    reused: bool = False
    resumed_from: str | None = None
    freshness: Freshness | None = None
    notes: list[str] = field(default_factory=list)
    sellers: list[str] | None = None
    temporary: bool = False

    # -- what the run is about -----------------------------------------------------------------------
    @property
    def as_of(self) -> date:
        return self.run.as_of

    @property
    def evaluation_dates(self) -> list[date]:
        return self.run.evaluation_dates

    @property
    def next_evaluation(self) -> date | None:
        return self.run.next_evaluation

    @property
    def metrics_day(self) -> date:
        """The metrics day the last evaluation judged (the as-of day when there is no evaluation)."""
        last = self.run.last_evaluation
        return metrics_as_of(self.policy, last) if last else self.run.until

    # -- reading ---------------------------------------------------------------------------------------
    def table(self, part: str):
        """The Ibis table of a part of the run (:data:`cxops.runs.store.PARTS`), restricted to the sellers
        asked for when the run covers more (a stored run of every seller read for one)."""
        t = self.wh.con.table(self.run.table(part))
        if self.sellers is not None and (self.run.scope is None or set(self.run.scope) != set(self.sellers)):
            t = t.filter(t.seller_id.isin(list(self.sellers)))
        return t

    def read(self, expr) -> pd.DataFrame:
        """Run an expression over the run's tables: dates as ``datetime.date``, integer columns with
        nulls as nullable ``Int64`` (as the policy and the lifecycle produce them)."""
        return typed_frame(self.wh.con.to_pyarrow(expr))

    def frame(self, part: str, seller_ids=None, where=None) -> pd.DataFrame:
        """Rows of a part, optionally of some sellers and filtered by ``where(table)``, in stored order."""
        t = self.table(part)
        if seller_ids is not None:
            t = t.filter(t.seller_id.isin(list(seller_ids)))
        if where is not None:
            t = t.filter(where(t))
        return self.read(t)

    def latest_statuses(self, seller_ids=None) -> pd.DataFrame:
        """Status rows of the last evaluation (every seller known by then)."""
        last = self.run.last_evaluation
        if last is None:
            return typed_frame(empty("statuses"))
        return self.frame("statuses", seller_ids, lambda t: t.evaluation_date == last)

    def defects(self, seller_id: str) -> pd.DataFrame:
        """The defective records behind the seller's metrics on :attr:`metrics_day`."""
        return sort_defects(self.frame("defects", [seller_id]))

    def count(self, part: str) -> int:
        return int(self.wh.execute(self.table(part).count()))

    def discard(self) -> None:
        """Drop the tables of a run that was not stored (``persist=False``); a stored run is kept."""
        if self.temporary:
            store.ACTIVE.discard(self.run.run_id)
            prefix = store.table_prefix(self.run.run_id)
            for name in self.wh.con.list_tables():
                if name.startswith(prefix):
                    self.wh.con.drop_table(name, force=True)


def typed_frame(table) -> pd.DataFrame:
    """An Arrow table as pandas: dates as ``datetime.date`` objects, integers with nulls as ``Int64``,
    strings as Python objects."""
    import pyarrow as pa

    def mapper(typ):
        if pa.types.is_integer(typ):
            return pd.Int64Dtype()
        return None

    df = table.to_pandas(types_mapper=mapper, date_as_object=True)
    for f in table.schema:
        if pa.types.is_integer(f.type) and not table[f.name].null_count:
            df[f.name] = df[f.name].astype("int64")
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            df[f.name] = df[f.name].astype(object)
    return date_columns(df)


def date_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Date columns as ``datetime.date`` objects (as the lifecycle and the renderers use them)."""
    for c, dtype in df.dtypes.items():
        if pd.api.types.is_datetime64_any_dtype(dtype):
            days = df[c].to_numpy("datetime64[D]")
            df[c] = pd.Series(
                np.where(np.isnat(days), None, days.astype(object)), index=df.index, dtype=object
            )
    return df
