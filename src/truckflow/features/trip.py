"""A planned trip as a client names it: the key the online feature read takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from truckflow.features.inputs import FeatureError

__all__ = ["Trip", "UnknownTripEntityError"]


@dataclass(frozen=True, slots=True)
class Trip:
    """One planned trip, as a client names it."""

    truck_id: int
    route_id: str
    departure: datetime


class UnknownTripEntityError(FeatureError):
    """A trip names a truck or route that the database does not know."""

    def __init__(self, kind: str, entity_id: object) -> None:
        super().__init__(f"unknown {kind} {entity_id!r}")
        self.kind = kind
        self.entity_id = entity_id
