"""Data-parallel steps: a step maps a function over its partitions as separate tasks.

``StepContext.partitions`` is chosen by the runner the step runs under: threads of a pool on
the local runner (at most its ``max_parallel`` at once), Dask tasks on the cluster when the step
runs on a Dask worker (submitted through ``worker_client``, which secedes the step's thread
from the worker's pool while it waits, so a worker never deadlocks on its own sub-tasks), and
one after another in the calling thread elsewhere (``SERIAL``). A command that runs no
pipeline can still send its partitions to a cluster: ``cluster_partitions(address)``.

The function must be an importable top-level function and the items picklable (Dask sends
both to other processes). Results come back in the order of the items; an error in one
partition is raised as a ``PartitionError`` that names it.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from truckflow.allocator import give_back_freed
from truckflow.pipeline.errors import PipelineError
from truckflow.pipeline.local_cluster import start_local_cluster

__all__ = [
    "SERIAL",
    "ClusterPartitions",
    "DaskPartitions",
    "PartitionError",
    "Partitions",
    "SerialPartitions",
    "ThreadPartitions",
    "cluster_partitions",
]

_log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class PartitionError(PipelineError):
    """A partition of a data-parallel step failed; the message names it and its error."""


class Partitions(Protocol):
    """Maps ``fn`` over ``items``, each call a task; the results in the order of the items.
    ``width``: how many tasks run at once (a step cuts its work into at least that many)."""

    @property
    def width(self) -> int: ...

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


def _label(index: int, count: int, item: object) -> str:
    text = repr(item)
    return f"partition {index + 1} of {count} ({text[:120]}{'...' if len(text) > 120 else ''})"


def _run(fn: Callable[[T], R], index: int, count: int, item: T) -> R:
    """One partition; its error is raised again naming the partition (picklable: a message).
    What it freed goes back to the system: its worker runs the next partitions."""
    try:
        return fn(item)
    except PartitionError:
        raise
    except Exception as exc:
        raise PartitionError(
            f"{_label(index, count, item)} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        give_back_freed()


@dataclass(frozen=True)
class SerialPartitions:
    """Every partition in the calling thread, in order (no runner, or a single worker)."""

    @property
    def width(self) -> int:
        return 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [_run(fn, i, len(items), item) for i, item in enumerate(items)]


SERIAL = SerialPartitions()


@dataclass(frozen=True)
class ThreadPartitions:
    """Partitions on a pool of at most ``max_workers`` threads of this process."""

    max_workers: int

    @property
    def width(self) -> int:
        return max(1, self.max_workers)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.max_workers <= 1 or len(items) <= 1:
            return SERIAL.map(fn, items)
        workers = min(self.max_workers, len(items))
        with cf.ThreadPoolExecutor(workers, thread_name_prefix="truckflow-part") as pool:
            futures = [pool.submit(_run, fn, i, len(items), x) for i, x in enumerate(items)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


@dataclass(frozen=True)
class DaskPartitions:
    """Partitions as tasks of the Dask cluster the step runs on; serial outside a worker.
    ``threads``: the cluster's worker threads when the runner started the step."""

    threads: int = 1

    @property
    def width(self) -> int:
        return max(1, self.threads)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        from distributed import get_worker, worker_client

        try:
            get_worker()
        except ValueError:  # not on a worker (a step run in the coordinating process)
            return SERIAL.map(fn, items)
        if len(items) <= 1:
            return SERIAL.map(fn, items)
        with worker_client() as client:  # type: ignore[no-untyped-call]
            return _gather(client, fn, items)


def _gather(client: Any, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    name = getattr(fn, "__name__", "fn")
    batch = uuid.uuid4().hex[:8]
    futures: list[Any] = [
        client.submit(_run, fn, i, len(items), x, pure=False, key=f"truckflow-{name}-{batch}-{i}")
        for i, x in enumerate(items)
    ]
    try:
        return [f.result() for f in futures]
    except BaseException:
        client.cancel(futures)
        raise


@dataclass(frozen=True)
class ClusterPartitions:
    """Partitions as tasks of a Dask cluster, submitted by this process through ``client``
    (a command that runs no pipeline, e.g. ``truckflow features fill --runner dask``)."""

    client: Any

    @property
    def width(self) -> int:
        return max(1, int(sum(self.client.nthreads().values())))

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) <= 1:
            return SERIAL.map(fn, items)
        return _gather(self.client, fn, items)


@contextmanager
def cluster_partitions(address: str | None, *, n_workers: int = 2) -> Iterator[ClusterPartitions]:
    """Partitions on the Dask scheduler at ``address``; without one, on a LocalCluster of
    ``n_workers`` single-threaded processes started here and closed on exit."""
    from distributed import Client

    cluster: Any = None
    scratch = None
    if not address:
        scratch = tempfile.TemporaryDirectory(prefix="truckflow-dask-")
        cluster = start_local_cluster(n_workers, Path(scratch.name))
    client = Client(cluster or address)  # type: ignore[no-untyped-call]
    try:
        partitions = ClusterPartitions(client)
        _log.info(
            "partitions on the Dask cluster at %s (%d threads)",
            client.scheduler_info().get("address", address),
            partitions.width,
        )
        yield partitions
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()  # type: ignore[no-untyped-call]
        if scratch is not None:
            scratch.cleanup()
