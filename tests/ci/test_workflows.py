"""The GitHub workflows: valid against GitHub's workflow schema (the copy check-jsonschema ships,
offline), and every ``truckflow`` command they run exists, with the options they pass."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import yaml
from typer.testing import CliRunner

from truckflow.cli.app import app

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
FILES = ["ci.yml", "release.yml"]


@pytest.mark.parametrize("name", FILES)
def test_workflow_matches_the_github_schema(name: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOWS / name),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _commands(name: str) -> list[list[str]]:
    """Each ``truckflow ...`` invocation of the workflow's ``run`` scripts, as arguments."""
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    found = []
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            for line in step.get("run", "").splitlines():
                # GitHub expressions become a plain word, pipes end the command.
                line = re.sub(r"\$\{\{[^}]*\}\}", "X", line).split("|")[0]
                words = shlex.split(line)
                if words and words[0] == "truckflow":
                    found.append(words[1:])
    return found


def _resolve(words: list[str]) -> tuple[list[str], Any]:
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    for word in words:
        found = None
        # Typer ships its own copy of click: a group is whatever has sub-commands.
        if hasattr(command, "get_command"):
            found = command.get_command(click.Context(command), word)
        if found is None:
            break
        command = found
        path.append(word)
    return path, command


@pytest.mark.parametrize("name", FILES)
def test_every_truckflow_command_exists(name: str) -> None:
    commands = _commands(name)
    assert len(commands) >= 5
    runner = CliRunner()
    for words in commands:
        path, command = _resolve(words)
        assert path and not hasattr(command, "get_command"), f"{name}: truckflow {words}"
        shown = runner.invoke(app, [*path, "--help"])
        assert shown.exit_code == 0, f"{name}: truckflow {' '.join(path)} --help failed"
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for word in words[len(path) :]:
            if word.startswith("-"):
                assert word.split("=")[0] in known, f"{name}: truckflow {' '.join(words)}: {word}"
