"""How the serving API answers errors: one JSON document shape, the status each error owns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from truckflow.serving.errors import AdminAuthError, InvalidFeaturesError, ServingError
from truckflow.serving.limits import BodyLimitExceeded

__all__ = ["BODY_RESPONSES", "ERROR_RESPONSES", "install_error_handlers"]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "No model is deployed on this server's stage."},
}
# Any request may carry a body; one over the limit is refused while it is read.
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body could not be read as JSON text (e.g. not UTF-8)."},
    413: {"description": "Request body over the byte limit (serving_max_body_bytes)."},
    422: {"description": "Invalid request: the message names each bad field."},
}


def _validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    # Each error keeps its location and message; the input echo is left out (bodies can be big).
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    named = "; ".join(
        ".".join(str(x) for x in e["loc"]) + ": " + str(e["msg"]) for e in detail[:20]
    )
    return {"message": f"invalid request: {named}", "detail": jsonable_encoder(detail)}


def install_error_handlers(app: FastAPI) -> None:
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
