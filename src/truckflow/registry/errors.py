"""The registry's one base error (a module of its own: the version conventions raise it too)."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["RegistryError"]


class RegistryError(TruckflowError):
    """The model registry could not be reached, or refused an operation or a model."""
