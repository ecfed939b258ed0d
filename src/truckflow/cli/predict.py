"""``truckflow predict``: one scheduled trip, the stage's model, and the reasons behind it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer

from truckflow.cli.context import state
from truckflow.cli.output import JSON_OPTION, console, emit, fail_on_errors
from truckflow.registry import Stage

if TYPE_CHECKING:
    from truckflow.serving.single import TripPrediction

__all__ = ["predict"]


def predict(
    truck_id: int = typer.Argument(..., help="The truck's id, as in truck_schedule."),
    departure: datetime = typer.Argument(
        ..., help="Its planned departure, e.g. 2019-02-14T07:00 (as in truck_schedule)."
    ),
    stage: str = typer.Option(
        Stage.PRODUCTION.value, "--stage", help="The alias whose model predicts."
    ),
    reasons: int = typer.Option(
        3, "--reasons", min=0, max=20, help="How many top contributions to show (0: none)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Predict one trip with the stage's model (checksum verified) and say why.

    The features come from the database through the same feature code as training and
    serving; the answer is what POST /predict gives for that trip.

    Example: [bold]truckflow predict 30312694 2019-02-14T07:00 --reasons 5 --json[/]
    """
    from truckflow.registry import ModelRegistry
    from truckflow.serving.single import load_stage_model, predict_trip
    from truckflow.store import connect

    settings = state.settings()
    with fail_on_errors(as_json):
        db = connect(settings)
        try:
            model = load_stage_model(ModelRegistry.from_settings(settings), stage)
            result = predict_trip(db, model, truck_id, departure, reasons)
        finally:
            db.dispose()

    def render(r: TripPrediction) -> None:
        verdict = "[bold red]DELAYED[/]" if r.delayed else "[bold green]on time[/]"
        console.print(
            f"truck {r.truck_id} departing {r.departure.isoformat()}: {verdict} "
            f"(P(delay) {r.probability:.3f}, threshold {r.threshold:.3f}, "
            f"model version {r.model_version} on {r.stage})",
            highlight=False,
        )
        for reason in r.reasons:
            console.print(f"  {reason['text']}", highlight=False)

    emit(result, as_json, render)
