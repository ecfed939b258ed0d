"""Explicit feature vectors: the body models, and their conversion to one float array.

The body model is built from the feature names of the version served at start-up, so OpenAPI
lists them and pydantic names each missing or wrong one. A later version with other features is
still checked, name by name, against the version that serves the request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from truckflow.serving.errors import InvalidFeaturesError
from truckflow.serving.schemas import MAX_BATCH, feature_vector_model

__all__ = ["FeatureVectors"]


class FeatureVectors:
    def __init__(self, names: Sequence[str] | None) -> None:
        self.names = tuple(names) if names else None
        self.model = feature_vector_model(self.names)
        self.batch_model: type[BaseModel] = create_model(
            "FeatureBatch",
            __config__=ConfigDict(extra="forbid"),
            rows=(list[self.model], Field(min_length=1, max_length=MAX_BATCH)),  # type: ignore[name-defined]
        )

    def to_array(
        self, vectors: Sequence[BaseModel], served: Sequence[str], *, batch: bool = False
    ) -> np.ndarray:
        """Rows in the served model's feature order; a 422 error names every bad feature."""
        if self.names is not None and tuple(served) == self.names:
            # The body model already checked each value; its fields are in the served order.
            return np.array([list(v.__dict__.values()) for v in vectors], dtype=np.float64)
        out = np.empty((len(vectors), len(served)), dtype=np.float64)
        errors: list[dict[str, Any]] = []
        for i, vector in enumerate(vectors):
            loc: list[Any] = ["body", "rows", i] if batch else ["body"]
            values = vector.model_dump(by_alias=True)
            for name in set(values) - set(served):
                errors.append(
                    _error(loc, name, "extra_forbidden", "not a feature of the served model")
                )
            for j, name in enumerate(served):
                value = values.get(name)
                if value is None:
                    errors.append(_error(loc, name, "missing", "Field required"))
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    errors.append(_error(loc, name, "float_type", "Input should be a valid number"))
                elif not math.isfinite(value):
                    errors.append(
                        _error(loc, name, "finite_number", "Input should be a finite number")
                    )
                else:
                    out[i, j] = value
            if len(errors) >= 50:  # enough to fix the client; a 10,000-row echo helps no one
                break
        if errors:
            raise InvalidFeaturesError(errors)
        return out


def _error(loc: list[Any], name: str, kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": [*loc, name], "msg": message}
