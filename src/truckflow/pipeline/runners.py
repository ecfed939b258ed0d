"""Runners: where function steps run. Both share the coordinator, records and semantics.

``LocalRunner`` runs steps on threads of the calling process; ``DaskRunner`` submits each step
attempt as a task to a ``distributed`` cluster (a scheduler address, or a LocalCluster with
worker processes that it starts and closes). Records are always written by the caller.
"""

from __future__ import annotations

import concurrent.futures as cf
import tempfile
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from truckflow.events import EventSink, LoggingSink
from truckflow.pipeline.artifacts import ArtifactStore
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.engine import Coordinator, Reused
from truckflow.pipeline.errors import DefinitionError, PipelineError
from truckflow.pipeline.executors import DaskExecutor, Executor, ThreadExecutor
from truckflow.pipeline.history import ExecutionResult, get_execution, mark_interrupted
from truckflow.pipeline.limits import Limits
from truckflow.pipeline.local_cluster import start_local_cluster
from truckflow.pipeline.recorder import Recorder
from truckflow.pipeline.records import ExecutionStatus
from truckflow.store import Database

__all__ = ["DaskRunner", "LocalRunner", "Runner"]


class Runner:
    """What both runners share: planning, resume, selective execution, records.

    It works on ``db`` (migrated by the caller), keeps step data in ``artifacts``, gives each
    step a scratch folder under ``work_root`` (default a folder of the system's temporary
    directory) and hands every step ``resources`` (see ``StepContext``)."""

    name = "runner"

    def __init__(
        self,
        db: Database,
        *,
        artifacts: ArtifactStore,
        limits: Limits | None = None,
        work_root: Path | None = None,
        resources: Any = None,
        sink: EventSink | None = None,
    ) -> None:
        self.db = db
        self.artifacts = artifacts
        self.limits = limits or Limits()
        self.work_root = work_root or Path(tempfile.gettempdir()) / "truckflow-work"
        self.resources = resources
        self.sink = sink or LoggingSink()
        self.max_parallel: int | None = self.limits.max_parallel

    def _executor(self) -> Executor:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the runner started (threads, a local Dask cluster)."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def mark_interrupted(self) -> list[str]:
        stale = timedelta(seconds=self.limits.stale_after_s)
        return mark_interrupted(self.db, stale_after=stale, sink=self.sink)

    def run(
        self,
        pipeline: Pipeline,
        parameters: Mapping[str, Any] | None = None,
        *,
        steps: Iterable[str] | None = None,
        reuse_from: str | None = None,
    ) -> ExecutionResult:
        """Run ``pipeline``; with ``steps`` and ``reuse_from``, run only those steps and take
        the other steps' outputs from execution ``reuse_from`` (selective execution)."""
        self.mark_interrupted()
        reuse: dict[str, Reused] = {}
        run_steps = set(pipeline.steps)
        if reuse_from is not None:
            source = self._source(pipeline, reuse_from)
            parameters = {**source.parameters, **(parameters or {})}
            reuse = _reusable(source)
        if steps is not None:
            run_steps = set(steps)
            unknown = sorted(run_steps - set(pipeline.steps))
            if unknown:
                raise DefinitionError(
                    f"pipeline {pipeline.name!r} has no step {', '.join(unknown)}"
                )
        _check_inputs_available(pipeline, run_steps, reuse)
        bound = pipeline.bind(parameters)
        return self._execute(pipeline, bound, run_steps, reuse, reuse_from, steps)

    def resume(self, pipeline: Pipeline, execution_id: str) -> ExecutionResult:
        """Rerun a failed, stopped or interrupted execution's unfinished steps and what follows
        them, reusing the outputs of the steps that succeeded; a new execution records it."""
        self.mark_interrupted()
        source = self._source(pipeline, execution_id)
        if source.status == ExecutionStatus.EXECUTING:
            raise PipelineError(f"execution {execution_id} is still running; nothing to resume")
        if source.status == ExecutionStatus.SUCCEEDED:
            raise PipelineError(f"execution {execution_id} succeeded; nothing to resume")
        unfinished = {
            n
            for n in pipeline.steps
            if n not in source.steps or source.steps[n].status != ExecutionStatus.SUCCEEDED
        }
        run_steps = pipeline.downstream(unfinished)
        reuse = {n: r for n, r in _reusable(source).items() if n not in run_steps}
        bound = pipeline.bind(source.parameters)
        return self._execute(pipeline, bound, run_steps, reuse, execution_id, None)

    def _source(self, pipeline: Pipeline, execution_id: str) -> ExecutionResult:
        source = get_execution(self.db, execution_id)
        if source.pipeline != pipeline.name:
            raise PipelineError(
                f"execution {execution_id} belongs to pipeline {source.pipeline!r}, not {pipeline.name!r}"
            )
        if source.definition_hash != pipeline.hash:
            raise DefinitionError(
                f"pipeline {pipeline.name!r} changed since execution {execution_id} "
                f"(definition {source.definition_hash[:12]} then, {pipeline.hash[:12]} now)",
                hint="run it afresh, or select the steps to run with --steps",
            )
        return source

    def _execute(
        self,
        pipeline: Pipeline,
        bound: dict[str, Any],
        run_steps: set[str],
        reuse: dict[str, Reused],
        source_id: str | None,
        selected: Iterable[str] | None,
    ) -> ExecutionResult:
        recorder = Recorder(self.db, self.sink)
        execution_id = recorder.start_execution(
            pipeline,
            bound,
            runner=self.name,
            source_execution_id=source_id,
            selected_steps=sorted(selected) if selected is not None else None,
        )
        coordinator = Coordinator(
            pipeline,
            bound,
            execution_id=execution_id,
            recorder=recorder,
            executor=self._executor(),
            artifacts=self.artifacts,
            limits=self.limits,
            work_root=self.work_root,
            resources=self.resources,
            max_parallel=self.max_parallel,
            run_steps=run_steps,
            reuse=reuse,
        )
        coordinator.run()
        return get_execution(self.db, execution_id)


