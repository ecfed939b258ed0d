"""The library-level entry point: one object that the CLI, the demo, the dashboard and the tests
share to run truckflow's pipelines with the database migrated and notifications wired in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from truckflow.events import EventSink, LoggingSink, MultiSink
from truckflow.notify import Notifications
from truckflow.pipeline import ExecutionResult, Pipeline, resume_execution, run_pipeline
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """Settings, the migrated operational database and the notification outbox, together."""

    settings: Settings
    db: Database
    notifications: Notifications

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        db = connect(settings)
        upgrade(db)
        return cls(settings, db, Notifications.open(settings, db))

    @property
    def sink(self) -> EventSink:
        """Every event is logged and written to the outbox (in the state change's transaction)."""
        return MultiSink(LoggingSink(), self.notifications.sink)

    def run(
        self,
        pipeline: Pipeline | str,
        parameters: Mapping[str, Any] | None = None,
        *,
        runner: str = "local",
        scheduler: str | None = None,
        steps: Iterable[str] | None = None,
        reuse_from: str | None = None,
    ) -> ExecutionResult:
        """Run a pipeline, then deliver the notifications it emitted (a failing channel keeps
        its events pending in the outbox; it never fails the run)."""
        result = run_pipeline(
            pipeline,
            parameters,
            settings=self.settings,
            runner=runner,
            scheduler=scheduler,
            sink=self.sink,
            steps=steps,
            reuse_from=reuse_from,
        )
        self.notifications.dispatch()
        return result

    def resume(
        self, execution_id: str, *, runner: str = "local", scheduler: str | None = None
    ) -> ExecutionResult:
        result = resume_execution(
            execution_id, settings=self.settings, runner=runner, scheduler=scheduler, sink=self.sink
        )
        self.notifications.dispatch()
        return result

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
