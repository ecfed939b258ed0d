"""The streaming subsystem's one error class."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["StreamingError"]


class StreamingError(TruckflowError):
    """The streaming clock or a streaming source is not in a state to do what was asked."""
