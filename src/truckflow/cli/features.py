"""``truckflow features``: fill the feature store from the ingested tables."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors

if TYPE_CHECKING:
    from truckflow.features.fill import FillResult

__all__ = ["app"]

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
    as_json: bool = JSON_OPTION,
) -> None:
    """Compute and store the features of trips departing in [start, end) not stored yet.

    Example: [bold]truckflow features fill --start 2019-01-01 --end 2019-02-01 --json[/]
    """
    from truckflow.features.fill import fill_features, register_feature_set
    from truckflow.pipeline import SERIAL, ThreadPartitions
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    with fail_on_errors(as_json):
        try:
            first, bound = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
        except ValueError as exc:
            raise typer.BadParameter(f"--start/--end: {exc}") from exc
        db = connect(state.settings())
        try:
            upgrade(db)
            register_feature_set(db)
            partitions = ThreadPartitions(parallel) if parallel > 1 else SERIAL
            result = fill_features(db, first, bound, partitions=partitions)
        finally:
            db.dispose()

    def render(r: FillResult) -> None:
        console.print(
            f"computed {r.computed} trips, {len(r.waiting)} waiting for forecasts, "
            f"{r.labels_updated} labels updated"
        )

    emit(result, as_json, render)
