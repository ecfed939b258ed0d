"""Helpers of the engine's tests (imported by name: pytest's conftest modules are not)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from truckflow.events import Event


class RecordingSink:
    """Keeps every event with whether it came inside an open transaction."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.in_transaction: list[bool] = []

    def emit(self, event: Event, connection: sa.Connection | None = None) -> None:
        self.events.append(event)
        self.in_transaction.append(connection is not None and connection.in_transaction())

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]


def outputs_without(outputs: dict[str, Any], *steps: str) -> dict[str, Any]:
    return {k: v for k, v in outputs.items() if k not in steps}
