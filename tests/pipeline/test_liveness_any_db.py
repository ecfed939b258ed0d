"""The liveness check on the three engines: a live run stays live (MariaDB once stored its
process start time as a single-precision float), a dead one is marked interrupted once, and
its event reaches the notification outbox once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from engine_steps import add

from truckflow.events import LoggingSink
from truckflow.notify import Notifications
from truckflow.pipeline import Pipeline, mark_interrupted
from truckflow.pipeline.recorder import Recorder
from truckflow.pipeline.tables import pipeline_executions
from truckflow.settings import Settings
from truckflow.store import Database


def _start(db: Database) -> str:
    pipeline = Pipeline("live", steps=[add.as_step(a=1, b=2)])
    return Recorder(db, LoggingSink()).start_execution(pipeline, {}, runner="local")


def test_a_live_run_keeps_its_precise_start_time(any_db: Database) -> None:
    execution_id = _start(any_db)
    with any_db.engine.connect() as conn:
        stored = conn.execute(
            sa.select(pipeline_executions.c.owner_started).where(
                pipeline_executions.c.id == execution_id
            )
        ).scalar_one()
    assert abs(stored - psutil.Process().create_time()) < 1e-3
    assert mark_interrupted(any_db) == []


@pytest.mark.fault
def test_a_dead_run_is_interrupted_once_and_its_event_queued_once(
    any_db: Database, tmp_path: Path
) -> None:
    execution_id = _start(any_db)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with any_db.begin() as conn:
        conn.execute(
            pipeline_executions.update()
            .where(pipeline_executions.c.id == execution_id)
            .values(owner_pid=dead.pid)
        )
    notifications = Notifications.open(Settings(home=tmp_path / "home"), any_db)

    first = mark_interrupted(any_db, sink=notifications.sink)
    second = mark_interrupted(any_db, sink=notifications.sink)

    assert (first, second) == ([execution_id], [])
    events = [
        row
        for row in notifications.outbox(limit=1000)
        if row["event_type"] == "pipeline.interrupted"
    ]
    assert len(events) >= 1
    assert len(events) == len({row["channel"] for row in events})  # once per channel
