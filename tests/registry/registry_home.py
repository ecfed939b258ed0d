"""A home with one version the training pipeline registered: its real model, tags and checksum."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from synthetic_features import feature_frame
from truckflow.events import Event
from truckflow.features.fill import register_feature_set, store_features
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.training.pipeline import training_pipeline
from truckflow.registry import ModelRegistry
from truckflow.settings import Settings
from truckflow.store import connect
from truckflow.store.migrate import upgrade

FAST = {"families": "logistic_regression", "n_trials": 2, "min_f1": 0.0}


@dataclass(frozen=True)
class Trained:
    settings: Settings
    version: str
    outputs: dict[str, Any]

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry.from_settings(self.settings)


def train(home: Path) -> Trained:
    settings = Settings(home=home)
    db = connect(settings)
    try:
        upgrade(db)
        register_feature_set(db)
        store_features(db, feature_frame())
        with Runtime.on(settings, db).runner() as runner:
            result = runner.run(training_pipeline(), FAST)
    finally:
        db.dispose()
    assert result.status == "succeeded", result.error
    return Trained(settings, str(result.outputs["register"]["version"]), dict(result.outputs))


class ListSink:
    """An event sink that keeps what it is told (the tests read it back)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        self.events.append(event)