def _reusable(source: ExecutionResult) -> dict[str, Reused]:
    return {
        n: Reused(s.outputs or {}, s.reused_from or source.execution_id)
        for n, s in source.steps.items()
        if s.status == ExecutionStatus.SUCCEEDED
    }


def _check_inputs_available(
    pipeline: Pipeline, run_steps: set[str], reuse: Mapping[str, Reused]
) -> None:
    for name in sorted(run_steps):
        for dep in sorted(pipeline.dependencies[name]):
            if dep not in run_steps and dep not in reuse:
                raise PipelineError(
                    f"step {name!r} needs step {dep!r}, which is neither selected nor "
                    "reusable from an earlier successful execution",
                    hint="select it too, or give --reuse-from an execution where it succeeded",
                )


class LocalRunner(Runner):
    """Steps on threads of this process, at most ``max_parallel`` at once; a step's partitions
    on at most ``partition_threads`` threads."""

    name = "local"

    def __init__(self, db: Database, **kwargs: Any) -> None:
        super().__init__(db, **kwargs)
        # Spare threads: a timed-out step keeps its thread until it returns.
        self._pool = cf.ThreadPoolExecutor(
            max_workers=(self.max_parallel or 1) + 4, thread_name_prefix="truckflow-step"
        )

    def _executor(self) -> Executor:
        return ThreadExecutor(self._pool, self.limits.partition_threads)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class DaskRunner(Runner):
    """Each step attempt a task on a ``distributed`` cluster: ``address``, else a LocalCluster
    of ``n_workers`` processes, closed by ``close()``. ``max_parallel`` does not apply: the
    cluster's workers are the limit."""

    name = "dask"

    def __init__(
        self, db: Database, *, address: str | None = None, n_workers: int = 2, **kwargs: Any
    ) -> None:
        super().__init__(db, **kwargs)
        self.max_parallel = None
        self.address = address
        self.n_workers = n_workers
        self._client: Any = None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from distributed import Client

            if self.address is None:
                scratch = self.work_root / "dask-scratch"
                self._cluster = start_local_cluster(self.n_workers, scratch)
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
            else:
                self._client = Client(self.address)  # type: ignore[no-untyped-call]
        return self._client

    def _executor(self) -> Executor:
        return DaskExecutor(self.client)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
