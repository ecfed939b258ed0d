"""The prediction endpoints: by trip (features from the database) and by explicit features.

Responses are built as plain dicts encoded by msgspec (``response_model`` only documents them).
``POST /predict/features`` is answered by ``truckflow.serving.fast`` before routing when all is
well; the route here stands behind it (refusals, documentation).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from truckflow.clock import naive_utc
from truckflow.serving.answers import batch_answer, compact_answer, flags, single_answer
from truckflow.serving.batch_body import read_batch
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.model import Trip
from truckflow.serving.predict import Predictor
from truckflow.serving.reasons import MAX_REASONS, REASONS_DOC, REASONS_PARAMETER, reasons_asked
from truckflow.serving.schemas import (
    BatchPredictionOut,
    CompactPredictionOut,
    PredictionOut,
    TripBatchIn,
    TripIn,
)

__all__ = ["prediction_router"]


def _trip(t: TripIn) -> Trip:
    return Trip(truck_id=t.truck_id, route_id=t.route_id, departure=naive_utc(t.departure))


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
    413: {"description": "Request body over the byte limit (serving_max_body_bytes)."},
    422: {"description": "Invalid request: the message names each bad field."},
}
_FEATURE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body over the byte or row limit (serving_max_body_bytes, _batch_rows)."},
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
        """Predict up to ``serving_max_batch_rows`` feature rows: as ``rows``, or compact as
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
