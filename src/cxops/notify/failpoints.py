"""Named points in the sender where a test can stop it, to kill it there (SIGKILL, from outside).

With ``CXOPS_NOTIFY_PAUSE_AT=<point>`` and ``CXOPS_NOTIFY_PAUSE_FILE=<path>`` set, the sender writes the
message's idempotency key to ``<path>`` when it reaches ``<point>`` and then waits there (up to ten
minutes) for the test to kill it. Points: ``claimed`` (claimed, before sending), ``accepted`` (the
receiver accepted it, not yet recorded), ``recorded`` (the result committed). Without the variables
this costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time

POINTS = ("claimed", "accepted", "recorded")


def reach(point: str, key: str) -> None:
    """Pause at ``point`` if a test asked for it (see the module docstring)."""
    if os.environ.get("CXOPS_NOTIFY_PAUSE_AT") != point:
        return
    path = os.environ.get("CXOPS_NOTIFY_PAUSE_FILE")
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(key)
    os.replace(tmp, path)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)
