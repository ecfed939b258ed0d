"""Two steppers on one home, then kill -9 of the one that holds the day (SQLite)."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fault_world import ingest_runs, stepper, wait_mid_day
from stream_world import assert_same, dump, fresh_home
from typer.testing import CliRunner

from truckflow.cli.app import app
from truckflow.notify.tables import notify_outbox
from truckflow.pipeline.tables import pipeline_executions
from truckflow.store import connect

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]


def _events(url: str, kind: str) -> list[str]:
    db = connect(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(notify_outbox.c.channel).where(notify_outbox.c.event_type == kind)
            ).all()
        return [r.channel for r in rows]
    finally:
        db.dispose()


def test_a_second_stepper_is_refused_and_a_killed_one_leaves_nothing_behind(
    stream_world: tuple[Path, Path], clean_day: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    data, template = stream_world
    busy = tmp_path / "busy"
    fresh_home(template, busy)
    url = f"sqlite:///{busy / 'truckflow.db'}"

    pause = tmp_path / "pause"
    pause.touch()
    first = stepper(busy, data, TRUCKFLOW_FAULT_POINT=f"day.after_ingest:pause={pause}")
    wait_mid_day(url, first, ingest_runs(url))

    second = stepper(busy, data)
    out, _ = second.communicate(timeout=240)
    doc = json.loads(out)
    assert second.returncode == 75
    assert re.search(
        rf"day \d{{4}}-\d\d-\d\d is being processed by process {first.pid} on .* since ",
        doc["error"]["message"],
    ), doc
    assert _events(url, "pipeline.failed") == []  # the refusal is not a failure

    first.send_signal(signal.SIGKILL)  # mid-day, holding the lock
    first.wait(timeout=30)
    pause.unlink()
    listed = CliRunner().invoke(app, ["--home", str(busy), "pipeline", "executions", "--json"])
    again = CliRunner().invoke(app, ["--home", str(busy), "pipeline", "executions", "--json"])
    assert listed.exit_code == 0 and again.exit_code == 0, listed.output
    interrupted = _events(url, "pipeline.interrupted")
    assert interrupted and len(interrupted) == len(set(interrupted))  # once per channel

    assert stepper(busy, data).wait(timeout=240) == 0  # the dead holder's lock went with it
    db = connect(url)
    try:
        with db.engine.connect() as conn:
            statuses = conn.execute(sa.select(pipeline_executions.c.status)).scalars().all()
        assert "executing" not in statuses
        assert_same(clean_day, dump(db))
    finally:
        db.dispose()
