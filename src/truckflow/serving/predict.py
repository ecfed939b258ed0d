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
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from truckflow.serving.answers import Answer, batch_answer, compact_answer, flags, single_answer
from truckflow.serving.batch_body import read_batch
from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.serving.coalesce import RowCoalescer
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.errors import FeatureLookupUnavailableError, ForecastsNotArrivedError
from truckflow.serving.holder import ModelHolder, ServedModel
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.model import FeatureRows, FeatureSource, Trip
from truckflow.serving.reasons import MAX_REASONS, REASONS_DOC, REASONS_PARAMETER, reasons_asked
from truckflow.serving.rows import frame_rows
from truckflow.serving.schemas import (
    BatchPredictionOut,
    CompactPredictionOut,
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
    vectors: FeatureVectors | ContractVectors
    max_rows: int = 10_000

    def __post_init__(self) -> None:
        # A runtime Protocol check costs microseconds: done once, not per request.
        source = self.feature_source
        self._rows: FeatureRows | None = source if isinstance(source, FeatureRows) else None
        self.coalescer = RowCoalescer()
        self._by_version: dict[str, FeatureVectors | ContractVectors] = {}

    def vectors_for(self, served: ServedModel) -> FeatureVectors | ContractVectors:
        """The body reader of the served version: its own contract (a swapped-in version may
        take other features than the one the docs were built from)."""
        found = self._by_version.get(served.version)
        if found is None:
            contract = served.contract
            if contract is not None and isinstance(self.vectors, ContractVectors):
                same = self.vectors.contract == contract
                found = self.vectors if same else ContractVectors(contract, self.max_rows)
            elif contract is not None:
                found = ContractVectors(contract, self.max_rows)
            else:
                found = self.vectors
            self._by_version = {served.version: found}  # the versions served now, no others
        return found

    def run(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None = None,
    ) -> tuple[str, list[str], list[float], list[bool]]:
        return self._answer(served, rows, served.predict(rows), source, inputs)

    def run_explained(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        k: int,
        inputs: Sequence[dict[str, Any]] | None = None,
    ) -> tuple[Answer, list[Any] | None]:
        """``run`` with each row's top ``k`` reasons (None when k is 0)."""
        if k <= 0:
            return self.run(served, rows, source, inputs), None
        proba, why = served.predict_explained(rows, k)
        return self._answer(served, rows, proba, source, inputs), why

    async def run_one(
        self,
        served: ServedModel,
        rows: np.ndarray,
        source: str,
        inputs: Sequence[dict[str, Any]] | None = None,
        k: int = 0,
    ) -> tuple[Answer, list[Any] | None]:
        """``run_explained`` for one row on the event loop: predicted (and explained) together
        with the rows of the requests ready at the same time, where the model answers each row
        on its own."""
        if len(rows) != 1 or not served.row_independent or not self.coalescer.company():
            return self.run_explained(served, rows, source, k, inputs)
        if k <= 0 or served.kept(rows):  # a kept row's reasons: a lookup, no thread hop
            proba = np.array([await self.coalescer.predict(served, rows)], dtype=np.float64)
            kept = served.reasons(rows, k) if k > 0 else None
            return self._answer(served, rows, proba, source, inputs), kept
        p, why = await self.coalescer.predict_explained(served, rows, k)
        proba = np.array([p], dtype=np.float64)
        return self._answer(served, rows, proba, source, inputs), [why]

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
        lacking: dict[int, list[str]] | None = None,
    ) -> np.ndarray:
        """The trips' model rows (stored, else computed); 409 when some cannot be built.
        ``lacking`` gets the input groups of partial stored rows, by position."""
        source = self._source()
        frame = None
        if self._rows is not None:  # stored rows first, no DataFrame on the way
            rows, missing = self._rows.feature_rows(
                trips, served.feature_names, served.version, stored, lacking
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

    async def trip_rows_async(
        self, served: ServedModel, trips: list[Trip], lacking: dict[int, list[str]]
    ) -> np.ndarray:
        """``trip_rows`` for the event loop: a stored row on a local database is read right
        here (a key probe costs less than the hop to a worker thread); anything that may take
        longer (a computation, a remote database) runs in the thread pool."""
        source = self._rows
        if source is None or not source.local:
            return await run_in_threadpool(self.trip_rows, served, trips, None, lacking)
        stored = source.stored_rows(trips, served.feature_names, lacking)
        if len(stored) == len(trips):
            return self.trip_rows(served, trips, stored, lacking)
        return await run_in_threadpool(self.trip_rows, served, trips, stored, lacking)


def _trip(t: TripIn) -> Trip:
    return Trip(truck_id=t.truck_id, route_id=t.route_id, departure=_naive_utc(t.departure))


def _trip_inputs(trips: list[Trip]) -> list[dict[str, Any]]:
    return [
        {"truck_id": t.truck_id, "route_id": t.route_id, "departure": t.departure.isoformat()}
        for t in trips
    ]


# Trips (/predict and its batch) come with their reasons unless told otherwise; the feature
# endpoints, the raw-throughput path, give them when asked.
TRIP_REASONS = 3


def _reasons_query(default: int) -> Any:
    return Query(default=default, ge=0, le=MAX_REASONS, description=REASONS_DOC)


_TRIP_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON text (e.g. not UTF-8)."},
    404: {"description": "Unknown truck or route."},
    409: {"description": "The trip's forecasts have not arrived: its features cannot be built."},
    413: {"description": "Request body over the byte limit (serving.max_body_bytes)."},
    422: {"description": "Invalid request: the message names each bad field."},
}
_FEATURE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body over the byte or row limit (serving.max_body_bytes, _batch_rows)."},
    422: {"description": "Invalid features: the message names each bad field."},
}


