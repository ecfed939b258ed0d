"""A week start's forecasts go from their files into the load a piece at a time: the tables end up
as when the week was read as one frame and ingested whole, quarantine included; reruns change
nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from stream_world import assert_same, dump, fresh_home, prepare

from truckflow.data.ingest import apply_ground_truth, ingest_frames
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming import steps
from truckflow.store.tables import quarantine
from truckflow.streaming import (
    ClockState,
    StreamingClock,
    StreamingError,
    StreamingSources,
    day_batch,
)

FIRST_DAY = dt.date(2019, 2, 15)  # a week start, with history before it
PIECE_ROWS = 1_500  # a few pieces per forecast file of the small world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shared world, its traffic with one bad count inside the first week."""
    data, template = prepare(tmp_path_factory.mktemp("stream-none"))
    folder = tmp_path_factory.mktemp("stream-bad-row") / "world"
    shutil.copytree(data, folder)
    path = folder / "streaming_traffic.csv"
    traffic = pd.read_csv(path, dtype=str, keep_default_na=False)
    week = traffic.index[traffic["date"] == "2019-02-18"]
    traffic.loc[week[len(week) // 2], "no_of_vehicles"] = "many"
    traffic.to_csv(path, index=False)
    return folder, template


@pytest.fixture
def homes(world: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    with (
        Runtime.open(fresh_home(world[1], tmp_path / "streamed")) as streamed,
        Runtime.open(fresh_home(world[1], tmp_path / "whole")) as whole,
    ):
        yield streamed, whole


def _first_state(rt: Runtime) -> ClockState:
    return StreamingClock(rt.db).start(FIRST_DAY)


def _whole_frames(rt: Runtime, folder: Path, state: ClockState) -> dict[str, int]:
    """The first day as before: the files read whole, the history and the day's batch
    ingested as frames; the batch's counts."""
    sources = StreamingSources.from_folder(folder)
    limit = pd.Timestamp(FIRST_DAY)
    early = sources.schedule[sources.schedule["departure_date"] < limit]
    history = {
        "truck_schedule": early,
        "city_weather": sources.city_weather[sources.city_weather["date"] < limit],
        "route_weather": sources.route_weather[sources.route_weather["Date"] < limit],
        "traffic": sources.traffic[sources.traffic["date"] < limit],
    }
    source = f"stream {FIRST_DAY.isoformat()}"
    ingest_frames(
        rt.db, {k: v for k, v in history.items() if not v.empty}, source=f"{source} history"
    )
    apply_ground_truth(
        rt.db,
        early[["truck_id", "departure_date", "delay"]],
        source=f"{source} history ground truth",
    )
    batch = day_batch(sources, FIRST_DAY, state)
    frames = {
        "truck_schedule": batch.schedules.assign(delay=np.nan),
        "city_weather": batch.city_weather,
        "route_weather": batch.route_weather,
        "traffic": batch.traffic,
    }
    ingest_frames(rt.db, frames, source=source, sink=rt.notifications.sink)
    apply_ground_truth(
        rt.db,
        batch.labels[["truck_id", "departure_date", "delay"]],
        source=f"{source} ground truth",
    )
    return batch.counts()


def _streamed(rt: Runtime, folder: Path, state: ClockState) -> dict[str, Any]:
    return steps.ingest_day(rt, folder, state, FIRST_DAY)


def test_a_week_start_from_file_pieces_stores_what_the_whole_frames_store(
    world: tuple[Path, Path], homes: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "INGEST_PIECE_ROWS", PIECE_ROWS)
    folder = world[0]
    traffic_rows = sum(1 for _ in (folder / "streaming_traffic.csv").open()) - 1
    assert traffic_rows > 4 * PIECE_ROWS  # the files are read in several pieces indeed
    streamed, whole = homes
    out = _streamed(streamed, folder, _first_state(streamed))
    counts = _whole_frames(whole, folder, _first_state(whole))
    assert out["received"] == counts and counts["traffic"] > PIECE_ROWS
    assert out["history_trips"] > 0 and out["quarantined"] >= 1
    expected, got = dump(whole.db), dump(streamed.db)
    # A key repeated in a later piece of the file is rejected against the stored row ("the
    # database") instead of the line that kept it: the same rows, told in other words.
    rejected = ["table_name", "source_file", "line_no"]
    conflicts = [t.pop("ingest_conflicts")[rejected] for t in (expected, got)]
    pd.testing.assert_frame_equal(*conflicts)
    assert_same(expected, got)
    # The bad count is quarantined with its column named, numbered as a row of the week's
    # traffic (the same number as when the week was one frame: the tables are the same).
    with streamed.db.engine.connect() as conn:
        bad = conn.execute(
            sa.select(quarantine.c.line_no, quarantine.c.reason, quarantine.c.source_file).where(
                quarantine.c.table_name == "traffic"
            )
        ).all()
    assert len(bad) == 1
    line_no, reason, source = bad[0]
    assert "no_of_vehicles" in reason and source == f"stream {FIRST_DAY.isoformat()}"
    assert 1 <= line_no <= counts["traffic"]


def test_a_week_start_ingested_again_changes_nothing(
    world: tuple[Path, Path], homes: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "INGEST_PIECE_ROWS", PIECE_ROWS)
    rt = homes[0]
    state = _first_state(rt)
    first = _streamed(rt, world[0], state)
    once = dump(rt.db)
    again = _streamed(rt, world[0], state)
    assert_same(once, dump(rt.db))
    assert again["received"] == first["received"]


def test_a_bad_date_in_a_later_piece_fails_the_day_and_leaves_its_tables(
    world: tuple[Path, Path],
    homes: tuple[Runtime, Runtime],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(steps, "INGEST_PIECE_ROWS", PIECE_ROWS)
    folder = tmp_path / "world"
    shutil.copytree(world[0], folder)
    path = folder / "streaming_traffic.csv"
    lines = path.read_text().splitlines()
    line = 3 * PIECE_ROWS + 10  # in the fourth piece, after three were loaded
    fields = lines[line - 1].split(",")  # route_id,date,hour,no_of_vehicles,accident
    lines[line - 1] = ",".join([fields[0], "2019-13-01", *fields[2:]])
    path.write_text("\n".join(lines) + "\n")
    rt = homes[0]
    before = dump(rt.db)
    with pytest.raises(StreamingError, match=f"line {line}, column date"):
        _streamed(rt, folder, _first_state(rt))
    after = dump(rt.db)
    for state in (before, after):
        state.pop("streaming_clock")  # started by the test
    assert_same(before, after)
