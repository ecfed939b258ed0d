"""The coordinator: walks a pipeline's graph, runs what is ready, records every change.

It runs in the calling process whatever the runner; a runner only supplies an ``Executor`` that
runs one attempt of a function step somewhere (a thread, a Dask worker) and returns a future.
Condition and fail steps, caching, retries, timeouts, records and events all live here, so the
local and the Dask runner behave the same.
"""

from __future__ import annotations

import concurrent.futures as cf
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from truckflow.clock import utcnow
from truckflow.events import Event, Severity
from truckflow.pipeline.artifacts import ArtifactStore
from truckflow.pipeline.cache import CacheKey, cache_key, lookup
from truckflow.pipeline.context import StepContext, StepOutcome
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.errors import PipelineError, StepTimeoutError
from truckflow.pipeline.executors import Executor
from truckflow.pipeline.jobs import Reused, Running, key_values
from truckflow.pipeline.limits import Limits
from truckflow.pipeline.outcome import Outcome
from truckflow.pipeline.recorder import Recorder
from truckflow.pipeline.records import ExecutionStatus, StepStatus
from truckflow.pipeline.refs import resolve
from truckflow.pipeline.steps import ConditionStep, FailStep, FunctionStep, Step

__all__ = ["Coordinator", "Reused"]

_log = logging.getLogger(__name__)


