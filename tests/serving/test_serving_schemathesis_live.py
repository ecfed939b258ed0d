"""schemathesis, as its command line runs it (``--checks all``), against a real server that
serves the model the training pipeline registered: no server error, every response as the
OpenAPI document says (status codes, bodies, content types)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from conftest import ADMIN_TOKEN
from truckflow.serving import DatabaseFeatureSource, MlflowModelSource, create_app
from truckflow.serving.background import BackgroundServer
from truckflow.settings import Settings

# Per operation and phase: a smoke run here; the long run of benchmarks/README.md sets more.
EXAMPLES = int(os.environ.get("TRUCKFLOW_SCHEMATHESIS_EXAMPLES", "8"))


def test_schemathesis_checks_all_on_a_live_server(
    pipeline_model: dict[str, Any], tmp_path: Path
) -> None:
    settings: Settings = pipeline_model["settings"].updated(
        serving={"admin_token": SecretStr(ADMIN_TOKEN)}
    )
    app = create_app(
        settings,
        model_source=MlflowModelSource(settings.tracking_uri, settings.mlflow.model_name),
        feature_source=DatabaseFeatureSource(pipeline_model["db"]),
        db=pipeline_model["db"],
        stage="production",
        watch=False,
    )
    cli = Path(sys.executable).with_name("schemathesis")
    with BackgroundServer(app) as server:
        done = subprocess.run(
            [
                str(cli),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "14",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # its reports and caches stay in the test's folder
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    print(output[output.find("SUMMARY") :])  # the long run's figures, with pytest -s
