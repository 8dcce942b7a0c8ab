"""Days as ``datetime.date`` objects for output frames, without one Python object per row."""

from __future__ import annotations

from typing import Any

import numpy as np


def date_objects(days: np.ndarray, missing: Any = None) -> np.ndarray:
    """``datetime64[D]`` values as ``datetime.date`` objects, one object per distinct day.

    Millions of output rows share a few hundred days; building one object per row costs memory and
    time for nothing.

    Parameters
    ----------
    days : ndarray of datetime64[D]
    missing : object
        What NaT becomes (``None``, or ``pandas.NaT`` to match ``Series.dt.date``).

    Returns
    -------
    ndarray of object
    """
    out = np.full(len(days), missing, object)
    ok = ~np.isnat(days)
    if ok.any():
        n = days[ok].astype(np.int64)
        lo = n.min()
        table = np.arange(lo, n.max() + 1).astype("datetime64[D]").astype(object)
        out[ok] = table[n - lo]
    return out
