"""The serving API: FastAPI app factory, hot swap of the stage's model, prediction capture.

Names load lazily: the migrations import ``truckflow.serving.tables``, and that
must not pull in FastAPI and MLflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from truckflow.features.online import DatabaseFeatureSource
    from truckflow.serving.app import create_app
    from truckflow.serving.errors import (
        ForecastsNotArrivedError,
        NoModelDeployedError,
        ServingError,
        UnknownEntityError,
    )
    from truckflow.serving.feedback import FeedbackSummary, feedback_summary, record_feedback
    from truckflow.serving.holder import AliasWatcher, ModelHolder, ServedModel
    from truckflow.serving.mlflow_source import MlflowModelSource
    from truckflow.serving.model import FeatureSource, LoadedModel, ModelSource, Trip

_HOMES = {
    "create_app": "app",
    "ForecastsNotArrivedError": "errors",
    "NoModelDeployedError": "errors",
    "ServingError": "errors",
    "UnknownEntityError": "errors",
    "DatabaseFeatureSource": "truckflow.features.online",
    "FeedbackSummary": "feedback",
    "feedback_summary": "feedback",
    "record_feedback": "feedback",
    "AliasWatcher": "holder",
    "ModelHolder": "holder",
    "ServedModel": "holder",
    "MlflowModelSource": "mlflow_source",
    "FeatureSource": "model",
    "LoadedModel": "model",
    "ModelSource": "model",
    "Trip": "model",
}

__all__ = [
    "AliasWatcher",
    "DatabaseFeatureSource",
    "FeatureSource",
    "FeedbackSummary",
    "ForecastsNotArrivedError",
    "LoadedModel",
    "MlflowModelSource",
    "ModelHolder",
    "ModelSource",
    "NoModelDeployedError",
    "ServedModel",
    "ServingError",
    "Trip",
    "UnknownEntityError",
    "create_app",
    "feedback_summary",
    "record_feedback",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'truckflow.serving' has no attribute {name!r}")
    home = _HOMES[name]
    module = home if "." in home else f"truckflow.serving.{home}"  # the online read: features
    return getattr(importlib.import_module(module), name)
