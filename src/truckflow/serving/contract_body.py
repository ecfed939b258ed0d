"""Feature bodies checked against the served version's feature contract.

``/predict/features`` takes exactly the contract: each feature column by name (no ids, no
label), numbers as JSON numbers (not ``true``; magnitude at most ``MAGNITUDE_LIMIT``), categories
as strings (a category the model never saw is accepted and encoded as none of those it knows, as
its one-hot encoder does), flags as 0 or 1; ``null`` where the model imputes a blank. msgspec
decodes a body against a struct built from the contract (no model object per request); a body it
refuses goes through the pydantic model built from the same contract, whose 422 names every bad
field. The pydantic models are also what OpenAPI shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, create_model

from truckflow.registry.contract import MAGNITUDE_LIMIT, FeatureContract, FeatureSpec
from truckflow.serving.errors import BodyTooLargeError, InvalidFeaturesError
from truckflow.serving.vectors import column_errors

__all__ = ["ContractVectors"]

_MAX_TEXT = 200
_MAX_ERRORS = 50

_Number = Annotated[float, msgspec.Meta(ge=-MAGNITUDE_LIMIT, le=MAGNITUDE_LIMIT)] | None
_Flag = Annotated[float, msgspec.Meta(ge=0, le=1)] | None
_Text = Annotated[str, msgspec.Meta(max_length=_MAX_TEXT)] | None


def _msgspec_type(spec: FeatureSpec) -> Any:
    return {"numeric": _Number, "binary": _Flag, "categorical": _Text}[spec.kind]


def _describe(spec: FeatureSpec) -> str:
    unit = f" ({spec.unit})" if spec.unit else ""
    if spec.kind == "categorical":
        seen = ", ".join(spec.categories[:60])
        return (
            f"Category{unit}; seen in training: {seen}. Any other text is accepted and "
            "counts as none of these; null is imputed as 'Unknown'."
        )
    observed = ""
    if spec.minimum is not None and spec.maximum is not None:
        observed = f" Observed in training: {spec.minimum:g} to {spec.maximum:g}."
    if spec.kind == "binary":
        return f"Flag: 0 or 1 (null counts as 0).{observed}"
    return f"Number{unit}; null is imputed as the model does.{observed}"


def _pydantic_field(spec: FeatureSpec) -> tuple[Any, Any]:
    text = _describe(spec)
    if spec.kind == "categorical":
        word = spec.categories[0] if spec.categories else "Unknown"
        return str | None, Field(max_length=_MAX_TEXT, description=text, examples=[word])
    low, high = (0.0, 1.0) if spec.kind == "binary" else (-MAGNITUDE_LIMIT, MAGNITUDE_LIMIT)
    example = spec.minimum if spec.minimum is not None else low
    return float | None, Field(
        strict=True, ge=low, le=high, allow_inf_nan=False, description=text, examples=[example]
    )


def _error(loc: list[Any], kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": message}


class ContractVectors:
    """Bodies of the feature endpoints for one contract, as object rows in the served order."""

    def __init__(self, contract: FeatureContract, max_rows: int = 10_000) -> None:
        self.contract = contract
        self.names = contract.names
        self.max_rows = max_rows
        fields = [(f.name, _msgspec_type(f)) for f in contract.features]
        self._struct = msgspec.defstruct("Features", fields, forbid_unknown_fields=True)
        self._one = msgspec.json.Decoder(self._struct)
        batch = msgspec.defstruct(
            "FeatureBatch",
            [
                ("rows", list[self._struct] | None, None),  # type: ignore[name-defined]
                ("columns", list[str] | None, None),
                ("data", list[list[float | str | None]] | None, None),
            ],
            forbid_unknown_fields=True,
        )
        self._batch = msgspec.json.Decoder(batch)
        # The compact form with the columns in the contract's order (what clients send): every
        # value typed by its column and checked by msgspec itself, no check per value here.
        typed: Any = tuple[tuple(_msgspec_type(f) for f in contract.features)]  # type: ignore[misc]
        ordered = msgspec.defstruct(
            "OrderedColumns",
            [("columns", list[str]), ("data", list[typed])],
            forbid_unknown_fields=True,
        )
        self._ordered = msgspec.json.Decoder(ordered)
        described: dict[str, Any] = {f.name: _pydantic_field(f) for f in contract.features}
        self.model: type[BaseModel] = create_model(
            "FeatureVector",
            __config__=ConfigDict(extra="forbid"),
            __doc__="One trip's features, as the served version's feature contract names them.",
            **described,
        )
        self.batch_model = _batch_model(contract, self.model)

    def _order(self, served: Sequence[str]) -> list[int] | None:
        if tuple(served) == self.names:
            return None
        errors = column_errors(self.names, served)
        if errors:  # the served version has another contract than this one
            raise InvalidFeaturesError(errors)
        position = {n: i for i, n in enumerate(self.names)}
        return [position[n] for n in served]

    def _details(self, body: bytes, model: Any) -> InvalidFeaturesError:
        try:
            model.model_validate_json(body)
        except ValidationError as exc:
            errors = [
                _error(["body", *e["loc"]], e["type"], e["msg"]) for e in exc.errors()[:_MAX_ERRORS]
            ]
            return InvalidFeaturesError(errors)
        return InvalidFeaturesError([_error(["body"], "value_error", "invalid feature body")])

    def read_one(self, body: bytes, served: Sequence[str]) -> np.ndarray:
        """One body as a one-row object array in the served order (422 naming bad fields)."""
        try:
            values = msgspec.structs.astuple(self._one.decode(body))
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise self._details(body, self.model) from None
        row = np.empty((1, len(values)), dtype=object)
        row[0, :] = values
        order = self._order(served)
        return row if order is None else row[:, order]

    def read_batch(self, body: bytes, served: Sequence[str]) -> tuple[np.ndarray, bool]:
        """A batch body's rows in the served order, and whether it came compact."""
        fast = self._ordered_rows(body, served)
        if fast is not None:
            return fast, True
        try:
            decoded: Any = self._batch.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise self._details(body, self.batch_model) from None
        rows, columns, data = decoded.rows, decoded.columns, decoded.data
        if (rows is None) == (columns is None and data is None) or (
            rows is None and (columns is None or data is None)
        ):
            raise self._details(body, self.batch_model)
        size = len(rows) if rows is not None else len(data)
        if size > self.max_rows:
            raise BodyTooLargeError(
                f"{size} rows in one batch: the limit is {self.max_rows} "
                "(setting serving.max_batch_rows); split the batch"
            )
        if size == 0:
            raise InvalidFeaturesError([_error(["body"], "too_short", "the batch has no rows")])
        if rows is not None:
            array = np.empty((len(rows), len(self.names)), dtype=object)
            array[:, :] = [msgspec.structs.astuple(r) for r in rows]
            order = self._order(served)
            return (array if order is None else array[:, order]), False
        return self._compact(columns, data, served), True

    def _ordered_rows(self, body: bytes, served: Sequence[str]) -> np.ndarray | None:
        """The compact form in the contract's column order, decoded and checked by msgspec;
        None for any other body (the general path then reads it and names what is wrong)."""
        try:
            decoded: Any = self._ordered.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        data = decoded.data
        if tuple(decoded.columns) != self.names or not data or len(data) > self.max_rows:
            return None
        # msgspec checked that every row is a tuple of exactly the contract's width: the
        # values go in flat, one C loop (assigning the nested list made numpy probe each row).
        width = len(self.names)
        flat = np.fromiter(chain.from_iterable(data), dtype=object, count=len(data) * width)
        array = flat.reshape(len(data), width)
        order = self._order(served)
        return array if order is None else array[:, order]

    def _compact(
        self, columns: list[str], data: list[list[object]], served: Sequence[str]
    ) -> np.ndarray:
        errors = column_errors(columns, self.names)
        width = len(columns)
        ragged = [i for i, row in enumerate(data) if len(row) != width][:_MAX_ERRORS]
        errors += [
            _error(["body", "data", i], "length", f"row has {len(data[i])} values for {width}")
            for i in ragged
        ]
        if errors:
            raise InvalidFeaturesError(errors)
        array = np.empty((len(data), width), dtype=object)
        array[:, :] = data
        for j, name in enumerate(columns):
            errors += _column_errors(array[:, j], self.contract.spec(name))
            if len(errors) >= _MAX_ERRORS:
                break
        if errors:
            raise InvalidFeaturesError(errors[:_MAX_ERRORS])
        position = {n: i for i, n in enumerate(columns)}
        return array[:, [position[n] for n in served]]


