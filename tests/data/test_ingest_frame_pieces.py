"""Frames ingested a few rows at a time (``piece_rows``) give what one piece gives, exactly.

The frames carry a wrong value, an exact repeat and a conflicting repeat of a row far before
them, and a city whose rows are new; pieces are a handful of rows, so a repeat lands in the
piece of the row it repeats only because the rows of a key travel together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from truckflow.data import IngestError
from truckflow.data.course_format import TABLE_SPECS
from truckflow.data.ingest import IngestReport, ingest_directory, ingest_frames
from truckflow.data.ingest.batch import batch_from_frame, frame_pieces
from truckflow.notify import Notifications
from truckflow.notify.tables import notify_outbox as outbox
from truckflow.settings import Settings
from truckflow.store import Database, connect
from truckflow.store.migrate import upgrade

FORECASTS = {
    "city_weather": "city_weather.csv",
    "route_weather": "routes_weather.csv",
    "traffic": "traffic_table.csv",
}


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    """The sample's forecasts as the streaming day holds them (datetimes parsed), dirtied."""
    city = pd.read_csv(folder / "city_weather.csv", parse_dates=["date"]).head(60)
    new_city = city[city["city_id"] == city["city_id"].iloc[0]].assign(city_id="C-new")
    route = pd.read_csv(folder / "routes_weather.csv", parse_dates=["Date"]).head(40)
    traffic = pd.read_csv(folder / "traffic_table.csv", parse_dates=["date"]).head(60)
    traffic.loc[25, "accident"] = 7  # accident must be 0 or 1
    conflict = traffic.iloc[[3]].assign(no_of_vehicles=12345.0)  # the key of row 4
    traffic = pd.concat([traffic, traffic.iloc[[1]], conflict], ignore_index=True)
    return {
        "city_weather": pd.concat([city, new_city], ignore_index=True),
        "route_weather": route,
        "traffic": traffic,
    }


def _setup(db: Database, folder: Path) -> None:
    """Everything but the forecasts loaded; the first route weather rows too (already there)."""
    for name in FORECASTS.values():
        if name != "city_weather.csv":
            (folder / name).rename(folder / f"later_{name}")
    ingest_directory(db, folder)
    for name in FORECASTS.values():
        if (folder / f"later_{name}").exists():
            (folder / f"later_{name}").rename(folder / name)


def _report(report: IngestReport) -> list[dict[str, Any]]:
    return [dataclasses.asdict(s) for s in report.sources]


def _told(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == "data_quality.failed")
        ).all()
    return sorted((r.body for r in rows), key=repr)


@pytest.mark.parametrize("piece_rows", [1, 16])
def test_pieces_of_frames_load_what_one_piece_loads(
    small_sample: Path,
    tmp_path: Path,
    settings: Settings,
    dump: Callable[..., Any],
    piece_rows: int,
) -> None:
    frames = _frames(small_sample)
    outcome = {}
    for name, pieces in (("whole", None), ("pieces", piece_rows)):
        db = connect(f"sqlite:///{tmp_path / f'{name}.db'}")
        try:
            upgrade(db)
            _setup(db, small_sample)
            sink = Notifications.open(settings, db).sink
            report = ingest_frames(db, frames, source="stream day", sink=sink, piece_rows=pieces)
            outcome[name] = (_report(report), dump(db), _told(db))
        finally:
            db.dispose()

    assert outcome["pieces"] == outcome["whole"]
    counts, contents, told = outcome["whole"]
    traffic = next(s for s in counts if s["table"] == "traffic")
    assert (traffic["quarantined"], traffic["conflicting"]) == (1, 1)
    assert traffic["read"] == len(frames["traffic"])
    mine = [c for c in contents["ingest_conflicts"] if c[1] == "stream day"]
    assert [(c[0], c[2], c[4]) for c in mine] == [("traffic", 62, "line 4 of stream day")]
    cities = next(s for s in counts if s["table"] == "cities")
    assert (cities["inserted"], cities["read"]) == (1, cities["already_present"] + 1)
    assert told


def test_rows_of_a_key_share_the_piece_of_its_first_row() -> None:
    spec = TABLE_SPECS["traffic"]
    frame = pd.DataFrame(
        {
            "route_id": ["R1", "R2", "R3", "R4", "R1", "R5", "R2"],
            "date": pd.to_datetime(["2019-02-16"] * 7),
            "hour": [0, 0, 0, 0, 0, 0, 0],
            "no_of_vehicles": [1.0, 2.0, 3.0, 4.0, 9.0, 5.0, 2.0],
            "accident": [0] * 7,
        }
    )
    pieces = list(frame_pieces(spec, frame, "s", piece_rows=2))

    assert [p.line_no.tolist() for p in pieces] == [[1, 2, 5, 7], [3, 4], [6]]
    whole = batch_from_frame(spec, frame, "s")
    rebuilt = pd.concat([p.frame for p in pieces], ignore_index=True)
    order = np.concatenate([p.line_no for p in pieces]) - 1
    pd.testing.assert_frame_equal(rebuilt, whole.frame.iloc[order].reset_index(drop=True))


def test_a_frame_lacking_columns_fails_before_the_run(db: Database) -> None:
    frame = pd.DataFrame({"route_id": ["R1"] * 3, "hour": [0, 100, 200]})
    with pytest.raises(IngestError, match="lack the column"):
        ingest_frames(db, {"traffic": frame}, source="s", piece_rows=1)
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ingest_log")).scalar_one() == 0


def test_frames_one_after_the_other_load_what_one_frame_loads(
    small_sample: Path, tmp_path: Path, settings: Settings, dump: Callable[..., Any]
) -> None:
    """A table's rows as frames in turn (a file read a piece at a time): numbered through them
    all, repeats of rows of an earlier frame found as in one frame."""
    frames = _frames(small_sample)
    traffic = frames["traffic"]
    in_turn = {
        **frames,
        "traffic": iter([traffic.iloc[:20], traffic.iloc[20:45], traffic.iloc[45:]]),
    }
    outcome = {}
    for name, given in (("whole", frames), ("in turn", in_turn)):
        db = connect(f"sqlite:///{tmp_path / f'{name}.db'}")
        try:
            upgrade(db)
            _setup(db, small_sample)
            sink = Notifications.open(settings, db).sink
            report = ingest_frames(db, given, source="stream day", sink=sink, piece_rows=16)
            outcome[name] = (_report(report), dump(db), _told(db))
        finally:
            db.dispose()

    (whole_counts, whole_contents, whole_told), (counts, contents, told) = outcome.values()
    assert counts == whole_counts and told == whole_told
    quarantined = [(q[0], q[2]) for q in contents["quarantine"] if q[1] == "stream day"]
    assert quarantined == [("traffic", 26)]  # row 26 of the traffic, in the second frame
    # The conflicting repeat of row 4 (in the first frame, loaded by then) is rejected against
    # the stored row: the same line, told as a conflict with the database.
    conflicts = [
        [(*c[:3], c[4]) for c in dumped.pop("ingest_conflicts") if c[1] == "stream day"]
        for dumped in (whole_contents, contents)
    ]
    assert conflicts == [
        [("traffic", "stream day", 62, "line 4 of stream day")],
        [("traffic", "stream day", 62, "the database")],
    ]
    assert contents == whole_contents
