"""Explicit feature vectors: the body models, and their conversion to one float array.

The body model is built from the feature names of the version served at start-up, so OpenAPI
lists them and pydantic names each missing or wrong one. A later version with other features is
still checked, name by name, against the version that serves the request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from truckflow.registry.contract import MAGNITUDE_LIMIT
from truckflow.serving.errors import InvalidFeaturesError
from truckflow.serving.schemas import MAX_BATCH, feature_vector_model

__all__ = ["FeatureVectors", "column_errors", "column_order", "columns_array"]


_NUMBERS = msgspec.json.Decoder(dict[str, float])


class FeatureVectors:
    def __init__(self, names: Sequence[str] | None) -> None:
        self.names = tuple(names) if names else None
        self.model = feature_vector_model(self.names)
        rows_type: Any = list[self.model] | None  # type: ignore[name-defined]
        rows_field: Any = Field(default=None, min_length=1, max_length=MAX_BATCH)
        self.batch_model: type[BaseModel] = create_model(
            "FeatureBatch", __base__=_BatchBase, rows=(rows_type, rows_field)
        )

    def read_one(self, body: bytes, served: Sequence[str]) -> np.ndarray:
        """One vector's body as a one-row array in the served order.

        The common case (every served feature, numbers only) is decoded by msgspec and put in
        order with no model object; anything else goes through the pydantic body model, whose
        errors name every bad feature (a 422, as FastAPI's own validation answers).
        """
        try:
            values = _NUMBERS.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            values = None
        if values is not None and len(values) == len(served):
            try:
                row = np.array([[values[name] for name in served]], dtype=np.float64)
            except KeyError:  # another feature than the served ones: let the model say which
                row = None
            if row is not None and (np.abs(row) <= MAGNITUDE_LIMIT).all():  # NaN fails too
                return row
        try:
            vector = self.model.model_validate_json(body)
        except ValidationError as exc:
            errors = [
                {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]}
                for e in exc.errors()
            ]
            raise InvalidFeaturesError(errors) from exc
        return self.to_array([vector], served)

    def batch_array(self, batch: BaseModel, served: Sequence[str]) -> np.ndarray:
        """The rows of a batch body, whichever of its two forms it takes."""
        rows = getattr(batch, "rows", None)
        if rows is not None:
            return self.to_array(rows, served, batch=True)
        return columns_array(batch.columns, batch.data, served)  # type: ignore[attr-defined]

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
                elif not math.isfinite(value) or abs(value) > MAGNITUDE_LIMIT:
                    message = f"Input should be a finite number of at most {MAGNITUDE_LIMIT:g}"
                    errors.append(_error(loc, name, "finite_number", message))
                else:
                    out[i, j] = value
            if len(errors) >= 50:  # enough to fix the client; a 10,000-row echo helps no one
                break
        if errors:
            raise InvalidFeaturesError(errors)
        return out


class _BatchBase(BaseModel):
    """Either ``rows`` (one object per trip) or ``columns`` + ``data`` (a row of numbers per trip,
    the compact form for large batches, answered in the same compact form)."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    data: list[list[float]] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def _one_form(self) -> _BatchBase:
        rows = getattr(self, "rows", None)
        compact = self.columns is not None or self.data is not None
        if (rows is None) == (not compact):
            raise ValueError("send either 'rows' or both 'columns' and 'data'")
        if compact and (self.columns is None or self.data is None):
            raise ValueError("'columns' and 'data' go together")
        return self


def column_order(columns: Sequence[str], served: Sequence[str]) -> list[int]:
    """Where each served feature is among ``columns``; a 422 error names what is wrong."""
    errors = column_errors(columns, served)
    if errors:
        raise InvalidFeaturesError(errors)
    position = {name: i for i, name in enumerate(columns)}
    return [position[name] for name in served]


def column_errors(columns: Sequence[str], served: Sequence[str]) -> list[dict[str, Any]]:
    """What is wrong with the compact form's column names: missing, unknown, repeated."""
    errors: list[dict[str, Any]] = []
    position = {name: i for i, name in enumerate(columns)}
    for name in served:
        if name not in position:
            errors.append(_error(["body", "columns"], name, "missing", "Field required"))
    known = set(served)
    for name in columns:
        if name not in known:
            errors.append(
                _error(
                    ["body", "columns"],
                    name,
                    "extra_forbidden",
                    "not a feature of the served model",
                )
            )
    if len(position) != len(columns):
        errors.append(_error(["body"], "columns", "value_error", "a column is named twice"))
    return errors


def columns_array(
    columns: Sequence[str], data: Sequence[Sequence[float]] | np.ndarray, served: Sequence[str]
) -> np.ndarray:
    """The compact form in the served model's feature order; a 422 error names what is wrong."""
    if not isinstance(data, np.ndarray):
        errors = column_errors(columns, served)
        for i, row in enumerate(data):
            if len(row) != len(columns):
                message = f"row has {len(row)} values for {len(columns)} columns"
                errors.append(_error(["body", "data"], str(i), "length", message))
                if len(errors) >= 50:
                    break
        if errors:
            raise InvalidFeaturesError(errors)
        data = np.array(data, dtype=np.float64)
        if not (np.abs(data) <= MAGNITUDE_LIMIT).all():
            raise InvalidFeaturesError(
                [_error(["body"], "data", "finite_number", "Input should be finite numbers")]
            )
    order = column_order(columns, served)
    return data if order == list(range(len(columns))) else data[:, order]


def _error(loc: list[Any], name: str, kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": [*loc, name], "msg": message}
