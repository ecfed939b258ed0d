"""The engine's limits and timings: what a runner needs besides a database and an artifact
store (the application maps its settings onto them; the engine never reads settings)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True)
class Limits:
    """``max_parallel`` steps at once and ``partition_threads`` partitions of one step at once
    (local runner; 1: one after another); a heartbeat every ``heartbeat_s``; an
    execution of another host silent for ``stale_after_s`` is interrupted; when the database
    fails mid-run the final record is retried for ``db_recovery_wait_s``."""

    max_parallel: int = 4
    # One: the partitions' pandas work holds the GIL, so threads of one process gained nothing
    # on the feature fill (benchmarks/README.md); the Dask runner gives them processes.
    partition_threads: int = 1
    heartbeat_s: float = 5.0
    stale_after_s: float = 60.0
    db_recovery_wait_s: float = 30.0
