"""Fixtures of the engine's tests: a local runner on the temporary SQLite database, a sink
that keeps events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from truckflow.events import Event
from truckflow.pipeline import LocalRunner
from truckflow.settings import Settings
from truckflow.store import Database


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


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def runner(settings: Settings, db: Database, sink: RecordingSink) -> Iterator[LocalRunner]:
    with LocalRunner(settings, db=db, sink=sink, max_parallel=4) as r:
        yield r  # type: ignore[misc]


def outputs_without(outputs: dict[str, Any], *steps: str) -> dict[str, Any]:
    return {k: v for k, v in outputs.items() if k not in steps}
