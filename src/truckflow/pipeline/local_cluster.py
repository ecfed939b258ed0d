"""The Dask LocalCluster that truckflow starts when no scheduler address is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from truckflow.allocator import ARENA_ENV, ARENA_MAX

__all__ = ["start_local_cluster"]


def start_local_cluster(n_workers: int, scratch: Path) -> Any:
    """``n_workers`` single-threaded worker processes, their scratch space under ``scratch``
    (Dask's default is the system's temporary folder, where it leaves its lock files) and
    glibc's arenas limited: the nannies set it before they start the workers, when glibc
    reads it, so a long-lived worker does not grow by arenas (``truckflow.allocator``)."""
    import dask
    from distributed import LocalCluster

    scratch.mkdir(parents=True, exist_ok=True)
    spawn_env = {f"distributed.nanny.pre-spawn-environ.{ARENA_ENV}": str(ARENA_MAX)}
    with dask.config.set({**spawn_env, "temporary-directory": str(scratch)}):
        return LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            local_directory=str(scratch),
        )
