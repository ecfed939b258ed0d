"""Operations: readiness, the served version's metadata, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from truckflow.serving.holder import ModelHolder
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.schemas import HealthOut, ModelOut

__all__ = ["operations_router"]


def operations_router(
    holder: ModelHolder, metrics: ServingMetrics, model_name: str, stage: str
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", response_model=HealthOut)
    async def health() -> dict[str, Any]:
        """Ready when a model is loaded for the stage (503 otherwise)."""
        served = holder.require()
        return {"status": "ok", "stage": stage, "model_version": served.version}

    @router.get("/model", response_model=ModelOut)
    async def model() -> dict[str, Any]:
        """The served version: stage, threshold, features, metrics, training data window."""
        served = holder.require()
        return {
            "model_name": model_name,
            "model_version": served.version,
            "stage": stage,
            "threshold": served.threshold,
            "feature_names": list(served.feature_names),
            "metrics": dict(served.model.metrics),
            "data_window": dict(served.model.data_window),
            "loaded_at": served.loaded_at,
        }

    @router.get("/metrics", response_class=Response)
    async def prometheus() -> Response:
        """Prometheus text format: requests, latency, predictions by class, model version."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
