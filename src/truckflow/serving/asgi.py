"""The app as uvicorn starts it in each worker: settings from the environment, nothing passed in.

``truckflow serve`` names ``truckflow.serving.asgi:app_from_environment`` with ``factory=True``, so
that every worker process builds its own app (``--workers`` needs an import string).
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from truckflow.features.online import DatabaseFeatureSource
from truckflow.notify.service import Notifications
from truckflow.serving.app import create_app
from truckflow.serving.mlflow_source import MlflowModelSource
from truckflow.settings import Settings
from truckflow.store import connect

__all__ = ["app_from_environment"]


def app_from_environment() -> FastAPI:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    settings = Settings()
    db = connect(settings)
    # A version refused at load (checksum mismatch) is told through the notification outbox.
    events = Notifications.open(settings, db).sink
    source = MlflowModelSource(
        settings.tracking_uri,
        settings.mlflow.model_name,
        events=events,
        reasons_cache=settings.serving.reasons_cache_rows,
    )
    # /predict looks trips up through the feature code's online path, on the same database.
    return create_app(
        settings,
        model_source=source,
        feature_source=DatabaseFeatureSource(db),
        db=db,
        stage=settings.serving.stage,
    )
