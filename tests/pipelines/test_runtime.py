"""The Runtime as the steps' run context: registering the pipelines imports no flow, building
one imports that flow only, and a Dask worker gets the run context back from its settings."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from truckflow.pipeline import DaskRunner, LocalRunner
from truckflow.pipelines.runtime import Runtime
from truckflow.settings import Settings
from truckflow.store import Database

_PROBE = """
import json, sys
from truckflow.pipelines import register_pipelines
from truckflow.pipeline import get_pipeline, pipeline_names
register_pipelines()
names = pipeline_names()
def flows():
    return sorted(m for m in sys.modules if m.startswith("truckflow.pipelines.") and m.count(".") == 3)
before = flows()
get_pipeline("daily")
print(json.dumps({"names": names, "before": before, "after": flows()}))
"""


def test_registering_imports_no_flow_and_building_one_imports_only_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"daily", "drift", "release", "training"} <= set(found["names"])
    assert found["before"] == []
    flows = {m.split(".")[2] for m in found["after"]}
    assert flows <= {"streaming", "shared"} and "streaming" in flows


def test_a_pickled_runtime_reopens_once_per_process_on_the_same_database(
    settings: Settings, db: Database
) -> None:
    runtime = Runtime.on(settings, db)
    first = pickle.loads(pickle.dumps(runtime))
    again = pickle.loads(pickle.dumps(runtime))
    assert first is again and first is not runtime
    assert first.settings == settings
    assert first.db.engine.url == db.engine.url
    first.close()  # the worker's connection pool, on the test's database


def test_the_runner_setting_chooses_the_runner_a_run_gets_unless_one_is_named(
    settings: Settings, db: Database
) -> None:
    """``TRUCKFLOW_PIPELINE__RUNNER=dask`` puts every pipeline a command runs (stream replay,
    demo, pipeline run without --runner) on the cluster; a named runner still wins."""
    on_dask = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(update={"runner": "dask"})}
    )
    with Runtime.on(settings, db).runner() as default:
        assert isinstance(default, LocalRunner)
    runtime = Runtime.on(on_dask, db)
    with runtime.runner() as chosen, runtime.runner("local") as named:
        assert isinstance(chosen, DaskRunner) and isinstance(named, LocalRunner)
        assert chosen.address == on_dask.pipeline.dask_scheduler  # no cluster started yet


def test_the_runner_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCKFLOW_PIPELINE__RUNNER", "dask")
    assert Settings().pipeline.runner == "dask"
    monkeypatch.setenv("TRUCKFLOW_PIPELINE__RUNNER", "ray")
    with pytest.raises(ValueError, match="runner"):
        Settings()
