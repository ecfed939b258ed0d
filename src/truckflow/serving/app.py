"""The serving API's app factory: one FastAPI app serving the version behind one stage alias.

The routers (``routes/``) each own a concern; the fast path (``fast/``) answers
``POST /predict/features`` before routing; ``parts`` builds what they share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from truckflow import __version__
from truckflow.serving.fast import FeaturesFastPath
from truckflow.serving.handlers import ERROR_RESPONSES, install_error_handlers
from truckflow.serving.limits import BodyLimitMiddleware
from truckflow.serving.metrics import MetricsMiddleware
from truckflow.serving.model import FeatureSource, ModelSource
from truckflow.serving.parts import ServingParts, freeze_heap
from truckflow.serving.routes import (
    admin_router,
    feedback_router,
    operations_router,
    prediction_router,
)
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    model_source: ModelSource,
    feature_source: FeatureSource | None,
    db: Database,
    stage: str,
    watch: bool = True,
) -> FastAPI:
    """Build the app; loads the stage's version now (or serves 503 until the alias appears)."""
    parts = ServingParts.build(settings, model_source, feature_source, db, stage)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        freeze_heap()
        with parts.running(watch):
            yield

    app = FastAPI(
        title="truckflow serving",
        version=__version__,
        description=f"Truck-delay predictions from the model on the {stage!r} stage.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.holder, app.state.writer = parts.holder, parts.writer
    app.state.metrics, app.state.predictor = parts.metrics, parts.predictor
    # Innermost first: the fast path inside the metrics (counted as its route), the body
    # limit outermost of ours (a body over it is refused before anything else reads it).
    app.add_middleware(FeaturesFastPath, predictor=parts.predictor)
    app.add_middleware(MetricsMiddleware, metrics=parts.metrics)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.serving.max_body_bytes)
    install_error_handlers(app)
    app.include_router(prediction_router(parts.predictor))
    app.include_router(
        operations_router(parts.holder, parts.metrics, model_source.model_name, stage)
    )
    app.include_router(feedback_router(db, parts.writer))
    app.include_router(admin_router(settings, parts.holder))
    return app
