"""Rows go into the database in key order; the order changes nothing but speed."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from truckflow.data.course_format import TABLE_SPECS
from truckflow.data.ingest import ingest_frames
from truckflow.data.ingest.loader import in_key_order
from truckflow.store import Database


def test_in_key_order_sorts_by_each_key_column_in_turn() -> None:
    frame = pd.DataFrame(
        {
            "route_id": ["R-2", "R-1", "R-1", "R-10"],
            "date": pd.to_datetime(["2019-01-01", "2019-01-02", "2019-01-01", "2019-01-01"]),
            "hour": [0.0, 0.0, 100.0, 0.0],
            "x": [1, 2, 3, 4],
        }
    )
    ordered = in_key_order(frame, ("route_id", "date", "hour"))
    assert ordered["x"].tolist() == [3, 2, 4, 1]
    assert in_key_order(ordered, ("route_id", "date", "hour")) is ordered


def test_unordered_rows_are_all_loaded_and_counted(any_db: Database) -> None:
    routes = pd.DataFrame(
        {
            "route_id": ["R-b", "R-a"],
            "origin_id": ["C-1", "C-1"],
            "destination_id": ["C-2", "C-2"],
            "distance": [10.0, 20.0],
            "average_hours": [1.0, 2.0],
        }
    )
    traffic = pd.DataFrame(
        {
            "route_id": ["R-b", "R-a", "R-b", "R-a"],
            "date": ["2019-01-02", "2019-01-02", "2019-01-01", "2019-01-01"],
            "hour": [100, 0, 2300, 100],
            "no_of_vehicles": [1.0, 2.0, 3.0, None],
            "accident": [0, 1, 0, 0],
        }
    )
    cities = pd.DataFrame(
        {
            "city_id": ["C-1", "C-2"],
            "date": "2019-01-01",
            "hour": 0,
            "temp": 30.0,
            "wind_speed": 10.0,
            "description": "Clear",
            "precip": 0.0,
            "humidity": 80.0,
            "visibility": 6.0,
            "pressure": 1015.0,
        }
    )
    frames = {"city_weather": cities, "routes": routes, "traffic": traffic}
    report = ingest_frames(any_db, frames, source="test")
    counts = report.tables()["traffic"]
    assert (counts.read, counts.inserted, counts.already_present) == (4, 4, 0)
    with any_db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT route_id, hour, no_of_vehicles, accident FROM traffic")
        ).all()
    assert sorted((r, int(h), v, int(a)) for r, h, v, a in rows) == [
        ("R-a", 0, 2.0, 1),
        ("R-a", 100, None, 0),
        ("R-b", 100, 1.0, 0),
        ("R-b", 2300, 3.0, 0),
    ]
    again = ingest_frames(any_db, {"traffic": traffic.iloc[::-1]}, source="test").tables()[
        "traffic"
    ]
    assert (again.inserted, again.already_present) == (0, 4)
    assert TABLE_SPECS["traffic"].key == ("route_id", "date", "hour")
