"""The root of every error truckflow raises on purpose.

Each subsystem defines one subclass (``StoreError``, ``IngestError``, ``PipelineError``, ...).
Errors carry what went wrong and the object it went wrong on, so that the CLI and the API can
print them as they are without a traceback.
"""

from __future__ import annotations

__all__ = ["TruckflowError"]


class TruckflowError(Exception):
    """Base class of truckflow's own errors; ``str()`` is a complete, user-facing message."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message
