"""Evaluation runs stored in the warehouse: a registry row per run and one table per result.

Layout (all in the warehouse that holds the data):

- ``_cxops_runs``: one row per complete run (:class:`RunRecord`): run id, policy name, version and
  content hash, as-of day and the day evaluated up to, evaluation dates, seller scope, data
  fingerprint, freshness, created at, timings, notes.
- ``_cxops_run_<id>_<part>`` for each part of :data:`PARTS`: ``metrics`` (every catalog metric as of
  every evaluation's metrics day and the as-of day), ``criteria`` (criterion results of the last
  evaluation, every section), ``statuses`` (state per seller per evaluation), ``final`` (state per
  seller at the end, to resume from), ``transitions``, ``benefits``, ``projected`` and ``defects``
  (the records behind the defect-driven metrics of the last evaluation).

Writing is crash-safe without a transaction spanning gigabytes: a run's tables are written first,
then the registry is replaced in one statement (adding the run, dropping the runs it supersedes), then
tables no registered run owns are dropped. A run killed midway leaves tables nobody reads, removed by
the next commit (:func:`commit_run`). Readers only see registered runs.

Retention: for each policy name and seller scope, the runs of the current data only (a run of data
that has changed since can never be reused), at most :data:`KEEP` of them (the newest), and one per
policy content and as-of day — the warehouse does not grow with every evaluation, and an evaluation as
of an earlier day (a backtest) does not evict the run of the latest day.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa

REGISTRY = "_cxops_runs"
#: Runs being written, or read from temporary tables, in this process: never orphans.
ACTIVE: set[str] = set()
#: Runs kept per policy name and seller scope (of the current data).
KEEP = 3
_PREFIX = "_cxops_run_"
#: The result tables of a run.
PARTS: tuple[str, ...] = (
    "metrics",
    "criteria",
    "statuses",
    "final",
    "transitions",
    "benefits",
    "projected",
    "defects",
)
_REGISTRY_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("policy_name", pa.string()),
        ("policy_version", pa.string()),
        ("policy_hash", pa.string()),
        ("as_of", pa.date32()),
        ("until", pa.date32()),
        ("first_day", pa.date32()),
        ("evaluation_dates", pa.string()),
        ("next_evaluation", pa.date32()),
        ("scope", pa.string()),
        ("fingerprint", pa.string()),
        ("fingerprint_tables", pa.string()),
        ("freshness", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("timings", pa.string()),
        ("notes", pa.string()),
        ("sellers", pa.int64()),
        ("cxops_version", pa.string()),
    ]
)


def policy_hash(policy) -> str:
    """SHA-256 (hex) of a policy's validated content (canonical JSON): the same rules, the same hash,
    whatever the file's formatting or comments."""
    text = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def new_run_id() -> str:
    """A new run id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


def table_prefix(run_id: str) -> str:
    """Prefix of every table of a run (its parts and the job's intermediate tables)."""
    return f"{_PREFIX}{run_id}_"


def table_name(run_id: str, part: str) -> str:
    """Warehouse table of one part of a run (``_cxops_run_<id>_<part>``)."""
    if part not in PARTS:
        raise ValueError(f"unknown run part {part!r}; expected one of {', '.join(PARTS)}")
    return f"{table_prefix(run_id)}{part}"


@dataclass
class RunRecord:
    """One stored evaluation run (a row of ``_cxops_runs``).

    Attributes
    ----------
    run_id : str
    policy_name, policy_version, policy_hash : str
    as_of : date
        The day asked for.
    until : date
        The day evaluated up to: ``as_of``, or earlier when the data ends before it (``--allow-stale``).
    first_day : date
        First local day of orders (the cadence starts after it).
    evaluation_dates : list of date
    next_evaluation : date or None
    scope : tuple of str or None
        The sellers evaluated, or None for all.
    fingerprint : str
        Data fingerprint digest (:mod:`cxops.runs.fingerprint`).
    fingerprint_tables, freshness, timings : dict
    notes : list of dict
        ``{"key", "params"}`` message-catalog notes (a run stored before they were structured holds
        English strings).
    sellers : int
        Sellers with a status at the last evaluation.
    created_at : datetime
        UTC, tz-naive.
    """

    run_id: str
    policy_name: str
    policy_version: str
    policy_hash: str
    as_of: date
    until: date
    first_day: date | None
    evaluation_dates: list[date]
    next_evaluation: date | None
    scope: tuple[str, ...] | None
    fingerprint: str
    fingerprint_tables: dict = field(default_factory=dict)
    freshness: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    notes: list[dict | str] = field(default_factory=list)
    sellers: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    cxops_version: str = ""

    def table(self, part: str) -> str:
        """The warehouse table of ``part`` (see :data:`PARTS`)."""
        return table_name(self.run_id, part)

    def covers(self, seller_ids) -> bool:
        """Whether the run evaluated every one of ``seller_ids`` (None: all sellers)."""
        if self.scope is None:
            return True
        return seller_ids is not None and set(seller_ids) <= set(self.scope)

    @property
    def last_evaluation(self) -> date | None:
        return self.evaluation_dates[-1] if self.evaluation_dates else None

    def _row(self) -> dict:
        d = asdict(self)
        d["evaluation_dates"] = json.dumps([x.isoformat() for x in self.evaluation_dates])
        d["scope"] = None if self.scope is None else json.dumps(sorted(self.scope))
        for k in ("fingerprint_tables", "freshness", "timings", "notes"):
            d[k] = json.dumps(d[k], sort_keys=True, default=str)
        return d

    @classmethod
    def _from_row(cls, row: dict) -> RunRecord:
        def day(v):
            return None if v is None or pd.isna(v) else pd.Timestamp(v).date()

        return cls(
            run_id=row["run_id"],
            policy_name=row["policy_name"],
            policy_version=row["policy_version"],
            policy_hash=row["policy_hash"],
            as_of=day(row["as_of"]),
            until=day(row["until"]),
            first_day=day(row["first_day"]),
            evaluation_dates=[date.fromisoformat(x) for x in json.loads(row["evaluation_dates"])],
            next_evaluation=day(row["next_evaluation"]),
            scope=None if row["scope"] is None or pd.isna(row["scope"]) else tuple(json.loads(row["scope"])),
            fingerprint=row["fingerprint"],
            fingerprint_tables=json.loads(row["fingerprint_tables"] or "{}"),
            freshness=json.loads(row["freshness"] or "{}"),
            timings=json.loads(row["timings"] or "{}"),
            notes=json.loads(row["notes"] or "[]"),
            sellers=int(row["sellers"]),
            created_at=pd.Timestamp(row["created_at"]).to_pydatetime(),
            cxops_version=row["cxops_version"] or "",
        )


def list_runs(wh) -> list[RunRecord]:
    """Every registered run, newest first."""
    if not wh.has_table(REGISTRY):
        return []
    df = wh.execute(wh.con.table(REGISTRY))
    runs = [RunRecord._from_row(r) for r in df.to_dict("records")]
    return sorted(runs, key=lambda r: r.created_at, reverse=True)


def find_run(wh, policy_hash_: str, fingerprint: str, as_of: date, seller_ids=None) -> RunRecord | None:
    """The newest run that answers exactly: same policy content, same data, same as-of day, and every
    seller asked for evaluated. None if there is none."""
    for run in list_runs(wh):
        if (
            run.policy_hash == policy_hash_
            and run.fingerprint == fingerprint
            and run.as_of == as_of
            and run.covers(seller_ids)
        ):
            return run
    return None


def find_resumable(wh, policy_hash_: str, fingerprint: str, until: date, seller_ids=None) -> RunRecord | None:
    """The newest run a replay up to ``until`` can resume from: same policy content and data, every
    seller asked for evaluated, evaluated up to a day before ``until``. None if there is none."""
    best = None
    for run in list_runs(wh):
        if (
            run.policy_hash == policy_hash_
            and run.fingerprint == fingerprint
            and run.until < until
            and run.covers(seller_ids)
            and (best is None or run.until > best.until)
        ):
            best = run
    return best


def commit_run(wh, record: RunRecord) -> list[str]:
    """Register a run whose tables are written; drop the runs it supersedes and any orphan tables.

    The registry is replaced in one statement, so a reader sees the old set of runs or the new one.

    Returns
    -------
    list of str
        Ids of the runs dropped.
    """
    keep, dropped, same = [], [], 1
    for run in list_runs(wh):  # newest first
        if run.policy_name != record.policy_name or run.scope != record.scope:
            keep.append(run)
        elif (
            run.fingerprint != record.fingerprint
            or (run.policy_hash, run.as_of) == (record.policy_hash, record.as_of)
            or same >= KEEP
        ):
            dropped.append(run.run_id)
        else:
            keep.append(run)
            same += 1
    rows = [r._row() for r in [record, *keep]]
    table = pa.Table.from_pylist(rows, schema=_REGISTRY_SCHEMA)
    wh.replace_table(REGISTRY, table)
    drop_orphans(wh)
    return dropped


def drop_orphans(wh, keep: set[str] | None = None) -> list[str]:
    """Drop run tables that no registered run owns (left by a killed evaluation or superseded).

    Parameters
    ----------
    keep : set of str, optional
        Run ids whose tables must stay although not registered yet (a run being written).
    """
    owned = {r.run_id for r in list_runs(wh)} | set(keep or ()) | ACTIVE
    dropped = []
    for name in wh.con.list_tables():
        if not name.startswith(_PREFIX):
            continue
        run_id = name[len(_PREFIX) :].split("_", 1)[0]
        if run_id not in owned:
            wh.con.drop_table(name, force=True)
            dropped.append(name)
    return dropped
