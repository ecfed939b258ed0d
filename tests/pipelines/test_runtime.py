"""The Runtime as the steps' run context: registering the pipelines imports no flow, building
one imports that flow only, and a Dask worker gets the run context back from its settings."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

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
