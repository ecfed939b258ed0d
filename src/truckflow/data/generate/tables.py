"""The course files' columns, built from the generated world (with its dirt) in their exact formats.

Headers and column order are the course's; value formats too: hours as HHMM integers, whole
weather values (``21.00`` in route weather), precipitation with one (city) or two (route)
decimals, vehicle counts like ``276.0``, arrivals with nanoseconds, blanks as empty fields.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from truckflow.data.generate.calendar import SLOT_HOURS, Calendar
from truckflow.data.generate.descriptions import DESCRIPTIONS
from truckflow.data.generate.dirt import DirtRates, pick, pick_mask
from truckflow.data.generate.entities import FUELS, GENDERS, STYLES, Cities, Fleet, Routes
from truckflow.data.generate.rng import stream
from truckflow.data.generate.schedule import Trips
from truckflow.data.generate.text import CsvSink, coded, fixed, float_repr, ints, tenths, zeros
from truckflow.data.generate.traffic import TrafficBlock
from truckflow.data.generate.weather import Weather

__all__ = [
    "CITY_WEATHER",
    "DIRT_ROUTES",
    "DRIVERS",
    "ROUTES",
    "ROUTE_WEATHER",
    "SCHEDULE",
    "TRAFFIC",
    "TRUCKS",
    "RouteWeatherRows",
    "Vocab",
    "drivers_columns",
    "routes_columns",
    "schedule_columns",
    "traffic_columns",
    "trucks_columns",
    "write_city_weather",
]

TRUCKS = ("truck_id", "truck_age", "load_capacity_pounds", "mileage_mpg", "fuel_type")
DRIVERS = (
    "driver_id", "name", "gender", "age", "experience", "driving_style", "ratings", "vehicle_no",
    "average_speed_mph",
)  # fmt: skip
ROUTES = ("route_id", "origin_id", "destination_id", "distance", "average_hours")
_WEATHER = ("temp", "wind_speed", "description", "precip", "humidity", "visibility", "pressure")
_CHANCE = ("chanceofrain", "chanceoffog", "chanceofsnow", "chanceofthunder")
CITY_WEATHER = ("city_id", "date", "hour", *_WEATHER, *_CHANCE)
ROUTE_WEATHER = ("route_id", "Date", *_WEATHER, *_CHANCE)
TRAFFIC = ("route_id", "date", "hour", "no_of_vehicles", "accident")
SCHEDULE = ("truck_id", "route_id", "departure_date", "estimated_arrival", "delay")

I64 = NDArray[np.int64]
DIRT_ROUTES = 4096  # routes per draw of the route weather's impossible humidities


class Vocab:
    """The strings the files repeat: ids, dates, timestamps, descriptions."""

    def __init__(self, cal: Calendar, cities: Cities, routes: Routes, hours: int) -> None:
        days = [cal.history_start + timedelta(days=d) for d in range(hours // 24 + 1)]
        self.cal = cal
        self.city_ids = pa.array(cities.ids, pa.string())
        self.route_ids = pa.array(routes.ids, pa.string())
        self.dates = pa.array([d.isoformat() for d in days], pa.string())
        self.slot_times = pa.array(
            [f"{d.isoformat()} {h:02d}:00:00" for d in days for h in range(0, 24, SLOT_HOURS)],
            pa.string(),
        )
        self.departures = pa.array(
            [f"{d.isoformat()} {cal.departure_hour:02d}:00:00" for d in days], pa.string()
        )
        self.descriptions = pa.array(list(DESCRIPTIONS), pa.string())
        self.hhmm = pa.array([str(h * 100) for h in range(24)], pa.string())


def trucks_columns(seed: int, fleet: Fleet, dirt: DirtRates) -> list[pa.Array]:
    n = len(fleet)
    return [
        ints(fleet.truck_ids),
        ints(fleet.truck_age),
        fixed(
            fleet.load_capacity,
            ".0",
            pick_mask(stream(seed, "dirt-load"), n, dirt.load_capacity_blank),
        ),
        ints(fleet.mileage_mpg),
        coded(fleet.fuel, FUELS, pick_mask(stream(seed, "dirt-fuel"), n, dirt.fuel_type_blank)),
    ]


def drivers_columns(seed: int, fleet: Fleet, dirt: DirtRates) -> list[pa.Array]:
    n = len(fleet)
    experience = fleet.experience.copy()
    wrong = pick(stream(seed, "dirt-experience"), n, dirt.negative_experience)
    experience[wrong] = -stream(seed, "dirt-experience-value").integers(1, 9, len(wrong))
    return [
        pa.array(fleet.driver_ids, pa.string()),
        pa.array(fleet.names, pa.string()),
        coded(fleet.gender, GENDERS, pick_mask(stream(seed, "dirt-gender"), n, dirt.gender_blank)),
        ints(fleet.driver_age),
        ints(experience),
        coded(
            fleet.style, STYLES, pick_mask(stream(seed, "dirt-style"), n, dirt.driving_style_blank)
        ),
        ints(fleet.ratings),
        ints(fleet.truck_ids),
        float_repr(fleet.average_speed),
    ]


def routes_columns(cities: Cities, routes: Routes) -> list[pa.Array]:
    city_ids = pa.array(cities.ids, pa.string())
    return [
        pa.array(routes.ids, pa.string()),
        coded(routes.origin, city_ids),
        coded(routes.dest, city_ids),
        float_repr(routes.distance),
        float_repr(routes.average_hours),
    ]


def _weather_columns(
    w: Weather,
    rows: tuple[NDArray[np.intp], NDArray[np.intp]],
    vocab: Vocab,
    route: bool,
    bad_humidity: NDArray[np.bool_],
    bad_values: I64,
) -> list[pa.Array]:
    """temp .. chanceofthunder for the cells ``rows`` (entity index, time index); the humidity
    of the rows under ``bad_humidity`` is ``bad_values``, in row order."""
    humidity = w.humidity[rows].copy()
    humidity[bad_humidity] = bad_values
    whole = ".00" if route else ""
    n = len(humidity)
    return [
        fixed(w.temp[rows], whole),
        fixed(w.wind[rows], whole),
        coded(w.description[rows], vocab.descriptions),
        tenths(w.precip[rows], 2 if route else 1),
        fixed(humidity, ""),
        fixed(w.visibility[rows], whole),
        fixed(w.pressure[rows], ""),
        *(zeros(n) for _ in _CHANCE),
    ]


def write_city_weather(
    seed: int,
    sink: CsvSink,
    w: Weather,
    vocab: Vocab,
    span: tuple[int, int],
    dirt: DirtRates,
    at_least: int = 0,
) -> None:
    """Hourly rows of every city over ``span`` (hours), plus the duplicated cities' second series.

    A duplicated city's second series is its own weather read 1-3 hours off: the same
    (city, date, hour) twice with different values, placed among the other cities' blocks.
    """
    n_cities = w.temp.shape[0]
    rng = stream(seed, "dirt-city-duplicate")
    twins = pick(rng, n_cities, dirt.city_duplicate)
    if len(twins) < at_least:  # the quirks ask for a city with two series whatever the scale
        twins = np.arange(min(at_least, n_cities), dtype=np.int64)
    source = np.arange(n_cities)
    lag = np.zeros(n_cities, dtype=np.int64)
    for city in twins.tolist():  # a handful of cities at most
        at = int(rng.integers(0, len(source) + 1))
        source = np.insert(source, at, city)
        lag = np.insert(lag, at, int(rng.integers(1, 4)))
    h0, h1 = span
    hours = np.arange(h0, h1)
    time = np.clip(hours[None, :] - lag[:, None], 0, w.temp.shape[1] - 1).ravel()
    entity = np.repeat(source, len(hours))
    n = len(entity)
    bad = pick_mask(stream(seed, "dirt-city-humidity", h0), n, dirt.impossible_humidity)
    hour = np.tile(hours, len(source))
    values = stream(seed, "dirt-city-bad", h0).integers(101, 141, int(bad.sum()))
    sink.write(
        [
            coded(entity, vocab.city_ids),
            coded(hour // 24, vocab.dates),
            coded(hour % 24, vocab.hhmm),
            *_weather_columns(w, (entity, time), vocab, False, bad, values),
        ]
    )


class RouteWeatherRows:
    """6-hourly rows of every route over the slots ``span``, fed a block of routes at a time.

    Blocks come in route order, each with its routes' weather over every slot. The impossible
    humidities are drawn per ``DIRT_ROUTES`` routes whatever the blocks fed, so the rows are
    those of a whole grid written ``DIRT_ROUTES`` routes at a time.
    """

    def __init__(
        self, seed: int, sink: CsvSink, vocab: Vocab, span: tuple[int, int], dirt: DirtRates,
        n_routes: int,
    ) -> None:  # fmt: skip
        self.seed, self.sink, self.vocab, self.span = seed, sink, vocab, span
        self.rate = dirt.impossible_humidity
        self.n_routes = n_routes
        self._block = -1
        self._bad = np.zeros(0, dtype=bool)
        self._values = np.zeros(0, dtype=np.int64)

    def write(self, first_route: int, w: Weather) -> None:
        """The rows of the routes ``first_route`` .. (as many as ``w`` holds)."""
        lo, hi = first_route, first_route + w.temp.shape[0]
        while lo < hi:
            end = min(hi, (lo // DIRT_ROUTES + 1) * DIRT_ROUTES)
            self._write(w, first_route, (lo, end))
            lo = end

    def _dirt(self, block: int) -> None:
        """The bad-humidity rows and values of the ``DIRT_ROUTES`` routes from ``block``."""
        if block == self._block:
            return
        s0, s1 = self.span
        n = (min(block + DIRT_ROUTES, self.n_routes) - block) * (s1 - s0)
        self._bad = pick_mask(stream(self.seed, "dirt-route-humidity", s0, block), n, self.rate)
        rng = stream(self.seed, "dirt-route-bad", s0, block)
        self._values = rng.integers(101, 141, int(self._bad.sum()))
        self._block = block

    def _write(self, w: Weather, first_route: int, routes: tuple[int, int]) -> None:
        lo, hi = routes
        block = lo // DIRT_ROUTES * DIRT_ROUTES
        self._dirt(block)
        s0, s1 = self.span
        a, b = (lo - block) * (s1 - s0), (hi - block) * (s1 - s0)
        bad = self._bad[a:b]
        done = int(np.count_nonzero(self._bad[:a]))
        values = self._values[done : done + int(np.count_nonzero(bad))]
        entity = np.repeat(np.arange(lo, hi), s1 - s0)
        time = np.tile(np.arange(s0, s1), hi - lo)
        self.sink.write(
            [
                coded(entity, self.vocab.route_ids),
                coded(time, self.vocab.slot_times),
                *_weather_columns(w, (entity - first_route, time), self.vocab, True, bad, values),
            ]
        )


def traffic_columns(
    seed: int, block: TrafficBlock, part: int, span: tuple[int, int], vocab: Vocab, dirt: DirtRates
) -> list[pa.Array]:
    """Hourly rows of a block of routes over ``span``, with blank counts and repeated rows."""
    n_routes = block.volume.shape[0]
    h0, h1 = span
    width = h1 - h0
    n = n_routes * width
    again = pick_mask(
        stream(seed, "dirt-traffic-repeat", block.first_route, part), n, dirt.traffic_duplicate
    )
    idx = np.repeat(np.arange(n), 1 + again.astype(np.int64))
    route = idx // width
    hour = h0 + idx % width
    blank = pick_mask(
        stream(seed, "dirt-traffic-blank", block.first_route, part), len(idx), dirt.vehicles_blank
    )
    return [
        coded(route + block.first_route, vocab.route_ids),
        coded(hour // 24, vocab.dates),
        coded(hour % 24, vocab.hhmm),
        fixed(block.volume[route, hour], ".0", blank),
        ints(block.accident[route, hour]),
    ]


def arrival_text(cal: Calendar, depart_s: I64, average_hours: NDArray[np.float64]) -> list[str]:
    """Estimated arrivals as the course wrote them: departure + average_hours, in nanoseconds.

    The course added the float hours as pandas does (``to_timedelta(hours, unit="h")``), which
    sometimes lands a nanosecond short (``23:17:23.999999999``); the same arithmetic here writes
    the same text.
    """
    span = pd.to_timedelta(average_hours, unit="h").to_numpy().astype(np.int64)
    start = np.datetime64(cal.history_start.isoformat(), "ns")
    stamps = start + (depart_s * 1_000_000_000 + span).astype("timedelta64[ns]")
    text = np.datetime_as_string(stamps, unit="ns")
    return [t.replace("T", " ") for t in text.tolist()]


def schedule_columns(
    trips: Trips, fleet: Fleet, routes: Routes, vocab: Vocab, delay: NDArray[np.int8]
) -> list[pa.Array]:
    arrival = arrival_text(vocab.cal, trips.depart_s, routes.average_hours[trips.route])
    return [
        ints(fleet.truck_ids[trips.truck]),
        coded(trips.route, vocab.route_ids),
        coded(trips.day, vocab.departures),
        pa.array(arrival, pa.string()),
        ints(delay),
    ]
