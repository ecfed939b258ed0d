"""``truckflow pipeline ...`` end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from truckflow.cli.app import app

cli = CliRunner()


def _run(home: Path, *args: str, code: int = 0) -> Any:
    result = cli.invoke(app, ["--home", str(home), "pipeline", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_list_show_and_mermaid(tmp_path: Path) -> None:
    listed = _run(tmp_path, "list", "--json")
    example = next(p for p in listed if p["name"] == "example")
    assert example["steps"] == 6 and "size" in example["parameters"]
    shown = _run(tmp_path, "show", "example", "--json")
    assert shown["hash"] == example["hash"]
    assert {s["name"] for s in shown["definition"]["steps"]} >= {"generate", "check", "too_small"}
    assert _run(tmp_path, "show", "example", "--mermaid").startswith("flowchart TD")
    assert "step check (condition)" in _run(tmp_path, "show", "example")


def test_run_executions_describe_and_resume(tmp_path: Path) -> None:
    ok = _run(tmp_path, "run", "example", "-p", "size=11", "-p", "label=cli", "--json")
    assert ok["status"] == "succeeded"
    steps = {s["name"]: s for s in ok["steps"]}
    assert steps["report"]["outputs"] == {"text": steps["report"]["outputs"]["text"]}
    assert steps["report"]["outputs"]["text"].startswith("cli: 11 values")

    failed = _run(tmp_path, "run", "example", "-p", "size=2", "--json", code=1)
    assert failed["status"] == "failed" and failed["error"] == "only 2 values, 5 needed"

    listed = _run(tmp_path, "executions", "example", "--json")
    assert [e["execution_id"] for e in listed] == [failed["execution_id"], ok["execution_id"]]

    described = _run(tmp_path, "describe", failed["execution_id"], "--json")
    by_name = {s["name"]: s for s in described["steps"]}
    assert by_name["too_small"]["status"] == "failed"
    assert by_name["generate"]["cache_reason"] == "changed input size"
    assert by_name["generate"]["duration_s"] is not None
    assert "too_small" in _run(tmp_path, "describe", failed["execution_id"])

    resumed = _run(tmp_path, "resume", failed["execution_id"], "--json", code=1)  # fails again
    assert resumed["source_execution_id"] == failed["execution_id"]
    assert {s["name"]: s["reused_from"] for s in resumed["steps"]}["generate"] == failed[
        "execution_id"
    ]

    assert _run(tmp_path, "stop", ok["execution_id"], "--json")["stop_requested"] is False

    only = _run(
        tmp_path,
        "run",
        "example",
        "--steps",
        "report",
        "--reuse-from",
        ok["execution_id"],
        "--json",
    )
    assert only["status"] == "succeeded"


def test_errors_are_clear(tmp_path: Path) -> None:
    bad = _run(tmp_path, "run", "example", "-p", "size=many", "--json", code=1)
    assert bad["error"]["type"] == "ParameterError"
    assert "cannot read 'many' as int" in bad["error"]["message"]
    missing = _run(tmp_path, "show", "nope", "--json", code=1)
    assert "no pipeline named 'nope'" in missing["error"]["message"]
    unknown = _run(tmp_path, "describe", "0000", "--json", code=1)
    assert unknown["error"]["type"] == "ExecutionNotFoundError"
    assert (
        "is not key=value"
        in _run(tmp_path, "run", "example", "-p", "size", "--json", code=1)["error"]["message"]
    )
