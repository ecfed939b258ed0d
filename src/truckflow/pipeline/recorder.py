"""Writing execution records, and emitting each event in the transaction of its state change."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any

import psutil
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.events import Event, EventSink, Severity
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.outcome import Outcome
from truckflow.pipeline.params import to_json_value
from truckflow.pipeline.records import ExecutionStatus
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.store import Database

__all__ = ["Recorder", "owner_identity"]

log = logging.getLogger(__name__)


# Built once: per-step writes are the engine's hot path (compiled forms are cached per key set).
_INSERT_STEP = step_executions.insert()
_UPDATE_STEP = step_executions.update().where(
    step_executions.c.execution_id == sa.bindparam("_execution"),
    step_executions.c.step == sa.bindparam("_step"),
)


def owner_identity() -> dict[str, Any]:
    """Who runs an execution: host, pid and the process's start time (pids get reused)."""
    return {
        "owner_host": socket.gethostname(),
        "owner_pid": os.getpid(),
        "owner_started": psutil.Process().create_time(),
    }


class Recorder:
    """Every write the coordinating process makes about one execution."""

    def __init__(self, db: Database, sink: EventSink) -> None:
        self.db = db
        self.sink = sink

    def _emit(
        self,
        conn: sa.Connection,
        kind: str,
        subject: str,
        body: Mapping[str, Any],
        severity: Severity = Severity.INFO,
    ) -> None:
        self.sink.emit(Event(kind, subject, dict(body), severity), conn)

    def start_execution(
        self,
        pipeline: Pipeline,
        parameters: Mapping[str, Any],
        *,
        runner: str,
        source_execution_id: str | None = None,
        selected_steps: list[str] | None = None,
    ) -> str:
        execution_id = str(uuid.uuid4())
        now = utcnow()
        params = {k: to_json_value(v) for k, v in parameters.items()}
        with self.db.begin() as conn:
            conn.execute(
                pipeline_executions.insert().values(
                    id=execution_id,
                    pipeline=pipeline.name,
                    status=ExecutionStatus.EXECUTING,
                    definition_hash=pipeline.hash,
                    definition=pipeline.to_json(),
                    parameters=params,
                    runner=runner,
                    started_at=now,
                    heartbeat_at=now,
                    source_execution_id=source_execution_id,
                    selected_steps=selected_steps,
                    **owner_identity(),
                )
            )
            body = {"execution_id": execution_id, "pipeline": pipeline.name, "parameters": params}
            if source_execution_id:
                body["source_execution_id"] = source_execution_id
            self._emit(conn, "pipeline.started", f"pipeline {pipeline.name} started", body)
        return execution_id

    def step_started(self, execution_id: str, step: str, kind: str) -> None:
        row = {"execution_id": execution_id, "step": step, "kind": kind}
        with self.db.begin() as conn:
            conn.execute(
                _INSERT_STEP,
                {**row, "status": ExecutionStatus.EXECUTING, "started_at": utcnow()},
            )

    def step_finished(
        self, execution_id: str, step: str, values: Mapping[str, Any], event: Event | None = None
    ) -> None:
        """Status, outputs and cache facts of a step, with its event, in one transaction."""
        params = {"_execution": execution_id, "_step": step, "finished_at": utcnow(), **values}
        with self.db.begin() as conn:
            conn.execute(_UPDATE_STEP, params)
            if event is not None:
                self.sink.emit(event, conn)

    def step_record(
        self,
        execution_id: str,
        step: str,
        kind: str,
        values: Mapping[str, Any],
        event: Event | None,
    ) -> None:
        """A step that did not run (skipped, reused): its whole row at once."""
        now = utcnow()
        row = {"execution_id": execution_id, "step": step, "kind": kind}
        with self.db.begin() as conn:
            conn.execute(_INSERT_STEP, {**row, "started_at": now, "finished_at": now, **values})
            if event is not None:
                self.sink.emit(event, conn)

    def heartbeat(self, execution_id: str) -> bool:
        """Record that the owner lives; returns whether someone asked the execution to stop."""
        with self.db.begin() as conn:
            conn.execute(
                pipeline_executions.update()
                .where(pipeline_executions.c.id == execution_id)
                .values(heartbeat_at=utcnow())
            )
            return bool(
                conn.execute(
                    sa.select(pipeline_executions.c.stop_requested).where(
                        pipeline_executions.c.id == execution_id
                    )
                ).scalar()
            )

    def finish_when_possible(
        self, pipeline: str, execution_id: str, status: str, error: str, *, wait_s: float
    ) -> bool:
        """``finish_execution``, retried while the database is unreachable, up to ``wait_s``:
        the execution is marked (and its event written to the outbox) as soon as the database
        takes writes again. False when it never did: the next run marks it interrupted."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.finish_execution(pipeline, execution_id, status, error)
                return True
            except Exception as exc:  # the driver's own errors are not all SQLAlchemy's
                if time.monotonic() >= deadline:
                    log.warning(
                        "execution %s could not be marked %s: %s", execution_id, status, exc
                    )
                    return False
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))

    def finish_execution(
        self,
        pipeline: str,
        execution_id: str,
        status: str,
        error: str | None = None,
        outcome: Outcome | None = None,
        *,
        failure_severity: Severity = Severity.ERROR,
    ) -> None:
        """Mark the execution ended, with its event; an ``outcome`` is recorded too and its
        event replaces ``pipeline.succeeded``, which would misreport a refused release."""
        told: dict[str, Any] = {}
        if outcome is not None:
            told = {"outcome": outcome.status, "outcome_summary": outcome.summary or None}
        with self.db.begin() as conn:
            conn.execute(
                pipeline_executions.update()
                .where(pipeline_executions.c.id == execution_id)
                .values(status=status, finished_at=utcnow(), error=error, **told)
            )
            if status != ExecutionStatus.EXECUTING:
                # Steps still open when the execution ends were cut off with it.
                conn.execute(
                    step_executions.update()
                    .where(
                        step_executions.c.execution_id == execution_id,
                        step_executions.c.status == ExecutionStatus.EXECUTING,
                    )
                    .values(status=ExecutionStatus.STOPPED, finished_at=utcnow())
                )
            if outcome is not None:
                if outcome.event is not None:
                    self.sink.emit(outcome.event, conn)
                return
            severity = failure_severity if status == ExecutionStatus.FAILED else Severity.INFO
            if status in (ExecutionStatus.STOPPED, ExecutionStatus.INTERRUPTED):
                severity = Severity.WARNING
            body: dict[str, Any] = {"execution_id": execution_id, "pipeline": pipeline}
            if error:
                body["error"] = error
            subject = f"pipeline {pipeline} {status}" + (f": {error}" if error else "")
            self._emit(conn, f"pipeline.{status}", subject, body, severity)
