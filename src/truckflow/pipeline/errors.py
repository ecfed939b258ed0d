"""The engine's errors: one base class, ``PipelineError``, and a few precise subclasses."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = [
    "DefinitionError",
    "ExecutionNotFoundError",
    "ParameterError",
    "PipelineError",
    "StepTimeoutError",
]


class PipelineError(TruckflowError):
    """Something about a pipeline, a step or an execution went wrong."""


class DefinitionError(PipelineError):
    """A pipeline definition is invalid (cycle, unknown reference, duplicate name, bad type)."""


class ParameterError(DefinitionError):
    """A parameter value is missing, unknown or of the wrong type."""


class ExecutionNotFoundError(PipelineError):
    """No recorded execution has the given id."""


class StepTimeoutError(PipelineError):
    """A step ran longer than its timeout."""
