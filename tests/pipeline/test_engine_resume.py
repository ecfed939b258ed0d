"""Resume after a failed step, after a SIGKILL of the running process; selective execution."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from engine_helpers import local_runner
from engine_steps import add, failing_pipeline, wait_for

from truckflow.clock import utcnow
from truckflow.pipeline import (
    DefinitionError,
    Limits,
    LocalRunner,
    Pipeline,
    PipelineError,
    get_execution,
    get_pipeline,
    request_stop,
)
from truckflow.pipeline.tables import pipeline_executions, step_executions
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade


def test_resume_reruns_the_failed_step_and_what_follows(
    runner: LocalRunner, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    failed = runner.run(failing_pipeline(str(gate)))
    assert failed.status == "failed"
    assert failed.steps["gated"].status == "failed"
    assert "RuntimeError: gate" in (failed.steps["gated"].error or "")
    assert "last" not in failed.steps  # never started
    gate.touch()  # "fix" the cause
    resumed = runner.resume(failing_pipeline(str(gate)), failed.execution_id)
    assert resumed.ok
    assert resumed.source_execution_id == failed.execution_id
    for reused in ("first", "side"):
        assert resumed.steps[reused].reused_from == failed.execution_id
        assert resumed.steps[reused].attempts == 0
        assert resumed.outputs[reused] == failed.outputs[reused]
    assert resumed.steps["gated"].attempts == 1
    assert resumed.outputs["last"] == {"sum": 4}


def test_resume_refuses_succeeded_and_changed_definitions(
    runner: LocalRunner, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    ok = runner.run(failing_pipeline(str(gate)))
    with pytest.raises(PipelineError, match="succeeded; nothing to resume"):
        runner.resume(failing_pipeline(str(gate)), ok.execution_id)
    gate.unlink()
    failed = runner.run(failing_pipeline(str(gate)))
    with pytest.raises(DefinitionError, match="changed since execution"):
        runner.resume(failing_pipeline(str(tmp_path / "other")), failed.execution_id)


def test_selective_execution_reuses_the_rest(runner: LocalRunner, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    base = runner.run(failing_pipeline(str(gate)))
    only = runner.run(failing_pipeline(str(gate)), steps=["last"], reuse_from=base.execution_id)
    assert only.ok
    assert only.steps["last"].attempts == 1 and only.steps["last"].reused_from is None
    for name in ("first", "side", "gated"):
        assert only.steps[name].reused_from == base.execution_id
    assert only.outputs == base.outputs


def test_selective_execution_without_the_inputs_is_refused(
    runner: LocalRunner, tmp_path: Path
) -> None:
    with pytest.raises(
        PipelineError,
        match="step 'last' needs step 'first', which is neither selected nor reusable",
    ):
        runner.run(failing_pipeline(str(tmp_path)), steps=["last"])
    with pytest.raises(DefinitionError, match="has no step nope"):
        runner.run(failing_pipeline(str(tmp_path)), steps=["nope"])


def _wait_for_step(db: Database, step: str, status: str, limit_s: float = 60) -> str:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            row = conn.execute(
                sa.select(step_executions.c.execution_id).where(
                    step_executions.c.step == step, step_executions.c.status == status
                )
            ).first()
        if row is not None:
            return str(row.execution_id)
        time.sleep(0.1)
    raise AssertionError(f"step {step} never reached {status}")


@pytest.mark.fault
def test_resume_after_sigkill(settings: Settings, tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    env = {**os.environ, "TRUCKFLOW_HOME": str(settings.home)}
    code = "from truckflow.cli.app import main; main()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "pipeline",
            "run",
            "example",
            "-p",
            f"hold={hold}",
            "-p",
            "size=8",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        db = connect(settings)
        upgrade(db)
        execution_id = _wait_for_step(db, "slow", "executing")
        _wait_for_step(db, "report", "succeeded")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert get_execution(db, execution_id).status == "executing"  # what the dead process left

    with local_runner(settings, db) as runner:
        assert runner.mark_interrupted() == [execution_id]
        killed = get_execution(db, execution_id)
        assert killed.status == "interrupted"
        assert killed.steps["slow"].status == "interrupted"
        assert killed.steps["generate"].status == "succeeded"
        assert killed.steps["generate"].outputs is not None  # committed with its status
        hold.unlink()
        resumed = runner.resume(get_pipeline("example"), execution_id)
    assert resumed.ok, resumed.error
    assert resumed.steps["slow"].attempts == 1
    for name in ("generate", "summarise", "check", "report"):
        assert resumed.steps[name].reused_from == execution_id
    assert resumed.outputs["report"] == killed.outputs["report"]
    db.dispose()


def test_live_executions_stay_and_stale_remote_ones_are_interrupted(
    runner: LocalRunner, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    pipeline = Pipeline("live", steps=[wait_for.as_step(gate=str(gate), max_s=30)])
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(runner.run, pipeline)
        execution_id = _wait_for_step(runner.db, "wait_for", "executing")
        assert runner.mark_interrupted() == []  # its owner (this process) is alive
        gate.touch()
        assert future.result().ok

    # An execution owned by another host counts as alive until its heartbeat is stale.
    with runner.db.begin() as conn:
        conn.execute(
            pipeline_executions.update()
            .where(pipeline_executions.c.id == execution_id)
            .values(status="executing", owner_host="elsewhere", heartbeat_at=utcnow())
        )
    assert runner.mark_interrupted() == []
    with runner.db.begin() as conn:
        conn.execute(
            pipeline_executions.update()
            .where(pipeline_executions.c.id == execution_id)
            .values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
    assert runner.mark_interrupted() == [execution_id]


def test_stop_request_stops_and_the_execution_resumes(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    # A sibling step, ready at the same time, puts wait_for on a thread of its own (a lone
    # step runs inline and would honour the stop only when it returns).
    pipeline = Pipeline(
        "stoppable",
        steps=[
            wait_for.as_step(gate=str(gate), max_s=30),
            add.as_step("side", a=2, b=2),
            add.as_step("after", a=1, b=1, depends_on=["wait_for"]),
        ],
    )
    with (
        local_runner(settings, db, limits=Limits(heartbeat_s=0.05)) as runner,
        ThreadPoolExecutor(1) as pool,
    ):
        future = pool.submit(runner.run, pipeline)
        execution_id = _wait_for_step(db, "wait_for", "executing")
        assert request_stop(db, execution_id)
        stopped = future.result(timeout=30)
        gate.touch()  # lets the abandoned step thread end
        assert stopped.status == "stopped" and stopped.error == "stop requested"
        assert stopped.steps["wait_for"].status == "stopped"
        assert "after" not in stopped.steps
        assert stopped.steps["side"].status == "succeeded"
        assert not request_stop(db, execution_id)  # no longer running
        resumed = runner.resume(pipeline, execution_id)
    assert resumed.ok and resumed.outputs["after"] == {"sum": 2}
