"""A tiny hand-made world whose features can be worked out by hand.

Cities A, B, C; route R-1 (A -> B) and R-2 (A -> C); trucks 1, 2, 3 with one driver each.
Route weather is 6-hourly from 2019-01-01 00:00 to 2019-01-03 00:00; traffic and city weather
are hourly over 2019-01-01..03. With ``i`` the hours since 2019-01-01 00:00:
  route weather temp = i, traffic no_of_vehicles = 100 + i, city temp = base(city) + i
  with base A = 0, B = 1000, C = 2000.
Trips:
  A: truck 1 on R-2, 2019-01-01 19:20 -> 2019-01-02 05:40 (crosses midnight; an accident at
     2019-01-02 03:00 on R-2);
  B: truck 2 on R-1, 2019-01-01 07:00 -> 09:29:59 (a blank vehicle count at 09:00);
  C: truck 3 on R-1, 2019-01-03 07:00 -> 09:00: no route weather after 2019-01-03 00:00 yet.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from truckflow.features import FeatureInputs
from truckflow.store import Database
from truckflow.store import tables as s

T0 = pd.Timestamp("2019-01-01")
TRIP_A = (1, pd.Timestamp("2019-01-01 19:20"))
TRIP_B = (2, pd.Timestamp("2019-01-01 07:00"))
TRIP_C = (3, pd.Timestamp("2019-01-03 07:00"))
_BASE = {"C-A": 0, "C-B": 1000, "C-C": 2000}
# Descriptions of R-2's slots 2019-01-01 18:00, 01-02 00:00, 06:00 (trip A): mode "Snow";
# R-1's slots 2019-01-01 06:00 and 12:00 (trip B) tie, and the tie goes to "Cloudy".
_DESCRIPTIONS = {
    ("R-2", "2019-01-01 18:00"): "Snow",
    ("R-2", "2019-01-02 00:00"): "Clear",
    ("R-2", "2019-01-02 06:00"): "Snow",
    ("R-1", "2019-01-01 06:00"): "Sunny",
    ("R-1", "2019-01-01 12:00"): "Cloudy",
}


def _weather(i: int) -> dict[str, object]:
    return {
        "wind_speed": 10.0,
        "precip": 0.0,
        "humidity": 80.0,
        "visibility": 6.0,
        "pressure": 1000.0 + i,
    }


def make_world() -> FeatureInputs:
    routes = pd.DataFrame(
        {
            "route_id": ["R-1", "R-2"],
            "origin_id": ["C-A", "C-A"],
            "destination_id": ["C-B", "C-C"],
            "distance": [120.0, 520.0],
            "average_hours": [2.4, 10.4],
        }
    )
    route_weather = []
    for route in ("R-1", "R-2"):
        for i in range(0, 49, 6):
            ts = T0 + pd.Timedelta(hours=i)
            desc = _DESCRIPTIONS.get((route, ts.strftime("%Y-%m-%d %H:%M")), "Overcast")
            route_weather.append(
                {"route_id": route, "ts": ts, "temp": float(i), "description": desc, **_weather(i)}
            )
    traffic, city_weather = [], []
    for i in range(72):
        ts = T0 + pd.Timedelta(hours=i)
        for route in ("R-1", "R-2"):
            vehicles = None if (route, i) == ("R-1", 9) else 100.0 + i
            accident = int((route, i) == ("R-2", 27))
            traffic.append(
                {
                    "route_id": route,
                    "date": ts.date(),
                    "hour": ts.hour * 100,
                    "no_of_vehicles": vehicles,
                    "accident": accident,
                }
            )
        for city, base in _BASE.items():
            city_weather.append(
                {
                    "city_id": city,
                    "date": ts.date(),
                    "hour": ts.hour * 100,
                    "temp": float(base + i),
                    "description": f"{city} {i}",
                    **_weather(i),
                }
            )
    # A duplicate of (C-A, 2019-01-01, 700) read after the original: the first one read wins.
    city_weather.append({**city_weather[7 * 3], "temp": -999.0})
    schedule = pd.DataFrame(
        {
            "truck_id": [TRIP_A[0], TRIP_B[0], TRIP_C[0]],
            "route_id": ["R-2", "R-1", "R-1"],
            "departure_date": [TRIP_A[1], TRIP_B[1], TRIP_C[1]],
            "estimated_arrival": pd.to_datetime(
                ["2019-01-02 05:40:00", "2019-01-01 09:29:59", "2019-01-03 09:00:00"]
            ),
            "delay": [1, 0, None],
        }
    )
    trucks = pd.DataFrame(
        {
            "truck_id": [1, 2, 3],
            "truck_age": [5, 10, 12],
            "load_capacity_pounds": [3000.0, None, 6000.0],
            "mileage_mpg": [20, 15, 25],
            "fuel_type": ["diesel", None, "gas"],
        }
    )
    drivers = pd.DataFrame(
        {
            "driver_id": ["d-1", "d-2", "d-3"],
            "name": ["Ann", "Bob", "Cy"],
            "gender": ["female", "male", None],
            "age": [40, 50, 60],
            "experience": [10, -8, 30],
            "driving_style": ["proactive", "conservative", None],
            "ratings": [7, 3, 9],
            "vehicle_no": [1, 2, 3],
            "average_speed_mph": [55.5, 44.4, 60.0],
        }
    )
    return FeatureInputs(
        schedule=schedule,
        trucks=trucks,
        drivers=drivers,
        routes=routes,
        city_weather=pd.DataFrame(city_weather),
        route_weather=pd.DataFrame(route_weather),
        traffic=pd.DataFrame(traffic),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
    return rows


def insert_world(db: Database, world: FeatureInputs, *, skip_city_duplicates: bool = True) -> None:
    """Write the world's frames to the source tables (the database keeps one row per key)."""
    city_weather = world.city_weather
    if skip_city_duplicates:
        city_weather = city_weather.drop_duplicates(["city_id", "date", "hour"])
    with db.begin() as conn:
        conn.execute(sa.insert(s.cities), [{"city_id": c} for c in _BASE])
        for table, frame in (
            (s.routes, world.routes),
            (s.trucks, world.trucks),
            (s.drivers, world.drivers),
            (s.route_weather, world.route_weather),
            (s.traffic, world.traffic),
            (s.city_weather, city_weather),
            (s.truck_schedule, world.schedule),
        ):
            conn.execute(sa.insert(table), _records(frame))
