"""One import from staging to commit: the rows of each table, their accounting, and one atomic write.

Every importer (canonical files, Olist, Amazon) builds an :class:`ImportJob`, adds the rows it staged
per table (*parts*, in the order they apply) and the report entries of its files, then calls
:meth:`ImportJob.commit`, which

1. merges the parts of each table with the stored rows (one query per table: a part sets the columns
   it *writes*; for an existing key the warehouse keeps its other columns; later parts win);
2. finds the rows that changed and the local days they fall on (:mod:`cxops.ingest.changes`);
3. writes the quarantine files under temporary names (an unwritable folder stops the import here);
4. commits every table, the source's provenance (columns per table, sellers covered) and the import
   log in one transaction (:class:`cxops.ingest.staging.Staging`), then publishes the quarantine
   files and fills the report (inserted / replaced per entry, changes, provenance, import id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxops.canonical.deadline_inputs import DEADLINE_INPUTS, deadline_inputs, deadline_note
from cxops.canonical.marketplaces import BUILTIN_MARKETPLACES
from cxops.canonical.rules import SQL_TYPES, ident, literal
from cxops.canonical.schema import TABLES
from cxops.canonical.validate import QUARANTINE_COLUMNS
from cxops.ingest import deadlines, quarantine
from cxops.ingest.changes import table_changes
from cxops.ingest.report import ImportReport
from cxops.ingest.staging import CommitPlan, Replacement, Staging, union_sql
from cxops.warehouse import Warehouse, to_arrow

#: How the import report names a kind of source (``ImportReport.source``).
SOURCE_NAMES = {
    "olist": "Olist data",
    "amazon": "the Amazon reports cxops reads",
    "canonical": "canonical files",
}

#: Child tables whose rows name a seller order (checked against ``orders``).
CHILDREN = (
    "order_items",
    "shipments",
    "cancellations",
    "feedback",
    "claims",
    "returns",
    "buyer_messages",
    "ship_by_corrections",
    "delivery_attempts",
    "delivery_confirmations",
)


@dataclass
class Entry:
    """One (file, table) line of the report, waiting for the commit's inserted / replaced counts."""

    file: str
    table: str
    rows_read: int
    rows_loaded: int
    n_quarantined: int
    n_warned: int
    quarantined: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None
    inserted: int = 0
    replaced: int = 0


@dataclass
class Part:
    """Rows of one table staged from one file.

    ``writes``: the contract columns the part sets (``None``: all of them — a full row); ``defaults``:
    values of columns nobody set, where the warehouse has none.
    """

    table: str
    relation: str
    entry: Entry | None = None
    writes: frozenset[str] | None = None
    defaults: dict = field(default_factory=dict)


