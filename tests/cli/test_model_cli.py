from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.registry import ModelRegistry


def test_model_list_show_approve_reject(tmp_path: Path) -> None:
    home = tmp_path / "home"
    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = LogisticRegression().fit(x, (x[:, 0] > 9).astype(int))
    ModelRegistry.local(home).register(
        model, metrics={"test_f1": 0.7}, data_window="a..b", pip_requirements=["numpy"]
    )
    runner = CliRunner()

    def run(*args: str) -> tuple[int, dict[str, object]]:
        result = runner.invoke(app, ["--home", str(home), "model", *args, "--json"])
        return result.exit_code, json.loads(result.stdout)

    code, listed = run("list")
    assert code == 0 and [v["version"] for v in listed["versions"]] == ["1"]  # type: ignore[index]
    code, shown = run("show", "1")
    assert code == 0 and shown["approval_status"] == "PendingManualApproval"
    assert shown["metrics"] == {"test_f1": 0.7}
    code, approved = run("approve", "1", "--comment", "fine")
    assert code == 0 and approved["approval_status"] == "Approved"
    code, again = run("approve", "1")
    assert code == 1 and "cannot become Approved" in again["error"]["message"]  # type: ignore[index]
    code, rejected = run("reject", "1", "--comment", "drift")
    assert code == 0 and rejected["approval_status"] == "Rejected"
    code, missing = run("show", "9")
    assert code == 1 and "has no version 9" in missing["error"]["message"]  # type: ignore[index]
    human = runner.invoke(app, ["--home", str(home), "model", "list"])
    assert human.exit_code == 0 and "Rejected" in human.stdout