class Coordinator:
    """One execution of ``pipeline``: call ``run()`` once."""

    def __init__(
        self,
        pipeline: Pipeline,
        parameters: Mapping[str, Any],
        *,
        execution_id: str,
        recorder: Recorder,
        executor: Executor,
        artifacts: ArtifactStore,
        limits: Limits,
        work_root: Path,
        resources: Any,
        max_parallel: int | None,
        run_steps: set[str] | None = None,
        reuse: Mapping[str, Reused] | None = None,
    ) -> None:
        self.p = pipeline
        self.params = dict(parameters)
        self.execution_id = execution_id
        self.rec = recorder
        self.executor = executor
        self.artifacts = artifacts
        self.limits = limits
        self.work_root = work_root
        self.resources = resources
        self.max_parallel = max_parallel
        self.heartbeat_s = limits.heartbeat_s
        self.run_steps = run_steps if run_steps is not None else set(pipeline.steps)
        self.reuse = dict(reuse or {})
        self.outputs: dict[str, dict[str, Any]] = {}
        self.done: dict[str, str] = {}  # step -> final status
        # Steps become ready when their last dependency is done (kept in topological order).
        self.rank = {name: i for i, name in enumerate(pipeline.order)}
        self.missing = {name: len(deps) for name, deps in pipeline.dependencies.items()}
        self.ready = [(self.rank[n], n) for n, count in self.missing.items() if count == 0]
        heapq.heapify(self.ready)
        self.running: dict[cf.Future[StepOutcome], Running] = {}
        self.retry_at: list[tuple[float, int, Running]] = []
        self._tiebreak = itertools.count()
        self.failure: str | None = None
        self.failure_severity = Severity.ERROR  # a fail step may say its refusal is no error
        self.stop_requested = threading.Event()

    # The loop.
    def run(self) -> tuple[str, str | None]:
        """Returns the final status and error; records both."""
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(stop,), daemon=True)
        beat.start()
        try:
            while not self.stop_requested.is_set():
                self._start_ready()
                if not self.running and not self.retry_at:
                    break
                self._wait_and_collect()
            else:
                return self._stop("stop requested")
        except KeyboardInterrupt:
            self._stop("stopped by the user")
            raise
        except Exception as exc:
            # The engine itself failed (database, sink): say so in the record, then re-raise.
            for future in self.running:
                self.executor.cancel(future)
            error = f"engine error: {type(exc).__name__}: {exc}"
            # The database may be what failed: the record waits for it to come back.
            self.rec.finish_when_possible(
                self.p.name,
                self.execution_id,
                ExecutionStatus.FAILED,
                error,
                wait_s=self.limits.db_recovery_wait_s,
            )
            raise
        finally:
            stop.set()
        outcome = self._outcome()
        status = ExecutionStatus.FAILED if self.failure else ExecutionStatus.SUCCEEDED
        self.rec.finish_execution(
            self.p.name,
            self.execution_id,
            status,
            self.failure,
            outcome,
            failure_severity=self.failure_severity,
        )
        return status, self.failure

    def _outcome(self) -> Outcome | None:
        """The pipeline's own reading of a run that ended well; its failure fails the run."""
        if self.failure is not None or self.p.outcome is None:
            return None
        try:
            return self.p.outcome(self.outputs, self.execution_id)
        except Exception as exc:  # a bug in the reading must not leave the run 'executing'
            _log.warning("outcome of execution %s failed", self.execution_id, exc_info=True)
            self.failure = f"outcome: {type(exc).__name__}: {exc}"
            return None

    def _stop(self, reason: str) -> tuple[str, str | None]:
        for future in self.running:
            self.executor.cancel(future)
        self.rec.finish_execution(self.p.name, self.execution_id, ExecutionStatus.STOPPED, reason)
        return ExecutionStatus.STOPPED, reason

    def _heartbeat(self, stop: threading.Event) -> None:
        """Its own thread, so that a long step never silences the heartbeat."""
        while not stop.wait(self.heartbeat_s):
            try:
                if self.rec.heartbeat(self.execution_id):
                    self.stop_requested.set()
            except Exception:  # a missed beat is harmless; the next one may get through
                _log.warning("heartbeat of execution %s failed", self.execution_id, exc_info=True)

    def _start_ready(self) -> None:
        """Start steps whose dependencies are all done, in definition order, within the limit."""
        while self.ready and self.failure is None and not self.stop_requested.is_set():
            if self.max_parallel and len(self.running) + len(self.retry_at) >= self.max_parallel:
                return
            _, name = heapq.heappop(self.ready)
            self._start(self.p.steps[name])

    def _mark_done(self, name: str, status: str) -> None:
        self.done[name] = status
        for dependent in self.p.dependents[name]:
            self.missing[dependent] -= 1
            if self.missing[dependent] == 0:
                heapq.heappush(self.ready, (self.rank[dependent], dependent))

    def _wait_and_collect(self) -> None:
        now = time.monotonic()
        while self.retry_at and self.retry_at[0][0] <= now:
            _, _, job = heapq.heappop(self.retry_at)
            self._submit(job)
        wake = [self.heartbeat_s]
        wake += [r.deadline - now for r in self.running.values() if r.deadline is not None]
        wake += [t - now for t, _, _ in self.retry_at[:1]]
        timeout = max(0.0, min(wake))
        if self.running:
            finished, _ = cf.wait(
                list(self.running), timeout=timeout, return_when=cf.FIRST_COMPLETED
            )
        else:
            time.sleep(timeout)
            finished = set()
        for future in finished:
            job = self.running.pop(future)
            self._attempt_done(job, future.result())
        now = time.monotonic()
        for future, job in list(self.running.items()):
            if job.deadline is not None and now >= job.deadline:
                del self.running[future]
                self.executor.cancel(future)
                error = StepTimeoutError(
                    f"step {job.step.name!r} timed out after {job.step.timeout_s}s"
                )
                outcome = StepOutcome(
                    None, str(error), "StepTimeoutError", None, job.step.retry.retries(error)
                )
                self._attempt_done(job, outcome)

    # Starting a step.
    def _start(self, s: Step) -> None:
        blocked = self._skip_reason(s)
        if blocked is not None:
            self._finish_without_running(s, StepStatus.SKIPPED, None, blocked)
            return
        if s.name not in self.run_steps:
            reused = self.reuse.get(s.name)
            if reused is None:
                self._finish_without_running(s, StepStatus.SKIPPED, None, "skipped: not selected")
                return
            self._finish_without_running(
                s,
                StepStatus.SUCCEEDED,
                reused.outputs,
                f"reused from execution {reused.source_execution_id}",
                reused.source_execution_id,
            )
            return
        try:
            if isinstance(s, ConditionStep):
                outcome = bool(s.condition.evaluate(self.params, self.outputs))
                self._finish_without_running(s, StepStatus.SUCCEEDED, {"outcome": outcome}, None)
            elif isinstance(s, FailStep):
                message = s.render(resolve(s.values, self.params, self.outputs))
                self._finish_without_running(s, StepStatus.FAILED, None, None, error=message)
            elif isinstance(s, FunctionStep):
                self._start_function(s)
            else:  # pragma: no cover - the definition only admits the kinds above
                raise PipelineError(f"step {s.name!r}: unknown kind {s.kind!r}")
        except PipelineError as exc:
            self._finish_without_running(s, StepStatus.FAILED, None, None, error=str(exc))

    def _skip_reason(self, s: Step) -> str | None:
        for dep in sorted(self.p.dependencies[s.name]):
            if self.done[dep] == StepStatus.SKIPPED:
                return f"skipped: step {dep} was skipped"
        branch = self.p.branch_of.get(s.name)
        if branch is not None:
            condition, wanted = branch
            if self.outputs[condition]["outcome"] is not wanted:
                return f"skipped: condition {condition} was {not wanted}"
        return None

    def _start_function(self, s: FunctionStep) -> None:
        inputs = resolve(s.inputs, self.params, self.outputs)
        key: CacheKey | None = None
        reason: str | None = None
        policy = self.p.cache_policy(s)
        key = cache_key(s, inputs)
        decision = lookup(self.rec.db, self.p.name, s.name, key, policy)
        if decision.hit:
            self._finish_without_running(
                s,
                StepStatus.SUCCEEDED,
                decision.outputs,
                decision.reason,
                cache_hit=True,
                key=key,
            )
            return
        reason = decision.reason
        self.rec.step_started(self.execution_id, s.name, s.kind)
        job = Running(s, inputs, 1, "", None, key)
        job.log.append({"cache": reason})
        self._submit(job)

    def _submit(self, job: Running) -> None:
        context = StepContext(
            self.execution_id,
            job.step.name,
            job.attempt,
            self.artifacts,
            self.work_root,
            self.resources,
            self.executor.partitions,
        )
        job.started = utcnow().isoformat()
        job.deadline = time.monotonic() + job.step.timeout_s if job.step.timeout_s else None
        alone = not self.running and not self.retry_at and not self.ready
        if alone and job.deadline is None and self.executor.can_run_inline:
            self._attempt_done(job, self.executor.run_inline(job.step, job.inputs, context))
            return
        future = self.executor.submit(job.step, job.inputs, context)
        self.running[future] = job

    # Finishing.
    def _attempt_done(self, job: Running, outcome: StepOutcome) -> None:
        s = job.step
        job.log.append(
            {
                "attempt": job.attempt,
                "started_at": job.started,
                "finished_at": utcnow().isoformat(),
                "error": outcome.error,
            }
        )
        if outcome.error is None:
            self._record_function(job, StepStatus.SUCCEEDED, outcome)
            return
        if outcome.retryable and job.attempt < s.retry.max_attempts:
            delay = s.retry.delay_before(job.attempt + 1)
            job.attempt += 1
            heapq.heappush(self.retry_at, (time.monotonic() + delay, next(self._tiebreak), job))
            message = f"step {s.name} failed, attempt {job.attempt} in {delay:g}s: {outcome.error}"
            event = self._event(
                "step.retried",
                message,
                s,
                Severity.WARNING,
                attempt=job.attempt,
                error=outcome.error,
            )
            self.rec.sink.emit(event, None)
            return
        self._record_function(job, StepStatus.FAILED, outcome)

    def _record_function(self, job: Running, status: str, outcome: StepOutcome) -> None:
        attempts = [entry for entry in job.log if "attempt" in entry]
        values: dict[str, Any] = {
            "status": status,
            "attempts": len(attempts),
            "attempt_log": attempts,
            "outputs": outcome.outputs,
            "cache_hit": False,
            "cache_reason": job.log[0].get("cache"),
            "error": outcome.error,
            "traceback": outcome.traceback,
            **key_values(job.key),
        }
        event = self._settle(job.step, status, outcome.outputs, outcome.error, "")
        self.rec.step_finished(self.execution_id, job.step.name, values, event)

    def _finish_without_running(
        self,
        s: Step,
        status: str,
        outputs: dict[str, Any] | None,
        reason: str | None,
        reused_from: str | None = None,
        *,
        error: str | None = None,
        cache_hit: bool = False,
        key: CacheKey | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "outputs": outputs,
            "cache_reason": reason,
            "cache_hit": cache_hit,
            "reused_from": reused_from,
            "error": error,
            "attempts": 0,
            **key_values(key),
        }
        event = self._settle(s, status, outputs, error, reason or s.kind)
        self.rec.step_record(self.execution_id, s.name, s.kind, values, event)

    def _settle(
        self, s: Step, status: str, outputs: dict[str, Any] | None, error: str | None, note: str
    ) -> Event:
        """Book a step's final status (unblocking what follows); the event that reports it."""
        self._mark_done(s.name, status)
        if status == StepStatus.SUCCEEDED:
            self.outputs[s.name] = outputs or {}
            detail = f" ({note})" if note else ""
            return self._event(
                "step.succeeded", f"step {s.name} succeeded{detail}", s, Severity.DEBUG
            )
        if status == StepStatus.SKIPPED:
            return self._event("step.skipped", f"step {s.name} {note}", s, Severity.DEBUG)
        # A fail step's message is the execution's error as it stands.
        own = error if isinstance(s, FailStep) else f"step {s.name} failed: {error}"
        severity = s.severity if isinstance(s, FailStep) else Severity.ERROR
        if self.failure is None:
            self.failure, self.failure_severity = own, severity
        return self._event(
            "step.failed", f"step {s.name} failed: {error}", s, severity, error=error
        )

    def _event(self, kind: str, subject: str, s: Step, severity: Severity, **body: Any) -> Event:
        full = {"execution_id": self.execution_id, "pipeline": self.p.name, "step": s.name, **body}
        return Event(kind, f"{self.p.name}: {subject}", full, severity)
