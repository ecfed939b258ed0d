"""The serving API's app factory: one FastAPI app serving the version behind one stage alias."""

from __future__ import annotations

import gc
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from truckflow import __version__
from truckflow.serving.capture import CaptureWriter
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.errors import (
    AdminAuthError,
    InvalidFeaturesError,
    ServingError,
    UnknownEntityError,
)
from truckflow.serving.feedback import record_feedback
from truckflow.serving.holder import AliasWatcher, ModelHolder, ServedModel
from truckflow.serving.limits import BodyLimitExceeded, BodyLimitMiddleware
from truckflow.serving.metrics import MetricsMiddleware, ServingMetrics
from truckflow.serving.model import FeatureSource, ModelSource
from truckflow.serving.predict import Predictor, prediction_router
from truckflow.serving.schemas import FeedbackIn, FeedbackOut, HealthOut, ModelOut, ReloadOut
from truckflow.serving.vectors import FeatureVectors
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "No model is deployed on this server's stage."},
}
# Any request may carry a body; one over the limit is refused while it is read.
_BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON text (e.g. not UTF-8)."},
    413: {"description": "Request body over the byte limit (serving.max_body_bytes)."},
    422: {"description": "Invalid request: the message names each bad field."},
}


def _validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    # Each error keeps its location and message; the input echo is left out (bodies can be big).
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    named = "; ".join(
        ".".join(str(x) for x in e["loc"]) + ": " + str(e["msg"]) for e in detail[:20]
    )
    return {"message": f"invalid request: {named}", "detail": jsonable_encoder(detail)}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_validation_body(list(exc.errors())), status_code=422)

    @app.exception_handler(BodyLimitExceeded)
    async def _too_large(_: Request, exc: BodyLimitExceeded) -> JSONResponse:
        body = {"message": exc.detail, "detail": exc.detail, "error": "BodyTooLargeError"}
        return JSONResponse(body, status_code=413, headers={"connection": "close"})

    @app.exception_handler(ServingError)
    async def _serving(_: Request, exc: ServingError) -> JSONResponse:
        if isinstance(exc, InvalidFeaturesError):
            return JSONResponse(_validation_body(exc.errors), status_code=422)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AdminAuthError) else None
        body = {"message": exc.message, "detail": exc.message, "error": type(exc).__name__}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _freeze_heap() -> None:
    """Move every object alive now (libraries, the loaded model) out of the collector's reach.

    A served process holds some 350k long-lived objects (MLflow, scikit-learn, pandas, the
    model); a full collection walks them all and stops every request for about 200 ms, several
    times a minute under load. Frozen objects are still freed by reference counting; only
    cycles among them are never collected, which costs little against the stalls.
    """
    gc.collect()
    gc.freeze()


def _predictions_first(app: FastAPI) -> None:
    """Match the prediction routes before the docs and operations routes: the router tries
    routes in order, and no two paths here overlap, so only the cost of a request changes."""
    routes = app.router.routes
    routes.sort(key=lambda r: not str(getattr(r, "path", "")).startswith("/predict"))


def _admin_guard(settings: Settings) -> Any:
    bearer = HTTPBearer(auto_error=False, description="The admin token from settings.")

    def require_admin(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> None:
        expected = settings.serving.admin_token
        if expected is None:
            raise AdminAuthError("admin endpoints are disabled: no admin token is configured")
        given = b"" if credentials is None else credentials.credentials.encode()
        # Constant time, so the response time says nothing about how much of a guess was right.
        if not hmac.compare_digest(given, expected.get_secret_value().encode()):
            raise AdminAuthError("missing or wrong admin token")

    return require_admin


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
    metrics = ServingMetrics()

    def on_swap(old: ServedModel | None, new: ServedModel | None) -> None:
        metrics.model_swapped(
            None if old is None else (old.version, stage),
            None if new is None else (new.version, stage),
        )
        _freeze_heap()

    holder = ModelHolder(model_source, stage, on_swap=on_swap)
    try:
        holder.refresh()
    except ServingError as exc:
        log.warning("starting without a model on %s: %s", stage, exc)
    writer = CaptureWriter(db, batch_rows=settings.serving.capture_batch)
    watcher = AliasWatcher(holder, settings.serving.poll_seconds)
    current = holder.current
    contract = None if current is None else current.contract
    vectors: FeatureVectors | ContractVectors
    if contract is not None:
        vectors = ContractVectors(contract, settings.serving.max_batch_rows)
    else:
        vectors = FeatureVectors(None if current is None else current.feature_names)
    predictor = Predictor(
        holder, writer, metrics, feature_source, vectors, settings.serving.max_batch_rows
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _freeze_heap()
        writer.start()
        if watch:
            watcher.start()
        try:
            yield
        finally:
            watcher.stop()
            writer.close()  # flushes every captured prediction before the process ends

    app = FastAPI(
        title="truckflow serving",
        version=__version__,
        description=f"Truck-delay predictions from the model on the {stage!r} stage.",
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
    )
    app.state.holder = holder
    app.state.writer = writer
    app.state.metrics = metrics
    app.state.predictor = predictor
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Outermost of ours: a body over the limit is refused before anything else reads it.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.serving.max_body_bytes)
    _install_error_handlers(app)
    app.include_router(prediction_router(predictor))
    require_admin = _admin_guard(settings)

    @app.get("/health", response_model=HealthOut, tags=["operations"])
    async def health() -> dict[str, Any]:
        """Ready when a model is loaded for the stage (503 otherwise)."""
        served = holder.require()
        return {"status": "ok", "stage": stage, "model_version": served.version}

    @app.get("/model", response_model=ModelOut, tags=["operations"])
    async def model() -> dict[str, Any]:
        """The served version: stage, threshold, features, metrics, training data window."""
        served = holder.require()
        return {
            "model_name": model_source.model_name,
            "model_version": served.version,
            "stage": stage,
            "threshold": served.threshold,
            "feature_names": list(served.feature_names),
            "metrics": dict(served.model.metrics),
            "data_window": dict(served.model.data_window),
            "loaded_at": served.loaded_at,
        }

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus() -> Response:
        """Prometheus text format: requests, latency, predictions by class, model version."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/feedback",
        response_model=FeedbackOut,
        tags=["feedback"],
        responses={404: {"description": "No prediction has that id."}, **_BODY_RESPONSES},
    )
    def feedback(body: FeedbackIn) -> dict[str, Any]:
        """Attach a tester's verdict (right, wrong, unsure) and a comment to a prediction."""
        try:
            feedback_id = record_feedback(db, body.prediction_id, body.verdict, body.comment)
        except UnknownEntityError:
            # It may still sit in the capture queue: write what is queued, then look again.
            writer.flush()
            feedback_id = record_feedback(db, body.prediction_id, body.verdict, body.comment)
        return {
            "feedback_id": feedback_id,
            "prediction_id": body.prediction_id,
            "verdict": body.verdict,
        }

    @app.post(
        "/admin/reload",
        response_model=ReloadOut,
        tags=["admin"],
        dependencies=[Depends(require_admin)],
        responses={401: {"description": "Missing or wrong admin token."}, **_BODY_RESPONSES},
    )
    def reload() -> dict[str, Any]:
        """Resolve the stage alias now and swap in its version if it moved."""
        result = holder.refresh()
        return {
            "stage": result.stage,
            "previous_version": result.previous_version,
            "model_version": result.version,
            "changed": result.changed,
        }

    _predictions_first(app)
    return app
