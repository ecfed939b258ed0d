"""Giving freed memory back to the system between the heavy parts of a long-lived process."""

from __future__ import annotations

import gc

from truckflow.allocator import give_back_freed

__all__ = ["release_memory"]


def release_memory() -> None:
    """Give the memory a step's frames and matrices freed back to the system: glibc keeps
    freed blocks in its heap, and Arrow's allocator its pages, where the next steps' Python
    objects (their own arenas) cannot reuse them; the process would keep the largest step's
    memory on top of everything after it."""
    gc.collect()
    give_back_freed()
