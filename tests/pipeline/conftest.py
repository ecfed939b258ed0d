"""Fixtures of the engine's tests: a local runner on the temporary SQLite database, a sink
that keeps events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_helpers import RecordingSink, local_runner

from truckflow.pipeline import Limits, LocalRunner
from truckflow.settings import Settings
from truckflow.store import Database


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def runner(settings: Settings, db: Database, sink: RecordingSink) -> Iterator[LocalRunner]:
    with local_runner(settings, db, sink=sink, limits=Limits(max_parallel=4)) as r:
        yield r  # type: ignore[misc]
