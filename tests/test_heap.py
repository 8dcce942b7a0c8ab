"""The C heap's tuning for the replay (:mod:`cxops.heap`), checked with glibc's own counters.

Each check runs in a fresh interpreter: in a long test process the heap's state (free regions left by
earlier tests, other threads allocating) would decide what the counters show, not the call tested.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_PRELUDE = textwrap.dedent(
    """
    import ctypes, ctypes.util, os
    import numpy as np
    from cxops import heap

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        raise SystemExit(77)
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    """
)


def _run(body: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(body)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode == 77:
        pytest.skip("not glibc ≥ 2.33: no mallinfo2 to check against")
    assert proc.returncode == 0, proc.stderr


def test_blocks_above_the_threshold_are_mapped_and_returned():
    _run(
        """
        n = heap.MMAP_THRESHOLD // 8 * 2  # twice the threshold, in 8-byte floats
        big = np.ones(1 << 20)  # 8 MB, mapped; freeing it raises glibc's threshold to 8 MB
        del big
        before = info().hblkhd
        block = np.ones(n)
        assert info().hblkhd - before < block.nbytes, "control: without the call, carved from the heap"
        del block
        heap.release()  # the heap's free top handed back: the next block cannot come from it
        assert heap.prefer_mmap()
        before = info().hblkhd
        block = np.ones(n)
        assert info().hblkhd - before >= block.nbytes, "mapped by itself, not carved from the heap"
        del block
        assert info().hblkhd - before < heap.MMAP_THRESHOLD, "unmapped when freed"
        """
    )


def test_release_returns_free_heap_pages():
    _run(
        """
        blocks = [np.ones(4096) for _ in range(20_000)]  # 32 kB each, below the threshold: ~650 MB of heap
        keep = blocks[-1]
        del blocks
        assert info().fordblks > 500 << 20, "freed, but still the process's"
        before = rss()
        assert heap.release()
        assert before - rss() > 400 << 20, "trimmed pages are no longer resident"
        assert keep.sum() == 4096
        """
    )
