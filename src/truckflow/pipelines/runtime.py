"""The library-level entry point: one object that the CLI, the demo, the dashboard and the tests
share to run truckflow's pipelines with the database migrated and notifications wired in.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)


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
        try:
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
        except Exception:
            self._dispatch_after_failure()
            raise
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
