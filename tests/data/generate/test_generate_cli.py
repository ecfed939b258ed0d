"""``truckflow data generate``: files, one JSON document, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.data.generate import FILES


def test_generate_writes_files_and_reports_json(tmp_path: Path) -> None:
    out = tmp_path / "world"
    result = CliRunner().invoke(
        app,
        [
            "data",
            "generate",
            "--out",
            str(out),
            "--seed",
            "3",
            "--scale",
            "0.05",
            "--scenario",
            "covariate_shift",
            "--shift-week",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["seed"] == 3 and doc["scenario"]["covariate_week"] == 1
    assert set(doc["rows"]) == set(FILES)
    assert all((out / name).is_file() for name in FILES)


def test_generate_renders_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["data", "generate", "--out", str(tmp_path), "--scale", "0.05"]
    )
    assert result.exit_code == 0, result.output
    assert "traffic_table.csv" in result.stdout and "delay rate" in result.stdout


def test_unknown_scenario_is_one_json_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["data", "generate", "--out", str(tmp_path), "--scenario", "storms", "--json"]
    )
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "GenerateError" and "storms" in error["message"]


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["data", "generate", "--help"])
    assert result.exit_code == 0 and "Example:" in result.stdout
