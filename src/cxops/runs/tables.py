"""Column types of the run tables written from Python (statuses, transitions, criteria …).

Metrics and defects are written by the engine from their Ibis expressions and keep the types those
give; the frames the lifecycle and the policy produce in Python are converted to Arrow with these
schemas, so every run has the same column types whatever the values (an all-null column stays typed).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

_S, _D, _F, _I, _B = pa.string(), pa.date32(), pa.float64(), pa.int64(), pa.bool_()

SCHEMAS: dict[str, pa.Schema] = {
    "criteria": pa.schema(
        [
            ("seller_id", _S),
            ("marketplace_id", _S),
            ("evaluation_date", _D),
            ("section", _S),
            ("criterion_id", _S),
            ("label", _S),
            ("metric", _S),
            ("window_days", _I),
            ("channel", _S),
            ("test", _S),
            ("operator", _S),
            ("threshold", _F),
            ("min_denominator", _F),
            ("value", _F),
            ("numerator", _F),
            ("denominator", _F),
            ("status", _S),
            ("result", _S),
            ("gap", _I),
            ("rule_id", _S),
            ("skip_if_insufficient", _B),
            ("as_of", _D),
            ("fail_label", _S),
            ("coverage", _F),
            ("provisional", _B),
        ]
    ),
    "statuses": pa.schema(
        [
            ("seller_id", _S),
            ("marketplace_id", _S),
            ("evaluation_date", _D),
            ("as_of", _D),
            ("state", _S),
            ("since", _D),
            ("reason", _S),
            ("reason_key", _S),
            ("reason_params", _S),
            ("recovery_streak", _I),
            ("breach_counts", _S),
        ]
    ),
    # cxops.lifecycle.replay.STATE_COLUMNS: every field needed to resume a replay
    "final": pa.schema(
        [
            ("seller_id", _S),
            ("marketplace_id", _S),
            ("state", _S),
            ("since", _D),
            ("reason", _S),
            ("reason_key", _S),
            ("reason_params", _S),
            ("recovery_streak", _I),
            ("breach_counts", _S),
            ("repeats", _I),
            ("alerts", _S),
            ("exempt_until", _D),
            ("immune_until", _D),
        ]
    ),
    "transitions": pa.schema(
        [
            ("seller_id", _S),
            ("marketplace_id", _S),
            ("date", _D),
            ("from_state", _S),
            ("to_state", _S),
            ("rule_id", _S),
            ("metric", _S),
            ("value", _F),
            ("threshold", _F),
            ("operator", _S),
            ("window_days", _I),
            ("as_of", _D),
            ("reason", _S),
            ("reason_key", _S),
            ("reason_params", _S),
        ]
    ),
    "benefits": pa.schema(
        [("seller_id", _S), ("marketplace_id", _S), ("benefit", _S), ("detail", _S), ("value", _F)]
    ),
    "projected": pa.schema(
        [
            ("seller_id", _S),
            ("marketplace_id", _S),
            ("evaluation_date", _D),
            ("state", _S),
            ("projected_state", _S),
            ("projected_since", _D),
            ("reason", _S),
            ("reason_key", _S),
            ("reason_params", _S),
        ]
    ),
}


def to_arrow(df: pd.DataFrame, part: str) -> pa.Table:
    """``df`` as an Arrow table with the columns and types of run part ``part`` (in that order).

    Raises
    ------
    KeyError
        If ``df`` lacks a column of the schema.
    """
    schema = SCHEMAS[part]
    arrays = []
    for f in schema:
        s = df[f.name]
        try:
            arrays.append(pa.array(s, type=f.type, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            if pa.types.is_date(f.type):
                s = pd.to_datetime(s, errors="coerce").dt.date
            arrays.append(pa.array(s.astype(object).where(s.notna(), None), type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def empty(part: str) -> pa.Table:
    """An empty table of run part ``part``."""
    return SCHEMAS[part].empty_table()
