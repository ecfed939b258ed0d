"""Reading execution records, and finding executions whose process died (``interrupted``)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psutil
import sqlalchemy as sa

from truckflow.clock import utcnow
from truckflow.events import Event, EventSink, LoggingSink, Severity
from truckflow.pipeline.errors import ExecutionNotFoundError, PipelineError
from truckflow.pipeline.records import ExecutionStatus
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.store import Database

__all__ = [
    "ExecutionResult",
    "StepResult",
    "get_definition",
    "get_execution",
    "list_executions",
    "mark_interrupted",
    "request_stop",
    "resolve_execution_id",
]


@dataclass(frozen=True)
class StepResult:
    """One step of an execution as recorded."""

    name: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    attempts: int
    outputs: dict[str, Any] | None
    cache_hit: bool
    cache_reason: str | None
    reused_from: str | None
    error: str | None
    traceback: str | None
    attempt_log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "duration_s": self.duration_s}


@dataclass(frozen=True)
class ExecutionResult:
    """An execution as recorded: ``outputs`` maps each step that ran (or was reused) to its outputs."""

    execution_id: str
    pipeline: str
    status: str
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    definition_hash: str
    runner: str
    source_execution_id: str | None
    steps: dict[str, StepResult]
    outcome: str | None = None
    outcome_summary: str | None = None

    @property
    def ok(self) -> bool:
        """The steps ran to their end (a release refused by acceptance is ok: see outcome)."""
        return self.status == ExecutionStatus.SUCCEEDED

    @property
    def shown_status(self) -> str:
        """What to show a person: the outcome where the pipeline says one, else the status."""
        return self.outcome or self.status

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return {n: s.outputs for n, s in self.steps.items() if s.outputs is not None}

    def raise_for_status(self) -> ExecutionResult:
        if not self.ok:
            raise PipelineError(
                f"execution {self.execution_id} of pipeline {self.pipeline!r} {self.status}"
                + (f": {self.error}" if self.error else "")
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "steps"}
        out["shown_status"] = self.shown_status
        out["steps"] = [s.to_dict() for s in self.steps.values()]
        return out


def _step(row: sa.Row[Any]) -> StepResult:
    return StepResult(
        name=row.step,
        kind=row.kind,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        attempts=row.attempts,
        outputs=row.outputs,
        cache_hit=bool(row.cache_hit),
        cache_reason=row.cache_reason,
        reused_from=row.reused_from,
        error=row.error,
        traceback=row.traceback,
        attempt_log=row.attempt_log or [],
    )


def _execution(row: sa.Row[Any], steps: list[StepResult]) -> ExecutionResult:
    return ExecutionResult(
        execution_id=row.id,
        pipeline=row.pipeline,
        status=row.status,
        parameters=row.parameters,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        definition_hash=row.definition_hash,
        runner=row.runner,
        source_execution_id=row.source_execution_id,
        steps={s.name: s for s in steps},
        outcome=row.outcome,
        outcome_summary=row.outcome_summary,
    )


def resolve_execution_id(conn: sa.Connection, id_or_prefix: str) -> str:
    """The execution id that ``id_or_prefix`` names: the id itself, or the one id it begins
    (lists cut ids short, a prefix is what a user copies)."""
    ids = pipeline_executions.c.id
    exact = conn.execute(sa.select(ids).where(ids == id_or_prefix)).scalar()
    if exact is not None or not id_or_prefix:
        return str(exact if exact is not None else id_or_prefix)
    escaped = id_or_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = conn.execute(
        sa.select(ids).where(ids.like(f"{escaped}%", escape="\\")).order_by(ids).limit(3)
    ).scalars()
    matches = [str(m) for m in found]
    if len(matches) > 1:
        shown = ", ".join(matches[:2]) + (", ..." if len(matches) > 2 else "")
        raise ExecutionNotFoundError(
            f"execution id prefix {id_or_prefix!r} is ambiguous: it begins {shown};"
            " give more characters"
        )
    return matches[0] if matches else id_or_prefix


def get_execution(db: Database, execution_id: str) -> ExecutionResult:
    """The execution with this id, or with the one id that begins with it."""
    with db.engine.connect() as conn:
        execution_id = resolve_execution_id(conn, execution_id)
        row = conn.execute(
            sa.select(pipeline_executions).where(pipeline_executions.c.id == execution_id)
        ).first()
        if row is None:
            raise ExecutionNotFoundError(f"no pipeline execution with id {execution_id!r}")
        steps = conn.execute(
            sa.select(step_executions)
            .where(step_executions.c.execution_id == execution_id)
            .order_by(step_executions.c.started_at, step_executions.c.id)
        ).all()
    return _execution(row, [_step(s) for s in steps])


def get_definition(db: Database, execution_id: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        value = conn.execute(
            sa.select(pipeline_executions.c.definition).where(
                pipeline_executions.c.id == execution_id
            )
        ).scalar()
    if value is None:
        raise ExecutionNotFoundError(f"no pipeline execution with id {execution_id!r}")
    return dict(value)


def list_executions(
    db: Database, pipeline: str | None = None, limit: int = 50
) -> list[ExecutionResult]:
    """The latest executions first, without their steps."""
    query = (
        sa.select(pipeline_executions)
        .order_by(pipeline_executions.c.started_at.desc())
        .limit(limit)
    )
    if pipeline is not None:
        query = query.where(pipeline_executions.c.pipeline == pipeline)
    with db.engine.connect() as conn:
        return [_execution(row, []) for row in conn.execute(query)]


def request_stop(db: Database, execution_id: str) -> bool:
    """Ask a running execution to stop (its owner notices within a heartbeat); returns
    whether it was running."""
    with db.begin() as conn:
        updated = conn.execute(
            pipeline_executions.update()
            .where(
                pipeline_executions.c.id == execution_id,
                pipeline_executions.c.status == ExecutionStatus.EXECUTING,
            )
            .values(stop_requested=True)
        )
    if updated.rowcount == 0:
        get_execution(db, execution_id)  # raises when there is no such execution
        return False
    return True


def _owner_alive(row: sa.Row[Any], stale_after: timedelta, now: datetime) -> bool:
    if row.owner_host == socket.gethostname():
        try:
            # Same pid and same start time: the very process that started the execution.
            return bool(abs(psutil.Process(row.owner_pid).create_time() - row.owner_started) < 1.0)
        except psutil.Error:
            return False
    # Another machine: trust its heartbeat until it is stale.
    return bool(now - row.heartbeat_at < stale_after)


def mark_interrupted(
    db: Database, *, stale_after: timedelta = timedelta(seconds=60), sink: EventSink | None = None
) -> list[str]:
    """Mark ``interrupted`` every executing execution whose owner process is gone; their
    open steps too. Returns the ids marked."""
    sink = sink or LoggingSink()
    now = utcnow()
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(pipeline_executions).where(
                pipeline_executions.c.status == ExecutionStatus.EXECUTING
            )
        ).all()
    marked = []
    for row in rows:
        if _owner_alive(row, stale_after, now):
            continue
        with db.begin() as conn:
            updated = conn.execute(
                pipeline_executions.update()
                .where(
                    pipeline_executions.c.id == row.id,
                    pipeline_executions.c.status == ExecutionStatus.EXECUTING,
                )
                .values(
                    status=ExecutionStatus.INTERRUPTED,
                    finished_at=now,
                    error=f"process {row.owner_pid} on {row.owner_host} stopped mid-run",
                )
            )
            if updated.rowcount != 1:  # someone else marked it first
                continue
            conn.execute(
                step_executions.update()
                .where(
                    step_executions.c.execution_id == row.id,
                    step_executions.c.status == ExecutionStatus.EXECUTING,
                )
                .values(status=ExecutionStatus.INTERRUPTED, finished_at=now)
            )
            sink.emit(
                Event(
                    "pipeline.interrupted",
                    f"pipeline {row.pipeline} execution {row.id} was interrupted",
                    {"execution_id": row.id, "pipeline": row.pipeline},
                    Severity.WARNING,
                ),
                conn,
            )
        marked.append(row.id)
    return marked
