"""Tiny models registered straight into a temporary home's registry, for the release tests."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression

from synthetic_features import feature_frame
from truckflow.features.fill import register_feature_set, store_features
from truckflow.registry import ModelRegistry
from truckflow.settings import Settings
from truckflow.store import Database

COLUMNS = ["average_hours", "accident"]
HOOK_CALLS: list[str] = []


@functools.cache
def _mlflow_template() -> Path:
    """An empty MLflow store, created once: MLflow's own migrations take seconds per store.
    Removed when the test process exits."""
    folder = Path(tempfile.mkdtemp(prefix="truckflow-mlflow-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    ModelRegistry.local(folder).list_versions()
    return folder / "mlflow.db"


def seed_mlflow(settings: Settings) -> None:
    """Give a fresh home a copy of the empty MLflow store."""
    settings.ensure_home()
    target = settings.home / "mlflow.db"
    if not target.exists():
        shutil.copy(_mlflow_template(), target)


def tiny_model(*, inverted: bool = False, seed: int = 0) -> LogisticRegression:
    frame = feature_frame(200, seed=seed)
    y = frame["delay"].astype(int)
    model = LogisticRegression().fit(frame[COLUMNS].astype(float), 1 - y if inverted else y)
    return model


def register_tiny(settings: Settings, *, inverted: bool = False, seed: int = 0) -> str:
    registry = ModelRegistry.from_settings(settings)
    version = registry.register(
        tiny_model(inverted=inverted, seed=seed),
        metrics={"test_f1": 0.1 if inverted else 0.8},
        tags={"decision_threshold": "0.5", "family": "logistic_regression"},
        pip_requirements=["scikit-learn"],
        revision="test",
    )
    return version.version


def store_labelled_trips(db: Database) -> pd.DataFrame:
    register_feature_set(db)
    frame = feature_frame(240, seed=7)
    store_features(db, frame)
    return frame


def always_fails(settings: Settings, version: str) -> list[str]:
    raise RuntimeError(f"forced failure of version {version}")


def fails_for_version_2(settings: Settings, version: str) -> list[str]:
    HOOK_CALLS.append(version)
    return ["version 2 answers wrongly"] if version == "2" else []


def describe(rows: list[Any]) -> list[tuple[str, str, str, str]]:
    return [(r.stage, r.version, r.action, r.outcome) for r in rows]
