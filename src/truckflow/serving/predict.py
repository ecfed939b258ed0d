"""The prediction endpoints: by trip (features from the database) and by explicit features.

The hot path stays lean: the served model is read once per request, features become one float
array, the model predicts on it, and the capture is handed to the writer thread as arrays.
Responses are built as plain dicts (``response_model`` only documents them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.serving.errors import FeatureLookupUnavailableError, ForecastsNotArrivedError
from truckflow.serving.holder import ModelHolder, ServedModel
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.model import FeatureRows, FeatureSource, Trip
from truckflow.serving.rows import frame_rows
from truckflow.serving.schemas import (
    BatchPredictionOut,
    PredictionOut,
    TripBatchIn,
    TripIn,
)
from truckflow.serving.vectors import FeatureVectors

__all__ = ["Predictor", "prediction_router"]


def _new_ids(n: int) -> list[str]:
    raw = os.urandom(16 * n).hex()  # one system call for the whole batch
    return [raw[i * 32 : (i + 1) * 32] for i in range(n)]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class Predictor:
    """Everything a prediction needs; one per app."""

    holder: ModelHolder
    writer: CaptureWriter
    metrics: ServingMetrics
    feature_source: FeatureSource | None
    vectors: FeatureVectors

    def run(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None = None,
    ) -> tuple[str, list[str], list[float], list[bool]]:
        proba = served.predict(rows)
        decisions = proba >= served.threshold
        ids = _new_ids(len(rows) + 1)
        request_id = ids.pop()
        self.writer.submit(
            CaptureBatch(
                ids=ids,
                request_id=request_id,
                feature_names=served.feature_names,
                features=rows,
                probabilities=proba,
                decisions=decisions,
                model_version=served.version,
                stage=served.stage,
                created_at=datetime.now(UTC).replace(tzinfo=None),
                source=source,
                inputs=inputs,
            )
        )
        delayed = int(decisions.sum())
        self.metrics.count_predictions(delayed, len(rows))
        return request_id, ids, proba.tolist(), decisions.tolist()

    def trip_rows(self, served: ServedModel, trips: list[Trip]) -> np.ndarray:
        source = self.feature_source
        if source is None:
            raise FeatureLookupUnavailableError(
                "this server has no feature source for trip lookups; send features to /predict/features"
            )
        frame = None
        if isinstance(source, FeatureRows):  # stored rows first, no DataFrame on the way
            rows, missing = source.feature_rows(trips, served.feature_names, served.version)
        else:
            frame, missing = source.features_for_trips(trips)
        if len(missing):
            named = ", ".join(
                f"truck {trips[i].truck_id} on {trips[i].route_id} at {trips[i].departure:%Y-%m-%d %H:%M}"
                for i in list(missing)[:5]
            )
            raise ForecastsNotArrivedError(
                f"features could not be built for {len(missing)} trip(s), forecasts not arrived: {named}"
            )
        if frame is not None:
            rows = frame_rows(frame, served.feature_names, served.version)
        return rows


def _single(
    request_id: str, ids: list[str], proba: list[float], delayed: list[bool], served: ServedModel
) -> JSONResponse:
    body = {
        "prediction_id": ids[0],
        "probability": proba[0],
        "delayed": delayed[0],
        "model_version": served.version,
        "stage": served.stage,
        "request_id": request_id,
    }
    return JSONResponse(body, headers={"x-model-version": served.version})


def _batch(
    request_id: str, ids: list[str], proba: list[float], delayed: list[bool], served: ServedModel
) -> JSONResponse:
    items = [
        {"prediction_id": i, "probability": p, "delayed": d}
        for i, p, d in zip(ids, proba, delayed, strict=True)
    ]
    body = {
        "model_version": served.version,
        "stage": served.stage,
        "request_id": request_id,
        "predictions": items,
    }
    return JSONResponse(body, headers={"x-model-version": served.version})


def _compact(
    request_id: str, ids: list[str], proba: list[float], delayed: list[bool], served: ServedModel
) -> JSONResponse:
    # Three flat lists encode several times faster than 10,000 small objects.
    body = {
        "model_version": served.version,
        "stage": served.stage,
        "request_id": request_id,
        "prediction_ids": ids,
        "probabilities": proba,
        "delayed": delayed,
    }
    return JSONResponse(body, headers={"x-model-version": served.version})


def _trip(t: TripIn) -> Trip:
    return Trip(truck_id=t.truck_id, route_id=t.route_id, departure=_naive_utc(t.departure))


def _trip_inputs(trips: list[Trip]) -> list[dict[str, Any]]:
    return [
        {"truck_id": t.truck_id, "route_id": t.route_id, "departure": t.departure.isoformat()}
        for t in trips
    ]


def prediction_router(p: Predictor) -> APIRouter:
    router = APIRouter(tags=["predictions"])

    # Lookups touch the database: plain functions, so FastAPI runs them in its thread pool.
    @router.post("/predict", response_model=PredictionOut)
    def predict(trip: TripIn) -> JSONResponse:
        """Predict one trip; its features come from the database through the feature code."""
        served = p.holder.require()
        trips = [_trip(trip)]
        rows = p.trip_rows(served, trips)
        return _single(*p.run(served, rows, "api", _trip_inputs(trips)), served)

    @router.post("/predict/batch", response_model=BatchPredictionOut)
    def predict_batch(batch: TripBatchIn) -> JSONResponse:
        """Predict up to 10,000 trips in one request."""
        served = p.holder.require()
        trips = [_trip(t) for t in batch.trips]
        rows = p.trip_rows(served, trips)
        return _batch(*p.run(served, rows, "batch", _trip_inputs(trips)), served)

    # A single vector costs well under a millisecond: run it on the event loop, no thread hop.
    async def predict_features(vector: BaseModel) -> JSONResponse:
        """Predict from an explicit feature vector (the served model's feature names)."""
        served = p.holder.require()
        rows = p.vectors.to_array([vector], served.feature_names)
        return _single(*p.run(served, rows, "api"), served)

    def predict_features_batch(batch: BaseModel) -> JSONResponse:
        """Predict up to 10,000 feature vectors: as ``rows``, or compact as ``columns`` + ``data``
        (answered compact: ``prediction_ids``, ``probabilities``, ``delayed``)."""
        served = p.holder.require()
        rows = p.vectors.batch_array(batch, served.feature_names)
        result = p.run(served, rows, "batch")
        if getattr(batch, "rows", None) is None:
            return _compact(*result, served)
        return _batch(*result, served)

    # The body models are built at run time from the feature names; FastAPI reads annotations.
    predict_features.__annotations__["vector"] = p.vectors.model
    predict_features_batch.__annotations__["batch"] = p.vectors.batch_model
    router.post("/predict/features", response_model=PredictionOut)(predict_features)
    router.post("/predict/features/batch", response_model=BatchPredictionOut)(
        predict_features_batch
    )
    return router
