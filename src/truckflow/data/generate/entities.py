"""The world's entities: cities, routes between them, trucks and their drivers.

Sizes follow the scale: the fleet (trucks, drivers) grows with ``scale``; the number of cities
grows with its square root, so that routes (every ordered pair of distinct cities, as in the
course: 49 cities, 49*48 = 2,352 routes) and the hourly traffic rows grow about linearly.

Geography: two regions far apart, as the course's distances suggest (median 1,105 miles, but a
fifth of the routes over 5,000): a large one holding about 70% of the cities and a smaller one.
Distances are symmetric, average_hours = distance / 50 as in the course.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truckflow.data.generate.names import person_names
from truckflow.data.generate.rng import stream

__all__ = ["Cities", "Fleet", "Routes", "make_cities", "make_fleet", "make_routes", "n_cities"]

COURSE_CITIES = 49
COURSE_FLEET = 1300
MILES_PER_HOUR = 50.0

LOAD_CAPACITIES = np.array([3000.0, 4000.0, 6000.0, 10000.0, 15000.0, 20000.0])
_LOAD_P = np.array([0.237, 0.163, 0.160, 0.135, 0.233, 0.072])
_RATINGS = np.arange(2, 10)
_RATINGS_P = np.array([116, 118, 279, 75, 165, 203, 260, 84], dtype=float)
FUELS = ("diesel", "gas")
GENDERS = ("male", "female")
STYLES = ("proactive", "conservative")

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Cities:
    ids: list[str]
    xy: F64  # (C, 2) position in miles
    base_temp: F64  # climate: mean temperature, degrees F
    temp_amp: F64  # half the day-night swing
    base_humidity: F64
    base_wind: F64
    base_pressure: F64


@dataclass(frozen=True)
class Routes:
    ids: list[str]
    origin: I64  # city index
    dest: I64
    distance: F64  # miles, 2 decimals
    hours_centi: I64  # average_hours * 100 (exact)
    base_volume: F64  # typical vehicles per hour

    @property
    def average_hours(self) -> F64:
        return self.hours_centi / 100.0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Fleet:
    """Trucks and their drivers, one driver per truck (``vehicle_no`` = ``truck_id``)."""

    truck_ids: I64
    truck_age: I64
    load_capacity: F64
    mileage_mpg: I64
    fuel: I64  # index into FUELS
    driver_ids: list[str]
    names: list[str]
    gender: I64  # index into GENDERS
    driver_age: I64
    experience: I64  # clean (>= 0); the dirt step makes some negative, as in the course
    style: I64  # index into STYLES
    ratings: I64
    average_speed: F64
    active_from_day: I64  # first day the truck may depart
    retire_day: I64  # first day it no longer departs

    def __len__(self) -> int:
        return len(self.truck_ids)


def n_cities(scale: float) -> int:
    return max(4, round(COURSE_CITIES * math.sqrt(scale)))


def _hex_ids(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    raw = rng.integers(0, 2**32, size=2 * n + 16, dtype=np.uint64)
    _, first = np.unique(raw, return_index=True)
    unique = raw[np.sort(first)][:n]
    return [f"{prefix}{int(v):08x}" for v in unique]


def make_cities(seed: int, scale: float) -> Cities:
    rng = stream(seed, "cities")
    n = n_cities(scale)
    n_big = max(2, round(0.7 * n))
    region = np.arange(n) >= n_big
    centre = np.where(region[:, None], np.array([5000.0, 1000.0]), np.array([0.0, 0.0]))
    radius = np.where(region, 1400.0, 950.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    xy = centre + np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    base_temp = np.where(region, rng.normal(48, 12, n), rng.normal(31, 7, n)).clip(10, 80)
    # Local climates differ far more than one week's weather does: weekly samples of trips
    # then look alike, as a stationary world should.
    return Cities(
        ids=_hex_ids(rng, n, "C-"),
        xy=xy,
        base_temp=base_temp,
        temp_amp=rng.uniform(4, 9, n),
        base_humidity=rng.normal(68, 12, n).clip(30, 92),
        base_wind=rng.normal(7, 3, n).clip(2, 16),
        base_pressure=rng.normal(1019, 8, n),
    )


def make_routes(seed: int, cities: Cities) -> Routes:
    rng = stream(seed, "routes")
    n = len(cities.ids)
    origin, dest = np.nonzero(~np.eye(n, dtype=bool))
    # Road distance: the straight line with a detour factor of the (unordered) city pair.
    lo, hi = np.minimum(origin, dest), np.maximum(origin, dest)
    detour = 1.05 + 0.25 * stream(seed, "detours").random((n, n))
    straight = np.hypot(*(cities.xy[origin] - cities.xy[dest]).T)
    distance = np.round(np.maximum(straight * detour[lo, hi], 3.9), 2)
    hours_centi = np.round(distance / MILES_PER_HOUR * 100).astype(np.int64)
    volume = np.exp(rng.normal(math.log(1250.0), 0.4, len(origin))).clip(300, 2600)
    return Routes(
        ids=_hex_ids(rng, len(origin), "R-"),
        origin=origin.astype(np.int64),
        dest=dest.astype(np.int64),
        distance=distance,
        hours_centi=hours_centi,
        base_volume=volume,
    )


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> I64:
    # First occurrences of a longer draw: the first n never depend on how many more are asked.
    raw = rng.integers(low, high, size=2 * n + 16, dtype=np.int64)
    _, first = np.unique(raw, return_index=True)
    return raw[np.sort(first)][:n]


def _attributes(rng: np.random.Generator, n: int, *, old: bool) -> dict[str, NDArray[Any]]:
    if old:  # the aged trucks and novice drivers of a fleet change
        truck_age = rng.integers(13, 16, n)
        mileage = rng.integers(11, 18, n)
        driver_age = rng.integers(28, 41, n)
        experience = rng.integers(0, 4, n)
        ratings = rng.integers(2, 6, n)
    else:
        truck_age = np.rint(rng.normal(9.5, 2.0, n)).clip(3, 15)
        mileage = np.rint(rng.normal(20.8, 3.6, n)).clip(11, 29)
        driver_age = np.rint(rng.normal(47.8, 6.6, n)).clip(28, 65)
        start_age = np.rint(rng.normal(35.8, 5.7, n))
        experience = np.maximum(driver_age - start_age, 0)
        ratings = rng.choice(_RATINGS, size=n, p=_RATINGS_P / _RATINGS_P.sum())
    female = rng.random(n) < 0.062
    return {
        "truck_age": truck_age.astype(np.int64),
        "load_capacity": rng.choice(LOAD_CAPACITIES, size=n, p=_LOAD_P / _LOAD_P.sum()),
        "mileage_mpg": mileage.astype(np.int64),
        "fuel": (rng.random(n) < 0.45).astype(np.int64),
        "gender": female.astype(np.int64),
        "driver_age": driver_age.astype(np.int64),
        "experience": experience.astype(np.int64),
        "style": (rng.random(n) < 0.48).astype(np.int64),
        "ratings": ratings.astype(np.int64),
        "average_speed": np.round(rng.normal(53.3, 7.0, n).clip(29.0, 67.24), 2),
        "names": np.asarray(person_names(rng, female), dtype=object),
    }


def make_fleet(seed: int, n: int, *, extra: int = 0, extra_from_day: int = 0) -> Fleet:
    """``n`` trucks with drivers, plus ``extra`` old trucks that start on ``extra_from_day``.

    The first ``n`` are the same whatever ``extra`` is: a fleet change keeps the history.
    """
    total = n + extra
    base = _attributes(stream(seed, "fleet"), n, old=False)
    more = _attributes(stream(seed, "fleet-extra"), extra, old=True)
    cols = {k: np.concatenate([base[k], more[k]]) for k in base}
    hexes = _hex_ids(stream(seed, "driver-ids"), total, "")
    digits = stream(seed, "driver-id-digits").integers(0, 16, 2 * total + 16)[:total]
    far = np.int64(1 << 40)
    return Fleet(
        truck_ids=_unique_ints(stream(seed, "truck-ids"), total, 10_000_000, 100_000_000),
        truck_age=cols["truck_age"],
        load_capacity=cols["load_capacity"],
        mileage_mpg=cols["mileage_mpg"],
        fuel=cols["fuel"],
        driver_ids=[f"{h}-{d:x}" for h, d in zip(hexes, digits.tolist(), strict=True)],
        names=[str(x) for x in cols["names"]],
        gender=cols["gender"],
        driver_age=cols["driver_age"],
        experience=cols["experience"],
        style=cols["style"],
        ratings=cols["ratings"],
        average_speed=cols["average_speed"],
        active_from_day=np.concatenate(
            [np.zeros(n, np.int64), np.full(extra, extra_from_day, np.int64)]
        ),
        retire_day=np.full(total, far, dtype=np.int64),
    )
