"""Giving freed memory back to the system between the heavy parts of a long-lived process."""

from __future__ import annotations

import contextlib
import ctypes
import gc

__all__ = ["release_memory"]


def release_memory() -> None:
    """Give the memory a step's frames and matrices freed back to the system: glibc keeps
    freed blocks in its heap, and Arrow's allocator its pages, where the next steps' Python
    objects (their own arenas) cannot reuse them; the process would keep the largest step's
    memory on top of everything after it."""
    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
