"""The CLI renders the library's typed results through their attributes; ``--json`` prints the
same documents as before (their keys are pinned here), and the human output names the values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from truckflow.cli.app import app

cli = CliRunner()


def _cli(home: Path, *args: str) -> Any:
    result = cli.invoke(app, ["--home", str(home), *args], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result


def test_features_fill_pipeline_list_and_stop(course_sample: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli(home, "data", "ingest", str(course_sample), "--json")
    filled = json.loads(_cli(home, "features", "fill", "--json").stdout)
    assert set(filled) == {"computed", "waiting", "labels_updated", "partial", "completed"}
    assert filled["computed"] > 0 and isinstance(filled["waiting"], int)
    said = _cli(home, "features", "fill").stdout
    assert "computed 0 trips" in said and "labels updated" in said  # all stored the first time
    again = json.loads(_cli(home, "features", "fill", "--parallel", "2", "--json").stdout)
    assert again == {**filled, "computed": 0, "labels_updated": 0}  # same waiting trips

    listed = json.loads(_cli(home, "pipeline", "list", "--json").stdout)
    example = next(p for p in listed if p["name"] == "example")
    assert set(example) == {"name", "description", "steps", "parameters", "hash"}
    assert "example" in _cli(home, "pipeline", "list").stdout

    ran = json.loads(_cli(home, "pipeline", "run", "example", "-p", "size=11", "--json").stdout)
    done = ran["execution_id"]
    stopped = json.loads(_cli(home, "pipeline", "stop", done, "--json").stdout)
    assert stopped == {"execution_id": done, "stop_requested": False}  # it has finished
    assert "nothing to stop" in _cli(home, "pipeline", "stop", done).stdout


def test_stream_days_render_from_the_typed_result(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truckflow.cli.output import console
    from truckflow.cli.stream import _render_days

    monkeypatch.setattr(console, "width", 160)  # one line per row: the cells are checked whole
    from truckflow.pipelines.streaming.driver import DayResult, ReplayResult
    from truckflow.streaming import ClockState

    day = DayResult(
        day=dt.date(2019, 2, 15),
        ingested={"schedule": 42},
        quarantined=0,
        features_computed=40,
        features_waiting=2,
        predictions=40,
        predictions_on_time=30,
        predictions_late=8,
        predictions_partial=2,
        features_completed=1,
        not_predicted=0,
        model_version="1",
        labels_applied=12,
        metrics={"f1": 0.5, "f1_interval": [0.4, 0.6], "count": 12},
        drift={"check": {"drift_detected": True}, "release": {"status": "pending_approval"}},
    )
    clock = ClockState(dt.date(2019, 2, 15), dt.date(2019, 2, 15), 1, True)
    result = ReplayResult(days=[day], clock=clock, finished=False)
    _render_days(result)
    shown = capsys.readouterr().out
    assert "2019-02-15" in shown and "42" in shown and "40 (30/8/2)" in shown
    assert "retrained: pending_approval" in shown and "day 1 of the week" in shown
    doc = result.to_dict()
    assert doc["clock"]["current_day"] == "2019-02-15" and doc["clock"]["is_week_start"] is True
    assert doc["days"][0]["drift_detected"] is True and doc["days"][0]["day"] == "2019-02-15"
