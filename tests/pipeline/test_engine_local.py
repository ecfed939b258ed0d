"""The local runner: outputs, branches, fail steps, parallelism, the step context, events."""

from __future__ import annotations

import os

import engine_steps
import pytest
import sqlalchemy as sa
from engine_helpers import RecordingSink, local_runner
from engine_steps import arithmetic_pipeline, fail_step_pipeline, probe

from truckflow.events import Event, Severity
from truckflow.pipeline import (
    Limits,
    LocalRunner,
    Pipeline,
    PipelineError,
    get_execution,
    list_executions,
)
from truckflow.pipeline.tables import pipeline_executions
from truckflow.settings import Settings
from truckflow.store import Database


def test_runs_steps_with_references_and_the_taken_branch(runner: LocalRunner) -> None:
    result = runner.run(arithmetic_pipeline(), {"a": 2.0, "limit": 100.0})
    assert result.ok, result.error
    out = result.outputs
    assert out["first"] == {"sum": 5.0}
    assert out["scaled"] == {"values": [10.0, 3.0, 4.0], "total": 17.0}
    assert out["read"] == {"text": "hello"}
    assert out["small"] == {"outcome": True}
    assert out["bonus"] == {"sum": 110.0}
    assert "penalty" not in out
    assert result.steps["penalty"].status == "skipped"
    assert result.steps["penalty"].cache_reason == "skipped: condition small was True"
    assert out["where"]["pid"] == os.getpid()


def test_else_branch_and_or_condition(runner: LocalRunner) -> None:
    result = runner.run(arithmetic_pipeline(), {"a": 2.0, "limit": 10.0})
    assert result.outputs["small"] == {"outcome": False}
    assert result.outputs["penalty"] == {"sum": 16.0}
    assert result.steps["bonus"].status == "skipped"
    # `a in [0, 1]` makes the condition true whatever the limit.
    again = runner.run(arithmetic_pipeline(), {"a": 1.0, "limit": 0.0})
    assert again.outputs["small"] == {"outcome": True}


def test_fail_step_fails_the_execution_with_its_message(
    runner: LocalRunner, sink: RecordingSink
) -> None:
    result = runner.run(fail_step_pipeline(), {"x": -3})
    assert result.status == "failed"
    assert result.error == "x was -3, sum -3"
    assert result.steps["negative"].status == "failed"
    with pytest.raises(PipelineError, match="x was -3"):
        result.raise_for_status()
    assert runner.run(fail_step_pipeline(), {"x": 2}).ok


def test_max_parallel_is_respected(settings: Settings, db: Database) -> None:
    steps = [probe.as_step(f"p{i}", i=i, hold_s=0.15) for i in range(9)]
    pipeline = Pipeline("wide", steps=steps)
    for limit in (1, 3):
        engine_steps.reset_peak()
        with local_runner(settings, db, limits=Limits(max_parallel=limit)) as r:
            assert r.run(pipeline).ok
        assert engine_steps.peak == limit


def test_step_context_gives_execution_and_artifacts(runner: LocalRunner) -> None:
    result = runner.run(arithmetic_pipeline())
    stored = result.outputs["stored"]
    assert stored["execution"] == result.execution_id
    assert stored["ref"]["type"] == "artifact"
    assert runner.artifacts.get_bytes(stored["ref"]) == b"hello"


def test_events_for_success_and_failure(runner: LocalRunner, sink: RecordingSink) -> None:
    runner.run(arithmetic_pipeline())
    types = sink.types()
    assert types[0] == "pipeline.started" and types[-1] == "pipeline.succeeded"
    assert types.count("step.succeeded") == 7  # 6 that ran or were evaluated, + condition
    assert types.count("step.skipped") == 1
    assert all(e.severity == Severity.DEBUG for e in sink.of("step.succeeded"))
    # Every state change's event arrives inside the transaction that records it.
    assert all(sink.in_transaction)

    sink.events.clear()
    sink.in_transaction.clear()
    runner.run(fail_step_pipeline(), {"x": -1})
    failed = sink.of("step.failed")
    assert len(failed) == 1 and failed[0].severity == Severity.ERROR
    assert failed[0].body["step"] == "negative"
    assert sink.of("pipeline.failed")[0].body["error"] == "x was -1, sum -1"


class OutboxLikeSink:
    """Reads the execution row through the event's connection, as an outbox sink would write."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        if connection is None or not event.type.startswith("pipeline."):
            return
        status = connection.execute(
            sa.select(pipeline_executions.c.status).where(
                pipeline_executions.c.id == event.body["execution_id"]
            )
        ).scalar_one()
        self.seen.append((event.type, status))


def test_sink_shares_the_transaction_of_the_state_change(settings: Settings, db: Database) -> None:
    sink = OutboxLikeSink()
    with local_runner(settings, db, sink=sink) as r:
        r.run(arithmetic_pipeline())
    assert sink.seen == [("pipeline.started", "executing"), ("pipeline.succeeded", "succeeded")]


def test_a_step_returning_no_dict_fails_clearly(runner: LocalRunner) -> None:
    from engine_steps import not_a_dict

    result = runner.run(Pipeline("bad", steps=[not_a_dict.as_step("x")]))
    assert "returned list; a step returns a dict of outputs" in (result.steps["x"].error or "")


def test_a_raising_step_records_error_and_traceback(runner: LocalRunner) -> None:
    from engine_steps import add

    result = runner.run(Pipeline("bad", steps=[add.as_step("x", a="a", b=[1])]))
    assert result.status == "failed"
    assert "TypeError" in (result.steps["x"].error or "")
    assert "Traceback" in (result.steps["x"].traceback or "")
    assert get_execution(runner.db, result.execution_id).steps["x"].status == "failed"


class FailingSink:
    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        if event.type == "step.succeeded":
            raise RuntimeError("outbox is full")


def test_an_engine_error_rolls_back_the_step_and_fails_the_execution(
    settings: Settings, db: Database
) -> None:
    from engine_steps import add

    with local_runner(settings, db, sink=FailingSink()) as r, pytest.raises(RuntimeError):
        r.run(Pipeline("sinkfail", steps=[add.as_step("x", a=1, b=2)]))
    (execution,) = list_executions(db, "sinkfail")
    record = get_execution(db, execution.execution_id)
    assert record.status == "failed"
    assert record.error == "engine error: RuntimeError: outbox is full"
    # The step's outputs were rolled back with its event: not half-written.
    assert record.steps["x"].outputs is None
    assert record.steps["x"].status == "stopped"
