"""The library-level entry point: one object that the CLI, the demo, the dashboard and the tests
share to run truckflow's pipelines with the database migrated and notifications wired in.

It is also each step's run context: a runner started here hands the ``Runtime`` to every step
(``StepContext.resources``; ``runtime_of(context)`` reads it), so a step works on the database
and the notification sink of the command that started the run instead of opening its own.
``runtime_of`` also gives it the step's ``partitions`` (threads, Dask tasks): a data-parallel
step maps its partitions with ``rt.partitions``, one after another outside a runner.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from truckflow.events import EventSink, LoggingSink, MultiSink
from truckflow.notify import Notifications
from truckflow.pipeline import (
    SERIAL,
    ArtifactStore,
    ExecutionResult,
    Limits,
    Partitions,
    Pipeline,
    PipelineError,
    Runner,
    StepContext,
    get_execution,
    get_pipeline,
    make_runner,
)
from truckflow.pipelines import register_pipelines
from truckflow.settings import Settings
from truckflow.store import Database, connect

__all__ = ["Runtime", "runtime_of"]

log = logging.getLogger(__name__)

# A Dask worker process unpickles the run context of each step it runs: it opens the database
# once per process (the schema is the coordinator's to migrate), not once per step.
_REOPENED: dict[str, Runtime] = {}


@dataclass
class Runtime:
    """Settings, the migrated operational database and the notification outbox, together;
    ``partitions``: how a step running on it maps its partitions (serial outside a runner)."""

    settings: Settings
    db: Database
    notifications: Notifications
    partitions: Partitions = SERIAL

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Connect and migrate (the only place a run does either), register the pipelines."""
        from truckflow.store.migrate import upgrade  # Alembic is slow to import; workers skip it

        db = connect(settings)
        upgrade(db)
        register_pipelines()
        return cls(settings, db, Notifications.open(settings, db))

    @classmethod
    def on(cls, settings: Settings, db: Database) -> Runtime:
        """On ``db``, which the caller opened and migrated (tests, a dashboard's connection)."""
        register_pipelines()
        return cls(settings, db, Notifications.open(settings, db))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reopen, (self.settings,))

    @property
    def sink(self) -> EventSink:
        """Every event is logged and written to the outbox (in the state change's transaction)."""
        return MultiSink(LoggingSink(), self.notifications.sink)

    def runner(self, kind: str | None = None, *, scheduler: str | None = None) -> Runner:
        """A runner on this runtime's database that hands each step this runtime; ``kind``
        defaults to the ``pipeline.runner`` setting."""
        s = self.settings
        return make_runner(
            self.db,
            kind or s.pipeline.runner,
            artifacts=ArtifactStore(s.pipeline.artifact_url or s.home / "artifacts"),
            scheduler=scheduler or s.pipeline.dask_scheduler,
            sink=self.sink,
            limits=Limits(
                max_parallel=s.pipeline.max_parallel,
                partition_threads=s.pipeline.partition_threads,
                heartbeat_s=s.pipeline.heartbeat_s,
                stale_after_s=s.pipeline.stale_after_s,
                db_recovery_wait_s=s.database.recovery_wait_s,
            ),
            work_root=s.home / "work",
            resources=self,
        )

    def run(
        self,
        pipeline: Pipeline | str,
        parameters: Mapping[str, Any] | None = None,
        *,
        runner: str | None = None,
        scheduler: str | None = None,
        steps: Iterable[str] | None = None,
        reuse_from: str | None = None,
        dispatch: bool = True,
    ) -> ExecutionResult:
        """Run a pipeline, then deliver the notifications it emitted (a failing channel keeps
        its events pending in the outbox; it never fails the run). A run nested in a step
        passes ``dispatch=False``: the outer run delivers."""
        definition = get_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
        try:
            with self.runner(runner, scheduler=scheduler) as r:
                result = r.run(definition, parameters, steps=steps, reuse_from=reuse_from)
        except Exception:
            if dispatch:
                self._dispatch_after_failure()
            raise
        if dispatch:
            self.notifications.dispatch()
        return result

    def _dispatch_after_failure(self) -> None:
        """The failure event of a run that raised is in the outbox when the database took it;
        try to send it now (the next dispatch sends it otherwise)."""
        try:
            self.notifications.dispatch()
        except Exception as exc:  # the database may still be away: the event waits
            log.warning("notifications not dispatched after the failure: %s", exc)

    def resume(
        self, execution_id: str, *, runner: str | None = None, scheduler: str | None = None
    ) -> ExecutionResult:
        with self.runner(runner, scheduler=scheduler) as r:
            r.mark_interrupted()
            source = get_execution(self.db, execution_id)
            result = r.resume(get_pipeline(source.pipeline), execution_id)
        self.notifications.dispatch()
        return result

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _reopen(settings: Settings) -> Runtime:
    key = settings.model_dump_json()
    found = _REOPENED.get(key)
    if found is None:
        db = connect(settings)
        register_pipelines()
        found = _REOPENED[key] = Runtime(settings, db, Notifications.open(settings, db))
    return found


def runtime_of(context: StepContext) -> Runtime:
    """The run context of a truckflow step: the ``Runtime`` whose runner runs it."""
    found = context.resources
    if not isinstance(found, Runtime):
        raise PipelineError(
            f"step {context.step!r} needs the run context of a truckflow Runtime",
            hint="run the pipeline through Runtime.run or a runner from Runtime.runner()",
        )
    if found.partitions is context.partitions:
        return found
    return dataclasses.replace(found, partitions=context.partitions)
