"""The serving layer's errors; each carries the HTTP status the API answers it with."""

from __future__ import annotations

from typing import Any

from truckflow.errors import TruckflowError

__all__ = [
    "AdminAuthError",
    "FeatureLookupUnavailableError",
    "ForecastsNotArrivedError",
    "InvalidFeaturesError",
    "ModelLoadError",
    "NoModelDeployedError",
    "ServingError",
    "UnknownEntityError",
]


class ServingError(TruckflowError):
    """Base of the serving layer's errors; ``status_code`` is what the API answers."""

    status_code: int = 500


class UnknownEntityError(ServingError):
    """A request names a truck or route that the database does not know."""

    status_code = 404

    def __init__(self, kind: str, entity_id: object) -> None:
        super().__init__(f"unknown {kind} {entity_id!r}")
        self.kind = kind
        self.entity_id = entity_id


class ForecastsNotArrivedError(ServingError):
    """The weather or traffic forecasts that a trip's features need are not in the database yet."""

    status_code = 409


class FeatureLookupUnavailableError(ServingError):
    """This server has no feature source, so it cannot look trips up (explicit features only)."""

    status_code = 503


class NoModelDeployedError(ServingError):
    """No model version is behind the stage alias (or it could not be loaded yet)."""

    status_code = 503

    def __init__(self, model_name: str, stage: str, reason: str | None = None) -> None:
        message = f"no model deployed on stage {stage!r} (registered model {model_name!r})"
        super().__init__(message + (f": {reason}" if reason else ""))
        self.stage = stage


class InvalidFeaturesError(ServingError):
    """An explicit feature vector lacks features the model needs, or has ones it does not know."""

    status_code = 422

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        fields = ", ".join(str(e["loc"][-1]) for e in errors)
        super().__init__(f"invalid feature vector: {fields}")
        self.errors = errors


class ModelLoadError(ServingError):
    """A model version could not be resolved or loaded from the registry."""

    status_code = 503


class AdminAuthError(ServingError):
    """An admin endpoint was called without the admin token, or with a wrong one."""

    status_code = 401


class BodyTooLargeError(ServingError):
    """A request body over the byte or row limit (refused while it is read)."""

    status_code = 413
