"""Admin endpoints, behind the bearer token from settings."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from truckflow.serving.errors import AdminAuthError
from truckflow.serving.handlers import BODY_RESPONSES
from truckflow.serving.holder import ModelHolder
from truckflow.serving.schemas import ReloadOut
from truckflow.settings import Settings

__all__ = ["admin_router"]


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


def admin_router(settings: Settings, holder: ModelHolder) -> APIRouter:
    router = APIRouter(tags=["admin"])

    @router.post(
        "/admin/reload",
        response_model=ReloadOut,
        dependencies=[Depends(_admin_guard(settings))],
        responses={401: {"description": "Missing or wrong admin token."}, **BODY_RESPONSES},
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

    return router
