"""kill -9 at named points of a streaming day (``truckflow.faults``), then a rerun: the tables
equal a clean run's. The point after the day's ingest is killed by the two-steppers scenario
(tests/faults/test_two_steppers_and_kill.py); the later points are killed here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fault_world import kill_then_rerun
from stream_world import assert_same, dump, fresh_home

pytestmark = [pytest.mark.fault, pytest.mark.timeout(600)]


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
