"""The one error the generator raises on purpose."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["GenerateError"]


class GenerateError(TruckflowError):
    """A world cannot be generated as asked (bad option, calendar, scenario or output folder)."""
