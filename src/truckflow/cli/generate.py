"""``truckflow data generate``: write a synthetic world in the course's file format."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truckflow.cli.output import JSON_OPTION, console, emit, err_console, fail_on_errors
from truckflow.data.generate import SCENARIOS

if TYPE_CHECKING:
    from truckflow.data.generate import GenerateReport

__all__ = ["generate"]


def generate(
    out: Path = typer.Option(..., "--out", help="Folder to write the course files into."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed: same seed, same bytes."),
    scale: float = typer.Option(1.0, "--scale", help="1 = the course's size; sizes grow linearly."),
    scenario: str = typer.Option(
        "default", "--scenario", help=f"What the streaming weeks do: {', '.join(SCENARIOS)}."
    ),
    shift_week: int | None = typer.Option(
        None, "--shift-week", help="Streaming week (1, 2, ...) where the scenario's change starts."
    ),
    dirt: float = typer.Option(
        1.0, "--dirt", help="Multiplier of the course's dirt rates (0 = clean)."
    ),
    quirks: bool = typer.Option(
        True,
        "--quirks/--no-quirks",
        help="Reproduce the full course files' quirks (early streaming trips, streaming city "
        "weather ending early, a city with two series, a city-day without weather).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Generate a synthetic world: the seven course files plus the streaming files.

    Deterministic for a seed. Scenarios: none (stationary), default (a storm and a traffic
    regime change in streaming week 2), covariate_shift, concept_shift, fleet_change.

    Example: [bold]truckflow data generate --out data/world --seed 7 --scale 0.5 --scenario covariate_shift --shift-week 2[/]
    """
    with fail_on_errors(as_json):
        if as_json:
            report = _run(out, seed, scale, scenario, shift_week, dirt, quirks, None)
        else:
            with Progress(
                TextColumn("[bold]{task.description:<10}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("start", total=None)

                def advance(step: str, done: int, total: int) -> None:
                    bar.update(task, description=step, completed=done, total=total)

                report = _run(out, seed, scale, scenario, shift_week, dirt, quirks, advance)
    emit(report, as_json, _render)


def _run(
    out: Path,
    seed: int,
    scale: float,
    scenario: str,
    shift_week: int | None,
    dirt: float,
    quirks: bool,
    progress: Any,
) -> GenerateReport:
    from truckflow.data.generate import generate_world

    return generate_world(
        out,
        seed=seed,
        scale=scale,
        scenario=scenario,
        shift_week=shift_week,
        dirt=dirt,
        quirks=quirks,
        progress=progress,
    )


def _render(r: GenerateReport) -> None:
    table = Table(title=f"world in {r.out}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("MB", justify="right")
    for name, rows in r.rows.items():
        table.add_row(name, f"{rows:,}", f"{r.bytes[name] / 1e6:.1f}")
    console.print(table)
    counts = r.counts
    console.print(
        f"seed [bold]{r.seed}[/], scale [bold]{r.scale:g}[/], scenario "
        f"[bold]{r.scenario.name}[/]: {counts['cities']} cities, {counts['routes']:,} routes, "
        f"{counts['trucks']:,} trucks, {counts['historical_trips']:,} + "
        f"{counts['streaming_trips']:,} trips"
    )
    rates = ", ".join(f"{k} {v:.3f}" for k, v in r.delay_rate.items())
    console.print(f"delay rate: {rates}")
    # Rounded as the JSON document rounds it, so that both say the same.
    console.print(f"{r.total_rows:,} rows in {round(r.total_seconds, 3):.1f} s")
