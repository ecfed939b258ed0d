"""The workflows' jobs run as GitHub runs them, in a fresh checkout with nothing beside it.

A checkout here is the files git would check out (tracked, plus new files not ignored), copied
into an empty folder. Each job's ``run`` steps are executed in order in that folder with the
workflow's and the job's environment; ``truckflow`` commands run in this process (the CLI's
start-up would cost seconds per command), every other line in bash. Between the release
workflow's jobs only the uploaded artifact travels: the first checkout is deleted and a new one
made at the same path (GitHub runs both jobs in the same workspace path), into which the
artifact is downloaded.

Cheaper than on GitHub, and why: the world is generated at scale 0.01 instead of 0.05 and the
tuner runs 1 trial instead of 5 (the same commands, fewer rows and trials); the ``Install``
steps are skipped (this environment is the pinned one). Of the ``ci`` workflow's ``checks``
job, ruff runs in the checkout (mypy and import-linter take minutes on a cold cache; ``make
check`` runs them); of its ``tests`` job, the tests that read the course sample run in the
checkout, not the whole suite inside itself.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.demo.stages import RESET_PATHS, _forget_mlflow_stores, reset_home
from truckflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SAMPLED = ["tests/features/test_course_sample.py", "tests/data/test_ingest_course.py"]
CHEAPER = {"--scale 0.05": "--scale 0.01", "n_trials=5": "n_trials=1"}

pytestmark = pytest.mark.slow


def checkout(target: Path) -> Path:
    """The files a clone of this repository's working state holds, copied into ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:  # pragma: no cover - an sdist or a copy without .git
        pytest.skip("not a git checkout")
    target.mkdir(parents=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not there
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


class Job:
    """One job of a workflow, run step by step in ``workspace``."""

    def __init__(self, workflow: dict[str, Any], name: str, workspace: Path, store: Path) -> None:
        self.spec = workflow["jobs"][name]
        self.workspace, self.store = workspace, store
        self.context = {"github.workspace": str(workspace), "github.actor": "tester"}
        self.context["github.run_id"] = "1"
        self.env = {
            k: self._expand(str(v))
            for k, v in {**workflow.get("env", {}), **self.spec.get("env", {})}.items()
        }
        self.outputs: dict[str, str] = {}
        self.printed: list[str] = []

    def _expand(self, text: str) -> str:
        return re.sub(r"\$\{\{\s*([^}]*?)\s*\}\}", lambda m: self.context[m.group(1)], text)

    def run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(self.workspace)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        _forget_mlflow_stores()  # a new runner: no store cached from another job
        for step in self.spec["steps"]:
            uses = step.get("uses", "")
            if uses.startswith("actions/upload-artifact"):
                shutil.copytree(self.workspace / step["with"]["path"], self.store)
            elif uses.startswith("actions/download-artifact"):
                shutil.copytree(self.store, self.workspace / step["with"]["path"])
            elif "run" in step and not step["name"].startswith("Install"):
                self._script(step)

    def _script(self, step: dict[str, Any]) -> None:
        output = self.workspace.parent / f"github-output-{step.get('id', 'step')}"
        output.write_text("")
        for line in self._expand(step["run"]).splitlines():
            for slow, cheap in CHEAPER.items():
                line = line.replace(slow, cheap)
            if line.startswith("truckflow "):
                self._truckflow(line)
            elif line.strip():
                self._shell(line, output)
        if "id" in step:
            found = dict(row.split("=", 1) for row in output.read_text().splitlines())
            self.context.update({f"steps.{step['id']}.outputs.{k}": v for k, v in found.items()})

    def _truckflow(self, line: str) -> None:
        command, _, tee = line.partition("|")
        result = CliRunner().invoke(app, shlex.split(command)[1:])
        assert result.exit_code == 0, f"{line}\n{result.output}"
        self.printed.append(result.stdout)
        if tee.strip():
            (self.workspace / shlex.split(tee)[1]).write_text(result.stdout)

    def _shell(self, line: str, output: Path) -> None:
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        env = {**os.environ, "GITHUB_OUTPUT": str(output), "PATH": path}
        done = subprocess.run(["bash", "-c", line], cwd=self.workspace, env=env, check=False)
        assert done.returncode == 0, line


def _workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _no_stray_files(workspace: Path, made: set[str]) -> None:
    """Nothing but what the job's commands name is left beside the checkout's own files."""
    assert not (workspace / "mlruns").exists()
    fresh = {p.name for p in checkout(workspace.parent / "pristine").iterdir()}
    assert {p.name for p in workspace.iterdir()} - fresh == made
    shutil.rmtree(workspace.parent / "pristine")


def test_release_workflow_in_fresh_checkouts(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow, base = _workflow("release.yml"), Path(str(tmp_path))
    workspace, store = base / "runner" / "repo", base / "artifact"
    staging = Job(workflow, "staging", checkout(workspace), store)
    staging.run(monkeypatch)
    assert staging.context["steps.release.outputs.version"] == "1"
    _no_stray_files(workspace, {".truckflow", "world", "release.json"})
    assert any((store / "mlartifacts").rglob("MLmodel")), "the model files travel in the home"

    shutil.rmtree(workspace)  # the next job runs on another runner: only the artifact travels
    production = Job(workflow, "production", checkout(workspace), store)
    production.context["needs.staging.outputs.version"] = "1"
    production.run(monkeypatch)
    approved, released, deployments = (json.loads(p) for p in production.printed)
    assert approved["version"] == "1" and released["status"] == "promoted", released
    assert [d["stage"] for d in deployments["deployments"]][:1] == ["production"]
    _no_stray_files(workspace, {".truckflow"})

    home = workspace / ".truckflow"
    assert {p.name for p in home.iterdir()} <= set(RESET_PATHS)  # --reset removes all there is
    reset_home(Settings(home=home))
    assert list(home.iterdir()) == []


def test_ci_training_smoke_job_in_a_fresh_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = checkout(tmp_path / "runner" / "repo")
    job = Job(_workflow("ci.yml"), "training-smoke", workspace, tmp_path / "artifact")
    job.run(monkeypatch)
    assert json.loads(job.printed[-1])["versions"][0]["version"] == "1"
    _no_stray_files(workspace, {".truckflow", "world"})


def test_ci_checks_and_tests_jobs_in_a_fresh_checkout(tmp_path: Path) -> None:
    workspace = checkout(tmp_path / "runner" / "repo")
    tools = Path(sys.executable).parent
    env = {**os.environ, "PYTHONPATH": str(workspace / "src")}  # the checkout's own code
    for command in (
        [str(tools / "ruff"), "check", "."],
        [str(tools / "ruff"), "format", "--check", "."],
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "sqlite", *SAMPLED],
    ):
        done = subprocess.run(
            command, cwd=workspace, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert " passed" in done.stdout
