"""Executors: where one attempt of a function step runs (a thread here, a Dask worker).

The coordinator hands an executor a step, its resolved inputs and its context, and gets a
future of a ``StepOutcome``; errors inside the step come back as outcomes, never as exceptions.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any, Protocol

from truckflow.allocator import give_back_freed
from truckflow.pipeline.context import StepContext, StepOutcome, run_step_function
from truckflow.pipeline.partitions import DaskPartitions, Partitions, ThreadPartitions
from truckflow.pipeline.steps import FunctionStep, load_function

__all__ = ["DaskExecutor", "Executor", "ThreadExecutor"]


class Executor(Protocol):
    """Runs one attempt of a function step; the future yields a ``StepOutcome``."""

    def submit(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> cf.Future[StepOutcome]: ...

    def cancel(self, future: cf.Future[StepOutcome]) -> None: ...

    # True where an attempt may also run in the coordinating thread (the local runner): a
    # chain of steps then costs no thread hand-offs.
    can_run_inline: bool
    # How a step running here maps over its partitions (``StepContext.partitions``).
    partitions: Partitions

    def run_inline(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> StepOutcome: ...


def _attempt(
    fn_path: str,
    step: str,
    inputs: dict[str, Any],
    context_arg: str | None,
    context: StepContext,
    retry_on: tuple[type[BaseException], ...],
) -> StepOutcome:
    """The task a worker runs: import the step function by name, run one attempt."""
    try:
        return run_step_function(
            load_function(fn_path), step, inputs, context_arg, context, retry_on
        )
    finally:
        # A worker lives through every step of a long run (a replay's days): what a step
        # freed goes back to the system, not under the next step's peak.
        give_back_freed()


class ThreadExecutor:
    can_run_inline = True

    def __init__(self, pool: cf.ThreadPoolExecutor, max_parallel: int = 1) -> None:
        self.pool = pool
        self.partitions: Partitions = ThreadPartitions(max_parallel)

    def run_inline(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> StepOutcome:
        return run_step_function(
            step.fn, step.name, inputs, step.context_arg, context, step.retry.exceptions
        )

    def submit(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> cf.Future[StepOutcome]:
        return self.pool.submit(
            run_step_function,
            step.fn,
            step.name,
            inputs,
            step.context_arg,
            context,
            step.retry.exceptions,
        )

    def cancel(self, future: cf.Future[StepOutcome]) -> None:
        future.cancel()  # a running thread cannot be stopped; its result is ignored


class DaskExecutor:
    can_run_inline = False

    def __init__(self, client: Any) -> None:
        self.client = client
        self.partitions: Partitions = DaskPartitions(sum(client.nthreads().values()))

    def run_inline(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> StepOutcome:
        raise NotImplementedError("Dask steps run on the cluster")

    def submit(
        self, step: FunctionStep, inputs: dict[str, Any], context: StepContext
    ) -> cf.Future[StepOutcome]:
        bridge: cf.Future[StepOutcome] = cf.Future()
        task = self.client.submit(
            _attempt,
            step.path,
            step.name,
            inputs,
            step.context_arg,
            context,
            step.retry.exceptions,
            pure=False,
            key=f"truckflow-{step.name}-{context.execution_id[:8]}-{context.attempt}",
        )

        def done(f: Any) -> None:
            if bridge.done():
                return
            try:
                bridge.set_result(f.result())
            except BaseException as exc:  # the worker died or the task could not be loaded
                bridge.set_result(
                    StepOutcome(
                        None,
                        f"{type(exc).__name__}: {exc} (on the Dask cluster)",
                        type(exc).__name__,
                        None,
                        isinstance(exc, step.retry.exceptions),
                    )
                )

        task.add_done_callback(done)
        bridge.dask_future = task  # type: ignore[attr-defined]
        return bridge

    def cancel(self, future: cf.Future[StepOutcome]) -> None:
        task = getattr(future, "dask_future", None)
        if task is not None:
            task.cancel()
