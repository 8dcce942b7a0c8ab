"""Quarantine files of an import, written before the commit and published after it.

``<quarantine_dir>/<table>.csv`` holds the rejected rows and the flagged (warning) rows of every file
imported into ``table``: columns ``table, file, row, column, reason, record``; warning rows have a
reason starting with ``"warning: "``. Rows of other files already in the file are kept; rows of the
files imported in this run are replaced, so re-importing a file is idempotent.

Each file is written to a temporary name in the folder *before* the warehouse commit, so an
unwritable folder or a full disk stops the import with nothing written (:class:`OutputError`); the
temporary files are renamed into place once the commit succeeded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cxops.canonical.rules import literal
from cxops.canonical.validate import QUARANTINE_COLUMNS
from cxops.errors import OutputError

_COLS = ", ".join(f'"{c}"' for c in QUARANTINE_COLUMNS)


@dataclass
class PendingFiles:
    """Quarantine files written under temporary names, waiting for the commit."""

    moves: list[tuple[Path, Path]] = field(default_factory=list)

    def publish(self) -> list[Path]:
        """Rename every temporary file into place; returns the final paths."""
        out = []
        for tmp, final in self.moves:
            os.replace(tmp, final)
            out.append(final)
        self.moves = []
        return out

    def discard(self) -> None:
        """Remove the temporary files (the import did not commit)."""
        for tmp, _ in self.moves:
            tmp.unlink(missing_ok=True)
        self.moves = []


def _fail(qdir: Path, e: OSError | Exception) -> OutputError:
    why = getattr(e, "strerror", None) or str(e).splitlines()[0]
    return OutputError(
        f"cannot write the quarantine files in {qdir}: {why}; nothing was imported",
        hint="pass --quarantine with a folder you can write to",
    )


def prepare(stg, qdir: str | Path, rows: dict[str, list[str]], files: dict[str, set[str]]) -> PendingFiles:
    """Write each table's quarantine file under a temporary name in ``qdir``.

    Parameters
    ----------
    stg : cxops.ingest.staging.Staging
    qdir : path
        The quarantine folder (created if needed).
    rows : dict
        Table -> staging relations with the columns ``table, file, row, column, reason, record``.
    files : dict
        Table -> the source files imported into it in this run (their old rows are replaced).

    Raises
    ------
    OutputError
        The folder cannot be created or written (no permission, not a folder, no space).
    """
    qdir = Path(qdir)
    pending = PendingFiles()
    try:
        if qdir.exists() and not qdir.is_dir():
            raise NotADirectoryError(20, "not a folder", str(qdir))
        qdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _fail(qdir, e) from None
    try:
        for table, rels in rows.items():
            target = qdir / f"{table}.csv"
            parts = [f"SELECT {_COLS} FROM {r}" for r in rels]
            new = int(stg.scalar(f"SELECT count(*) FROM ({' UNION ALL '.join(parts)})")) if parts else 0
            if target.exists():
                done = ", ".join(literal(f) for f in sorted(files.get(table, set()))) or "NULL"
                cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in QUARANTINE_COLUMNS) + "}"
                parts.insert(
                    0,
                    f'SELECT "table", file, TRY_CAST("row" AS BIGINT) AS "row", "column", reason, record '
                    f"FROM read_csv({literal(str(target))}, header=true, columns={cols}, auto_detect=false, "
                    f"delim=',', quote='\"', escape='\"', strict_mode=false) WHERE file NOT IN ({done})",
                )
            elif not new:
                continue
            tmp = qdir / f".{table}.csv.tmp-{os.getpid()}"
            pending.moves.append((tmp, target))
            query = " UNION ALL ".join(parts)
            stg.sql(
                f"COPY (SELECT * FROM ({query}) ORDER BY starts_with(reason, 'warning: '), file, \"row\") "
                f"TO {literal(str(tmp))} "
                "(FORMAT csv, HEADER true)"
            )
            with open(tmp, "rb") as fh:  # the write really reached the disk (a full disk fails here)
                os.fsync(fh.fileno())
    except OSError as e:
        pending.discard()
        raise _fail(qdir, e) from None
    except Exception as e:  # DuckDB's IO errors
        pending.discard()
        if "IO Error" in str(e) or "Permission" in str(e) or "No space" in str(e):
            raise _fail(qdir, e) from None
        raise
    return pending
