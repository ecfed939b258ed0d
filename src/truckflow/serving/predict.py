"""What every prediction endpoint runs: the served model on feature rows, the capture, the
trips' rows from the online feature read.

The hot path stays lean: the served model is read once per request, features become one float
array, the model predicts on it, and the capture is handed to the writer thread as arrays.
Responses are built as plain dicts (``response_model`` only documents them).
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from truckflow.clock import utcnow
from truckflow.features.rows import MissingModelFeaturesError, frame_rows
from truckflow.features.trip import UnknownTripEntityError
from truckflow.serving.answers import Answer
from truckflow.serving.capture import CaptureBatch, CaptureWriter
from truckflow.serving.coalesce import RowCoalescer
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.errors import (
    FeatureLookupUnavailableError,
    ForecastsNotArrivedError,
    ServingError,
    UnknownEntityError,
)
from truckflow.serving.holder import ModelHolder, ServedModel
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.model import FeatureRows, FeatureSource, Trip
from truckflow.serving.vectors import FeatureVectors

__all__ = ["Predictor"]


# Prediction ids: 128 random bits each from a generator seeded once per process from the
# system's randomness (unique as uuid4s are in practice); a system call per request cost more
# than the model call under load.
_IDS = random.Random(os.urandom(32))


def _new_ids(n: int) -> list[str]:
    if n == 2:  # one prediction and its request
        return [f"{_IDS.getrandbits(128):032x}", f"{_IDS.getrandbits(128):032x}"]
    raw = _IDS.randbytes(16 * n).hex()
    return [raw[i * 32 : (i + 1) * 32] for i in range(n)]


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
                created_at=utcnow(),
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
        """The trips' model rows (stored, else computed); 404 for an unknown truck or route,
        409 when some cannot be built. ``lacking`` gets the input groups of partial stored
        rows, by position."""
        try:
            return self._trip_rows(served, trips, stored, lacking)
        except UnknownTripEntityError as exc:  # the feature code's error, as this API answers it
            raise UnknownEntityError(exc.kind, exc.entity_id) from None
        except MissingModelFeaturesError as exc:
            raise ServingError(str(exc)) from None

    def _trip_rows(
        self,
        served: ServedModel,
        trips: list[Trip],
        stored: dict[int, list[object]] | None = None,
        lacking: dict[int, list[str]] | None = None,
    ) -> np.ndarray:
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
        """``trip_rows`` for the event loop: on a local database a stored row, or one trip
        computed, is read right here (cheaper than the hop to a worker thread); anything that
        may take longer (many trips, a remote database) runs in the thread pool."""
        source = self._rows
        if source is None or not source.local:
            return await run_in_threadpool(self.trip_rows, served, trips, None, lacking)
        stored = source.stored_rows(trips, served.feature_names, lacking)
        if len(stored) == len(trips) or len(trips) == 1:
            # One trip computed on a local database: a few indexed reads on prepared
            # statements, about a millisecond, less than the hop to a thread and back under
            # load (where the hop waits for the GIL behind the other requests).
            return self.trip_rows(served, trips, stored, lacking)
        return await run_in_threadpool(self.trip_rows, served, trips, stored, lacking)
