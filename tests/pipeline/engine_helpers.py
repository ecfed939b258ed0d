"""Helpers of the engine's tests (imported by name: pytest's conftest modules are not)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from truckflow.events import Event
from truckflow.pipeline import ArtifactStore, DaskRunner, Limits, LocalRunner
from truckflow.settings import Settings
from truckflow.store import Database


def local_runner(
    settings: Settings, db: Database, *, limits: Limits | None = None, **kwargs: Any
) -> LocalRunner:
    """The engine on the test's database, its artifacts and scratch folders in the test's home
    (the engine takes no settings: these are the parts of them it needs)."""
    return LocalRunner(db, **_parts(settings, limits), **kwargs)


def dask_runner_on(settings: Settings, db: Database, **kwargs: Any) -> DaskRunner:
    return DaskRunner(db, **_parts(settings, None), **kwargs)


def _parts(settings: Settings, limits: Limits | None) -> dict[str, Any]:
    return {
        "artifacts": ArtifactStore(settings.home / "artifacts"),
        "work_root": settings.home / "work",
        "limits": limits,
    }


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
