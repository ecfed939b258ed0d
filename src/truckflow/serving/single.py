"""One trip predicted outside the HTTP server (the dashboard's form).

The features come from the feature code's online path (``features_for_trip``), the model from the
stage's alias through the registry's checksum-verified loading, so the answer uses the same
features and the same version as ``POST /predict`` for that trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from truckflow.features import FEATURE_COLUMNS
from truckflow.features.loading import features_for_trip
from truckflow.registry import ModelRegistry, Stage, load_stage
from truckflow.serving.errors import ForecastsNotArrivedError, NoModelDeployedError, ServingError
from truckflow.store import Database
from truckflow.training.explain import explain_frame

__all__ = ["StageModel", "TripPrediction", "load_stage_model", "predict_trip"]


@dataclass(frozen=True)
class StageModel:
    """The estimator behind a stage's alias, with its version, features and threshold."""

    version: str
    stage: Stage
    estimator: Any
    feature_names: Sequence[str]
    threshold: float


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
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "truck_id": self.truck_id,
            "departure": self.departure.isoformat(),
            "probability": self.probability,
            "delayed": self.delayed,
            "threshold": self.threshold,
            "model_version": self.model_version,
            "stage": self.stage,
            "reasons": self.reasons,
            "features": self.features,
        }


def load_stage_model(registry: ModelRegistry, stage: Stage | str) -> StageModel:
    """The version behind the stage's alias, loaded and checksum-verified by the registry."""
    stage = Stage.parse(stage)
    loaded = load_stage(registry, stage)
    if loaded is None:
        raise NoModelDeployedError(registry.model_name, str(stage), "no version has that alias yet")
    names = getattr(loaded.model, "feature_names_in_", None)
    if loaded.contract is not None:
        names = loaded.contract.names
    return StageModel(
        version=loaded.version,
        stage=stage,
        estimator=loaded.model,
        feature_names=[str(n) for n in names] if names is not None else list(FEATURE_COLUMNS),
        threshold=loaded.threshold,
    )


def predict_trip(
    db: Database, model: StageModel, truck_id: int, departure: datetime, reasons: int = 3
) -> TripPrediction:
    """Predict one scheduled trip (truck and departure as in ``truck_schedule``), with the top
    ``reasons`` contributions behind the probability (as ``POST /predict`` gives them)."""
    result = features_for_trip(db, truck_id, departure)
    if result.features.empty:
        raise ForecastsNotArrivedError(
            f"features could not be built for truck {truck_id} at {departure:%Y-%m-%d %H:%M}: "
            "its forecasts have not arrived"
        )
    frame = result.features.iloc[:1]
    absent = [n for n in model.feature_names if n not in frame.columns]
    if absent:
        raise ServingError(
            f"the feature code lacks features that model version {model.version} needs: {absent}"
        )
    proba = np.asarray(model.estimator.predict_proba(frame[list(model.feature_names)]), float)
    probability = float(proba[0, 1] if proba.ndim == 2 else proba[0])
    explained = explain_frame(model.estimator, frame, reasons) if reasons > 0 else None
    return TripPrediction(
        truck_id=truck_id,
        departure=departure,
        probability=probability,
        delayed=probability >= model.threshold,
        threshold=model.threshold,
        model_version=model.version,
        stage=model.stage,
        features={str(k): _plain(v) for k, v in frame.iloc[0].items()},
        reasons=explained[0] if explained else [],
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
