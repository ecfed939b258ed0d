"""``truckflow demo``: the whole loop from an empty home, rendered with Rich."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, err_console, fail_on_errors

if TYPE_CHECKING:
    from truckflow.demo import DemoSummary

__all__ = ["demo"]

_STYLE = {"done": "green", "existing": "cyan", "unavailable": "yellow", "failed": "red"}


def _some(names: list[str], shown: int = 4) -> str:
    """A few names and how many more: the HTML report lists them all."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" (+{more} more)" if more > 0 else "")


def demo(
    scale: float = typer.Option(
        1.0, "--scale", help="Size of the generated world (1 = the course's)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed of the generated world."),
    scenario: str = typer.Option(
        "default", "--scenario", help="What the streaming weeks do (see `truckflow data generate`)."
    ),
    shift_week: int = typer.Option(
        1,
        "--shift-week",
        min=1,
        help="Streaming week in which the scenario's change starts (1: caught on the first "
        "drift day, 2019-02-22).",
    ),
    reset: bool = typer.Option(
        False,
        "--reset",
        help="Start clean: remove the home's database, MLflow store, artifacts, reports.",
    ),
    data: Path | None = typer.Option(
        None, "--data", help="A folder of your own course files instead of generated ones."
    ),
    trials: int | None = typer.Option(
        None, "--trials", min=1, help="Tuning trials per model family (default: small, by scale)."
    ),
    families: str = typer.Option(
        "logistic_regression", "--families", help="Model families to train, comma-separated."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the whole loop: data, ingest, training, release, 14 streaming days, drift, retraining.

    A second run continues what exists; the summary ends with the HTML report's path.

    Example: [bold]truckflow --home /tmp/tf demo --scale 0.2[/]
    """
    # Imported here: the demo pulls in matplotlib, which no other command needs at start-up.
    from truckflow.demo import DemoOptions, run_demo

    options = DemoOptions(
        scale=scale,
        seed=seed,
        scenario=scenario,
        shift_week=shift_week,
        reset=reset,
        data=data,
        n_trials=trials,
        families=families,
    )
    with fail_on_errors(as_json):
        settings = state.settings()
        if as_json:
            summary = run_demo(settings, options)
        else:
            with Progress(
                TextColumn("[bold]{task.fields[stage]:<9}"),
                BarColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("", total=None, stage="demo")

                def advance(stage: str, what: str, done: int, total: int | None) -> None:
                    bar.update(
                        task, description=what[:70], completed=done, total=total, stage=stage
                    )
                    if what.startswith(("done:", "existing:", "unavailable:")):
                        err_console.print(f"[bold]{stage}[/] {what}", highlight=False)

                summary = run_demo(settings, options, advance)
    emit(summary, as_json, _render)


def _render(s: DemoSummary) -> None:
    stages = Table("stage", "status", "s", "detail", title="Stages")
    for st in s.stages:
        stages.add_row(
            st.name, f"[{_STYLE[st.status]}]{st.status}[/]", f"{st.seconds:.1f}", st.detail
        )
    console.print(stages)
    if s.daily:
        daily = Table("day", "trips", "F1", "accuracy", "model", title="Daily quality")
        for d in s.daily:
            daily.add_row(
                str(d.day), str(d.count), f"{d.f1:.3f}", f"{d.accuracy:.3f}", str(d.model_version)
            )
        console.print(daily)
    if s.drift:
        drift = Table(
            "week",
            "verdict",
            "share drifted",
            "F1",
            "drifted columns",
            "retraining",
            title="Weekly drift",
        )
        for w in s.drift:
            verdict = "[red]drift[/]" if w.drift_detected else "[green]no drift[/]"
            f1 = "" if w.f1 is None else f"{w.f1:.3f}"
            drift.add_row(
                str(w.week_start),
                verdict,
                f"{w.share_drifted:.2f}",
                f1,
                _some(w.drifted_columns),
                w.retraining or "-",
            )
        console.print(drift)
    _render_models(s)
    _footer(s)


def _render_models(s: DemoSummary) -> None:
    models = Table("version", "aliases", "approval", "test F1", "served", title="Models")
    for m in s.models:
        served = f"{m.first_day} .. {m.last_day} ({m.days} days)" if m.days else "-"
        f1 = "" if m.test_f1 is None else f"{m.test_f1:.3f}"
        models.add_row(m.version, ", ".join(m.aliases), m.approval, f1, served)
    console.print(models)
    if s.deployments:
        deployed = Table(
            "version",
            "in production from",
            "until",
            "approved by",
            "why",
            title="Production deployments",
        )
        for dep in s.deployments:
            deployed.add_row(
                dep.version,
                dep.started_at.isoformat()[:19],
                "now" if dep.ended_at is None else dep.ended_at.isoformat()[:19],
                dep.approved_by or "",
                dep.reason or "",
            )
        console.print(deployed)


def _footer(s: DemoSummary) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in s.notifications.items()) or "none"
    console.print(f"notifications ({s.notifications_file}): {counts}")
    console.print(
        f"production model: {s.production_version}; retraining: {'yes' if s.retrained else 'no'}"
    )
    if s.unavailable:
        console.print(f"[yellow]not available in this build:[/] {', '.join(s.unavailable)}")
    console.print(f"report: [bold]{s.report}[/]   ({s.seconds:.1f} s)")
