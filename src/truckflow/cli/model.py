"""``truckflow model``: the registered model versions and their manual approval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors
from truckflow.registry import Stage

if TYPE_CHECKING:
    from truckflow.registry import ModelRegistry, ModelVersion
    from truckflow.registry.deployments import Deployment

__all__ = ["app"]

app = typer.Typer(help="Registered models: list versions, show one, approve or reject it.")

VERSION_ARG = typer.Argument(..., help="Model version number.")


def _registry() -> ModelRegistry:
    from truckflow.registry import ModelRegistry

    return ModelRegistry.from_settings(state.settings())


@dataclass(frozen=True)
class VersionList:
    """``model list``: the model's name and its versions, newest first."""

    model: str
    versions: list[ModelVersion]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "versions": [v.to_dict() for v in self.versions]}


@dataclass(frozen=True)
class Rollback:
    """``model rollback``: the stage and the deployment that moved it (None: emptied)."""

    stage: str
    deployment: Deployment | None

    def to_dict(self) -> dict[str, Any]:
        done = self.deployment
        return {"stage": self.stage, "deployment": None if done is None else done.to_dict()}


def _render_version(doc: ModelVersion) -> None:
    console.print(
        f"[bold]{doc.name}[/] version [bold]{doc.version}[/]: {doc.approval_status}"
        + (f"  aliases: {', '.join(doc.aliases)}" if doc.aliases else "")
    )
    for key, value in sorted(doc.metrics.items()):
        console.print(f"  {key} = {value:.4f}")
    for tag, text in sorted(doc.tags.items()):
        if not tag.startswith("metric."):
            console.print(f"  [dim]{tag}[/] {text}")


@app.command("list")
def list_versions(as_json: bool = JSON_OPTION) -> None:
    """List the registered versions, newest first, with approval status and test F1.

    Example: [bold]truckflow model list --json[/]
    """
    with fail_on_errors(as_json):
        registry = _registry()
        result = VersionList(registry.model_name, registry.list_versions())

    def render(r: VersionList) -> None:
        table = Table(title=f"model {r.model}")
        for column in ("version", "status", "aliases", "test F1", "created", "data window"):
            table.add_column(column)
        for v in r.versions:
            f1 = v.metrics.get("test_f1")
            table.add_row(
                v.version,
                v.approval_status,
                ", ".join(v.aliases),
                "" if f1 is None else f"{f1:.3f}",
                v.created_at.isoformat(sep=" ")[:16],
                v.metadata.data_window.replace("..", " to "),
            )
        console.print(table)

    emit(result, as_json, render)


@app.command()
def show(version: str = VERSION_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show one version: approval status, aliases, metrics and tags.

    Example: [bold]truckflow model show 3[/]
    """
    with fail_on_errors(as_json):
        result = _registry().get(version)
    emit(result, as_json, _render_version)


@app.command()
def approve(
    version: str = VERSION_ARG,
    comment: str | None = typer.Option(None, "--comment", help="Why it is approved."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve a version pending manual approval (then rerun [bold]truckflow release VERSION[/]).

    Example: [bold]truckflow model approve 3 --comment "checked the late-trip recall"[/]
    """
    from truckflow.pipelines.release.ops import approve_model
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = approve_model(runtime, version, comment=comment)
    emit(result, as_json, _render_version)


@app.command()
def reject(
    version: str = VERSION_ARG,
    comment: str = typer.Option(..., "--comment", help="Why it is rejected (required)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reject a pending or approved version, saying why.

    Example: [bold]truckflow model reject 3 --comment "recall on long trips too low"[/]
    """
    from truckflow.pipelines.release.ops import reject_model
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = reject_model(runtime, version, comment=comment)
    emit(result, as_json, _render_version)


@app.command()
def rollback(
    to: str | None = typer.Option(
        None, "--to", help="Version to go back to (default: the one production served before)."
    ),
    reason: str = typer.Option("manual rollback", "--reason", help="Why, for the history."),
    stage: str = typer.Option(Stage.PRODUCTION.value, "--stage", help="Stage alias to roll back."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Roll a stage back to an earlier version by hand, recorded in the deployment history.

    Example: [bold]truckflow model rollback --to 2 --reason "complaints about version 3"[/]
    """
    from truckflow.pipelines.release.ops import rollback_model
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        done = rollback_model(runtime, to=to, reason=reason, stage=stage)
        result = Rollback(stage, done)

    def render(r: Rollback) -> None:
        d = r.deployment
        if d is None:
            console.print(f"{r.stage} emptied: no earlier version to go back to")
        else:
            console.print(
                f"{r.stage} back on version [bold]{d.version}[/] "
                f"(was {d.previous_version}): {d.reason}"
            )

    emit(result, as_json, render)
