"""Helpers of the fault suite: steppers in processes of their own, waiting for mid-day, a day
killed at a fault point and rerun."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from truckflow.pipeline.tables import pipeline_executions
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.driver import step_days
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.tables import ingest_log, process_locks
from truckflow.streaming import StreamingClock
from truckflow.streaming.tables import batch_predictions


def stepper(
    home: Path, data: Path, *, db_url: str | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """``truckflow stream step --json`` in a process of its own."""
    environ = {
        **os.environ,
        "TRUCKFLOW_HOME": str(home),
        "TRUCKFLOW_RETRAIN__TRIALS": "2",
        "TRUCKFLOW_RETRAIN__FAMILIES": "logistic_regression",
        **env,
    }
    if db_url is not None:
        environ["TRUCKFLOW_DATABASE_URL"] = db_url
    command = [
        str(Path(sys.executable).parent / "truckflow"),
        "stream",
        "step",
        "--data",
        str(data),
        "--json",
    ]
    return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _ingest_runs(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(ingest_log)).scalar_one())


def ingest_runs(url: str) -> int:
    db = connect(url)
    try:
        with db.engine.connect() as conn:
            return _ingest_runs(conn)
    finally:
        db.dispose()


def wait_mid_day(url: str, proc: subprocess.Popen[bytes], runs_before: int) -> None:
    """Until ``proc`` holds the streaming day and has ingested the day's rows: with the pause
    file set, it then waits before the ground truth (mid-day)."""
    db = connect(url)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "")
            with db.engine.connect() as conn:
                pid = conn.execute(
                    sa.select(process_locks.c.owner_pid).where(process_locks.c.name == "stream-day")
                ).scalar()
                if pid == proc.pid and _ingest_runs(conn) > runs_before:
                    return
            time.sleep(0.1)
    finally:
        db.dispose()
    raise AssertionError("the stepper never reached the middle of its day")


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
        retrain={"trials": 2, "families": "logistic_regression"},
    )
    with Runtime.open(settings) as runtime:
        step_days(runtime, 1, data=data)
    statuses, _, day = _state(db)
    assert "executing" not in statuses and day == killed_day + dt.timedelta(days=1)
    return db