def _tuple_item(spec: FeatureSpec) -> Any:
    kind, field = _pydantic_field(spec)
    return Annotated[kind, field]


def _batch_model(contract: FeatureContract, vector: type[BaseModel]) -> Any:
    """The batch body: ``rows`` (objects), or ``columns`` + ``data`` (arrays of values). The
    documented compact form lists the columns in the contract's order, each row's values typed
    column by column; columns in another order are accepted too."""
    config = ConfigDict(extra="forbid")
    rows = create_model(
        "FeatureRows",
        __config__=config,
        __doc__="One object per trip.",
        rows=(list[vector], Field(min_length=1)),  # type: ignore[valid-type]
    )
    names: Any = tuple[tuple(Literal[n] for n in contract.names)]  # type: ignore[misc]
    values: Any = tuple[tuple(_tuple_item(f) for f in contract.features)]  # type: ignore[misc]
    compact = create_model(
        "FeatureColumns",
        __config__=config,
        __doc__="The compact form for large batches, answered compact: the column names once, "
        "then one array of values per trip.",
        columns=(names, ...),
        data=(list[values], Field(min_length=1)),
    )
    union: Any = rows | compact
    return RootModel[union]


def _column_errors(column: np.ndarray, spec: FeatureSpec) -> list[dict[str, Any]]:
    """What is wrong with one column of the compact form (values msgspec typed already)."""
    if spec.kind == "categorical":
        bad = [i for i, v in enumerate(column.tolist()) if isinstance(v, float)]
        kind, message = "string_type", "Input should be a valid string or null"
        if not bad:
            long = [
                i
                for i, v in enumerate(column.tolist())
                if isinstance(v, str) and len(v) > _MAX_TEXT
            ]
            bad, kind = long, "string_too_long"
            message = f"String should have at most {_MAX_TEXT} characters"
    else:
        values = column.tolist()
        bad = [i for i, v in enumerate(values) if isinstance(v, str)]
        kind, message = "float_type", "Input should be a valid number or null"
        if not bad:
            low, high = (0.0, 1.0) if spec.kind == "binary" else (-MAGNITUDE_LIMIT, MAGNITUDE_LIMIT)
            bad = [i for i, v in enumerate(values) if v is not None and not low <= v <= high]
            kind, message = "out_of_range", f"Input should be a number from {low:g} to {high:g}"
    return [_error(["body", "data", i, spec.name], kind, message) for i in bad[:_MAX_ERRORS]]
