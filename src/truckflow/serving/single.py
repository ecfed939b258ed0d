"""One trip predicted outside the HTTP server (the dashboard's form), by the serving code path.

The features come from the feature code's online path (``features_for_trip``), the model from the
stage's alias through the same loader the server uses, and the probability from ``ServedModel``,
so the answer is the one ``POST /predict`` would give for the same trip and version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from truckflow.features.loading import features_for_trip
from truckflow.serving.errors import ForecastsNotArrivedError, NoModelDeployedError, ServingError
from truckflow.serving.holder import ServedModel
from truckflow.serving.model import ModelSource
from truckflow.store import Database

__all__ = ["TripPrediction", "load_served", "predict_trip"]


@dataclass(frozen=True)
class TripPrediction:
    truck_id: int
    departure: datetime
    probability: float
    delayed: bool
    threshold: float
    model_version: str
    stage: str
    features: dict[str, Any]


def load_served(source: ModelSource, stage: str) -> ServedModel:
    """The version behind the stage's alias, loaded completely (503-worthy error if none)."""
    version = source.resolve(stage)
    if version is None:
        raise NoModelDeployedError(source.model_name, stage, "no version has that alias yet")
    return ServedModel(source.load(version), stage)


def predict_trip(
    db: Database, served: ServedModel, truck_id: int, departure: datetime
) -> TripPrediction:
    """Predict one scheduled trip (truck and departure as in ``truck_schedule``)."""
    result = features_for_trip(db, truck_id, departure)
    if result.features.empty:
        raise ForecastsNotArrivedError(
            f"features could not be built for truck {truck_id} at {departure:%Y-%m-%d %H:%M}: "
            "its forecasts have not arrived"
        )
    frame = result.features.iloc[:1]
    absent = [n for n in served.feature_names if n not in frame.columns]
    if absent:
        raise ServingError(
            f"the feature code lacks features that model version {served.version} needs: {absent}"
        )
    rows = frame[list(served.feature_names)].to_numpy(np.float64)
    probability = float(served.predict(rows)[0])
    return TripPrediction(
        truck_id=truck_id,
        departure=departure,
        probability=probability,
        delayed=probability >= served.threshold,
        threshold=served.threshold,
        model_version=served.version,
        stage=served.stage,
        features={str(k): _plain(v) for k, v in frame.iloc[0].items()},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
