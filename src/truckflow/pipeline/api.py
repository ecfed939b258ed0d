"""One call to run a pipeline by object or registered name, on either runner."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from truckflow.events import EventSink
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.errors import PipelineError
from truckflow.pipeline.history import ExecutionResult
from truckflow.pipeline.registry import get_pipeline
from truckflow.pipeline.runners import DaskRunner, LocalRunner, Runner
from truckflow.settings import Settings
from truckflow.store import connect

__all__ = ["make_runner", "resume_execution", "run_pipeline"]


def make_runner(
    settings: Settings,
    runner: str = "local",
    *,
    scheduler: str | None = None,
    sink: EventSink | None = None,
    max_parallel: int | None = None,
) -> Runner:
    """A runner on the settings' database, migrated to the current schema first."""
    from truckflow.store.migrate import upgrade  # Alembic is slow to import; workers never need it

    db = connect(settings)
    upgrade(db)
    if runner == "local":
        return LocalRunner(settings, db=db, sink=sink, max_parallel=max_parallel)
    if runner == "dask":
        return DaskRunner(settings, db=db, sink=sink, address=scheduler, max_parallel=max_parallel)
    raise PipelineError(f"unknown runner {runner!r}; use local or dask")


def run_pipeline(
    pipeline: Pipeline | str,
    parameters: Mapping[str, Any] | None = None,
    *,
    settings: Settings,
    runner: str = "local",
    scheduler: str | None = None,
    sink: EventSink | None = None,
    steps: Iterable[str] | None = None,
    reuse_from: str | None = None,
) -> ExecutionResult:
    """Run ``pipeline`` (or the registered pipeline of that name) and return its record."""
    definition = get_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    with make_runner(settings, runner, scheduler=scheduler, sink=sink) as r:
        return r.run(definition, parameters, steps=steps, reuse_from=reuse_from)


def resume_execution(
    execution_id: str,
    *,
    settings: Settings,
    runner: str = "local",
    scheduler: str | None = None,
    sink: EventSink | None = None,
) -> ExecutionResult:
    """Resume a failed, stopped or interrupted execution of a registered pipeline."""
    from truckflow.pipeline.history import get_execution

    with make_runner(settings, runner, scheduler=scheduler, sink=sink) as r:
        r.mark_interrupted()
        source = get_execution(r.db, execution_id)
        return r.resume(get_pipeline(source.pipeline), execution_id)
