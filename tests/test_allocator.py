"""glibc arenas held to a few in truckflow's processes (``truckflow.allocator``): counted with
glibc's own ``malloc_stats`` in a process whose threads allocate at the same time."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from truckflow.allocator import ARENA_ENV, ARENA_MAX, with_arena_limit

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

_ARENAS_OF_EIGHT_THREADS = """
import ctypes, sys, threading
from truckflow.allocator import limit_arenas
if sys.argv[1] == "limit":
    limit_arenas()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
started, allocated, done = threading.Barrier(8), threading.Barrier(9), threading.Event()
def work():
    started.wait()  # all eight alive: none can take over an arena another left
    libc.free(libc.malloc(1 << 16))
    allocated.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
allocated.wait()
libc.malloc_stats()  # to stderr: one "Arena N:" block per arena
done.set()
for t in threads: t.join()
"""


def _arenas(mode: str, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != ARENA_ENV} | env
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS_OF_EIGHT_THREADS, mode],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_get_arenas_of_their_own_without_the_limit() -> None:
    assert _arenas("free") > ARENA_MAX


def test_the_limit_holds_the_arenas_to_two() -> None:
    assert _arenas("limit") <= ARENA_MAX


def test_malloc_arena_max_in_the_environment_wins() -> None:
    assert _arenas("limit", **{ARENA_ENV: "1"}) == 1
    assert _arenas("free", **{ARENA_ENV: "4"}) > ARENA_MAX


def test_a_child_gets_the_limit_unless_its_environment_sets_one() -> None:
    assert with_arena_limit({"A": "b"}) == {"A": "b", ARENA_ENV: str(ARENA_MAX)}
    assert with_arena_limit({ARENA_ENV: "8"})[ARENA_ENV] == "8"


_FREED_IN_A_THREAD = """
import sys, threading
from truckflow.allocator import give_back_freed
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
kept = []
def work():
    blocks = [bytes(2048) for _ in range(100_000)]  # 200 MB of malloc'd blocks
    kept.extend(blocks[99::100])  # one in a hundred stays: the heap cannot shrink from its top
thread = threading.Thread(target=work)
thread.start()
thread.join()
before = rss_mb()
if sys.argv[1] == "give back":
    give_back_freed()
print(before, rss_mb())
"""


def _rss_after_free(mode: str) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _FREED_IN_A_THREAD, mode],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = (int(n) for n in done.stdout.split())
    return before, after


def test_freed_blocks_stay_with_the_process_until_given_back() -> None:
    before, after = _rss_after_free("keep")
    assert after > before - 20  # freed, yet still resident

    before, after = _rss_after_free("give back")
    assert after < before - 100  # most of the 200 MB back to the system