class ImportJob:
    """The staging, accounting and commit of one import (a context manager around a :class:`Staging`).

    Parameters
    ----------
    wh : Warehouse
    report : ImportReport
        Filled by :meth:`commit`.
    source_id : str
        Provenance label of the source (``canonical:/abs/dir``, ``olist:/abs/dir``, ``amazon:SELLER``).
    quarantine_dir : path, optional
        Where the quarantine files go (written before the commit).
    default_mp : str, optional
        Marketplace of rows whose order is unknown (for the changed days).
    memory : str, optional
        DuckDB memory limit (default :func:`cxops.ingest.staging.memory_limit`).
    input_bytes : int, optional
        Bytes of the input files, when known: large inputs stage on disk
        (:func:`cxops.ingest.staging.stage_on_disk`).
    """

    def __init__(
        self,
        wh: Warehouse,
        report: ImportReport,
        source_id: str,
        quarantine_dir: str | Path | None = None,
        default_mp: str | None = None,
        memory: str | None = None,
        progress=None,
        input_bytes: int | None = None,
    ):
        self.wh = wh
        #: ``progress(stage, done, total)`` after each step (a progress bar), or None.
        self.progress = progress
        self.report = report
        self.source_id = source_id
        self.quarantine_dir = quarantine_dir
        self.default_mp = default_mp
        self.stg = Staging(wh, memory, input_bytes)
        self.parts: dict[str, list[Part]] = {}
        self.entries: list[Entry] = []
        self.q_relations: dict[str, list[str]] = {}
        self.q_files: dict[str, set[str]] = {}
        self.provided: dict[str, set[str]] = {}
        self.builtin_provided: dict[str, set[str]] = {}
        self.finals: dict[str, str] = {}

    def step(self, stage: str, done: int, total: int) -> None:
        """Report progress (``done`` of ``total`` steps of ``stage``) when a callback was given."""
        if self.progress is not None:
            self.progress(stage, done, total)

    def __enter__(self) -> ImportJob:
        self.stg.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.stg.close()

    @property
    def imported_at(self):
        return self.stg.imported_at

    # -- adding rows -----------------------------------------------------------------------------
    def entry(
        self,
        file: str,
        table: str,
        rows_read: int,
        rows_loaded: int,
        n_quarantined: int,
        n_warned: int = 0,
        quarantined: pd.DataFrame | None = None,
        warnings: pd.DataFrame | None = None,
    ) -> Entry:
        """Add a report entry (the commit fills its inserted / replaced counts)."""
        e = Entry(file, table, rows_read, rows_loaded, n_quarantined, n_warned, quarantined, warnings)
        self.entries.append(e)
        self.q_files.setdefault(table, set()).add(file)
        return e

    def quarantine_rows(self, table: str, relation: str) -> None:
        """Add a staging relation of quarantine / warning rows (``table, file, row, column, reason,
        record``) to ``table``'s quarantine file."""
        self.q_relations.setdefault(table, []).append(relation)

    def quarantine_frame(self, table: str, df: pd.DataFrame | None, warning: bool = False) -> None:
        """Add quarantine (or, with ``warning``, warning) rows held in pandas."""
        if df is None or not len(df):
            return
        out = df[QUARANTINE_COLUMNS].copy()
        if warning:
            out["reason"] = "warning: " + out["reason"].astype(str)
        for c in ("table", "file", "column", "reason", "record"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
            out[c] = out[c].map(lambda v: None if v is None else str(v))
        out["row"] = pd.to_numeric(out["row"]).astype("int64")
        self.quarantine_rows(table, self.stg.put(out, f"q_{table}"))

    def part(
        self,
        table: str,
        relation: str,
        entry: Entry | None = None,
        writes=None,
        defaults: dict | None = None,
    ) -> Part:
        """Add staged rows of ``table`` (a staging relation with every contract column)."""
        p = Part(
            table, relation, entry, frozenset(writes) if writes is not None else None, dict(defaults or {})
        )
        self.parts.setdefault(table, []).append(p)
        return p

    def frame_part(
        self,
        table: str,
        df: pd.DataFrame,
        entry: Entry | None = None,
        writes=None,
        defaults: dict | None = None,
    ) -> Part:
        """Add validated rows held in pandas (extra columns are dropped; absent contract columns null)."""
        schema = TABLES[table]
        rel = self.stg.put(to_arrow(df.reset_index(drop=True), schema), f"part_{table}")
        return self.part(table, rel, entry, writes, defaults)

    def provide(self, table: str, columns) -> None:
        """Record that the source provides ``columns`` of ``table``."""
        self.provided.setdefault(table, set()).update(columns)

    # -- helpers for importers -----------------------------------------------------------------------
    def known_marketplaces(self) -> dict[str, str]:
        """marketplace_id -> time zone: built-ins, overridden by the stored table."""
        zones = {mp: v[0] for mp, v in BUILTIN_MARKETPLACES.items()}
        t = self.stg.stored("marketplaces")
        if t is not None:
            for mp, tz in self.stg.sql(f"SELECT marketplace_id, timezone FROM {t}").fetchall():
                zones[mp] = tz
        return zones

    def stored_marketplaces(self) -> set[str]:
        t = self.stg.stored("marketplaces")
        if t is None:
            return set()
        return {r[0] for r in self.stg.sql(f"SELECT marketplace_id FROM {t}").fetchall()}

    def orders_relation(self) -> str | None:
        """The final incoming ``orders`` rows (after :meth:`merge`), or ``None``."""
        return self.finals.get("orders")

    def orphans(self, relation: str, cols: str = "*") -> str:
        """SQL selecting ``cols`` of the rows of ``relation`` whose seller order is neither incoming
        (merged ``orders``) nor stored; rows without an order id are not orphans."""
        conds = ["r.order_id IS NOT NULL"]
        for rel in (self.finals.get("orders"), self.stg.stored("orders")):
            if rel is not None:
                conds.append(
                    f"NOT EXISTS (SELECT 1 FROM {rel} AS o WHERE o.seller_id = r.seller_id "
                    "AND o.order_id = r.order_id)"
                )
        return f"SELECT {cols} FROM {relation} AS r WHERE {' AND '.join(conds)}"

    # -- merge -------------------------------------------------------------------------------------
    def merge(self, table: str) -> str:
        """The final rows of ``table``: its parts merged with the stored rows (see the module docstring).

        Also sets each part entry's inserted / replaced (a key stored, or set by an earlier part of this
        import, is *replaced*).
        """
        if table in self.finals:
            return self.finals[table]
        schema = TABLES[table]
        parts = self.parts[table]
        key = list(schema.key)
        stored = self.stg.stored(table)
        keyon = lambda a, b: " AND ".join(f"{a}.{ident(k)} = {b}.{ident(k)}" for k in key)  # noqa: E731
        for i, p in enumerate(parts):
            if p.entry is None:
                continue
            seen = [f"EXISTS (SELECT 1 FROM {q.relation} AS e WHERE {keyon('e', 'p')})" for q in parts[:i]]
            if stored is not None:
                seen.append(f"EXISTS (SELECT 1 FROM {stored} AS e WHERE {keyon('e', 'p')})")
            cond = " OR ".join(seen) or "false"
            n, rep = self.stg.sql(
                f"SELECT count(*), count(*) FILTER (WHERE {cond}) FROM {p.relation} AS p"
            ).fetchone()
            p.entry.inserted += int(n) - int(rep)
            p.entry.replaced += int(rep)
        if len(parts) == 1 and parts[0].writes is None and not parts[0].defaults:
            final = parts[0].relation
            self.finals[table] = final
            return final
        have = set(self.stg.stored_columns(table))
        keys = " UNION ".join(f"SELECT {', '.join(ident(k) for k in key)} FROM {p.relation}" for p in parts)
        joins = "".join(
            f" LEFT JOIN {p.relation} AS p{i} ON {keyon(f'p{i}', 'k')}" for i, p in enumerate(parts)
        )
        if stored is not None:
            joins += f" LEFT JOIN {stored} AS s ON {keyon('s', 'k')}"
        exprs = []
        for c in schema.columns:
            name = c.name
            if name in key:
                exprs.append(f"k.{ident(name)}")
                continue
            whens = [
                f"WHEN p{i}.{ident(key[0])} IS NOT NULL THEN p{i}.{ident(name)}"
                for i, p in reversed(list(enumerate(parts)))
                if p.writes is None or name in p.writes
            ]
            fallback = f"s.{ident(name)}" if stored is not None and name in have else "NULL"
            e = f"CASE {' '.join(whens)} ELSE {fallback} END" if whens else fallback
            defaults = [p.defaults[name] for p in parts if name in p.defaults]
            if defaults:
                e = f"COALESCE({e}, {literal(defaults[-1])})"
            exprs.append(f"CAST({e} AS {SQL_TYPES[c.dtype]}) AS {ident(name)}")
        final = self.stg.name(f"final_{table}")
        self.stg.sql(f"CREATE TABLE {final} AS SELECT {', '.join(exprs)} FROM ({keys}) AS k{joins}")
        self.finals[table] = final
        return final

    # -- commit ------------------------------------------------------------------------------------
    def commit(self) -> ImportReport:
        """Merge, find the changes, write the quarantine files, commit everything in one transaction."""
        stg, report = self.stg, self.report
        order = [t for t in TABLES if t in self.parts]
        for i, t in enumerate(order):
            self.merge(t)
            self.step("merging", i + 1, len(order))
        deadlines.derive(self)  # derived ship-by deadlines follow their inputs in the same commit
        order = [t for t in TABLES if t in self.parts]
        for t in order:
            self.merge(t)
        zones = self._zones()
        days_rels = []
        for i, t in enumerate(order):
            ch, days = table_changes(
                stg, t, self.finals[t], self.finals.get("orders"), zones, self.default_mp
            )
            self.step("finding changes", i + 1, len(order))
            report.changes[t] = ch
            days_rels.append(days)
        if "marketplaces" in report.changes and report.changes["marketplaces"].rows_restated:
            report.note(
                "marketplaces changed: a new time zone or weekend restates every day of that marketplace"
            )
        coverage = self._coverage()
        pending = None
        if self.quarantine_dir is not None:
            pending = quarantine.prepare(stg, self.quarantine_dir, self.q_relations, self.q_files)
        read = sum(e.rows_read for e in self.entries)
        loaded = sum(e.rows_loaded for e in self.entries)
        quarantined = sum(e.n_quarantined for e in self.entries)
        plan = CommitPlan(
            source=self.source_id,
            kind=report.source,
            tables=[Replacement(t, self.finals[t]) for t in order],
            provided={t: sorted(c) for t, c in self.provided.items()},
            coverage=coverage,
            days=union_sql(days_rels),
            counts=(read, loaded, quarantined),
            builtin_provided={t: sorted(c) for t, c in self.builtin_provided.items()},
        )
        try:
            stg.commit(plan)
        except BaseException:
            if pending is not None:
                pending.discard()
            raise
        if pending is not None:
            report.quarantine_files = pending.publish()
        for e in self.entries:
            report.add(
                e.file,
                e.table,
                e.rows_read,
                e.rows_loaded,
                e.quarantined,
                e.warnings,
                inserted=e.inserted,
                replaced=e.replaced,
                n_quarantined=e.n_quarantined,
                n_warned=e.n_warned,
            )
        report.source_id = self.source_id
        report.provided = {t: sorted(c) for t, c in self.provided.items()}
        report.deadline_inputs = deadline_inputs(report.provided, report.declared)
        if any(t in report.provided for i in DEADLINE_INPUTS for t in i.tables):
            report.note(deadline_note(report.deadline_inputs, SOURCE_NAMES.get(report.source, report.source)))
        return report

    def _zones(self) -> str:
        """Staging relation ``marketplace_id, timezone``: incoming rows over stored over built-ins."""
        zones = self.known_marketplaces()
        rel = self.stg.put(
            pd.DataFrame({"marketplace_id": list(zones), "timezone": list(zones.values())}), "zones"
        )
        if "marketplaces" in self.finals:
            out = self.stg.name("zones")
            self.stg.sql(
                f"CREATE TABLE {out} AS SELECT marketplace_id, timezone FROM {self.finals['marketplaces']} "
                f"UNION ALL SELECT * FROM {rel} WHERE marketplace_id NOT IN "
                f"(SELECT marketplace_id FROM {self.finals['marketplaces']})"
            )
            return out
        return rel

    def _coverage(self) -> str | None:
        """Staging relation ``seller_id, marketplace_id``: the sellers this source covers."""
        parts = []
        for t in ("sellers", "orders", "violations", "buyer_messages"):
            if t in self.finals:
                parts.append(
                    f"SELECT seller_id, marketplace_id FROM {self.finals[t]} WHERE marketplace_id IS NOT NULL"
                )
        if not parts:
            return None
        out = self.stg.name("coverage")
        self.stg.sql(f"CREATE TABLE {out} AS SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)})")
        return out
