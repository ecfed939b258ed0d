"""Fixtures of the engine's tests: a local runner on the temporary SQLite database, a sink
that keeps events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import RecordingSink

from truckflow.pipeline import LocalRunner
from truckflow.settings import Settings
from truckflow.store import Database


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def runner(settings: Settings, db: Database, sink: RecordingSink) -> Iterator[LocalRunner]:
    with LocalRunner(settings, db=db, sink=sink, max_parallel=4) as r:
        yield r  # type: ignore[misc]
