"""``truckflow serve`` starts uvicorn workers from the import string, with settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import FEATURES, Registry, free_port


@pytest.mark.slow
def test_serve_runs_workers_on_the_stage_alias(tmp_path: Path, registry: Registry) -> None:
    registry.set_alias("production", registry.versions[1])
    port = free_port()
    env = os.environ | {
        "TRUCKFLOW_HOME": str(tmp_path / "home"),
        "TRUCKFLOW_MLFLOW__TRACKING_URI": registry.store.uri,
        "TRUCKFLOW_MLFLOW__MODEL_NAME": registry.name,
    }
    main = "from truckflow.cli.app import main; main()"
    command = [sys.executable, "-c", main, "serve", "--stage", "production"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health is not None, "the server did not answer"
        assert health.json() == {
            "status": "ok",
            "stage": "production",
            "model_version": registry.versions[1],
        }
        vector = {name: 0.5 for name in FEATURES}
        reply = httpx.post(f"http://127.0.0.1:{port}/predict/features", json=vector, timeout=30)
        assert reply.json()["model_version"] == registry.versions[1]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert "Started parent process" in output, output
    assert output.count("Application startup complete") == 2, output
