"""One call to run a pipeline by object or registered name, on either runner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from truckflow.events import EventSink
from truckflow.pipeline.artifacts import ArtifactStore
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.errors import PipelineError
from truckflow.pipeline.history import ExecutionResult
from truckflow.pipeline.limits import Limits
from truckflow.pipeline.registry import get_pipeline
from truckflow.pipeline.runners import DaskRunner, LocalRunner, Runner
from truckflow.store import Database

__all__ = ["make_runner", "resume_execution", "run_pipeline"]


def make_runner(
    db: Database,
    runner: str = "local",
    *,
    artifacts: ArtifactStore,
    scheduler: str | None = None,
    sink: EventSink | None = None,
    limits: Limits | None = None,
    work_root: Path | None = None,
    resources: Any = None,
) -> Runner:
    """A runner of kind ``runner`` (local or dask) on ``db``, which the caller has migrated."""
    options: dict[str, Any] = {
        "artifacts": artifacts,
        "sink": sink,
        "limits": limits,
        "work_root": work_root,
        "resources": resources,
    }
    if runner == "local":
        return LocalRunner(db, **options)
    if runner == "dask":
        return DaskRunner(db, address=scheduler, **options)
    raise PipelineError(f"unknown runner {runner!r}; use local or dask")


def run_pipeline(
    pipeline: Pipeline | str,
    parameters: Mapping[str, Any] | None = None,
    *,
    db: Database,
    artifacts: ArtifactStore,
    runner: str = "local",
    steps: Iterable[str] | None = None,
    reuse_from: str | None = None,
    **options: Any,
) -> ExecutionResult:
    """Run ``pipeline`` (or the registered pipeline of that name) and return its record;
    ``options`` are ``make_runner``'s (scheduler, sink, limits, work_root, resources)."""
    definition = get_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    with make_runner(db, runner, artifacts=artifacts, **options) as r:
        return r.run(definition, parameters, steps=steps, reuse_from=reuse_from)


def resume_execution(
    execution_id: str,
    *,
    db: Database,
    artifacts: ArtifactStore,
    runner: str = "local",
    **options: Any,
) -> ExecutionResult:
    """Resume a failed, stopped or interrupted execution of a registered pipeline."""
    from truckflow.pipeline.history import get_execution

    with make_runner(db, runner, artifacts=artifacts, **options) as r:
        r.mark_interrupted()
        source = get_execution(r.db, execution_id)
        return r.resume(get_pipeline(source.pipeline), execution_id)
