"""The monitoring subsystem's one error class."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["MonitoringError"]


class MonitoringError(TruckflowError):
    """A drift or quality check could not run on the data it was given (the column is named)."""
