"""Typed pipeline parameters: string, int, float, bool and date, each with an optional default."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from truckflow.pipeline.errors import ParameterError

__all__ = ["MISSING", "PARAMETER_TYPES", "Parameter", "coerce_value"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()

PARAMETER_TYPES: Final[dict[str, type]] = {
    "string": str,
    "int": int,
    "float": float,
    "bool": bool,
    "date": dt.date,
}
_ALIASES: Final[dict[Any, str]] = {
    str: "string",
    int: "int",
    float: "float",
    bool: "bool",
    dt.date: "date",
    "str": "string",
    "integer": "int",
    "boolean": "bool",
}
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _type_name(kind: Any) -> str:
    if isinstance(kind, str) and kind in PARAMETER_TYPES:
        return kind
    if kind in _ALIASES:
        return _ALIASES[kind]
    raise ParameterError(
        f"unknown parameter type {kind!r}; use one of {', '.join(PARAMETER_TYPES)}"
    )


def coerce_value(type_name: str, value: Any, *, what: str, parse_text: bool = True) -> Any:
    """Check ``value`` against ``type_name``; text (from a command line) is parsed."""
    if parse_text and isinstance(value, str) and type_name != "string":
        return _parse(type_name, value, what=what)
    if type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type_name == "date" and isinstance(value, dt.datetime):
        raise ParameterError(f"{what}: expected a date, got the datetime {value.isoformat()}")
    expected = PARAMETER_TYPES[type_name]
    if isinstance(value, bool) and type_name != "bool":
        raise ParameterError(f"{what}: expected {type_name}, got bool {value!r}")
    if not isinstance(value, expected):
        raise ParameterError(f"{what}: expected {type_name}, got {type(value).__name__} {value!r}")
    return value


def _parse(type_name: str, text: str, *, what: str) -> Any:
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "date":
            return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"{what}: cannot read {text!r} as {type_name}") from None
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ParameterError(f"{what}: cannot read {text!r} as bool (use true or false)")


@dataclass(frozen=True)
class Parameter:
    """A named, typed input of a pipeline; use the object itself wherever a step takes a value.

    ``Parameter("rows", "int", default=100)``; without a default the parameter is required.
    """

    name: str
    type: str = "string"
    default: Any = field(default=MISSING)
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ParameterError(f"parameter name {self.name!r} is not an identifier")
        object.__setattr__(self, "type", _type_name(self.type))
        if self.default is not MISSING:
            value = coerce_value(
                self.type,
                self.default,
                what=f"default of parameter {self.name!r}",
                parse_text=False,
            )
            object.__setattr__(self, "default", value)

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if not self.required:
            out["default"] = to_json_value(self.default)
        if self.description:
            out["description"] = self.description
        return out


def to_json_value(value: Any) -> Any:
    """Dates as ISO text; everything else as it is."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
