"""The C heap's tuning for the replay (:mod:`cxops.heap`), checked with glibc's own counters."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import numpy as np
import pytest

from cxops import heap


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


def _mallinfo():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("not glibc ≥ 2.33: no mallinfo2 to check against")
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_blocks_above_the_threshold_are_mapped_and_returned():
    info = _mallinfo()
    assert heap.prefer_mmap()
    before = info().hblkhd
    block = np.ones(heap.MMAP_THRESHOLD // 8 * 2)  # twice the threshold, in 8-byte floats
    assert info().hblkhd - before >= block.nbytes  # mapped by itself, not carved from the heap
    del block
    assert info().hblkhd - before < heap.MMAP_THRESHOLD  # and unmapped when freed


def test_release_returns_free_heap_pages():
    info = _mallinfo()
    heap.prefer_mmap(1 << 30)  # small and medium blocks from the heap for this test
    try:
        blocks = [np.ones(4096) for _ in range(20_000)]  # 32 kB each: ~650 MB of heap
        keep = blocks[-1]
        del blocks
        assert info().fordblks > 500 << 20  # freed, but still the process's
        before = _rss()
        assert heap.release()
        assert before - _rss() > 400 << 20  # trimmed pages are no longer resident
        assert keep.sum() == 4096
    finally:
        heap.prefer_mmap()
