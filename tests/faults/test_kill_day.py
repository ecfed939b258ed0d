"""kill -9 at named points of a streaming day (``truckflow.faults``), then a rerun: the tables
equal a clean run's. The point after the day's ingest is killed by the two-steppers scenario
(tests/faults/test_two_steppers_and_kill.py); the later points are killed here."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fault_world import stepper
from stream_world import assert_same, dump, fresh_home

from truckflow.pipeline.records import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.stream import step_days
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.streaming import StreamingClock
from truckflow.streaming.tables import batch_predictions

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]

def _state(db: Database) -> tuple[list[str], int, dt.date | None]:
    """(execution statuses, stored predictions, the clock's day)."""
    with db.engine.connect() as conn:
        statuses = conn.execute(sa.select(pipeline_executions.c.status)).scalars().all()
        predictions = conn.execute(
            sa.select(sa.func.count()).select_from(batch_predictions)
        ).scalar_one()
    return list(statuses), int(predictions), StreamingClock(db).status().current_day


def kill_then_rerun(home: Path, data: Path, url: str, point: str) -> Database:
    """Kill the day at ``point`` (checked: it died by SIGKILL there, the day not closed), rerun
    it; the database after the rerun."""
    killed = stepper(home, data, db_url=url, TRUCKFLOW_FAULT_POINT=point)
    _, err = killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, err.decode()
    db = connect(url)
    statuses, predictions, killed_day = _state(db)
    assert "executing" in statuses  # dead without a word: nothing marked it
    assert killed_day is not None  # the clock started on the day, not advanced past it
    assert (predictions > 0) == (point == "day.after_predictions")  # killed after that work
    # The rerun in this process: the same work as ``stream step``, without a second start-up.
    settings = Settings(
        home=home,
        database_url=url,
        streaming_retrain_trials=2,
        streaming_retrain_families="logistic_regression",
    )
    with Runtime.open(settings) as runtime:
        step_days(runtime, 1, data=data)
    statuses, _, day = _state(db)
    assert "executing" not in statuses and day == killed_day + dt.timedelta(days=1)
    return db


@pytest.mark.parametrize("point", ["day.after_features", "day.after_predictions"])
def test_a_day_killed_at_a_point_then_rerun_equals_a_clean_run(
    stream_world: tuple[Path, Path],
    clean_day: dict[str, pd.DataFrame],
    tmp_path: Path,
    point: str,
) -> None:
    data, template = stream_world
    home = tmp_path / "home"
    fresh_home(template, home)
    db = kill_then_rerun(home, data, f"sqlite:///{home / 'truckflow.db'}", point)
    try:
        assert_same(clean_day, dump(db))
    finally:
        db.dispose()
