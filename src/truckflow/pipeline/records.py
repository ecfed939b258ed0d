"""The statuses of the engine's execution and step records (``truckflow.pipeline.tables``)."""

from __future__ import annotations

__all__ = ["ExecutionStatus", "StepStatus"]


class ExecutionStatus:
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    FINAL = ("succeeded", "failed", "stopped", "interrupted")


class StepStatus(ExecutionStatus):
    SKIPPED = "skipped"
