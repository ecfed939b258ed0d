"""A nested pipeline run in a Python process of its own (``pipelines.shared.own_process``), as
the drift flow runs its retraining: recorded where the caller reads it, its notifications left
for the caller to deliver, and a child that dies or is orphaned takes nobody with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from synthetic_features import trainable_home
from truckflow.faults import ENV as FAULT_ENV
from truckflow.notify.tables import notify_outbox
from truckflow.pipeline import PipelineError
from truckflow.pipeline.records import ExecutionStatus
from truckflow.pipeline.tables import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.shared.own_process import can_run_apart, run_in_own_process
from truckflow.registry import ModelRegistry
from truckflow.settings import Settings
from truckflow.store import connect

pytestmark = pytest.mark.timeout(300)

PARAMETERS = {"families": "logistic_regression", "n_trials": 1, "min_f1": 0.0}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the synthetic feature table and the MLflow store, nothing trained."""
    return trainable_home(tmp_path_factory.mktemp("own-process") / "template")


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "home"))


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.db.engine.connect() as conn:
        return list(conn.execute(sa.select(pipeline_executions.c.status)).scalars())


def test_the_run_is_recorded_and_its_events_wait_for_the_caller(home: Path) -> None:
    with Runtime.open(Settings(home=home)) as runtime:
        result = run_in_own_process(runtime, "training", PARAMETERS)
        assert result.pipeline == "training" and result.status == ExecutionStatus.SUCCEEDED
        assert result.outputs["register"]["version"] == "1"
        assert result.outputs["evaluate"]["test_f1"] is not None
        with runtime.db.engine.connect() as conn:
            outbox = conn.execute(sa.select(notify_outbox.c.event_type, notify_outbox.c.status))
            events = list(outbox)
    assert ("pipeline.succeeded", "pending") in events  # the caller's run delivers
    assert ModelRegistry.from_settings(Settings(home=home)).list_versions()[0].version == "1"


def test_a_child_killed_fails_the_call_not_the_caller_and_a_rerun_finishes(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Runtime.open(Settings(home=home)) as runtime:
        monkeypatch.setenv(FAULT_ENV, "training.after_load")  # the child kills itself there
        with pytest.raises(PipelineError, match=r"'training' run .* exited with code -9"):
            run_in_own_process(runtime, "training", PARAMETERS)
        assert _statuses(runtime) == [ExecutionStatus.EXECUTING]  # as kill -9 left it
        monkeypatch.delenv(FAULT_ENV)
        again = run_in_own_process(runtime, "training", PARAMETERS)
    assert again.status == ExecutionStatus.SUCCEEDED
    assert again.outputs["register"]["version"] == "1"


def test_an_orphaned_child_stops() -> None:
    """The caller dies (here: a parent that exits at once): its child does not run on alone."""
    child = (
        "import sys, time; from truckflow.pipelines.shared.own_process import "
        "_exit_when_orphaned as watch; watch(int(sys.argv[1]), every_s=0.05); time.sleep(120)"
    )
    parent = (
        "import os, subprocess, sys; "
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())]); "
        "print(p.pid, flush=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, check=True
    )
    orphan = psutil.Process(int(done.stdout))
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and orphan.is_running():
            if orphan.status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.05)
        stopped = not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        stopped = True
    if not stopped:
        orphan.kill()
    assert stopped, "the orphaned child was still running after 10 s"


def test_only_a_database_another_process_reaches_runs_apart(tmp_path: Path) -> None:
    assert can_run_apart(connect(f"sqlite:///{tmp_path / 'file.db'}"))
    assert can_run_apart(connect("postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    assert not can_run_apart(connect("sqlite://"))
    assert not can_run_apart(connect("sqlite:///:memory:"))
