"""kill -9 at named points of the training pipeline (``truckflow.faults``), then ``pipeline
resume``: the same step outputs, tables and registered version as a clean run (SQLite home,
embedded MLflow store), on a small synthetic feature table."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stream_world import assert_same, dump

from synthetic_features import trainable_home
from truckflow.pipeline.history import get_execution
from truckflow.pipeline.tables import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.training.pipeline import training_pipeline
from truckflow.registry import CHECKSUM_TAG, ModelRegistry
from truckflow.settings import Settings
from truckflow.store import connect

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]

PARAMETERS = {"families": "logistic_regression", "n_trials": 2, "min_f1": 0.5}
# Differ between two runs of the same work: who ran it, and the MLflow model folder's own
# creation time and uuid (hence its checksum); the checksum's presence is checked apart.
RUN_TAGS = {"execution_id", CHECKSUM_TAG}
VARYING = {"run_id", "duration_s"}
_RUN_ID = re.compile(r'"run_id": "[0-9a-f]{32}"')


def _train(home: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``truckflow pipeline run training`` with ``PARAMETERS``, in a process of its own."""
    environ = {**os.environ, "TRUCKFLOW_HOME": str(home), **env}
    parameters = [a for k, v in PARAMETERS.items() for a in ("-p", f"{k}={v}")]
    command = [str(Path(sys.executable).parent / "truckflow"), "pipeline", "run", "training"]
    return subprocess.run(
        [*command, *parameters, "--json"],
        env=environ,
        capture_output=True,
        timeout=300,
        check=False,
    )


def _outcome(home: Path, execution_id: str) -> dict[str, Any]:
    """Everything a training run leaves: tables, step outputs, the registered versions."""
    db = connect(Settings(home=home))
    try:
        result = get_execution(db, execution_id)
        tables = dump(db)
        events = tables["notify_outbox (events told once)"]
        events["body"] = [_RUN_ID.sub('"run_id": "<run_id>"', b) for b in events["body"]]
    finally:
        db.dispose()
    registry = ModelRegistry.from_settings(Settings(home=home))
    versions = registry.list_versions()
    assert all(len(v.tags[CHECKSUM_TAG]) == 64 for v in versions)
    return {
        "status": result.status,
        "tables": tables,
        # Artifacts are content-addressed files under the home: the same but for the home.
        "outputs": _without_varying(
            json.loads(json.dumps(result.outputs).replace(str(home.resolve()), "HOME"))
        ),
        "versions": [
            (v.version, {k: t for k, t in v.tags.items() if k not in RUN_TAGS}) for v in versions
        ],
    }


def _without_varying(value: Any) -> Any:
    """MLflow run ids are random per run (a resumed execution logs its own) and a trial's duration
    is measured wall time: both compared as present, everything else as it is."""
    if isinstance(value, dict):
        return {
            k: (f"<{k}>" if k in VARYING and v is not None else _without_varying(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_varying(v) for v in value]
    return value


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the synthetic feature table, nothing trained."""
    return trainable_home(tmp_path_factory.mktemp("training-faults") / "template")


@pytest.fixture(scope="module")
def clean(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = shutil.copytree(template, tmp_path_factory.mktemp("training-clean") / "home")
    with Runtime.open(Settings(home=home)) as runtime:
        done = runtime.run(training_pipeline(), PARAMETERS)
    return _outcome(home, done.execution_id)


@pytest.mark.parametrize(
    "point",
    [
        "training.after_load",
        "training.after_candidates",
        "registration.version_created",  # in MLflow, no tag yet
        "training.after_register",  # registered and tagged, the step not recorded
    ],
)
def test_training_killed_at_a_point_then_resumed_equals_a_clean_run(
    template: Path, clean: dict[str, Any], tmp_path: Path, point: str
) -> None:
    home = shutil.copytree(template, tmp_path / "home")
    killed = _train(home, TRUCKFLOW_FAULT_POINT=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    db = connect(Settings(home=home))
    try:
        with db.engine.connect() as conn:
            (execution_id,) = conn.execute(
                sa.select(pipeline_executions.c.id).where(
                    pipeline_executions.c.status == "executing"
                )
            ).scalars()
    finally:
        db.dispose()
    # Resumed in this process: what ``truckflow pipeline resume`` does, without its start-up.
    with Runtime.open(Settings(home=home)) as runtime:
        resumed = runtime.resume(execution_id)
    after = _outcome(home, resumed.execution_id)
    assert after["status"] == clean["status"] == "succeeded"
    assert after["versions"] == clean["versions"]  # one version, every tag
    assert after["outputs"] == clean["outputs"]
    assert_same(clean["tables"], after["tables"])
