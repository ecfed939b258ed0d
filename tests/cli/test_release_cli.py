"""``truckflow release``, ``model approve/rollback`` and ``deployments`` end to end, on SQLite."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))
from release_helpers import register_tiny, seed_mlflow

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    seed_mlflow(Settings(home=folder))
    return folder


def _run(home: Path, *args: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["--home", str(home), *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_release_approve_rollback_and_history(home: Path) -> None:
    settings = Settings(home=home)
    first = register_tiny(settings)
    code, pending = _run(home, "release")
    assert code == 0 and pending["status"] == "pending_approval", pending
    assert pending["version"] == first and Path(pending["report"]).is_file()
    # The execution says what the release said: waiting for approval, not "succeeded".
    code, listed = _run(home, "pipeline", "executions", "release")
    assert code == 0 and listed[0]["execution_id"] == pending["execution_id"]
    assert (listed[0]["status"], listed[0]["outcome"]) == ("succeeded", "pending_approval")
    assert listed[0]["shown_status"] == "pending_approval"
    code, described = _run(home, "pipeline", "describe", pending["execution_id"])
    assert code == 0 and described["outcome"] == "pending_approval"
    assert described["outcome_summary"] == f"version {first} waits for approval"
    table = runner.invoke(
        app, ["--home", str(home), "pipeline", "describe", pending["execution_id"]]
    )
    assert f"release: pending_approval\n  version {first} waits for approval" in table.stdout

    code, approved = _run(home, "model", "approve", first, "--comment", "fine on my trips")
    assert code == 0 and approved["tags"]["approval_by"]
    code, promoted = _run(home, "release", first)
    assert code == 0 and promoted["status"] == "promoted", promoted

    second = register_tiny(settings, seed=1)
    code, auto = _run(home, "release", second, "--auto-approve")
    assert code == 0 and auto["status"] == "promoted", auto

    code, back = _run(home, "model", "rollback", "--reason", "testers saw wrong answers")
    assert code == 0, back
    assert back["deployment"]["version"] == first
    assert back["deployment"]["previous_version"] == second
    code, again = _run(home, "model", "rollback", "--to", first)
    assert code == 1 and "already serves version" in again["error"]["message"]

    code, history = _run(home, "deployments", "--stage", "production")
    assert code == 0
    rows = [(d["version"], d["action"], d["outcome"]) for d in history["deployments"]]
    assert rows == [
        (first, "rollback", "active"),
        (second, "promote", "rolled_back"),
        (first, "promote", "replaced"),
    ]
    assert history["deployments"][0]["reason"] == "testers saw wrong answers"
    code, everything = _run(home, "deployments")
    assert {d["stage"] for d in everything["deployments"]} == {"staging", "production"}


def test_failed_release_exits_non_zero(home: Path) -> None:
    version = register_tiny(Settings(home=home))
    code, result = _run(
        home, "release", version, "--auto-approve", "--health-check", "release_helpers:always_fails"
    )
    assert code == 1 and result["status"] == "rolled_back"
    code, listed = _run(home, "pipeline", "executions", "release")
    assert listed[0]["outcome"] == "rolled_back"
    code, rejected = _run(home, "model", "reject", version, "--comment", "no")
    assert code == 0 and rejected["approval_status"] == "Rejected"
    code, result = _run(home, "release", version)
    assert code == 1 and result["status"] == "rejected"
    code, listed = _run(home, "pipeline", "executions", "release")
    assert [e["shown_status"] for e in listed] == ["rejected", "rolled_back"]
