"""The body of ``POST /predict/features/batch``, read without a pydantic object per row.

A 10,000-row batch in the compact form (``columns`` + ``data``) is 400,000 numbers: through
pydantic that is a validation per number and most of the request's time. Here msgspec decodes
the bytes against a typed struct (numbers must be numbers) straight into lists, numpy makes one
float array of them, and the checks run on the array: shape, finiteness, the columns against the
served model's features. Each error names what is wrong (row, column) in the 422 body FastAPI
gives for its own validation errors. The ``rows`` form (one object per trip) is left to the
pydantic body model, which names each bad feature of each row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
from pydantic import BaseModel, ValidationError

from truckflow.registry.contract import MAGNITUDE_LIMIT
from truckflow.serving.errors import InvalidFeaturesError
from truckflow.serving.schemas import MAX_BATCH
from truckflow.serving.vectors import FeatureVectors, column_errors, columns_array

__all__ = ["read_batch"]

_MAX_COLUMNS = 1000
_MAX_ERRORS = 50  # enough to fix the client; a 10,000-row echo helps no one


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    columns: list[str] | None = None
    data: list[list[float]] | None = None
    rows: list[Any] | None = None


_DECODER = msgspec.json.Decoder(_Body)
_PATH = re.compile(r"\$((?:\.\w+|\[\d+\])*)")


def _error(loc: list[Any], kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": message}


def _loc(path: str, columns: Sequence[str] | None) -> list[Any]:
    """``$.data[3][5]`` as ``["body", "data", 3, "<column 5>"]``."""
    loc: list[Any] = ["body"]
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", path):
        loc.append(name if name else int(index))
    if len(loc) == 4 and loc[1] == "data" and columns and loc[3] < len(columns):
        loc[3] = columns[loc[3]]
    return loc


def _columns_of(body: bytes) -> list[str] | None:
    """The column names of a body that failed typed decoding (to name the bad value's column)."""
    try:  # the standard library's parser: it also reads numbers out of a double's range
        loose = json.loads(body)
    except ValueError:
        return None
    columns = loose.get("columns") if isinstance(loose, dict) else None
    ok = isinstance(columns, list) and all(isinstance(c, str) for c in columns)
    return columns if ok else None


def _decode(body: bytes) -> _Body:
    try:
        return _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        # msgspec stops at the first bad value: "Expected `float`, got `str` - at `$.data[3][5]`"
        message, _, where = str(exc).partition(" - at `")
        match = _PATH.match(where.rstrip("`"))
        loc = _loc(match.group(0), _columns_of(body)) if match else ["body"]
        raise InvalidFeaturesError([_error(loc, "type_error", message)]) from exc
    except msgspec.DecodeError as exc:
        raise InvalidFeaturesError([_error(["body"], "json_invalid", str(exc))]) from exc


def _ragged(data: list[list[float]], width: int) -> list[dict[str, Any]]:
    errors = []
    for i, row in enumerate(data):
        if len(row) != width:
            message = f"row has {len(row)} values for {width} columns"
            errors.append(_error(["body", "data", str(i)], "length", message))
            if len(errors) >= _MAX_ERRORS:
                break
    return errors


def _not_finite(array: np.ndarray, columns: Sequence[str]) -> list[dict[str, Any]]:
    # Beyond the limit a number overflows the scaling or XGBoost's float32 (NaN fails too).
    bad = np.argwhere(~(np.abs(array) <= MAGNITUDE_LIMIT))[:_MAX_ERRORS]
    message = f"Input should be a finite number of at most {MAGNITUDE_LIMIT:g}"
    return [
        _error(["body", "data", int(i), columns[j]], "finite_number", message)
        for i, j in bad.tolist()
    ]


def _compact(decoded: _Body, served: Sequence[str]) -> np.ndarray:
    columns, data = decoded.columns, decoded.data
    if columns is None or data is None:
        raise InvalidFeaturesError(
            [_error(["body"], "value_error", "'columns' and 'data' go together")]
        )
    limits = [
        (["body", "columns"], len(columns), _MAX_COLUMNS),
        (["body", "data"], len(data), MAX_BATCH),
    ]
    for loc, size, most in limits:
        if not 1 <= size <= most:
            raise InvalidFeaturesError(
                [_error(loc, "too_long", f"needs 1 to {most} items, got {size}")]
            )
    errors = column_errors(columns, served)
    try:
        array = np.array(data, dtype=np.float64)
    except ValueError:  # rows of different lengths
        array = None
    if array is None or array.shape != (len(data), len(columns)):
        errors += _ragged(data, len(columns)) or [
            _error(["body", "data"], "length", "rows of numbers expected")
        ]
    else:
        errors += _not_finite(array, columns)
    if errors or array is None:
        raise InvalidFeaturesError(errors)
    return columns_array(columns, array, served)


def _rows(decoded: _Body, vectors: FeatureVectors, served: Sequence[str]) -> np.ndarray:
    given = {
        k: v
        for k, v in (("rows", decoded.rows), ("columns", decoded.columns), ("data", decoded.data))
        if v is not None
    }
    try:
        batch: BaseModel = vectors.batch_model.model_validate(given)
    except ValidationError as exc:
        errors = [
            _error(["body", *e["loc"]], e["type"], e["msg"]) for e in exc.errors()[:_MAX_ERRORS]
        ]
        raise InvalidFeaturesError(errors) from exc
    return vectors.batch_array(batch, served)


def read_batch(
    body: bytes, vectors: FeatureVectors, served: Sequence[str]
) -> tuple[np.ndarray, bool]:
    """The batch's rows in the served feature order, and whether it came in the compact form."""
    decoded = _decode(body)
    if decoded.rows is None and (decoded.columns is not None or decoded.data is not None):
        return _compact(decoded, served), True
    return _rows(decoded, vectors, served), False
