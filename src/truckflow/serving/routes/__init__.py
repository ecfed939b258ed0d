"""The serving API's routers, one per concern; ``truckflow.serving.app`` assembles them."""

from __future__ import annotations

from truckflow.serving.routes.admin import admin_router
from truckflow.serving.routes.feedback import feedback_router
from truckflow.serving.routes.operations import operations_router
from truckflow.serving.routes.predictions import prediction_router

__all__ = ["admin_router", "feedback_router", "operations_router", "prediction_router"]
