"""The fault suite: processes killed, the database cut, two steppers at once (the hostile files
are in tests/data/test_ingest_integrity.py, marked ``fault`` too). Each scenario ends by
comparing the tables with a clean run of the same work, in the streaming world the streaming
tests use (``tests/pipelines/stream_world.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from stream_world import prepare


@pytest.fixture(scope="session")
def stream_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(world folder, template home with its history and a production model), SQLite."""
    return prepare(tmp_path_factory.mktemp("faults-world"))