def prediction_router(p: Predictor) -> APIRouter:
    router = APIRouter(tags=["predictions"])

    @router.post("/predict", response_model=PredictionOut, responses=_TRIP_ERRORS)
    async def predict(trip: TripIn, reasons: int = _reasons_query(TRIP_REASONS)) -> Response:
        """Predict one trip: its stored features, else computed by the feature code; with the
        top ``reasons`` contributions (3 unless told; ``?reasons=0`` for none), and whether
        the features were complete (``features_complete``, ``missing_groups``)."""
        served = p.holder.require()
        trips = [_trip(trip)]
        lacking: dict[int, list[str]] = {}
        rows = await p.trip_rows_async(served, trips, lacking)
        answer, why = await p.run_one(served, rows, "api", _trip_inputs(trips), reasons)
        return single_answer(answer, served, why, flags(lacking, 0))

    # Batches touch the database at length: a plain function, run in FastAPI's thread pool.
    @router.post("/predict/batch", response_model=BatchPredictionOut, responses=_TRIP_ERRORS)
    def predict_batch(batch: TripBatchIn, reasons: int = _reasons_query(TRIP_REASONS)) -> Response:
        """Predict up to 10,000 trips in one request, each with its top ``reasons`` (3 unless
        told) and whether its features were complete."""
        served = p.holder.require()
        trips = [_trip(t) for t in batch.trips]
        lacking: dict[int, list[str]] = {}
        rows = p.trip_rows(served, trips, None, lacking)
        answer, why = p.run_explained(served, rows, "batch", reasons, _trip_inputs(trips))
        return batch_answer(answer, served, why, lacking)

    _feature_routes(router, p)
    return router


def _feature_routes(router: APIRouter, p: Predictor) -> None:
    """``/predict/features`` and its batch: bodies read against the served version's contract."""

    # A single vector costs well under a millisecond: run it on the event loop, no thread hop.
    # The body is read against the served version's contract: no model object unless it is bad.
    # ``reasons`` is read from the query string here rather than declared as a parameter:
    # FastAPI's dependency solving cost more than the model call; the routes document it.
    async def predict_features(request: Request) -> Response:
        """Predict from one trip's features, exactly as the served version's feature contract
        names them; ``reasons`` (0 unless asked) adds the top contributions."""
        reasons = reasons_asked(request.scope["query_string"])
        served = p.holder.require()
        rows = p.vectors_for(served).read_one(await request.body(), served.feature_names)
        answer, why = await p.run_one(served, rows, "api", None, reasons)
        return single_answer(answer, served, why)

    def features_batch(body: bytes, reasons: int) -> Response:
        served = p.holder.require()
        vectors = p.vectors_for(served)
        if isinstance(vectors, ContractVectors):
            rows, compact = vectors.read_batch(body, served.feature_names)
        else:
            rows, compact = read_batch(body, vectors, served.feature_names)
        answer, why = p.run_explained(served, rows, "batch", reasons)
        return compact_answer(answer, served, why) if compact else batch_answer(answer, served, why)

    async def predict_features_batch(request: Request) -> Response:
        """Predict up to ``serving.max_batch_rows`` feature rows: as ``rows``, or compact as
        ``columns`` + ``data`` (answered compact: ``prediction_ids``, ``probabilities``,
        ``delayed``)."""
        # The body is read here (capped while read) and parsed against the contract (no
        # pydantic object per row); the work runs in the thread pool, as a plain endpoint would.
        reasons = reasons_asked(request.scope["query_string"])
        return await run_in_threadpool(features_batch, await request.body(), reasons)

    # The body models are built at run time from the contract; FastAPI does not parse these
    # bodies, so the routes document them themselves.
    router.post(
        "/predict/features",
        response_model=PredictionOut,
        openapi_extra={
            "parameters": [REASONS_PARAMETER],
            "requestBody": _body_schema(p.vectors.model),
        },
        responses=_FEATURE_ERRORS,
    )(predict_features)
    router.post(
        "/predict/features/batch",
        response_model=BatchPredictionOut | CompactPredictionOut,
        openapi_extra={
            "parameters": [REASONS_PARAMETER],
            "requestBody": _body_schema(p.vectors.batch_model),
        },
        responses=_FEATURE_ERRORS,
    )(predict_features_batch)


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
