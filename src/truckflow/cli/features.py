"""``truckflow features``: fill the feature store from the ingested tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.features.fill import FillResult
    from truckflow.pipeline import Partitions

__all__ = ["app"]


@contextmanager
def _partitions(kind: str, scheduler: str | None, parallel: int) -> Iterator[Partitions]:
    from truckflow.pipeline import SERIAL, ThreadPartitions, cluster_partitions

    if kind == "dask":
        with cluster_partitions(scheduler) as cluster:
            yield cluster
    elif kind == "local":
        yield ThreadPartitions(parallel) if parallel > 1 else SERIAL
    else:
        raise typer.BadParameter(f"--runner: {kind!r}; use local or dask")


app = typer.Typer(help="The feature store: compute and store trip features.")


@app.command()
def fill(
    start: str = typer.Option("1900-01-01", "--start", help="First departure day (YYYY-MM-DD)."),
    end: str = typer.Option("2200-01-01", "--end", help="Departure bound, exclusive (YYYY-MM-DD)."),
    parallel: int = typer.Option(
        1,
        "--parallel",
        min=1,
        help="Partitions (departure weeks, x blocks of routes when the weeks are fewer) filled "
        "at once, on threads of this process; 1 fills them one after another.",
    ),
    runner: str | None = typer.Option(
        None,
        "--runner",
        help="local (this process, see --parallel) or dask: the partitions as tasks of the "
        "cluster at --scheduler (default the pipeline.dask_scheduler setting, else a "
        "LocalCluster of 2 workers); default the pipeline.runner setting.",
    ),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute and store the features of trips departing in [start, end) not stored yet.

    Example: [bold]truckflow features fill --start 2019-01-01 --end 2019-02-01 --json[/]
    """
    from truckflow.features.fill import fill_features, register_feature_set
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    with fail_on_errors(as_json):
        try:
            first, bound = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
        except ValueError as exc:
            raise typer.BadParameter(f"--start/--end: {exc}") from exc
        settings = state.settings()
        db = connect(settings)
        try:
            upgrade(db)
            register_feature_set(db)
            kind = runner or settings.pipeline.runner
            with _partitions(kind, scheduler or settings.pipeline.dask_scheduler, parallel) as p:
                result = fill_features(db, first, bound, partitions=p)
        finally:
            db.dispose()

    def render(r: FillResult) -> None:
        console.print(
            f"computed {r.computed} trips, {len(r.waiting)} waiting for forecasts, "
            f"{r.labels_updated} labels updated"
        )

    emit(result, as_json, render)
