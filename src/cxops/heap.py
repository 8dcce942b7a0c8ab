"""The process's C heap (glibc ``malloc``) under jobs that allocate and free many large arrays.

The lifecycle replay allocates, per evaluation, arrays of every seller (hundreds of kB to hundreds of
MB) and frees them before the next. glibc raises its ``mmap`` threshold each time such a block is freed,
after which large blocks come from the heap, and freed heap memory is kept by the process: at 500 k
sellers the job held gigabytes it no longer used (measured with ``mallinfo2``: ``fordblks``). Two
calls keep it near what is in use: :func:`prefer_mmap` (a fixed threshold: a block above it that the
free heap cannot hold is mapped by itself, and returned to the system when freed, instead of growing
the heap) and :func:`release` (``malloc_trim``: free heap pages returned).
Both are no-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

#: Blocks of at least this many bytes are mapped by themselves (glibc's initial threshold is 128 KiB;
#: fixing it stops glibc from raising it up to 32 MiB as blocks are freed).
MMAP_THRESHOLD = 1 << 18
_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


def prefer_mmap(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's ``mmap`` threshold at ``threshold`` bytes; True if the C library took it."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))


def release() -> bool:
    """Return free heap memory to the system (``malloc_trim(0)``); True if some was returned."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
