"""``truckflow pipeline``: list, show, run, inspect and resume pipeline executions."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.pipeline import ExecutionResult

__all__ = ["app"]

app = typer.Typer(help="Pipelines: definitions, runs, executions, resume.", no_args_is_help=True)


@dataclass(frozen=True)
class PipelineInfo:
    """One line of ``pipeline list``."""

    name: str
    description: str
    steps: int
    parameters: list[str]
    hash: str


@dataclass(frozen=True)
class StopRequest:
    """``pipeline stop``: whether a running execution was asked to stop."""

    execution_id: str
    stop_requested: bool


def _load() -> None:
    """Register truckflow's pipelines (each flow is imported only when its pipeline is built),
    then import the settings' extra modules, which register theirs."""
    from truckflow.pipeline.registry import load_pipeline_modules
    from truckflow.pipelines import register_pipelines

    register_pipelines()
    load_pipeline_modules(state.settings().pipeline.modules)


def _parse_parameters(pairs: list[str]) -> dict[str, str]:
    from truckflow.pipeline import PipelineError

    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PipelineError(f"parameter {pair!r} is not key=value")
        out[key.strip()] = value
    return out


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the registered pipelines.

    Example: [bold]truckflow pipeline list --json[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipeline import get_pipeline, pipeline_names

        _load()
        result = []
        for name in pipeline_names():
            p = get_pipeline(name)
            parameters = [x.name for x in p.parameters.values()]
            result.append(PipelineInfo(name, p.description, len(p.steps), parameters, p.hash))

    def render(rows: list[PipelineInfo]) -> None:
        table = Table("pipeline", "steps", "parameters", "description")
        for r in rows:
            table.add_row(r.name, str(r.steps), ", ".join(r.parameters), r.description)
        console.print(table)

    emit(result, as_json, render)


@app.command()
def show(
    name: str,
    as_json: bool = JSON_OPTION,
    mermaid: bool = typer.Option(False, "--mermaid", help="Print the graph as Mermaid."),
) -> None:
    """Show a pipeline's definition (stable JSON with its hash, or a Mermaid graph).

    Example: [bold]truckflow pipeline show example --mermaid[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipeline import get_pipeline

        _load()
        p = get_pipeline(name)
    if mermaid:
        sys.stdout.write(p.mermaid())
        return
    if as_json:
        sys.stdout.write(
            json.dumps({"hash": p.hash, "definition": p.to_json()}, indent=2, sort_keys=True) + "\n"
        )
        return
    console.print(f"[bold]{p.name}[/] {p.hash[:12]}  {p.description}")
    for param in p.parameters.values():
        default = "required" if param.required else f"default {param.default!r}"
        console.print(f"  parameter [bold]{param.name}[/]: {param.type}, {default}")
    for step_name in p.order:
        deps = ", ".join(sorted(p.dependencies[step_name])) or "-"
        console.print(f"  step [bold]{step_name}[/] ({p.steps[step_name].kind}) after {deps}")


# Outcomes a pipeline gives its run (a release's) are coloured like the statuses they resemble.
_COLOURS = {
    "succeeded": "green",
    "promoted": "green",
    "failed": "red",
    "rejected": "red",
    "rolled_back": "red",
}


def _render_execution(r: ExecutionResult) -> None:
    shown = r.shown_status
    colour = _COLOURS.get(shown, "yellow")
    console.print(
        f"execution [bold]{r.execution_id}[/] of [bold]{r.pipeline}[/]: [{colour}]{shown}[/]"
    )
    if r.outcome_summary:
        console.print(f"  {r.outcome_summary}", markup=False, highlight=False)
    if r.error:
        console.print(f"  error: {r.error}", markup=False)
    table = Table("step", "status", "duration s", "attempts", "cache", "error")
    for s in r.steps.values():
        duration = "" if s.duration_s is None else f"{s.duration_s:.3f}"
        cache = "hit" if s.cache_hit else (s.cache_reason or "")
        table.add_row(s.name, s.status, duration, str(s.attempts), cache, (s.error or "")[:80])
    console.print(table)


def _finish(result: ExecutionResult, as_json: bool) -> None:
    emit(result, as_json, _render_execution)
    if not result.ok:
        raise typer.Exit(code=1)


@app.command()
def run(
    name: str,
    parameter: list[str] = typer.Option([], "-p", "--parameter", help="key=value; repeatable."),
    runner: str | None = typer.Option(
        None, "--runner", help="local or dask; default the pipeline.runner setting (local)."
    ),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    steps: str | None = typer.Option(
        None, "--steps", help="Run only these steps (comma-separated)."
    ),
    reuse_from: str | None = typer.Option(
        None, "--reuse-from", help="Execution whose outputs the other steps reuse."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a registered pipeline; exits 1 when the execution fails.

    Example: [bold]truckflow pipeline run example -p size=50 --runner dask[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipelines.runtime import Runtime

        _load()
        with Runtime.open(state.settings()) as runtime:
            result = runtime.run(
                name,
                _parse_parameters(parameter),
                runner=runner,
                scheduler=scheduler,
                steps=steps.split(",") if steps else None,
                reuse_from=reuse_from,
            )
    _finish(result, as_json)


@app.command()
def executions(
    name: str | None = typer.Argument(None, help="Only this pipeline's executions."),
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List recent executions, newest first (marks dead ones interrupted first).

    Example: [bold]truckflow pipeline executions example --json[/]
    """
    with fail_on_errors(as_json):
        from truckflow.notify import Notifications
        from truckflow.pipeline import list_executions, mark_interrupted
        from truckflow.store import connect
        from truckflow.store.migrate import upgrade

        settings = state.settings()
        db = connect(settings)
        upgrade(db)
        # Through the outbox, so that the interrupted event is delivered (once: the mark is a
        # conditional update; only the process that makes it writes the event).
        notifications = Notifications.open(settings, db)
        if mark_interrupted(db, sink=notifications.sink):
            notifications.dispatch()
        rows = list_executions(db, name, limit)

    def render(items: list[ExecutionResult]) -> None:
        table = Table("execution", "pipeline", "status", "started", "runner", "error")
        for r in items:
            table.add_row(
                r.execution_id,
                r.pipeline,
                r.shown_status,
                str(r.started_at)[:19],
                r.runner,
                (r.error or "")[:60],
            )
        console.print(table)

    emit(rows, as_json, render)


@app.command()
def describe(execution_id: str, as_json: bool = JSON_OPTION) -> None:
    """Show an execution: each step's status, duration, cache hit or miss reason, attempts, error.

    EXECUTION_ID may be any prefix of the id that names one execution.

    Example: [bold]truckflow pipeline describe 3f2a --json[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipeline import get_execution
        from truckflow.store import connect
        from truckflow.store.migrate import upgrade

        db = connect(state.settings())
        upgrade(db)
        result = get_execution(db, execution_id)
    emit(result, as_json, _render_execution)


@app.command()
def resume(
    execution_id: str,
    runner: str | None = typer.Option(
        None, "--runner", help="local or dask; default the pipeline.runner setting (local)."
    ),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resume a failed, stopped or interrupted execution: rerun what did not succeed.

    Example: [bold]truckflow pipeline resume 3f2a...-...[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipelines.runtime import Runtime

        _load()
        with Runtime.open(state.settings()) as runtime:
            result = runtime.resume(execution_id, runner=runner, scheduler=scheduler)
    _finish(result, as_json)


@app.command()
def stop(execution_id: str, as_json: bool = JSON_OPTION) -> None:
    """Ask a running execution to stop; its process stops it within a heartbeat.

    Example: [bold]truckflow pipeline stop 3f2a...-...[/]
    """
    with fail_on_errors(as_json):
        from truckflow.pipeline import request_stop
        from truckflow.store import connect
        from truckflow.store.migrate import upgrade

        db = connect(state.settings())
        upgrade(db)
        result = StopRequest(execution_id, request_stop(db, execution_id))

    def render(r: StopRequest) -> None:
        said = "stop requested" if r.stop_requested else "not running; nothing to stop"
        console.print(f"execution {r.execution_id}: {said}")

    emit(result, as_json, render)
