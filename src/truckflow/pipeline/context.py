"""What a step function may ask for by declaring a ``context`` (or ``ctx``) parameter."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truckflow.pipeline.artifacts import ArtifactRef, ArtifactStore, is_artifact_ref
from truckflow.pipeline.errors import PipelineError
from truckflow.pipeline.partitions import SERIAL, Partitions

__all__ = ["StepContext", "run_step_function"]


@dataclass(frozen=True)
class StepContext:
    """Execution id, step name and attempt; the artifact store; a scratch folder; a logger;
    and ``resources``, whatever the application handed the runner for its steps (its database
    and notification sink, say; the engine passes it through untouched); ``partitions``, how
    the step runs its partitions as tasks on the runner it runs under (see ``partitions``).

    ``resources`` are the coordinating process's, so a step reaches the same database as the
    command that started the run (``--db`` included); a Dask runner pickles them, so they
    must reopen themselves on the worker. On a remote Dask cluster only the artifact store (a
    shared fsspec URL) is certain to be reachable from a worker's disk, so pass data through it.
    """

    execution_id: str
    step: str
    attempt: int
    artifacts: ArtifactStore
    work_root: Path
    resources: Any = None
    partitions: Partitions = SERIAL

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(f"truckflow.pipeline.step.{self.step}")

    @property
    def work_dir(self) -> Path:
        """A scratch folder of this step execution under the runner's work root."""
        path = self.work_root / self.execution_id / self.step
        path.mkdir(parents=True, exist_ok=True)
        return path


def _to_inputs(value: Any) -> Any:
    """Artifact references arrive as ``ArtifactRef`` objects; the rest as plain data."""
    if is_artifact_ref(value):
        return ArtifactRef.from_json(value)
    if isinstance(value, Mapping):
        return {k: _to_inputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_inputs(v) for v in value]
    return value


def _to_outputs(value: Any) -> Any:
    if isinstance(value, ArtifactRef):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _to_outputs(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_outputs(v) for v in value]
    return value


@dataclass(frozen=True)
class StepOutcome:
    """What a step attempt sends back to the coordinator (picklable, plain)."""

    outputs: dict[str, Any] | None
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    retryable: bool = False


def run_step_function(
    fn: Callable[..., Any],
    step: str,
    inputs: Mapping[str, Any],
    context_arg: str | None,
    context: StepContext,
    retry_on: tuple[type[BaseException], ...],
) -> StepOutcome:
    """Run one attempt of a function step where it is scheduled (thread or Dask worker)."""
    kwargs = {k: _to_inputs(v) for k, v in inputs.items()}
    if context_arg is not None:
        kwargs[context_arg] = context
    try:
        result = fn(**kwargs)
        if result is None:
            result = {}
        if not isinstance(result, Mapping):
            raise PipelineError(
                f"step {step!r} returned {type(result).__name__}; a step returns a dict of outputs"
            )
        outputs = _to_outputs(result)
        try:
            json.dumps(outputs, default=_iso)
        except (TypeError, ValueError) as exc:
            raise PipelineError(
                f"step {step!r} returned outputs that are not JSON data: {exc}; "
                "store large or binary values in the artifact store and return the reference"
            ) from None
        return StepOutcome(json.loads(json.dumps(outputs, default=_iso)))
    except Exception as exc:
        return StepOutcome(
            None,
            error=f"{type(exc).__name__}: {exc}",
            error_type=type(exc).__name__,
            traceback=traceback.format_exc(),
            retryable=isinstance(exc, retry_on),
        )


def _iso(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")
