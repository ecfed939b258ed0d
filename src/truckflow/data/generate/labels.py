"""The delay label: a latent process with causes a user would believe.

Nobody measured an actual arrival; like the course, a trip is "delayed" or not. Here the odds of a
delay come from what the features can see, plus what they cannot (how a day went, luck):

- crossing midnight (a trip too long for one driving day) dominates, as in the course's data
  (0.54 vs 0.19); very long trips are a little less often late than the 1-2 day ones;
- bad weather along the route over the trip (visibility, precipitation, wind, snow and rain),
  and at the destination on arrival (visibility, humidity); weather spells make whole days bad;
- traffic: the mean volume over the trip hours, and any accident on the way;
- the driver (experience, style) and the truck (age), a little;
- an unseen day effect and, through the coin flip, the trip's own luck.

Signals are taken from the generated (clean) tables over the same windows as the course's
features: route weather from the departure floored to 6 h to the arrival ceiled to 6 h, city
weather at the rounded arrival hour, traffic from the departure hour to the rounded arrival.
The intercept is solved so that the historical delay rate hits the target (0.35 by default);
a concept shift swaps in another mapping from its week on, at the same expected delay rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truckflow.data.generate.calendar import SLOT_HOURS, Calendar
from truckflow.data.generate.descriptions import LEVEL_HEAVY, LEVEL_MODERATE
from truckflow.data.generate.entities import Fleet, Routes
from truckflow.data.generate.rng import stream
from truckflow.data.generate.scenarios import ScenarioSpec
from truckflow.data.generate.schedule import Trips
from truckflow.data.generate.traffic import TrafficBlock
from truckflow.data.generate.weather import Weather

__all__ = ["BASE", "CONCEPT", "Mapping", "TripSignals", "delay_labels"]

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Mapping:
    """Weights of the latent log-odds of a delay."""

    midnight: float
    long_trip: float  # per log(hours / 24) beyond a day
    route_weather: float
    destination: float
    origin: float
    volume: float  # per 1,000 vehicles/hour above 1,300
    accident: float
    experience: float  # per year above 12
    style: float  # conservative minus proactive
    truck_age: float  # per year above 9.5
    day_sd: float  # the unseen day effect


BASE = Mapping(
    midnight=2.7,
    long_trip=-0.25,
    route_weather=6.5,
    destination=3.4,
    origin=0.5,
    volume=1.0,
    accident=0.7,
    experience=-0.02,
    style=-0.1,
    truck_age=0.04,
    day_sd=0.15,
)
# After a concept shift: night driving is no longer the problem, congestion and the driver are.
CONCEPT = Mapping(
    midnight=0.6,
    long_trip=0.0,
    route_weather=2.0,
    destination=1.0,
    origin=0.3,
    volume=3.0,
    accident=1.8,
    experience=-0.15,
    style=-1.2,
    truck_age=0.05,
    day_sd=0.15,
)


def hazard(weather: Weather) -> F64:
    """How bad the weather is for driving, 0 when clear, about 1 in a storm."""
    out: F64 = (
        0.5 * (6.0 - weather.visibility) / 6.0
        + 2.5 * weather.precip
        + 0.03 * np.maximum(weather.wind - 10.0, 0.0)
        + 0.25 * (weather.level >= LEVEL_MODERATE)
        + 0.25 * (weather.level >= LEVEL_HEAVY)
    )
    return out


@dataclass
class TripSignals:
    """Per trip: what the latent process reads; route weather and traffic come a block of routes
    at a time."""

    midnight: NDArray[np.bool_]
    hours: F64
    route_weather: F64
    destination: F64
    origin: F64
    volume: F64
    accident: NDArray[np.bool_]

    @classmethod
    def from_weather(cls, trips: Trips, routes: Routes, city: Weather) -> TripSignals:
        """The city weather's signals; route weather and traffic come a block of routes at a time."""
        dep_h = trips.depart_s // 3600
        arr_h = (trips.arrive_s + 1800) // 3600
        city_h = hazard(city) + 0.012 * (city.humidity - 70.0)
        n = len(trips)
        return cls(
            midnight=trips.arrive_s // 86400 != trips.day,
            hours=routes.average_hours[trips.route],
            route_weather=np.zeros(n),
            destination=city_h[routes.dest[trips.route], arr_h],
            origin=city_h[routes.origin[trips.route], dep_h],
            volume=np.zeros(n),
            accident=np.zeros(n, dtype=bool),
        )

    def add_route_weather(self, trips: Trips, first_route: int, route: Weather) -> None:
        """The mean route hazard over each trip's slots, for the trips of a block of routes."""
        hi = first_route + route.temp.shape[0]
        mine = np.flatnonzero((trips.route >= first_route) & (trips.route < hi))
        r = trips.route[mine] - first_route
        first = trips.depart_s[mine] // 3600 // SLOT_HOURS
        last = -(-trips.arrive_s[mine] // (3600 * SLOT_HOURS))
        slots = np.cumsum(np.pad(hazard(route), ((0, 0), (1, 0))), axis=1)
        self.route_weather[mine] = (slots[r, last + 1] - slots[r, first]) / (last - first + 1)

    def add_traffic(self, trips: Trips, block: TrafficBlock) -> None:
        lo = block.first_route
        hi = lo + block.volume.shape[0]
        mine = np.flatnonzero((trips.route >= lo) & (trips.route < hi))
        r = trips.route[mine] - lo
        h0 = trips.depart_s[mine] // 3600
        h1 = (trips.arrive_s[mine] + 1800) // 3600
        vol = np.cumsum(np.pad(block.volume, ((0, 0), (1, 0))), axis=1)
        acc = np.cumsum(np.pad(block.accident.astype(np.int32), ((0, 0), (1, 0))), axis=1)
        self.volume[mine] = (vol[r, h1 + 1] - vol[r, h0]) / (h1 - h0 + 1)
        self.accident[mine] = (acc[r, h1 + 1] - acc[r, h0]) > 0


def _logit(m: Mapping, s: TripSignals, trips: Trips, fleet: Fleet, day_noise: F64) -> F64:
    t = trips.truck
    out: F64 = (
        m.midnight * s.midnight
        + m.long_trip * np.log(np.maximum(s.hours, 24.0) / 24.0)
        + m.route_weather * s.route_weather
        + m.destination * s.destination
        + m.origin * s.origin
        + m.volume * (s.volume - 1300.0) / 1000.0
        + m.accident * s.accident
        + m.experience * (fleet.experience[t] - 12.0)
        + m.style * (fleet.style[t] - 0.5)
        + m.truck_age * (fleet.truck_age[t] - 9.5)
        + m.day_sd * day_noise[trips.day]
    )
    return out


def _sigmoid(z: F64) -> F64:
    out: F64 = 1.0 / (1.0 + np.exp(-z))
    return out


def _intercept(z: F64, target: float) -> float:
    """The shift b with mean(sigmoid(z + b)) == target (bisection: the mean is monotone in b)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _sigmoid(z + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def delay_labels(
    seed: int,
    cal: Calendar,
    trips: Trips,
    signals: TripSignals,
    fleet: Fleet,
    spec: ScenarioSpec,
    target_rate: float,
) -> tuple[NDArray[np.int8], F64]:
    """The 0/1 delay of every trip and its probability."""
    day_noise = stream(seed, "day-effect").standard_normal(cal.departure_days + 1)
    hist = trips.historical(cal)
    z = _logit(BASE, signals, trips, fleet, day_noise)
    z = z + _intercept(z[hist], target_rate)
    p = _sigmoid(z)
    if (
        spec.concept_week is not None
        and (trips.day >= cal.day_index(cal.week_start(spec.concept_week))).any()
    ):
        shifted = trips.day >= cal.day_index(cal.week_start(spec.concept_week))
        zc = _logit(CONCEPT, signals, trips, fleet, day_noise)[shifted]
        p[shifted] = _sigmoid(zc + _intercept(zc, float(p[shifted].mean())))
    # One uniform per trip, drawn in trip order: trips before a change keep their labels.
    u = stream(seed, "delay-coin").random(len(trips))
    return (u < p).astype(np.int8), p
