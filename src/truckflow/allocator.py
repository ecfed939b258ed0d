"""glibc's allocator, held to a few arenas in truckflow's own processes.

glibc gives a thread that allocates an arena of its own, up to eight per core, and memory freed
in an arena stays there for that arena's threads. A long run whose steps and partitions start
fresh threads every day (the streaming replay: a runner, its thread pool and its partitions'
threads per day) grew by tens of MB a day that way while its Python objects stayed flat
(tracemalloc), and ``malloc_trim`` did not give it back. With two arenas the replay at scale 10
peaked at 667 MB instead of 918 MB, in the same time.

``MALLOC_ARENA_MAX`` set in the environment wins (glibc reads it at start; ``limit_arenas``
then leaves the process alone). Not glibc (macOS, musl): nothing to do.

Freed memory also stays in the process until something asks for it back: ``give_back_freed``
does, between the parts of a job whose peaks would otherwise stack up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

__all__ = ["ARENA_ENV", "ARENA_MAX", "give_back_freed", "limit_arenas", "with_arena_limit"]

ARENA_ENV = "MALLOC_ARENA_MAX"
ARENA_MAX = 2
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def limit_arenas(arenas: int = ARENA_MAX) -> bool:
    """At most ``arenas`` arenas for the threads this process starts from now on; whether the
    limit was set (not when ``MALLOC_ARENA_MAX`` is in the environment, or not glibc)."""
    if ARENA_ENV in os.environ:
        return False
    with contextlib.suppress(OSError, AttributeError):
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas))
    return False


def with_arena_limit(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child process, with the arena limit unless it sets its own."""
    return {ARENA_ENV: str(ARENA_MAX), **env}


def give_back_freed() -> None:
    """Give the memory freed so far back to the system: Arrow's pool keeps its pages, and glibc
    its freed blocks in every arena's heap, where a large array allocated next cannot use them
    (it gets pages of its own, on top)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
