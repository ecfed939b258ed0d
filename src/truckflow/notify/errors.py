"""The notification subsystem's errors; every message is already scrubbed of channel secrets."""

from __future__ import annotations

from truckflow.errors import TruckflowError

__all__ = ["DeliveryError", "NotifyError"]


class NotifyError(TruckflowError):
    """Notification settings are wrong, or the outbox could not be written or read."""


class DeliveryError(NotifyError):
    """A channel did not take a message; the outbox keeps it and the dispatcher retries it."""
