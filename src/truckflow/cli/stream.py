"""``truckflow stream``: the streaming simulation (status, step, replay, live, reset).

``live`` advances one simulated day per interval in this process. In a real deployment, let a
scheduler do the waiting instead: run ``truckflow stream step`` once per interval from cron
(e.g. ``0 6 * * * truckflow stream step --json >> stream.log``) or as one task of any
orchestrator (Airflow, Dagster, a Kubernetes CronJob). Each step is one whole simulated day and
idempotent, so a retried or overlapping run does no harm.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.pipelines.runtime import Runtime
    from truckflow.pipelines.streaming.driver import ReplayResult, StreamProgress, StreamStatus

__all__ = ["app"]

app = typer.Typer(
    help="The streaming simulation: one simulated day at a time, weekly drift checks, retraining.",
    no_args_is_help=True,
)

DATA_OPTION = typer.Option(
    None,
    "--data",
    help="Folder with the streaming files (streaming_*.csv); default the folder used last "
    "or TRUCKFLOW_STREAMING__DATA.",
)
APPROVE_OPTION = typer.Option(
    True,
    "--auto-approve/--manual-approval",
    help="Continuous mode: a retrained version is promoted; otherwise it waits for approval.",
)


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _render_days(result: ReplayResult) -> None:
    table = Table(
        "day",
        "schedules",
        "labels",
        "features",
        "predicted (on time/late/partial)",
        "F1 (yday) [95%]",
        "week",
    )
    for d in result.days:
        week = ""
        if d.drift is not None:
            week = "drift" if d.drift_detected else "no drift"
            if d.release_status:
                week += f", retrained: {d.release_status}"
        f1 = ""
        if d.metrics is not None:
            low, high = d.metrics.get("f1_interval") or (float("nan"), float("nan"))
            f1 = f"{d.metrics['f1']:.3f} [{low:.2f}, {high:.2f}] n={d.metrics['count']}"
        table.add_row(
            d.day.isoformat(),
            str(d.ingested["schedule"]),
            str(d.labels_applied),
            f"{d.features_computed} (+{d.features_completed} completed)",
            f"{d.predictions} ({d.predictions_on_time}/{d.predictions_late}/"
            f"{d.predictions_partial})",
            f1,
            week,
        )
    console.print(table)
    clock = result.clock
    end = " (streaming period finished)" if result.finished else ""
    console.print(f"clock: {_iso(clock.current_day)}, day {clock.day_in_week} of the week{end}")


def _iso(day: dt.date | None) -> str | None:
    """A day as the JSON shows it (None before the clock starts)."""
    return None if day is None else day.isoformat()


def _run(
    as_json: bool, work: Callable[[Runtime, StreamProgress | None], ReplayResult]
) -> ReplayResult:
    from truckflow.pipelines.runtime import Runtime

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        if as_json:
            return work(runtime, None)
        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("streaming", total=None)

            def progress(description: str, done: int, total: int) -> None:
                bar.update(task, description=description, completed=done, total=total)

            return work(runtime, progress)


@app.command("status")
def status(data: Path | None = DATA_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show the streaming clock, the streaming period and each week's drift outcome.

    Example: [bold]truckflow stream status --json[/]
    """
    from truckflow.pipelines.runtime import Runtime
    from truckflow.pipelines.streaming.driver import stream_status

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = stream_status(runtime, data)

    def render(r: StreamStatus) -> None:
        clock = r.clock
        console.print(
            f"day [bold]{_iso(clock.current_day)}[/] (day {clock.day_in_week} of the week "
            f"starting {_iso(clock.week_start)}); new week: {clock.new_week}"
        )
        console.print(f"boundary {r.boundary.isoformat()} ({r.boundary_origin})")
        console.print(
            f"period {_iso(r.first_day)} .. {_iso(r.last_day)}, {r.days_done} day(s) done"
        )
        for week in r.weeks:
            console.print(
                f"  week {week['week_start']}: drift {week['drift_detected']}, "
                f"retrained {week['retrained_version']} ({week['release_status']})"
            )

    emit(result, as_json, render)


@app.command("step")
def step(
    days: int = typer.Option(1, "--days", "-n", min=1, help="Simulated days to run."),
    data: Path | None = DATA_OPTION,
    auto_approve: bool = APPROVE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the next simulated day(s): ingest, features, predictions, ground truth, metrics; on
    the first day of a week also the drift pipeline (and retraining on drift).

    Schedule one step per interval with cron or any orchestrator for a live deployment.

    Example: [bold]truckflow stream step --days 3 --data world/[/]
    """
    from truckflow.pipelines.streaming.driver import step_days

    result = _run(
        as_json,
        lambda rt, p: step_days(rt, days, data=data, auto_approve=auto_approve, progress=p),
    )
    emit(result, as_json, _render_days)


@app.command("replay")
def replay(
    until: str | None = typer.Option(None, "--until", help="Last day to run (YYYY-MM-DD)."),
    data: Path | None = DATA_OPTION,
    auto_approve: bool = APPROVE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the remaining simulated days as fast as the machine allows.

    Example: [bold]truckflow stream replay --until 2019-02-28 --data world/[/]
    """
    from truckflow.pipelines.streaming.driver import replay as run_replay

    last = _day(until)
    result = _run(
        as_json,
        lambda rt, p: run_replay(rt, last, data=data, auto_approve=auto_approve, progress=p),
    )
    emit(result, as_json, _render_days)


@app.command("live")
def live(
    every: float = typer.Option(60.0, "--every", min=0.0, help="Seconds between simulated days."),
    data: Path | None = DATA_OPTION,
    auto_approve: bool = APPROVE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Advance one simulated day every --every seconds until the streaming period ends.

    For a real deployment prefer a scheduler: cron (`*/10 * * * * truckflow stream step`)
    or any orchestrator running one `truckflow stream step` per interval.

    Example: [bold]truckflow stream live --every 30 --data world/[/]
    """
    from truckflow.pipelines.streaming.driver import step_days

    while True:
        result = _run(as_json, lambda rt, p: step_days(rt, 1, data=data, auto_approve=auto_approve))
        emit(result, as_json, _render_days)
        if result.finished or not result.days:
            return
        time.sleep(every)


@app.command("reset")
def reset(data: Path | None = DATA_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Rewind the simulation to before its first day (the model registry is left as it is).

    Example: [bold]truckflow stream reset[/]
    """
    from truckflow.pipelines.runtime import Runtime
    from truckflow.pipelines.streaming.driver import reset as run_reset

    with fail_on_errors(as_json), Runtime.open(state.settings()) as runtime:
        result = run_reset(runtime, data)
    emit(result, as_json, lambda r: console.print("streaming clock reset"))
