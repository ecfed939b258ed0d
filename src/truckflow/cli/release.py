"""``truckflow release`` and ``truckflow deployments``: the release flow and its history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.pipelines.release.pipeline import ReleaseResult
    from truckflow.registry.deployments import Deployment

__all__ = ["deployments", "release"]

# A release that ends waiting for approval did what was asked: only these fail the command.
_FAILING = {"failed", "rejected", "rolled_back"}


@dataclass(frozen=True)
class DeploymentList:
    """``deployments``: the history, newest first."""

    deployments: list[Deployment]

    def to_dict(self) -> dict[str, Any]:
        return {"deployments": [d.to_dict() for d in self.deployments]}


def release(
    version: str | None = typer.Argument(None, help="Version to release (default: the newest)."),
    auto_approve: bool = typer.Option(
        False, "--auto-approve", help="Continuous deployment: acceptance passing is the approval."
    ),
    health_check: str | None = typer.Option(
        None, "--health-check", help="Extra post-deployment check, 'module:function'."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Release a version: staging, acceptance, approval, production, health check.

    Without --auto-approve it stops at pending_approval; approve with
    [bold]truckflow model approve VERSION --comment ...[/] and run it again.
    Exits 1 when the release failed, was rejected or was rolled back.

    Example: [bold]truckflow release 3 --auto-approve --json[/]
    """
    from truckflow.pipelines.release.pipeline import release_model
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = release_model(
            runtime, version, auto_approve=auto_approve, health_check=health_check
        )

    def render(r: ReleaseResult) -> None:
        colour = "red" if r.status in _FAILING else "green"
        console.print(f"version [bold]{r.version}[/]: [bold {colour}]{r.status}[/]")
        for check in r.acceptance:  # the acceptance step's own output, as it stored it
            mark = "[green]ok[/]" if check["passed"] else "[red]FAILED[/]"
            console.print(f"  {check['name']}: {mark} {check['message']}", highlight=False)
        for reason in r.reasons:
            console.print(f"  {reason}", highlight=False)
        if r.report_html:
            console.print(f"  report: {r.report_html}")

    emit(result, as_json, render)
    if result.status in _FAILING:
        raise typer.Exit(code=1)


def deployments(
    stage: str | None = typer.Option(
        None, "--stage", help="Only this stage (staging, production)."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="Most rows to show."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the deployment history: which version served which stage, when, approved by whom.

    Example: [bold]truckflow deployments --stage production --json[/]
    """
    from truckflow.pipelines.release.ops import deployment_history
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = DeploymentList(deployment_history(runtime, stage=stage, limit=limit))

    def render(r: DeploymentList) -> None:
        table = Table(title="deployments")
        for column in ("stage", "version", "action", "from", "to", "outcome", "by", "reason"):
            table.add_column(column)
        for d in r.deployments:
            table.add_row(
                d.stage,
                d.version,
                d.action,
                d.started_at.isoformat(sep=" ")[:16],
                "" if d.ended_at is None else d.ended_at.isoformat(sep=" ")[:16],
                d.outcome,
                d.approved_by or "",
                d.reason or "",
            )
        console.print(table)

    emit(result, as_json, render)
