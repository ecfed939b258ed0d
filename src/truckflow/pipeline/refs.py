"""References: a parameter, or a (nested) value of another step's outputs.

``ref("train")["metrics"]["f1"]`` reads ``outputs["metrics"]["f1"]`` of step ``train`` once it has
run (SageMaker's ``JsonGet``); ``ref("train").output[...]`` reads the same. Values that contain
references are resolved recursively (dicts, lists, tuples) just before a step runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from truckflow.pipeline.errors import DefinitionError, PipelineError
from truckflow.pipeline.params import Parameter

__all__ = ["StepRef", "encode_value", "iter_refs", "ref", "resolve"]

Key = str | int


@dataclass(frozen=True)
class StepRef:
    """A reference to step ``step``'s outputs, narrowed by ``path`` (keys and list indexes)."""

    step: str
    path: tuple[Key, ...] = ()

    def __getitem__(self, key: Key) -> StepRef:
        if not isinstance(key, str | int):
            raise DefinitionError(f"reference into step {self.step!r}: key {key!r} is not str/int")
        return StepRef(self.step, (*self.path, key))

    @property
    def output(self) -> StepRef:
        """The same reference; reads well as ``ref("train").output["f1"]``."""
        return self

    def describe(self) -> str:
        return self.step + "".join(f"[{k!r}]" for k in self.path)

    def to_json(self) -> dict[str, Any]:
        return {"$step": self.step, "$path": list(self.path)}


def ref(step: str) -> StepRef:
    """A reference to the outputs of the step named ``step``."""
    return StepRef(step)


def iter_refs(value: Any) -> Iterator[StepRef | Parameter]:
    """Every reference inside ``value`` (conditions and nested containers included)."""
    if isinstance(value, StepRef | Parameter):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_refs(item)
    elif hasattr(value, "operands"):
        yield from iter_refs(value.operands)


def resolve(value: Any, params: Mapping[str, Any], outputs: Mapping[str, Any]) -> Any:
    """``value`` with every reference replaced by what it points at."""
    if isinstance(value, Parameter):
        return params[value.name]
    if isinstance(value, StepRef):
        return _lookup(value, outputs)
    if isinstance(value, Mapping):
        return {k: resolve(v, params, outputs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, params, outputs) for v in value]
    if hasattr(value, "evaluate"):
        return value.evaluate(params, outputs)
    return value


def _lookup(reference: StepRef, outputs: Mapping[str, Any]) -> Any:
    if reference.step not in outputs:
        raise PipelineError(f"step {reference.step!r} has no outputs (it did not run)")
    current = outputs[reference.step]
    for depth, key in enumerate(reference.path):
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            walked = StepRef(reference.step, reference.path[:depth]).describe()
            raise PipelineError(
                f"reference {reference.describe()}: {walked} has no key {key!r}"
            ) from None
    return current


def encode_value(value: Any) -> Any:
    """A JSON form of an input value with references marked (for the definition's JSON)."""
    if isinstance(value, Parameter):
        return {"$param": value.name}
    if isinstance(value, StepRef):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise DefinitionError(
        f"input value {value!r} of type {type(value).__name__} is not JSON data, "
        "a parameter or a reference"
    )
