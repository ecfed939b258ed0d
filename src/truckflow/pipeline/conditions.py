"""Conditions over parameters, constants and step outputs, for condition steps.

``Condition.ge(ref("evaluate")["f1"], threshold) & ~Condition.eq(mode, "dry-run")``; the
comparisons are ``eq ne lt le gt ge in_`` and they combine with ``all_``/``any_``/``not_`` or the
operators ``& | ~``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from truckflow.pipeline.errors import DefinitionError, PipelineError
from truckflow.pipeline.refs import encode_value, resolve

__all__ = ["Condition"]

_COMPARE: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda left, right: left in right,
}
_LOGIC: Final = ("and", "or", "not")


@dataclass(frozen=True)
class Condition:
    """One comparison (``op`` in ``== != < <= > >= in``) or a combination (``and or not``)."""

    op: str
    operands: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.op in _COMPARE:
            if len(self.operands) != 2:
                raise DefinitionError(f"condition {self.op!r} takes two operands")
        elif self.op in _LOGIC:
            if not all(isinstance(o, Condition) for o in self.operands):
                raise DefinitionError(f"condition {self.op!r} combines conditions only")
            if self.op == "not" and len(self.operands) != 1:
                raise DefinitionError("condition 'not' takes one condition")
            if not self.operands:
                raise DefinitionError(f"condition {self.op!r} needs at least one condition")
        else:
            raise DefinitionError(f"unknown condition operator {self.op!r}")
        encode_value(self.operands)  # fail now, not at run time, on values that are not data

    # The comparisons.
    @staticmethod
    def eq(left: Any, right: Any) -> Condition:
        return Condition("==", (left, right))

    @staticmethod
    def ne(left: Any, right: Any) -> Condition:
        return Condition("!=", (left, right))

    @staticmethod
    def lt(left: Any, right: Any) -> Condition:
        return Condition("<", (left, right))

    @staticmethod
    def le(left: Any, right: Any) -> Condition:
        return Condition("<=", (left, right))

    @staticmethod
    def gt(left: Any, right: Any) -> Condition:
        return Condition(">", (left, right))

    @staticmethod
    def ge(left: Any, right: Any) -> Condition:
        return Condition(">=", (left, right))

    @staticmethod
    def in_(value: Any, options: Any) -> Condition:
        return Condition("in", (value, options))

    # The combinations.
    @staticmethod
    def all_(*conditions: Condition) -> Condition:
        return Condition("and", conditions)

    @staticmethod
    def any_(*conditions: Condition) -> Condition:
        return Condition("or", conditions)

    @staticmethod
    def not_(condition: Condition) -> Condition:
        return Condition("not", (condition,))

    def __and__(self, other: Condition) -> Condition:
        return Condition("and", (self, other))

    def __or__(self, other: Condition) -> Condition:
        return Condition("or", (self, other))

    def __invert__(self) -> Condition:
        return Condition("not", (self,))

    def evaluate(self, params: Mapping[str, Any], outputs: Mapping[str, Any]) -> bool:
        if self.op == "and":
            return all(c.evaluate(params, outputs) for c in self.operands)
        if self.op == "or":
            return any(c.evaluate(params, outputs) for c in self.operands)
        if self.op == "not":
            return not self.operands[0].evaluate(params, outputs)
        left, right = (resolve(o, params, outputs) for o in self.operands)
        try:
            return bool(_COMPARE[self.op](left, right))
        except TypeError as exc:
            raise PipelineError(
                f"cannot evaluate {left!r} {self.op} {right!r} in condition {self.describe()}: {exc}"
            ) from None

    def describe(self) -> str:
        if self.op == "not":
            return f"not ({self.operands[0].describe()})"
        if self.op in _LOGIC:
            return f" {self.op} ".join(f"({c.describe()})" for c in self.operands)
        left, right = (_show(o) for o in self.operands)
        return f"{left} {self.op} {right}"

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "operands": [encode_value(o) for o in self.operands]}


def _show(value: Any) -> str:
    if hasattr(value, "describe"):
        return str(value.describe())
    if hasattr(value, "name") and hasattr(value, "type"):
        return f"param {value.name}"
    return repr(value)
