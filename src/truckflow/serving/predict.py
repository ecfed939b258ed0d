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

import msgspec
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from truckflow.serving.batch_body import read_batch
from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.serving.coalesce import RowCoalescer
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

_ENCODER = msgspec.json.Encoder()


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

    def __post_init__(self) -> None:
        # A runtime Protocol check costs microseconds: done once, not per request.
        source = self.feature_source
        self._rows: FeatureRows | None = source if isinstance(source, FeatureRows) else None
        self.coalescer = RowCoalescer()

    def run(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None = None,
    ) -> tuple[str, list[str], list[float], list[bool]]:
        return self._answer(served, rows, served.predict(rows), source, inputs)

    async def run_one(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None = None,
    ) -> tuple[str, list[str], list[float], list[bool]]:
        """``run`` for one row on the event loop: predicted together with the rows of the
        requests ready at the same time, where the model answers each row on its own."""
        if len(rows) != 1 or not served.row_independent or not self.coalescer.company():
            return self.run(served, rows, source, inputs)
        proba = np.array([await self.coalescer.predict(served, rows)], dtype=np.float64)
        return self._answer(served, rows, proba, source, inputs)

    def _answer(
        self,
        served: ServedModel,
        rows: np.ndarray,
        proba: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None,
    ) -> tuple[str, list[str], list[float], list[bool]]:
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

    def _source(self) -> FeatureSource:
        if self.feature_source is None:
            raise FeatureLookupUnavailableError(
                "this server has no feature source for trip lookups; send features to /predict/features"
            )
        return self.feature_source

    def trip_rows(
        self,
        served: ServedModel,
        trips: list[Trip],
        stored: dict[int, list[object]] | None = None,
    ) -> np.ndarray:
        """The trips' model rows (stored, else computed); 409 when some cannot be built."""
        source = self._source()
        frame = None
        if self._rows is not None:  # stored rows first, no DataFrame on the way
            rows, missing = self._rows.feature_rows(
                trips, served.feature_names, served.version, stored
            )
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

    async def trip_rows_async(self, served: ServedModel, trips: list[Trip]) -> np.ndarray:
        """``trip_rows`` for the event loop: a stored row on a local database is read right
        here (a key probe costs less than the hop to a worker thread); anything that may take
        longer (a computation, a remote database) runs in the thread pool."""
        source = self._rows
        if source is None or not source.local:
            return await run_in_threadpool(self.trip_rows, served, trips)
        stored = source.stored_rows(trips, served.feature_names)
        if len(stored) == len(trips):
            return self.trip_rows(served, trips, stored)
        return await run_in_threadpool(self.trip_rows, served, trips, stored)


def _single(
    request_id: str, ids: list[str], proba: list[float], delayed: list[bool], served: ServedModel
) -> Response:
    body = {
        "prediction_id": ids[0],
        "probability": proba[0],
        "delayed": delayed[0],
        "model_version": served.version,
        "stage": served.stage,
        "request_id": request_id,
    }
    return _json(body, served)


def _json(body: dict[str, Any], served: ServedModel) -> Response:
    # msgspec encodes several times faster than JSONResponse's json.dumps.
    return Response(
        _ENCODER.encode(body),
        media_type="application/json",
        headers={"x-model-version": served.version},
    )


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
) -> Response:
    # Three flat lists encode several times faster than 10,000 small objects, and msgspec
    # encodes them ten times faster than the standard library.
    body = {
        "model_version": served.version,
        "stage": served.stage,
        "request_id": request_id,
        "prediction_ids": ids,
        "probabilities": proba,
        "delayed": delayed,
    }
    return _json(body, served)


def _trip(t: TripIn) -> Trip:
    return Trip(truck_id=t.truck_id, route_id=t.route_id, departure=_naive_utc(t.departure))


def _trip_inputs(trips: list[Trip]) -> list[dict[str, Any]]:
    return [
        {"truck_id": t.truck_id, "route_id": t.route_id, "departure": t.departure.isoformat()}
        for t in trips
    ]


def prediction_router(p: Predictor) -> APIRouter:
    router = APIRouter(tags=["predictions"])

    @router.post("/predict", response_model=PredictionOut)
    async def predict(trip: TripIn) -> Response:
        """Predict one trip: its stored features, else computed by the feature code."""
        served = p.holder.require()
        trips = [_trip(trip)]
        rows = await p.trip_rows_async(served, trips)
        return _single(*await p.run_one(served, rows, "api", _trip_inputs(trips)), served)

    # Batches touch the database at length: a plain function, run in FastAPI's thread pool.
    @router.post("/predict/batch", response_model=BatchPredictionOut)
    def predict_batch(batch: TripBatchIn) -> JSONResponse:
        """Predict up to 10,000 trips in one request."""
        served = p.holder.require()
        trips = [_trip(t) for t in batch.trips]
        rows = p.trip_rows(served, trips)
        return _batch(*p.run(served, rows, "batch", _trip_inputs(trips)), served)

    # A single vector costs well under a millisecond: run it on the event loop, no thread hop.
    # The body is read by FeatureVectors.read_one: no model object unless something is wrong.
    async def predict_features(request: Request) -> Response:
        """Predict from an explicit feature vector (the served model's feature names)."""
        served = p.holder.require()
        rows = p.vectors.read_one(await request.body(), served.feature_names)
        return _single(*await p.run_one(served, rows, "api"), served)

    def features_batch(body: bytes) -> Response:
        served = p.holder.require()
        rows, compact = read_batch(body, p.vectors, served.feature_names)
        result = p.run(served, rows, "batch")
        return _compact(*result, served) if compact else _batch(*result, served)

    async def predict_features_batch(request: Request) -> Response:
        """Predict up to 10,000 feature vectors: as ``rows``, or compact as ``columns`` + ``data``
        (answered compact: ``prediction_ids``, ``probabilities``, ``delayed``)."""
        # The body is read here and parsed by batch_body (no pydantic object per row); the
        # work runs in the thread pool, as a plain endpoint would.
        return await run_in_threadpool(features_batch, await request.body())

    # The body models are built at run time from the feature names; FastAPI does not parse
    # these bodies, so the routes document them themselves.
    invalid: dict[int | str, dict[str, Any]] = {422: {"description": "Validation Error"}}
    router.post(
        "/predict/features",
        response_model=PredictionOut,
        openapi_extra={"requestBody": _body_schema(p.vectors.model)},
        responses=invalid,
    )(predict_features)
    router.post(
        "/predict/features/batch",
        response_model=BatchPredictionOut,
        openapi_extra={"requestBody": _body_schema(p.vectors.batch_model)},
        responses=invalid,
    )(predict_features_batch)
    return router


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A body model's JSON schema, references resolved in place, as an OpenAPI request body."""
    schema = model.model_json_schema()
    return {
        "required": True,
        "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}},
    }
