"""The fault suite: processes killed, the database cut, two steppers at once (the hostile files
are in tests/data/test_ingest_integrity.py, marked ``fault`` too). Each scenario ends by
comparing the tables with a clean run of the same work, in the streaming world the streaming
tests use (``tests/pipelines/stream_world.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from fault_world import stepper
from stream_world import dump, fresh_home, prepare

from truckflow.store import connect


@pytest.fixture(scope="session")
def stream_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(world folder, template home with its history and a production model), SQLite."""
    return prepare(tmp_path_factory.mktemp("faults-world"))


@pytest.fixture(scope="session")
def clean_day(
    stream_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pd.DataFrame]:
    """The tables after one clean ``stream step`` from the template home (SQLite): the reference
    every SQLite fault scenario of a day is compared with."""
    data, template = stream_world
    home = tmp_path_factory.mktemp("faults-clean") / "home"
    fresh_home(template, home)
    assert stepper(home, data).wait(timeout=300) == 0
    db = connect(f"sqlite:///{home / 'truckflow.db'}")
    try:
        return dump(db)
    finally:
        db.dispose()
