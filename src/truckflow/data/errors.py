"""The data subsystem's one error class."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["IngestError"]


class IngestError(TruckflowError):
    """A course file or a batch of rows could not be ingested at all; nothing of the run was kept."""
