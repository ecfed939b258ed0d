"""Helpers of the fault suite: steppers in processes of their own, and waiting for mid-day."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from truckflow.store import connect
from truckflow.store.schema import ingest_log, process_locks


def stepper(
    home: Path, data: Path, *, db_url: str | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """``truckflow stream step --json`` in a process of its own."""
    environ = {
        **os.environ,
        "TRUCKFLOW_HOME": str(home),
        "TRUCKFLOW_STREAMING_RETRAIN_TRIALS": "2",
        "TRUCKFLOW_STREAMING_RETRAIN_FAMILIES": "logistic_regression",
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
